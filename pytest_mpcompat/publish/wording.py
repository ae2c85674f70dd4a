"""The answers in words, shared by the Markdown and the page: a heading and a sentence per
release line, the mistakes that reproduce as documented, the coverage, and every run with no
result grouped by its cause."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterator

from ..model.axes import without_runs
from ..model.cell import Outcome, SkipKind, Verdict
from ..model.matrix import Matrix, spans, version_key
from ..model.outcome import KINDS
from ..scenario.facts import family
from .answers import Answer, Line, needs, where_measured

__all__ = [
    "code_spans",
    "backing",
    "coverage",
    "describe",
    "mistake_sentences",
    "not_measured",
]

_SPAN = re.compile(r"`([^`\n]+)`")


def code_spans(text: str) -> Iterator[tuple[bool, str]]:
    """``text`` in pieces, each (is code, piece): the plugin's own texts quote names as
    `scenario.py`, which the Markdown and the page render as code."""
    done = 0
    for m in _SPAN.finditer(text):
        yield False, text[done : m.start()]
        yield True, m.group(1)
        done = m.end()
    yield False, text[done:]


def backing(line: Line) -> str:
    """How many scenarios back each release of a line: "8 scenarios", or "2–8 scenarios: 8 at
    0.15.2, 0.21.0; 2 at 0.16.0–0.20.0"."""
    by: dict[int, list[str]] = defaultdict(list)
    for version, n in line.backing.items():
        by[n].append(version)
    if len(by) == 1:
        (n,) = by
        return f"{n} scenario{'s' if n != 1 else ''}"
    parts = [f"{n} at {spans(vs, line.versions)}" for n, vs in sorted(by.items(), reverse=True)]
    return f"{min(by)}\u2013{max(by)} scenarios: " + "; ".join(parts)


def _axis(answer: Answer) -> str:
    return "Python" if answer.package == "python" else answer.package


def describe(answer: Answer) -> tuple[str, list[str], str]:
    """(heading, one sentence per line, what was measured and not run)."""
    axis = _axis(answer)
    if not answer.lines and answer.mistakes:
        heading = f"{answer.family}_* scenarios: only known mistakes measured"
    else:
        heading = f"{answer.family}_* scenarios, by {axis} " + (
            "version" if answer.package == "python" else "release"
        )
    if answer.context:
        heading += f" (with {answer.context})"
    found: dict[str, list[str]] = {}
    for line in answer.lines:
        found.setdefault(line.outcome, []).append(line.span)
    if len(answer.lines) == 1 and len(answer.lines[0].versions) > 1:
        # The axis changes no outcome: say so rather than list its values under one verdict.
        (line,) = answer.lines
        kind = "version" if answer.package == "python" else "release"
        heading += (f": the {axis} {kind} does not matter here ({KINDS[line.outcome].words} "
                    f"with each of {spans(line.versions, line.versions)})")  # fmt: skip
    elif found:
        heading += ": " + "; ".join(f"{name} {', '.join(where)}" for name, where in found.items())
    sentences = [_sentence(answer, line) for line in answer.lines]
    skipped = ", ".join(f"{n} {why}" for why, n in answer.not_run.items())
    tested = f"{answer.measured} cells measured" + (f"; not run: {skipped}" if skipped else "")
    return heading, sentences, tested


def _sentence(answer: Answer, line: Line) -> str:
    where = f"{_axis(answer)} {line.span}"
    if answer.package != "python":
        among = sorted({p for each in answer.lines for p in each.pythons}, key=version_key)
        where += f" (Python {line.pythons_said(among)})"
    methods = ", ".join(line.methods)
    if not line.problems:
        return f"{where}: pass under {methods} ({backing(line)})."
    parts = []
    for name, where_by_scenario in line.problems.items():
        # Scenarios that went the same way (same methods, same signatures) are named once.
        alike: dict[tuple[tuple[str, ...], tuple[str, ...]], list[str]] = {}
        for sc, ms in where_by_scenario.items():
            alike.setdefault((tuple(ms), tuple(line.signatures.get(sc, []))), []).append(sc)
        items = []
        for (how, sigs), scs in alike.items():
            seen = f" [{', '.join(sigs)}]" if sigs else ""
            who = "every scenario" if len(scs) == len(line.scenarios) > 1 else ", ".join(scs)
            items.append(f"{who} under {', '.join(how)}{seen}")
        parts.append(f"{name}: " + "; ".join(items))
    text = f"{where}, {backing(line)} under {methods}: " + ". ".join(parts) + "."
    return text + " What to do: " + "; or ".join(line.actions) + "."


def mistake_sentences(answer: Answer) -> list[str]:
    """One sentence per known mistake that reproduced as documented."""
    out = []
    for m in answer.mistakes:
        fix = f" The fix: {m.twin}: {m.twin_result}." if m.twin else ""
        out.append(f"{m.scenario} reproduces as documented {m.where}: {m.shows}.{fix}")
    return out


def coverage(matrix: Matrix) -> str:
    """One plain sentence: what was measured, and what was not and why (upstream, the runner's
    environment, a scenario's own requirement, or runs with no result at all)."""
    skips = Counter(mc.cell.skip_kind for mc in matrix.cells if mc.cell.verdict is Verdict.SKIP)
    unmeasurable = [mc for mc in matrix.cells if mc.outcome is Outcome.UNMEASURABLE]
    elsewhere, needed = len(unmeasurable), needs(unmeasurable, matrix.catalog)
    upstream, lacking = skips[SkipKind.UPSTREAM], skips[SkipKind.ENVIRONMENT]
    unsplit = skips[SkipKind.NOT_INSTALLABLE]  # older results told these two apart less
    total = sum(skips.values())
    measured = len(matrix.cells) - total - elsewhere
    own = total - upstream - unsplit - lacking
    why = [
        (upstream, "because upstream does not support that Python or platform"),
        (lacking, "because the runner's environment lacked a package the scenario needs"),
        (own, "for a scenario's other requirements (a GPU, an OS)"),
        (unsplit, "not installable on the runner (upstream limit and environment gap not told "
                  "apart in these older results)"),
    ]  # fmt: skip
    reasons = ", ".join(f"{n} {words}" for n, words in why if n)  # a cause with none is not said
    text = (
        f"{measured} cells measured; {total} not run" + (f": {reasons}" if reasons else "")
        + (f"; {elsewhere} not measurable on this hardware (they stopped on what only "
           f"{needed} has; they are measured {where_measured(needed)})" if elsewhere else "")
        + f"; {len(matrix.missing)} runs with no result (listed below with their causes)."
    )  # fmt: skip
    ran = {family(mc.scenario) for mc in matrix.cells if mc.measured}
    never = sorted({family(mc.scenario) for mc in matrix.cells} - ran)
    if never:
        text += f" Families with no measured cell: {', '.join(never)}."
    seen: dict[str, set[str]] = defaultdict(set)
    for mc in matrix.cells:
        for name, value in mc.axes.items():
            seen[name].add(value)
    for axis, names in without_runs(seen):
        shown = ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0]
        text += f" No run on {shown} ({axis.title}): nothing here says what happens there."
    return text


def not_measured(matrix: Matrix) -> list[tuple[str, list[str]]]:
    """The runs with no result, grouped by their cause: [(cause, runs)], most runs first."""
    by: dict[str, list[str]] = defaultdict(list)
    for run, why in matrix.missing.items():
        by[why].append(run)
    return sorted(by.items(), key=lambda kv: (-len(kv[1]), kv[0]))


def measured_on(matrix: Matrix) -> str:
    """How many cells, from how many runs, on which machines: machines alike but for their OS
    release are named once, with how many there were (each run's own line is in
    ``matrix.json``)."""
    alike: dict[str, set[str]] = defaultdict(set)
    for src in matrix.sources:
        alike[src.hardware or src.host].add(src.host)
    most_first = sorted(alike.items(), key=lambda a: (-len(a[1]), a[0]))
    machines = [h if len(every) == 1 else f"{len(every)} machines like {h}"
                for h, every in most_first]  # fmt: skip
    return (f"{len(matrix.cells)} cells from {len(matrix.sources)} runs on "
            f"{'; '.join(machines) or 'unknown machines'}.")  # fmt: skip


def when(matrix: Matrix) -> str:
    """When the cells were measured (a reused one: by the earlier run; else when its run
    started), how many were reused, and how often each ran: plain sentences."""
    days = Counter(mc.cell.measured_at[:10] or mc.source.started[:10] or "an unknown day"
                   for mc in matrix.measured_cells())  # fmt: skip
    if not days:
        return "No cell was measured."
    shown = ", ".join(f"{d} ({n})" for d, n in sorted(days.items(), reverse=True)[:6])
    more = len(days) - 6
    text = f"Measured on {shown}" + (f" and {more} other days" if more > 0 else "") + "."
    reused = sum(1 for mc in matrix.cells if mc.cell.reused)
    if reused:
        text += (f" {reused} of them are earlier runs' results, reused because none of their "
                 "inputs had changed (each cell's panel on the page says which).")  # fmt: skip
    once = sum(1 for mc in matrix.measured_cells() if mc.cell.repeat <= 1)
    if once:
        text += (f" {once} cells ran once each: whether they are flaky is not known (run them "
                 "again with `--mp-repeat`, or let the gate's tries do it).")  # fmt: skip
    return text


#: The words the report uses that a deployer may not know, each said once.
GLOSSARY: tuple[tuple[str, str], ...] = (
    ("cell", "one scenario run once (or repeated) under one start method in one configuration "
             "(OS, Python, GPU, package releases)"),
    ("scenario", "a small program that uses a serving framework the way its users do; the "
                 "known mistakes among them are measured on purpose, beside their fixed twin"),
    ("twin", "the fixed version of a known mistake's scenario (the same program with the fix)"),
    ("ran as", "the start method the program's processes really used, where the program "
               "chose its own instead of the one the cell asked for"),
    ("signature", "a known failure recognised in a cell's output, named by an id such as "
                  "`start-method-already-set`; each one's meaning and fix are listed"),
    ("not measurable on this hardware", "the program stopped on something only other "
     "hardware has (a GPU-only library): the cell says nothing about the program"),
    ("`nox -t gpu`", "the command that runs the GPU sets of the matrix, on a machine with an "
                     "NVIDIA GPU"),
    ("probe", "in a bisection, one release installed and its cell run, to find the first "
              "release whose result changes"),
    ("vm, runner", "the name of the machine a run was made on (a CI runner or a virtual "
                   "machine)"),
)  # fmt: skip
