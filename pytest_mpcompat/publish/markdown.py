"""COMPATIBILITY.md: readable on GitHub and usable as a CI job summary."""

from __future__ import annotations

from collections import Counter, defaultdict

from ..model.axes import shown_in_tables
from ..model.cell import START_METHODS
from ..model.label import label
from ..model.matrix import Matrix, MergedCell, version_key
from ..model.outcome import KINDS
from ..scenario.facts import family
from .answers import answers
from .deploy import deploy_tables
from .insight import changes_by_scenario
from .markdown_front import (
    answers_section,
    deploy_section,
    glossary_section,
    not_measured_section,
)
from .mdtext import code as _code
from .mdtext import md as _md
from .mdtext import prose
from .wording import measured_on, when

__all__ = ["render_markdown"]

#: Bytes of Markdown after which the per-scenario tables stop (the rest of the file, the
#: signatures and the skip reasons, stays well under the 1 MiB of a GitHub job summary).
TABLES_BUDGET = 800_000


def _label(mc: MergedCell, notes: dict[str, int]) -> str:
    cell, said = mc.cell, label(mc.cell)
    text = f"{cell.outcome.kind.icon} {said.outcome}"
    text += f" {_md(said.status)}" if said.status else ""
    text += f" (ran as {_md(said.ran_as)})" if said.ran_as else ""
    text += "".join(f" {_code(s)}" for s in said.signatures)
    if cell.verdict.value == "skip" and cell.reason:
        text += f" [{notes.setdefault(cell.reason, len(notes) + 1)}]"
    return text


def _results(group: list[MergedCell], notes: dict[str, int]) -> str:
    """One configuration's results: its cell, or every outcome with its count and machines."""
    if len(group) == 1:
        return _label(group[0], notes)
    found: dict[str, list[MergedCell]] = {}
    for mc in group:
        found.setdefault(mc.outcome.kind.short, []).append(mc)
    if len(found) == 1:
        return f"{_label(group[0], notes)} ×{len(group)}"
    parts = []
    for name, where in found.items():
        machines = sorted({mc.source.machine or "?" for mc in where})
        parts.append(f"{len(where)} {name} ({_md(', '.join(machines))})")
    return "🔀 flaky: " + ", ".join(parts)


def _runs(matrix: Matrix) -> list[str]:
    """The runs that did not finish."""
    out = []
    for src in (s for s in matrix.sources if not s.complete):
        names = ", ".join(nodeid for nodeid, _ in src.unfinished) or "interrupted"
        out.append(f"\n**Incomplete run** {_code(src.session)}: {_md(names)}")
    return out


def _summary(by_family: dict[str, Counter[str]]) -> list[str]:
    heads = " | ".join(k.short for k in KINDS.values())
    out = ["", "## Summary", "", f"| family | {heads} |", "|---" * (len(KINDS) + 1) + "|"]
    for fam, counts in sorted(by_family.items()):
        tally = [str(counts.get(v, 0)) for v in KINDS]
        out.append(f"| {_md(fam)} | " + " | ".join(tally) + " |")
    return out


def _changes(matrix: Matrix) -> list[str]:
    """Where an outcome changes with a version, and the bisections that found the release."""
    out = []
    merged = changes_by_scenario(matrix.insights)
    if merged:
        out += ["", "## Where the outcome changes with a version", ""]
        for (scenario, where, summary), methods in merged.items():
            context = ", ".join(methods) + (f"; {where}" if where else "")
            out.append(f"- {_code(scenario)} ({_md(context)}): {_md(summary)}")
    if matrix.bisections:
        out += ["", "## Bisections", ""]
        for b in matrix.bisections:
            out.append(f"- {_code(b['scenario'])} ({_md(b['method'])}, Python "
                       f"{_md(b['python'])}): {_md(b['summary'])}")  # fmt: skip
    return out


def _table(scenario: str, idx: list[MergedCell], axis_names: list[str],
           notes: dict[str, int]) -> list[str]:  # fmt: skip
    """One scenario's table: a row per configuration, a column per start method."""
    # Columns: every package and Python; the other machine facts only where they vary.
    used = [
        n
        for n in axis_names
        if any(n in mc.axes for mc in idx)
        and shown_in_tables(n, {mc.axes.get(n, "") for mc in idx})
    ]
    methods = [m for m in START_METHODS if any(mc.method == m for mc in idx)]
    # Every result of a configuration is kept: runs on two machines, or repeated runs, are one
    # cell that says how often each outcome happened (never the last one only).
    rows: dict[tuple[str, ...], dict[str, list[MergedCell]]] = {}
    for mc in idx:
        key = tuple(mc.axes.get(n, "") for n in used)
        rows.setdefault(key, {}).setdefault(mc.method, []).append(mc)
    out = ["", f"### {_code(scenario)}", ""]
    out.append("| " + " | ".join(_md(n) for n in used + methods) + " |")
    out.append("|" + "---|" * (len(used) + len(methods)))
    for key, by_method in sorted(rows.items(), key=lambda kv: [version_key(v) for v in kv[0]]):
        cols = [_md(k) for k in key]
        cols += [_results(by_method[m], notes) if m in by_method else "" for m in methods]
        out.append("| " + " | ".join(cols) + " |")
    return out


def _tables(matrix: Matrix, by_scenario: dict[str, list[MergedCell]], size: int,
            notes: dict[str, int]) -> list[str]:  # fmt: skip
    """Every scenario's table by family, until the file reaches ``TABLES_BUDGET`` bytes (a job
    summary takes 1 MiB: the rest is on the page)."""
    axis_names = [n for n in matrix.axis_names() if n != "method"]
    out: list[str] = []
    left_out = 0
    for fam in sorted({family(s) for s in by_scenario}):
        if size > TABLES_BUDGET:
            left_out += sum(1 for s in by_scenario if family(s) == fam)
            continue
        out += ["", f"## {fam}"]
        for scenario in (s for s in by_scenario if family(s) == fam):
            if size > TABLES_BUDGET:
                left_out += 1
                continue
            table = _table(scenario, by_scenario[scenario], axis_names, notes)
            size += sum(len(line.encode()) + 1 for line in table)
            out += table
    if left_out:
        out += [
            "",
            f"**{left_out} more scenario tables** are not in this file, which stays under 1 MiB "
            "(what a GitHub job summary takes): every cell is in `index.html`.",
        ]
    return out


def _signatures(matrix: Matrix) -> list[str]:
    seen = dict.fromkeys(s for mc in matrix.cells for s in mc.cell.signatures)  # noqa: C401
    if not seen:
        return []
    out = ["", "## Signatures", "", "| signature | what it means | fix |", "|---|---|---|"]
    for sid in seen:
        sig = matrix.catalog.get(sid)
        what, fix = (prose(sig.explanation), prose(sig.fix)) if sig else ("", "")
        out.append(f"| {_code(sid)} | {what} | {fix} |")
    return out


def render_markdown(matrix: Matrix, page_url: str = "") -> str:
    out = ["# Compatibility report", ""]
    out.append(f"{_md(measured_on(matrix))} Generated {matrix.generated}. " + prose(when(matrix)))
    found = answers(matrix)
    out += [""] + deploy_section(deploy_tables(matrix, found), page_url)
    out += not_measured_section(matrix) + answers_section(found) + glossary_section()
    out += _runs(matrix)
    by_family: dict[str, Counter[str]] = defaultdict(Counter)
    by_scenario: dict[str, list[MergedCell]] = defaultdict(list)  # in matrix order
    for mc in matrix.cells:
        by_scenario[mc.scenario].append(mc)
        by_family[family(mc.scenario)][mc.outcome.value] += 1
    out += _summary(by_family) + _changes(matrix)
    notes: dict[str, int] = {}  # skip reason -> footnote number
    out += _tables(matrix, by_scenario, sum(len(line.encode()) + 1 for line in out), notes)
    if notes:
        out += ["", "## Why cells were skipped", ""]
        out += [f"{n}. {prose(reason)}" for reason, n in notes.items()]
    out += _signatures(matrix)
    seen = {mc.outcome.value for mc in matrix.cells}  # the legend names what the tables show
    legend = ", ".join(f"{k.icon} {k.words}" for k in KINDS.values() if k.name in seen)
    out += [
        "",
        f"Outcomes: {legend}; 🔀 flaky: runs of one configuration disagree.",
        "The data is in `matrix.json`; `index.html` has each cell's output, stacks and details.",
        "",
    ]
    return "\n".join(out)
