"""Reading JSON that came from elsewhere (raw results uploaded by CI jobs, a baseline
``matrix.json``) as untrusted input: only a regular file, opened without blocking (a FIFO among
the inputs would stall a merge forever), of bounded size; numbers that JSON in a browser reads
as written (no ``NaN``, ``Infinity``, ``1e400`` or integers of more than 20 digits); nesting and
strings of bounded size. Each refusal is one line naming the file and what to do, never a
traceback (``UntrustedJSONError``)."""

from __future__ import annotations

import json
import math
import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_STRING", "UntrustedJSONError", "load_json"]

MAX_BYTES = 2 << 30  # a raw result of 100,000 cells is about 250 MB
MAX_DEPTH = 32  # a raw result nests 6 deep (cell, serving, its requests, ...)
MAX_STRING = 4 << 20  # an output tail is 8 KiB, a hung cell's stacks some hundred KiB
_MAX_DIGITS = 20  # a 64-bit integer: exit codes, pids, counts, bytes


class UntrustedJSONError(ValueError):
    """A file that is not JSON this project reads; the message names the file."""


def _int(text: str) -> int:
    if len(text.lstrip("-")) > _MAX_DIGITS:
        raise UntrustedJSONError(f"an integer of {len(text)} digits (at most {_MAX_DIGITS})")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise UntrustedJSONError(f"the number {text[:30]} is too large for JSON readers")
    return value


def _constant(text: str) -> Any:
    raise UntrustedJSONError(f"{text} is not a JSON number (browsers' JSON.parse refuses it)")


def read_regular(path: Path, limit: int = MAX_BYTES) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``limit`` bytes."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise UntrustedJSONError(f"{path}: cannot read: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise UntrustedJSONError(
                f"{path}: not a regular file (a FIFO, device or socket); give the file itself"
            )
        if info.st_size > limit:
            raise UntrustedJSONError(f"{path}: {info.st_size} bytes, more than {limit} allowed")
        return fh.read(limit + 1)


def load_json(path: Path) -> Any:
    """The data of the JSON file ``path``, refused (``UntrustedJSONError``) where it breaks any
    of the limits above."""
    raw = read_regular(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UntrustedJSONError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    try:
        data = json.loads(text, parse_int=_int, parse_float=_float, parse_constant=_constant)
    except UntrustedJSONError as exc:
        raise UntrustedJSONError(f"{path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise UntrustedJSONError(f"{path}:{exc.lineno}: not valid JSON: {exc}") from None
    except RecursionError:
        raise UntrustedJSONError(f"{path}: nested deeper than {MAX_DEPTH} levels") from None
    where = _too_deep_or_long(data)
    if where is not None:
        raise UntrustedJSONError(f"{path}: {where}")
    return data


def _too_deep_or_long(data: Any) -> str | None:
    """What in ``data`` nests deeper than ``MAX_DEPTH`` or is a string longer than
    ``MAX_STRING`` (the first found, named by its top-level field and cell), or None."""
    top: list[tuple[Any, int, str]] = []
    if type(data) is dict:
        for key, value in data.items():
            if key == "cells" and type(value) is list:
                top += [(cell, 2, f"cell {i}") for i, cell in enumerate(value)]
            else:
                top.append((value, 1, f"field {key}"))
    else:
        top.append((data, 0, "the whole file"))
    for value, depth, where in top:
        stack = [(value, depth)]
        while stack:
            item, level = stack.pop()
            if type(item) is str:
                if len(item) > MAX_STRING:
                    return f"{where}: a string of {len(item)} characters (at most {MAX_STRING})"
                continue
            if type(item) is not dict and type(item) is not list:
                continue
            if level >= MAX_DEPTH:
                return f"{where}: nested deeper than {MAX_DEPTH} levels"
            values: Iterable[Any] = item
            if type(item) is dict:
                values = item.values()
                if any(len(k) > MAX_STRING for k in item):
                    return f"{where}: a key longer than {MAX_STRING} characters"
            for v in values:
                kind = type(v)
                if kind is str:
                    if len(v) > MAX_STRING:
                        stack.append((v, level))
                elif kind is dict or kind is list:
                    stack.append((v, level + 1))
    return None
