"""The answers block: for each incident family, in words, which release lines crash, hang,
degrade or are clean, under which start methods and Pythons, what to do about it, and what was
not measured.

Built from outcomes (a verdict plus error-level signatures and the exit status after a stop, see
``signatures.outcome``), never from the bare verdict: KServe 0.14 "passes" while serving from one
process when asked for two, and that is not clean. The fixes come from the signatures' catalog
and from the ``Fix:`` paragraph of each scenario's docstring.
"""

from __future__ import annotations

import ast
import functools
import re
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..model.catalog import Signature
from ..model.cell import START_METHODS, SkipKind, Verdict
from ..model.matrix import Matrix, MergedCell, version_key

__all__ = ["Answer", "Line", "answers", "coverage", "describe", "family", "icon", "scenario_doc"]

_NOT_PACKAGES = {"os", "python", "gpu", "method", "runner"}
_PROBLEMS = ("crash", "hang", "error", "degraded")  # the order a line lists them in


def family(scenario: str) -> str:
    """Scenario family: the file name's first word (kserve, vllm, stdlib, cuda, ...)."""
    return scenario.rsplit("/", 1)[-1].split("_", 1)[0]


def short(scenario: str) -> str:
    """A scenario's name without its directory, family and suffix: ``two_workers``."""
    stem = scenario.rsplit("/", 1)[-1].removesuffix(".py")
    return stem.split("_", 1)[1] if "_" in stem else stem


@functools.lru_cache(maxsize=512)
def scenario_doc(path: str) -> tuple[str, str]:
    """(first line, ``Fix:`` paragraph) of a scenario's docstring, read from the file where the
    report is made; ("", "") when the file is not there."""
    try:
        doc = ast.get_docstring(ast.parse(Path(path).read_text(encoding="utf-8"))) or ""
    except (OSError, SyntaxError, ValueError):
        return "", ""
    first = doc.strip().splitlines()[0] if doc.strip() else ""
    # "Fix:", "Fixes:", "Fix (to silence it ...):", "Fix on the user side for KServe < 0.14:";
    # the paragraph runs to a blank line or the next labelled one ("Measured (...):", "Source:").
    fix = re.search(
        r"^(Fix(?:es)?\b[^:\n]{0,60}):\s*(.*?)(?=\n\s*\n|\n[A-Z][A-Za-z ]{1,30}[:(]|\Z)",
        doc,
        re.M | re.S,
    )
    if fix is None:
        return first, ""
    said = fix.group(1).removeprefix("Fixes").removeprefix("Fix").strip()
    text = " ".join(fix.group(2).split())
    return first, f"{said}: {text}" if said else text


@dataclass
class Line:
    """Consecutive versions with the same findings over the same scenarios."""

    versions: list[str]
    pythons: list[str]
    methods: list[str]
    scenarios: list[str]
    # outcome -> scenario -> methods it happened under, with the signatures seen
    problems: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    signatures: dict[str, list[str]] = field(default_factory=dict)  # scenario -> signatures

    @property
    def span(self) -> str:
        first, last = self.versions[0], self.versions[-1]
        return first if first == last else f"{first}–{last}"

    @property
    def clean(self) -> bool:
        return not self.problems


@dataclass
class Answer:
    family: str
    package: str  # the axis the lines run along ("python" where no package varies)
    context: str  # what else was held fixed, e.g. "kserve 0.13.1"
    lines: list[Line]
    fixes: list[tuple[str, str]]  # (signature id or scenario, what to do)
    measured: int
    not_run: dict[str, int]  # reason -> cells


def _packages(axes: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in axes.items() if k not in _NOT_PACKAGES and v != "not installed"}


def _minor(python: str) -> str:
    return ".".join(python.split(".")[:2])


def _span(values: list[str]) -> str:
    ordered = sorted(set(values), key=version_key)
    if not ordered:
        return "?"
    return ordered[0] if len(ordered) == 1 else f"{ordered[0]}–{ordered[-1]}"


def answers(matrix: Matrix) -> list[Answer]:
    """One answer per family and per kind of set that measured it.

    A matrix set says which packages it varies on purpose by its labels (``kserve`` for the
    KServe release sets, ``torch`` and ``kserve`` for the torch sets); other versions in a
    cell's axes only came along with the install. Cells are grouped by their label names: a
    group with one label is answered along it; one with several along the label that varies,
    the others held fixed (torch releases with KServe 0.13.1), with the cells of other groups
    that match it added for comparison. Cells without labels are answered by Python version.
    """
    by_family: dict[str, list[MergedCell]] = defaultdict(list)
    for mc in matrix.cells:
        by_family[family(mc.scenario)].append(mc)
    catalog = matrix.catalog
    found = []
    for fam in sorted(by_family):
        idx = by_family[fam]
        groups: dict[tuple[str, ...], list[MergedCell]] = defaultdict(list)
        for mc in idx:
            groups[_label_names(mc)].append(mc)
        for names, mine in sorted(groups.items(), key=lambda kv: (len(kv[0]), kv[0])):
            if not names:  # a plain --mp-matrix run: its family's own package, if it varies
                own = sorted({n for mc in mine for n in _packages(mc.axes) if n.startswith(fam)})
                own = [n for n in own if len({mc.axes.get(n) for mc in mine}) > 1]
                found.append(_answer(catalog, fam, mine, own[0] if own else "python", ""))
                continue
            varying = [n for n in names if len({mc.axes.get(n) for mc in mine}) > 1]
            # Else the label only this group has (torch, beside the kserve every set has).
            elsewhere = {n for other in groups if other != names for n in other}
            lead = (varying or [n for n in names if n not in elsewhere] or list(names))[0]
            fixed = {n: mine[0].axes.get(n, "") for n in names if n != lead}
            if fixed:
                scenarios = {mc.scenario for mc in mine}
                have = {id(mc) for mc in mine}
                mine = mine + [
                    mc for mc in idx
                    if id(mc) not in have and mc.scenario in scenarios and lead in mc.axes
                    and all(mc.axes.get(n) == v for n, v in fixed.items())
                ]  # fmt: skip
            context = ", ".join(f"{n} {v}" for n, v in sorted(fixed.items()))
            found.append(_answer(catalog, fam, mine, lead, context))
    # The serving systems' release lines first, then what they were held against, then the
    # families measured only along Python versions.
    found.sort(key=lambda a: (a.package == "python", bool(a.context), -a.measured))
    return found


def _label_names(mc: MergedCell) -> tuple[str, ...]:
    labels = (mc.cell.env or {}).get("labels") or {}
    return tuple(sorted(str(k) for k in labels if k not in _NOT_PACKAGES))


def _answer(
    catalog: Mapping[str, Signature],
    fam: str,
    idx: list[MergedCell],
    package: str,
    context: str,
) -> Answer:
    measured = [mc for mc in idx if mc.cell.verdict is not Verdict.SKIP]
    not_run = Counter(_why_skipped(mc) for mc in idx if mc.cell.verdict is Verdict.SKIP)
    by_version: dict[str, list[MergedCell]] = defaultdict(list)
    for mc in measured:
        axes = mc.axes
        value = _minor(axes.get("python", "?")) if package == "python" else axes.get(package, "?")
        by_version[value].append(mc)
    lines: list[Line] = []
    fixes: dict[str, str] = {}
    for version in sorted(by_version, key=version_key):
        line = _line(catalog, version, by_version[version], fixes)
        last = lines[-1] if lines else None
        same = ("problems", "signatures", "scenarios", "methods")
        if last is not None and all(getattr(last, k) == getattr(line, k) for k in same):
            last.versions.append(version)
            last.pythons = sorted(set(last.pythons) | set(line.pythons), key=version_key)
        else:
            lines.append(line)
    return Answer(
        family=fam,
        package=package,
        context=context,
        lines=lines,
        fixes=sorted(fixes.items()),
        measured=len(measured),
        not_run=dict(not_run.most_common()),
    )


def _line(
    catalog: Mapping[str, Signature],
    version: str,
    idx: list[MergedCell],
    fixes: dict[str, str],
) -> Line:
    problems: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    signatures: dict[str, set[str]] = defaultdict(set)
    for mc in idx:
        cell = mc.cell
        name = cell.outcome.value
        if name not in _PROBLEMS:
            continue
        problems[name][short(cell.scenario)].add(cell.method)
        failing = [s for s in cell.signatures if s in catalog and catalog[s].severity == "error"]
        signatures[short(cell.scenario)].update(failing or cell.signatures)
        for sid in failing or cell.signatures:
            if sid in catalog and catalog[sid].fix:
                fixes.setdefault(sid, catalog[sid].fix)
        if not cell.signatures or name == "hang":
            fix = scenario_doc(cell.scenario)[1]
            if fix:
                fixes.setdefault(short(cell.scenario), fix)
    cells = [mc.cell for mc in idx]
    return Line(
        versions=[version],
        pythons=sorted({_minor(mc.axes.get("python", "?")) for mc in idx}, key=version_key),
        methods=[m for m in START_METHODS if any(c.method == m for c in cells)],
        scenarios=sorted({short(c.scenario) for c in cells}),
        problems={
            o: {sc: _ordered(ms) for sc, ms in sorted(problems[o].items())}
            for o in _PROBLEMS
            if o in problems
        },
        signatures={sc: sorted(s) for sc, s in signatures.items()},
    )


def _ordered(methods: set[str]) -> list[str]:
    return [m for m in START_METHODS if m in methods] + sorted(methods - set(START_METHODS))


def _why_skipped(mc: MergedCell) -> str:
    if mc.cell.skip_kind is SkipKind.UPSTREAM:
        return "not supported upstream"
    return (mc.cell.reason or "skipped").split(":", 1)[0][:80]


def describe(answer: Answer) -> tuple[str, list[str], str]:
    """(heading, one sentence per line, what was not run) in plain words, shared by the
    Markdown and the page."""
    axis = "Python" if answer.package == "python" else answer.package
    heading = f"{answer.family}_* scenarios, by {axis} " + (
        "version" if answer.package == "python" else "release"
    )
    if answer.context:
        heading += f" (with {answer.context})"
    spans: dict[str, list[str]] = {}
    for line in answer.lines:
        spans.setdefault(icon(line), []).append(line.span)
    heading += ": " + "; ".join(f"{name} {', '.join(where)}" for name, where in spans.items())
    sentences = []
    for line in answer.lines:
        where = f"{axis} {line.span}"
        if answer.package != "python":
            where += f" (Python {_span(line.pythons)})"
        scope = f"{len(line.scenarios)} scenario{'s' if len(line.scenarios) != 1 else ''}"
        methods = ", ".join(line.methods)
        if line.clean:
            sentences.append(f"{where}: clean under {methods} ({scope}).")
            continue
        parts = []
        for name, where_by_scenario in line.problems.items():
            # Scenarios that went the same way (same methods, same signatures) are named once.
            alike: dict[tuple[tuple[str, ...], tuple[str, ...]], list[str]] = {}
            for sc, ms in where_by_scenario.items():
                alike.setdefault((tuple(ms), tuple(line.signatures.get(sc, []))), []).append(sc)
            items = []
            for (how, sigs), scs in alike.items():
                who = "every scenario" if len(scs) == len(line.scenarios) > 1 else ", ".join(scs)
                seen = f" [{', '.join(sigs)}]" if sigs else ""
                items.append(f"{who} under {', '.join(how)}{seen}")
            parts.append(f"{name}: " + "; ".join(items))
        troubled = {sc for found in line.problems.values() for sc in found}
        fine = [sc for sc in line.scenarios if sc not in troubled]
        if fine:  # a broken pattern's fixed twin, shown beside it
            parts.append("clean: " + ", ".join(fine))
        sentences.append(f"{where}, {scope} under {methods}: " + ". ".join(parts) + ".")
    skipped = ", ".join(f"{n} {why}" for why, n in answer.not_run.items())
    not_run = f"{answer.measured} cells measured" + (f"; not run: {skipped}" if skipped else "")
    return heading, sentences, not_run


def icon(line: Line) -> str:
    """The worst outcome of a line, for its bullet: clean, or the first of ``_PROBLEMS``."""
    return next(iter(line.problems), "clean")


def coverage(matrix: Matrix) -> str:
    """One plain sentence: what was measured, and what was not and why (upstream, the runner's
    environment, a scenario's own requirement, or runs with no result at all)."""
    skips = Counter(mc.cell.skip_kind for mc in matrix.cells if mc.cell.verdict is Verdict.SKIP)
    upstream = skips[SkipKind.UPSTREAM]
    unsplit = skips[SkipKind.NOT_INSTALLABLE]  # older results told these two apart less
    lacking = skips[SkipKind.ENVIRONMENT]  # a package the scenario needs that the runner lacked
    total = sum(skips.values())
    gaps = sum(1 for why in matrix.missing.values() if why.startswith("environment gap"))
    measured = len(matrix.cells) - total
    own = total - upstream - unsplit - lacking
    text = (
        f"{measured} cells measured; {total} not run: {upstream} because upstream does not "
        f"support that Python or platform, {lacking} because the runner's environment lacked a "
        f"package the scenario needs (an environment gap), {own} for a scenario's other "
        "requirements (a GPU, an OS)"
        + (f", {unsplit} not installable on the runner (upstream limit and environment gap not "
           "told apart in these older results)" if unsplit else "")
        + f"; {len(matrix.missing)} runs with no result ({gaps} environment gaps)."
    )  # fmt: skip
    ran = {family(mc.scenario) for mc in matrix.cells if mc.cell.verdict is not Verdict.SKIP}
    never = sorted({family(mc.scenario) for mc in matrix.cells} - ran)
    if never:
        text += f" Families with no measured cell: {', '.join(never)}."
    return text
