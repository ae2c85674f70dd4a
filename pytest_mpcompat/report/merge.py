"""Merge raw reports into one matrix: every cell with its axes, its run and its machine."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..jsonreport import ReportError, read_report
from ..model import SCHEMA_VERSION, START_METHODS, CellResult
from ..redact import Redactor, scrub
from ..signatures import BUILTIN_SIGNATURES, exit_status, outcome
from .insight import version_changes, version_key

__all__ = ["DETAILS_CHUNK", "DETAILS_FILES", "Matrix", "MergeError", "axes_of", "merge_files"]


_CATALOG = {s.id: s for s in BUILTIN_SIGNATURES}


_NO_RESULT = (
    "no result: not run where the matrix ran (its interpreter or hardware was missing), "
    "or the run did not finish"
)


class MergeError(ValueError):
    """A raw file that cannot be merged (named in the message)."""


def axes_of(cell: CellResult) -> dict[str, str]:
    """The configuration a cell ran in, flattened: os, python, gpu, packages, labels, method."""
    env = cell.env or {}
    axes = {
        "os": str(env.get("os") or "?"),
        "python": str(env.get("python") or "?"),
        "gpu": str(env.get("gpu") or "none"),
    }
    labels = env.get("labels") or {}
    for name, version in sorted((env.get("packages") or {}).items()):
        axes[name] = str(version or labels.get(name) or "not installed")
    for name, value in sorted(labels.items()):
        axes.setdefault(name, str(value))
    axes["method"] = cell.method
    return axes


@dataclass
class Matrix:
    """The merged model every renderer reads."""

    cells: list[CellResult]
    axes: list[dict[str, str]]  # parallel to cells
    runs: list[dict[str, Any]]  # parallel to cells: source, session, machine, date
    sources: list[dict[str, Any]]
    # Runs with no result, and why: an expected run with no raw file (interpreter missing, run
    # cut short), or a run whose machine could not build its environment (an environment gap).
    missing: dict[str, str] = field(default_factory=dict)
    bisections: list[dict[str, Any]] = field(default_factory=list)  # see matrix/bisection.py
    generated: str = ""
    _as_dict: dict[str, Any] | None = field(default=None, repr=False)

    def axis_names(self) -> list[str]:
        names: dict[str, None] = {}
        for axes in self.axes:
            names.update(dict.fromkeys(axes))
        order = ["os", "python", "gpu"]
        rest = sorted(n for n in names if n not in order and n != "method")
        return [n for n in order if n in names] + rest + ["method"]

    def to_dict(self) -> dict[str, Any]:
        """The matrix as JSON data (matrix.json), computed once: every cell's configuration and
        outcome. Each cell in full (output, stacks, serving record) is ``details(i)``, written
        in chunks of ``DETAILS_CHUNK`` beside it, so that neither file grows with the output of
        100,000 cells."""
        if self._as_dict is None:
            self._as_dict = self._build_dict()
        return self._as_dict

    def _build_dict(self) -> dict[str, Any]:
        source = {s["session"]: i for i, s in enumerate(self.sources)}
        return {
            "schema": SCHEMA_VERSION,
            "kind": "pytest-mpcompat matrix",
            "generated": self.generated,
            "sources": self.sources,
            "missing_runs": [{"run": r, "reason": why} for r, why in self.missing.items()],
            "axes": self.axis_names(),
            "insights": version_changes(self.cells, self.axes),
            "bisections": self.bisections,
            "details": {"chunk": DETAILS_CHUNK, "files": DETAILS_FILES},
            "cells": [
                _summary(cell, axes, source.get(run["session"], -1))
                for cell, axes, run in zip(self.cells, self.axes, self.runs, strict=True)
            ],
        }

    def details(self, i: int) -> dict[str, Any]:
        """Cell ``i`` in full, as the page's side panel shows it."""
        cell = self.cells[i]
        return {
            **cell.to_dict(),
            "outcome": outcome(cell, _CATALOG),
            "status": exit_status(cell),
            "axes": self.axes[i],
            "run": self.runs[i],
        }


#: Cells per details file, and where those files are, relative to matrix.json.
DETAILS_CHUNK = 500
DETAILS_FILES = "details/{chunk:04d}.js"
#: A reason in matrix.json and on the page (the whole of it is in the cell's details).
SUMMARY_REASON_CHARS = 300


def _summary(cell: CellResult, axes: dict[str, str], source: int) -> dict[str, Any]:
    """A cell in matrix.json: what a gate or a grid needs; empty fields are left out."""
    data: dict[str, Any] = {
        "scenario": cell.scenario,
        "method": cell.method,
        "verdict": cell.verdict.value,
        "outcome": outcome(cell, _CATALOG),
        "signatures": list(cell.signatures),
        "axes": axes,
        "source": source,
    }
    optional = {
        "status": exit_status(cell),
        "ran_as": cell.ran_as,
        "reason": _clip(cell.reason, SUMMARY_REASON_CHARS),
        "exit_code": cell.exit_code,
        "signal": cell.signal,
        "duration_s": cell.duration_s,
    }
    data.update((k, v) for k, v in optional.items() if v not in (None, ""))
    return data


#: Longest text kept from a raw file, by kind: a name or label, a reason, an output tail or stack
#: (its end is kept: that is where an error shows). A 1 MB label must not make a page 16 million
#: pixels wide, nor a hostile file a 1 GB report.
NAME_CHARS, REASON_CHARS, OUTPUT_CHARS = 300, 2000, 16_000


def _clip(text: str, limit: int, keep_end: bool = False) -> str:
    if len(text) <= limit:
        return text
    cut = f" [... {len(text) - limit} characters cut]"
    return cut + text[-limit:] if keep_end else text[:limit] + cut


def _cap(cell: CellResult) -> None:
    cell.scenario = _clip(cell.scenario, NAME_CHARS)
    cell.method = _clip(cell.method, NAME_CHARS)
    cell.reason, cell.mismatch = (
        _clip(cell.reason, REASON_CHARS),
        _clip(cell.mismatch, REASON_CHARS),
    )
    cell.stdout_tail = _clip(cell.stdout_tail, OUTPUT_CHARS, keep_end=True)
    cell.stderr_tail = _clip(cell.stderr_tail, OUTPUT_CHARS, keep_end=True)
    cell.signatures = [_clip(s, NAME_CHARS) for s in cell.signatures[:100]]
    cell.leaked = [_clip(line, REASON_CHARS) for line in cell.leaked[:100]]
    cell.stacks = [
        dataclasses.replace(s, cmdline=_clip(s.cmdline, REASON_CHARS),
                            stack=_clip(s.stack, OUTPUT_CHARS, keep_end=True))
        for s in cell.stacks[:100]
    ]  # fmt: skip
    env = cell.env or {}
    for key in ("labels", "packages"):
        if isinstance(env.get(key), dict):
            env[key] = {
                _clip(str(k), NAME_CHARS): _clip(str(v), NAME_CHARS) if v is not None else None
                for k, v in list(env[key].items())[:50]
            }
    for key in ("os", "python", "gpu", "os_release", "machine"):
        if isinstance(env.get(key), str):
            env[key] = _clip(env[key], NAME_CHARS)


def read_json(path: Path) -> Any:
    """A JSON file's data; a file that cannot be read or parsed raises MergeError naming it."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MergeError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MergeError(f"{path}: not valid JSON: {exc}") from None


def read_bisection(path: Path) -> dict[str, Any]:
    """A result of ``nox -s bisect``; anything else raises MergeError naming the file."""
    data = read_json(path)
    if not isinstance(data, dict) or data.get("kind") != "pytest-mpcompat bisection":
        raise MergeError(f"{path}: not a bisection result (nox -s bisect writes them)")
    return data


def merge_files(
    paths: Iterable[Path],
    expected_runs: Mapping[str, str] | None = None,
    bisections: Iterable[Path] = (),
) -> Matrix:
    """Read every raw report; a file that is not one raises MergeError naming it."""
    cells, axes, runs, sources = [], [], [], []
    redact = Redactor()
    for path, data in _distinct_runs(paths):
        session = path.stem
        source = {
            "file": path.name,
            "session": session,
            "machine": data.get("machine", ""),
            "started": data.get("started", ""),
            "complete": data.get("complete", False),
            "unfinished": data.get("unfinished", []),
            "host": describe_host(data),
            "environment_gap": data.get("environment_gap"),
        }
        source = scrub(source, redact)
        sources.append(source)
        for cell in data["cells"]:
            scrub(cell, redact)  # every string: names, labels, reasons, stacks, output
            _cap(cell)
            cells.append(cell)
            axes.append(axes_of(cell))
            runs.append({k: source[k] for k in ("session", "machine", "started")})
    order = sorted(
        range(len(cells)),
        key=lambda i: (
            cells[i].scenario,
            _method_rank(cells[i].method),
            [(k, version_key(v)) for k, v in axes[i].items()],
        ),
    )
    have = {s["session"] for s in sources}
    # Each expected run names what it is for (its matrix file and description), or "".
    missing = {
        r: _NO_RESULT + (f" ({n})" if n else "")
        for r, n in (expected_runs or {}).items()
        if r not in have
    }
    missing.update(
        (s["session"], f"environment gap: {s['environment_gap']}")
        for s in sources
        if s["environment_gap"]
    )
    return Matrix(
        cells=[cells[i] for i in order],
        axes=[axes[i] for i in order],
        runs=[runs[i] for i in order],
        sources=sources,
        missing=missing,
        bisections=[read_bisection(p) for p in sorted(bisections)],
        generated=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    )


def _distinct_runs(paths: Iterable[Path]) -> list[tuple[Path, dict[str, Any]]]:
    """Every raw report once per run: the same run (session, machine and start time) found
    twice, say uploaded by two jobs or committed and downloaded again, is merged once, from
    its most complete copy."""
    kept: dict[tuple[str, str, str], tuple[Path, dict[str, Any]]] = {}
    order: list[tuple[str, str, str]] = []
    for path in sorted(paths):
        try:
            data = read_report(path)
        except ReportError as exc:
            raise MergeError(str(exc)) from None
        started = str(data.get("started") or "")
        run = (path.stem, str(data.get("machine") or ""), started or f"file {path}")
        if run not in kept:
            order.append(run)
        elif _completeness(kept[run][1]) >= _completeness(data):
            continue
        kept[run] = (path, data)
    return [kept[run] for run in order]


def _completeness(data: dict[str, Any]) -> tuple[bool, int]:
    return bool(data.get("complete")), len(data.get("cells") or [])


def describe_host(data: dict[str, Any]) -> str:
    """One line about the machine a raw report came from (older reports: from its cells)."""
    host = data.get("host") or {}
    env = data["cells"][0].env if data["cells"] else {}
    system = host.get("system") or env.get("os", "?")
    release = host.get("release") or env.get("os_release", "")
    parts = [
        f"{system} {release}".strip(),
        host.get("arch") or env.get("machine") or "",
        f"{host['cpus']} CPUs" if host.get("cpus") else "",
        f"{host['memory_gb']:g} GB" if host.get("memory_gb") else "",
        f"GPU {env.get('gpu') or 'none'}",
    ]
    return f"{data.get('machine') or '?'} ({', '.join(p for p in parts if p)})"


def _method_rank(method: str) -> int:
    return START_METHODS.index(method) if method in START_METHODS else len(START_METHODS)
