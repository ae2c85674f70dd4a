"""Python stacks of every process of a hung cell, taken just before the cell is killed.

py-spy is used where it is installed. Otherwise each cell runs with ``PYTHONFAULTHANDLER=1``
(set by the runner), which every Python process of the tree inherits: the tree is frozen with
SIGSTOP, then one process at a time gets SIGABRT and SIGCONT, and faulthandler writes its threads'
stacks to the cell's stderr file as it dies. The bytes it appended are cut out of that file again
so that the dump is neither mistaken for scenario output nor matched as a signature.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from .._child import bootstrap
from ..model.cell import ProcessStack
from ._proctree import cmdline, is_alive, living, proc_info, send

__all__ = ["collect_stacks", "find_pyspy"]

_PYSPY_TIMEOUT_S = 10.0
_DUMP_WAIT_S = 0.5
_FAULT_HEADER = "Fatal Python error: Aborted"
# py-spy shortens file names; faulthandler prints them whole. Both end like this.
_BOOTSTRAP_FILE = os.path.join(*Path(bootstrap.__file__).parts[-2:])


def find_pyspy() -> str | None:
    """py-spy on PATH, or installed beside this interpreter (a virtualenv not activated)."""
    beside = Path(sys.executable).with_name("py-spy")
    return shutil.which("py-spy") or (str(beside) if beside.is_file() else None)


def collect_stacks(
    find: Callable[[], list[int]], stderr_path: Path, tool: str = "auto"
) -> list[ProcessStack]:
    """Stacks of every live process ``find()`` returns; ``tool`` is auto, py-spy or faulthandler.

    A process py-spy cannot read (no ptrace permission, not Python) falls back to faulthandler.
    """
    pids = living(find())
    info = {p: (_ppid(p), cmdline(p)) for p in pids}
    stacks: dict[int, ProcessStack] = {}
    pyspy = find_pyspy() if tool != "faulthandler" else None
    if pyspy:
        stacks.update(_pyspy(pyspy, pids, info))
    rest = [p for p in pids if p not in stacks]
    if rest and hasattr(signal, "SIGSTOP"):
        stacks.update(_faulthandler(find, rest, info, stderr_path))
    return [
        stacks.get(p)
        or ProcessStack(p, info[p][0], info[p][1], "(no stack could be taken)", "none")
        for p in pids
    ]


def _pyspy(exe: str, pids: list[int], info: dict[int, tuple[int, str]]) -> dict[int, ProcessStack]:
    procs = {
        pid: subprocess.Popen(
            [exe, "dump", "--pid", str(pid)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for pid in pids
    }
    end = time.monotonic() + _PYSPY_TIMEOUT_S
    found = {}
    for pid, proc in procs.items():
        try:
            out, _ = proc.communicate(timeout=max(0.1, end - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            continue
        if proc.returncode == 0 and out.strip():
            found[pid] = ProcessStack(
                pid, info[pid][0], info[pid][1], _without_bootstrap(out).strip(), "py-spy"
            )
    return found


def _faulthandler(
    find: Callable[[], list[int]],
    pids: list[int],
    info: dict[int, tuple[int, str]],
    stderr_path: Path,
) -> dict[int, ProcessStack]:
    for _ in range(3):  # freeze, then catch anything forked meanwhile
        for pid in find():
            send([pid], signal.SIGSTOP)
    found = {}
    with open(stderr_path, "rb+") as err:
        for pid in pids:
            start = os.fstat(err.fileno()).st_size
            send([pid], signal.SIGABRT)
            send([pid], signal.SIGCONT)
            end = time.monotonic() + _DUMP_WAIT_S
            while is_alive(pid) and time.monotonic() < end:
                time.sleep(0.001)
            err.seek(start)
            dump = err.read().decode("utf-8", errors="replace")
            err.truncate(start)
            text = _without_bootstrap(dump.replace(_FAULT_HEADER, "", 1)).strip()
            if text:
                found[pid] = ProcessStack(pid, info[pid][0], info[pid][1], text, "faulthandler")
    return found


def _without_bootstrap(stack: str) -> str:
    """Drop the frames of the runner's bootstrap below the scenario's ``<module>`` frame."""
    return "\n".join(line for line in stack.splitlines() if _BOOTSTRAP_FILE not in line)


def _ppid(pid: int) -> int:
    p = proc_info(pid)
    return p.ppid if p else 0
