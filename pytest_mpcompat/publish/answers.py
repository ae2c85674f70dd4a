"""The answers: for each incident family, which release lines pass, degrade, crash or hang when
the library is used as intended, what a deployer does about each, which known mistakes
reproduce as documented, and what was not measured.

A scenario is the intended use of a library (``role = "use"``) or a known mistake in the user's
code reproduced on purpose (``role = "mistake"``, with its fixed twin). A release is judged by
its intended-use cells and by any cell that contradicts its expectation; a mistake that fails
as documented is reported as such, beside the result of its twin. Built from outcomes (a pass
whose output shows an error-level signature is degraded), never from the bare verdict.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..model.axes import is_release
from ..model.catalog import Signature
from ..model.cell import START_METHODS, Outcome, SkipKind
from ..model.matrix import Matrix, MergedCell, spans, version_key
from ..model.outcome import PROBLEMS
from ..scenario.facts import family, scenario_doc, short

__all__ = [
    "PROBLEMS",
    "Answer",
    "Line",
    "Mistake",
    "answers",
    "judged",
    "minor",
    "ordered",
]


def minor(python: str) -> str:
    return ".".join(python.split(".")[:2])


def judged(mc: MergedCell) -> bool:
    """Whether a cell judges its release: an intended use, or a result that contradicts its
    scenario's expectation (a mistake that did not fail as documented)."""
    return mc.cell.role != "mistake" or bool(mc.cell.mismatch)


def pythons_said(at: Mapping[str, list[str]], versions: list[str], among: list[str]) -> str:
    """The Pythons ``versions`` ran on (``at``: version -> Pythons), as runs of ``among``:
    "3.10–3.11" where every release ran on the same ones, else per release, "3.10 for 0.10.2;
    3.10–3.11 for 0.11.2–0.13.1", so that no release reads as measured where it was not."""
    by: dict[tuple[str, ...], list[str]] = {}
    for version in versions:
        by.setdefault(tuple(sorted(at.get(version, []), key=version_key)), []).append(version)
    if len(by) == 1:
        return spans(list(next(iter(by))), among)
    return "; ".join(f"{spans(list(ps), among)} for {spans(vs, versions)}" for ps, vs in by.items())


@dataclass
class Line:
    """Consecutive versions with the same findings under the same start methods."""

    versions: list[str]
    methods: list[str]
    #: version -> how many scenarios judged it (intended uses, and contradicted expectations)
    backing: dict[str, int]
    scenarios: list[str]  # every scenario that judged a version of the line
    # outcome -> scenario -> methods it happened under, with the signatures seen
    problems: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    signatures: dict[str, list[str]] = field(default_factory=dict)  # scenario -> signatures
    #: What a deployer does about it: upgrade, another start method, a setting.
    actions: list[str] = field(default_factory=list)
    #: version -> the Pythons it was judged on (a release may not install on every one)
    pythons_at: dict[str, list[str]] = field(default_factory=dict)

    @property
    def pythons(self) -> list[str]:
        """Every Python a release of the line was judged on."""
        return sorted({p for ps in self.pythons_at.values() for p in ps}, key=version_key)

    @property
    def span(self) -> str:
        first, last = self.versions[0], self.versions[-1]
        return first if first == last else f"{first}\u2013{last}"

    def pythons_said(self, among: list[str]) -> str:
        """The Pythons the line was judged on (``pythons_said``)."""
        return pythons_said(self.pythons_at, self.versions, among)

    @property
    def outcome(self) -> str:
        """The worst outcome of the line: pass, or the first of ``PROBLEMS`` it has."""
        return next(iter(self.problems), "pass")


@dataclass
class Mistake:
    """A known mistake measured on purpose, and what its fixed twin did."""

    scenario: str  # short name
    shows: str  # what you would see: "crash under spawn, forkserver [spawn-main-guard-missing]"
    twin: str | None  # the twin's short name
    twin_result: str  # "passes under fork, spawn", "not measured here: ...", ""
    where: str = ""  # where: "with sglang 0.5.23 (Python 3.12)", "on Python 3.12"


@dataclass
class Answer:
    family: str
    package: str  # the axis the lines run along ("python" where no package varies)
    context: str  # what else was held fixed, e.g. "kserve 0.13.1"
    lines: list[Line]
    fixes: list[tuple[str, str]]  # (signature id or scenario, what the authors change)
    measured: int
    not_run: dict[str, int]  # reason -> cells
    mistakes: list[Mistake] = field(default_factory=list)
    cells: list[MergedCell] = field(default_factory=list, repr=False)


def _packages(axes: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in axes.items() if is_release(k) and v != "not installed"}


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
    found = []
    for fam in sorted(by_family):
        idx = by_family[fam]
        groups: dict[tuple[str, ...], list[MergedCell]] = defaultdict(list)
        for mc in idx:
            groups[_label_names(mc)].append(mc)
        for names, mine in sorted(groups.items(), key=lambda kv: (len(kv[0]), kv[0])):
            lead, fixed = _axis(fam, names, mine, groups)
            if fixed:
                scenarios = {mc.scenario for mc in mine}
                have = {id(mc) for mc in mine}
                mine = mine + [
                    mc for mc in idx
                    if id(mc) not in have and mc.scenario in scenarios and lead in mc.axes
                    and all(mc.axes.get(n) == v for n, v in fixed.items())
                ]  # fmt: skip
            context = ", ".join(f"{n} {v}" for n, v in sorted(fixed.items()))
            found.append(_answer(matrix, fam, mine, lead, context))
    # The serving systems' release lines first, then what they were held against, then the
    # families measured only along Python versions.
    found.sort(key=lambda a: (a.package == "python", bool(a.context), -a.measured))
    return found


def _axis(
    fam: str,
    names: tuple[str, ...],
    mine: list[MergedCell],
    groups: Mapping[tuple[str, ...], list[MergedCell]],
) -> tuple[str, dict[str, str]]:
    """The axis a group is answered along, and the labels held fixed."""
    if not names:  # a plain --mp-matrix run: its family's own package, if it varies
        own = sorted({n for mc in mine for n in _packages(mc.axes) if n.startswith(fam)})
        own = [n for n in own if len({mc.axes.get(n) for mc in mine}) > 1]
        return (own[0] if own else "python"), {}
    varying = [n for n in names if len({mc.axes.get(n) for mc in mine}) > 1]
    # Else the label only this group has (torch, beside the kserve every set has).
    elsewhere = {n for other in groups if other != names for n in other}
    lead = (varying or [n for n in names if n not in elsewhere] or list(names))[0]
    return lead, {n: mine[0].axes.get(n, "") for n in names if n != lead}


def _label_names(mc: MergedCell) -> tuple[str, ...]:
    labels = (mc.cell.env or {}).get("labels") or {}
    return tuple(sorted(str(k) for k in labels if is_release(str(k))))


def _version(mc: MergedCell, package: str) -> str:
    return minor(mc.axes.get("python", "?")) if package == "python" else mc.axes.get(package, "?")


def _answer(matrix: Matrix, fam: str, idx: list[MergedCell], package: str, context: str) -> Answer:
    measured = [mc for mc in idx if mc.measured]
    not_run = Counter(_why_skipped(mc, matrix.catalog) for mc in idx if not mc.measured)
    by_version: dict[str, list[MergedCell]] = defaultdict(list)
    for mc in measured:
        if judged(mc):
            by_version[_version(mc, package)].append(mc)
    lines: list[Line] = []
    fixes: dict[str, str] = {}
    for version in sorted(by_version, key=version_key):
        line = _line(matrix.catalog, version, by_version[version], fixes)
        last = lines[-1] if lines else None
        same = ("problems", "signatures", "methods")
        if last is not None and all(getattr(last, k) == getattr(line, k) for k in same):
            last.versions.append(version)
            last.backing.update(line.backing)
            last.scenarios = sorted(set(last.scenarios) | set(line.scenarios))
            last.pythons_at.update(line.pythons_at)
        else:
            lines.append(line)
    for n, line in enumerate(lines):
        line.actions = _actions(line, lines[n + 1 :], matrix.catalog, package)
    return Answer(
        family=fam,
        package=package,
        context=context,
        lines=lines,
        fixes=sorted(fixes.items()),
        measured=len(measured),
        not_run=dict(not_run.most_common()),
        mistakes=_mistakes(matrix, [mc for mc in measured if not judged(mc)], package, measured),
        cells=idx,
    )


def _line(
    catalog: Mapping[str, Signature], version: str, idx: list[MergedCell], fixes: dict[str, str]
) -> Line:
    problems: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    signatures: dict[str, set[str]] = defaultdict(set)
    for mc in idx:
        cell, name = mc.cell, mc.outcome.value
        if name not in PROBLEMS:
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
    pythons = sorted({minor(mc.axes.get("python", "?")) for mc in idx}, key=version_key)
    return Line(
        versions=[version],
        pythons_at={version: pythons},
        methods=[m for m in START_METHODS if any(mc.method == m for mc in idx)],
        backing={version: len({mc.scenario for mc in idx})},
        scenarios=sorted({short(mc.scenario) for mc in idx}),
        problems={
            o: {sc: ordered(ms) for sc, ms in sorted(problems[o].items())}
            for o in PROBLEMS
            if o in problems
        },
        signatures={sc: sorted(s) for sc, s in signatures.items()},
    )


def ordered(methods: set[str]) -> list[str]:
    return [m for m in START_METHODS if m in methods] + sorted(methods - set(START_METHODS))


def needs(cells: Iterable[MergedCell], catalog: Mapping[str, Signature]) -> str:
    """The hardware that would measure ``cells`` (unmeasurable ones), as their signatures'
    ``needs`` say: "a GPU machine"."""
    found = {catalog[s].needs for mc in cells for s in mc.cell.signatures if s in catalog}
    return " or ".join(sorted(found - {""})) or "other hardware"


def where_measured(needed: str) -> str:
    """Where a reader gets cells measured that need ``needed``."""
    if "GPU" in needed:
        return "with `nox -t gpu` on a machine with an NVIDIA GPU"
    return f"on {needed}"


def _why_skipped(mc: MergedCell, catalog: Mapping[str, Signature]) -> str:
    if mc.outcome is Outcome.UNMEASURABLE:
        return f"{mc.outcome.kind.words}: needs {needs([mc], catalog)}"
    if mc.cell.skip_kind is SkipKind.UPSTREAM:
        return "not supported upstream"
    return (mc.cell.reason or "skipped").split(":", 1)[0][:80]


def _actions(
    line: Line, later: list[Line], catalog: Mapping[str, Signature], package: str
) -> list[str]:
    """What a deployer does about an unsafe line, without changing the program: a later
    release that passes, a start method that passes, the settings its signatures name."""
    if not line.problems:
        return []
    out = []
    safe = next((n for n, other in enumerate(later) if not other.problems), None)
    if safe is not None:
        newer = all(not other.problems for other in later[safe:])
        name = "Python" if package == "python" else package
        out.append(f"use {name} {later[safe].versions[0]}" + (" or newer" if newer else ""))
    hit = {m for by in line.problems.values() for ms in by.values() for m in ms}
    free = [m for m in line.methods if m not in hit]
    if free:
        out.append(f"start the workers with {' or '.join(free)}")
    for sigs in line.signatures.values():
        out += [catalog[s].deploy for s in sigs if s in catalog and catalog[s].deploy]
    # Fragments of one sentence: "use kserve 0.15.2 or newer; or run one worker per replica".
    said = [a.rstrip(".") for a in out]
    said = [a[0].lower() + a[1:] if a[1:2].islower() else a for a in said]
    return list(dict.fromkeys(said)) or ["no measured release or start method avoids it"]


def _shows(cells: list[MergedCell]) -> str:
    """What a set of cells did, by outcome: "crash under spawn, forkserver [sig]; pass under
    fork"."""
    by: dict[str, set[str]] = defaultdict(set)
    sigs: dict[str, set[str]] = defaultdict(set)
    ran_as: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for mc in cells:
        by[mc.outcome.value].add(mc.method)
        sigs[mc.outcome.value].update(mc.cell.signatures)
        if mc.cell.ran_as:
            ran_as[mc.outcome.value][mc.cell.ran_as].add(mc.method)
    order = sorted(by, key=lambda o: -Outcome(o).rank)
    parts = []
    for name in order:
        seen = f" [{', '.join(sorted(sigs[name]))}]" if sigs[name] else ""
        # Where the program chose its own start method: "(fork, forkserver ran as spawn)".
        really = "; ".join(f"{', '.join(ordered(ms))} ran as {m}"
                           for m, ms in sorted(ran_as[name].items()))  # fmt: skip
        really = f" ({really})" if really else ""
        parts.append(f"{name} under {', '.join(ordered(by[name]))}{really}{seen}")
    return "; ".join(parts)


def _mistakes(
    matrix: Matrix, cells: list[MergedCell], package: str, among: list[MergedCell]
) -> list[Mistake]:
    """Each mistake that failed as documented, where (its releases and Pythons, as runs of
    those measured in ``among``), with what its twin did where it was measured."""
    by_scenario: dict[str, list[MergedCell]] = defaultdict(list)
    for mc in cells:
        by_scenario[mc.scenario].append(mc)
    every = [minor(mc.axes.get("python", "?")) for mc in among]
    found = []
    for scenario, mine in sorted(by_scenario.items()):
        twin = next((mc.cell.twin for mc in mine if mc.cell.twin), None)
        where = f"on Python {spans([minor(mc.axes.get('python', '?')) for mc in mine], every)}"
        if package != "python":
            at: dict[str, list[str]] = defaultdict(list)
            for mc in mine:
                at[_version(mc, package)].append(minor(mc.axes.get("python", "?")))
            versions = sorted(at, key=version_key)
            pythons = pythons_said({v: sorted(set(ps)) for v, ps in at.items()}, versions, every)
            releases = spans(versions, [_version(mc, package) for mc in among])
            where = f"with {package} {releases} (Python {pythons})"
        found.append(Mistake(short(scenario), _shows(mine), short(twin) if twin else None,
                             _twin_result(matrix, twin, package) if twin else "",
                             where))  # fmt: skip
    return found


def _twin_result(matrix: Matrix, twin: str, package: str) -> str:
    """What the twin did here (the releases it passes with); where it never passed here, what
    its GPU variant (``cuda_<twin>``) did, or that it is not yet measured."""
    mine = [mc for mc in matrix.cells if mc.scenario == twin]
    ran = [mc for mc in mine if mc.measured]
    if ran and all(mc.outcome is Outcome.PASS for mc in ran):
        return f"it passes here under {', '.join(ordered({mc.method for mc in ran}))}"
    by: dict[str, list[MergedCell]] = defaultdict(list)
    for mc in ran:
        by[_version(mc, package)].append(mc)
    good = [v for v, got in by.items() if all(mc.outcome is Outcome.PASS for mc in got)]
    if good and package != "python":
        return f"it passes here with {package} {spans(good, list(by))}"
    here = f"here: {_shows(ran)}" if ran else "it was not measured here"
    if not ran and mine:
        here += f" ({_why_skipped(mine[0], matrix.catalog)})"
    path = PurePosixPath(twin)
    variant = (path.parent / f"cuda_{path.name}").as_posix()
    gpu = [mc for mc in matrix.cells if mc.scenario == variant]
    gpu = [mc for mc in gpu if mc.measured]
    name = PurePosixPath(variant).stem
    if gpu and all(mc.outcome is Outcome.PASS for mc in gpu):
        return f"{here}; on a GPU, {name} passes"
    if gpu:
        return f"{here}; on a GPU, {name}: {_shows(gpu)}"
    if Path(variant).is_file():
        return f"{here}; on a GPU not yet measured ({name} has no result)"
    return f"{here}; not yet measured where it can run"
