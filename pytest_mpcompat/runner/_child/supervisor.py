"""The per-cell supervisor: parent of a cell's main process and adopter of its orphans.

The runner starts ``python -I -S supervisor.py CONFIG`` (a dict, marshalled, in hex) in a new
session, with a pipe on stdin (control) and one on stdout (status). The supervisor

- becomes a child subreaper on Linux, so a grandchild whose parent exits, or a daemon that
  double-forks, is re-parented here instead of to init (or to the pytest process);
- starts the cell's main process (CONFIG's argv, cwd, stdout and stderr files) and writes the
  line ``leader PID``, then ``exit STATUS`` when it exits (negative: the signal), or
  ``error MESSAGE`` if it cannot start it;
- reaps every process that ends under it, so the runner never sees zombies;
- when stdin closes (the runner is done, or died), kills whatever is left below it and exits.

Finding, freezing and killing the tree, stacks and leaks are the runner's (it walks this
process's descendants). Standard library only, and cheap: it runs once per cell, so it imports
only built-in modules (marshal, _thread): json and threading would double its start-up time.
"""

from __future__ import annotations

import _thread
import marshal
import os
import sys

# A subreaper, and /proc to walk: Linux, unless the portable path (psutil or ps, as on macOS)
# was chosen with MPCOMPAT_PROCESS_TABLE.
_LINUX = sys.platform.startswith("linux") and os.environ.get("MPCOMPAT_PROCESS_TABLE") in (
    None,
    "",
    "proc",
)


def _become_subreaper() -> None:
    if _LINUX:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def _say(kind: str, value: object) -> None:
    text = " ".join(str(value).split())  # one line, whatever the message
    sys.stdout.write(f"{kind} {text}\n")
    sys.stdout.flush()


def _block_forever() -> None:
    """Park the main thread; the control thread ends the process with os._exit."""
    lock = _thread.allocate_lock()
    lock.acquire()
    lock.acquire()


def _open_outputs(config: dict[str, object]) -> tuple[int, int, int]:
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
    out = os.open(str(config["out"]), flags, 0o600)
    err = os.open(str(config["err"]), flags, 0o600)
    return os.open(os.devnull, os.O_RDONLY), out, err


def _spawn(argv: list[str], fds: tuple[int, int, int]) -> int:
    # posix_spawn is what subprocess uses too, minus its import (milliseconds per cell).
    actions = [(os.POSIX_SPAWN_DUP2, fd, target) for target, fd in enumerate(fds)]
    # As a container's first process starts: leading its own session, every signal at its
    # default disposition and none blocked, whatever pytest was started with (a background
    # job of a script has SIGINT ignored, and an ignored signal stays ignored across exec).
    import _signal  # type: ignore[import-not-found]  # built in, unlike signal

    return os.posix_spawnp(argv[0], argv, dict(os.environ), file_actions=actions, setsid=True,
                           setsigdef=_signal.valid_signals(), setsigmask=())  # fmt: skip


def _descendants(root: int) -> list[int]:
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        kids: list[int] = []
        try:
            for tid in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{tid}/children", "rb") as fh:
                    kids.extend(int(p) for p in fh.read().split())
        except OSError:
            pass
        found.extend(kids)
        todo.extend(kids)
    return found


def _kill_tree(leader: int) -> None:
    """Kill everything below this process (on Linux), or at least the leader."""
    kill = getattr(__import__("signal"), "SIGKILL", 15)
    for _ in range(50):
        pids = _descendants(os.getpid()) if _LINUX else [leader]
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, kill)
            except OSError:
                pass
        if not _LINUX:
            return
        _reap(block=False)


def _reap(block: bool, leader: int = 0) -> bool:
    """Collect dead children; True once none are left. Reports the leader's exit status."""
    while True:
        try:
            pid, status = os.waitpid(-1, 0 if block else os.WNOHANG)
        except ChildProcessError:
            return True
        except InterruptedError:
            continue
        if pid == 0:
            return False
        if pid == leader:
            _say("exit", os.waitstatus_to_exitcode(status))


def main() -> None:
    config = marshal.loads(bytes.fromhex(sys.argv[1]))
    argv = [str(a) for a in config["argv"]]
    _become_subreaper()
    try:
        if config.get("cwd"):
            os.chdir(config["cwd"])
        fds = _open_outputs(config)
        if os.name != "posix":
            _main_windows(argv, fds)
            return
        leader = _spawn(argv, fds)
    except OSError as exc:
        _say("error", f"could not start {argv[0]}: {exc.strerror or exc}")
        sys.exit(3)
    _say("leader", leader)

    def watch_control() -> None:
        sys.stdin.buffer.read()  # returns at EOF: the runner closed the pipe, or died
        _kill_tree(leader)
        os._exit(0)

    _thread.start_new_thread(watch_control, ())
    _reap(block=True, leader=leader)
    _block_forever()  # nothing left to reap: wait for the runner to close stdin


def _main_windows(argv: list[str], fds: tuple[int, int, int]) -> None:
    """No subreaper and no waitpid(-1): supervise the main process alone."""
    import subprocess

    proc = subprocess.Popen(argv, stdin=fds[0], stdout=fds[1], stderr=fds[2])
    _say("leader", proc.pid)

    def watch_control() -> None:
        sys.stdin.buffer.read()
        proc.kill()
        os._exit(0)

    _thread.start_new_thread(watch_control, ())
    _say("exit", proc.wait())
    _block_forever()


if __name__ == "__main__":
    main()
