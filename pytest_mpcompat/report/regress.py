"""Regression check: which cells got worse between a baseline and a new matrix."""

from __future__ import annotations

from typing import Any

from ..signatures import worse

__all__ = ["worse_cells"]


def _key(cell: dict[str, Any]) -> tuple[Any, ...]:
    # A runner's Python moves between patch releases: 3.11.7 and 3.11.9 are one configuration.
    axes = {
        k: (".".join(v.split(".")[:2]) if k == "python" else v) for k, v in cell["axes"].items()
    }
    return (cell["scenario"], tuple(sorted(axes.items())))


def _line(cell: dict[str, Any], was: str, now: str) -> str:
    where = ", ".join(f"{k}={v}" for k, v in cell["axes"].items())
    sigs = f" [{', '.join(cell['signatures'])}]" if cell["signatures"] and now != "missing" else ""
    return f"{cell['scenario']} ({where}): {was} -> {now}{sigs}"


def worse_cells(baseline: dict[str, Any], new: dict[str, Any], partial: bool = False) -> list[str]:
    """Lines naming every cell whose outcome got worse (``model.OUTCOMES``: pass, degraded,
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
        was, now = old.get("outcome", old["verdict"]), cell.get("outcome", cell["verdict"])
        if worse(was, now):
            lines.append(_line(cell, was, now))
    for key, old in before.items():
        if key not in seen and not partial:
            lines.append(_line(old, old.get("outcome", old["verdict"]), "missing"))
    return lines
