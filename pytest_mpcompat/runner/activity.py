"""Busy or stuck: how much CPU a cell's processes used in the last seconds before its time ran
out. A cell still working (or waiting for a CPU, on a loaded machine) when its timeout ends is
slow, not deadlocked; one whose processes used none was waiting on something that never came.

A thread reads the cell every ``STEP_S`` while it runs (whatever the runner is doing: waiting
for it, or for a request's answer); the readings of the last ``WINDOW_S`` are kept. CPU time is
the kernel's (user and system, with what reaped children used); on Linux the time spent
runnable but waiting for a CPU (``schedstat``) counts as demand too, since a starved process
gets little CPU but is not stuck.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..model.catalog import BUSY_AT_TIMEOUT, NO_PROGRESS
from ..model.cell import CellResult
from ._proctree import READS_PROC, psutil_module

__all__ = ["Activity", "WINDOW_S", "mark"]

WINDOW_S = 3.0  # how far back "the last seconds" reach
STEP_S = 0.5  # one reading this often
#: Seconds of CPU (used, or waited for) per second of the window above which the cell was busy.
#: A process blocked on a lock or a read uses none; one starved on a loaded machine still runs.
BUSY_SHARE = 0.05
_MIN_WINDOW_S = 1.0  # shorter than this, nothing is said
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class _Reading:
    at: float
    cpu: dict[int, float]  # pid: seconds of CPU it and its reaped children used so far
    queued: dict[int, float] | None  # pid: seconds its threads waited for a CPU (Linux)


class Activity:
    """Readings of a running cell's CPU use; ``verdict()`` at its timeout: busy or stuck.

    ``find`` lists the cell's processes without changing anything (it runs on the reading
    thread); ``reaper`` is the supervisor, whose reaped children (orphans) were the cell's."""

    def __init__(self, find: Callable[[], list[int]], reaper: int) -> None:
        self._find = find
        self._reaper = reaper
        self._readings: deque[_Reading] = deque()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._first: float | None = None

    def start(self) -> None:
        """Read the cell now and every ``STEP_S`` until ``stop``."""
        self.note()
        threading.Thread(target=self._watch, name="mpcompat-activity", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def _watch(self) -> None:
        while not self._stop.wait(STEP_S):
            try:
                self.note()
            except (OSError, ValueError):  # a process table that could not be read this time
                continue

    def note(self) -> None:
        """Read the cell now."""
        reading = _read(time.monotonic(), [*self._find(), self._reaper])
        with self._lock:
            if self._first is None:
                self._first = reading.at
            self._readings.append(reading)
            while len(self._readings) > 1 and self._readings[1].at <= reading.at - WINDOW_S:
                self._readings.popleft()  # the first one left is the newest WINDOW_S old

    def verdict(self) -> tuple[str, str] | None:
        """(signature, words for the reason) for a cell whose time ran out just now; None
        where it was not watched long enough to say."""
        now = _read(time.monotonic(), [*self._find(), self._reaper])
        with self._lock:
            readings, first = list(self._readings), self._first
        if first is None:
            return None
        # The last WINDOW_S, or the second half of a shorter life (not its start-up).
        span = min(WINDOW_S, max(_MIN_WINDOW_S, (now.at - first) / 2))
        older = [r for r in readings if r.at <= now.at - span]
        if not older:
            return None
        base = older[-1]
        wall = now.at - base.at
        cpu = _grown(base.cpu, now.cpu)
        queued = _grown(base.queued, now.queued) if base.queued and now.queued else None
        used = f"used {cpu:.2f} s of CPU"
        if queued is not None and queued >= 0.01:
            used += f" and waited {queued:.2f} s for one"
        if (cpu + (queued or 0.0)) / wall >= BUSY_SHARE:
            return BUSY_AT_TIMEOUT, (
                f"busy at timeout: its processes {used} in its last {wall:.1f} s "
                "(slow, perhaps a loaded machine, not necessarily stuck)"
            )
        return NO_PROGRESS, (
            f"no progress: its processes {used} in its last {wall:.1f} s (waiting on "
            "something that never came: a lock, a queue, a read)"
        )


def mark(result: CellResult, found: tuple[str, str] | None) -> None:
    """Add what ``Activity.verdict`` found to a hung cell's signatures and reason."""
    if found is not None and found[0] not in result.signatures:
        result.signatures.append(found[0])
        result.reason = f"{result.reason}; {found[1]}" if result.reason else found[1]


def _grown(before: dict[int, float], after: dict[int, float]) -> float:
    """What the processes read in ``after`` added since ``before`` (a new one: all it used)."""
    return sum(max(0.0, value - before.get(pid, 0.0)) for pid, value in after.items())


def _read(at: float, pids: Iterable[int]) -> _Reading:
    pids = list(dict.fromkeys(pids))
    if READS_PROC:
        cpu, queued = {}, {}
        for pid in pids:
            used = _proc_cpu(pid)
            if used is not None:
                cpu[pid], queued[pid] = used, _proc_queued(pid)
        return _Reading(at, cpu, queued)
    return _Reading(at, _portable_cpu(pids), None)


def _proc_cpu(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # After the command: state, ppid, ... utime, stime, cutime, cstime are fields 12-15.
    return sum(int(f) for f in fields[11:15]) / _TICK


def _proc_queued(pid: int) -> float:
    total = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0.0
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat", "rb") as fh:
                total += int(fh.read().split()[1])  # nanoseconds runnable, not running
        except (OSError, IndexError, ValueError):
            continue
    return total / 1e9


def _portable_cpu(pids: list[int]) -> dict[int, float]:
    psutil = psutil_module()
    found: dict[int, float] = {}
    if psutil is not None:
        for pid in pids:
            try:
                t = psutil.Process(pid).cpu_times()
            except (psutil.Error, OSError):
                continue
            found[pid] = (
                t.user
                + t.system
                + getattr(t, "children_user", 0.0)
                + getattr(t, "children_system", 0.0)
            )
        return found
    try:  # ps: whole seconds, [[dd-]hh:]mm:ss
        out = subprocess.run(["ps", "-o", "pid=,time=", "-p", ",".join(map(str, pids))],
                             capture_output=True, text=True, check=False).stdout  # fmt: skip
    except OSError:
        return found
    for line in out.splitlines():
        number, _, clock = line.strip().partition(" ")
        days, _, clock = clock.strip().rpartition("-")
        seconds = 0.0
        for part in clock.split(":"):
            seconds = seconds * 60 + float(part or 0)
        found[int(number)] = seconds + 86400 * int(days or 0)
    return found
