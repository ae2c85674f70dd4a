"""The page's grid, worked out once: per family its rows (scenario and method), its columns (the
configurations, in version order, labelled by what varies), and in each place the text, colour
and cell to open; the filters and the order of their values. The page's script only filters,
draws and opens what this decided (``page/grid.js``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ..model.axes import lead_rank
from ..model.cell import START_METHODS
from ..model.label import label
from ..model.matrix import (
    DETAILS_CHUNK,
    DETAILS_FILES,
    SUMMARY_REASON_CHARS,
    Matrix,
    MergedCell,
    clip,
    version_key,
)
from ..model.outcome import KINDS
from ..scenario.facts import family

__all__ = ["Family", "cell_class", "family_grids", "group_text", "page_data"]

#: The page names an outcome by its place in this list (``outcomes`` in its data).
_OUTCOMES = list(KINDS)
_OUTCOME_INDEX = {name: n for n, name in enumerate(_OUTCOMES)}


def cell_class(mc: MergedCell) -> str:
    """The colour class of a cell: its outcome's name."""
    return mc.outcome.value


def _worst(group: list[MergedCell]) -> MergedCell:
    """The worst result of a place, the one whose details open (the first of equals)."""
    best = group[0]
    for mc in group[1:]:
        if mc.outcome.worse_than(best.outcome):
            best = mc
    return best


def group_text(group: list[MergedCell]) -> tuple[str, str]:
    """What a place in the grid says, and the signatures apart (a phone leaves them to the
    panel): its worst result (verdict, exit status, how it really started), ``×N`` when every
    run agreed, else each outcome with its count and machines (``flaky: 1 pass (ci-a), 1 hang
    (ci-b)``): never the last run only."""
    worst = label(_worst(group).cell)
    text = dataclasses.replace(worst, signatures=()).plain(every=False)
    sigs = "[" + ", ".join(worst.signatures) + "]" if worst.signatures else ""
    if len(group) == 1:
        return text, sigs
    seen: dict[str, list[str]] = {}
    for mc in group:
        seen.setdefault(mc.outcome.kind.short, []).append(mc.source.machine or "?")
    if len(seen) == 1:
        return f"{text} \u00d7{len(group)}", sigs
    parts = [
        f"{len(where)} {name} ({', '.join(dict.fromkeys(where))})" for name, where in seen.items()
    ]
    return "flaky: " + ", ".join(parts), ""


@dataclass
class Family:
    """One family's table. It is drawn two ways: with the configurations where something was
    measured (the default) and with every one ("show not run"); what the columns are, their
    labels and the axes said once above the table are worked out for each (index 0 and 1)."""

    name: str
    fixed: tuple[str, str]  # the axes that do not vary, said once above the table
    corner: tuple[str, str]  # what the columns are
    hidden: int  # columns with nothing measured (shown on request)
    columns: list[dict[str, Any]] = field(default_factory=list)  # labels, title, measured
    rows: list[dict[str, Any]] = field(default_factory=list)  # label, method
    #: row, col, text, sigs (its signatures), class, opens (the cell to open), reason, cells
    #: (every one of the place)
    places: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class _View:
    varying: list[str]  # the axes that vary among the view's cells, in label order
    heads: list[str]  # those that label a column: the leading ones, unless two would then
    fixed: str  # read the same; and the axes that do not vary, said once
    corner: str


def _view(cells: list[MergedCell], axes: list[str], fam: str) -> _View:
    present = [a for a in axes if any(a in mc.axes for mc in cells)]
    varying = [a for a in present if len({mc.axes.get(a) for mc in cells}) > 1]
    varying.sort(key=lambda a: lead_rank(a, fam))
    lead = [a for a in varying if lead_rank(a, fam) < 2]
    configs = {tuple(mc.axes.get(a) for a in varying) for mc in cells}
    chosen = [varying.index(a) for a in lead]
    distinct = bool(lead) and len({tuple(c[i] for i in chosen) for c in configs}) == len(configs)
    heads = lead if distinct else varying
    fixed = [f"{a} {cells[0].axes.get(a)}" for a in present if a not in varying]
    return _View(
        varying=varying,
        heads=heads,
        fixed=("every cell: " + ", ".join(fixed)) if fixed else "",
        corner="scenario \u00b7 method  \u2192  " + (" | ".join(heads) or "configuration"),
    )


def _family(fam: str, numbered: list[tuple[int, MergedCell]], axes: list[str]) -> Family:
    """``numbered``: the family's cells with their places in ``matrix.cells`` (where the
    details files have them)."""
    mine = [mc for _, mc in numbered]
    measured_cells = [mc for mc in mine if mc.measured]
    every = _view(mine, axes, fam)
    views = (_view(measured_cells, axes, fam) if measured_cells else every, every)
    varying = every.varying  # a column is a configuration as the whole family varies

    def key(mc: MergedCell) -> tuple[str, ...]:
        return tuple(mc.axes.get(a, "-") for a in varying)

    configs = sorted({key(mc) for mc in mine}, key=lambda k: [version_key(v) for v in k])
    column = {k: n for n, k in enumerate(configs)}
    measured = {key(mc) for mc in measured_cells}
    grid = Family(
        name=fam,
        fixed=(views[0].fixed, views[1].fixed),
        corner=(views[0].corner, views[1].corner),
        hidden=sum(1 for k in configs if k not in measured),
    )
    for k in configs:
        labels = [" | ".join(k[varying.index(a)] for a in v.heads) or "(one configuration)"
                  for v in views]  # fmt: skip
        grid.columns.append({"labels": labels, "title": " | ".join(k), "measured": k in measured})
    places: dict[tuple[int, int], list[tuple[int, MergedCell]]] = {}
    rows: dict[tuple[str, str], int] = {}
    scenarios = list(dict.fromkeys(mc.scenario for mc in mine))
    methods = {(mc.scenario, mc.method) for mc in mine}
    for sc in scenarios:
        known = [m for m in START_METHODS if (sc, m) in methods]
        for m in known + sorted(m for s, m in methods if s == sc and m not in START_METHODS):
            rows[(sc, m)] = len(grid.rows)
            name = sc.rsplit("/", 1)[-1].removesuffix(".py")
            grid.rows.append({"label": f"{name} \u00b7 {m}", "method": m})
    for n, mc in numbered:
        places.setdefault((rows[(mc.scenario, mc.method)], column[key(mc)]), []).append((n, mc))
    for (row, col), found in sorted(places.items()):
        group = [mc for _, mc in found]
        worst = _worst(group)
        opens = next(n for n, mc in found if mc is worst)
        reason = clip(worst.cell.reason, SUMMARY_REASON_CHARS)
        text, sigs = group_text(group)
        grid.places.append({"row": row, "col": col, "text": text, "sigs": sigs,
                            "class": cell_class(worst), "opens": opens, "reason": reason,
                            "cells": [n for n, _ in found]})  # fmt: skip
    return grid


def family_grids(matrix: Matrix) -> list[Family]:
    """One table per family, families by name; a cell is named by its place in
    ``matrix.cells``."""
    axes = [a for a in matrix.axis_names() if a != "method"]
    by_family: dict[str, list[tuple[int, MergedCell]]] = {}
    for n, mc in enumerate(matrix.cells):
        by_family.setdefault(family(mc.scenario), []).append((n, mc))
    return [_family(fam, by_family[fam], axes) for fam in sorted(by_family)]


def _filters(matrix: Matrix) -> list[dict[str, Any]]:
    """Every axis, the outcome and the scenario, each value in order with its label (``(none)``
    for a configuration without that axis), and whether it takes more than one value."""
    out = []
    for key in [*matrix.axis_names(), "outcome", "scenario"]:
        if key == "outcome":
            values = sorted({mc.outcome for mc in matrix.cells}, key=lambda o: o.rank)
            names = [o.value for o in values]
        elif key == "scenario":
            names = sorted({mc.scenario.rsplit("/", 1)[-1] for mc in matrix.cells})
        else:
            found = {mc.axes.get(key, "") for mc in matrix.cells}
            names = sorted(found, key=version_key)
        labels = [KINDS[n].words if key == "outcome" else n or "(none)" for n in names]
        options = [list(o) for o in zip(names, labels, strict=True)]
        # One that does not vary is drawn only when a link sets it (python=3.14).
        out.append({"key": key, "options": options, "varies": len(names) > 1})
    return out


def _packed(grids: list[Family], count: int) -> dict[str, Any]:
    """The families without their places, and every place by column (``places``): its row and
    column in its family's table, its text, signatures and reason as indices into ``texts``,
    its colour as an index into ``outcomes``, the cell it opens; ``place``, per cell, the place
    that shows it.
    Family ``k``'s places are ``first`` to ``first + count``. Strings repeated by thousands of
    places are written once: 100,000 cells stay about 2 MB."""
    texts: dict[str, int] = {}
    places: dict[str, list[int]] = {
        k: [] for k in ("row", "col", "text", "sigs", "class", "opens", "reason")
    }
    place = [-1] * count
    families = []
    for grid in grids:
        fam = grid.to_dict()
        found = fam.pop("places")
        fam["first"], fam["count"] = len(places["row"]), len(found)
        for p in found:
            for n in p["cells"]:
                place[n] = len(places["row"])
            places["row"].append(p["row"])
            places["col"].append(p["col"])
            places["text"].append(texts.setdefault(p["text"], len(texts)))
            places["sigs"].append(texts.setdefault(p["sigs"], len(texts)))
            places["class"].append(_OUTCOME_INDEX[p["class"]])
            places["opens"].append(p["opens"])
            places["reason"].append(texts.setdefault(p["reason"], len(texts)))
        families.append(fam)
    return {"families": families, "places": places, "place": place, "texts": list(texts),
            "outcomes": _OUTCOMES}  # fmt: skip


def page_data(matrix: Matrix) -> dict[str, Any]:
    """What the page's script reads: the grids (``_packed``), the filters, and per cell what a
    filter tests, by column (its configuration and scenario as indices into tables, its outcome
    as an index into ``outcomes``) and the place that shows it. The details files are named,
    one per ``chunk`` cells."""
    packed = _packed(family_grids(matrix), len(matrix.cells))
    scenarios: dict[str, int] = {}
    configs: dict[tuple[tuple[str, str], ...], int] = {}
    cells: dict[str, list[Any]] = {"config": [], "scenario": [], "outcome": []}
    for mc in matrix.cells:
        short = mc.scenario.rsplit("/", 1)[-1]
        cells["config"].append(configs.setdefault(tuple(mc.axes.items()), len(configs)))
        cells["scenario"].append(scenarios.setdefault(short, len(scenarios)))
        cells["outcome"].append(_OUTCOME_INDEX[mc.outcome.value])
    cells["place"] = packed.pop("place")
    chunks = range((len(matrix.cells) + DETAILS_CHUNK - 1) // DETAILS_CHUNK)
    return {
        "filters": _filters(matrix),
        **packed,
        "scenarios": list(scenarios),
        "configs": [dict(c) for c in configs],
        "chunk": DETAILS_CHUNK,
        "files": [DETAILS_FILES.format(chunk=n) for n in chunks],
        "cells": cells,
    }
