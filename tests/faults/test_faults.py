"""Fault injection: real scripts that crash, hang, leak, flood or attack the harness.

Every test asserts the verdict and signatures, that the JSON report is valid, and (through the
autouse ``no_process_left`` fixture) that no process of the cell survives.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from pytest_mpcompat.model.rawfile import read_report

SCRIPTS = Path(__file__).parent / "scripts"
#: A daemon that makes a session of its own leaves the cell's tree and session; only Linux's
#: subreaper (the /proc path) adopts it. The portable path (macOS, Windows, or
#: MPCOMPAT_PROCESS_TABLE=psutil|ps here) cannot find it: a documented limit.
NEEDS_SUBREAPER = pytest.mark.skipif(
    os.environ.get("MPCOMPAT_PROCESS_TABLE", "proc") != "proc"
    or not sys.platform.startswith("linux"),
    reason="a setsid daemon is found only by Linux's subreaper (the /proc path)",
)


def run_one(pytester: pytest.Pytester, name: str, *args: str) -> tuple[Any, pytest.RunResult]:
    shutil.copy(SCRIPTS / f"{name}.py", pytester.path)
    result = pytester.runpytest_subprocess(
        "--mp-matrix", f"{name}.py", "--mp-report", "r.json", "-p", "no:cacheprovider", *args
    )
    (cell,) = read_report(pytester.path / "r.json")["cells"]
    return cell, result


@pytest.mark.parametrize(
    ("name", "verdict", "signal", "exit_code", "signatures"),
    [
        ("abort", "crash", "SIGABRT", -6, ["worker-fatal-signal"]),
        ("sigkill_self", "crash", "SIGKILL", -9, []),
        ("exit_seven", "crash", None, 7, []),
        ("worker_segfault", "pass", None, 0, ["worker-fatal-signal"]),
        ("grandchild_spins", "pass", None, 0, ["leaked-processes"]),
        ("pid_hopper", "pass", None, 0, ["leaked-processes"]),  # a new pid every millisecond
        pytest.param(
            "double_fork_daemon", "pass", None, 0, ["leaked-processes"], marks=NEEDS_SUBREAPER
        ),
        ("memory_hog", "crash", None, 1, ["out-of-memory"]),
        ("closed_output", "crash", None, 1, []),  # as `python closed_output.py` exits
    ],
)
def test_fault(pytester: pytest.Pytester, name: str, verdict: str, signal: str | None,
               exit_code: int, signatures: list[str]) -> None:  # fmt: skip
    cell, _ = run_one(pytester, name, "--mp-methods", "fork", "--mp-timeout", "30")
    assert (cell.verdict.value, cell.signal, cell.exit_code) == (verdict, signal, exit_code), cell
    assert cell.signatures == signatures


def test_fork_bomb_is_stopped_at_its_process_limit(pytester: pytest.Pytester) -> None:
    cell, _ = run_one(pytester, "fork_bomb", "--mp-methods", "fork")
    # Stopped by the limit, not by its 30 s timeout: a timeout would read hang, "still running".
    assert cell.verdict.value == "crash"
    assert cell.signatures[0] == "process-limit"
    assert "over the limit of 20" in cell.reason and "still running" not in cell.reason
    assert not cell.stacks  # stacks are taken only of a cell that ran out of time


def test_ignoring_sigterm_does_not_save_a_hung_cell(pytester: pytest.Pytester) -> None:
    cell, _ = run_one(pytester, "ignores_sigterm", "--mp-methods", "spawn", "--mp-timeout", "1")
    assert cell.verdict.value == "hang"
    assert cell.stacks and "time.sleep" not in cell.stderr_tail


def test_undecodable_output_keeps_the_report_valid(pytester: pytest.Pytester) -> None:
    cell, _ = run_one(pytester, "binary_output", "--mp-methods", "fork")
    assert cell.verdict.value == "pass"
    assert cell.stdout_tail.startswith("ok \ufffd\ufffd\ufffd not utf-8")
    assert "broken sequence" in cell.stderr_tail


def test_a_script_that_deletes_itself(pytester: pytest.Pytester) -> None:
    cell, _ = run_one(pytester, "deletes_itself", "--mp-methods", "fork")
    # The spawn worker cannot re-import the deleted main script: a real crash, not a harness error.
    assert cell.verdict.value == "crash"
    assert "FileNotFoundError" in cell.stderr_tail or "No such file" in cell.stderr_tail


def test_64_mb_of_output_keeps_the_runner_small(pytester: pytest.Pytester) -> None:
    shutil.copy(SCRIPTS / "loud.py", pytester.path)
    # Run pytest from a tiny parent that reports the largest child's peak memory (in KiB).
    code = (
        "import resource, subprocess, sys\n"
        "subprocess.run([sys.executable, '-m', 'pytest', '--mp-matrix', 'loud.py', '--mp-methods',"
        " 'fork', '--mp-report', 'r.json', '-p', 'no:cacheprovider', '-q'], check=False)\n"
        "print('PEAK', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=pytester.path, capture_output=True,
                         text=True, check=True, stdin=subprocess.DEVNULL)  # fmt: skip
    peak_mb = int(out.stdout.rsplit("PEAK", 1)[1]) / 1024
    (cell,) = read_report(pytester.path / "r.json")["cells"]
    assert cell.verdict.value == "pass"
    assert cell.stdout_tail.endswith("the end\n") and len(cell.stderr_tail) < 8400
    # About 40 MB for pytest itself: holding the output would add 64 MB.
    assert peak_mb < 90, f"pytest (or the scenario) peaked at {peak_mb:.0f} MB for 64 MB of output"


def test_unreadable_scenario_is_a_clear_error(pytester: pytest.Pytester) -> None:
    # Reading /proc/self/mem from offset 0 fails even for root (chmod 000 would not).
    (pytester.path / "unreadable.py").symlink_to("/proc/self/mem")
    pytester.makefile(".py", fine="print('fine')\n")
    result = pytester.runpytest_subprocess(
        "--mp-matrix", "unreadable.py", "fine.py", "--mp-methods", "fork", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*unreadable.py:0: cannot read the scenario: Input/output error*"])


def test_a_cell_that_stops_its_supervisor_is_an_error_and_leaves_it_behind_nowhere(
    pytester: pytest.Pytester,
) -> None:
    cell, _ = run_one(pytester, "stops_its_parent", "--mp-methods", "fork", "--mp-timeout", "30")
    assert cell.verdict.value == "error", cell.reason  # not a hang: the program had exited 0
    assert "stopped its supervisor" in cell.reason and "it read pass" in cell.reason
    assert cell.stdout_tail == "stopped my parent\n"
    supervisor = int(re.search(r"supervisor \(pid (\d+)", cell.reason)[1])  # type: ignore[index]
    for _ in range(100):  # pytest has exited: its supervisor, continued, exits with it
        if not _alive(supervisor):
            break
        time.sleep(0.1)
    assert not _alive(supervisor), f"the supervisor {supervisor} was left behind"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("tool", ["faulthandler", "auto"])
def test_a_deadlock_reads_no_progress_and_names_the_threads_waiting_on_a_lock(
    pytester: pytest.Pytester, tool: str
) -> None:
    cell, _ = run_one(
        pytester, "deadlock", "--mp-methods", "fork", "--mp-timeout", "3", "--mp-stacks", tool
    )
    assert cell.verdict.value == "hang"
    assert "no-progress" in cell.signatures and "busy-at-timeout" not in cell.signatures
    assert "no progress: its processes used" in cell.reason, cell.reason
    waits = cell.reason.partition("waiting on a lock: ")[2]
    assert "deadlock.py:26: lock.acquire()" in waits  # the main thread, on its own lock
    assert "deadlock.py:9: lock.acquire()" in waits  # the spawned child
    assert "wait in threading.py" in waits  # the thread on its condition
    assert len(cell.stacks) == 3  # main, child and the resource tracker (not waiting)


def test_a_cell_still_computing_at_its_timeout_reads_busy_not_stuck(
    pytester: pytest.Pytester,
) -> None:
    cell, _ = run_one(pytester, "spins", "--mp-methods", "spawn", "--mp-timeout", "3")
    assert cell.verdict.value == "hang"
    assert "busy-at-timeout" in cell.signatures and "no-progress" not in cell.signatures
    assert "busy at timeout: its processes used" in cell.reason, cell.reason
    assert "waiting on a lock" not in cell.reason  # the main process joins; that is no lock
