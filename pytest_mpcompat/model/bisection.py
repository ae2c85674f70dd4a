"""A bisection's result as written and published: each probe of a release, and the first
release where a scenario's cell changes (``matrix/bisection.py`` runs the search; the report
only reads these records)."""

from __future__ import annotations

import datetime as _dt
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

__all__ = ["Bisection", "Probe"]


@dataclass
class Probe:
    version: str
    verdict: str  # a cell verdict, or "not installable"
    signatures: list[str] = field(default_factory=list)  # error-level ones
    outcome: str = ""
    ran_as: str | None = None
    reason: str = ""

    @property
    def result(self) -> str:
        """What is compared: the outcome (the verdict, for a release that did not install) and
        its error-level signatures."""
        sigs = f" [{', '.join(self.signatures)}]" if self.signatures else ""
        return f"{self.outcome or self.verdict}{sigs}"


@dataclass
class Bisection:
    scenario: str
    package: str
    method: str
    python: str
    releases: list[str]  # the candidates, oldest first
    probes: list[Probe] = field(default_factory=list)
    first_changed: str | None = None
    last_before: str | None = None
    # What every probe installed besides the plugin (the release as PACKAGE==<release>), and
    # the --override, --constraint and --uninstall it ran under, to rebuild any probe.
    install: list[str] = field(default_factory=list)
    overrides: list[str] = field(default_factory=list)
    constraints: list[str] = field(default_factory=list)
    uninstalled: list[str] = field(default_factory=list)

    def summary(self) -> str:
        ends = {p.version: p for p in self.probes}
        old = ends.get(self.releases[0])
        span = f"bisected over {len(self.releases)} releases with {len(self.probes)} probes"
        pins = [*self.overrides, *(Path(c).name for c in self.constraints)]
        pins += [f"without {name}" for name in self.uninstalled]
        if pins:
            span += f", pinned: {', '.join(pins)}"
        if self.first_changed is None or old is None:
            result = old.result if old else "?"
            return (
                f"{self.package} {self.releases[0]} to {self.releases[-1]}: no change "
                f"({result} throughout the ends; {span})"
            )
        after = ends[self.first_changed]
        return (
            f"first release that changes: {self.package} {self.first_changed} "
            f"({old.result} through {self.last_before}, {after.result} from "
            f"{self.first_changed}; {span})"
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Bisection:
        """A written result read back (its ``summary`` is said again, in today's words)."""
        names = {f.name for f in fields(cls)} - {"probes"}
        probe_names = {f.name for f in fields(Probe)}
        probes = [Probe(**{k: v for k, v in p.items() if k in probe_names})
                  for p in data.get("probes", [])]  # fmt: skip
        return cls(**{k: v for k, v in data.items() if k in names}, probes=probes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "pytest-mpcompat bisection",
            "written": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            **asdict(self),
            "summary": self.summary(),
        }
