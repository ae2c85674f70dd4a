"""Keep secrets out of reports: values of secret-looking environment variables, tokens of
well-known shapes (``TOKEN_SHAPES``), private key blocks, the value of any setting, header or
JSON field named like a secret (``DB_PASSWORD=x``, ``"password": "x"``, ``X-Api-Key: x``), the
password of a URL (``postgres://user:pass@host``), signed URLs and authorization credentials are
replaced wherever text is stored (output tails, stacks, command lines of leaked processes) and,
at merge, in every string of every cell and run (``scrub``)."""

from __future__ import annotations

import dataclasses
import enum
import os
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["REDACTED", "TOKEN_SHAPES", "Redactor", "scrub"]

REDACTED = "[redacted]"
_SECRET_NAME = re.compile(
    r"TOKEN|SECRET|PASSW|PASSPHRASE|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL|AUTH", re.I
)
#: Tokens recognised by their shape alone, wherever they appear (the families detect-secrets
#: and the providers' own scanners know). Not \b: a token glued to a name by "_"
#: ("model_hf_...") is still a token.
TOKEN_SHAPES: tuple[tuple[str, str], ...] = (
    ("Hugging Face", r"hf_[A-Za-z0-9]{20,}"),
    ("GitHub", r"gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{40,}"),
    ("GitLab", r"glpat-[A-Za-z0-9_-]{20,}"),
    ("AWS access key", r"(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}"),
    ("Google API key", r"AIza[0-9A-Za-z_-]{35}"),
    ("Google OAuth token", r"ya29\.[0-9A-Za-z_-]{20,}"),
    ("OpenAI / Anthropic", r"sk-(?:proj-|ant-(?:api\d\d-)?)?[A-Za-z0-9_-]{20,}"),
    ("Stripe", r"(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,}"),
    ("Slack", r"xox[abposr]-[A-Za-z0-9-]{10,}"),
    ("Slack webhook", r"https://hooks\.slack\.com/services/[A-Za-z0-9/]{20,}"),
    ("SendGrid", r"SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}"),
    ("npm", r"npm_[A-Za-z0-9]{36}"),
    ("PyPI", r"pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{20,}"),
    ("Twilio", r"SK[0-9a-f]{32}"),
    ("Telegram bot", r"\d{8,10}:AA[A-Za-z0-9_-]{33}"),
    ("Discord bot", r"[MN][A-Za-z\d]{23,25}\.[\w-]{6}\.[\w-]{27,}"),
    ("JSON Web Token", r"eyJ[A-Za-z0-9_-]{10,}={0,2}\.[A-Za-z0-9_-]{4,}={0,2}\.[A-Za-z0-9_-]*"),
)
_SHAPES = re.compile(
    "(?<![A-Za-z0-9])(?:" + "|".join(rx for _, rx in TOKEN_SHAPES) + ")(?![A-Za-z0-9])"
)
#: A private key block (PEM, or as JSON carries it with its newlines written ``\n``); one cut
#: short by the end of the output is taken out to the end.
_PRIVATE_KEY = re.compile(
    r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY( BLOCK)?-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY"
    r"( BLOCK)?-----|\Z)",
    re.S,
)
#: The value of a setting, header, JSON field or command-line flag whose name says it is a
#: secret: ``DB_PASSWORD=x``, ``"password": "x"``, ``X-Api-Key: x``, ``--token x``. The words
#: are found first, then the name around them and the value after it (one pass of a plain
#: regex over the text: a scan from every word boundary costs several times more).
_SECRET_WORD = re.compile(
    r"(?i)token|secret|passw|passphrase|api[_-]?key|access[_-]?key|private[_-]?key"
    r"|account[_-]?key|credential|cookie|session[_-]?id"
)
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
_VALUE = re.compile(r"([\"']?\s*[=:]\s*[\"']?)([^\s\"',;&]{4,})")
_FLAG_VALUE = re.compile(r"(\s+)([^\s\"',;&-][^\s\"',;&]{3,})")
#: Values that say nothing secret (``max_tokens=2048``, ``password: none``).
_HARMLESS = re.compile(r"(?i)\d+|true|false|none|null|yes|no|\*+")
_URL_PASSWORD = re.compile(r"\b([a-z][a-z0-9+.-]*://[^/\s:@]+):([^/\s@]+)@", re.I)
_AUTH = re.compile(
    r"(?i)\b(Bearer|Basic|Token|Digest|Negotiate|AWS4-HMAC-SHA256)(\s+)[A-Za-z0-9._~+/=,-]{8,}"
)
#: An Azure shared access signature in a URL (``...&sig=...``).
_SAS = re.compile(r"(?i)([?&]sig=)[A-Za-z0-9%+/=]{16,}")
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
        if "PRIVATE KEY" in text:
            text = _PRIVATE_KEY.sub(REDACTED, text)
        text = _SHAPES.sub(REDACTED, text)
        text = _named(text)
        if "=" in text or ":" in text:
            text = _URL_PASSWORD.sub(lambda m: f"{m.group(1)}:{REDACTED}@", text)
            text = _SAS.sub(lambda m: m.group(1) + REDACTED, text)
        return _AUTH.sub(lambda m: m.group(1) + m.group(2) + REDACTED, text)


def _named(text: str) -> str:
    """``text`` with the value after each secret-named setting, field or flag taken out."""
    out, done = [], 0
    for word in _SECRET_WORD.finditer(text):
        start, end = word.start(), word.end()
        if start < done:
            continue
        while start > done and text[start - 1] in _NAME_CHARS:
            start -= 1
        while end < len(text) and text[end] in _NAME_CHARS:
            end += 1
        flag = text.startswith("-", start) and (start == 0 or not text[start - 1].isalnum())
        found = (_FLAG_VALUE if flag else _VALUE).match(text, end)
        if flag and found is None:
            found = _VALUE.match(text, end)  # --password=x
        if found is None:
            continue
        value = found.group(2)
        if value.startswith(REDACTED) or _HARMLESS.fullmatch(value):
            continue
        out += [text[done : found.start(2)], REDACTED]
        done = found.end(2)
    return "".join(out) + text[done:] if out else text


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
