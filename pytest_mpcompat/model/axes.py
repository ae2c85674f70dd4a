"""The axes of a configuration, decided here once: the machine facts every run records (its OS,
Python and GPU), the start method, and the packages and labels a set varies. Their order, how
each is shown and which are releases are read by the merge, the grid, the Markdown, the
answers, the insights and the gate. A new machine axis is a row of ``MACHINE`` and its reading
in ``scenario/requirements.py`` (``tests/test_axes.py`` fails when one of them forgets it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "MACHINE",
    "METHOD",
    "Axis",
    "axes_of",
    "gate_key",
    "is_release",
    "lead_rank",
    "ordered",
    "shown_in_tables",
    "without_runs",
]


def _same(value: str) -> str:
    return value


def _minor(value: str) -> str:
    return ".".join(value.split(".")[:2])


@dataclass(frozen=True)
class Axis:
    """One fact of the machine a cell ran on, as every run records it in ``env``."""

    name: str  #: the key in a cell's ``env`` and its axes
    title: str  #: what a reader calls it
    missing: str  #: the value of a cell whose run did not record it
    #: A column of every scenario's table, even where it does not vary (else only where it
    #: does: one OS throughout is said once, not in every row).
    always_shown: bool = False
    #: What makes two values one configuration for the gate (Python 3.11.7 and 3.11.9 are one).
    same: Callable[[str], str] = _same
    #: Values a report expects runs for (as recorded, as named): those with none are named,
    #: so that a reader knows they were not measured rather than measured safe.
    expected: tuple[tuple[str, str], ...] = ()


#: In the order tables and filters show them, before the packages.
MACHINE: tuple[Axis, ...] = (
    Axis("os", "OS", "?",
         expected=(("Linux", "Linux"), ("Darwin", "macOS"), ("Windows", "Windows"))),
    Axis("python", "Python", "?", always_shown=True, same=_minor),
    Axis("gpu", "GPU", "none"),
)  # fmt: skip
#: The start method: the last axis, a table's columns.
METHOD = "method"
#: Labels a matrix file sets that name where or how it ran, not a release of anything.
_NOT_RELEASES = frozenset({"runner"})
_BY_NAME = {a.name: a for a in MACHINE}


def is_release(name: str) -> bool:
    """Whether an axis is a package's (or a label's) release, that answers list and headline
    ("kserve releases measured safe"): not a machine fact, the method or a runner's name."""
    return name not in _BY_NAME and name != METHOD and name not in _NOT_RELEASES


def axes_of(env: Mapping[str, Any], method: str) -> dict[str, str]:
    """A cell's configuration, flattened: the machine facts, its packages (a package not
    installed reads so, or as its label), the other labels, the method."""
    axes = {a.name: str(env.get(a.name) or a.missing) for a in MACHINE}
    labels = env.get("labels") or {}
    for name, version in sorted((env.get("packages") or {}).items()):
        axes[name] = str(version or labels.get(name) or "not installed")
    for name, value in sorted(labels.items()):
        axes.setdefault(name, str(value))
    axes[METHOD] = method
    return axes


def ordered(names: Iterable[str]) -> list[str]:
    """Axis names in display order: the machine facts, the rest by name, the method last."""
    found = dict.fromkeys(names)
    rest = sorted(n for n in found if n not in _BY_NAME and n != METHOD)
    return [a.name for a in MACHINE if a.name in found] + rest + [METHOD]


def shown_in_tables(name: str, values: set[str]) -> bool:
    """Whether a scenario's table has a column for the axis, given the values it takes there."""
    axis = _BY_NAME.get(name)
    return axis is None or axis.always_shown or len(values) > 1


def lead_rank(name: str, family: str) -> int:
    """Which axes label a family's grid columns first: the family's own package (kserve for
    kserve_*), then Python, then the rest."""
    if name.startswith(family):
        return 0
    return 1 if name == "python" else 2


def gate_key(axes: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """A configuration as the gate compares it: each machine fact by what makes it the same."""
    return tuple(sorted((k, _BY_NAME[k].same(v) if k in _BY_NAME else v) for k, v in axes.items()))


def without_runs(seen: Mapping[str, set[str]]) -> list[tuple[Axis, list[str]]]:
    """For each machine axis that expects values, those (named) that no cell has, given the
    values ``seen`` of each axis: [(axis, names)]."""
    out = []
    for axis in MACHINE:
        names = [named for value, named in axis.expected if value not in seen.get(axis.name, set())]
        if names and axis.expected:
            out.append((axis, names))
    return out
