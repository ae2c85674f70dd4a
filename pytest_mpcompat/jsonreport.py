"""The JSON report: every finished cell, rewritten atomically after each one.

A reader never sees a half-written file: the report goes to a temporary file beside the target,
is flushed to disk and then renamed over it. A run stopped by Ctrl-C, or one whose xdist worker
died, still leaves a valid report of the cells that finished and lists the ones that did not.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .model import SCHEMA_VERSION, CellResult

__all__ = ["ReportError", "build_report", "read_report", "write_atomic"]


class ReportError(ValueError):
    """A report file that cannot be read as a pytest-mpcompat report."""


_UMASK = os.umask(0o022)
os.umask(_UMASK)


def _now() -> str:
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
) -> dict[str, Any]:
    from . import __version__

    return {
        "schema": SCHEMA_VERSION,
        "generator": f"pytest-mpcompat {__version__}",
        "started": started,
        "written": _now(),
        "machine": platform.node(),
        "host": _host(),
        "complete": complete,
        "exitstatus": exitstatus,
        "cells": [c.to_dict() for c in cells],
        "unfinished": [{"nodeid": k, "reason": v} for k, v in unfinished.items()],
    }


def _lines(data: dict[str, Any]) -> Iterable[str]:
    """JSON with one top-level key, and one item of each top-level list, per line: diffs stay
    readable and every piece goes through the C encoder (``indent`` would force the slow one)."""
    dumps = json.JSONEncoder(ensure_ascii=False).encode
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
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes it 0600; a report is meant to be read
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.writelines(_lines(data))
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
    """Load and check a report; raises ReportError naming the file and what is wrong."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ReportError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise ReportError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA_VERSION:
        raise ReportError(
            f"{path}: not a pytest-mpcompat report of schema {SCHEMA_VERSION} "
            f"(schema: {data.get('schema') if isinstance(data, dict) else None!r})"
        )
    try:
        data["cells"] = [CellResult.from_dict(c) for c in data["cells"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise ReportError(f"{path}: malformed cell: {exc}") from None
    return data
