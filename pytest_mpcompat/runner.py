"""Run one cell: a scenario in a fresh interpreter under one default start method.

The cell's interpreter is ``sys.executable`` (never a shell or a version-manager shim), started
by a per-cell supervisor (``_child/supervisor.py``) in a new session with stdin closed; its
output goes to files, never to a pipe that could fill and block it. The supervisor adopts the
cell's orphans and kills what is left if this process dies; the runner bounds the cell with its
timeout, takes the stacks of a hung tree, stops a server as an orchestrator would, and leaves no
process of the cell alive: stragglers after the main process exits are reported as leaked.
"""

from __future__ import annotations

import dataclasses
import marshal
import os
import queue
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
from typing import IO, Any

from ._child import bootstrap, supervisor
from ._proctree import (
    ADOPTS_ORPHANS,
    birth,
    cmdline,
    descendants,
    in_session,
    is_alive,
    kill_all,
    living,
    send,
)
from ._stacks import collect_stacks, find_pyspy
from .model import DEFAULT_EXIT_GRACE_S, CellResult, ServingRecord, Verdict
from .redact import Redactor
from .serving import (
    CRASH_LOOP,
    ServedProcess,
    ServeSpec,
    drive,
    explained_exit,
    free_ports,
    ports_needed,
    still_serving,
)
from .signatures import (
    LEAKED_PROCESSES,
    PROCESS_LIMIT,
    SERVING_AFTER_STOP,
    SHUTDOWN_TIMEOUT,
    UNCLEAN_SHUTDOWN,
    WORKERS_MISSING,
    WORKERS_RESTARTING,
    Signature,
    match_files,
)

__all__ = ["TAIL_BYTES", "CellSpec", "cell_environment", "run_cell"]

#: How much of the end of stdout and of stderr a result keeps.
TAIL_BYTES = 8192

_BOOTSTRAP = str(Path(bootstrap.__file__).resolve())
_SUPERVISOR = str(Path(supervisor.__file__).resolve())
_SUPERVISOR_START_S = 30.0
_DROPPED_ENV = ("PYTEST_CURRENT_TEST",)
_DROPPED_ENV_PREFIXES = ("PYTEST_XDIST_",)
_KILL = int(getattr(signal, "SIGKILL", signal.SIGTERM))
_FOLLOW_S = 0.05  # how often a waiting cell's tree is read where orphans are not adopted


@dataclass(frozen=True)
class CellSpec:
    script: Path
    method: str
    timeout: float
    env: Mapping[str, str] = field(default_factory=dict)  # placeholders in values are filled
    args: Sequence[str] = ()
    cwd: Path | None = None  # None: an empty folder of the cell's own, removed after it
    stacks: str = "auto"  # how to take the stacks of a hang (see _stacks.collect_stacks)
    serve: ServeSpec | None = None  # drive the script as a server (see serving.py)
    #: Run this argv instead of the script (placeholders filled). The start method is then only
    #: exported in MPCOMPAT_START_METHOD, for programs that read it into a library's setting.
    command: Sequence[str] | None = None
    memory_limit_mb: int | None = None  # RLIMIT_AS, set by the bootstrap before the script runs
    max_processes: int | None = None  # the runner kills the cell when it has more live processes
    exit_grace: float = DEFAULT_EXIT_GRACE_S  # see DEFAULT_EXIT_GRACE_S


def _ports(spec: CellSpec) -> list[int]:
    """Free ports for the ``{port}``, ``{port2}``, ... placeholders (at least one to serve)."""
    texts = [*spec.args, *spec.env.values(), *(spec.command or ())]
    return free_ports(max(ports_needed(texts), 1 if spec.serve is not None else 0))


def _placeholders(spec: CellSpec, ports: Sequence[int]) -> dict[str, str]:
    values = {"{method}": spec.method}
    for i, port in enumerate(ports, start=1):
        values["{port}" if i == 1 else f"{{port{i}}}"] = str(port)
    if spec.serve is not None:
        values["{workers}"] = str(spec.serve.workers)
    return values


def _fill(text: str, values: Mapping[str, str]) -> str:
    for key, value in values.items():
        text = text.replace(key, value)
    return text


def cell_environment(
    spec: CellSpec, methods_log: Path | None = None, ports: Sequence[int] = ()
) -> dict[str, str]:
    """The cell's environment: ours without pytest's per-test variables, plus the scenario's."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in _DROPPED_ENV and not k.startswith(_DROPPED_ENV_PREFIXES)
    }
    values = _placeholders(spec, ports)
    env.update({k: _fill(v, values) for k, v in spec.env.items()})
    env["MPCOMPAT_START_METHOD"] = spec.method
    for i, port in enumerate(ports, start=1):
        env["MPCOMPAT_PORT" if i == 1 else f"MPCOMPAT_PORT{i}"] = str(port)
    if spec.serve is not None:
        env["MPCOMPAT_WORKERS"] = str(spec.serve.workers)
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


class _Cell(ServedProcess):
    """A running cell as the supervisor reports it: its main process and its exit status."""

    def __init__(self, argv: list[str], spec: CellSpec, work: Path, ports: Sequence[int]) -> None:
        self.methods_log = work / "methods"
        scratch = work / "cwd"
        if spec.cwd is None:
            scratch.mkdir()
        config = {"argv": argv, "cwd": str(spec.cwd or scratch), "out": str(work / "stdout"),
                  "err": str(work / "stderr")}  # fmt: skip
        with open(work / "supervisor", "wb") as errors:
            self.supervisor = subprocess.Popen(
                [sys.executable, "-I", "-S", _SUPERVISOR, marshal.dumps(config).hex()],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                env=cell_environment(spec, self.methods_log, ports),
                start_new_session=True,
            )
        self._events: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._status: int | None = None
        self.lost = False  # the supervisor ended before it reported the exit status
        threading.Thread(target=self._read, args=(self.supervisor.stdout,), daemon=True).start()
        first = self._next(_SUPERVISOR_START_S)
        if first is None or "leader" not in first:
            self.close()
            why = (first or {}).get("error") or (work / "supervisor").read_text()[-2000:]
            raise OSError(why or "the cell's supervisor did not start")
        self.leader = int(first["leader"])
        self.started = time.monotonic()
        # Without a subreaper an orphan leaves the supervisor's tree: every process once seen
        # in it is kept (with what tells it from a later process of the same pid).
        self._seen: dict[int, object] = {}

    def _read(self, stream: IO[bytes]) -> None:
        for line in stream:  # "leader PID", "exit STATUS" or "error MESSAGE"
            kind, _, value = line.decode(errors="replace").strip().partition(" ")
            self._events.put({kind: value})
        stream.close()
        # EOF: the supervisor is exiting (or died). Reap it here, so that close() need not wait.
        try:
            self.supervisor.wait(10)
        except subprocess.TimeoutExpired:
            self.supervisor.kill()
            self.supervisor.wait()
        self._events.put(None)

    def _next(self, timeout: float | None) -> dict[str, Any] | None:
        try:
            return self._events.get(timeout=timeout)
        except queue.Empty:
            return None

    def wait(self, timeout: float) -> int | None:
        """The main process's exit status, waiting up to ``timeout`` seconds for it."""
        end = time.monotonic() + max(0.0, timeout)
        while self._status is None:
            if self.lost:
                break
            left = max(0.0, end - time.monotonic())
            if not ADOPTS_ORPHANS:
                self.pids()  # follow the tree while it lives: its orphans are not adopted
                left = min(left, _FOLLOW_S)
            event = self._next(left)
            if event is None and not ADOPTS_ORPHANS and time.monotonic() < end:
                continue
            if event is None:
                self.lost = self.lost or self.supervisor.poll() is not None
                break
            if "exit" in event:
                self._status = int(event["exit"])
        return self._status

    def exited(self) -> int | None:
        return self.wait(0)

    def pids(self, exact: bool = False) -> list[int]:
        found = descendants(self.supervisor.pid, exact)
        if ADOPTS_ORPHANS:
            return found
        here = set(found)
        found += [p for p in in_session(self.leader) if p not in here]  # orphans that stayed
        for pid in found:
            if pid not in self._seen:
                self._seen[pid] = birth(pid)
        here = set(found)
        gone = living(p for p in self._seen if p not in here)  # seen, then left the tree
        orphans = [p for p in gone if self._seen[p] is True or birth(p) == self._seen[p]]
        return found + orphans

    def starts(self) -> int:
        return sum(_count_lines(self.methods_log).values())

    def kill(self) -> None:
        kill_all(self.pids)
        if self.exited() is None and is_alive(self.leader):  # no process table here
            send([self.leader], _KILL)
        self.wait(5.0)

    def close(self) -> None:
        """End the supervisor: at EOF on its stdin it kills anything still below it and exits;
        the reader thread reaps it (closing its stdout here would wait for that)."""
        if self.supervisor.stdin is not None:
            self.supervisor.stdin.close()


def _run_cell(spec: CellSpec, catalog: Sequence[Signature]) -> CellResult:
    work = Path(tempfile.mkdtemp(prefix="mpcompat-cell-"))
    out_path, err_path = work / "stdout", work / "stderr"
    result = CellResult(scenario=str(spec.script), method=spec.method, verdict=Verdict.ERROR)
    try:
        out_path.touch()
        err_path.touch()
        ports = _ports(spec)
        values = _placeholders(spec, ports)
        if spec.command:
            argv = [_fill(a, values) for a in spec.command]
        else:
            args = [_fill(a, values) for a in spec.args]
            argv = [sys.executable, _BOOTSTRAP, spec.method, str(spec.script), *args]
        try:
            cell = _Cell(argv, spec, work, ports)
        except OSError as exc:
            result.reason = str(exc)
            return result
        try:
            if spec.serve is not None:
                hung = _serve(cell, spec, spec.serve, ports, result, err_path)
            elif spec.max_processes:
                hung = not _wait_limited(cell, spec, result)
            else:
                hung = cell.wait(spec.timeout) is None
            result.duration_s = round(time.monotonic() - cell.started, 4)
            if cell.lost and cell.exited() is None:
                send([cell.leader], _KILL)  # its other processes went to init: out of reach
                result.verdict = Verdict.ERROR
                result.reason = (
                    f"the cell's supervisor died (status {cell.supervisor.returncode}) before "
                    "its main process exited: something outside the cell killed it"
                )
                return result
            if hung:
                result.verdict = Verdict.HANG
                result.reason = result.reason or f"still running after {spec.timeout:g} s"
                result.stacks = result.stacks or collect_stacks(cell.pids, err_path, spec.stacks)
                cell.kill()
            else:
                serve = spec.serve
                probe = (lambda: _still_serving(result, serve, ports)) if serve else None
                result.leaked = _stragglers(cell.pids, spec.exit_grace, probe)
                if spec.serve is None:
                    _judge(result, cell.exited())
        finally:
            cell.kill()
            cell.close()
        found = match_files([out_path, err_path], catalog)
        result.signatures = list(dict.fromkeys([*result.signatures, *found]))
        result.signatures += _serving_signatures(result.serving)
        if result.leaked:
            result.signatures.append(LEAKED_PROCESSES)
        result.methods_used = _count_lines(cell.methods_log)
        _redact(result, Redactor(cell_environment(spec)), found, out_path, err_path)
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _redact(
    result: CellResult, redact: Redactor, found: Mapping[str, str], out: Path, err: Path
) -> None:
    """Fill in the result's texts, each with secrets taken out."""
    result.stdout_tail = redact(_tail(out))
    result.stderr_tail = redact(_tail(err))
    result.matches = {sid: redact(line) for sid, line in found.items()}
    result.reason = redact(result.reason)
    result.leaked = [redact(line) for line in result.leaked]
    for i, st in enumerate(result.stacks):
        result.stacks[i] = dataclasses.replace(
            st, cmdline=redact(st.cmdline), stack=redact(st.stack)
        )
    if result.serving is not None:
        result.serving.failures = [redact(f) for f in result.serving.failures]
        result.serving.alive_after_shutdown = [
            redact(a) for a in result.serving.alive_after_shutdown
        ]


def _serve(
    cell: _Cell,
    spec: CellSpec,
    serve: ServeSpec,
    ports: list[int],
    result: CellResult,
    err_path: Path,
) -> bool:
    """Drive a server cell and stop it; True when it hung before it was stopped (the caller
    takes its stacks and kills it). Sets the verdict otherwise."""
    record, implied = drive(cell, serve, ports, cell.started + spec.timeout)
    result.serving, result.reason = record, record.outcome
    if implied == "hang" and cell.exited() is None:
        _stop_hung(cell, spec, serve, record, result, err_path)
        return False
    if implied == "hang":
        return True
    status = cell.exited()
    if status is None:
        status, timed_out = _stop(cell, spec, serve, record, result, err_path)
        if timed_out and implied is None:
            implied = "hang"  # served, then would not stop: what an orchestrator sees
    elif status != 0 and implied is None:
        implied = "crash"
        result.reason = f"{record.outcome}; then exited with code {status} before it was stopped"
    result.exit_code = status
    result.signal = _signal_name(-status) if status < 0 else None
    result.verdict = Verdict(implied or "pass")
    return False


def _stop_hung(
    cell: _Cell,
    spec: CellSpec,
    serve: ServeSpec,
    record: ServingRecord,
    result: CellResult,
    err_path: Path,
) -> None:
    """A server whose requests or readiness hung is stopped like any other, as the platform
    would stop that pod: the stacks of the stuck state first (with py-spy, which changes
    nothing; faulthandler's dump would kill it, so it waits for the kill), then the stop
    sequence, recorded. The verdict stays a hang; the reason says what the stop did."""
    if spec.stacks != "faulthandler" and find_pyspy():
        result.stacks = collect_stacks(cell.pids, err_path, spec.stacks)
    status, timed_out = _stop(cell, spec, serve, record, result, err_path)
    if not timed_out:  # (else _stop said what its grace period saw)
        result.reason = (
            f"{record.outcome}; then {record.stopped_by} stopped it in "
            f"{record.shutdown_s:.1f} s (exit status {status})"
        )
    result.exit_code = status
    result.signal = _signal_name(-status) if status < 0 else None
    result.verdict = Verdict.HANG


def _stop(
    cell: _Cell,
    spec: CellSpec,
    serve: ServeSpec,
    record: ServingRecord,
    result: CellResult,
    err_path: Path,
) -> tuple[int, bool]:
    """Stop the server as an orchestrator does: each stop signal in turn with the grace period
    after it, then SIGKILL. A server still running after its first signal's grace period is a
    hang (``shutdown-timeout``) whose stacks are taken before it is killed. Returns the exit
    status and whether the first signal's grace period ran out."""
    began = time.monotonic()
    status: int | None = None
    for n, name in enumerate(serve.stop_signals):
        send([cell.leader], int(getattr(signal, name)))
        record.stop_signals_sent.append(name)
        status = cell.wait(serve.stop_timeout)
        if status is not None:
            record.stopped_by = name
            break
        last = n == len(serve.stop_signals) - 1
        if (
            n == 0
            and not result.stacks
            and (last or (spec.stacks != "faulthandler" and find_pyspy()))
        ):
            # faulthandler's dump kills each process, so with later signals still to send it
            # waits for the kill; py-spy reads the stuck state without changing it.
            result.stacks = collect_stacks(cell.pids, err_path, spec.stacks)
    if status is None:
        if not result.stacks:
            result.stacks = collect_stacks(cell.pids, err_path, spec.stacks)
        record.stop_signals_sent.append("SIGKILL")
        record.stopped_by = "SIGKILL"
        cell.kill()
        status = -_KILL  # (a faulthandler dump may have aborted it first: also the harness)
    record.shutdown_s = round(time.monotonic() - began, 3)
    record.exit_after_stop = status
    record.alive_after_shutdown = [
        f"{pid} {cmdline(pid)}".strip() for pid in cell.pids(exact=True) if is_alive(pid)
    ]
    first = serve.stop_signals[0]
    if record.stop_signals_sent[1:]:
        then = (
            f"{record.stopped_by} stopped it"
            if record.stopped_by != "SIGKILL"
            else "the harness killed it with SIGKILL"
        )
        result.signatures.append(SHUTDOWN_TIMEOUT)
        result.reason = (
            f"{record.outcome}; did not exit within {serve.stop_timeout:g} s of {first} "
            f"({then} after {record.shutdown_s:.1f} s)"
        )
    elif not explained_exit(status, record.stop_signals_sent):
        result.signatures.append(UNCLEAN_SHUTDOWN)
        result.reason = f"{record.outcome}; exited with status {status} after {first}"
    return status, bool(record.stop_signals_sent[1:])


def _still_serving(result: CellResult, serve: ServeSpec, ports: Sequence[int]) -> None:
    """Whether a stopped server's leftovers still take its ports (asked before they are
    killed); recorded with its own error-level signature, for it is a platform's worst case."""
    if result.serving is None:
        return
    taken = still_serving(ports, serve.ready)
    result.serving.serving_after_stop = taken
    if taken:
        result.signatures.append(SERVING_AFTER_STOP)
        result.reason = f"{result.reason}; after its main process exited, {'; '.join(taken)}"


def _serving_signatures(serving: ServingRecord | None) -> list[str]:
    if serving is None:
        return []
    found = []
    if not serving.ready and CRASH_LOOP in serving.outcome:
        found.append(WORKERS_RESTARTING)
    asked = serving.workers_requested
    if serving.ready and asked > 1 and serving.workers_seen < asked:
        found.append(WORKERS_MISSING)
    return found


def _judge(result: CellResult, status: int | None) -> None:
    """Verdict of a cell that is not a server, from its main process's exit status."""
    if status is None:  # cannot happen: the runner waited for the exit
        result.reason = "the supervisor lost the exit status of the main process"
        return
    result.exit_code = status
    if status < 0:
        result.signal = _signal_name(-status)
    result.verdict = Verdict.PASS if status == 0 else Verdict.CRASH


def _signal_name(num: int) -> str:
    try:
        return signal.Signals(num).name
    except ValueError:
        return f"signal {num}"


def _wait_limited(cell: _Cell, spec: CellSpec, result: CellResult) -> bool:
    """Wait like ``cell.wait``, counting the cell's live processes every 20 ms; above
    ``max_processes`` the tree is killed (a fork bomb; RLIMIT_NPROC does not bind root)."""
    assert spec.max_processes is not None
    deadline = time.monotonic() + spec.timeout
    while time.monotonic() < deadline:
        if cell.wait(min(0.02, max(0.0, deadline - time.monotonic()))) is not None:
            return True
        alive = living(cell.pids())
        if len(alive) > spec.max_processes:
            result.reason = f"{len(alive)} processes, over the limit of {spec.max_processes}"
            result.signatures.append(PROCESS_LIMIT)
            cell.kill()
            return True
    return False


def _stragglers(
    find: Callable[[bool], list[int]], grace: float, before_kill: Callable[[], None] | None = None
) -> list[str]:
    """Processes of the cell still alive once the grace period is over, then killed
    (``before_kill`` looks at what they still do first).

    ``find(exact)`` lists the cell's processes; "none left" is confirmed with an exact reading,
    since the quick one can miss a live process while its siblings exit."""
    deadline = time.monotonic() + grace
    while True:
        alive = living(find(False))
        if not alive:
            alive = living(find(True))
        if not alive:
            return []
        if time.monotonic() >= deadline:
            leaked = [f"{pid} {cmdline(pid)}".strip() for pid in alive]
            if before_kill is not None:
                before_kill()
            kill_all(lambda: find(True))
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
