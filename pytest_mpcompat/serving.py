"""Drive a real multi-worker server the way a client and an operator would.

The server (a scenario script) gets a free port on 127.0.0.1 and a worker count through
``{port}`` / ``{workers}`` in its args and env (and ``MPCOMPAT_PORT`` / ``MPCOMPAT_WORKERS``).
The driver waits for readiness with a deadline, sends real HTTP requests and checks the answers,
then stops the server with SIGTERM, then SIGINT. What it saw decides the cell's verdict:

- ``pass``: ready, every answer right;
- ``hang``: requests timed out, or never ready while its workers stayed up (slow or stuck);
- ``crash``: exited before it was ready, answered wrongly, or never ready because its workers
  kept dying and being replaced (``workers-restarting``).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from ._proctree import cmdline, proc_info

__all__ = ["RequestSpec", "ServeSpec", "ServingReport", "drive", "free_port", "stop"]

_POLL_S = 0.1
_PROBE_S = 0.5  # a socket that accepts but nobody serves makes each probe wait this long
_HELPERS = ("multiprocessing.resource_tracker", "multiprocessing.forkserver")


@dataclass(frozen=True)
class RequestSpec:
    path: str = "/"
    method: str = ""  # default: POST when there is a body, else GET
    json: Any = None
    body: str | None = None
    status: int = 200
    contains: str | None = None  # text the response body must contain
    count: int = 1

    def __post_init__(self) -> None:
        if not self.method:
            has_body = self.json is not None or self.body is not None
            object.__setattr__(self, "method", "POST" if has_body else "GET")


@dataclass(frozen=True)
class ServeSpec:
    workers: int = 2  # 1 means the main process may serve by itself (no worker process)
    ready: str = "/"  # path answering 200 once the server is ready
    ready_timeout: float = 60.0
    request_timeout: float = 10.0
    stop_timeout: float = 10.0  # per stop signal
    requests: tuple[RequestSpec, ...] = (RequestSpec(),)


@dataclass
class ServingReport:
    port: int
    workers_requested: int
    ready: bool = False
    ready_s: float | None = None
    workers_seen: int = 0
    worker_restarts: int = 0
    requests_sent: int = 0
    requests_ok: int = 0
    requests_timed_out: int = 0
    failures: list[str] = field(default_factory=list)
    stop_signal: str | None = None  # the signal that ended it; "SIGKILL" means the harness did
    shutdown_s: float | None = None
    alive_after_shutdown: list[str] = field(default_factory=list)
    outcome: str = ""  # one line for humans

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _workers(find: Callable[[], list[int]], leader: int) -> set[int]:
    """Live processes of the server other than its main process and multiprocessing's helpers.

    The resource tracker and the forkserver are children of the main process; workers forked by
    the forkserver carry its command line too, so only direct children can be helpers.
    """
    found = set()
    for pid in find():
        info = proc_info(pid)
        if pid == leader or info is None or not info.alive:
            continue
        if info.ppid == leader and any(h in cmdline(pid) for h in _HELPERS):
            continue
        found.add(pid)
    return found


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
    proc: subprocess.Popen[bytes],
    spec: ServeSpec,
    port: int,
    find: Callable[[], list[int]],
    deadline: float,
    starts: Callable[[], int] = lambda: 0,
) -> tuple[ServingReport, str | None]:
    """Wait for readiness, then send the requests; the caller stops the server (``stop``).

    Returns the report and the verdict it implies, or None when every answer was right.
    ``starts`` counts the processes the server has started so far (the runner's log of
    multiprocessing starts): workers that die within milliseconds are rarely seen alive, but
    their replacements are always counted.
    """
    report = ServingReport(port=port, workers_requested=spec.workers)
    started = time.monotonic()
    ready_by = min(deadline, started + spec.ready_timeout)
    ever: set[int] = set()
    most = 0
    while True:
        if proc.poll() is not None:
            report.outcome = f"exited with code {proc.returncode} before it was ready"
            return report, "crash"
        current = _workers(find, proc.pid)
        ever |= current
        most = max(most, len(current))
        try:
            status, _ = _request(port, RequestSpec(path=spec.ready), timeout=_PROBE_S)
            if status == 200:
                break
        except OSError:  # refused, reset, or a half-started server's garbage
            pass
        if time.monotonic() >= ready_by:
            report.worker_restarts = max(0, len(ever) - most, starts() - spec.workers)
            waited = time.monotonic() - started
            if report.worker_restarts:
                report.outcome = (
                    f"not ready after {waited:.0f} s: workers keep dying "
                    f"({report.worker_restarts} replaced)"
                )
                return report, "crash"
            report.outcome = f"not ready after {waited:.0f} s (workers stayed up: slow or stuck)"
            return report, "hang"
        time.sleep(_POLL_S)
    report.ready, report.ready_s = True, round(time.monotonic() - started, 3)

    verdict = None
    for req in spec.requests:
        for _ in range(req.count):
            report.requests_sent += 1
            timeout = max(0.1, min(spec.request_timeout, deadline - time.monotonic()))
            try:
                status, body = _request(port, req, timeout)
            except TimeoutError:
                report.requests_timed_out += 1
                report.failures.append(f"{req.method} {req.path}: timed out after {timeout:.0f} s")
                continue
            except OSError as exc:
                report.failures.append(f"{req.method} {req.path}: {type(exc).__name__}: {exc}")
                continue
            if status != req.status or (req.contains is not None and req.contains not in body):
                report.failures.append(
                    f"{req.method} {req.path}: HTTP {status}, body {body[:200]!r}"
                )
            else:
                report.requests_ok += 1
    report.workers_seen = len(_workers(find, proc.pid))  # after the load, as users would count
    if report.requests_timed_out:
        verdict = "hang"
    elif report.failures:
        verdict = "crash"
    report.outcome = (
        f"ready in {report.ready_s:.1f} s, {report.requests_ok}/{report.requests_sent} "
        f"requests answered correctly"
    )
    return report, verdict


def stop(proc: subprocess.Popen[bytes], spec: ServeSpec, report: ServingReport) -> None:
    """SIGTERM, then SIGINT, as an operator (or Kubernetes) would; SIGKILL is left to the
    runner's tree kill and recorded as such."""
    start = time.monotonic()
    for sig in (signal.SIGTERM, signal.SIGINT):
        if proc.poll() is not None:
            break
        try:
            os.kill(proc.pid, sig)
        except ProcessLookupError:
            break
        report.stop_signal = sig.name
        try:
            proc.wait(spec.stop_timeout)
        except subprocess.TimeoutExpired:
            continue
    if proc.poll() is None:
        report.stop_signal = "SIGKILL"
        return
    report.shutdown_s = round(time.monotonic() - start, 3)
