"""Settings of a run, resolved in one place from the options that ``options`` registers.

Precedence: command line, then environment (``MPCOMPAT_*``), then ini file, then defaults. A bad
value is a ``pytest.UsageError`` naming the setting, where it came from and what is valid.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from ..constants import DEFAULT_EXIT_GRACE_S, START_METHODS, seconds_problem
from ..model.outcome import KINDS
from ..runner._proctree import PROCESS_TABLES
from .options import DEFAULT_TIMEOUT_S, FAIL_ON_CHOICES, STACK_TOOLS

__all__ = ["Settings", "parse_fail_on", "parse_methods", "resolve_settings"]


@dataclass(frozen=True)
class Settings:
    matrix: bool
    methods: tuple[str, ...] | None  # None: every method this OS has
    timeout: float
    report: Path | None
    repeat: int
    paths: tuple[Path, ...]
    stacks: str  # one of STACK_TOOLS
    unsupported: str | None = None  # upstream does not support this environment: every cell a skip
    environment_gap: str | None = None  # this runner could not build it: no cell is recorded
    labels: tuple[tuple[str, str], ...] = ()  # recorded in each cell's env["labels"]
    #: Outcomes that fail a cell whose scenario declares no expectation for it.
    fail_on: frozenset[str] = frozenset()
    exit_grace: float = DEFAULT_EXIT_GRACE_S
    #: Run every matrix cell anew, reusing no earlier result (see ``runner/reuse.py``).
    fresh: bool = False
    #: A matrix cell worse than in ``baseline`` (a merged matrix.json) runs ``tries`` times.
    baseline: Path | None = None
    tries: int = 1


def _raw(config: pytest.Config, stem: str) -> tuple[str | None, str]:
    """The setting's text and a description of where it came from."""
    flag = f"--mp-{stem.replace('_', '-')}"
    value = config.getoption(flag)
    if value is not None:
        return str(value), flag
    env = f"MPCOMPAT_{stem.upper()}"
    if os.environ.get(env):
        return os.environ[env], f"environment variable {env}"
    ini = config.getini(f"mp_{stem}")
    if ini:
        return str(ini), f"ini option mp_{stem} in {config.inipath}"
    return None, ""


def parse_methods(text: str, source: str) -> tuple[str, ...]:
    methods = tuple(m.strip() for m in text.split(",") if m.strip())
    bad = [m for m in methods if m not in START_METHODS]
    if bad or not methods:
        raise pytest.UsageError(
            f"{source}: unknown start method {bad[0] if bad else text!r}; "
            f"choose from {', '.join(START_METHODS)}"
        )
    return methods


def _seconds(text: str, source: str, zero_ok: bool = False) -> float:
    try:
        value = float(text)
    except ValueError:
        value = None
    problem = seconds_problem(value, zero_ok)
    if problem:
        raise pytest.UsageError(f"{source}: {problem}, not {text!r}")
    return float(text)


def _count(text: str, source: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise pytest.UsageError(f"{source}: {text!r} is not a positive whole number")
    return value


def parse_fail_on(text: str, source: str) -> frozenset[str]:
    names = {n.strip() for n in text.split(",") if n.strip()}
    if "any" in names:
        names = (names - {"any"}) | {o for o in FAIL_ON_CHOICES if KINDS[o].measured}
    bad = sorted(names - set(FAIL_ON_CHOICES))
    if bad or not names:
        raise pytest.UsageError(
            f"{source}: unknown outcome {bad[0] if bad else text!r}; choose from "
            f"{', '.join(FAIL_ON_CHOICES)} or any"
        )
    return frozenset(names)


def _check_process_table() -> None:
    table = os.environ.get("MPCOMPAT_PROCESS_TABLE")
    if table and table not in PROCESS_TABLES:
        raise pytest.UsageError(
            f"environment variable MPCOMPAT_PROCESS_TABLE: unknown way {table!r} to read the "
            f"process table; choose from {', '.join(PROCESS_TABLES)}"
        )
    if table == "psutil" and importlib.util.find_spec("psutil") is None:
        raise pytest.UsageError(
            "environment variable MPCOMPAT_PROCESS_TABLE=psutil: psutil is not installed "
            "(pip install psutil), or use ps"
        )


def resolve_settings(config: pytest.Config) -> Settings:
    _check_process_table()
    methods_text, source = _raw(config, "methods")
    methods = parse_methods(methods_text, source) if methods_text is not None else None
    timeout_text, source = _raw(config, "timeout")
    timeout = _seconds(timeout_text, source) if timeout_text else DEFAULT_TIMEOUT_S
    grace_text, source = _raw(config, "exit_grace")
    grace = _seconds(grace_text, source, zero_ok=True) if grace_text else DEFAULT_EXIT_GRACE_S
    fail_text, source = _raw(config, "fail_on")
    fail_on = parse_fail_on(fail_text, source) if fail_text else frozenset()
    repeat_text, source = _raw(config, "repeat")
    repeat = _count(repeat_text, source) if repeat_text else 1
    stacks, source = _raw(config, "stacks")
    stacks = stacks or "auto"
    if stacks not in STACK_TOOLS:
        raise pytest.UsageError(
            f"{source}: unknown stack tool {stacks!r}; choose from {', '.join(STACK_TOOLS)}"
        )
    if stacks == "py-spy" and _find_pyspy() is None:
        raise pytest.UsageError(
            f"{source}: py-spy is not installed (pip install py-spy), or use faulthandler"
        )
    tries_text, source = _raw(config, "tries")
    tries = _count(tries_text, source) if tries_text else 1
    baseline_text, source = _raw(config, "baseline")
    baseline = Path(config.invocation_params.dir, baseline_text) if baseline_text else None
    if baseline is not None and not baseline.is_file():
        raise pytest.UsageError(f"{source}: {baseline} is not a file (a merged matrix.json)")
    report_text, _ = _raw(config, "report")
    report = Path(config.invocation_params.dir, report_text) if report_text else None
    paths = tuple(Path(p) for p in config.getini("mp_paths"))
    for path in paths:
        if not path.exists():
            raise pytest.UsageError(
                f"ini option mp_paths in {config.inipath}: {path} does not exist"
            )
    labels = []
    for item in config.getoption("--mp-label"):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise pytest.UsageError(f"--mp-label: {item!r} is not KEY=VALUE")
        labels.append((key.strip(), value.strip()))
    return Settings(
        unsupported=config.getoption("--mp-unsupported"),
        environment_gap=config.getoption("--mp-environment-gap"),
        labels=tuple(labels),
        matrix=bool(config.getoption("--mp-matrix")),
        methods=methods,
        timeout=timeout,
        report=report,
        repeat=repeat,
        paths=paths,
        stacks=stacks,
        fail_on=fail_on,
        exit_grace=grace,
        fresh=bool(config.getoption("--mp-fresh")) or _flag_env("MPCOMPAT_FRESH"),
        baseline=baseline,
        tries=tries,
    )


def _flag_env(name: str) -> bool:
    """A yes/no environment variable: set and not 0, false, no or off."""
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no", "off")


def _find_pyspy() -> str | None:
    from ..runner._stacks import find_pyspy  # imports subprocess: only when py-spy is asked for

    return find_pyspy()
