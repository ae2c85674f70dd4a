"""Checks shared by the tables of a scenario's block: each raises ``ScenarioError`` at the line of
the key it names."""

from __future__ import annotations

from typing import Any, overload

from ..constants import START_METHODS, seconds_problem
from ._block import Block, ScenarioError

__all__ = ["check_method", "near", "no_unknown", "seconds", "str_list", "whole"]


def near(name: str, choices: set[str]) -> str:
    """ " (did you mean 'x'?)" for a name close to one of ``choices``, else ""."""
    import difflib

    close = difflib.get_close_matches(name, sorted(choices), n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""


def seconds(block: Block, table: dict[str, Any], key: str, zero_ok: bool = False) -> float | None:
    value = table.get(key)
    if value is None:
        return None
    problem = seconds_problem(value, zero_ok)
    if problem:
        raise block.error(f"{key!r} {problem}, not {value!r}", key)
    return float(value)


@overload
def whole(block: Block, table: dict[str, Any], key: str, default: int) -> int: ...
@overload
def whole(block: Block, table: dict[str, Any], key: str, default: None = None) -> int | None: ...
def whole(block: Block, table: dict[str, Any], key: str, default: int | None = None) -> int | None:
    """``table[key]`` as a whole number >= 1 (``default`` when it is not there)."""
    value = table.get(key, default)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise block.error(f"'{key}' must be a whole number >= 1, not {value!r}", key)
    return value


def no_unknown(block: Block, table: dict[str, Any], valid: set[str], where: str, key: str) -> None:
    unknown = sorted(set(table) - valid)
    if unknown:
        raise block.error(
            f"unknown key {unknown[0]!r} in {where} (valid keys: {', '.join(sorted(valid))})",
            unknown[0] if block.line_of(unknown[0]) >= block.first_line else key,
        )


def check_method(block: Block, method: str, key: str, line: int | None = None) -> str:
    if method not in START_METHODS:
        message = f"unknown start method {method!r} (valid: {', '.join(START_METHODS)})"
        raise ScenarioError(block.path, line or block.line_of(key), message)
    return method


def str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)
