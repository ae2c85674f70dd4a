"""Regression check: which cells got worse between a baseline and a new matrix."""

from __future__ import annotations

from typing import Any

from ..signatures import worse

__all__ = ["worse_cells"]


def _key(cell: dict[str, Any]) -> tuple[Any, ...]:
    return (cell["scenario"], tuple(sorted(cell["axes"].items())))


def worse_cells(baseline: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Lines naming every cell whose outcome got worse (``model.OUTCOMES``: pass, degraded,
    skip, error, crash, hang), e.g. pass -> degraded or crash -> hang."""
    before = {_key(c): c for c in baseline["cells"]}
    lines = []
    for cell in new["cells"]:
        old = before.get(_key(cell))
        if old is None:
            continue
        was, now = old.get("outcome", old["verdict"]), cell.get("outcome", cell["verdict"])
        if worse(was, now):
            where = ", ".join(f"{k}={v}" for k, v in cell["axes"].items())
            sigs = f" [{', '.join(cell['signatures'])}]" if cell["signatures"] else ""
            lines.append(f"{cell['scenario']} ({where}): {was} -> {now}{sigs}")
    return lines
