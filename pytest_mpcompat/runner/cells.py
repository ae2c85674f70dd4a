"""One scenario cell from start to verdict: requirements, repeated runs, expectation.

``run_scenario_cell`` is the one way a cell runs, for matrix items and for the ``mp_run`` and
``mp_server`` fixtures alike; it never raises for anything the scenario does, so the caller only
turns the result into a pytest outcome.
"""

from __future__ import annotations

import platform
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Protocol

from packaging.specifiers import SpecifierSet

from ..model.catalog import Signature, failing_signatures
from ..model.cell import CellResult, Expectation, SkipKind, Verdict
from ..model.rawfile import utc_now
from ..redact import process_redactor, scrub
from ..scenario.load import ExpectRule, Scenario, ScenarioError
from ..scenario.requirements import (
    condition_holds,
    environment_axes,
    unmet_dependency,
    unmet_requirement,
)
from .process import run_cell
from .request import CellRequest, CellSpec, cell_spec
from .reuse import CellCache

__all__ = [
    "available_methods",
    "check_signature_ids",
    "compare",
    "pick_expectation",
    "run_scenario_cell",
    "skip_reason",
]


class Settings(Protocol):
    """What a run's settings say of each cell (the plugin's ``Settings``)."""

    @property
    def timeout(self) -> float: ...
    @property
    def stacks(self) -> str: ...
    @property
    def exit_grace(self) -> float: ...
    @property
    def repeat(self) -> int: ...
    @property
    def unsupported(self) -> str | None: ...


def available_methods() -> tuple[str, ...]:
    """Start methods this interpreter has, its default first (as CPython lists them)."""
    import multiprocessing  # only when cells run: the plugin loads in every pytest run

    return tuple(multiprocessing.get_all_start_methods())


def skip_reason(scenario: Scenario, method: str) -> tuple[SkipKind, str] | None:
    """Why the cell cannot run on this machine, and the kind of reason, or None."""
    if method not in available_methods():
        return SkipKind.START_METHOD, (
            f"start method {method!r} does not exist on {platform.system() or 'this OS'}"
        )
    if scenario.requires_python and not SpecifierSet(scenario.requires_python).contains(
        platform.python_version(), prereleases=True
    ):
        return SkipKind.PYTHON, (
            f"needs Python {scenario.requires_python}, this is {platform.python_version()}"
        )
    for dep in scenario.dependencies:
        reason = unmet_dependency(dep)
        if reason:
            return SkipKind.ENVIRONMENT, reason
    for req in scenario.requires:
        reason = unmet_requirement(req)
        if reason:
            return SkipKind.REQUIREMENT, f"requires {req}: {reason}"
    return None


def pick_expectation(scenario: Scenario, method: str) -> ExpectRule | None:
    for rule in scenario.expect:
        if (rule.methods is None or method in rule.methods) and all(
            condition_holds(c) for c in rule.when
        ):
            return rule
    return None


def check_signature_ids(scenario: Scenario, catalog: Mapping[str, Signature]) -> None:
    """Raise ScenarioError for an expectation that names a signature nobody defined."""
    for rule in scenario.expect:
        for sid in rule.signatures:
            if sid not in catalog:
                raise ScenarioError(
                    scenario.path,
                    rule.line,
                    f"unknown signature {sid!r} in an expect rule (known: {', '.join(catalog)})",
                )


def compare(
    runs: Sequence[CellResult], expected: Expectation, catalog: Mapping[str, Signature]
) -> str:
    """Why the runs contradict the expectation ('' when they agree)."""
    problems = []
    counts = Counter(r.verdict.value for r in runs)
    wrong = {v: n for v, n in counts.items() if v != expected.verdict.value}
    if wrong:
        seen = ", ".join(f"{v} x{n}" if len(runs) > 1 else v for v, n in counts.items())
        problems.append(f"expected {expected.verdict.value}, got {seen}")
    seen_sigs = {s for r in runs for s in r.signatures}
    missing = [s for s in expected.signatures if s not in seen_sigs]
    if missing:
        problems.append(f"expected signature {', '.join(missing)} did not appear")
    if expected.verdict is Verdict.PASS and not wrong:
        failures = sorted(
            s for s in failing_signatures(seen_sigs, catalog) if s not in expected.signatures
        )
        if failures:
            problems.append(
                f"expected a clean pass, but the cell shows {', '.join(failures)} "
                "(it passed, degraded: something in it failed)"
            )
    return "; ".join(problems)


def _aggregate(runs: list[CellResult]) -> CellResult:
    """The worst run stands for the cell; the others leave their counts and signatures."""
    worst = max(runs, key=lambda r: r.outcome.rank)
    worst.repeat = len(runs)
    worst.verdict_counts = dict(Counter(r.verdict.value for r in runs))
    sigs = [s for r in runs for s in r.signatures]
    worst.signatures = list(dict.fromkeys(sigs))
    worst.duration_s = round(sum(r.duration_s for r in runs) / len(runs), 4)
    return worst


def _measure(
    spec: CellSpec, patterns: list[Signature], repeat: int, reuse: CellCache | None
) -> tuple[list[CellResult], CellResult]:
    """The cell's runs and their aggregate: a single run whose inputs did not change is the
    earlier result; what ran is stored for the next time."""
    key = reuse.key(spec, patterns) if reuse is not None and repeat == 1 else None
    earlier = reuse.load(key) if reuse is not None and key else None
    if earlier is not None:
        return [earlier], earlier
    runs = [run_cell(spec, patterns) for _ in range(repeat)]
    result = _aggregate(runs)
    result.measured_at = utc_now()
    # Every string of the result (its name, reason, environment as well as its output) leaves
    # the cell redacted: the reuse cache and the report store nothing else.
    scrub(result, process_redactor())
    if reuse is not None and key:
        reuse.store(key, result)
    return runs, result


def run_scenario_cell(
    scenario: Scenario,
    method: str,
    settings: Settings,
    *,
    name: str,
    catalog: Mapping[str, Signature],
    cwd: Path,
    request: CellRequest | None = None,
    reuse: CellCache | None = None,
    worse: Callable[[CellResult], bool] | None = None,
    tries: int = 1,
) -> CellResult:
    """Run the cell (``settings.repeat`` times, each run judged with ``catalog``) unless it must
    be skipped, and compare it with the scenario's expectation. ``name`` is the cell's
    name in every report; ``request`` is what the test asks beyond the scenario's settings;
    ``reuse`` holds earlier results, one of which stands for a single run whose inputs match.
    ``worse`` says whether a result is worse than the baseline's: such a cell runs ``tries``
    times in all, its verdict counts telling a regression from a flake."""
    env_axes = environment_axes(scenario.dependencies)
    # A mistake's twin is named as the cell is: a scenario in the same folder.
    twin = str(PurePosixPath(name).parent / scenario.twin) if scenario.twin else None
    skip = (SkipKind.UPSTREAM, f"not supported upstream: {settings.unsupported}") if (
        settings.unsupported
    ) else skip_reason(scenario, method)  # fmt: skip
    if skip:
        kind, reason = skip
        skipped = CellResult(
            scenario=name, method=method, verdict=Verdict.SKIP, reason=reason, skip_kind=kind,
            env=env_axes, verdict_counts={"skip": 1}, role=scenario.role, twin=twin,
        )  # fmt: skip
        return scrub(skipped, process_redactor())  # type: ignore[no-any-return]
    spec = cell_spec(
        scenario,
        method,
        name=name,
        default_timeout=settings.timeout,
        cwd=cwd,
        stacks=settings.stacks,
        exit_grace=settings.exit_grace,
        request=request or CellRequest(),
    )
    patterns = list(catalog.values())
    runs, result = _measure(spec, patterns, settings.repeat, reuse)
    result.env, result.role, result.twin = env_axes, scenario.role, twin
    if worse is not None and tries > len(runs) and worse(result):
        runs = [*runs, *(run_cell(spec, patterns) for _ in range(tries - len(runs)))]
        result = scrub(_aggregate(runs), process_redactor())
        if not result.reused:
            result.measured_at = utc_now()
        result.env, result.role, result.twin = env_axes, scenario.role, twin
    rule = pick_expectation(scenario, method)
    if rule is not None:
        result.expected = Expectation(rule.verdict, rule.signatures)
        result.mismatch = compare(runs, result.expected, catalog)
    return scrub(result, process_redactor())  # type: ignore[no-any-return]
