"""Raw results of older schema versions, brought up to the current one before they are checked.

Each step takes the layout of one version to the next, so that a result published by an older
plugin merges beside new ones instead of being refused. What an older file did not record is
filled in as that version's plugin would have decided it (its outcome from the built-in catalog,
a skip's kind from the reason it wrote).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .cell import SCHEMA_VERSION, SkipKind

if TYPE_CHECKING:
    from .catalog import Signature

__all__ = ["OLDEST", "migrate", "skip_kind_of"]

#: The oldest layout that can be brought up to date.
OLDEST = 1

_ENVIRONMENT = re.compile(r"^needs .* \((?:not installed|installed: .*)\)$")
_PROSE: tuple[tuple[str, SkipKind], ...] = (
    ("not supported upstream", SkipKind.UPSTREAM),
    ("not installable", SkipKind.NOT_INSTALLABLE),
    ("needs Python ", SkipKind.PYTHON),
    ("start method ", SkipKind.START_METHOD),
    ("requires ", SkipKind.REQUIREMENT),
)


def skip_kind_of(reason: str) -> SkipKind | None:
    """The kind of skip an older plugin meant by ``reason`` (the words it wrote), if known."""
    if _ENVIRONMENT.match(reason):
        return SkipKind.ENVIRONMENT
    return next((kind for start, kind in _PROSE if reason.startswith(start)), None)


def _cells(data: dict[str, Any]) -> list[dict[str, Any]]:
    cells = data.get("cells")
    return [c for c in cells if isinstance(c, dict)] if isinstance(cells, list) else []


def _to_2(data: dict[str, Any]) -> None:
    """1 -> 2: a server's one ``port`` became ``ports``."""
    for cell in _cells(data):
        serving = cell.get("serving")
        if isinstance(serving, dict) and "ports" not in serving and "port" in serving:
            serving["ports"] = [serving.pop("port")]


def _to_3(data: dict[str, Any]) -> None:
    """2 -> 3: the outcome of every cell, a skip's kind, and the catalog entries shown."""
    from .catalog import BUILTIN, decide
    from .cell import CellResult, Verdict

    seen: dict[str, None] = {}
    for cell in _cells(data):
        sigs = cell.get("signatures")
        if isinstance(sigs, list):
            seen.update(dict.fromkeys(s for s in sigs if isinstance(s, str)))
        if "outcome" not in cell and cell.get("verdict") in {v.value for v in Verdict}:
            probe = CellResult("", "", Verdict(cell["verdict"]),
                               signatures=sigs if isinstance(sigs, list) else [])  # fmt: skip
            cell["outcome"] = decide(probe, BUILTIN).outcome.value
        if cell.get("verdict") == "skip" and "skip_kind" not in cell:
            kind = skip_kind_of(str(cell.get("reason") or ""))
            cell["skip_kind"] = kind.value if kind else None
    if "signatures" not in data:
        data["signatures"] = {sid: BUILTIN[sid].to_dict() for sid in seen if sid in BUILTIN}


def _shows(sig: Signature, text: str) -> bool:
    pattern = sig.compiled()
    return pattern is not None and pattern.search(text) is not None


def _to_4(data: dict[str, Any]) -> None:
    """3 -> 4: a crash that a built-in signature with ``needs`` explains (found in the output
    the cell recorded) is ``unmeasurable``: schema 3 had no word for it and called it a crash."""
    from .catalog import BUILTIN

    elsewhere = {sid: sig for sid, sig in BUILTIN.items() if sig.needs and sig.pattern}
    shown = data.get("signatures")
    for cell in _cells(data):
        sigs = cell.get("signatures")
        if cell.get("verdict") != "crash" or not isinstance(sigs, list):
            continue
        text = f"{cell.get('stdout_tail') or ''}\n{cell.get('stderr_tail') or ''}"
        found = [sid for sid, sig in elsewhere.items() if sid in sigs or _shows(sig, text)]
        if not found:
            continue
        sigs.extend(sid for sid in found if sid not in sigs)
        cell["outcome"] = "unmeasurable"
        if isinstance(shown, dict):
            shown.update({sid: BUILTIN[sid].to_dict() for sid in found})


_STEPS: dict[int, Callable[[dict[str, Any]], None]] = {1: _to_2, 2: _to_3, 3: _to_4}


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` (a raw result's JSON) in the current layout, changed in place. Raises ValueError
    for a version this plugin does not know (newer, or not a version at all)."""
    version = data.get("schema")
    if isinstance(version, bool) or not isinstance(version, int):
        raise ValueError(f"field schema: must be a layout version, not {version!r}")
    if version > SCHEMA_VERSION:
        raise ValueError(
            f"schema {version} is newer than this pytest-mpcompat reads ({SCHEMA_VERSION}): "
            "merge it with the release that wrote it, or a newer one"
        )
    if version < OLDEST:
        raise ValueError(f"schema {version} is older than any pytest-mpcompat report")
    while version < SCHEMA_VERSION:
        _STEPS[version](data)
        version += 1
        data["schema"] = version
    return data
