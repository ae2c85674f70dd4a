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
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .model import SCHEMA_VERSION, CellResult

if TYPE_CHECKING:
    from .signatures import Signature

__all__ = ["ReportError", "build_report", "read_report", "write_atomic"]


class ReportError(ValueError):
    """A report file that cannot be read as a pytest-mpcompat report."""


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
    catalog: Mapping[str, Signature] | None = None,
    gap: str | None = None,
) -> dict[str, Any]:
    from . import __version__
    from .signatures import BUILTIN_SIGNATURES, outcome

    known = catalog if catalog is not None else {s.id: s for s in BUILTIN_SIGNATURES}

    return {
        "schema": SCHEMA_VERSION,
        "generator": f"pytest-mpcompat {__version__}",
        "started": started,
        "written": _now(),
        "machine": platform.node(),
        "host": _host(),
        "complete": complete,
        "exitstatus": exitstatus,
        "cells": [{**c.to_dict(), "outcome": outcome(c, known)} for c in cells],
        "unfinished": [{"nodeid": k, "reason": v} for k, v in unfinished.items()],
        # Set when this machine could not build the environment: no cell ran, none is implied.
        "environment_gap": gap,
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
