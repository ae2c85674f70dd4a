"""Judging a finished cell: its verdict from the exit status, the catalog's patterns matched on
its output (read in chunks, so that a scenario printing hundreds of megabytes does not cost the
runner that much memory), and its texts with secrets taken out."""

from __future__ import annotations

import dataclasses
import signal
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from ..model.catalog import Signature
from ..model.cell import CellResult, Verdict
from ..redact import Redactor

__all__ = [
    "MATCH_CHARS",
    "judge_exit",
    "match_files",
    "record_exit",
    "redact_result",
    "signal_name",
]

_CHUNK = 1 << 20
_OVERLAP = 4096  # a match may straddle two chunks; no pattern here spans more than this
#: How much of a matched line a result keeps.
MATCH_CHARS = 500


def match_files(paths: Iterable[Path], catalog: Sequence[Signature]) -> dict[str, str]:
    """The catalog entries whose pattern occurs in any of the files, in catalog order, each with
    the whole line(s) of its first match (at most ``MATCH_CHARS`` characters)."""
    patterns = [(sig.id, sig.compiled()) for sig in catalog]
    pending = {sid: rx for sid, rx in patterns if rx is not None}
    found: dict[str, str] = {}
    for path in paths:
        if not pending:
            break
        try:
            fh = open(path, "rb")
        except OSError:
            continue
        with fh:
            tail = ""
            while pending:
                block = fh.read(_CHUNK)
                if not block:
                    break
                text = tail + block.decode("utf-8", errors="replace")
                for sid, rx in list(pending.items()):
                    m = rx.search(text)
                    if m:
                        start = text.rfind("\n", 0, m.start()) + 1
                        end = text.find("\n", m.end())
                        found[sid] = text[start : end if end >= 0 else len(text)][:MATCH_CHARS]
                        del pending[sid]
                tail = text[-_OVERLAP:]
    return {sid: found[sid] for sid, _ in patterns if sid in found}


def judge_exit(result: CellResult, status: int | None) -> None:
    """Verdict of a cell that is not a server, from its main process's exit status."""
    if status is None:  # cannot happen: the runner waited for the exit
        result.reason = "the supervisor lost the exit status of the main process"
        return
    record_exit(result, status)
    result.verdict = Verdict.PASS if status == 0 else Verdict.CRASH


def record_exit(result: CellResult, status: int) -> None:
    """The main process's exit status, and the signal that ended it (a negative status)."""
    result.exit_code = status
    result.signal = signal_name(-status) if status < 0 else None


def signal_name(num: int) -> str:
    try:
        return signal.Signals(num).name
    except ValueError:
        return f"signal {num}"


def redact_result(
    result: CellResult, redact: Redactor, found: Mapping[str, str], stdout: str, stderr: str
) -> None:
    """Fill in the result's texts (the ends of its output given), each with secrets taken out."""
    result.stdout_tail = redact(stdout)
    result.stderr_tail = redact(stderr)
    result.matches = {sid: redact(line) for sid, line in found.items()}
    result.reason = redact(result.reason)
    result.leaked = [redact(line) for line in result.leaked]
    for i, st in enumerate(result.stacks):
        result.stacks[i] = dataclasses.replace(
            st, cmdline=redact(st.cmdline), stack=redact(st.stack)
        )
    if result.serving is not None:
        result.serving.failures = [redact(f) for f in result.serving.failures]
        result.serving.alive_after_shutdown = [
            redact(a) for a in result.serving.alive_after_shutdown
        ]
