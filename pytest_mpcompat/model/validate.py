"""Checking a raw result against ``schema/raw-result.schema.json`` before it is merged.

The schema is plain JSON Schema (draft 2020-12), checked as such in the lint session; this reads
the part of it the file uses (``type``, ``const``, ``enum``, ``required``, ``properties``,
``additionalProperties``, ``items``, ``minimum``, ``anyOf`` and local ``$ref``) so that a merge
needs nothing beyond the plugin. A problem names the field by its path in the file.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

__all__ = ["SCHEMA_FILE", "Problem", "problems", "raw_schema"]

SCHEMA_FILE = Path(__file__).with_name("schema") / "raw-result.schema.json"

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
    "array": (list,),
    "object": (dict,),
}
_WORDS = {"array": "a list", "object": "an object", "null": "null", "integer": "an integer"}


@functools.cache
def raw_schema() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return data


class Problem:
    """One place where the data breaks the schema: its path (keys and indices) and why."""

    def __init__(self, path: tuple[str | int, ...], message: str) -> None:
        self.path, self.message = path, message

    def field(self, skip: int = 0) -> str:
        """The field's path, e.g. ``env.packages.torch`` (less its first ``skip`` parts)."""
        out = ""
        for part in self.path[skip:]:
            out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
        return out or "(the whole file)"

    def __str__(self) -> str:
        return f"field {self.field()}: {self.message}"


def _is(value: Any, kind: str) -> bool:
    if kind in ("integer", "number") and isinstance(value, bool):
        return False
    return isinstance(value, _TYPES[kind])


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def _type_name(value: Any) -> str:
    for kind in ("null", "boolean", "integer", "number", "string", "array", "object"):
        if _is(value, kind):
            return _WORDS.get(kind, f"a {kind}")
    return type(value).__name__


def problems(
    value: Any, schema: Mapping[str, Any], root: Mapping[str, Any] | None = None,
    path: tuple[str | int, ...] = (),
) -> Iterator[Problem]:  # fmt: skip
    """Every way ``value`` breaks ``schema``, outermost first."""
    root = root if root is not None else schema
    if "$ref" in schema:
        name = str(schema["$ref"]).removeprefix("#/$defs/")
        yield from problems(value, root["$defs"][name], root, path)
        return
    if "anyOf" in schema:
        if not any(not next(problems(value, s, root, path), None) for s in schema["anyOf"]):
            found = [p for s in schema["anyOf"] for p in problems(value, s, root, path)]
            yield max(found, key=lambda p: len(p.path))  # the one that got furthest
        return
    kinds = schema.get("type")
    if kinds is not None:
        kinds = [kinds] if isinstance(kinds, str) else list(kinds)
        if not any(_is(value, k) for k in kinds):
            want = " or ".join(_WORDS.get(k, f"a {k}") for k in kinds)
            yield Problem(path, f"must be {want}, not {_type_name(value)} ({_shown(value)})")
            return
    if "const" in schema and value != schema["const"]:
        yield Problem(path, f"must be {_shown(schema['const'])}, not {_shown(value)}")
    if "enum" in schema and value not in schema["enum"]:
        choices = ", ".join(_shown(v) for v in schema["enum"])
        yield Problem(path, f"must be one of {choices}, not {_shown(value)}")
    if "minimum" in schema and _is(value, "number") and value < schema["minimum"]:
        yield Problem(path, f"must be at least {schema['minimum']}, not {_shown(value)}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            yield from problems(item, schema["items"], root, (*path, i))
    if isinstance(value, dict):
        for key in schema.get("required", ()):
            if key not in value:
                yield Problem((*path, key), "is missing")
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            if key in props:
                yield from problems(item, props[key], root, (*path, key))
            elif isinstance(extra, dict):
                yield from problems(item, extra, root, (*path, key))
