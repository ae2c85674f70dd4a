"""What the page's side panel shows of one cell, decided and worded here: its heading, the
facts as (label, text), each signature's and the scenario's fix as pieces of text and code, and
the sections of output with the line to mark. The page's script only draws it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..model.catalog import Signature
from ..model.matrix import MergedCell
from ..scenario.facts import scenario_doc
from .wording import code_spans

__all__ = ["panel"]


def _facts(mc: MergedCell) -> list[list[str]]:
    cell, out = mc.cell, []

    def add(label: str, value: object) -> None:
        if value not in (None, ""):
            out.append([label, str(value)])

    if cell.verdict.value != cell.outcome.value:
        add("verdict", f"{cell.verdict.value} (how its processes ended; the outcome, "
                       f"{cell.outcome.kind.words}, reads its signatures too)")  # fmt: skip
    add("configuration", ", ".join(f"{k}={v}" for k, v in mc.axes.items()))
    add("exit code", cell.exit_code)
    add("signal", cell.signal)
    add("duration", f"{cell.duration_s} s")
    add("reason", cell.reason)
    add("mismatch", cell.mismatch)
    if cell.expected is not None:
        sigs = cell.expected.signatures
        add("expected", cell.expected.verdict.value + (f" [{', '.join(sigs)}]" if sigs else ""))
    if cell.repeat > 1:
        counts = ", ".join(f"{v} \u00d7{n}" for v, n in sorted(cell.verdict_counts.items()))
        add(f"verdicts over {cell.repeat} runs", counts)
    if cell.methods_used:
        add(
            "processes started with",
            ", ".join(f"{m} \u00d7{n}" for m, n in cell.methods_used.items()),
        )
    if cell.ran_as:
        add("ran as", f"{cell.ran_as} (not {cell.method}: the program chose its own start method)")
    if cell.measured_at:
        reused = " (an earlier run's result, reused: none of the cell's inputs had changed since)"
        add("measured", cell.measured_at + (reused if cell.reused else ""))
    run = mc.source
    add("run", f"{run.session} on {run.machine or '?'}, {run.started}")
    return out


def _spans(text: str) -> list[list[Any]]:
    return [[code, piece] for code, piece in code_spans(text) if piece]


def _notes(mc: MergedCell, catalog: Mapping[str, Signature], fix: str) -> list[list[Any]]:
    out: list[list[Any]] = []
    for sid in mc.cell.signatures:
        sig = catalog.get(sid)
        text = f"{sig.explanation} Fix: {sig.fix}" if sig else "(no description)"
        out.append([f"{sid}: ", _spans(text)])
    if fix:
        out.append(["Fix (scenario): ", _spans(fix)])
    return out


def _sections(mc: MergedCell) -> list[list[Any]]:
    """[title, path of the text in the cell's record, the line to mark]: the output's ends are
    marked at the first line a signature matched, and shown from there (else from their end)."""
    cell = mc.cell
    matched = next(iter(cell.matches.values()), "") if cell.matches else ""
    out: list[list[Any]] = []
    if cell.serving is not None:
        out.append(["serving", ["serving"], ""])
    out += [["leaked process", ["leaked", n], ""] for n in range(len(cell.leaked))]
    for title, key in (("stderr (end)", "stderr_tail"), ("stdout (end)", "stdout_tail")):
        if getattr(cell, key):
            out.append([title, [key], matched if matched in getattr(cell, key) else ""])
    for n, st in enumerate(cell.stacks):
        out.append([f"stack of {st.pid} ({st.tool}): {st.cmdline}", ["stacks", n, "stack"], ""])
    return out


def panel(mc: MergedCell, catalog: Mapping[str, Signature]) -> dict[str, Any]:
    lead, fix = scenario_doc(mc.scenario)
    return {
        "title": f"{mc.scenario} \u2014 {mc.method}: {mc.outcome.kind.words}",
        "lead": lead,
        "facts": _facts(mc),
        "notes": _notes(mc, catalog, fix),
        "sections": _sections(mc),
    }
