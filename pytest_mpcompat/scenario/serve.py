"""What a scenario asks of a server run: its workers, readiness, requests and stop sequence.

The ``[tool.mpcompat.serve]`` table of a script, or the keywords of ``mp_server``; the runner
(``runner/serve.py``) drives the server by it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["DEFAULT_STOP_SIGNALS", "MAX_CONCURRENCY", "RequestSpec", "ServeSpec"]

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
