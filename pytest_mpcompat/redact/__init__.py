"""Keep secrets out of reports: values of secret-looking environment variables, tokens of
well-known shapes (``TOKEN_SHAPES``), private key blocks, the value of any setting, header or
JSON field named like a secret (``DB_PASSWORD=x``, ``"password": "x"``, ``X-Api-Key: x``), the
password of a URL (``postgres://user:pass@host``), signed URLs and authorization credentials are
replaced wherever text is stored (output tails, stacks, command lines of leaked processes) and,
at merge, in every string of every cell and run (``scrub``)."""

from __future__ import annotations

import dataclasses
import enum
import functools
import os
import re
from collections.abc import Mapping
from typing import Any

from .names import redact_named, says_nothing
from .shapes import redact_keys, redact_shapes
from .tokens import TOKEN_SHAPES, redact_tokens

__all__ = ["REDACTED", "TOKEN_SHAPES", "Redactor", "process_redactor", "scrub"]

REDACTED = "[redacted]"
#: Environment variables whose values are secrets: each value is taken out wherever it appears.
_SECRET_NAME = re.compile(
    r"TOKEN|SECRET|PASSW|PASSPHRASE|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL|AUTH|_KEY$"
    r"|^KEY_|COOKIE|SESSION_?(?:ID|KEY|TOKEN)|WEBHOOK|DSN$|CONN(?:ECTION)?_?STR",
    re.I,
)
_MIN_LEN = 6  # shorter values ("1", "true") would redact ordinary text
_MEMO_CHARS, _MEMO_ENTRIES = 2000, 200_000


class Redactor:
    """Takes secrets out of text: the values of this environment's secret-named variables, key
    material, then, line by line, every family of ``tokens``, ``shapes`` and ``names``.

    Output repeats itself (the same banner, warning or traceback in every cell of a matrix), so
    each line is redacted once: lines not seen before are redacted together, in one text, and
    remembered."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        values = {
            v
            for k, v in env.items()
            if _SECRET_NAME.search(k) and len(v) >= _MIN_LEN and not says_nothing(v)
        }
        self._values = sorted(values, key=len, reverse=True)
        self._lines: dict[str, str] = {}

    def __call__(self, text: str) -> str:
        for value in self._values:
            if value in text:
                text = text.replace(value, REDACTED)
        if "KEY" in text or "Private-Lines" in text or "ecret" in text:
            text = redact_keys(text, REDACTED)
        memo = self._lines
        if "\n" not in text:
            one = memo.get(text)
            if one is None:
                one = _redact_lines(text)
                if len(text) <= _MEMO_CHARS:
                    self._remember({text: one})
            return one
        lines = text.split("\n")
        new = [line for line in dict.fromkeys(lines) if line not in memo]
        if not new:
            return "\n".join([memo[line] for line in lines])
        redacted = _redact_lines("\n".join(new)).split("\n")
        if len(redacted) != len(new):  # a rule took a line break with it: one line at a time
            redacted = [_redact_lines(line) for line in new]
        found = dict(zip(new, redacted, strict=True))
        self._remember({k: v for k, v in found.items() if len(k) <= _MEMO_CHARS})
        return "\n".join([found[line] if line in found else memo[line] for line in lines])

    def _remember(self, done: dict[str, str]) -> None:
        if len(self._lines) + len(done) > _MEMO_ENTRIES:
            self._lines.clear()
        self._lines.update(done)


@functools.cache
def process_redactor() -> Redactor:
    """The redactor of this process's environment, made once: what it learns of repeated lines
    serves every cell of the run."""
    return Redactor()


def _redact_lines(text: str) -> str:
    """What stays within a line: structured shapes first (a URL's password, a header), then
    tokens, then values found by their names."""
    text = redact_shapes(text, REDACTED)
    text = redact_tokens(text, REDACTED)
    return redact_named(text, REDACTED)


_FIELDS: dict[type, tuple[str, ...]] = {}
_PLAIN = (int, float, bool, type(None))


def scrub(value: Any, redact: Redactor) -> Any:
    """``value`` with every string in it redacted: strings, lists, tuples, dict keys and values,
    and the fields of dataclass instances (changed in place; frozen ones are replaced)."""
    kind = type(value)
    if kind is str:
        return redact(value)
    if kind in _PLAIN:
        return value
    if kind is list:
        return [scrub(v, redact) for v in value]
    if kind is dict:
        return {scrub(k, redact): scrub(v, redact) for k, v in value.items()}
    if kind is tuple:
        return tuple(scrub(v, redact) for v in value)
    if isinstance(value, enum.Enum):  # a verdict: a value of the model, not text
        return value
    if isinstance(value, str):
        return redact(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = _FIELDS.get(kind)
        if names is None:
            names = _FIELDS[kind] = tuple(f.name for f in dataclasses.fields(value))
        changes = {name: scrub(getattr(value, name), redact) for name in names}
        if value.__dataclass_params__.frozen:  # type: ignore[attr-defined]
            return dataclasses.replace(value, **changes)
        for name, new in changes.items():
            setattr(value, name, new)
    return value
