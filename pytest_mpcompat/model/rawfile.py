"""The JSON report: every finished cell, rewritten atomically after each one.

A reader never sees a half-written file: the report goes to a temporary file beside the target,
is flushed to disk and then renamed over it. A run stopped by Ctrl-C, or one whose xdist worker
died, still leaves a valid report of the cells that finished and lists the ones that did not.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import os
import platform
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .cell import SCHEMA_VERSION, CellResult

if TYPE_CHECKING:
    from .catalog import Signature
    from .validate import Problem

__all__ = ["ReportError", "build_report", "read_report", "utc_now", "write_atomic"]


class ReportError(ValueError):
    """A report file that cannot be read as a pytest-mpcompat report."""


def utc_now() -> str:
    """Now, in UTC, ISO 8601 to the second: how every time in a raw result is written."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _host() -> dict[str, Any]:
    """What the run's machine was, for the published report's header."""
    memory_gb = None
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        memory_gb = round(pages * size / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        pass
    return {
        "system": platform.system(),
        "release": platform.release(),
        "arch": platform.machine(),
        "cpus": os.cpu_count(),
        "memory_gb": memory_gb,
    }


def build_report(
    cells: Iterable[CellResult],
    unfinished: dict[str, str],
    *,
    started: str,
    complete: bool,
    exitstatus: int | None = None,
    catalog: Mapping[str, Signature] | None = None,
    gap: str | None = None,
    not_made: str | None = None,
) -> dict[str, Any]:
    from .. import __version__
    from .catalog import BUILTIN, described

    cells = list(cells)
    seen = (sid for cell in cells for sid in cell.signatures)
    return {
        "schema": SCHEMA_VERSION,
        "generator": f"pytest-mpcompat {__version__}",
        "started": started,
        "written": utc_now(),
        "machine": platform.node(),
        "host": _host(),
        "complete": complete,
        "exitstatus": exitstatus,
        # The catalog entries of the signatures shown: what the report says of each.
        "signatures": described(seen, catalog if catalog is not None else BUILTIN),
        "cells": [c.to_dict() for c in cells],
        "unfinished": [{"nodeid": k, "reason": v} for k, v in unfinished.items()],
        # Set when this machine could not build the environment: no cell ran, none is implied.
        "environment_gap": gap,
        # Set when the run could not be made on this machine at all (its Python is missing).
        "not_made": not_made,
    }


def _lines(data: dict[str, Any]) -> Iterable[str]:
    """JSON with one top-level key, and one item of each top-level list, per line: diffs stay
    readable and every piece goes through the C encoder (``indent`` would force the slow one)."""
    dumps = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode
    yield "{\n"
    for n, (key, value) in enumerate(data.items()):
        sep = ",\n" if n < len(data) - 1 else "\n"
        if isinstance(value, list) and value:
            yield f"{dumps(key)}: [\n"
            yield ",\n".join(dumps(item) for item in value)
            yield f"\n]{sep}"
        else:
            yield f"{dumps(key)}: {dumps(value)}{sep}"
    yield "}\n"


def write_atomic(path: Path, data: dict[str, Any], durable: bool = True) -> None:
    """Replace ``path`` in one step. ``durable`` also waits for the disk (fsync): a raw result
    must survive a crash; output that one command regenerates need not pay for it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    # 0o666 less the umask, as for any file a program writes (mkstemp would make it 0600).
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.writelines(_lines(data))
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def read_report(path: Path) -> dict[str, Any]:
    """Load a raw result, bring an older layout up to date and check it against the schema;
    raises ReportError naming the file, the cell and the field that is wrong."""
    from .migrate import migrate
    from .untrusted import UntrustedJSONError, load_json
    from .validate import problems, raw_schema

    try:
        data = load_json(path)
    except UntrustedJSONError as exc:
        raise ReportError(str(exc)) from None
    if not isinstance(data, dict) or "schema" not in data or "cells" not in data:
        raise ReportError(f"{path}: not a pytest-mpcompat raw result (--mp-report writes them)")
    decided_here = data.get("schema") == SCHEMA_VERSION
    try:
        migrate(data)
    except ValueError as exc:
        raise ReportError(f"{path}: {exc}") from None
    problem = next(problems(data, raw_schema()), None)
    if problem is not None:
        raise ReportError(f"{path}: {_where(data, problem)}")
    data["cells"] = [CellResult.from_dict(c) for c in data["cells"]]
    if decided_here:  # (an older layout's outcomes were just decided by ``migrate``)
        contradiction = _contradiction(data)
        if contradiction is not None:
            raise ReportError(f"{path}: {contradiction}")
    return data


def _contradiction(data: dict[str, Any]) -> str | None:
    """The first cell whose outcome is not what its verdict and signatures make it, by the
    catalog entries the file itself carries (those its run judged by), or None."""
    from .catalog import Signature, decide

    entries = data.get("signatures") or {}
    catalog = {sid: Signature.from_dict(sid, e) for sid, e in entries.items()}
    for i, cell in enumerate(data["cells"]):
        said = cell.outcome
        decided = decide(dataclasses.replace(cell), catalog).outcome
        if said is not decided:
            sigs = ", ".join(cell.signatures) or "none"
            return (
                f"cell {i} ({cell.scenario}, {cell.method}): field outcome: {said.value} "
                f"contradicts its verdict {cell.verdict.value} and signatures ({sigs}), "
                f"which make it {decided.value}; the file was altered after its run wrote it"
            )
    return None


def _where(data: dict[str, Any], problem: Problem) -> str:
    """The problem, with the cell it is in: "cell 3 (scenarios/x.py, spawn): field ..."."""
    path = problem.path
    if len(path) < 3 or path[0] != "cells" or not isinstance(path[1], int):
        return str(problem)
    cell = data["cells"][path[1]]
    name = cell.get("scenario") if isinstance(cell, dict) else None
    method = cell.get("method") if isinstance(cell, dict) else None
    said = ", ".join(str(x) for x in (name, method) if isinstance(x, str))
    where = f"cell {path[1]}" + (f" ({said})" if said else "")
    return f"{where}: field {problem.field(skip=2)}: {problem.message}"
