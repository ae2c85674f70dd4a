"""The matrix in the terminal summary: scenarios by start method, coloured verdicts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from ..model.catalog import Signature
from ..model.cell import START_METHODS, CellResult
from ..model.label import label

__all__ = ["cell_label", "write_matrix"]


def cell_label(cell: CellResult) -> str:
    """Short text for one cell, e.g. ``crash SIGSEGV [worker-fatal-signal]`` (``model.label``)."""
    return label(cell).plain()


def _markup(cell: CellResult) -> dict[str, bool]:
    return dict.fromkeys(cell.outcome.kind.terminal, True)


def write_matrix(
    tr: pytest.TerminalReporter,
    cells: Sequence[CellResult],
    unfinished: Mapping[str, str],
    catalog: Mapping[str, Signature],
) -> None:
    if not cells and not unfinished:
        return
    tr.write_sep("=", "mpcompat matrix")
    methods = [m for m in START_METHODS if any(c.method == m for c in cells)]
    grid: dict[str, dict[str, CellResult]] = {}
    for cell in cells:
        grid.setdefault(cell.scenario, {})[cell.method] = cell
    first = max([len("scenario"), *(len(s) for s in grid)])
    widths = {
        m: max([len(m), *(len(cell_label(r[m])) for r in grid.values() if m in r)]) for m in methods
    }
    tr.write_line(
        "  ".join(["scenario".ljust(first), *(m.ljust(widths[m]) for m in methods)]), bold=True
    )
    for scenario, row in grid.items():
        tr.write(scenario.ljust(first))
        for m in methods:
            tr.write("  ")
            if m in row:
                tr.write(cell_label(row[m]).ljust(widths[m]), **_markup(row[m]))
            else:
                tr.write("-".ljust(widths[m]))
        tr.line("")
    if any(c.mismatch for c in cells):
        tr.write_line("! = contradicts what the scenario expects")
    reused = sorted(c.measured_at for c in cells if c.reused)
    if reused:
        when = reused[0] if reused[0] == reused[-1] else f"{reused[0]} to {reused[-1]}"
        tr.write_line(
            f"{len(reused)} of {len(cells)} cells reused from earlier runs, measured {when}: "
            "none of their inputs changed since (--mp-fresh runs them anew)"
        )
    seen: dict[str, CellResult] = {}
    for cell in cells:
        for sid in cell.signatures:
            if sid in catalog and (sid not in seen or sid in cell.matches):
                seen.setdefault(sid, cell)
                if sid in cell.matches and sid not in seen[sid].matches:
                    seen[sid] = cell
    if seen:
        tr.write_line("")
        for sid, example in seen.items():
            sig = catalog[sid]
            tr.write_line(f"{sid}: {sig.explanation}", bold=True)
            if sid in example.matches:
                line = example.matches[sid].strip().replace("\n", "\n        ")
                tr.write_line(f"    e.g. {example.scenario} ({example.method}):\n        {line}")
            tr.write_line(f"    fix: {sig.fix}")
    if unfinished:
        tr.write_line("")
        tr.write_line(f"{len(unfinished)} cell(s) did not finish:", red=True)
        for nodeid, reason in unfinished.items():
            tr.write_line(f"    {nodeid}: {reason}")
