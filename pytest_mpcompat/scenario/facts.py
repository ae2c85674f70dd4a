"""What a scenario's path and docstring say of it, for a report: its family (the file name's
first word), its short name, and the first line and ``Fix:`` paragraph of its docstring."""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

__all__ = ["family", "scenario_doc", "short"]


def family(scenario: str) -> str:
    """Scenario family: the file name's first word (kserve, vllm, stdlib, cuda, ...)."""
    return scenario.rsplit("/", 1)[-1].split("_", 1)[0]


def short(scenario: str) -> str:
    """A scenario's name without its directory, family and suffix: ``two_workers``."""
    stem = scenario.rsplit("/", 1)[-1].removesuffix(".py")
    return stem.split("_", 1)[1] if "_" in stem else stem


@functools.lru_cache(maxsize=512)
def scenario_doc(path: str) -> tuple[str, str]:
    """(first line, ``Fix:`` paragraph) of a scenario's docstring, read from the file where the
    report is made; ("", "") when the file is not there."""
    try:
        doc = ast.get_docstring(ast.parse(Path(path).read_text(encoding="utf-8"))) or ""
    except (OSError, SyntaxError, ValueError):
        return "", ""
    first = doc.strip().splitlines()[0] if doc.strip() else ""
    # "Fix:", "Fixes:", "Fix (to silence it ...):", "Fix on the user side for KServe < 0.14:";
    # the paragraph runs to a blank line or the next labelled one ("Measured (...):", "Source:").
    fix = re.search(
        r"^(Fix(?:es)?\b[^:\n]{0,60}):\s*(.*?)(?=\n\s*\n|\n[A-Z][A-Za-z ]{1,30}[:(]|\Z)",
        doc,
        re.M | re.S,
    )
    if fix is None:
        return first, ""
    said = fix.group(1).removeprefix("Fixes").removeprefix("Fix").strip()
    text = " ".join(fix.group(2).split())
    return first, f"{said}: {text}" if said else text
