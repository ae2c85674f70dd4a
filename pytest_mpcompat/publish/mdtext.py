"""Text from raw files made safe for Markdown, keeping the code spans the plugin's own texts
carry (a fix that names `scenario.py` reads as code, never as literal backticks)."""

from __future__ import annotations

import re

from .wording import code_spans

__all__ = ["code", "md", "prose"]

_SPECIAL = re.compile(r"([\\`*_\[\]<>|~#!{}])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def md(text: str) -> str:
    """Text from a raw file, safe inside a paragraph or a table cell: one line, and every
    character that Markdown (or a table) would act on is escaped."""
    return _SPECIAL.sub(r"\\\1", _CONTROL.sub(" ", str(text)))


def code(text: str) -> str:
    """``text`` as an inline code span that no backtick in it can close early, fit for a
    table cell (a ``|`` would end the cell even inside code)."""
    text = _CONTROL.sub(" ", str(text)).replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def prose(text: str) -> str:
    """``md`` for a sentence whose `quoted` parts are code: those become code spans."""
    return "".join(code(part) if is_code else md(part) for is_code, part in code_spans(text))
