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

__all__ = [
    "SCHEMA_VERSION",
    "START_METHODS",
    "CellResult",
    "Expectation",
    "ProcessStack",
    "Verdict",
]

#: Version of the JSON report layout; bump it when a field changes meaning or disappears.
SCHEMA_VERSION = 1

#: Every start method that CPython knows, in a stable display order.
START_METHODS: tuple[str, ...] = ("fork", "spawn", "forkserver")


class Verdict(str, enum.Enum):
    """What a cell did. ``ERROR`` is the harness failing, never the scenario."""

    PASS = "pass"
    CRASH = "crash"
    HANG = "hang"
    SKIP = "skip"
    ERROR = "error"

    @property
    def severity(self) -> int:
        """Order used to pick the verdict that represents repeated runs (worst first)."""
        return _SEVERITY[self]


_SEVERITY = {Verdict.SKIP: 0, Verdict.PASS: 1, Verdict.CRASH: 2, Verdict.HANG: 3, Verdict.ERROR: 4}


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
    serving: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        """True unless the cell contradicts its expectation or the harness failed."""
        return self.verdict is not Verdict.ERROR and not self.mismatch

    def to_dict(self) -> dict[str, Any]:
        # A shallow copy field by field: dataclasses.asdict deep-copies and is ten times slower,
        # which matters for reports of 100,000 cells.
        data = {name: getattr(self, name) for name in _CELL_FIELDS}
        data["verdict"] = self.verdict.value
        data["stacks"] = [s.to_dict() for s in self.stacks]
        data["expected"] = self.expected.to_dict() if self.expected else None
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CellResult:
        known = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        kwargs["verdict"] = Verdict(data["verdict"])
        kwargs["stacks"] = [ProcessStack(**s) for s in data.get("stacks") or []]
        exp = data.get("expected")
        kwargs["expected"] = (
            Expectation(Verdict(exp["verdict"]), tuple(exp.get("signatures", ()))) if exp else None
        )
        return cls(**kwargs)


_CELL_FIELDS = tuple(f.name for f in dataclasses.fields(CellResult))
