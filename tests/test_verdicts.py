"""Verdicts and signatures of real failing scripts, cell by cell."""

from __future__ import annotations

import difflib
import os
import subprocess
import sys

import pytest

from pytest_mpcompat.runner.judge import Drive, Facts, Stop, verdict

METHODS = ("fork", "spawn", "forkserver")


def test_segfault_is_a_crash_with_its_signal(run_matrix) -> None:
    m = run_matrix("segfault")
    for method in METHODS:
        cell = m["segfault", method]
        assert cell["verdict"] == "crash"
        assert cell["signal"] == "SIGSEGV"
        assert cell["exit_code"] == -11
        assert "worker-fatal-signal" in cell["signatures"]


def test_fork_deadlock_hangs_with_stacks_and_spawn_passes(run_matrix) -> None:
    m = run_matrix("deadlock_fork")
    hang = m["deadlock_fork", "fork"]
    assert hang["verdict"] == "hang"
    assert hang["reason"].startswith("still running after 2 s"), hang["reason"]  # its timeout
    assert "no-progress" in hang["signatures"]  # a deadlock: no process used any CPU
    stacks = {s["pid"]: s for s in hang["stacks"]}
    assert len(stacks) >= 2, "main process and the stuck worker"
    joined = "\n".join(s["stack"] for s in stacks.values())
    assert "worker" in joined and "deadlock_fork.py" in joined, joined
    for method in ("spawn", "forkserver"):
        assert m["deadlock_fork", method]["verdict"] == "pass"
        assert "worker got the lock" in m["deadlock_fork", method]["stdout_tail"]
    m.result.assert_outcomes(passed=3)  # every verdict is the one the scenario declares


def test_missing_main_guard_is_flagged_under_spawn_and_forkserver(run_matrix) -> None:
    m = run_matrix("unguarded")
    fork = m["unguarded", "fork"]
    assert (fork["verdict"], fork["signatures"]) == ("pass", [])
    for method in ("spawn", "forkserver"):
        cell = m["unguarded", method]
        # The launcher ignores its dead worker and exits 0: the signature must still show it.
        assert cell["verdict"] == "pass"
        assert "spawn-main-guard-missing" in cell["signatures"]
        assert "bootstrapping phase" in cell["stderr_tail"]


def test_lambda_target_is_unpicklable_outside_fork(run_matrix) -> None:
    m = run_matrix("lambda_target")
    assert m["lambda_target", "fork"]["verdict"] == "pass"
    for method in ("spawn", "forkserver"):
        cell = m["lambda_target", method]
        assert cell["verdict"] == "crash"
        assert cell["exit_code"] == 1
        assert "unpicklable-target" in cell["signatures"]


def test_set_start_method_conflict_crashes_under_every_default(run_matrix) -> None:
    m = run_matrix("method_conflict", "sets_own_method")
    for method in METHODS:
        conflict = m["method_conflict", method]
        assert conflict["verdict"] == "crash"
        assert conflict["signatures"] == ["start-method-already-set"]
        # The harness applies the method as a default, so choosing one in the guard works.
        own = m["sets_own_method", method]
        assert own["verdict"] == "pass", own["stderr_tail"]
        assert f"child method spawn default was {method}" in own["stdout_tail"]


def test_detached_grandchild_is_reported_and_killed(run_matrix) -> None:
    m = run_matrix("detached_grandchild", args=("--mp-methods", "fork"))
    cell = m["detached_grandchild", "fork"]
    assert cell["verdict"] == "pass"
    assert cell["signatures"] == ["leaked-processes"]
    assert len(cell["leaked"]) == 1
    assert "os.setsid(); time.sleep(600)" in cell["leaked"][0]
    # no_process_left (autouse) fails the test if the grandchild survived.


def test_scenario_sees_what_a_direct_run_sees(run_matrix, pytester) -> None:
    """Under the OS default method the cell observes what ``python script.py`` observes."""
    m = run_matrix("report_identity", args=("--mp-methods", "fork"))
    direct = _run_directly(pytester, "report_identity.py", start_new_session=True)
    cell = m["report_identity", "fork"]
    assert cell["stdout_tail"] == direct.stdout
    lines = dict(line.split(" ", 1) for line in cell["stdout_tail"].splitlines())
    assert lines["allow_none"] == "None"
    assert lines["method"] == "fork"
    assert lines["spec"] == "None"
    assert (lines["stdin"], lines["sid"]) == ("True", "True")


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_default_method_is_applied_without_setting_it(run_matrix, method: str) -> None:
    m = run_matrix("report_identity", args=("--mp-methods", method))
    lines = dict(
        line.split(" ", 1) for line in m["report_identity", method]["stdout_tail"].splitlines()
    )
    assert lines["allow_none"] == "None"
    assert lines["method"] == method


@pytest.mark.parametrize("tool", ["faulthandler", "py-spy"])
def test_hang_stacks_with_each_tool(run_matrix, tool: str) -> None:
    from pytest_mpcompat.runner._stacks import find_pyspy

    if tool == "py-spy" and find_pyspy() is None:
        pytest.skip("py-spy is not installed (pip install py-spy)")
    m = run_matrix("deadlock_fork", args=("--mp-methods", "fork", "--mp-stacks", tool))
    cell = m["deadlock_fork", "fork"]
    assert cell["verdict"] == "hang"
    assert {s["tool"] for s in cell["stacks"]} == {tool}
    worker = [s for s in cell["stacks"] if "worker" in s["stack"]]
    assert worker, cell["stacks"]
    assert "_child/bootstrap.py" not in "".join(s["stack"] for s in cell["stacks"])
    # The dumps must not leak into the scenario's own output.
    assert "Fatal Python error" not in cell["stderr_tail"]


def test_methods_really_in_force_are_recorded(run_matrix) -> None:
    m = run_matrix("own_context", args=("--mp-methods", "fork,forkserver"))
    assert m["own_context", "fork"]["methods_used"] == {"spawn": 1, "fork": 1}
    assert m["own_context", "forkserver"]["methods_used"] == {"spawn": 1, "forkserver": 1}
    m.result.stdout.fnmatch_lines(
        ["*own_context.py*pass (ran as spawn+fork)*pass (ran as spawn+forkserver)*"]
    )


def test_pytest_never_imports_what_a_scenario_imports(pytester) -> None:
    # A stand-in for torch: a package that records every process that imports it.
    pytester.mkpydir("heavy_lib").joinpath("__init__.py").write_text(
        "import os\nopen(os.path.join(os.path.dirname(__file__), 'imported-by'), 'a')"
        ".write(f'{os.getpid()}\\n')\n"
    )
    pytester.makefile(
        ".py", uses_heavy="# /// script\n# dependencies = ['pytest']\n# ///\nimport heavy_lib\n"
    )
    pytester.makeconftest(
        "import os, sys\n"
        "def pytest_sessionfinish(session):\n"
        "    heavy = [m for m in ('heavy_lib', 'http.client') if m in sys.modules]\n"
        "    print(f'PYTEST-PID {os.getpid()} HEAVY {heavy}')\n"
    )
    result = pytester.runpytest_subprocess(
        "--mp-matrix", "uses_heavy.py", "-s", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=3)
    line = [ln for ln in result.stdout.lines if "PYTEST-PID" in ln][0].split("PYTEST-PID ", 1)[1]
    pid, heavy = line.split()[0], line.split("HEAVY ")[1]
    assert heavy == "[]"
    importers = (pytester.path / "heavy_lib" / "imported-by").read_text().split()
    assert len(importers) == 3 and pid not in importers  # one cell per method, never pytest


def test_an_interpreter_the_cell_starts_has_its_default_and_its_record(run_matrix, pytester):
    """A worker started as a new program (subprocess with preexec_fn, as Ray's) gets the cell's
    start method as its default, as the platform's default would reach it; what it starts is
    recorded, and the fork that only precedes its exec is not."""
    m = run_matrix("exec_worker")
    for method in METHODS:
        cell = m["exec_worker", method]
        assert cell["verdict"] == "pass", cell["reason"]
        assert cell["methods_used"] == {method: 1}, cell["methods_used"]
        assert f"worker default: {method}\n" in cell["stdout_tail"]
    # As the cell's: pytester puts its folder on the PYTHONPATH of the pytest it runs.
    path = os.pathsep.join(filter(None, [str(pytester.path), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONFAULTHANDLER": "1", "PYTHONPATH": path}
    direct = _run_directly(pytester, "exec_worker.py", env=env)
    view = [line for line in direct.stdout.splitlines() if line.startswith("view ")]
    in_cell = [line for line in m["exec_worker", "spawn"]["stdout_tail"].splitlines()
               if line.startswith("view ")]  # fmt: skip
    # The same modules, sys.path and flags as outside a cell.
    diff = [d for d in difflib.ndiff(view[0].split(", "), in_cell[0].split(", ")) if d[0] in "+-"]
    assert in_cell == view, diff


def _run_directly(pytester, script: str, **options) -> subprocess.CompletedProcess[str]:
    """``python SCRIPT`` in the test's folder, as its user would run it."""
    return subprocess.run([sys.executable, script], cwd=pytester.path, capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, check=True, **options)  # fmt: skip


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (Facts(status=0), "pass"),
        (Facts(status=1), "crash"),
        (Facts(status=-11), "crash"),
        (Facts(), "error"),  # no exit status: the harness lost it
        (Facts(timed_out=True), "hang"),
        (Facts(status=0, harness="its supervisor was stopped"), "error"),
        (Facts(drive=Drive.PORT_TAKEN, status=0), "error"),
        (Facts(drive=Drive.HUNG, stop=Stop(0, outlived_grace=False), status=0), "hang"),
        (Facts(drive=Drive.CRASHED, status=1), "crash"),
        (Facts(drive=Drive.CRASHED, stop=Stop(-9, outlived_grace=True), status=-9), "crash"),
        # A server stopped: its exit status after the stop is a signature, not the verdict.
        (Facts(stop=Stop(1, outlived_grace=False), status=1), "pass"),
        (Facts(stop=Stop(-9, outlived_grace=True), status=-9), "hang"),
    ],
)
def test_the_verdict_is_one_rule_over_what_was_seen(facts: Facts, expected: str) -> None:
    assert verdict(facts).value == expected
