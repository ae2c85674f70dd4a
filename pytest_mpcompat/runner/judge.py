"""Judging a finished cell: its verdict, decided here once from the facts the process, a
server's drive and its stop hand in (``Facts``); the catalog's patterns matched on its output
(read in chunks, so that a scenario printing hundreds of megabytes does not cost the runner that
much memory); and its texts with secrets taken out."""

from __future__ import annotations

import dataclasses
import enum
import signal
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..model.catalog import Signature
from ..model.cell import CellResult, Verdict
from ..redact import Redactor

__all__ = [
    "MATCH_CHARS",
    "Drive",
    "Facts",
    "Stop",
    "judge_exit",
    "verdict",
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


class Drive(enum.Enum):
    """What a server's drive saw go wrong, before it was stopped."""

    #: It exited before it was ready or stopped, answered wrongly, or its workers kept dying.
    CRASHED = "crashed"
    #: Requests timed out, or it never became ready while its workers stayed up.
    HUNG = "hung"
    #: Another process took its port and answered: what answered was not the server.
    PORT_TAKEN = "port-taken"


@dataclass(frozen=True)
class Stop:
    """How a server's stop went: the orchestrator's stop signals, then SIGKILL."""

    status: int  #: the exit status after the stop (negative: the signal that ended it)
    #: It was still running when its first stop signal's grace period ran out.
    outlived_grace: bool


@dataclass
class Facts:
    """What the process, the server's drive and its stop saw of one run: all the verdict is
    decided from (``verdict``)."""

    #: The main process's exit status, if it exited (or was killed after a stop).
    status: int | None = None
    #: Still running at its timeout: its stacks were taken and its tree killed.
    timed_out: bool = False
    #: Why the run says nothing of the program (its supervisor died or was stopped, it could
    #: not start, another process took its port): the harness's failure.
    harness: str = ""
    drive: Drive | None = None
    stop: Stop | None = None


def verdict(facts: Facts) -> Verdict:
    """The one rule: a harness failure is ``ERROR``; a run still going at its timeout, a drive
    that hung, or a server that outlived its first stop signal's grace period is a ``HANG``; a
    drive that saw a crash, or a main process that exited non-zero before anyone stopped it,
    is a ``CRASH``; the rest passed (a server's exit status after its stop is its own
    signature, ``unclean-shutdown``, not its verdict)."""
    if facts.harness or facts.drive is Drive.PORT_TAKEN:
        return Verdict.ERROR
    if facts.timed_out or facts.drive is Drive.HUNG:
        return Verdict.HANG
    if facts.drive is Drive.CRASHED:
        return Verdict.CRASH
    if facts.stop is not None:
        return Verdict.HANG if facts.stop.outlived_grace else Verdict.PASS
    if facts.status is None:  # cannot happen: the runner waited for the exit
        return Verdict.ERROR
    return Verdict.PASS if facts.status == 0 else Verdict.CRASH


def judge_exit(result: CellResult, facts: Facts, status: int | None) -> None:
    """The main process's exit status of a cell that is not a server, as a fact and recorded."""
    if status is None:
        result.reason = "the supervisor lost the exit status of the main process"
        return
    facts.status = status
    record_exit(result, status)


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
