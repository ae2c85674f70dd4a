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


class Cells(dict):  # type: ignore[type-arg]
    """The report's cells by test name, and the pytest run that wrote them."""

    result: pytest.RunResult


def run_tests(pytester: pytest.Pytester, body: str, passed: int = 0) -> Cells:
    pytester.makepyfile(test_it="import sys\nimport pytest\n\n" + body)
    result = pytester.runpytest_subprocess("--mp-report", "r.json", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=passed or body.count("def test_"))
    cells = Cells(
        (c["nodeid"].split("::")[1], c)
        for c in json.loads((pytester.path / "r.json").read_text())["cells"]
    )
    cells.result = result
    return cells


def copy_server(pytester: pytest.Pytester) -> None:
    shutil.copy(Path(__file__).parent / "scripts" / "http_server.py", pytester.path)


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
        assert serving["workers_seen"] == 2, (method, serving, cells[f"test_serve[{method}]"])
        assert serving["stop_signals_sent"] == ["SIGTERM"]
        assert serving["stopped_by"] == "SIGTERM"
        assert serving["exit_after_stop"] == 0
        # Prompt on a quiet machine (about 0.1 s). Once, under a loaded CI run, one worker took
        # the server's own 5 s join timeout to go: a slow stop, but not a stuck one.
        assert serving["shutdown_s"] < 10
    assert cells["test_serve[fork]"]["signatures"] == []


def test_mp_server_honours_the_scripts_serve_block(pytester: pytest.Pytester) -> None:
    copy_scenarios(pytester, "stdlib_server_prefork")
    cells = run_tests(
        pytester,
        "def test_serve(mp_server):\n"
        "    cell = mp_server('stdlib_server_prefork.py', method='fork', ready_timeout=30)\n"
        "    assert cell.verdict.value == 'pass', cell.reason\n",
    )
    serving = cells["test_serve"]["serving"]
    # The script's table: 2 workers, /health, 6 predict requests checked for "y".
    assert (serving["requests_ok"], serving["requests_sent"]) == (6, 6)
    assert serving["workers_requested"] == 2


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
    assert cell["signal"] == "SIGTERM"  # http.server dies on SIGTERM: explained, so clean
    assert cell["signatures"] == []
    assert cell["outcome"] == "pass"


def test_crash_loop_is_decided_from_the_restart_rate(pytester: pytest.Pytester) -> None:
    copy_scenarios(pytester, "stdlib_server_workers_restarting")
    pytester.makefile(".py", slow="import time\ntime.sleep(600)\n")
    cells = run_tests(
        pytester,
        "def test_restarting(mp_server):\n"
        "    cell = mp_server('stdlib_server_workers_restarting.py', method='spawn', ready_timeout=60)\n"
        "    assert cell.verdict.value == 'crash', cell.reason\n"
        "\n"
        "def test_slow(mp_server):\n"
        "    cell = mp_server('slow.py', method='spawn', ready_timeout=1)\n"
        "    assert cell.verdict.value == 'hang', cell.reason\n",
    )
    restarting = cells["test_restarting"]
    deaths = restarting["serving"]["worker_deaths"]
    assert deaths >= 10
    # Every death is replaced, but the last ones (at most the 2 workers asked for) may still be
    # waiting for their replacement when the loop is decided.
    assert deaths - 2 <= restarting["serving"]["worker_restarts"] <= deaths
    assert "workers-restarting" in restarting["signatures"]
    assert "workers keep dying" in restarting["reason"]
    # Decided by the churn, not by the 60 s ready timeout (which reads hang).
    assert restarting["verdict"] == "crash" and "not ready after 60" not in restarting["reason"]
    slow = cells["test_slow"]
    assert slow["serving"]["worker_deaths"] == 0
    assert "workers-restarting" not in slow["signatures"]
    assert "slow or stuck" in slow["reason"]
    assert slow["stacks"], "a server that is not ready in time is a hang: its stacks are kept"


def test_a_process_gone_before_ready_is_no_crash_loop(pytester: pytest.Pytester) -> None:
    # gives_up: its one worker dies with it, a plain crash, not workers being replaced.
    # stuck: a short-lived helper, then no answer, a hang, not a crash loop; a helper that
    # still had its parent's command line when first seen did not die when it exec'd.
    pytester.makefile(
        ".py",
        gives_up=(
            "import multiprocessing, sys, time\n"
            "def idle():\n"
            "    time.sleep(60)\n"
            "if __name__ == '__main__':\n"
            "    worker = multiprocessing.Process(target=idle)\n"
            "    worker.start()\n"
            "    time.sleep(1)\n"
            "    worker.kill()\n"
            "    worker.join()\n"
            "    time.sleep(2)  # long enough for the driver to see the worker gone\n"
            "    sys.exit('the cluster is not available')\n"
        ),
        stuck=(
            "import multiprocessing, os, sys, time\n"
            "def probe():\n"
            "    time.sleep(1)\n"
            "if __name__ == '__main__':\n"
            "    if os.fork() == 0:  # a helper seen between fork and exec, for 2 s here\n"
            "        time.sleep(2)\n"
            "        os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(600)',\n"
            "                                  'multiprocessing.resource_tracker'])\n"
            "    helper = multiprocessing.Process(target=probe)\n"
            "    helper.start()\n"
            "    helper.join()\n"
            "    time.sleep(600)\n"
        ),
    )
    cells = run_tests(
        pytester,
        "def test_gives_up(mp_server):\n"
        "    cell = mp_server('gives_up.py', method='spawn', workers=1, ready_timeout=30)\n"
        "    assert cell.verdict.value == 'crash', cell.reason\n"
        "\n"
        "def test_stuck(mp_server):\n"
        "    cell = mp_server('stuck.py', method='spawn', workers=1, ready_timeout=6)\n"
        "    assert cell.verdict.value == 'hang', cell.reason\n",
    )
    cell = cells["test_gives_up"]
    assert cell["serving"]["worker_deaths"] >= 1
    assert cell["serving"]["worker_restarts"] == 0  # it died; nothing replaced it
    assert "workers-restarting" not in cell["signatures"]
    assert "exited with code 1 before it was ready" in cell["reason"]
    cell = cells["test_stuck"]
    assert (cell["serving"]["worker_deaths"], cell["serving"]["worker_restarts"]) == (1, 0)
    assert "workers-restarting" not in cell["signatures"]
    assert "one process exited, the rest stayed up: slow or stuck" in cell["reason"]


def test_requests_timing_out_are_a_hang_with_stacks(pytester: pytest.Pytester) -> None:
    copy_scenarios(pytester, "stdlib_server_fork_model_lock")
    cells = run_tests(
        pytester,
        "def test_lock(mp_server):\n"
        "    cell = mp_server('stdlib_server_fork_model_lock.py', method='fork',\n"
        "                     requests=[{'path': '/predict', 'json': {'x': [1, 2]}}], request_timeout=1)\n"
        "    assert cell.verdict.value == 'hang', cell.reason\n",
    )
    cell = cells["test_lock"]
    assert cell["serving"]["requests_timed_out"] == 1
    assert any("predict" in s["stack"] for s in cell["stacks"]), cell["stacks"]


def test_after_a_request_hangs_the_server_is_stopped_as_a_platform_would(
    pytester: pytest.Pytester,
) -> None:
    """A timed-out request is a hang; then, as for any server, the stop sequence runs and is
    recorded: what a platform team asks next is whether SIGTERM would still have stopped the
    pod. The stacks are those of the stuck state."""
    copy_server(pytester)
    cells = run_tests(
        pytester,
        "def test_stops(mp_server):\n"
        "    cell = mp_server('http_server.py', workers=1, requests=[{'path': '/stuck'}],\n"
        "                     args=['{port}'], request_timeout=1, stop_timeout=2)\n"
        "    assert cell.verdict.value == 'hang', cell.reason\n"
        "def test_ignores_sigterm(mp_server):\n"
        "    cell = mp_server('http_server.py', workers=1, requests=[{'path': '/stuck'}],\n"
        "                     args=['{port}', '--on-sigterm', 'ignore'], request_timeout=1,\n"
        "                     stop_timeout=1)\n"
        "    assert cell.verdict.value == 'hang', cell.reason\n",
    )
    stops = cells["test_stops"]
    assert stops["serving"]["requests_timed_out"] == 1
    assert stops["serving"]["stop_signals_sent"] == ["SIGTERM"]
    assert stops["serving"]["stopped_by"] == "SIGTERM"
    assert "then SIGTERM stopped it" in stops["reason"]
    assert "shutdown-timeout" not in stops["signatures"]
    stuck = cells["test_ignores_sigterm"]
    assert stuck["serving"]["stop_signals_sent"] == ["SIGTERM", "SIGKILL"]
    assert stuck["serving"]["stopped_by"] == "SIGKILL"
    assert "shutdown-timeout" in stuck["signatures"]
    assert (
        "timed out" in stuck["reason"] and "did not exit within 1 s of SIGTERM" in stuck["reason"]
    )
    for cell in (stops, stuck):
        assert any("do_GET" in s["stack"] for s in cell["stacks"]), cell["stacks"]


def test_workers_forked_with_os_fork_count_toward_what_ran(pytester: pytest.Pytester) -> None:
    """A prefork server that forks with os.fork (gunicorn) forks under every column: the spawn
    column says it ran as fork, not a plain pass that reads as spawn working."""
    shutil.copy(Path(__file__).parent / "scripts" / "os_fork_prefork.py", pytester.path)
    cells = run_tests(
        pytester,
        "@pytest.mark.mp_methods('spawn')\n"
        "def test_prefork(mp_server, mp_method):\n"
        "    cell = mp_server('os_fork_prefork.py', workers=2, args=['{port}', '{workers}'],\n"
        "                     requests=[{'path': '/', 'count': 4}])\n"
        "    assert cell.verdict.value == 'pass', cell.reason\n",
    )
    cell = cells["test_prefork[spawn]"]
    assert cell["methods_used"] == {"fork": 2}
    assert cell["ran_as"] == "fork"
    assert cell["serving"]["workers_seen"] == 2


def test_a_worker_replaced_once_is_one_death_and_one_replacement(
    pytester: pytest.Pytester,
) -> None:
    """Deaths and replacements are counted apart, and workers are what serves (the processes
    that hold the listening socket), helpers apart."""
    shutil.copy(Path(__file__).parent / "scripts" / "os_fork_prefork.py", pytester.path)
    (pytester.path / "with_helper.py").write_text(
        "import multiprocessing, os, runpy, sys, time\n"
        "def idle():\n"
        "    time.sleep(600)\n"
        "if __name__ == '__main__':\n"
        "    helper = multiprocessing.Process(target=idle, daemon=True)  # a pool of one\n"
        "    helper.start()\n"
        "    here = os.path.dirname(os.path.abspath(__file__))\n"
        "    runpy.run_path(os.path.join(here, 'os_fork_prefork.py'), run_name='__main__')\n"
    )
    cells = run_tests(
        pytester,
        "def test_replaced(mp_server):\n"
        "    cell = mp_server('os_fork_prefork.py', method='fork', workers=2,\n"
        "                     args=['{port}', '{workers}', '--replace-once'])\n"
        "    assert cell.verdict.value == 'pass', cell.reason\n"
        "def test_helper(mp_server):\n"
        "    cell = mp_server('with_helper.py', method='spawn', workers=2,\n"
        "                     args=['{port}', '{workers}'])\n"
        "    assert cell.verdict.value == 'pass', cell.reason\n",
    )
    serving = cells["test_replaced"]["serving"]
    assert (serving["worker_deaths"], serving["worker_restarts"]) == (1, 1)
    assert (serving["workers_seen"], serving["helpers_seen"]) == (2, 0)
    assert "workers-missing" not in cells["test_replaced"]["signatures"]
    serving = cells["test_helper"]["serving"]
    # The idle process is the program's own (a worker, though it serves no HTTP); the tracker
    # is multiprocessing's helper.
    assert (serving["workers_seen"], serving["helpers_seen"]) == (3, 1)
    assert serving["worker_deaths"] == 0


def test_leftovers_that_still_serve_after_the_stop_are_named(pytester: pytest.Pytester) -> None:
    """The main process exits on SIGTERM and its workers keep answering on the port: the worst
    case for a platform team, said with its own error-level signature (a degraded pass)."""
    shutil.copy(Path(__file__).parent / "scripts" / "os_fork_prefork.py", pytester.path)
    cells = run_tests(
        pytester,
        "def test_orphans(mp_server):\n"
        "    cell = mp_server('os_fork_prefork.py', method='fork', workers=2,\n"
        "                     args=['{port}', '{workers}', '--orphan'])\n"
        "    assert cell.verdict.value == 'pass', cell.reason\n"
        "def test_clean(mp_server):\n"
        "    cell = mp_server('os_fork_prefork.py', method='fork', workers=2,\n"
        "                     args=['{port}', '{workers}'])\n"
        "    assert cell.verdict.value == 'pass', cell.reason\n",
    )
    orphans = cells["test_orphans"]
    assert orphans["outcome"] == "degraded"
    assert "serving-after-stop" in orphans["signatures"]
    assert "leaked-processes" in orphans["signatures"]
    (taken,) = orphans["serving"]["serving_after_stop"]
    assert taken.endswith("still answers (HTTP 200)")
    assert "after its main process exited" in orphans["reason"]
    clean = cells["test_clean"]
    assert clean["serving"]["serving_after_stop"] == []
    assert clean["signatures"] == []


def test_requests_in_flight_together_expose_a_deadlock(pytester: pytest.Pytester) -> None:
    """Two handlers taking two locks in opposite order: sequential requests all pass, two in
    flight together deadlock. Each entry reports its own figures."""
    shutil.copy(Path(__file__).parent / "scripts" / "lock_order_server.py", pytester.path)
    cells = run_tests(
        pytester,
        "def test_one_at_a_time(mp_server):\n"
        "    cell = mp_server('lock_order_server.py', workers=1, args=['{port}'], ready='/ready',\n"
        "                     requests=[{'path': '/p', 'count': 4, 'pid_header': 'X-Worker-Pid'}])\n"
        "    assert cell.verdict.value == 'pass', cell.reason\n"
        "def test_together(mp_server):\n"
        "    cell = mp_server('lock_order_server.py', workers=1, args=['{port}'], ready='/ready',\n"
        "                     request_timeout=2, stop_timeout=1,\n"
        "                     requests=[{'path': '/p', 'count': 4, 'concurrency': 2}])\n"
        "    assert cell.verdict.value == 'hang', cell.reason\n",
    )
    (alone,) = cells["test_one_at_a_time"]["serving"]["request_stats"]
    assert (alone["sent"], alone["answered"], alone["timeouts"]) == (4, 4, 0)
    assert alone["latency_ms"]["p50"] >= 300
    pid = cells["test_one_at_a_time"]["serving"]["request_stats"][0]["answered_by"]
    assert list(pid.values()) == [4]
    (together,) = cells["test_together"]["serving"]["request_stats"]
    assert together["concurrency"] == 2
    assert together["timeouts"] >= 2 and together["sent"] == 4
    assert "timed out" in cells["test_together"]["reason"]


def test_a_server_that_ignores_sigterm_hangs_and_is_killed(pytester: pytest.Pytester) -> None:
    copy_server(pytester)
    cells = run_tests(
        pytester,
        "def test_stubborn(mp_server):\n"
        "    cell = mp_server('http_server.py', workers=1, args=['{port}', '--on-sigterm', 'ignore'],\n"
        "                     stop_timeout=0.5)\n"
        "    assert cell.verdict.value == 'hang', cell.reason\n",
    )
    cell = cells["test_stubborn"]
    serving = cell["serving"]
    assert serving["requests_ok"] == 1
    assert serving["stop_signals_sent"] == ["SIGTERM", "SIGKILL"]
    assert serving["stopped_by"] == "SIGKILL"
    assert cell["signatures"] == ["shutdown-timeout"]
    assert "did not exit within 0.5 s of SIGTERM" in cell["reason"]
    # Its stacks are the state a platform team needs: taken before the kill.
    assert any("serve_forever" in s["stack"] for s in cell["stacks"]), cell["stacks"]
    # no_process_left (autouse) checks that the harness's kill really happened.


def test_a_later_stop_signal_does_not_hide_the_hang(pytester: pytest.Pytester) -> None:
    """SIGINT interrupting what SIGTERM left stuck (KServe 0.13.1 with gRPC) is still a hang."""
    copy_server(pytester)
    cells = run_tests(
        pytester,
        "def test_sequence(mp_server):\n"
        "    cell = mp_server('http_server.py', workers=1, args=['{port}', '--on-sigterm', 'ignore'],\n"
        "                     stop_signals=['SIGTERM', 'SIGINT'], stop_timeout=2)\n"
        "    assert cell.verdict.value == 'hang', cell.reason\n",
    )
    cell = cells["test_sequence"]
    assert cell["serving"]["stop_signals_sent"] == ["SIGTERM", "SIGINT"]
    assert cell["serving"]["stopped_by"] == "SIGINT"
    assert cell["signatures"] == ["shutdown-timeout"]
    assert "SIGINT stopped it" in cell["reason"]


@pytest.mark.usefixtures("launcher_ignores_sigint")
def test_a_launcher_that_ignores_sigint_changes_no_verdict(pytester: pytest.Pytester) -> None:
    """pytest started as a background job (SIGINT ignored, a signal blocked): each cell still
    starts as an orchestrator starts a container's processes, so SIGINT stops the server as it
    would anywhere, and what SIGTERM left stuck is stopped by SIGINT, not by SIGKILL."""
    copy_server(pytester)
    (pytester.path / "dispositions.py").write_text(
        "import signal\n"
        "print('SIGINT', signal.getsignal(signal.SIGINT) is signal.default_int_handler)\n"
        "print('blocked', sorted(signal.pthread_sigmask(signal.SIG_BLOCK, [])))\n"
    )
    cells = run_tests(
        pytester,
        "def test_cell(mp_run):\n"
        "    mp_run('dispositions.py', method='spawn')\n"
        "def test_cli(mp_server):\n"
        "    cell = mp_server('http_server.py', workers=1, stop_signals=['SIGINT'], stop_timeout=2,\n"
        "                     args=['{port}', '--on-sigterm', 'ignore', '--on-sigint', 'exit0'])\n"
        "    assert cell.verdict.value == 'pass', cell.reason\n"
        "def test_sequence(mp_server):\n"
        "    cell = mp_server('http_server.py', workers=1, args=['{port}', '--on-sigterm', 'ignore'],\n"
        "                     stop_signals=['SIGTERM', 'SIGINT'], stop_timeout=2)\n"
        "    assert cell.verdict.value == 'hang', cell.reason\n",
    )
    assert cells["test_cell"]["stdout_tail"].split("\n")[:2] == ["SIGINT True", "blocked []"]
    assert cells["test_cli"]["serving"]["stopped_by"] == "SIGINT"
    assert cells["test_sequence"]["serving"]["stopped_by"] == "SIGINT"


def test_stop_signals_for_a_cli_tool(pytester: pytest.Pytester) -> None:
    """A tool stopped with Ctrl-C is judged by SIGINT when the scenario says so."""
    copy_server(pytester)
    cells = run_tests(
        pytester,
        "def test_cli(mp_server):\n"
        "    cell = mp_server('http_server.py', workers=1, stop_signals=['SIGINT'], stop_timeout=2,\n"
        "                     args=['{port}', '--on-sigterm', 'ignore', '--on-sigint', 'exit0'])\n"
        "    assert cell.verdict.value == 'pass', cell.reason\n",
    )
    cell = cells["test_cli"]
    assert cell["serving"]["stop_signals_sent"] == ["SIGINT"]
    assert (cell["exit_code"], cell["signatures"]) == (0, [])


def test_a_non_zero_exit_on_sigterm_is_an_unclean_shutdown(pytester: pytest.Pytester) -> None:
    copy_server(pytester)
    cells = run_tests(
        pytester,
        "def test_unclean(mp_server):\n"
        "    cell = mp_server('http_server.py', workers=1, args=['{port}', '--on-sigterm', 'exit1'])\n"
        "    assert cell.verdict.value == 'pass', cell.reason\n",
    )
    cell = cells["test_unclean"]
    assert cell["exit_code"] == 1
    assert cell["serving"]["exit_after_stop"] == 1
    assert cell["signatures"] == ["unclean-shutdown"]
    assert cell["outcome"] == "degraded"
    assert "RuntimeError: shutdown failed" in cell["stderr_tail"]
    cells.result.stdout.fnmatch_lines(["*http_server.py*degraded exit 1 [[]unclean-shutdown[]]*"])


def test_a_server_on_two_ports(pytester: pytest.Pytester) -> None:
    copy_server(pytester)
    cells = run_tests(
        pytester,
        "def test_two(mp_server):\n"
        "    cell = mp_server('http_server.py', workers=1, args=['{port}', '--port2', '{port2}'],\n"
        "                     requests=[{'contains': 'first'}, {'port': 2, 'contains': 'second'}])\n"
        "    assert cell.verdict.value == 'pass', cell.reason\n",
    )
    serving = cells["test_two"]["serving"]
    assert len(set(serving["ports"])) == 2
    assert serving["requests_ok"] == 2


def test_a_worker_that_starts_late_is_not_missing(pytester: pytest.Pytester) -> None:
    # The second worker starts 2 s after the first, when the requests are long answered: a
    # loaded machine starts workers late, and late is not missing.
    shutil.copy(SCENARIOS / "_prefork.py", pytester.path)
    pytester.makefile(
        ".py",
        late=(
            "import multiprocessing, signal, socket, time\n"
            "from _prefork import parse_args, worker_main\n"
            "def predict(xs):\n    return 0.0\n"
            "if __name__ == '__main__':\n"
            "    args = parse_args()\n"
            "    sock = socket.socket()\n"
            "    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
            "    sock.bind(('127.0.0.1', args.port))\n"
            "    sock.listen(64)\n"
            "    stop = []\n"
            "    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))\n"
            "    procs = []\n"
            "    for rank, delay in enumerate((0, 2)):\n"
            "        time.sleep(delay)\n"
            "        procs.append(multiprocessing.Process(target=worker_main, args=(sock, predict, rank), daemon=True))\n"
            "        procs[-1].start()\n"
            "    while not stop:\n"
            "        time.sleep(0.05)\n"
            "    for p in procs:\n"
            "        p.terminate()\n"
            "        p.join(5)\n"
        ),
    )
    cells = run_tests(
        pytester,
        "def test_late(mp_server):\n"
        "    cell = mp_server('late.py', method='fork', workers=2, args=['--port', '{port}'],\n"
        "                     ready='/health', requests=[{'path': '/health', 'count': 2}])\n"
        "    assert cell.verdict.value == 'pass', cell.reason\n",
    )
    serving = cells["test_late"]["serving"]
    assert (serving["requests_ok"], serving["workers_seen"]) == (2, 2)
    assert cells["test_late"]["signatures"] == []


# A thief on the port the harness chose, as when a parallel test binds it between the choice and
# the server's start: it answers ("first", as the server would), or only listens.
THIEF = """
import os
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from pytest_mpcompat.runner import process


class Answers(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "5")
        self.end_headers()
        self.wfile.write(b"first")

    def log_message(self, *args):
        pass


if os.environ["THIEF"] == "answers":
    thief = ThreadingHTTPServer(("127.0.0.1", 0), Answers)
    threading.Thread(target=thief.serve_forever, daemon=True).start()
    THIEF_PORT = thief.server_address[1]
else:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    THIEF_PORT = silent.getsockname()[1]
TRIES = [int(os.environ["STOLEN_TRIES"])]
_real = process.free_ports


def free_ports(count):
    ports = _real(count)
    if TRIES[0] > 0:
        TRIES[0] -= 1
        ports[0] = THIEF_PORT
    return ports


process.free_ports = free_ports
"""


@pytest.mark.parametrize("thief", ["answers", "listens"])
def test_a_port_taken_before_the_server_bound_it_is_run_again(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, thief: str
) -> None:
    """What another process answers on a stolen port is not the server's: the cell runs again
    on fresh ports and is judged by its own server."""
    copy_server(pytester)
    pytester.makeconftest(THIEF)
    monkeypatch.setenv("THIEF", thief)
    monkeypatch.setenv("STOLEN_TRIES", "1")
    cells = run_tests(
        pytester,
        "def test_it(mp_server):\n"
        "    cell = mp_server('http_server.py', workers=1, args=['{port}', '--on-sigterm', 'exit0'])\n"
        "    assert cell.verdict.value == 'pass', cell.reason\n",
    )
    cell = cells["test_it"]
    assert (cell["exit_code"], cell["signatures"]) == (0, [])
    assert "the first try's were taken" in cell["reason"], cell["reason"]
    assert "outside the cell" in cell["reason"]


def test_a_port_taken_on_every_try_is_an_error_naming_the_taker(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy_server(pytester)
    pytester.makeconftest(THIEF)
    monkeypatch.setenv("THIEF", "listens")
    monkeypatch.setenv("STOLEN_TRIES", "3")
    cells = run_tests(
        pytester,
        "def test_it(mp_server):\n"
        "    cell = mp_server('http_server.py', workers=1, args=['{port}'])\n"
        "    assert cell.verdict.value == 'error', cell.reason\n"
        "    assert cell.outcome.value == 'error'\n"
        "    assert 'port-taken' in cell.signatures\n"
        "    import os\n"
        "    assert f'was taken by pid {os.getpid()}: ' in cell.reason, cell.reason\n",
    )
    cell = cells["test_it"]
    assert cell["exit_code"] == 1  # the server could not bind: Address already in use
    assert "Address already in use" in cell["stderr_tail"]
    assert cell["serving"]["ready"] is False


@pytest.mark.parametrize(
    ("method", "tracker", "helpers"),
    [
        ("spawn", None, 1),  # spawn starts the tracker before the first worker
        ("fork", None, 0),
        ("fork", "after", 1),  # the tracker started after the workers, by the main process
        ("fork", "worker", 2),  # each worker starts a tracker of its own
        ("forkserver", "before", 2),  # workers forked by a helper: the forkserver, the tracker
    ],
)
def test_model_workers_behind_a_serving_main_process_are_workers(
    pytester: pytest.Pytester, method: str, tracker: str | None, helpers: int
) -> None:
    """The main process alone holds the port and hands each request to a pool of model workers
    started with multiprocessing: those are the workers, wherever they stand in the tree, and
    only multiprocessing's own helpers are helpers."""
    shutil.copy(Path(__file__).parent / "scripts" / "model_pool_server.py", pytester.path)
    extra = f", '--tracker', '{tracker}'" if tracker else ""
    cells = run_tests(
        pytester,
        "def test_pool(mp_server):\n"
        f"    cell = mp_server('model_pool_server.py', method='{method}', workers=2,\n"
        f"                     args=['{{port}}', '{{workers}}'{extra}],\n"
        "                     requests=[{'path': '/', 'count': 4, 'pid_header': 'X-Worker-Pid'}])\n"
        "    assert cell.verdict.value == 'pass', cell.reason\n",
    )
    cell = cells["test_pool"]
    serving = cell["serving"]
    assert (serving["workers_seen"], serving["helpers_seen"]) == (2, helpers), serving
    assert "workers-missing" not in cell["signatures"] and cell["outcome"] == "pass"
    assert len(serving["request_stats"][0]["answered_by"]) == 2  # both workers answered
    assert serving["worker_deaths"] == 0
