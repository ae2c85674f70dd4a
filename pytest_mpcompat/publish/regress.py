"""Regression check: which cells got worse between a baseline and a new matrix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..model.cell import Outcome
from ..model.matrix import MATRIX_KIND
from ..model.validate import problems

__all__ = ["MATRIX_SCHEMAS", "check_matrix", "worse_cells"]

#: The matrix.json layouts the gate reads: 2 (before cells carried their skip kind and the file
#: its signatures) and 3 have the same cells as far as the gate is concerned.
MATRIX_SCHEMAS = (2, 3)

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
        if (
            said is not None
            and said != cell["verdict"]
            and not (said == "degraded" and cell["verdict"] == "pass")
        ):
            return (
                f"cell {i} ({cell['scenario']}): field outcome: {said} contradicts its verdict "
                f"{cell['verdict']}"
            )
    return None


def _key(cell: dict[str, Any]) -> tuple[Any, ...]:
    # A runner's Python moves between patch releases: 3.11.7 and 3.11.9 are one configuration.
    axes = {
        k: (".".join(v.split(".")[:2]) if k == "python" else v) for k, v in cell["axes"].items()
    }
    return (cell["scenario"], tuple(sorted(axes.items())))


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
            lines.append(_line(cell, was.value, now.value))
    for key, old in before.items():
        if key not in seen and not partial:
            lines.append(_line(old, _outcome(old).value, "missing"))
    return lines
