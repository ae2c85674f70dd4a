"""The outcome kinds: what a cell means for a reader or a CI gate, each named, ordered, drawn and
worded here once. The terminal summary, the Markdown, the page, the answers and the gate read
``KINDS``; a new kind is a row here, its rule in ``catalog.decide`` and its name in the raw
result's schema (``tests/test_outcome_kinds.py`` fails when a reader forgets one).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["KINDS", "OUTCOMES", "Outcome", "OutcomeKind", "PROBLEMS"]


@dataclass(frozen=True)
class OutcomeKind:
    """How one outcome reads everywhere."""

    name: str  #: the value raw results and matrix.json carry
    verdict: str  #: the verdict (how the processes ended) it is decided from
    words: str  #: what a reader is told it means, in the legend and the filter
    short: str  #: the word in a grid's cell and a table's count column
    icon: str  #: beside it in the Markdown and the answers
    background: str  #: the page's cell colour
    ink: str  #: the page's text colour on it ("": the page's own)
    terminal: tuple[str, ...]  #: TerminalWriter markup ("red", "bold")
    #: Where a line of the answers lists it among the reasons not to deploy (0: first); None
    #: for an outcome that is no such reason.
    problem: int | None = None
    #: False for an outcome that says nothing of the program in this configuration (not run,
    #: or not measurable on this machine): a gate counts it as missing, not as worse.
    measured: bool = True


#: Best first: the one order that picks the worst of repeated runs, sorts a table's columns
#: and gates on regressions.
KINDS: dict[str, OutcomeKind] = {
    k.name: k
    for k in (
        OutcomeKind("pass", "pass", words="pass", short="pass", icon="✅",
                    background="#d8f5d8", ink="", terminal=("green",)),
        OutcomeKind("degraded", "pass", words="degraded (passed, but its output shows a failure)",
                    short="degraded", icon="⚠️", background="#fff0b3", ink="",
                    terminal=("yellow", "bold"), problem=3),
        OutcomeKind("skip", "skip", words="not run", short="not run", icon="⏭️",
                    background="#eee", ink="#555", terminal=("yellow",), measured=False),
        OutcomeKind("unmeasurable", "crash", words="not measurable on this hardware",
                    short="not measurable", icon="🖥️", background="#d6e4f5", ink="#333",
                    terminal=("cyan",), measured=False),
        OutcomeKind("error", "error", words="harness error", short="harness error", icon="❗",
                    background="#f5a3a3", ink="", terminal=("red", "bold"), problem=2),
        OutcomeKind("crash", "crash", words="crash", short="crash", icon="💥",
                    background="#f8c9c9", ink="", terminal=("red",), problem=0),
        OutcomeKind("hang", "hang", words="hang", short="hang", icon="⏳",
                    background="#e3cff5", ink="", terminal=("purple", "bold"), problem=1),
    )
}  # fmt: skip

OUTCOMES: tuple[str, ...] = tuple(KINDS)

#: The outcomes that make a line of the answers unsafe, in the order a line lists them.
PROBLEMS: tuple[str, ...] = tuple(
    sorted(
        (k.name for k in KINDS.values() if k.problem is not None),
        key=lambda n: KINDS[n].problem or 0,
    )  # fmt: skip
)


class Outcome(str, enum.Enum):
    """What a cell means: its verdict, except that a pass whose output shows an error-level
    signature is ``DEGRADED`` and a run stopped by what only other hardware has (a GPU-only
    library) is ``UNMEASURABLE``. Members compare in ``KINDS``'s order, best first."""

    PASS = "pass"
    DEGRADED = "degraded"
    SKIP = "skip"
    UNMEASURABLE = "unmeasurable"
    ERROR = "error"
    CRASH = "crash"
    HANG = "hang"

    @property
    def rank(self) -> int:
        return OUTCOMES.index(self.value)

    @property
    def kind(self) -> OutcomeKind:
        return KINDS[self.value]

    def worse_than(self, other: Outcome) -> bool:
        return self.rank > other.rank

    @classmethod
    def of(cls, verdict: str) -> Outcome:
        """The outcome a verdict (its value) has before any signature is read."""
        return cls(verdict)
