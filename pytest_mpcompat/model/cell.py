"""Verdicts and cell results: the data every other part of the plugin reads or writes.

JSON is the source of truth for every report, so each type here converts to and from plain
dictionaries and nothing else knows the field names.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..constants import (
    DEFAULT_EXIT_GRACE_S,
    MAX_SECONDS,
    START_METHODS,
    seconds_problem,
)
from .outcome import OUTCOMES, Outcome

__all__ = [
    "DEFAULT_EXIT_GRACE_S",
    "MAX_SECONDS",
    "OUTCOMES",
    "SCHEMA_VERSION",
    "START_METHODS",
    "CellResult",
    "Expectation",
    "ProcessStack",
    "ServingRecord",
    "SkipKind",
    "Outcome",
    "Verdict",
    "seconds_problem",
]

#: Version of the JSON report layout; bump it when a field changes meaning or disappears, and
#: teach ``publish/migrate.py`` to bring the older layout up to it.
#: 2: ``serving`` records the stop sequence (``stop_signals_sent``, ``stopped_by``,
#: ``exit_after_stop``) and every port; cells carry ``outcome``, ``ran_as`` and ``matches``.
#: 3: every cell carries the ``outcome`` its run decided and skips a ``skip_kind``; the file
#: carries the catalog entry (severity, explanation, fix) of every signature its cells show.
#: 4: the outcome ``unmeasurable`` (a crash on what only other hardware has), and a catalog
#: entry's ``needs`` (that hardware).
SCHEMA_VERSION = 4


class Verdict(str, enum.Enum):
    """What a cell did. ``ERROR`` is the harness failing, never the scenario."""

    PASS = "pass"
    CRASH = "crash"
    HANG = "hang"
    SKIP = "skip"
    ERROR = "error"


class SkipKind(str, enum.Enum):
    """Why a cell was not run, as a reader of coverage tells the reasons apart."""

    #: The matrix says upstream does not support this Python or platform.
    UPSTREAM = "upstream"
    #: A package the scenario needs is missing or at another version: the runner's gap.
    ENVIRONMENT = "environment"
    #: The scenario's ``requires-python`` excludes this interpreter.
    PYTHON = "python"
    #: The start method does not exist on this OS.
    START_METHOD = "start-method"
    #: A ``requires`` entry is unmet: a GPU, an OS, a module, a program.
    REQUIREMENT = "requirement"
    #: Raw results of schema 2 or older that said "not installable": upstream and the runner's
    #: environment not told apart.
    NOT_INSTALLABLE = "not-installable"


@dataclass(frozen=True)
class Expectation:
    """What a scenario declares a cell must do: a verdict and signatures that must appear."""

    verdict: Verdict
    signatures: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict.value, "signatures": list(self.signatures)}


@dataclass(frozen=True)
class ProcessStack:
    """The Python stack of one process of a hung cell, taken just before it was killed."""

    pid: int
    ppid: int
    cmdline: str
    stack: str
    tool: str  # "py-spy", "faulthandler" or "none"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class ServingRecord:
    """What the harness saw while driving a scenario as a server (see serving.py)."""

    ports: list[int]
    workers_requested: int
    ready: bool = False
    ready_s: float | None = None
    workers_seen: int = 0
    #: Other live processes after the load: multiprocessing's helpers, a Manager, inference
    #: pools that do not hold the listening socket.
    helpers_seen: int = 0
    #: Worker processes that died before the server was ready, and how many of them the
    #: server replaced (started another process after the death).
    worker_deaths: int = 0
    worker_restarts: int = 0
    requests_sent: int = 0
    requests_ok: int = 0
    requests_timed_out: int = 0
    failures: list[str] = field(default_factory=list)
    #: Per request entry: request, concurrency, sent, answered, errors, timeouts, latency_ms
    #: (p50, p90, p99, max of the answered ones) and answered_by (PID -> answers, where the
    #: entry names the server's pid_header).
    request_stats: list[dict[str, Any]] = field(default_factory=list)
    #: The stop sequence as far as it went, e.g. ["SIGTERM"] or ["SIGTERM", "SIGKILL"].
    stop_signals_sent: list[str] = field(default_factory=list)
    #: The signal the server finally exited on ("SIGKILL": the harness killed it); None when
    #: it exited before it was stopped.
    stopped_by: str | None = None
    #: Seconds from the first stop signal to the main process's exit.
    shutdown_s: float | None = None
    #: Exit status after the stop (negative: the signal that ended it).
    exit_after_stop: int | None = None
    alive_after_shutdown: list[str] = field(default_factory=list)
    #: Ports still taken after the stop and the exit grace, and how ("127.0.0.1:8080 answers
    #: HTTP 200"): leftovers that keep serving a terminated pod's traffic or hold its port.
    serving_after_stop: list[str] = field(default_factory=list)
    outcome: str = ""  # one line for humans

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ServingRecord:
        known = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        kwargs.setdefault("ports", [data["port"]] if "port" in data else [])
        return cls(**kwargs)


@dataclass
class CellResult:
    """One scenario run under one start method (possibly repeated), as the report stores it."""

    scenario: str
    method: str
    verdict: Verdict
    signatures: list[str] = field(default_factory=list)
    exit_code: int | None = None
    signal: str | None = None
    duration_s: float = 0.0
    stdout_tail: str = ""
    stderr_tail: str = ""
    stacks: list[ProcessStack] = field(default_factory=list)
    leaked: list[str] = field(default_factory=list)
    reason: str = ""
    env: dict[str, Any] = field(default_factory=dict)
    expected: Expectation | None = None
    mismatch: str = ""
    repeat: int = 1
    verdict_counts: dict[str, int] = field(default_factory=dict)
    nodeid: str = ""
    #: How many processes the main process (and its forked children) started with each method.
    methods_used: dict[str, int] = field(default_factory=dict)
    #: What the client and operator saw, for a scenario run as a server (see serving.py).
    serving: ServingRecord | None = None
    #: The first line of output each signature matched (for the summary and the report).
    matches: dict[str, str] = field(default_factory=dict)
    #: Decided once, by the run that judged the cell, with the catalog it judged it by
    #: (``catalog.decide``); until then the verdict's own (set from it when not given).
    outcome: Outcome = None  # type: ignore[assignment]
    #: Why a skipped cell was not run.
    skip_kind: SkipKind | None = None
    #: What its scenario is for: "use" (the intended use of a library) or "mistake" (a known
    #: mistake reproduced on purpose), and a mistake's fixed twin (a scenario, named as this
    #: one is). None: not recorded (older raw results; the report reads the scenario file).
    role: str | None = None
    twin: str | None = None
    #: When the run that measured it ended (UTC, ISO 8601 to the second); "" for a skip.
    measured_at: str = ""
    #: True when this run's result is an earlier run's, reused because none of the cell's
    #: inputs changed since (``runner/reuse.py``); ``measured_at`` then says when it ran.
    reused: bool = False

    def __post_init__(self) -> None:
        if self.outcome is None:
            self.outcome = Outcome.of(self.verdict)

    @property
    def ok(self) -> bool:
        """True unless the cell contradicts its expectation or the harness failed."""
        return self.verdict is not Verdict.ERROR and not self.mismatch

    @property
    def ran_as(self) -> str | None:
        """The start methods the cell's processes really used, when they are not its column's
        (KServe < 0.14 forks its workers whatever the default; vLLM spawns its engine)."""
        used = list(self.methods_used)
        if not used or used == [self.method]:
            return None
        return "+".join(used)

    def to_dict(self) -> dict[str, Any]:
        # A shallow copy field by field: dataclasses.asdict deep-copies and is ten times slower,
        # which matters for reports of 100,000 cells.
        data = {name: getattr(self, name) for name in _CELL_FIELDS}
        data["verdict"] = self.verdict.value
        data["outcome"] = self.outcome.value
        data["skip_kind"] = self.skip_kind.value if self.skip_kind else None
        data["stacks"] = [s.to_dict() for s in self.stacks]
        data["expected"] = self.expected.to_dict() if self.expected else None
        data["serving"] = self.serving.to_dict() if self.serving else None
        data["ran_as"] = self.ran_as
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CellResult:
        known = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        kwargs["verdict"] = Verdict(data["verdict"])
        kwargs["outcome"] = Outcome(data["outcome"]) if data.get("outcome") else None
        kwargs["skip_kind"] = SkipKind(data["skip_kind"]) if data.get("skip_kind") else None
        kwargs["stacks"] = [ProcessStack(**s) for s in data.get("stacks") or []]
        exp = data.get("expected")
        kwargs["expected"] = (
            Expectation(Verdict(exp["verdict"]), tuple(exp.get("signatures", ()))) if exp else None
        )
        serving = data.get("serving")
        kwargs["serving"] = ServingRecord.from_dict(serving) if serving else None
        return cls(**kwargs)


_CELL_FIELDS = tuple(f.name for f in dataclasses.fields(CellResult))
