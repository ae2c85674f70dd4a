"""Keep secrets out of reports: values of secret-looking environment variables, and tokens of
well-known shapes, are replaced wherever captured text is stored (output tails, stacks, command
lines of leaked processes)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

__all__ = ["REDACTED", "Redactor"]

REDACTED = "[redacted]"
_SECRET_NAME = re.compile(
    r"TOKEN|SECRET|PASSW|PASSPHRASE|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL|AUTH", re.I
)
_SHAPES = re.compile(
    r"\b(?:hf_[A-Za-z0-9]{20,}|gh[pousr]_[A-Za-z0-9]{20,}|AKIA[0-9A-Z]{16}|sk-[A-Za-z0-9_-]{20,}"
    r"|xox[baprs]-[A-Za-z0-9-]{10,})\b"
)
_MIN_LEN = 6  # shorter values ("1", "true") would redact ordinary text


class Redactor:
    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        values = {v for k, v in env.items() if _SECRET_NAME.search(k) and len(v) >= _MIN_LEN}
        self._values = sorted(values, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for value in self._values:
            if value in text:
                text = text.replace(value, REDACTED)
        return _SHAPES.sub(REDACTED, text)
