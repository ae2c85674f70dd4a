"""The gate: what in a new matrix fails a run, with or without a baseline.

* a cell that contradicts its scenario's expectation (``mismatch``);
* a run lost to an environment gap (its cells are missing, even in a partial matrix);
* a matrix with no cell at all;
* against a baseline, a cell whose outcome got worse, unless its tries disagree (``verdict_counts``
  of a cell run more than once): that one is flaky, reported, and not a regression.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..model.axes import gate_key
from ..model.cell import Outcome
from ..model.matrix import MATRIX_KIND
from ..model.outcome import KINDS
from ..model.validate import problems

__all__ = ["MATRIX_SCHEMAS", "Baseline", "Gate", "check_matrix", "gate", "worse_cells"]

#: The matrix.json layouts the gate reads: 2 (before cells carried their skip kind and the file
#: its signatures), 3 and 4 (the outcome ``unmeasurable``) have the same cells as far as the gate
#: is concerned.
MATRIX_SCHEMAS = (2, 3, 4)

_OUTCOMES = [o.value for o in Outcome]
#: What the gate reads of a matrix.json, checked before it is read.
_GATE = {
    "type": "object",
    "required": ["cells"],
    "properties": {
        "cells": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["scenario", "axes", "verdict"],
                "properties": {
                    "scenario": {"type": "string"},
                    "axes": {"type": "object", "additionalProperties": {"type": "string"}},
                    "verdict": {"enum": ["pass", "crash", "hang", "skip", "error"]},
                    "outcome": {"enum": _OUTCOMES},
                    "signatures": {"type": "array", "items": {"type": "string"}},
                    "mismatch": {"type": "string"},
                    "verdict_counts": {
                        "type": "object",
                        "additionalProperties": {"type": "integer", "minimum": 1},
                    },
                },
            },
        }
    },
}


def check_matrix(path: Path, data: Any) -> str | None:
    """Why ``data`` (read from ``path``) is not a merged matrix the gate can read, or None."""
    if not isinstance(data, dict) or data.get("kind") != MATRIX_KIND:
        raw = isinstance(data, dict) and "cells" in data
        return "not a merged pytest-mpcompat matrix" + (
            " (a raw result: merge it first)" if raw else ""
        )
    if data.get("schema") not in MATRIX_SCHEMAS:
        known = " or ".join(map(str, MATRIX_SCHEMAS))
        return f"matrix of schema {data.get('schema')!r}, expected {known}"
    problem = next(problems(data, _GATE), None)
    if problem is not None:
        return str(problem)
    for i, cell in enumerate(data["cells"]):
        said = cell.get("outcome")
        if said is None and data["schema"] >= 3:  # every cell of schema 3 carries its outcome
            return f"cell {i} ({cell['scenario']}): field outcome is missing"
        if said is not None and KINDS[said].verdict != cell["verdict"]:
            return (
                f"cell {i} ({cell['scenario']}): field outcome: {said} contradicts its verdict "
                f"{cell['verdict']}"
            )
    return None


def cell_key(scenario: str, axes: dict[str, str]) -> tuple[Any, ...]:
    """One configuration of a scenario. A runner's Python moves between patch releases: 3.11.7
    and 3.11.9 are one configuration."""
    return (scenario, gate_key(axes))


def _key(cell: dict[str, Any]) -> tuple[Any, ...]:
    return cell_key(cell["scenario"], cell["axes"])


class Baseline:
    """A committed matrix.json's outcome of each configuration."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._outcomes = {_key(c): _outcome(c) for c in data["cells"]}

    def outcome(self, scenario: str, axes: dict[str, str]) -> Outcome | None:
        return self._outcomes.get(cell_key(scenario, axes))


def _outcome(cell: dict[str, Any]) -> Outcome:
    return Outcome(cell.get("outcome") or cell["verdict"])


def _line(cell: dict[str, Any], was: str, now: str) -> str:
    where = ", ".join(f"{k}={v}" for k, v in cell["axes"].items())
    sigs = cell.get("signatures") or []
    shown = f" [{', '.join(sigs)}]" if sigs and now != "missing" else ""
    return f"{cell['scenario']} ({where}): {was} -> {now}{shown}"


def worse_cells(baseline: dict[str, Any], new: dict[str, Any], partial: bool = False) -> list[str]:
    """Lines naming every cell whose outcome got worse (``Outcome``'s order: pass, degraded,
    skip, error, crash, hang), e.g. pass -> degraded or crash -> hang, and every cell of the
    baseline that the new matrix no longer has (-> missing): lost coverage is a regression,
    unless ``partial`` says the new matrix covers only part of the baseline (a CI matrix
    against the published one)."""
    return [line for line, _ in _worse(baseline, new, partial)]


def _worse(
    baseline: dict[str, Any], new: dict[str, Any], partial: bool
) -> list[tuple[str, tuple[Any, ...]]]:
    before = {_key(c): c for c in baseline["cells"]}
    seen = set()
    lines = []
    for cell in new["cells"]:
        key = _key(cell)
        seen.add(key)
        old = before.get(key)
        if old is None:
            continue
        was, now = _outcome(old), _outcome(cell)
        if now.worse_than(was):
            lines.append((_line(cell, was.value, now.value), key))
    for key, old in before.items():
        if key not in seen and not partial:
            lines.append((_line(old, _outcome(old).value, "missing"), key))
    return lines


def _tries(cell: dict[str, Any]) -> dict[str, int]:
    counts = cell.get("verdict_counts") or {}
    return {str(k): int(v) for k, v in counts.items()}


@dataclass
class Gate:
    """What the gate found: each list's lines name a cell or a run."""

    contradicted: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)  # runs lost to an environment gap
    worse: list[str] = field(default_factory=list)
    flaky: list[str] = field(default_factory=list)
    empty: bool = False

    @property
    def failed(self) -> bool:
        return bool(self.contradicted or self.lost or self.worse or self.empty)


def gate(new: dict[str, Any], baseline: dict[str, Any] | None, partial: bool = False) -> Gate:
    """Everything in ``new`` that fails a run (see the module's doc)."""
    found = Gate(empty=not new["cells"])
    for cell in new["cells"]:
        if cell.get("mismatch"):
            where = ", ".join(f"{k}={v}" for k, v in cell["axes"].items())
            found.contradicted.append(f"{cell['scenario']} ({where}): {cell['mismatch']}")
    for source in new.get("sources") or []:
        if isinstance(source, dict) and source.get("environment_gap"):
            found.lost.append(f"{source.get('session')}: {source['environment_gap']}")
    if baseline is None:
        return found
    cells = {_key(c): c for c in new["cells"]}
    for line, key in _worse(baseline, new, partial):
        counts = _tries(cells[key]) if key in cells else {}
        runs = sum(counts.values())
        if len(counts) > 1:
            seen = ", ".join(f"{v} x{n}" for v, n in sorted(counts.items()))
            found.flaky.append(f"{line.split(': ', 1)[0]}: {seen} in {runs} tries")
        else:
            found.worse.append(line + (f" (in each of {runs} tries)" if runs > 1 else ""))
    return found
