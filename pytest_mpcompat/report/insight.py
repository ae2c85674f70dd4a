"""Version insight: for each scenario, method and package, the versions where the outcome
changes ("kserve: crash through 0.13.1, degraded 0.14.0-0.14.1, pass from 0.15.2"). Outcomes,
not bare verdicts: a pass whose output shows an error-level signature is ``degraded``."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from packaging.version import InvalidVersion, Version

from ..model import CellResult
from ..signatures import BUILTIN_SIGNATURES, outcome

_CATALOG = {s.id: s for s in BUILTIN_SIGNATURES}

__all__ = ["changes_by_scenario", "version_changes", "version_key"]

_NOT_VERSIONS = {"os", "python", "gpu", "method"}


@functools.lru_cache(maxsize=4096)
def version_key(version: str) -> tuple[int, Any]:
    """Sort key that orders versions as versions (0.9.0 before 0.10.0, 3.9 before 3.10), and
    anything else after them, as text."""
    try:
        return (0, Version(version))
    except InvalidVersion:
        return (1, version)


def version_changes(
    cells: Sequence[CellResult], axes: Sequence[dict[str, str]]
) -> list[dict[str, Any]]:
    """One entry per (scenario, method, package, other axes) whose outcome differs by version."""
    groups: dict[tuple[Any, ...], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for cell, ax in zip(cells, axes, strict=True):
        for package, version in ax.items():
            if (
                package in _NOT_VERSIONS
                or version == "not installed"
                or cell.verdict.value == "skip"
            ):
                continue
            rest = tuple(sorted((k, v) for k, v in ax.items() if k not in (package, "method")))
            groups[(cell.scenario, cell.method, package, rest)][version].add(
                outcome(cell, _CATALOG)
            )
    found = []
    for (scenario, method, package, rest), by_version in sorted(groups.items()):
        versions = sorted(by_version, key=version_key)
        if len(versions) < 2:
            continue
        labels = ["/".join(sorted(by_version[v])) for v in versions]
        if len(set(labels)) < 2:
            continue
        spans: list[list[str]] = []  # [verdict, first version, last version]
        for version, label in zip(versions, labels, strict=True):
            if spans and spans[-1][0] == label:
                spans[-1][2] = version
            else:
                spans.append([label, version, version])
        parts = []
        for i, (label, first, last) in enumerate(spans):
            if i == 0:
                parts.append(f"{label} through {last}" if first != last else f"{label} at {first}")
            elif i == len(spans) - 1:
                parts.append(f"{label} from {first}")
            else:
                parts.append(f"{label} {first}-{last}" if first != last else f"{label} at {first}")
        found.append(
            {
                "scenario": scenario,
                "method": method,
                "package": package,
                "where": dict(rest),
                "versions": {v: sorted(by_version[v]) for v in versions},
                "summary": f"{package}: " + ", ".join(parts),
            }
        )
    return found


def changes_by_scenario(
    insights: Sequence[dict[str, Any]],
) -> dict[tuple[str, str, str], list[str]]:
    """(scenario, "python X, os Y", summary) -> the methods it holds for: one change seen under
    several start methods is said once."""
    merged: dict[tuple[str, str, str], list[str]] = {}
    for item in insights:
        where = ", ".join(f"{k} {v}" for k, v in item["where"].items() if k in ("python", "os"))
        merged.setdefault((item["scenario"], where, item["summary"]), []).append(item["method"])
    return merged
