"""Keep secrets out of reports: values of secret-looking environment variables, tokens of
well-known shapes, the value of any ``SECRET_NAME=value`` pair, the password of a URL
(``postgres://user:pass@host``) and bearer/basic credentials are replaced wherever text is
stored (output tails, stacks, command lines of leaked processes) and, at merge, in every string
of every cell and run (``scrub``)."""

from __future__ import annotations

import dataclasses
import enum
import os
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["REDACTED", "Redactor", "scrub"]

REDACTED = "[redacted]"
_SECRET_NAME = re.compile(
    r"TOKEN|SECRET|PASSW|PASSPHRASE|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL|AUTH", re.I
)
# Not \b: a token glued to a name by "_" ("model_hf_...") is still a token.
_SHAPES = re.compile(
    r"(?<![A-Za-z0-9])(?:hf_[A-Za-z0-9]{20,}|gh[pousr]_[A-Za-z0-9]{20,}|AKIA[0-9A-Z]{16}"
    r"|sk-[A-Za-z0-9_-]{20,}|xox[baprs]-[A-Za-z0-9-]{10,})(?![A-Za-z0-9])"
)
_NAMED = re.compile(
    r"(?i)\b([A-Z0-9_]*(?:TOKEN|SECRET|PASSW(?:OR)?D?|PASSPHRASE|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY"
    r"|CREDENTIALS?)[A-Z0-9_]*)(\s*[=:]\s*[\"']?)([^\s\"',;]{4,})"
)
_URL_PASSWORD = re.compile(r"\b([a-z][a-z0-9+.-]*://[^/\s:@]+):([^/\s@]+)@", re.I)
_AUTH = re.compile(r"(?i)\b(Bearer|Basic|Token)(\s+)[A-Za-z0-9._~+/=-]{8,}")
_MIN_LEN = 6  # shorter values ("1", "true") would redact ordinary text
_MEMO_CHARS, _MEMO_ENTRIES = 256, 100_000


class Redactor:
    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        values = {v for k, v in env.items() if _SECRET_NAME.search(k) and len(v) >= _MIN_LEN}
        self._values = sorted(values, key=len, reverse=True)
        self._memo: dict[str, str] = {}

    def __call__(self, text: str) -> str:
        if len(text) <= _MEMO_CHARS:  # names, labels, reasons: the same few strings, many times
            done = self._memo.get(text)
            if done is None:
                if len(self._memo) > _MEMO_ENTRIES:
                    self._memo.clear()
                done = self._memo[text] = self._redact(text)
            return done
        return self._redact(text)

    def _redact(self, text: str) -> str:
        for value in self._values:
            if value in text:
                text = text.replace(value, REDACTED)
        text = _SHAPES.sub(REDACTED, text)
        if "=" in text or ":" in text:
            text = _NAMED.sub(lambda m: m.group(1) + m.group(2) + REDACTED, text)
            text = _URL_PASSWORD.sub(lambda m: f"{m.group(1)}:{REDACTED}@", text)
        return _AUTH.sub(lambda m: m.group(1) + m.group(2) + REDACTED, text)


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
