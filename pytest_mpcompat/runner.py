"""Run one cell: a scenario in a fresh interpreter under one default start method.

The cell's interpreter is ``sys.executable`` (never a shell or a version-manager shim) in a new
session with stdin closed; its output goes to files, never to a pipe that could fill and block
it. The runner bounds the cell with its timeout, takes stacks of a hung tree, and leaves no
process of the cell alive: stragglers after the main process exits are reported as leaked.
"""

from __future__ import annotations

import dataclasses
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import _bootstrap
from ._proctree import become_subreaper, cmdline, descendants, is_alive, kill_all, reap_zombies
from ._stacks import collect_stacks
from .model import CellResult, Verdict
from .redact import Redactor
from .serving import ServeSpec, drive, free_port, stop
from .signatures import (
    LEAKED_PROCESSES,
    PROCESS_LIMIT,
    SHUTDOWN_IGNORED,
    WORKERS_MISSING,
    WORKERS_RESTARTING,
    Signature,
    match_files,
)

__all__ = ["TAIL_BYTES", "CellSpec", "cell_environment", "run_cell"]

#: How much of the end of stdout and of stderr a result keeps.
TAIL_BYTES = 8192
#: After the main process exits, how long its other processes get to finish on their own
#: (multiprocessing's resource tracker and forkserver exit only once they see it gone).
EXIT_GRACE_S = 2.0

_BOOTSTRAP = str(Path(_bootstrap.__file__).resolve())
_DROPPED_ENV = ("PYTEST_CURRENT_TEST",)
_DROPPED_ENV_PREFIXES = ("PYTEST_XDIST_",)


@dataclass(frozen=True)
class CellSpec:
    script: Path
    method: str
    timeout: float
    env: Mapping[str, str] = field(default_factory=dict)  # "{method}" in values is substituted
    args: Sequence[str] = ()
    cwd: Path | None = None
    stacks: str = "auto"  # how to take the stacks of a hang (see _stacks.collect_stacks)
    serve: ServeSpec | None = None  # drive the script as a server (see serving.py)
    #: Run this argv instead of the script (placeholders filled). The start method is then only
    #: exported in MPCOMPAT_START_METHOD, for programs that read it into a library's setting.
    command: Sequence[str] | None = None
    memory_limit_mb: int | None = None  # RLIMIT_AS, set by the bootstrap before the script runs
    max_processes: int | None = None  # the runner kills the cell when it has more live processes


def _placeholders(spec: CellSpec, port: int | None) -> dict[str, str]:
    values = {"{method}": spec.method}
    if spec.serve is not None:
        values.update({"{port}": str(port), "{workers}": str(spec.serve.workers)})
    return values


def _fill(text: str, values: Mapping[str, str]) -> str:
    for key, value in values.items():
        text = text.replace(key, value)
    return text


def cell_environment(
    spec: CellSpec, methods_log: Path | None = None, port: int | None = None
) -> dict[str, str]:
    """The cell's environment: ours without pytest's per-test variables, plus the scenario's."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in _DROPPED_ENV and not k.startswith(_DROPPED_ENV_PREFIXES)
    }
    values = _placeholders(spec, port)
    env.update({k: _fill(v, values) for k, v in spec.env.items()})
    env["MPCOMPAT_START_METHOD"] = spec.method
    if spec.serve is not None:
        env["MPCOMPAT_PORT"], env["MPCOMPAT_WORKERS"] = str(port), str(spec.serve.workers)
    if spec.memory_limit_mb:
        env["MPCOMPAT_MEMORY_LIMIT_MB"] = str(spec.memory_limit_mb)
    env.setdefault("PYTHONFAULTHANDLER", "1")
    if methods_log is not None:
        env["MPCOMPAT_METHODS_LOG"] = str(methods_log)
    return env


class Terminated(KeyboardInterrupt):
    """SIGTERM reached the runner while a cell was running."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise Terminated("SIGTERM")


def run_cell(spec: CellSpec, catalog: Sequence[Signature]) -> CellResult:
    """Run the cell once and return its verdict; never raises for anything the scenario does.

    While the cell runs, SIGTERM to this process (a CI job being cancelled) is turned into an
    interrupt, so the cell's tree is killed and pytest still writes its report, as on Ctrl-C.
    """
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return _run_cell(spec, catalog)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _run_cell(spec: CellSpec, catalog: Sequence[Signature]) -> CellResult:
    become_subreaper()
    me = os.getpid()
    before = set(descendants(me))

    def cell_pids() -> list[int]:
        return [p for p in descendants(me) if p not in before]

    workdir = Path(tempfile.mkdtemp(prefix="mpcompat-cell-"))
    out_path, err_path, methods_log = workdir / "stdout", workdir / "stderr", workdir / "methods"
    result = CellResult(scenario=str(spec.script), method=spec.method, verdict=Verdict.ERROR)
    try:
        # O_APPEND: every process of the tree shares these files, and the stack collector cuts
        # its dumps off the end of stderr again; appends keep later writes from leaving holes.
        with open(out_path, "ab") as out, open(err_path, "ab") as err:
            port = free_port() if spec.serve is not None else None
            values = _placeholders(spec, port)
            args = [_fill(a, values) for a in spec.args]
            if spec.command:
                argv = [_fill(a, values) for a in spec.command]
            else:
                argv = [sys.executable, _BOOTSTRAP, spec.method, str(spec.script), *args]
            started = time.monotonic()
            try:
                proc = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                    env=cell_environment(spec, methods_log, port),
                    cwd=spec.cwd,
                    start_new_session=True,
                )
            except OSError as exc:
                result.reason = f"could not start {argv[0]}: {exc}"
                return result
            implied = None
            try:
                if spec.serve is None and spec.max_processes:
                    hung = not _wait_limited(proc, spec, cell_pids, result)
                elif spec.serve is None:
                    hung = not _wait(proc, spec.timeout)
                else:
                    assert port is not None
                    starts = lambda: sum(_count_lines(methods_log).values())  # noqa: E731
                    hung, implied = _serve(
                        proc, spec.serve, port, cell_pids, started, spec, result, starts
                    )
                result.duration_s = round(time.monotonic() - started, 4)
                if hung:
                    result.verdict = Verdict.HANG
                    result.reason = result.reason or f"still running after {spec.timeout:g} s"
                    result.stacks = collect_stacks(cell_pids, err_path, spec.stacks)
                    kill_all(cell_pids, spare=proc.pid)
                    proc.wait()
                else:
                    result.leaked = _stragglers(cell_pids)
            except BaseException:
                kill_all(cell_pids, spare=proc.pid)
                proc.wait()
                raise
        _judge(result, proc.returncode, implied)
        result.signatures = result.signatures + match_files([out_path, err_path], catalog)
        result.signatures += _serving_signatures(result.serving)
        if result.leaked:
            result.signatures.append(LEAKED_PROCESSES)
        result.methods_used = _count_lines(methods_log)
        redact = Redactor(cell_environment(spec))
        result.stdout_tail = redact(_tail(out_path))
        result.stderr_tail = redact(_tail(err_path))
        result.leaked = [redact(line) for line in result.leaked]
        for i, st in enumerate(result.stacks):
            result.stacks[i] = dataclasses.replace(
                st, cmdline=redact(st.cmdline), stack=redact(st.stack)
            )
        return result
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _serve(
    proc: subprocess.Popen[bytes],
    serve: ServeSpec,
    port: int,
    find: Callable[[], list[int]],
    started: float,
    spec: CellSpec,
    result: CellResult,
    starts: Callable[[], int],
) -> tuple[bool, str | None]:
    """Drive a server cell; returns (hung, verdict implied by what the client saw)."""
    report, implied = drive(proc, serve, port, find, started + spec.timeout, starts)
    result.serving = report.to_dict()
    result.reason = report.outcome
    if implied == "hang":
        return True, None
    stop(proc, serve, report)
    report.alive_after_shutdown = [
        f"{pid} {cmdline(pid)}".strip() for pid in find() if pid != proc.pid and is_alive(pid)
    ]
    if proc.poll() is None:
        kill_all(find, spare=proc.pid)
        proc.wait()
    result.serving = report.to_dict()
    return False, implied or "pass"


def _serving_signatures(serving: Mapping[str, Any] | None) -> list[str]:
    if not serving:
        return []
    found = []
    if serving["worker_restarts"] and not serving["ready"]:
        found.append(WORKERS_RESTARTING)
    asked = serving["workers_requested"]
    if serving["ready"] and asked > 1 and serving["workers_seen"] < asked:
        found.append(WORKERS_MISSING)
    if serving["stop_signal"] == "SIGKILL":
        found.append(SHUTDOWN_IGNORED)
    return found


def _judge(result: CellResult, returncode: int, implied: str | None) -> None:
    """Verdict from the exit status, or from what a server's client saw (``implied``)."""
    if result.verdict is Verdict.HANG:
        return  # the exit status is the one the runner's kill caused
    result.exit_code = returncode
    if returncode < 0:
        result.signal = _signal_name(-returncode)
    if implied is not None:
        result.verdict = Verdict(implied)
    else:
        result.verdict = Verdict.PASS if returncode == 0 else Verdict.CRASH


def _signal_name(num: int) -> str:
    try:
        return signal.Signals(num).name
    except ValueError:
        return f"signal {num}"


def _wait(proc: subprocess.Popen[bytes], timeout: float) -> bool:
    """Wait for the main process; True when it exited. A pidfd wakes us the moment it exits,
    where Popen.wait(timeout) would poll with growing sleeps."""
    pidfd_open = getattr(os, "pidfd_open", None)
    fd = None
    if pidfd_open is not None:
        try:
            fd = pidfd_open(proc.pid)
        except OSError:
            fd = None
    if fd is None:
        try:
            proc.wait(timeout)
            return True
        except subprocess.TimeoutExpired:
            return False
    try:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        if not poller.poll(max(0, int(timeout * 1000))):
            return False
        proc.wait()
        return True
    finally:
        os.close(fd)


def _wait_limited(
    proc: subprocess.Popen[bytes], spec: CellSpec, find: Callable[[], list[int]], result: CellResult
) -> bool:
    """Wait like ``_wait``, counting the cell's live processes every 20 ms; above
    ``max_processes`` the tree is killed (a fork bomb; RLIMIT_NPROC does not bind root)."""
    assert spec.max_processes is not None
    deadline = time.monotonic() + spec.timeout
    while time.monotonic() < deadline:
        if _wait(proc, min(0.02, max(0.0, deadline - time.monotonic()))):
            return True
        alive = [p for p in find() if is_alive(p)]
        if len(alive) > spec.max_processes:
            result.reason = f"{len(alive)} processes, over the limit of {spec.max_processes}"
            result.signatures.append(PROCESS_LIMIT)
            kill_all(find, spare=proc.pid)
            proc.wait()
            return True
    return False


def _stragglers(find: Callable[[], list[int]]) -> list[str]:
    """Processes of the cell still alive once the grace period is over, then killed."""
    deadline = time.monotonic() + EXIT_GRACE_S
    while True:
        found = find()
        reap_zombies(found)
        alive = [p for p in found if is_alive(p)]
        if not alive:
            return []
        if time.monotonic() >= deadline:
            leaked = [f"{pid} {cmdline(pid)}".strip() for pid in alive]
            kill_all(find)
            return leaked
        time.sleep(0.005)


def _count_lines(path: Path) -> dict[str, int]:
    try:
        lines = path.read_text().split()
    except OSError:
        return {}
    return {m: lines.count(m) for m in dict.fromkeys(lines)}


def _tail(path: Path) -> str:
    size = path.stat().st_size
    with open(path, "rb") as fh:
        if size > TAIL_BYTES:
            fh.seek(size - TAIL_BYTES)
        data = fh.read()
    if size > TAIL_BYTES:
        data = data[data.find(b"\n") + 1 :]  # start on a whole line
        return f"[... {size - len(data)} bytes before this ...]\n" + data.decode(errors="replace")
    return data.decode("utf-8", errors="replace")
