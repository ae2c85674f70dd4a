"""Find, freeze and kill every process a cell started, orphans and daemons included.

On Linux each cell's supervisor is a *child subreaper* (``PR_SET_CHILD_SUBREAPER``): a grandchild
whose parent exits, or a daemon that double-forks and calls ``setsid``, is re-parented to it
instead of init, so walking the supervisor's descendants finds every process a cell ever started.
The walk reads ``/proc`` on Linux; elsewhere it asks psutil (or, without it, ``ps``), and can miss
processes that detached completely. ``MPCOMPAT_PROCESS_TABLE`` (``proc``, ``psutil`` or ``ps``)
chooses the way on Linux too, so that the path macOS and Windows take runs here as well (with
``psutil`` or ``ps`` the supervisor is no subreaper either).
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

__all__ = [
    "ADOPTS_ORPHANS",
    "PROCESS_TABLES",
    "READS_PROC",
    "ProcInfo",
    "birth",
    "group_alive",
    "in_session",
    "is_stopped",
    "cmdline",
    "descendants",
    "is_alive",
    "kill_all",
    "kill_group",
    "living",
    "proc_info",
    "psutil_module",
    "send",
]

#: How process tables are read, see the module's docstring.
PROCESS_TABLES = ("proc", "psutil", "ps")
_TABLE = os.environ.get("MPCOMPAT_PROCESS_TABLE") or (
    "proc" if sys.platform.startswith("linux") else "psutil"
)
_LINUX = _TABLE == "proc"
#: True where processes (and their sockets) are read from /proc.
READS_PROC = _LINUX
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
        psutil = psutil_module()
        if psutil is None:
            return _table().get(pid)
        try:  # one process, not the whole table
            proc = psutil.Process(pid)
            with proc.oneshot():
                return ProcInfo(pid, proc.ppid(), _psutil_state(psutil, proc.status()))
        except (psutil.Error, OSError):
            return None
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            raw = fh.read()
    except OSError:
        return None
    # The command name is in parentheses and may itself contain spaces or parentheses.
    fields = raw[raw.rindex(b")") + 2 :].split()
    return ProcInfo(pid, int(fields[1]), fields[0].decode())


def _psutil_state(psutil: Any, status: str) -> str:
    """psutil's status as ps's letter: a zombie, a stopped process, or any other."""
    return {psutil.STATUS_ZOMBIE: "Z", psutil.STATUS_STOPPED: "T"}.get(status, "R")


def is_stopped(pid: int) -> bool:
    """True while the process is stopped (SIGSTOP, SIGTSTP) or held by a tracer."""
    info = proc_info(pid)
    return info is not None and info.state in ("T", "t")


def cmdline(pid: int) -> str:
    """Command line of a process for humans ('' when it is gone)."""
    if _LINUX:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                return fh.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            return ""
    psutil = psutil_module()
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


def psutil_module() -> Any:
    """psutil where it is installed and chosen, else None."""
    if _TABLE == "ps":
        return None
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
    psutil = psutil_module()
    if psutil is not None:
        table = {}
        for proc in psutil.process_iter(["pid", "ppid", "status"]):
            state = _psutil_state(psutil, proc.info["status"])
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
        pids = living(find())
        if not pids:
            return []
        stop = getattr(signal, "SIGSTOP", None)
        if stop is not None:
            send(pids, stop)
            pids = sorted(set(pids) | set(living(find())))
        send(pids, _KILL)
        if time.monotonic() > end:
            return living(pids)
        time.sleep(0.002)


#: Whether the cell's supervisor adopts its orphans (Linux's /proc path); elsewhere the runner
#: keeps every process it has seen, since an orphan leaves the tree it walks.
ADOPTS_ORPHANS = _LINUX


def in_session(sid: int) -> list[int]:
    """Every process of session ``sid`` (a cell's main process leads its own): its orphans too,
    wherever they were re-parented, unless they made a session of their own."""
    found = []
    for pid in _table():
        try:
            if os.getsid(pid) == sid:
                found.append(pid)
        except OSError:
            continue
    return found


def group_alive(pgid: int) -> bool:
    """Whether a live process of ``pgid``'s process group is left (a cell's main process leads
    its own): one atomic question to the kernel, which no process can outrun by forking; the
    number is not given to a new process while the group has a member. A zombie is a member
    too, and one that init has not reaped yet (a container's init may take its time) would
    answer yes for ever, so a yes is checked: the group is frozen (SIGSTOP, continued at once)
    and its live members are looked for in the table, where none of them can move meanwhile.
    False on Windows."""
    killpg = getattr(os, "killpg", None)
    if killpg is None:
        return False
    try:
        killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):  # gone, or the number is someone else's now
        return False
    try:
        killpg(pgid, signal.SIGSTOP)
        return any(info.alive and _pgid(info.pid) == pgid for info in _table().values())
    except OSError:  # the group is gone meanwhile
        return False
    finally:
        try:
            killpg(pgid, signal.SIGCONT)
        except OSError:
            pass


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except OSError:
        return None


def kill_group(pgid: int) -> None:
    """SIGKILL a cell's whole process group at once (nothing in it escapes by forking); a
    group already gone, or of zombies only, is left as it is."""
    killpg = getattr(os, "killpg", None)
    if killpg is not None:
        try:
            killpg(pgid, _KILL)
        except OSError:
            pass


def birth(pid: int) -> object:
    """What tells this process from a later one with its pid: its start time where psutil
    says it (None when it is gone), else True (``ps``: the pid alone); used where orphans are
    followed by pid."""
    psutil = psutil_module()
    if psutil is not None:
        try:
            return psutil.Process(pid).create_time()
        except (psutil.Error, OSError):
            return None
    return True


def living(pids: Iterable[int]) -> list[int]:
    """Those of ``pids`` alive: one read of the process table where it is not /proc (a ``ps``
    per process would let a fork bomb outrun the kill)."""
    pids = list(pids)
    if _LINUX or len(pids) < 2:
        return [p for p in pids if is_alive(p)]
    table = _table()
    return [p for p in pids if p in table and table[p].alive]


def is_alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    info = proc_info(pid)
    return info is not None and info.alive
