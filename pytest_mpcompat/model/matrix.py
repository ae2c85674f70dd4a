"""The merged matrix: one record per cell with its configuration and its run, the runs it came
from, and the catalog its signatures are described by. Every renderer reads this model; each JSON
shape it is written in has one serialiser here (``Matrix.to_json`` for matrix.json,
``MergedCell.details`` for a cell in full).
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field
from typing import Any

from packaging.version import InvalidVersion, Version

from .axes import ordered as ordered_axes
from .catalog import Signature, exit_status
from .cell import SCHEMA_VERSION, CellResult, Outcome

__all__ = [
    "DETAILS_CHUNK",
    "DETAILS_FILES",
    "MATRIX_KIND",
    "SUMMARY_REASON_CHARS",
    "Insight",
    "Matrix",
    "MergedCell",
    "Source",
    "spans",
    "version_key",
]

MATRIX_KIND = "pytest-mpcompat matrix"
#: Cells per details file, and where those files are, relative to matrix.json.
DETAILS_CHUNK = 500
DETAILS_FILES = "details/{chunk:04d}.js"
#: A reason in matrix.json and on the page (the whole of it is in the cell's details).
SUMMARY_REASON_CHARS = 300


@functools.lru_cache(maxsize=4096)
def version_key(version: str) -> tuple[int, Any]:
    """Sort key that orders versions as versions (0.9.0 before 0.10.0, 1.0rc1 before 1.0, 3.9
    before 3.10), and anything else after them, as text. The one version order of every
    output, the page's included."""
    try:
        return (0, Version(version))
    except InvalidVersion:
        return (1, version)


def spans(versions: list[str], among: list[str]) -> str:
    """``versions`` as runs of consecutive members of ``among`` (in version order):
    "0.15.2, 0.16.0–0.20.0" for a subset, the whole when it is one run."""
    order = {v: n for n, v in enumerate(sorted(set(among), key=version_key))}
    mine = sorted(set(versions), key=lambda v: order.get(v, len(order)))
    runs: list[list[str]] = []
    for v in mine:
        if runs and order.get(v) == order.get(runs[-1][-1], -2) + 1:
            runs[-1].append(v)
        else:
            runs.append([v])
    return ", ".join(r[0] if len(r) == 1 else f"{r[0]}\u2013{r[-1]}" for r in runs)


@dataclass(frozen=True)
class Source:
    """One raw result merged: which run it was, where, and whether it finished."""

    file: str
    session: str
    machine: str
    started: str
    complete: bool
    unfinished: tuple[tuple[str, str], ...]  # (node id, reason)
    host: str  # one line about the machine
    environment_gap: str | None = None
    not_made: str | None = None  # the run could not be made on its machine, and why
    hardware: str = ""  # the line without the OS release: machines alike but for it are one

    def run(self) -> dict[str, str]:
        """What a cell shows of its run."""
        return {"session": self.session, "machine": self.machine, "started": self.started}

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "session": self.session,
            "machine": self.machine,
            "started": self.started,
            "complete": self.complete,
            "unfinished": [{"nodeid": n, "reason": r} for n, r in self.unfinished],
            "host": self.host,
            "environment_gap": self.environment_gap,
            "not_made": self.not_made,
        }


@dataclass(frozen=True)
class MergedCell:
    """A cell as merged: its result, the configuration it ran in, and the run it came from."""

    cell: CellResult
    axes: dict[str, str]  # os, python, gpu, packages, labels, method
    source: Source
    index: int  # into Matrix.sources

    @property
    def scenario(self) -> str:
        return self.cell.scenario

    @property
    def method(self) -> str:
        return self.cell.method

    @property
    def outcome(self) -> Outcome:
        return self.cell.outcome

    @property
    def measured(self) -> bool:
        """Whether it says what the program does here (not a skip, not unmeasurable)."""
        return self.outcome.kind.measured

    @functools.cached_property
    def status(self) -> str | None:
        """The exit status worth showing beside the verdict (``catalog.exit_status``)."""
        return exit_status(self.cell)

    def summary(self) -> dict[str, Any]:
        """The cell in matrix.json: what a gate or a grid needs; empty fields are left out."""
        cell = self.cell
        data: dict[str, Any] = {
            "scenario": cell.scenario,
            "method": cell.method,
            "verdict": cell.verdict.value,
            "outcome": cell.outcome.value,
            "signatures": list(cell.signatures),
            "axes": self.axes,
            "source": self.index,
        }
        optional = {
            "skip_kind": cell.skip_kind.value if cell.skip_kind else None,
            "status": self.status,
            "ran_as": cell.ran_as,
            "reason": clip(cell.reason, SUMMARY_REASON_CHARS),
            "exit_code": cell.exit_code,
            "signal": cell.signal,
            "duration_s": cell.duration_s,
            "measured_at": cell.measured_at,
            "reused": cell.reused or None,
            # What the gate fails on: a contradicted expectation, and tries that disagree.
            "mismatch": clip(cell.mismatch, SUMMARY_REASON_CHARS),
            "verdict_counts": dict(cell.verdict_counts) if cell.repeat > 1 else None,
        }
        data.update((k, v) for k, v in optional.items() if v not in (None, ""))
        return data

    def details(self) -> dict[str, Any]:
        """The cell in full, as a details file holds it (with the panel the page draws)."""
        return {**self.cell.to_dict(), "status": self.status, "axes": self.axes,
                "run": self.source.run()}  # fmt: skip


@dataclass(frozen=True)
class Insight:
    """Where a scenario's outcome changes with a package's version, the rest held fixed."""

    scenario: str
    method: str
    package: str
    where: dict[str, str]  # the other axes
    versions: dict[str, list[str]]  # version -> outcomes seen, in version order
    summary: str  # "kserve: crash through 0.13.1, pass from 0.14.0"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class Matrix:
    """Every merged cell, in a stable order (scenario, method, then configuration)."""

    cells: list[MergedCell]
    sources: list[Source]
    #: Every signature the cells show that some raw result described, by id.
    catalog: dict[str, Signature]
    #: Runs with no result, and why: an expected run with no raw file (interpreter missing, run
    #: cut short), or a run whose machine could not build its environment (an environment gap).
    missing: dict[str, str] = field(default_factory=dict)
    insights: list[Insight] = field(default_factory=list)
    bisections: list[dict[str, Any]] = field(default_factory=list)  # see matrix/bisection.py
    generated: str = ""

    def measured_cells(self) -> list[MergedCell]:
        """The cells that say what the program does (not skipped, not unmeasurable)."""
        return [mc for mc in self.cells if mc.measured]

    def axis_names(self) -> list[str]:
        names: dict[str, None] = {}
        for mc in self.cells:
            names.update(dict.fromkeys(mc.axes))
        return ordered_axes(names)

    def to_json(self) -> dict[str, Any]:
        """matrix.json: every cell's configuration and outcome. Each cell in full (output,
        stacks, serving record) is in the details files beside it (``DETAILS_CHUNK`` cells to
        a file), so that neither grows with the output of 100,000 cells."""
        return {
            "schema": SCHEMA_VERSION,
            "kind": MATRIX_KIND,
            "generated": self.generated,
            "sources": [s.to_dict() for s in self.sources],
            "missing_runs": [{"run": r, "reason": why} for r, why in self.missing.items()],
            "axes": self.axis_names(),
            "signatures": {sid: sig.to_dict() for sid, sig in self.catalog.items()},
            "insights": [i.to_dict() for i in self.insights],
            "bisections": self.bisections,
            "details": {"chunk": DETAILS_CHUNK, "files": DETAILS_FILES},
            "cells": [mc.summary() for mc in self.cells],
        }


def clip(text: str, limit: int, keep_end: bool = False) -> str:
    """``text`` cut to ``limit`` characters, saying how much was cut (``keep_end``: its end is
    kept, where an error shows)."""
    if len(text) <= limit:
        return text
    cut = f" [... {len(text) - limit} characters cut]"
    return cut + text[-limit:] if keep_end else text[:limit] + cut
