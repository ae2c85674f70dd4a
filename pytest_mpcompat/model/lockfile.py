"""One writer at a time for a report path or an output folder: an exclusive lock on a hidden
file beside it (``flock`` on POSIX, ``msvcrt.locking`` on Windows), which the system releases
when its holder dies however it dies (SIGKILL included), so a crashed run never leaves a path
locked. The lock file holds its holder's pid, for the message of the next one; the holder
removes it on release, and one who locked a file since removed tries again on the new one."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

__all__ = ["Lock", "lock_path"]


def lock_path(target: Path) -> Path:
    """The lock file of ``target`` (a file or a folder): ``.<name>.lock`` beside it."""
    return target.parent / f".{target.name}.lock"


class Lock:
    """The lock of ``target``; ``acquire`` takes it, ``release`` gives it back."""

    def __init__(self, target: Path) -> None:
        self.path = lock_path(target)
        self._fd: int | None = None

    def holder(self) -> str:
        """Who holds it, as its lock file says ("pid 1234"), or "another process"."""
        try:
            pid = self.path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            pid = ""
        return f"pid {pid}" if pid.isdigit() else "another process"

    def acquire(self, wait: bool) -> bool:
        """Take the lock: at once or not at all (``wait=False``; False if another holds it), or
        once its holder gives it back."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            if not _lock(fd, wait):
                os.close(fd)
                return False
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if same:  # (else its last holder removed it while this one waited: again)
                os.ftruncate(fd, 0)
                os.write(fd, str(os.getpid()).encode())
                self._fd = fd
                return True
            os.close(fd)

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.unlink(self.path)  # while held: no one can have it locked but this process
        except OSError:
            pass
        os.close(fd)  # (which releases the lock)

    def __enter__(self) -> Lock:
        self.acquire(wait=True)
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


if sys.platform == "win32":  # pragma: no cover - exercised on Windows runners
    import msvcrt

    def _lock(fd: int, wait: bool) -> bool:
        while True:
            try:
                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
                return True
            except OSError:
                if not wait:
                    return False
                time.sleep(0.1)

else:
    import fcntl

    def _lock(fd: int, wait: bool) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            return False
        return True
