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
  from the restart count as soon as it shows a crash loop, not at the ready timeout).
"""

from __future__ import annotations

import json
import re
import signal
import socket
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ._proctree import cmdline, proc_info
from .model import ServingRecord

__all__ = [
    "CRASH_LOOP",
    "DEFAULT_STOP_SIGNALS",
    "RequestSpec",
    "ServeSpec",
    "ServedProcess",
    "drive",
    "explained_exit",
    "free_ports",
    "ports_needed",
    "still_serving",
]

_POLL_S = 0.05
WORKER_GRACE_S = 5.0  # how long a short worker count is watched before workers-missing
_PROBE_S = 0.5  # a socket that accepts but nobody serves makes each probe wait this long
_HELPERS = ("multiprocessing.resource_tracker", "multiprocessing.forkserver")
#: In the outcome of a server that never got ready because its workers kept being replaced; a
#: server whose main process exits by itself (and takes its workers with it) is not that.
CRASH_LOOP = "workers keep dying"
_PORT_RX = re.compile(r"\{port(\d*)\}")
DEFAULT_STOP_SIGNALS = ("SIGTERM",)


@dataclass(frozen=True)
class RequestSpec:
    path: str = "/"
    method: str = ""  # default: POST when there is a body, else GET
    json: Any = None
    body: str | None = None
    status: int = 200
    contains: str | None = None  # text the response body must contain
    count: int = 1
    port: int = 1  # which of the server's ports: 1 is {port}, 2 is {port2}, ...

    def __post_init__(self) -> None:
        if not self.method:
            has_body = self.json is not None or self.body is not None
            object.__setattr__(self, "method", "POST" if has_body else "GET")


@dataclass(frozen=True)
class ServeSpec:
    workers: int = 2  # 1 means the main process may serve by itself (no worker process)
    ready: str = "/"  # path on {port} answering 200 once the server is ready
    ready_timeout: float = 60.0
    request_timeout: float = 10.0
    #: Sent in turn, each followed by the grace period (``stop_timeout``); SIGKILL after the
    #: last. A server still running after the first signal's grace period is a hang.
    stop_signals: tuple[str, ...] = DEFAULT_STOP_SIGNALS
    stop_timeout: float = 10.0
    #: How many worker processes may die before the server is ready until it is called a crash
    #: loop (a slow server loses none; a crash-looping one loses dozens a second).
    crash_loop: int = 10
    requests: tuple[RequestSpec, ...] = (RequestSpec(),)


class ServedProcess:
    """What the driver needs of the running server (the runner's view of the cell)."""

    leader: int  # the server's main process

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


def ports_needed(texts: Iterable[str]) -> int:
    """How many ports the placeholders in ``texts`` ask for ({port} is 1, {port3} is 3)."""
    most = 0
    for text in texts:
        for m in _PORT_RX.finditer(text):
            most = max(most, int(m.group(1) or 1))
    return most


def free_ports(count: int) -> list[int]:
    """``count`` distinct free ports on 127.0.0.1 (held open together, so never the same)."""
    socks = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(sock)
            sock.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in socks]
    finally:
        for sock in socks:
            sock.close()


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

    Workers are the live processes other than the main process and multiprocessing's helpers.
    The resource tracker and the forkserver are children of the main process; workers forked by
    the forkserver carry its command line too, so only direct children can be helpers. A helper
    caught between fork and exec still has its parent's command line and reads as a worker.
    """
    workers, alive = set(), set()
    for pid in served.pids(exact):
        info = proc_info(pid)
        if info is None or not info.alive:
            continue
        alive.add(pid)
        if pid == served.leader:
            continue
        if info.ppid == served.leader and any(h in cmdline(pid) for h in _HELPERS):
            continue
        workers.add(pid)
    return workers, alive


def _workers(served: ServedProcess, exact: bool = False) -> set[int]:
    return _sample(served, exact)[0]


def _workers_after_load(served: ServedProcess, asked: int, deadline: float) -> int:
    """Workers alive after the load, counted as ps would. While the count is short it is read
    again for up to ``WORKER_GRACE_S``: a worker still starting on a loaded machine is late, not
    missing; one that died or was never started stays missing."""
    end = min(deadline, time.monotonic() + WORKER_GRACE_S)
    seen = len(_workers(served, exact=True))
    while seen < asked and time.monotonic() < end and served.exited() is None:
        time.sleep(_POLL_S)
        seen = max(seen, len(_workers(served, exact=True)))
    return seen


def _request(port: int, req: RequestSpec, timeout: float) -> tuple[int, str]:
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
            return resp.status, resp.read().decode("utf-8", errors="replace")
        except http.client.HTTPException as exc:  # a bad status line, an incomplete body...
            raise ConnectionError(f"{type(exc).__name__}: {exc}") from exc
    finally:
        conn.close()


def drive(
    served: ServedProcess, spec: ServeSpec, ports: list[int], deadline: float
) -> tuple[ServingRecord, str | None]:
    """Wait for readiness, then send the requests; the runner stops the server afterwards.

    Returns the record and the verdict it implies ("crash" or "hang"), or None when every answer
    was right.
    """
    record = ServingRecord(ports=list(ports), workers_requested=spec.workers)
    started = time.monotonic()
    ready_by = min(deadline, started + spec.ready_timeout)
    ever: set[int] = set()
    while True:
        status = served.exited()
        if status is not None:
            record.outcome = f"exited with code {status} before it was ready"
            return record, "crash"
        starts = served.starts()  # before the sample: every process logged exists by then
        current, alive = _sample(served)
        ever |= current
        # Workers that died: those seen alive and gone, or those started and not alive now
        # (a worker that dies within milliseconds is rarely seen, but always logged). One seen
        # as a worker that is still alive became a helper at exec: it did not die; nor did a
        # forked helper that is still alive (every fork is logged, workers or not).
        record.worker_restarts = max(len(ever - alive), starts - len(alive - {served.leader}), 0)
        waited = time.monotonic() - started
        if record.worker_restarts >= spec.crash_loop:
            record.outcome = (
                f"not ready after {waited:.1f} s: {CRASH_LOOP} "
                f"({record.worker_restarts} replaced, {record.worker_restarts / waited:.0f}/s)"
            )
            return record, "crash"
        try:
            code, _ = _request(ports[0], RequestSpec(path=spec.ready), timeout=_PROBE_S)
            if code == 200:
                break
        except OSError:  # refused, reset, or a half-started server's garbage
            pass
        if time.monotonic() >= ready_by:
            # A slow crash loop: a worker died, and so did one started after it. One process
            # gone is no loop: servers start short-lived helpers (a probe, a pool's launcher).
            if record.worker_restarts >= 2:
                record.outcome = (
                    f"not ready after {waited:.0f} s: {CRASH_LOOP} "
                    f"({record.worker_restarts} replaced)"
                )
                return record, "crash"
            stayed = "workers stayed up" if not record.worker_restarts else (
                "one process exited, the rest stayed up"
            )  # fmt: skip
            record.outcome = f"not ready after {waited:.0f} s ({stayed}: slow or stuck)"
            return record, "hang"
        time.sleep(_POLL_S)
    record.ready, record.ready_s = True, round(time.monotonic() - started, 3)

    for req in spec.requests:
        port = ports[min(req.port, len(ports)) - 1]
        for _ in range(req.count):
            record.requests_sent += 1
            timeout = max(0.1, min(spec.request_timeout, deadline - time.monotonic()))
            try:
                code, body = _request(port, req, timeout)
            except TimeoutError:
                record.requests_timed_out += 1
                record.failures.append(f"{req.method} {req.path}: timed out after {timeout:.0f} s")
                continue
            except OSError as exc:
                record.failures.append(f"{req.method} {req.path}: {type(exc).__name__}: {exc}")
                continue
            if code != req.status or (req.contains is not None and req.contains not in body):
                record.failures.append(f"{req.method} {req.path}: HTTP {code}, body {body[:200]!r}")
            else:
                record.requests_ok += 1
    record.workers_seen = _workers_after_load(served, spec.workers, deadline)
    record.outcome = (
        f"ready in {record.ready_s:.1f} s, {record.requests_ok}/{record.requests_sent} "
        f"requests answered correctly"
    )
    if record.requests_timed_out:
        record.outcome += f" ({record.requests_timed_out} timed out)"
    if record.requests_timed_out:
        return record, "hang"
    if record.failures:
        return record, "crash"
    return record, None
