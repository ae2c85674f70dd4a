"""Find, freeze and kill every process a cell started, orphans and daemons included.

On Linux each cell's supervisor is a *child subreaper* (``PR_SET_CHILD_SUBREAPER``): a grandchild
whose parent exits, or a daemon that double-forks and calls ``setsid``, is re-parented to it
instead of init, so walking the supervisor's descendants finds every process a cell ever started.
The walk reads ``/proc`` on Linux; elsewhere it asks psutil (or, without it, ``ps``), and can miss
processes that detached completely.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["ProcInfo", "cmdline", "descendants", "is_alive", "kill_all", "proc_info", "send"]

_LINUX = sys.platform.startswith("linux")
_KILL = int(getattr(signal, "SIGKILL", signal.SIGTERM))  # Windows: TerminateProcess


@dataclass(frozen=True)
class ProcInfo:
    pid: int
    ppid: int
    state: str  # one letter as in ps; "Z" is a zombie

    @property
    def alive(self) -> bool:
        return self.state not in ("Z", "X")


def proc_info(pid: int) -> ProcInfo | None:
    """State of one process, or None when it no longer exists."""
    if not _LINUX:
        return _table().get(pid)
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            raw = fh.read()
    except OSError:
        return None
    # The command name is in parentheses and may itself contain spaces or parentheses.
    fields = raw[raw.rindex(b")") + 2 :].split()
    return ProcInfo(pid, int(fields[1]), fields[0].decode())


def cmdline(pid: int) -> str:
    """Command line of a process for humans ('' when it is gone)."""
    if _LINUX:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                return fh.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            return ""
    psutil = _psutil()
    if psutil is not None:
        try:
            return " ".join(psutil.Process(pid).cmdline())
        except (psutil.Error, OSError):
            return ""
    try:
        out = subprocess.run(
            ["ps", "-o", "command=", "-p", str(pid)], capture_output=True, text=True, check=False
        )
    except OSError:
        return ""
    return out.stdout.strip()


def _children(pid: int) -> list[int]:
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    kids: list[int] = []
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as fh:
                kids.extend(int(p) for p in fh.read().split())
        except FileNotFoundError:  # a kernel without CONFIG_PROC_CHILDREN
            return [info.pid for info in _table().values() if info.ppid == pid]
        except OSError:
            continue
    return kids


def _psutil() -> Any:
    try:
        import psutil  # type: ignore[import-untyped]  # a dependency outside Linux (no /proc)
    except ImportError:
        return None
    return psutil


def _table() -> dict[int, ProcInfo]:
    """pid, parent and state of every process."""
    if _LINUX:
        table = {}
        for name in os.listdir("/proc"):
            if name.isdigit():
                info = proc_info(int(name))
                if info is not None:
                    table[info.pid] = info
        return table
    psutil = _psutil()
    if psutil is not None:
        table = {}
        for proc in psutil.process_iter(["pid", "ppid", "status"]):
            state = "Z" if proc.info["status"] == psutil.STATUS_ZOMBIE else "R"
            table[proc.info["pid"]] = ProcInfo(proc.info["pid"], proc.info["ppid"] or 0, state)
        return table
    try:
        out = subprocess.run(
            ["ps", "-A", "-o", "pid=,ppid=,stat="], capture_output=True, text=True, check=False
        )
    except OSError:  # no ps (Windows): only the main process is tracked
        return {}
    table = {}
    for line in out.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 3:
            table[int(parts[0])] = ProcInfo(int(parts[0]), int(parts[1]), parts[2][0])
    return table


def descendants(root: int, exact: bool = False) -> list[int]:
    """Every process below ``root``, parents before children.

    On Linux the kernel's per-thread lists of children are read: fast, but a child that exits
    during the read can hide a live sibling. ``exact`` builds the tree from every process's own
    parent instead (one pass over /proc), for counts that decide a verdict.
    """
    if _LINUX and not exact:
        found: list[int] = []
        todo = [root]
        while todo:
            kids = _children(todo.pop())
            found.extend(kids)
            todo.extend(kids)
        return found
    table = _table()
    by_parent: dict[int, list[int]] = {}
    for info in table.values():
        by_parent.setdefault(info.ppid, []).append(info.pid)
    found, todo = [], [root]
    while todo:
        kids = by_parent.get(todo.pop(), [])
        found.extend(kids)
        todo.extend(kids)
    return found


def send(pids: Iterable[int], sig: int) -> None:
    """Send ``sig`` to each pid that still exists (and is ours to signal)."""
    for pid in pids:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def kill_all(find: Callable[[], list[int]], deadline_s: float = 5.0) -> list[int]:
    """SIGKILL everything ``find()`` returns until it returns nothing alive.

    The set is frozen with SIGSTOP first and searched again, so a process that forks while it is
    being killed (a fork bomb, a pool replacing dead workers) cannot outrun the loop. Returns the
    pids still alive at the deadline (only processes stuck in uninterruptible sleep). The cell's
    supervisor reaps them.
    """
    end = time.monotonic() + deadline_s
    while True:
        pids = [p for p in find() if is_alive(p)]
        if not pids:
            return []
        stop = getattr(signal, "SIGSTOP", None)
        if stop is not None:
            send(pids, stop)
            pids = sorted(set(pids) | {p for p in find() if is_alive(p)})
        send(pids, _KILL)
        if time.monotonic() > end:
            return [p for p in pids if is_alive(p)]
        time.sleep(0.002)


def is_alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    info = proc_info(pid)
    return info is not None and info.alive
