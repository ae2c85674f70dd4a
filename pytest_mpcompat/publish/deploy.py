"""What to deploy: per family, a table from Python (on a CPU or a GPU) and start method to the
releases measured safe, with what a deployer does about the others.

A release is safe at a Python and start method when every cell that judges it there (an
intended use, or a result that contradicts its expectation) passes. Each entry links into the
grid, filtered to its Python and start method.
"""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

from ..model.catalog import SHUTDOWN_TIMEOUT, Signature
from ..model.cell import START_METHODS, Outcome, SkipKind
from ..model.matrix import Matrix, MergedCell, spans, version_key
from .answers import Answer, answers, judged, minor, needs, where_measured

__all__ = ["Entry", "Table", "deploy_tables"]

#: Said of a release line that did not hang but whose stop needed SIGKILL.
_STOP_HUNG = (" Its stop hung as well: it outlived its stop signal's grace period and needed "
              "SIGKILL, as a pod that hangs on termination does.")  # fmt: skip


@dataclass(frozen=True)
class Entry:
    """One Python and start method: the releases measured safe there."""

    text: str  # "0.15.2 and newer (8 scenarios)", "none measured safe", "not measured"
    safe: bool
    link: str  # a query and fragment for index.html


@dataclass
class Table:
    family: str
    package: str  # what the entries list: releases of it ("python": the row itself)
    methods: list[str]
    rows: list[tuple[str, list[Entry]]] = field(default_factory=list)
    #: One line per unsafe release line: what it does and what a deployer does about it.
    unsafe: list[str] = field(default_factory=list)
    #: The outcome of each of those lines (its icon: a degraded one warns, a crash stops).
    unsafe_outcomes: list[str] = field(default_factory=list)
    mistakes: int = 0  # known mistakes that reproduced as documented (said in the answers)
    #: Why the table has no row: only known mistakes measured, or nothing measurable here.
    empty: str = ""
    #: Releases that cannot be installed on a Python (no row or entry measures them there).
    gaps: list[str] = field(default_factory=list)

    @property
    def mistakes_said(self) -> str:
        """ "2 known mistakes reproduced as documented", or "" with none."""
        n = self.mistakes
        return f"{n} known mistake{'s' if n != 1 else ''} reproduced as documented" if n else ""

    @property
    def heading(self) -> str:
        if not self.rows:
            return "nothing to deploy measured here"
        return "by Python" if self.package == "python" else f"{self.package} releases measured safe"


def _row(mc: MergedCell) -> tuple[str, bool]:
    gpu = mc.axes.get("gpu", "none") not in ("none", "", "?")
    return minor(mc.axes.get("python", "?")), gpu


def _entry(fam: str, package: str, cells: list[MergedCell], every: list[str]) -> Entry:
    """The releases measured safe among ``cells`` (one Python, one start method)."""
    pythons = Counter(mc.axes.get("python", "") for mc in cells)
    method = cells[0].method
    link = "?" + urlencode({"python": pythons.most_common(1)[0][0], "method": method})
    link += f"#grid-{fam}"
    chose = {mc.cell.ran_as for mc in cells}
    picked = ""  # every cell ran under another method: the method picked changes nothing
    if len(chose) == 1 and None not in chose and method not in chose:
        picked = f"; ran as {next(iter(chose))}: the start method you pick does not matter"
    entry = _safe_entry(package, cells, link, every)
    return dataclasses.replace(entry, text=entry.text + picked) if picked and entry.safe else entry


def _safe_entry(package: str, cells: list[MergedCell], link: str, every: list[str]) -> Entry:
    """``every``: the releases the family measured anywhere; a claim names those it spans
    that were not measured here."""
    by_version: dict[str, list[MergedCell]] = defaultdict(list)
    for mc in cells:
        version = mc.axes.get("python", "?") if package == "python" else mc.axes.get(package, "?")
        by_version[version].append(mc)
    measured = sorted(by_version, key=version_key)
    safe = [v for v in measured if all(mc.outcome is Outcome.PASS for mc in by_version[v])]
    backing = sorted({len({mc.scenario for mc in by_version[v]}) for v in safe})
    count = "" if not backing else (
        f"{backing[0]}" if len(backing) == 1 else f"{backing[0]}\u2013{backing[-1]}"
    )  # fmt: skip
    scenarios = f" ({count} scenario{'s' if count != '1' else ''})" if count else ""
    if package == "python":
        worst = max((mc.outcome for mc in cells), key=lambda o: o.rank)
        return Entry(f"{worst.value}{scenarios if safe else ''}", bool(safe), link)
    if not safe:
        return Entry("none measured safe", False, link)
    if len(measured) == 1:
        only = f" ({count} scenario{'s' if count != '1' else ''}; the one release measured)"
        return Entry(f"{safe[0]}{only}", True, link)
    newest = 0  # the safe run that reaches the newest release measured
    while newest < len(measured) and measured[-1 - newest] in safe:
        newest += 1
    if not newest:
        return Entry(spans(safe, measured) + scenarios, True, link)
    start = measured[-newest]
    earlier = [v for v in safe if version_key(v) < version_key(start)]
    text = f"{start} and newer" + (f"; also {spans(earlier, measured)}" if earlier else "")
    gaps = [v for v in every if version_key(v) > version_key(start) and v not in measured]
    if gaps:  # the claim spans only what was measured here
        text = spans([v for v in measured if v in safe], every) + (
            f"; not measured on this Python: {spans(gaps, every)}")  # fmt: skip
    return Entry(text + scenarios, True, link)


def _table(answer: Answer, catalog: Mapping[str, Signature]) -> Table:
    judging = [mc for mc in answer.cells if judged(mc) and mc.measured]
    methods = [m for m in START_METHODS if any(mc.method == m for mc in judging)]
    table = Table(answer.family, answer.package, methods, mistakes=len(answer.mistakes))
    if not judging:
        table.empty = _why_empty(answer, catalog)
    grid: dict[tuple[str, bool], dict[str, list[MergedCell]]] = defaultdict(dict)
    for mc in judging:
        grid[_row(mc)].setdefault(mc.method, []).append(mc)
    every = sorted({mc.axes.get(answer.package, "?") for mc in judging}, key=version_key)
    for (python, gpu), by_method in sorted(grid.items(), key=lambda kv: version_key(kv[0][0])):
        label = f"Python {python}" + (" on a GPU" if gpu else "")
        entries = [
            _entry(answer.family, answer.package, by_method[m], every)
            if m in by_method
            else Entry("not measured", False, "")
            for m in methods
        ]
        table.rows.append((label, entries))
    axis = "Python" if answer.package == "python" else answer.package
    rows = sorted({python for python, _ in grid}, key=version_key)
    for line in answer.lines:
        if line.problems:
            sigs = sorted({s for found in line.signatures.values() for s in found})
            seen = f" [{', '.join(sigs)}]" if sigs else ""
            stop = _STOP_HUNG if SHUTDOWN_TIMEOUT in sigs and "hang" not in line.problems else ""
            # Every problem it has, worst first ("crash and hang"): the icon is the worst's.
            *most, last = line.problems
            found = f"{', '.join(most)} and {last}" if most else last
            # The first two things to do; the answers below give every one.
            table.unsafe_outcomes.append(line.outcome)
            # Which rows it stands for, unless all of them (a line of releases only).
            every_row = all(set(rows) <= set(ps) for ps in line.pythons_at.values())
            on = "" if axis == "Python" or every_row else f" (Python {line.pythons_said(rows)})"
            table.unsafe.append(f"{axis} {line.span}{on}: {found}{seen}.{stop} What to do: "
                                + "; or ".join(line.actions[:2]) + ".")  # fmt: skip
    table.gaps = _not_installable(answer)
    return table


def _not_installable(answer: Answer) -> list[str]:
    """The releases upstream does not support on a Python, each with the Pythons: a reader of
    the table must not take a missing row or release for one measured."""
    if answer.package == "python":
        return []
    by: dict[str, set[str]] = defaultdict(set)
    for mc in answer.cells:
        if mc.cell.skip_kind is SkipKind.UPSTREAM:
            by[mc.axes.get(answer.package, "?")].add(minor(mc.axes.get("python", "?")))
    every = sorted({mc.axes.get(answer.package, "?") for mc in answer.cells}, key=version_key)
    alike: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for v in sorted(by, key=version_key):
        alike[tuple(sorted(by[v], key=version_key))].append(v)
    return [f"{answer.package} {spans(vs, every)} cannot be installed on Python "
            f"{', '.join(pys)} (upstream does not support it there)"
            for pys, vs in alike.items()]  # fmt: skip


def _why_empty(answer: Answer, catalog: Mapping[str, Signature]) -> str:
    elsewhere = [mc for mc in answer.cells if judged(mc) and mc.outcome is Outcome.UNMEASURABLE]
    if elsewhere:
        needed = needs(elsewhere, catalog)
        return (f"not measurable on this hardware: all {len(elsewhere)} cells of its intended use "
                f"stopped on what only {needed} has, which says nothing about the program or "
                f"its start method; they are measured {where_measured(needed)}")  # fmt: skip
    return "only known mistakes were measured (see the answers)"


def deploy_tables(matrix: Matrix, found: list[Answer] | None = None) -> list[Table]:
    """One table per family, from its main answer (along its own releases, nothing held
    fixed); families measured only by known mistakes say so."""
    tables: dict[str, Table] = {}
    for answer in found if found is not None else answers(matrix):
        if answer.family in tables or answer.context:
            continue
        tables[answer.family] = _table(answer, matrix.catalog)
    # Serving systems first, then what is measured along Python, then mistakes only.
    return sorted(tables.values(), key=lambda t: (not t.rows, t.package == "python", t.family))
