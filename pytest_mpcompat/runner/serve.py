"""Drive a real multi-worker server the way a client and an orchestrator would.

The server (a scenario script or a command) gets free ports on 127.0.0.1 and a worker count
through ``{port}``, ``{port2}``, ... and ``{workers}`` in its args, env or command (and
``MPCOMPAT_PORT``, ``MPCOMPAT_PORT2``, ..., ``MPCOMPAT_WORKERS``). The driver waits for
readiness, sends real HTTP requests and checks the answers. The runner then stops the server the
way Kubernetes does: the first stop signal (SIGTERM), a grace period, then SIGKILL.

What it saw decides the cell's verdict:

- ``pass``: ready, every answer right, and it exited within the grace period of its first stop
  signal (a non-zero exit that the signal does not explain adds ``unclean-shutdown``);
- ``hang``: requests timed out, it never became ready while its workers stayed up (slow or
  stuck), or it did not exit on its first stop signal (``shutdown-timeout``);
- ``crash``: it exited before it was ready or before it was stopped with a non-zero status,
  answered wrongly, or its workers kept dying and being replaced (``workers-restarting``: decided
  from the restart count as soon as it shows a crash loop, not at the ready timeout);
- no verdict (``port-taken``): another process listens on its port and it does not, so what
  answered was not the server; the runner runs the cell again on fresh ports.
"""

from __future__ import annotations

import json
import signal
import socket
import time
from collections.abc import Iterable, Sequence
from typing import Any

from ..model.cell import ServingRecord
from ..scenario.serve import RequestSpec, ServeSpec
from ._proctree import cmdline, proc_info
from .judge import Drive
from .ports import taken_elsewhere

__all__ = [
    "CRASH_LOOP",
    "ServedProcess",
    "drive",
    "explained_exit",
    "port_taken",
    "still_serving",
]

_POLL_S = 0.05
WORKER_GRACE_S = 5.0  # how long a short worker count is watched before workers-missing
_PROBE_S = 0.5  # a socket that accepts but nobody serves makes each probe wait this long
#: The command lines of multiprocessing's helpers (see ``is_helper``).
_TRACKERS = ("multiprocessing.resource_tracker", "loky.backend.resource_tracker")
_FORKSERVER = "multiprocessing.forkserver"
#: In the outcome of a server that never got ready because its workers kept being replaced; a
#: server whose main process exits by itself (and takes its workers with it) is not that.
CRASH_LOOP = "workers keep dying"


class ServedProcess:
    """What the driver needs of the running server (the runner's view of the cell)."""

    leader: int  # the server's main process
    started: float  # time.monotonic() when it started

    def exited(self) -> int | None:
        """The main process's exit status once it has exited, else None."""
        raise NotImplementedError

    def pids(self, exact: bool = False) -> list[int]:
        """Every live-or-zombie process of the cell, the main process included (``exact``: read
        in a way that cannot miss one, at the cost of a pass over the process table)."""
        raise NotImplementedError

    def starts(self) -> int:
        """Processes the server has started through multiprocessing so far."""
        raise NotImplementedError

    def wait(self, timeout: float) -> int | None:
        """The main process's exit status, waiting up to ``timeout`` seconds for it."""
        raise NotImplementedError

    def kill(self) -> None:
        """Kill every process of the cell."""
        raise NotImplementedError

    def busy_or_stuck(self) -> tuple[str, str] | None:
        """For a cell whose time ran out now: whether its processes were still using CPU in
        their last seconds (``runner/activity.py``), as (signature, words); None: unknown."""
        return None


def still_serving(ports: Sequence[int], ready: str) -> list[str]:
    """Which of ``ports`` something still listens on, and whether it answers HTTP."""
    taken = []
    for port in ports:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=_PROBE_S).close()
        except OSError:
            continue
        try:
            code, _ = _request(port, RequestSpec(path=ready), timeout=1.0)
            taken.append(f"127.0.0.1:{port} still answers (HTTP {code})")
        except OSError:
            taken.append(f"127.0.0.1:{port} still accepts connections")
    return taken


def explained_exit(status: int, signals_sent: Iterable[str]) -> bool:
    """True when an exit status after a stop is clean: 0, or death by a signal that was sent
    (also as a shell reports it, 128 + the signal's number)."""
    if status == 0:
        return True
    for name in signals_sent:
        num = int(getattr(signal, name, 0))
        if num and status in (-num, 128 + num):
            return True
    return False


def _sample(served: ServedProcess, exact: bool = False) -> tuple[set[int], set[int]]:
    """The server's live workers, and every live process of it (the main one and helpers too).

    A worker is a process of the user's program other than its main process that is not one of
    multiprocessing's own helpers, wherever it stands in the tree: spawned or forked, by the
    main process, by another worker or by the forkserver, holding the listening socket or not
    (a main process that serves HTTP and hands requests to a spawned pool has that pool as its
    workers). The helpers are the resource trackers and the forkserver itself; the processes
    the forkserver forks carry its command line and are workers. A helper caught between its
    fork and its exec still has its parent's command line and reads as a worker for a moment
    (``_Churn`` keeps a process seen once as a helper a helper).
    """
    workers, alive = set(), set()
    for pid in served.pids(exact):
        info = proc_info(pid)
        if info is None or not info.alive:
            continue
        alive.add(pid)
        if pid != served.leader and not is_helper(cmdline(pid), cmdline(info.ppid)):
            workers.add(pid)
    return workers, alive


def is_helper(command: str, parent_command: str) -> bool:
    """True for one of multiprocessing's helpers, by its command line and its parent's: a
    resource tracker (multiprocessing's or loky's), or the forkserver (not what it forks)."""
    if any(t in command for t in _TRACKERS):
        return True
    return _FORKSERVER in command and _FORKSERVER not in parent_command


def _serving(served: ServedProcess) -> tuple[int, int]:
    """(workers, helpers) alive now, as ``_sample`` tells them apart."""
    workers, alive = _sample(served, exact=True)
    return len(workers), len(alive - workers - {served.leader})


def _workers_after_load(served: ServedProcess, asked: int, deadline: float) -> tuple[int, int]:
    """Workers (and helpers) alive after the load. While the count is short it is read again
    for up to ``WORKER_GRACE_S``: a worker still starting on a loaded machine is late, not
    missing; one that died or was never started stays missing."""
    end = min(deadline, time.monotonic() + WORKER_GRACE_S)
    seen, helpers = _serving(served)
    while seen < asked and time.monotonic() < end and served.exited() is None:
        time.sleep(_POLL_S)
        now, helpers_now = _serving(served)
        if now > seen:
            seen, helpers = now, helpers_now
    return seen, helpers


def _request(port: int, req: RequestSpec, timeout: float) -> tuple[int, str]:
    return _exchange(port, req, timeout)[:2]


def _exchange(port: int, req: RequestSpec, timeout: float) -> tuple[int, str, str | None]:
    """One request: the status, the body, and the ``pid_header`` the server answered with."""
    import http.client  # here: the plugin loads in every pytest run, servers are rare

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {}
        body: bytes | None = None
        if req.json is not None:
            body = json.dumps(req.json).encode()
            headers["Content-Type"] = "application/json"
        elif req.body is not None:
            body = req.body.encode()
        try:
            conn.request(req.method, req.path, body=body, headers=headers)
            resp = conn.getresponse()
            pid = resp.getheader(req.pid_header) if req.pid_header else None
            return resp.status, resp.read().decode("utf-8", errors="replace"), pid
        except http.client.HTTPException as exc:  # a bad status line, an incomplete body...
            raise ConnectionError(f"{type(exc).__name__}: {exc}") from exc
    finally:
        conn.close()


def _one(
    req: RequestSpec, port: int, spec: ServeSpec, deadline: float
) -> tuple[str, float, str | None, str]:
    """Send one request: (``ok``, ``error`` or ``timeout``, seconds, answering PID, failure)."""
    timeout = max(0.1, min(spec.request_timeout, deadline - time.monotonic()))
    began = time.monotonic()
    try:
        code, body, pid = _exchange(port, req, timeout)
    except TimeoutError:
        took = time.monotonic() - began
        return "timeout", took, None, f"{req.method} {req.path}: timed out after {timeout:.0f} s"
    except OSError as exc:
        took = time.monotonic() - began
        return "error", took, None, f"{req.method} {req.path}: {type(exc).__name__}: {exc}"
    took = time.monotonic() - began
    if code != req.status or (req.contains is not None and req.contains not in body):
        return "error", took, pid, f"{req.method} {req.path}: HTTP {code}, body {body[:200]!r}"
    return "ok", took, pid, ""


def _percentile(sorted_s: list[float], q: float) -> float:
    index = min(len(sorted_s) - 1, max(0, round(q * (len(sorted_s) - 1))))
    return round(sorted_s[index] * 1000, 1)


def _send_entry(
    record: ServingRecord, req: RequestSpec, ports: list[int], spec: ServeSpec, deadline: float
) -> dict[str, Any]:
    """Send one request entry ``count`` times, ``concurrency`` at once, each bounded by the
    request timeout and the cell's deadline; add to the record's totals and return the
    entry's own figures (answered, errors, timeouts, latency percentiles, who answered)."""
    port = ports[min(req.port, len(ports)) - 1]
    if req.concurrency == 1:
        results = [_one(req, port, spec, deadline) for _ in range(req.count)]
    else:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(req.concurrency, req.count)) as pool:
            results = list(pool.map(lambda _: _one(req, port, spec, deadline), range(req.count)))
    latencies = sorted(took for kind, took, _, _ in results if kind == "ok")
    answered_by: dict[str, int] = {}
    for _, _, pid, _ in results:
        if pid:
            answered_by[pid] = answered_by.get(pid, 0) + 1
    stats: dict[str, Any] = {
        "request": f"{req.method} {req.path}",
        "concurrency": req.concurrency,
        "sent": len(results),
        "answered": sum(1 for r in results if r[0] == "ok"),
        "errors": sum(1 for r in results if r[0] == "error"),
        "timeouts": sum(1 for r in results if r[0] == "timeout"),
        "latency_ms": {
            name: _percentile(latencies, q)
            for name, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("max", 1.0))
        }
        if latencies
        else {},  # fmt: skip
        "answered_by": answered_by,
    }
    record.requests_sent += stats["sent"]
    record.requests_ok += stats["answered"]
    record.requests_timed_out += stats["timeouts"]
    record.failures += [failure for kind, _, _, failure in results if kind != "ok"]
    return stats


class _Churn:
    """Worker deaths and replacements, read again at each look at the server until its stop."""

    def __init__(self, served: ServedProcess, asked: int, record: ServingRecord) -> None:
        self.served, self.asked, self.record = served, asked, record
        self.ever: set[int] = set()
        self.before_death: set[int] | None = None  # the workers seen at the first death
        self.helpers: set[int] = set()  # processes seen as helpers (never workers after)

    def update(self) -> int:
        """Read the tree once; the deaths so far."""
        served, record = self.served, self.record
        starts = served.starts()  # before the sample: every process logged exists by then
        current, alive = _sample(served)
        # A helper stays one: the resource tracker, exiting after the main process, has no
        # command line left for a moment and would otherwise read as a new worker.
        self.helpers |= alive - current - {served.leader}
        current -= self.helpers
        self.ever |= current
        # Workers that died: those seen alive and gone, or those started and not alive now
        # (a worker that dies within milliseconds is rarely seen, but always logged). One seen
        # as a worker that is still alive became a helper at exec: it did not die; nor did a
        # forked helper that is still alive (every fork is logged, workers or not).
        others = alive - {served.leader}
        gone = self.ever - alive - self.helpers  # (a helper that exits is no dead worker)
        deaths = max(len(gone), starts - len(others), 0, record.worker_deaths)
        if deaths and self.before_death is None:
            self.before_death = set(self.ever)
        if self.before_death is not None:
            # Replaced: processes started beyond the workers asked for and the helpers alive
            # (a replacement is often forked within a millisecond of the death, before any
            # sample), or workers first seen after the first death that are workers still (a
            # helper caught between its fork and exec is not); never more than died.
            later = max(starts - self.asked - len(others - current),
                        len((self.ever - self.before_death) & current))  # fmt: skip
            record.worker_restarts = max(record.worker_restarts, min(deaths, later))
        record.worker_deaths = deaths
        return deaths


def port_taken(
    served: ServedProcess, record: ServingRecord, ports: Sequence[int], what: str
) -> bool:
    """True, with ``what`` and who took the port as the record's outcome, when another
    process listens on one of ``ports`` and the server on none (see ``ports.py``)."""
    taken = taken_elsewhere(served.pids(exact=True), ports)
    for port, who in taken.items():
        record.outcome = (
            f"{what}: 127.0.0.1:{port} was taken by {who} (outside the cell) before the server "
            "bound it"
        )
        return True
    return False


def _await_ready(
    served: ServedProcess, spec: ServeSpec, ports: list[int], ready_by: float, churn: _Churn
) -> Drive | None:
    """Probe ``spec.ready`` until it answers 200; None then, else what went wrong (crashed:
    exited, or a crash loop; hung: not ready in time; port taken: another process took a
    port, and answered), with the record's outcome said."""
    record, started = churn.record, time.monotonic()
    while True:
        status = served.exited()
        if status is not None:
            record.outcome = f"exited with code {status} before it was ready"
            if status and port_taken(served, record, ports, record.outcome):
                return Drive.PORT_TAKEN
            return Drive.CRASHED
        deaths = churn.update()
        waited = time.monotonic() - started
        if deaths >= spec.crash_loop:
            record.outcome = (
                f"not ready after {waited:.1f} s: {CRASH_LOOP} "
                f"({deaths} died, {record.worker_restarts} replaced, {deaths / waited:.0f}/s)"
            )
            return Drive.CRASHED
        try:
            code, _ = _request(ports[0], RequestSpec(path=spec.ready), timeout=_PROBE_S)
            if code == 200:
                return (
                    Drive.PORT_TAKEN
                    if port_taken(served, record, ports[:1], "another process answered")
                    else None
                )
        except OSError:  # refused, reset, or a half-started server's garbage
            pass
        if time.monotonic() >= ready_by:
            # A slow crash loop: a worker died, and so did one started after it. One process
            # gone is no loop: servers start short-lived helpers (a probe, a pool's launcher).
            if deaths >= 2 and record.worker_restarts:
                record.outcome = (
                    f"not ready after {waited:.0f} s: {CRASH_LOOP} "
                    f"({deaths} died, {record.worker_restarts} replaced)"
                )
                return Drive.CRASHED
            stayed = "workers stayed up" if not deaths else (
                "one process exited, the rest stayed up"
            )  # fmt: skip
            record.outcome = f"not ready after {waited:.0f} s ({stayed}: slow or stuck)"
            return Drive.HUNG
        time.sleep(_POLL_S)


def drive(
    served: ServedProcess, spec: ServeSpec, ports: list[int], deadline: float
) -> tuple[ServingRecord, Drive | None]:
    """Wait for readiness, then send the requests; the runner stops the server afterwards.

    Returns the record and what went wrong, or None when every answer was right.
    """
    record = ServingRecord(ports=list(ports), workers_requested=spec.workers)
    started = time.monotonic()
    churn = _Churn(served, spec.workers, record)
    failed = _await_ready(served, spec, ports, min(deadline, started + spec.ready_timeout),
                          churn)  # fmt: skip
    if failed is not None:
        return record, failed
    record.ready, record.ready_s = True, round(time.monotonic() - started, 3)
    for req in spec.requests:
        record.request_stats.append(_send_entry(record, req, ports, spec, deadline))
        churn.update()  # a worker that died or was replaced under the load
    record.workers_seen, record.helpers_seen = _workers_after_load(served, spec.workers, deadline)
    churn.update()
    record.outcome = (
        f"ready in {record.ready_s:.1f} s, {record.requests_ok}/{record.requests_sent} "
        f"requests answered correctly"
    )
    if record.requests_timed_out:
        record.outcome += f" ({record.requests_timed_out} timed out)"
        return record, Drive.HUNG
    if record.failures:
        return record, Drive.CRASHED
    return record, None
