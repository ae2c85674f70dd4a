"""Version insight: for each scenario, method and package, the versions where the outcome
changes ("kserve: crash through 0.13.1, degraded 0.14.0-0.14.1, pass from 0.15.2"). Outcomes,
not bare verdicts: a pass whose output shows an error-level signature is ``degraded``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from ..model.axes import is_release
from ..model.matrix import Insight, MergedCell, version_key

__all__ = ["changes_by_scenario", "version_changes"]


def version_changes(cells: Sequence[MergedCell]) -> list[Insight]:
    """One entry per (scenario, method, package, other axes) whose outcome differs by version."""
    groups: dict[tuple[Any, ...], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for mc in cells:
        if not mc.measured:
            continue
        for package, version in mc.axes.items():
            if not is_release(package) or version == "not installed":
                continue
            rest = tuple(sorted((k, v) for k, v in mc.axes.items() if k not in (package, "method")))
            groups[(mc.scenario, mc.method, package, rest)][version].add(mc.outcome.value)
    found: list[Insight] = []
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
            Insight(
                scenario=scenario,
                method=method,
                package=package,
                where=dict(rest),
                versions={v: sorted(by_version[v]) for v in versions},
                summary=f"{package}: " + ", ".join(parts),
            )
        )
    return found


def changes_by_scenario(insights: Sequence[Insight]) -> dict[tuple[str, str, str], list[str]]:
    """(scenario, "python X, os Y", summary) -> the methods it holds for: one change seen under
    several start methods is said once."""
    merged: dict[tuple[str, str, str], list[str]] = {}
    for item in insights:
        where = ", ".join(f"{k} {v}" for k, v in item.where.items() if k in ("python", "os"))
        merged.setdefault((item.scenario, where, item.summary), []).append(item.method)
    return merged
