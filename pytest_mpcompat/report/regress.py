"""Regression check: which cells got worse between a baseline and a new matrix."""

from __future__ import annotations

from typing import Any

__all__ = ["worse_cells"]

_RANK = {"pass": 0, "skip": -1, "error": -1, "crash": 1, "hang": 2}


def _key(cell: dict[str, Any]) -> tuple[Any, ...]:
    return (cell["scenario"], tuple(sorted(cell["axes"].items())))


def worse_cells(baseline: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Lines naming every cell that went from pass to crash or hang (or from crash to hang)."""
    before = {_key(c): c for c in baseline["cells"]}
    lines = []
    for cell in new["cells"]:
        old = before.get(_key(cell))
        if old is None:
            continue
        was, now = old["verdict"], cell["verdict"]
        if _RANK.get(was, -1) >= 0 and _RANK.get(now, -1) > _RANK.get(was, -1):
            where = ", ".join(f"{k}={v}" for k, v in cell["axes"].items())
            sigs = f" [{', '.join(cell['signatures'])}]" if cell["signatures"] else ""
            lines.append(f"{cell['scenario']} ({where}): {was} -> {now}{sigs}")
    return lines
