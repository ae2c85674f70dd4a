"""Busy or stuck: what a cell's processes did in their last seconds, read from the kernel."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pytest_mpcompat.runner._proctree import READS_PROC
from pytest_mpcompat.runner.activity import Activity


def _watch(pids: list[int], seconds: float) -> tuple[str, str] | None:
    activity = Activity(lambda: pids, pids[0])
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        activity.note()
        time.sleep(0.1)
    return activity.verdict()


def _start(code: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.DEVNULL)


def _schedstat_kept() -> bool:
    try:
        return int(Path(f"/proc/{os.getppid()}/schedstat").read_text().split()[0]) > 0
    except (OSError, IndexError, ValueError):
        return False


def test_a_sleeping_process_made_no_progress_and_a_spinning_one_was_busy() -> None:
    sleeper = _start("import time; time.sleep(60)")
    spinner = _start("while True: pass")
    try:
        slept = _watch([sleeper.pid], 2.5)
        spun = _watch([spinner.pid], 2.5)
    finally:
        for proc in (sleeper, spinner):
            proc.kill()
            proc.wait()
    assert slept is not None and slept[0] == "no-progress", slept
    assert spun is not None and spun[0] == "busy-at-timeout", spun
    assert "its processes used" in spun[1]


@pytest.mark.skipif(
    not READS_PROC or not hasattr(os, "sched_setaffinity"),
    reason="time spent waiting for a CPU is read from Linux's /proc/PID/task/TID/schedstat",
)
def test_a_process_starved_of_cpu_by_others_reads_busy_not_stuck() -> None:
    """On a loaded machine a working process gets little CPU, but waits for it: not stuck."""
    if not _schedstat_kept():
        pytest.skip("this kernel keeps no scheduler statistics (schedstat reads zero)")
    cpu = min(os.sched_getaffinity(0))
    pin = f"import os; os.sched_setaffinity(0, {{{cpu}}})\n"
    hogs = [_start(pin + "while True: pass") for _ in range(3)]
    # About 1/200 of the CPU; watched once it spins (not while it starts, reading its files).
    starved = subprocess.Popen(
        [sys.executable, "-c", pin + "os.nice(19)\nprint(flush=True)\nwhile True: pass"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert starved.stdout is not None and starved.stdout.readline() == b"\n"
        found = _watch([starved.pid], 3.0)
    finally:
        for proc in (*hogs, starved):
            proc.kill()
            proc.wait()
        assert starved.stdout is not None
        starved.stdout.close()
    assert found is not None and found[0] == "busy-at-timeout", found
    assert "and waited" in found[1] and "for one" in found[1], found[1]


def test_too_short_a_watch_says_nothing() -> None:
    proc = _start("import time; time.sleep(60)")
    try:
        assert _watch([proc.pid], 0.3) is None
    finally:
        proc.kill()
        proc.wait()
