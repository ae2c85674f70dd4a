"""What a cell is and what it means: verdicts, outcomes and results (``cell``), the catalog of
failure signatures that decides a cell's outcome (``catalog``), the raw result file
(``rawfile``) and the merged matrix every renderer reads (``matrix``)."""

from __future__ import annotations

from .cell import (
    SCHEMA_VERSION,
    CellResult,
    Expectation,
    Outcome,
    ProcessStack,
    ServingRecord,
    SkipKind,
    Verdict,
)

__all__ = [
    "SCHEMA_VERSION",
    "CellResult",
    "Expectation",
    "Outcome",
    "ProcessStack",
    "ServingRecord",
    "SkipKind",
    "Verdict",
]
