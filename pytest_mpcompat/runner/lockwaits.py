"""Which threads of a hung cell were waiting on a lock, read from the stacks taken of it.

A thread waits on a lock when the frame it is in (the most recent one) is one of the standard
library's waits (``threading``'s locks, conditions, events and joins, ``multiprocessing``'s
locks, semaphores and conditions), or a line of the program's own that acquires one
(``lock.acquire()``, ``with lock:``; a C-level acquire shows no frame of its own). Both py-spy's
dumps and faulthandler's are read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from ..model.cell import CellResult, ProcessStack

__all__ = ["mark_locks", "waiting_on_locks"]

_SHOWN = 6  # threads named in the reason; the rest are counted

# py-spy: 'Thread 123 (idle): "MainThread"', then '    func (file.py:12)'
_PYSPY_THREAD = re.compile(r'^Thread (\S+) \([^)]*\)(?:: "(?P<name>[^"]*)")?')
_PYSPY_FRAME = re.compile(r"^\s+(?P<func>\S+) \((?P<file>.+):(?P<line>\d+)\)$")
# faulthandler: 'Thread 0x7f... (most recent call first):', then '  File "f.py", line 12 in func'
_FAULT_THREAD = re.compile(r"^(?:Current thread|Thread) (?P<id>0x[0-9a-f]+)")
_FAULT_FRAME = re.compile(r'^\s+File "(?P<file>.+)", line (?P<line>\d+) in (?P<func>\S+)')

_LIBRARY_WAITS = {
    "threading.py": ("wait", "acquire", "_wait_for_tstate_lock", "join"),
    "synchronize.py": ("__enter__", "acquire", "wait", "wait_for"),
}
_ACQUIRES = re.compile(r"\.acquire\(|\bwith\b.*\b\w*(?:lock|mutex|sem|semaphore|cond)\w*\b", re.I)


def waiting_on_locks(stacks: Sequence[ProcessStack], script: Path | None = None) -> list[str]:
    """'<thread> of pid <pid> (<where>)' for each thread found waiting on a lock."""
    found = []
    for proc in stacks:
        for thread, frame in _top_frames(proc.stack):
            where = _lock_wait(frame, script)
            if where:
                found.append(f"{thread} of pid {proc.pid} ({where})")
    return found


def mark_locks(result: CellResult, script: Path | None) -> None:
    """Name, in a hung cell's reason, the threads its stacks show waiting on a lock."""
    found = waiting_on_locks(result.stacks, script)
    if found:
        more = f" and {len(found) - _SHOWN} more" if len(found) > _SHOWN else ""
        result.reason += f"; waiting on a lock: {', '.join(found[:_SHOWN])}{more}"


def _top_frames(stack: str) -> list[tuple[str, tuple[str, str, int]]]:
    """(thread, (func, file, line)) of each thread's most recent frame."""
    tops: list[tuple[str, tuple[str, str, int]]] = []
    thread: str | None = None
    for line in stack.splitlines():
        head = _PYSPY_THREAD.match(line) or _FAULT_THREAD.match(line)
        if head:
            groups = head.groupdict()
            thread = groups.get("name") or f"thread {groups.get('id') or head.group(1)}"
            continue
        frame = _PYSPY_FRAME.match(line) or _FAULT_FRAME.match(line)
        if frame and thread is not None:  # the first frame under a thread is its most recent
            tops.append((thread, (frame["func"], frame["file"], int(frame["line"]))))
            thread = None
    return tops


def _lock_wait(frame: tuple[str, str, int], script: Path | None) -> str:
    func, file, line = frame
    name = Path(file).name
    if func.rpartition(".")[2] in _LIBRARY_WAITS.get(name, ()):
        return f"{func} in {name}"
    text = _source_line(file, line, script)
    if text and _ACQUIRES.search(text):
        return f"{name}:{line}: {text}"
    return ""


def _source_line(file: str, line: int, script: Path | None) -> str:
    """The line of source, found as faulthandler names it (a whole path) or as py-spy does
    (shortened: tried beside the script)."""
    candidates = [Path(file)]
    if script is not None and not Path(file).is_absolute():
        candidates.append(script.parent / file)
    for path in candidates:
        try:
            with open(path, "rb") as fh:
                for number, text in enumerate(fh, 1):
                    if number == line:
                        return text.decode(errors="replace").strip()[:120]
        except OSError:
            continue
    return ""
