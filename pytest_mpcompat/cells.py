"""One scenario cell from start to verdict: requirements, repeated runs, expectation.

``run_scenario_cell`` is the one way a cell runs, for matrix items and for the ``mp_run`` and
``mp_server`` fixtures alike; it never raises for anything the scenario does, so the caller only
turns the result into a pytest outcome.
"""

from __future__ import annotations

import platform
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from packaging.specifiers import SpecifierSet

from .model import DEFAULT_EXIT_GRACE_S, OUTCOMES, CellResult, Expectation, Verdict
from .requirements import (
    condition_holds,
    environment_axes,
    unmet_dependency,
    unmet_requirement,
)
from .runner import CellSpec, run_cell
from .scenario import ExpectRule, Scenario, ScenarioError
from .settings import Settings
from .signatures import Signature, failing_signatures, outcome

__all__ = [
    "available_methods",
    "cell_spec",
    "check_signature_ids",
    "compare",
    "pick_expectation",
    "run_scenario_cell",
    "skip_reason",
]


def available_methods() -> tuple[str, ...]:
    """Start methods this interpreter has, its default first (as CPython lists them)."""
    import multiprocessing  # only when cells run: the plugin loads in every pytest run

    return tuple(multiprocessing.get_all_start_methods())


def skip_reason(scenario: Scenario, method: str) -> str | None:
    """Why the cell cannot run on this machine, or None."""
    if method not in available_methods():
        return f"start method {method!r} does not exist on {platform.system() or 'this OS'}"
    if scenario.requires_python and not SpecifierSet(scenario.requires_python).contains(
        platform.python_version(), prereleases=True
    ):
        return f"needs Python {scenario.requires_python}, this is {platform.python_version()}"
    for dep in scenario.dependencies:
        reason = unmet_dependency(dep)
        if reason:
            return reason
    for req in scenario.requires:
        reason = unmet_requirement(req)
        if reason:
            return f"requires {req}: {reason}"
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


def _aggregate(runs: list[CellResult], catalog: Mapping[str, Signature]) -> CellResult:
    """The worst run stands for the cell; the others leave their counts and signatures."""
    worst = max(runs, key=lambda r: OUTCOMES.index(outcome(r, catalog)))
    worst.repeat = len(runs)
    worst.verdict_counts = dict(Counter(r.verdict.value for r in runs))
    sigs = [s for r in runs for s in r.signatures]
    worst.signatures = list(dict.fromkeys(sigs))
    worst.duration_s = round(sum(r.duration_s for r in runs) / len(runs), 4)
    return worst


def cell_spec(
    scenario: Scenario,
    method: str,
    *,
    default_timeout: float,
    cwd: Path,
    stacks: str,
    exit_grace: float = DEFAULT_EXIT_GRACE_S,
    **overrides: Any,
) -> CellSpec:
    """The cell a scenario's metadata describes; keyword ``overrides`` (not None) win. ``cwd``
    is the folder pytest was started from, used where the scenario asks for it."""
    where = {"invocation": cwd, "script": scenario.path.resolve().parent}.get(scenario.cwd)
    # The script as `python SCRIPT` would name it from that folder (absolute from a scratch one).
    script = {"invocation": scenario.path, "script": Path(scenario.path.name)}.get(
        scenario.cwd, (cwd / scenario.path).resolve()
    )
    fields: dict[str, Any] = {
        "script": script,
        "method": method,
        "timeout": scenario.timeout or default_timeout,
        "env": dict(scenario.env),
        "args": scenario.args,
        "cwd": where,  # None: a scratch folder of the cell's own
        "stacks": stacks,
        "serve": scenario.serve,
        "memory_limit_mb": scenario.memory_limit_mb,
        "max_processes": scenario.max_processes,
        "exit_grace": scenario.exit_grace if scenario.exit_grace is not None else exit_grace,
    }
    fields.update((k, v) for k, v in overrides.items() if v is not None)
    return CellSpec(**fields)


def run_scenario_cell(
    scenario: Scenario,
    method: str,
    settings: Settings,
    *,
    catalog: Mapping[str, Signature],
    cwd: Path,
    **overrides: Any,
) -> CellResult:
    """Run the cell (``settings.repeat`` times) unless it must be skipped, and compare it with
    the scenario's expectation. ``overrides`` replace fields of its ``CellSpec``."""
    env_axes = environment_axes(scenario.dependencies)
    reason = f"not supported upstream: {settings.unsupported}" if settings.unsupported else None
    reason = reason or skip_reason(scenario, method)
    if reason:
        return CellResult(
            scenario=str(scenario.path), method=method, verdict=Verdict.SKIP, reason=reason,
            env=env_axes, verdict_counts={"skip": 1},
        )  # fmt: skip
    spec = cell_spec(
        scenario,
        method,
        default_timeout=settings.timeout,
        cwd=cwd,
        stacks=settings.stacks,
        exit_grace=settings.exit_grace,
        **overrides,
    )
    runs = [run_cell(spec, list(catalog.values())) for _ in range(settings.repeat)]
    result = _aggregate(runs, catalog)
    result.env = env_axes
    rule = pick_expectation(scenario, method)
    if rule is not None:
        result.expected = Expectation(rule.verdict, rule.signatures)
        result.mismatch = compare(runs, result.expected, catalog)
    return result
