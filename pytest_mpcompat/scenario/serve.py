"""What a scenario asks of a server run: its workers, readiness, requests and stop sequence.

The ``[tool.mpcompat.serve]`` table of a script, or the keywords of ``mp_server``; the runner
(``runner/serve.py``) drives the server by it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._block import Block
from ._fields import no_unknown, seconds, str_list, whole

__all__ = ["DEFAULT_STOP_SIGNALS", "MAX_CONCURRENCY", "RequestSpec", "ServeSpec", "serve_spec"]

DEFAULT_STOP_SIGNALS = ("SIGTERM",)
MAX_CONCURRENCY = 64  # requests in flight at once, per request entry


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
    #: How many of the ``count`` requests are in flight at once (1: one after another).
    concurrency: int = 1
    #: A response header in which the server names the process that answered (its PID).
    pid_header: str | None = None

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


_SERVE_KEYS = {
    "workers", "ready", "ready_timeout", "request_timeout", "stop_timeout", "stop_signals",
    "crash_loop", "requests",
}  # fmt: skip
_REQUEST_KEYS = {
    "path", "method", "json", "body", "status", "contains", "count", "port", "concurrency",
    "pid_header",
}  # fmt: skip
_STOP_SIGNALS = ("SIGTERM", "SIGINT", "SIGQUIT", "SIGHUP", "SIGUSR1", "SIGUSR2")


def serve_spec(block: Block, raw: Any) -> ServeSpec:
    """The ``[tool.mpcompat.serve]`` table, checked."""
    if not isinstance(raw, dict):
        raise block.error("'serve' must be a table", "serve")
    no_unknown(block, raw, _SERVE_KEYS, "[tool.mpcompat.serve]", "serve")
    ready = raw.get("ready", "/")
    if not isinstance(ready, str) or not ready.startswith("/"):
        raise block.error(f"'ready' must be a URL path such as '/health', not {ready!r}", "ready")
    times = {}
    for key in ("ready_timeout", "request_timeout", "stop_timeout"):
        value = seconds(block, raw, key)
        times[key] = value if value is not None else getattr(ServeSpec, key)
    stop_signals = raw.get("stop_signals", list(DEFAULT_STOP_SIGNALS))
    if not str_list(stop_signals) or not stop_signals:
        raise block.error("'stop_signals' must be a non-empty list of signal names", "stop_signals")
    for name in stop_signals:
        if name not in _STOP_SIGNALS:
            raise block.error(
                f"unknown stop signal {name!r} (valid: {', '.join(_STOP_SIGNALS)}; "
                "SIGKILL always follows the last one)",
                "stop_signals",
            )
    requests = raw.get("requests", [{}])
    if not isinstance(requests, list) or not all(isinstance(r, dict) for r in requests):
        raise block.error("'requests' must be an array of tables", "requests")
    return ServeSpec(
        workers=whole(block, raw, "workers", 2),
        ready=ready,
        requests=tuple(_request(block, req) for req in requests),
        stop_signals=tuple(stop_signals),
        crash_loop=whole(block, raw, "crash_loop", ServeSpec.crash_loop),
        **times,
    )


def _request(block: Block, req: dict[str, Any]) -> RequestSpec:
    """One ``[[tool.mpcompat.serve.requests]]`` entry, checked."""
    no_unknown(block, req, _REQUEST_KEYS, "a serve request", "requests")
    path = req.get("path", "/")
    status, count, port = req.get("status", 200), req.get("count", 1), req.get("port", 1)
    if isinstance(port, bool) or not isinstance(port, int) or port < 1:
        raise block.error("request 'port' must be 1 ({port}), 2 ({port2}), ...", "port")
    if not isinstance(path, str) or not path.startswith("/"):
        raise block.error(f"request 'path' must start with '/', not {path!r}", "path")
    if not isinstance(status, int) or not isinstance(count, int) or count < 1:
        raise block.error("request 'status' and 'count' must be whole numbers", "requests")
    concurrency = req.get("concurrency", 1)
    if (
        isinstance(concurrency, bool)
        or not isinstance(concurrency, int)
        or not (1 <= concurrency <= MAX_CONCURRENCY)
    ):
        raise block.error(f"request 'concurrency' must be a whole number from 1 to "
                          f"{MAX_CONCURRENCY}, not {concurrency!r}", "concurrency")  # fmt: skip
    pid_header = req.get("pid_header")
    if pid_header is not None and (not isinstance(pid_header, str) or not pid_header):
        raise block.error("request 'pid_header' must name a response header", "pid_header")
    return RequestSpec(
        path=path,
        method=str(req.get("method", "")),
        json=req.get("json"),
        body=req.get("body"),
        status=status,
        contains=req.get("contains"),
        count=count,
        port=port,
        concurrency=concurrency,
        pid_header=pid_header,
    )
