"""The ``# /// script`` block of a scenario (PEP 723): found in the file, with where each of its
lines sits, so that every mistake in it is reported with the file and line."""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["Block", "ScenarioError", "find_block", "open_value_line"]

_OPEN = re.compile(r"^# /// (?P<type>[a-zA-Z0-9-]+)$")
_COMMENT = re.compile(r"^#(?: .*)?$")
_CLOSE = "# ///"


class ScenarioError(Exception):
    """A scenario whose metadata cannot be used; ``str()`` reads ``path:line: message``."""

    def __init__(self, path: Path, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path, self.line, self.message = path, line, message


class Block:
    """The TOML text of the metadata block and where each of its lines sits in the file."""

    def __init__(self, path: Path, first_line: int, lines: list[str]) -> None:
        self.path, self.first_line, self.lines = path, first_line, lines

    def error(self, message: str, key: str | None = None, near: int | None = None) -> ScenarioError:
        return ScenarioError(self.path, self.line_of(key, near), message)

    def line_of(self, key: str | None, near: int | None = None) -> int:
        """File line of ``key = ...`` (or its table header) in the block; the block's first line
        when the key cannot be found."""
        if key is not None:
            k = re.escape(key)
            rx = re.compile(rf"^\s*(?:{k}\s*=|\[\[?\s*(?:tool\.mpcompat\.)?{k}\s*\]\]?)")
            start = 0 if near is None else max(0, near - self.first_line)
            for i in range(start, len(self.lines)):
                if rx.match(self.lines[i]):
                    return self.first_line + i
        return near if near is not None else self.first_line - 1


def find_block(path: Path, text: str) -> Block | None:
    lines = text.splitlines()
    block: Block | None = None
    i = 0
    while i < len(lines):
        opened = _OPEN.match(lines[i])
        if not opened:
            i += 1
            continue
        j, close = i + 1, None
        while j < len(lines) and _COMMENT.match(lines[j]):
            if lines[j] == _CLOSE:
                close = j
            j += 1
        if close is None:
            raise ScenarioError(
                path, i + 1, f"'# /// {opened['type']}' block is never closed with '# ///'"
            )
        if opened["type"] == "script":
            if block is not None:
                raise ScenarioError(path, i + 1, "a second '# /// script' block (only one allowed)")
            content = [
                line[2:] if line.startswith("# ") else line[1:] for line in lines[i + 1 : close]
            ]
            block = Block(path, i + 2, content)
        i = close + 1
    return block


def open_value_line(lines: list[str], reported: int) -> int:
    """The block line to blame for a TOML error tomllib places on line ``reported``.

    An array or inline table left open (``args = ["a",``) is reported where the next key
    starts, one line or more after the mistake; blame the line that opened it instead.
    """
    depth, opened = 0, reported
    for number, line in enumerate(lines[: reported - 1], start=1):
        text = re.sub(r"'[^']*'|\"(?:\\.|[^\"\\])*\"|#.*", "", line)  # strings, comments
        if depth == 0 and re.match(r"\s*\[", text):
            continue  # a table header, not a value
        for char in text:
            if char in "[{":
                if depth == 0:
                    opened = number
                depth += 1
            elif char in "]}" and depth:
                depth -= 1
    return opened if depth else reported
