"""A server cell from its drive to its stop, the way an orchestrator stops a pod: each stop
signal in turn with its grace period, then SIGKILL; a server that outlives its first signal's
grace period is a hang whose stacks are taken before it is killed."""

from __future__ import annotations

import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..model.catalog import (
    PORT_TAKEN,
    SERVING_AFTER_STOP,
    SHUTDOWN_TIMEOUT,
    UNCLEAN_SHUTDOWN,
    WORKERS_MISSING,
    WORKERS_RESTARTING,
)
from ..model.cell import CellResult, ServingRecord
from ..scenario.serve import ServeSpec
from ._proctree import cmdline, is_alive, send
from ._stacks import collect_stacks, find_pyspy
from .activity import mark
from .judge import Drive, Facts, Stop, record_exit
from .request import CellSpec
from .serve import (
    CRASH_LOOP,
    ServedProcess,
    drive,
    explained_exit,
    port_taken,
    still_serving,
)

__all__ = ["check_still_serving", "serve_cell", "serving_signatures"]

_KILL = int(getattr(signal, "SIGKILL", signal.SIGTERM))


@dataclass
class _Stopping:
    """One server cell being stopped: what every step of its stop reads and records."""

    cell: ServedProcess
    spec: CellSpec
    serve: ServeSpec
    record: ServingRecord
    result: CellResult
    err_path: Path

    def stacks_now(self) -> None:
        """The stacks of the stuck state, with py-spy, which changes nothing (faulthandler's
        dump would kill each process, so with it they wait for the kill)."""
        if not self.result.stacks and self.spec.stacks != "faulthandler" and find_pyspy():
            self.result.stacks = collect_stacks(self.cell.pids, self.err_path, self.spec.stacks)


def serve_cell(
    cell: ServedProcess,
    spec: CellSpec,
    serve: ServeSpec,
    ports: list[int],
    result: CellResult,
    err_path: Path,
    facts: Facts,
) -> bool:
    """Drive a server cell and stop it, handing what it saw to ``facts``; True when it hung
    and exited before it could be stopped (the caller takes its stacks and kills the rest)."""
    record, facts.drive = drive(cell, serve, ports, cell.started + spec.timeout)
    result.serving, result.reason = record, record.outcome
    stopping = _Stopping(cell, spec, serve, record, result, err_path)
    if facts.drive is Drive.PORT_TAKEN:
        _port_taken(stopping, facts)
        return False
    if facts.drive is Drive.HUNG:
        if cell.exited() is not None:
            return True
        _stop_hung(stopping, facts)
        return False
    status = cell.exited()
    if status is None:
        facts.stop = _stop(stopping)
        status = facts.stop.status
    elif status != 0 and facts.drive is None:
        facts.drive = Drive.CRASHED
        result.reason = f"{record.outcome}; then exited with code {status} before it was stopped"
        if port_taken(cell, record, ports, result.reason):
            facts.drive = Drive.PORT_TAKEN
            _port_taken(stopping, facts)
            return False
    facts.status = status
    record_exit(result, status)
    return False


def _port_taken(stopping: _Stopping, facts: Facts) -> None:
    """Another process took the server's port: no verdict on the program (the runner runs
    the cell again on fresh ports). The server is killed at once; it has nothing to show."""
    stopping.cell.kill()
    result = stopping.result
    result.reason = stopping.record.outcome
    result.signatures.append(PORT_TAKEN)
    facts.status = stopping.cell.exited()
    if facts.status is not None:
        record_exit(result, facts.status)


def _stop_hung(stopping: _Stopping, facts: Facts) -> None:
    """A server whose requests or readiness hung is stopped like any other, as the platform
    would stop that pod: the stacks of the stuck state first, then the stop sequence,
    recorded. It stays a hang; the reason says what the stop did."""
    busy = stopping.cell.busy_or_stuck()  # before the stacks and the stop, which change it
    stopping.stacks_now()
    facts.stop = _stop(stopping)
    record = stopping.record
    if not facts.stop.outlived_grace:  # (else _stop said what its grace period saw)
        stopping.result.reason = (
            f"{record.outcome}; then {record.stopped_by} stopped it in "
            f"{record.shutdown_s:.1f} s (exit status {facts.stop.status})"
        )
    mark(stopping.result, busy)
    facts.status = facts.stop.status
    record_exit(stopping.result, facts.stop.status)


def _stop(stopping: _Stopping) -> Stop:
    """Stop the server as an orchestrator does: each stop signal in turn with the grace period
    after it, then SIGKILL. A server still running after its first signal's grace period is a
    hang (``shutdown-timeout``) whose stacks are taken before it is killed."""
    cell, serve, record, result = stopping.cell, stopping.serve, stopping.record, stopping.result
    began = time.monotonic()
    status: int | None = None
    for n, name in enumerate(serve.stop_signals):
        send([cell.leader], int(getattr(signal, name)))
        record.stop_signals_sent.append(name)
        status = cell.wait(serve.stop_timeout)
        if status is not None:
            record.stopped_by = name
            break
        if n == 0 and n == len(serve.stop_signals) - 1 and not result.stacks:
            # No later signal to wait for: faulthandler's dump may kill it now.
            result.stacks = collect_stacks(cell.pids, stopping.err_path, stopping.spec.stacks)
        elif n == 0:
            stopping.stacks_now()
    if status is None:
        if not result.stacks:
            result.stacks = collect_stacks(cell.pids, stopping.err_path, stopping.spec.stacks)
        record.stop_signals_sent.append("SIGKILL")
        record.stopped_by = "SIGKILL"
        cell.kill()
        status = -_KILL  # (a faulthandler dump may have aborted it first: also the harness)
    record.shutdown_s = round(time.monotonic() - began, 3)
    record.exit_after_stop = status
    record.alive_after_shutdown = [
        f"{pid} {cmdline(pid)}".strip() for pid in cell.pids(exact=True) if is_alive(pid)
    ]
    _say_stop(stopping, status)
    return Stop(status, outlived_grace=bool(record.stop_signals_sent[1:]))


def _say_stop(stopping: _Stopping, status: int) -> None:
    """The stop's signature and reason: it outlived its first signal, or its exit status after
    the stop is one the signal does not explain."""
    record, result, serve = stopping.record, stopping.result, stopping.serve
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


def check_still_serving(result: CellResult, serve: ServeSpec, ports: Sequence[int]) -> None:
    """Whether a stopped server's leftovers still take its ports (asked before they are
    killed); recorded with its own error-level signature, for it is a platform's worst case."""
    if result.serving is None:
        return
    taken = still_serving(ports, serve.ready)
    result.serving.serving_after_stop = taken
    if taken:
        result.signatures.append(SERVING_AFTER_STOP)
        result.reason = f"{result.reason}; after its main process exited, {'; '.join(taken)}"


def serving_signatures(serving: ServingRecord | None) -> list[str]:
    if serving is None:
        return []
    found = []
    if not serving.ready and CRASH_LOOP in serving.outcome:
        found.append(WORKERS_RESTARTING)
    asked = serving.workers_requested
    if serving.ready and asked > 1 and serving.workers_seen < asked:
        found.append(WORKERS_MISSING)
    return found
