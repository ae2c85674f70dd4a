"""Serve mode and the mp_server fixture, against real servers on 127.0.0.1."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

SCENARIOS = Path(__file__).parent.parent / "scenarios"


def copy_scenarios(pytester: pytest.Pytester, *names: str) -> None:
    for name in ("_prefork", *names):
        shutil.copy(SCENARIOS / f"{name}.py", pytester.path)


def run_tests(pytester: pytest.Pytester, body: str, passed: int = 0) -> dict[str, dict]:  # type: ignore[type-arg]
    pytester.makepyfile(test_it="import sys\nimport pytest\n\n" + body)
    result = pytester.runpytest_subprocess("--mp-report", "r.json", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=passed or body.count("def test_"))
    cells = json.loads((pytester.path / "r.json").read_text())["cells"]
    return {c["nodeid"].split("::")[1]: c for c in cells}


def test_prefork_server_under_each_method(pytester: pytest.Pytester) -> None:
    copy_scenarios(pytester, "stdlib_server_prefork")
    cells = run_tests(
        pytester,
        "@pytest.mark.mp_methods('fork', 'spawn', 'forkserver')\n"
        "def test_serve(mp_run, mp_method):\n"
        "    cell = mp_run('stdlib_server_prefork.py')  # the scenario's own serve table\n"
        "    assert cell.verdict.value == 'pass', cell.reason\n",
        passed=3,
    )
    for method in ("fork", "spawn", "forkserver"):
        serving = cells[f"test_serve[{method}]"]["serving"]
        assert serving["ready"] is True
        assert (serving["requests_ok"], serving["requests_sent"]) == (6, 6)
        assert serving["workers_seen"] == 2, method
        assert serving["stop_signal"] == "SIGTERM"
        assert serving["shutdown_s"] < 5
    assert cells["test_serve[fork]"]["signatures"] == []


def test_a_command_with_one_process(pytester: pytest.Pytester) -> None:
    (pytester.path / "index.html").write_text("hello from http.server")
    cells = run_tests(
        pytester,
        "def test_cmd(mp_server):\n"
        "    cmd = [sys.executable, '-m', 'http.server', '{port}', '--bind', '127.0.0.1']\n"
        "    cell = mp_server(cmd, workers=1, requests=[{'path': '/index.html', 'contains': 'hello', 'count': 3}])\n"
        "    assert cell.verdict.value == 'pass', cell.reason\n",
    )
    cell = cells["test_cmd"]
    assert cell["serving"]["requests_ok"] == 3
    assert cell["signal"] == "SIGTERM"  # http.server just dies on SIGTERM
    assert cell["signatures"] == []


def test_restarting_workers_are_told_apart_from_a_slow_server(pytester: pytest.Pytester) -> None:
    copy_scenarios(pytester, "stdlib_server_workers_restarting")
    pytester.makefile(".py", slow="import time\ntime.sleep(600)\n")
    cells = run_tests(
        pytester,
        "def test_restarting(mp_run):\n"
        "    cell = mp_run('stdlib_server_workers_restarting.py', method='spawn')\n"
        "    assert cell.verdict.value == 'crash', cell.reason\n"
        "\n"
        "def test_slow(mp_server):\n"
        "    cell = mp_server('slow.py', method='spawn', ready_timeout=2)\n"
        "    assert cell.verdict.value == 'hang', cell.reason\n",
    )
    restarting = cells["test_restarting"]
    assert restarting["serving"]["worker_restarts"] >= 2
    assert "workers-restarting" in restarting["signatures"]
    assert "workers keep dying" in restarting["reason"]
    slow = cells["test_slow"]
    assert slow["serving"]["worker_restarts"] == 0
    assert "workers-restarting" not in slow["signatures"]
    assert "slow or stuck" in slow["reason"]
    assert slow["stacks"], "a server that is not ready in time is a hang: its stacks are kept"


def test_requests_timing_out_are_a_hang_with_stacks(pytester: pytest.Pytester) -> None:
    copy_scenarios(pytester, "stdlib_server_fork_model_lock")
    cells = run_tests(
        pytester,
        "def test_lock(mp_server):\n"
        "    cell = mp_server('stdlib_server_fork_model_lock.py', method='fork',\n"
        "                     args=['--port', '{port}', '--workers', '{workers}'], ready='/health',\n"
        "                     requests=[{'path': '/predict', 'json': {'x': [1, 2]}}], request_timeout=2)\n"
        "    assert cell.verdict.value == 'hang', cell.reason\n",
    )
    cell = cells["test_lock"]
    assert cell["serving"]["requests_timed_out"] == 1
    assert any("predict" in s["stack"] for s in cell["stacks"]), cell["stacks"]


def test_a_server_that_ignores_sigterm_is_killed(pytester: pytest.Pytester) -> None:
    pytester.makefile(
        ".py",
        stubborn="import signal, sys\n"
        "from http.server import HTTPServer, SimpleHTTPRequestHandler\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "HTTPServer(('127.0.0.1', int(sys.argv[1])), SimpleHTTPRequestHandler).serve_forever()\n",
    )
    cells = run_tests(
        pytester,
        "def test_stubborn(mp_server):\n"
        "    cell = mp_server('stubborn.py', workers=1, args=['{port}'], stop_timeout=0.5)\n"
        "    assert cell.verdict.value == 'pass', cell.reason\n",
    )
    cell = cells["test_stubborn"]
    assert cell["serving"]["stop_signal"] == "SIGKILL"
    assert cell["signatures"] == ["shutdown-ignored-signals"]
    # no_process_left (autouse) checks that the harness's kill really happened.
