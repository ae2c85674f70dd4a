"""The runner's side of the supervisor (``_child/supervisor.py``): one per process, kept.

The first cell starts it; later cells reuse it, so that a cell costs a ``posix_spawn`` and a
pipe's round trip rather than a second interpreter. A cell asked for while another runs (a
thread of the user's) gets a supervisor of its own, ended with it. A supervisor that could not
clean up after a cell, or died, is retired and the next cell starts a fresh one. When this
process exits, or dies, the supervisor sees EOF on its stdin, kills what is left and exits.
"""

from __future__ import annotations

import atexit
import functools
import marshal
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from .._child import bootstrap as _child_bootstrap
from .._child import supervisor
from ._proctree import is_stopped, send

__all__ = ["Supervisor", "acquire", "bootstrap", "main_code", "release"]

_SCRIPT = str(Path(supervisor.__file__).resolve())
_START_S = 30.0
_END_S = 20.0
_CHECK_S = 0.25  # how often a waiting runner checks that its supervisor is not stopped


class Supervisor:
    """A running supervisor: commands to its stdin, its events (dicts) from a queue."""

    def __init__(self) -> None:
        self.owner = os.getpid()
        self._errors = tempfile.TemporaryFile()
        self._errors_lock = threading.Lock()
        self._last_errors = ""
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-S", _SCRIPT],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._errors,
            start_new_session=True,
            env=_own_environment(),
        )
        self.pid = self.proc.pid
        self.events: queue.Queue[dict[str, str] | None] = queue.Queue()
        self.healthy = True
        self.stops = 0  # times it was found stopped, and continued (see ``next``)
        self.pending: list[dict[str, str]] = []  # events read ahead of an answer
        threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True).start()

    def _read(self, stream: IO[bytes]) -> None:
        for line in stream:  # "leader PID", "exit STATUS", "error MESSAGE" or "done [PIDS]"
            kind, _, value = line.decode(errors="replace").strip().partition(" ")
            self.events.put({kind: value})
        stream.close()
        self.healthy = False
        try:  # EOF: the supervisor is exiting (or died); reap it here
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        with self._errors_lock:
            self._last_errors = self._read_errors()
            self._errors.close()
        self.events.put(None)

    def next(self, timeout: float | None) -> dict[str, str] | None:
        """The next event, waiting up to ``timeout`` seconds (None: for ever). A supervisor
        found stopped meanwhile (a cell sent SIGSTOP to its parent) is continued, and counted
        in ``stops``: the cell that did it is told by that, and the supervisor retired."""
        if self.pending:
            return self.pending.pop(0)
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            left = _CHECK_S if end is None else min(_CHECK_S, max(0.0, end - time.monotonic()))
            try:
                return self.events.get(timeout=left)
            except queue.Empty:
                pass
            if is_stopped(self.pid):
                self.stops += 1
                self.healthy = False
                send([self.pid], signal.SIGCONT)
            elif end is not None and time.monotonic() >= end:
                return None

    def start(self, config: dict[str, Any]) -> int:
        """Start a cell's main process; its pid. OSError when it could not be started."""
        self._send(b"run " + marshal.dumps(config).hex().encode())
        event = self.next(_START_S)
        if event is None or "leader" not in event:
            self.healthy = self.healthy and event is not None
            raise OSError((event or {}).get("error") or self.errors() or "the supervisor died")
        return int(event["leader"])

    def end(self, on_event: Any) -> None:
        """Kill what is left of the cell; every event before the supervisor's ``done`` goes to
        ``on_event`` (the main process's ``exit``)."""
        if not self._send(b"end"):
            return
        while True:
            event = self.next(_END_S)
            if event is None:
                self.healthy = False
                return
            if "done" in event:
                self.healthy = self.healthy and not event["done"]  # pids it could not kill
                return
            on_event(event)

    def _send(self, line: bytes) -> bool:
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(line + b"\n")
            self.proc.stdin.flush()
            return True
        except (OSError, ValueError):
            self.healthy = False
            return False

    def has_children(self) -> bool:
        """Whether anything, alive or not yet reaped, is below the supervisor now: as it is a
        subreaper, none means no process of the cell is left (exact, unlike reading the
        children lists while processes are being re-parented). True when it cannot say."""
        if not self._send(b"children"):
            return True
        event = self.next(_END_S)
        while event is not None and "children" not in event:
            self.pending.append(event)  # (an exit it said first is the cell's, kept for it)
            event = self.next(_END_S)
        return event is None or event["children"] != "no"

    def errors(self) -> str:
        """The end of what the supervisor wrote to its stderr."""
        with self._errors_lock:
            return self._last_errors if self._errors.closed else self._read_errors()

    def _read_errors(self) -> str:
        self._errors.seek(0)
        return self._errors.read().decode(errors="replace")[-2000:]

    def close(self) -> None:
        """EOF on its stdin: it kills what is left below it and exits (the reader reaps it)."""
        self.healthy = False
        if self.proc.stdin is not None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass


def _own_environment() -> dict[str, str]:
    """What the supervisor itself needs of the environment; each cell gets its own, whole.
    (A long-lived supervisor must not carry one test's environment into the next.)"""
    keep = ("MPCOMPAT_PROCESS_TABLE", "PATH", "SYSTEMROOT", "TMPDIR", "TEMP", "TMP")
    return {k: v for k, v in os.environ.items() if k in keep}


_lock = threading.Lock()
_shared: Supervisor | None = None
_busy = False


def acquire() -> Supervisor:
    """The process's supervisor, started if need be; a private one while it is busy."""
    global _shared, _busy
    with _lock:
        if _shared is not None and (not _shared.healthy or _shared.owner != os.getpid()):
            if _shared.owner == os.getpid():
                _shared.close()
            _shared = None
        if _busy:
            return Supervisor()
        if _shared is None:
            _shared = Supervisor()
        _busy = True
        return _shared


def release(sup: Supervisor) -> None:
    """Give back what ``acquire`` gave, once its cell has ended."""
    global _busy
    with _lock:
        if sup is _shared:
            _busy = False
            if sup.healthy:
                return
        sup.close()


@functools.cache
def bootstrap() -> str:
    """The bootstrap, compiled: a cell's interpreter runs the .pyc as its script and compiles
    nothing of ours (a source file run as a script is compiled on every start, which costs more
    than a millisecond). It is kept in this user's temporary folder under a name made of its
    source and the interpreter's bytecode magic, so that cells' command lines read the same from
    run to run; the source itself where that folder cannot be written."""
    import hashlib
    import importlib.util
    import py_compile

    source = Path(_child_bootstrap.__file__).resolve()
    try:
        digest = hashlib.sha256(source.read_bytes() + importlib.util.MAGIC_NUMBER).hexdigest()
        uid = os.getuid() if hasattr(os, "getuid") else None
        user = str(uid) if uid is not None else __import__("getpass").getuser()
        folder = Path(tempfile.gettempdir(), f"pytest-mpcompat-{user}")
        folder.mkdir(mode=0o700, exist_ok=True)
        if uid is not None and folder.stat().st_uid != uid:
            return str(source)  # someone else's folder: nothing of theirs is run
        target = folder / f"bootstrap-{digest[:16]}.pyc"
        if not target.is_file():
            tmp = folder / f".{target.name}.{os.getpid()}"
            py_compile.compile(str(source), cfile=str(tmp), doraise=True)
            os.replace(tmp, target)
        return str(target)
    except (OSError, py_compile.PyCompileError):
        return str(source)


_codes: dict[tuple[str, bytes], bytes] = {}


def main_code(script: Path, work: Path, env: Mapping[str, str]) -> str:
    """A file in ``work`` with the script compiled as the cell's interpreter would compile it
    (this is the same interpreter), for the bootstrap (``MPCOMPAT_MAIN_CODE``), or "" where it
    cannot be (a syntax error, which the cell then shows itself, or a relative path, which the
    cell resolves)."""
    if not script.is_absolute():
        return ""
    try:
        source = script.read_bytes()
    except OSError:
        return ""
    path = os.path.abspath(script)
    flag = env.get("PYTHONOPTIMIZE", "")  # the cell's -O level (the bootstrap checks it)
    level = int(flag) if flag.isdigit() else int(bool(flag))
    key = (path, source)
    data = _codes.get(key)
    if data is None:
        try:
            code = compile(source, path, "exec", dont_inherit=True, optimize=level)
        except (SyntaxError, ValueError):
            return ""
        if len(_codes) > 256:
            _codes.clear()
        data = _codes[key] = marshal.dumps((level, path, code))
    target = work / "main.code"
    target.write_bytes(data)
    return str(target)


@atexit.register
def _close_shared() -> None:
    if _shared is not None and _shared.owner == os.getpid():
        _shared.close()
        try:
            _shared.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
