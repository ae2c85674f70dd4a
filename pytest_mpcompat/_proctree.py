"""Find, freeze, kill and reap every process a cell started, orphans and daemons included.

On Linux the runner becomes a *child subreaper* (``PR_SET_CHILD_SUBREAPER``): a grandchild whose
parent exits, or a daemon that double-forks and calls ``setsid``, is re-parented to the runner
instead of init, so walking the runner's descendants finds every process a cell ever started.
Elsewhere the walk uses ``ps`` and can miss processes that detached completely.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

__all__ = [
    "ProcInfo",
    "become_subreaper",
    "cmdline",
    "descendants",
    "is_alive",
    "kill_all",
    "proc_info",
    "reap_zombies",
    "send",
]

_LINUX = sys.platform.startswith("linux")
_PR_SET_CHILD_SUBREAPER = 36
_subreaper: bool | None = None


@dataclass(frozen=True)
class ProcInfo:
    pid: int
    ppid: int
    state: str  # one letter as in ps; "Z" is a zombie

    @property
    def alive(self) -> bool:
        return self.state not in ("Z", "X")


def become_subreaper() -> bool:
    """Make this process adopt orphaned descendants (Linux only); idempotent."""
    global _subreaper
    if _subreaper is None:
        _subreaper = False
        if _LINUX:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            _subreaper = libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    return _subreaper


def proc_info(pid: int) -> ProcInfo | None:
    """State of one process, or None when it no longer exists."""
    if not _LINUX:
        return _ps_table().get(pid)
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
        except FileNotFoundError:
            return _children_by_scan(pid)
        except OSError:
            continue
    return kids


def _children_by_scan(pid: int) -> list[int]:
    kids = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            info = proc_info(int(name))
            if info is not None and info.ppid == pid:
                kids.append(info.pid)
    return kids


def _ps_table() -> dict[int, ProcInfo]:
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


def descendants(root: int) -> list[int]:
    """Every process below ``root``, parents before children."""
    if _LINUX:
        found: list[int] = []
        todo = [root]
        while todo:
            kids = _children(todo.pop())
            found.extend(kids)
            todo.extend(kids)
        return found
    table = _ps_table()
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


def reap_zombies(pids: Iterable[int], spare: int | None = None) -> None:
    """Collect the exit status of those ``pids`` that are this process's dead children.

    ``spare`` is a child whose status belongs to its ``Popen`` object and must not be taken.
    """
    for pid in pids:
        if pid == spare:
            continue
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass


def kill_all(
    find: Callable[[], list[int]], spare: int | None = None, deadline_s: float = 5.0
) -> list[int]:
    """SIGKILL everything ``find()`` returns until it returns nothing alive.

    The set is frozen with SIGSTOP first and searched again, so a process that forks while it is
    being killed (a fork bomb, a pool replacing dead workers) cannot outrun the loop. Returns the
    pids still alive at the deadline (only processes stuck in uninterruptible sleep).
    ``spare`` is killed but left unreaped (see reap_zombies).
    """
    end = time.monotonic() + deadline_s
    while True:
        found = find()
        reap_zombies(found, spare)
        pids = [p for p in found if is_alive(p)]
        if not pids:
            return []
        stop = getattr(signal, "SIGSTOP", None)
        if stop is not None:
            send(pids, stop)
            pids = sorted(set(pids) | {p for p in find() if is_alive(p)})
        send(pids, signal.SIGKILL)
        reap_zombies(pids, spare)
        if time.monotonic() > end:
            return [p for p in pids if is_alive(p)]
        time.sleep(0.002)


def is_alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    info = proc_info(pid)
    return info is not None and info.alive
