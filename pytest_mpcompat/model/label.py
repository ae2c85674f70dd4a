"""What a cell's label says, decided once: its outcome's word, the exit status worth showing,
how repeated runs went, how it really started and its signatures. The terminal summary, the
grid and the Markdown each format it (plain, or with icons and code)."""

from __future__ import annotations

from dataclasses import dataclass

from .catalog import exit_status
from .cell import CellResult

__all__ = ["CellLabel", "label"]


@dataclass(frozen=True)
class CellLabel:
    outcome: str  #: the outcome kind's short word ("crash", "not run")
    status: str  #: "SIGSEGV", "exit 1", or ""
    tries: str  #: "hang:1 pass:2" for repeated runs that disagreed or not, else ""
    ran_as: str  #: the start method its processes really used, where not the cell's
    signatures: tuple[str, ...]
    contradicted: bool  #: it contradicts what its scenario expects

    def plain(self, every: bool = True) -> str:
        """``crash SIGSEGV (ran as fork) [worker-fatal-signal]``; ``every``: with the tries
        and the contradiction mark too (the terminal's)."""
        parts = [self.outcome]
        parts += [self.status] if self.status else []
        parts += [f"({self.tries})"] if every and self.tries else []
        parts += [f"(ran as {self.ran_as})"] if self.ran_as else []
        parts += ["[" + ", ".join(self.signatures) + "]"] if self.signatures else []
        parts += ["!"] if every and self.contradicted else []
        return " ".join(parts)


def label(cell: CellResult) -> CellLabel:
    tries = ""
    if cell.repeat > 1:
        tries = " ".join(f"{v}:{n}" for v, n in sorted(cell.verdict_counts.items()))
    return CellLabel(cell.outcome.kind.short, exit_status(cell) or "", tries, cell.ran_as or "",
                     tuple(cell.signatures), bool(cell.mismatch))  # fmt: skip
