"""The supervisor: parent of every cell's main process and adopter of its orphans.

One supervisor serves a pytest process (or a benchmark) for its whole run, and runs its cells
one at a time, so that a cell costs a ``posix_spawn`` and not a second interpreter. The runner
starts ``python -I -S supervisor.py`` in a new session, with a pipe on stdin (commands) and one
on stdout (events), one line each:

- ``run HEX`` (a dict, marshalled: argv, cwd, env, and the stdout and stderr files) starts a
  cell's main process; the answer is ``leader PID``, then ``exit STATUS`` when it exits
  (negative: the signal), or ``error MESSAGE`` if it cannot start it;
- ``end`` kills whatever of the cell is left below the supervisor, reaps it, and answers
  ``done``: after that nothing of the cell is alive, and the next cell starts on its own;
- ``children`` answers ``children yes`` while anything is below the supervisor (alive, or
  dead and not yet reaped), else ``children no``;
- EOF (the runner is done, or died) kills whatever is left and exits.

On Linux the supervisor is a child subreaper: a grandchild whose parent exits, or a daemon that
double-forks, is re-parented here instead of to init (or to the pytest process), and since one
cell runs at a time, whatever is below it belongs to the running cell. It reaps every process
that ends under it, so the runner never sees zombies. Finding, freezing and killing the tree,
stacks and leaks are the runner's (it walks this process's descendants). Standard library only.
"""

from __future__ import annotations

import _thread
import marshal
import os
import shutil
import signal
import sys
import time

# A subreaper, and /proc to walk: Linux, unless the portable path (psutil or ps, as on macOS)
# was chosen with MPCOMPAT_PROCESS_TABLE.
_LINUX = sys.platform.startswith("linux") and os.environ.get("MPCOMPAT_PROCESS_TABLE") in (
    None,
    "",
    "proc",
)
_say_lock = _thread.allocate_lock()


def _become_subreaper() -> None:
    if _LINUX:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def _say(kind: str, value: object = "") -> None:
    text = " ".join(str(value).split())  # one line, whatever the message
    with _say_lock:
        sys.stdout.write(f"{kind} {text}\n" if text else f"{kind}\n")
        sys.stdout.flush()


def _open_outputs(config: dict[str, object]) -> tuple[int, int, int]:
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
    out = os.open(str(config["out"]), flags, 0o600)
    err = os.open(str(config["err"]), flags, 0o600)
    return os.open(os.devnull, os.O_RDONLY), out, err


def _spawn(config: dict[str, object], fds: tuple[int, int, int]) -> int:
    argv = [str(a) for a in config["argv"]]  # type: ignore[attr-defined]
    env = dict(config["env"])  # type: ignore[call-overload]
    # The cell's PATH finds its program, not this process's (else posix_spawn fails: ENOENT).
    program = shutil.which(argv[0], path=env.get("PATH", os.defpath)) or argv[0]
    cwd = str(config.get("cwd") or "")
    actions = [(os.POSIX_SPAWN_DUP2, fd, target) for target, fd in enumerate(fds)]
    # As a container's first process starts: leading its own session, every signal at its
    # default disposition and none blocked, whatever pytest was started with (a background
    # job of a script has SIGINT ignored, and an ignored signal stays ignored across exec).
    here = os.getcwd()
    if cwd:
        os.chdir(cwd)  # (posix_spawn's chdir action needs Python 3.13)
    try:
        return os.posix_spawn(program, argv, env, file_actions=actions, setsid=True,
                              setsigdef=signal.valid_signals(), setsigmask=())  # fmt: skip
    finally:
        os.chdir(here)


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


class _Cells:
    """The running cell, and the reaper that reports its main process's exit."""

    def __init__(self) -> None:
        self.lock = _thread.allocate_lock()  # held while a spawn's pid is not yet known
        self.leader = 0
        self.started = False  # a leader was started since the last end
        self.leader_gone = _thread.allocate_lock()  # released when the leader is reaped
        self.leader_gone.acquire()
        self.children = _thread.allocate_lock()  # released when there is something to reap
        self.children.acquire()

    def run(self, config: dict[str, object]) -> None:
        fds = _open_outputs(config)
        try:
            with self.lock:
                self.leader = _spawn(config, fds)
                self.started = True
        finally:
            for fd in fds:
                os.close(fd)
        if self.children.locked():
            self.children.release()
        _say("leader", self.leader)

    def reap(self) -> None:
        """Collect dead children forever; the leader's exit status is said once."""
        while True:
            try:
                pid, status = os.waitpid(-1, 0)
            except ChildProcessError:
                self.children.acquire()  # nothing below: wait for the next cell
                continue
            except InterruptedError:
                continue
            with self.lock:
                if pid == self.leader:
                    self.leader = 0
                    _say("exit", os.waitstatus_to_exitcode(status))
                    self.leader_gone.release()

    def end(self) -> str:
        """Kill everything below this process, and wait until the leader is reaped; what
        could not be killed in 5 s, if anything (the runner then retires this supervisor)."""
        kill = getattr(signal, "SIGKILL", signal.SIGTERM)
        with self.lock:
            leader = self.leader
        until = time.monotonic() + 5.0
        live: list[int] = []
        while time.monotonic() < until:
            pids = _descendants(os.getpid()) if _LINUX else ([leader] if leader else [])
            live = [p for p in pids if _alive(p)]
            if not live:
                break
            for pid in live:
                try:
                    os.kill(pid, kill)
                except OSError:
                    pass
            if not _LINUX:
                live = []
                break
            time.sleep(0.002)
        if self.started and not self.leader_gone.acquire(True, 10):
            live.append(leader)  # the reaper says its exit before this returns
        self.started = False
        return " ".join(map(str, live))


def _alive(pid: int) -> bool:
    """Not yet a zombie (a zombie's reaping is the reaper's)."""
    if not _LINUX:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
    except (OSError, IndexError):
        return False


def _has_children() -> bool:
    """Anything below this process, alive or a zombie (left for the reaper: WNOWAIT)."""
    try:
        os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return False
    except (OSError, AttributeError):
        pass
    return True


def main() -> None:
    if os.name != "posix":
        _main_windows()
        return
    _become_subreaper()
    cells = _Cells()
    _thread.start_new_thread(cells.reap, ())
    for line in sys.stdin.buffer:
        command, _, value = line.strip().partition(b" ")
        if command == b"run":
            config = marshal.loads(bytes.fromhex(value.decode()))
            try:
                cells.run(config)
            except OSError as exc:
                _say("error", f"could not start {config['argv'][0]}: {exc.strerror or exc}")
        elif command == b"end":
            _say("done", cells.end())
        elif command == b"children":
            _say("children", "yes" if _has_children() else "no")
    cells.end()  # EOF: the runner closed the pipe, or died
    os._exit(0)


def _main_windows() -> None:
    """No subreaper and no waitpid(-1): supervise each main process alone."""
    import subprocess

    procs: list[subprocess.Popen[bytes]] = []

    def wait(proc: subprocess.Popen[bytes]) -> None:
        _say("exit", proc.wait())

    for line in sys.stdin.buffer:
        command, _, value = line.strip().partition(b" ")
        if command == b"run":
            config = marshal.loads(bytes.fromhex(value.decode()))
            fds = _open_outputs(config)
            try:
                proc = subprocess.Popen([str(a) for a in config["argv"]], stdin=fds[0],
                                        stdout=fds[1], stderr=fds[2], env=config["env"],
                                        cwd=config.get("cwd") or None)  # fmt: skip
            except OSError as exc:
                _say("error", f"could not start {config['argv'][0]}: {exc.strerror or exc}")
                continue
            finally:
                for fd in fds:
                    os.close(fd)
            procs.append(proc)
            _say("leader", proc.pid)
            _thread.start_new_thread(wait, (proc,))
        elif command == b"end":
            for proc in procs:
                proc.kill()
                proc.wait()
            procs.clear()
            _say("done")
    for proc in procs:
        proc.kill()
    os._exit(0)


if __name__ == "__main__":
    main()
