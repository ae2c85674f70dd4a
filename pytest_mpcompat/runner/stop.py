"""A server cell from its drive to its stop, the way an orchestrator stops a pod: each stop
signal in turn with its grace period, then SIGKILL; a server that outlives its first signal's
grace period is a hang whose stacks are taken before it is killed."""

from __future__ import annotations

import signal
import time
from collections.abc import Sequence
from pathlib import Path

from ..model.catalog import (
    PORT_TAKEN,
    SERVING_AFTER_STOP,
    SHUTDOWN_TIMEOUT,
    UNCLEAN_SHUTDOWN,
    WORKERS_MISSING,
    WORKERS_RESTARTING,
)
from ..model.cell import CellResult, ServingRecord, Verdict
from ..scenario.serve import ServeSpec
from ._proctree import cmdline, is_alive, send
from ._stacks import collect_stacks, find_pyspy
from .activity import mark
from .judge import record_exit
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


def serve_cell(
    cell: ServedProcess,
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
    if implied == PORT_TAKEN:
        return _port_taken(cell, result, record)
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
        if port_taken(cell, record, ports, result.reason):
            return _port_taken(cell, result, record)
    record_exit(result, status)
    result.verdict = Verdict(implied or "pass")
    return False


def _port_taken(cell: ServedProcess, result: CellResult, record: ServingRecord) -> bool:
    """Another process took the server's port: no verdict on the program (the runner runs
    the cell again on fresh ports). The server is killed at once; it has nothing to show."""
    cell.kill()
    result.verdict, result.reason = Verdict.ERROR, record.outcome
    result.signatures.append(PORT_TAKEN)
    status = cell.exited()
    if status is not None:
        record_exit(result, status)
    return False


def _stop_hung(
    cell: ServedProcess,
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
    busy = cell.busy_or_stuck()  # before the stacks and the stop, which change it
    if spec.stacks != "faulthandler" and find_pyspy():
        result.stacks = collect_stacks(cell.pids, err_path, spec.stacks)
    status, timed_out = _stop(cell, spec, serve, record, result, err_path)
    if not timed_out:  # (else _stop said what its grace period saw)
        result.reason = (
            f"{record.outcome}; then {record.stopped_by} stopped it in "
            f"{record.shutdown_s:.1f} s (exit status {status})"
        )
    mark(result, busy)
    record_exit(result, status)
    result.verdict = Verdict.HANG


def _stop(
    cell: ServedProcess,
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
