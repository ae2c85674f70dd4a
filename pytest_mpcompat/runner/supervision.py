"""The runner's side of the supervisor (``_child/supervisor.py``): one per process, kept.

The first cell starts it; later cells reuse it, so that a cell costs a ``posix_spawn`` and a
pipe's round trip rather than a second interpreter. A cell asked for while another runs (a
thread of the user's) gets a supervisor of its own, ended with it. A supervisor that could not
clean up after a cell, or died, is retired and the next cell starts a fresh one. When this
process exits, or dies, the supervisor sees EOF on its stdin, kills what is left and exits.
"""

from __future__ import annotations

import atexit
import marshal
import os
import queue
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import IO, Any

from ._child import supervisor

__all__ = ["Supervisor", "acquire", "release"]

_SCRIPT = str(Path(supervisor.__file__).resolve())
_START_S = 30.0
_END_S = 20.0


class Supervisor:
    """A running supervisor: commands to its stdin, its events (dicts) from a queue."""

    def __init__(self) -> None:
        self.owner = os.getpid()
        self._errors = tempfile.TemporaryFile()
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
        self.events.put(None)

    def next(self, timeout: float | None) -> dict[str, str] | None:
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
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

    def errors(self) -> str:
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


@atexit.register
def _close_shared() -> None:
    if _shared is not None and _shared.owner == os.getpid():
        _shared.close()
        try:
            _shared.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
