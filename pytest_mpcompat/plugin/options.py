"""Command-line options and their ini twins, registered by every pytest run that has the plugin.

Only registration lives here, so that an unused plugin costs nothing more; ``settings`` resolves
them (command line, then environment, then ini file, then defaults) once the plugin is used.

PYTEST_DONT_REWRITE: loaded by every pytest run, this module has no assertions to rewrite.
"""

from __future__ import annotations

import os

import pytest

from ..constants import DEFAULT_EXIT_GRACE_S, START_METHODS
from ..model.outcome import OUTCOMES

__all__ = [
    "DEFAULT_TIMEOUT_S", "FAIL_ON_CHOICES", "SETTING_STEMS", "STACK_TOOLS", "add_options",
    "settings_given",
]  # fmt: skip

DEFAULT_TIMEOUT_S = 120.0
STACK_TOOLS = ("auto", "py-spy", "faulthandler")
#: Outcomes --mp-fail-on accepts ("degraded": a pass whose output shows an error-level
#: signature); "any" stands for every measured one but pass (not skip, not unmeasurable).
FAIL_ON_CHOICES = tuple(o for o in OUTCOMES if o != "pass")
#: Settings with a flag (``--mp-<stem>``), an environment variable (``MPCOMPAT_<STEM>``) and an
#: ini option (``mp_<stem>``).
SETTING_STEMS = ("methods", "timeout", "report", "repeat", "stacks", "fail_on", "exit_grace",
                 "baseline", "tries")  # fmt: skip


#: (flag, its metavar, help) of every option that takes a value; its ini twin's help follows.
_VALUED: tuple[tuple[str, str, str], ...] = (
    ("--mp-methods", "LIST",
     f"comma-separated start methods for scenarios that do not name their own "
     f"({', '.join(START_METHODS)}; default: all this OS has). Env: MPCOMPAT_METHODS"),
    ("--mp-timeout", "SECONDS",
     f"timeout of a cell whose scenario sets none (default {DEFAULT_TIMEOUT_S:g}). "
     "Env: MPCOMPAT_TIMEOUT"),
    ("--mp-report", "PATH",
     "write the JSON report of every cell here, after each cell. Env: MPCOMPAT_REPORT"),
    ("--mp-repeat", "N",
     "run each cell N times and record the verdict counts (default 1). Env: MPCOMPAT_REPEAT"),
    ("--mp-stacks", "TOOL",
     "how to take the stacks of a hung cell: auto (py-spy if found, else faulthandler), "
     "py-spy or faulthandler. Env: MPCOMPAT_STACKS"),
    ("--mp-fail-on", "LIST",
     "fail cells whose scenario declares no expectation when their outcome is one of these "
     f"({', '.join(FAIL_ON_CHOICES)}, or any; e.g. crash,hang). Cells with an expectation "
     "are judged by it. Env: MPCOMPAT_FAIL_ON"),
    ("--mp-exit-grace", "SECONDS",
     "after a cell's main process exits, how long its other processes may take to end "
     f"before they are reported as leaked and killed (default {DEFAULT_EXIT_GRACE_S:g}). "
     "Env: MPCOMPAT_EXIT_GRACE"),
    ("--mp-baseline", "PATH",
     "a merged matrix.json (the committed report) whose outcomes --mp-tries compares matrix "
     "cells with. Env: MPCOMPAT_BASELINE"),
    ("--mp-tries", "N",
     "run a matrix cell that came out worse than in --mp-baseline N times in all (default 1); "
     "its verdict counts then show whether it got worse or is flaky. Env: MPCOMPAT_TRIES"),
    ("--mp-unsupported", "REASON",
     "upstream does not support this environment (e.g. the package's Requires-Python "
     "excludes it): record every cell as a skip with REASON"),
    ("--mp-environment-gap", "REASON",
     "this machine could not build the environment (a download or build failed): record "
     "no cell, only the gap, which reports list as a missing run"),
)  # fmt: skip
_INI: tuple[tuple[str, str], ...] = (
    ("mp_methods", "default start methods (comma-separated)"),
    ("mp_timeout", "default timeout of a cell in seconds"),
    ("mp_report", "path of the JSON report"),
    ("mp_repeat", "how many times each cell runs"),
    ("mp_stacks", "stack tool for hung cells: auto, py-spy or faulthandler"),
    ("mp_fail_on", "outcomes that fail a cell with no expectation (comma-separated)"),
    ("mp_exit_grace", "seconds a cell's processes may outlive its main process"),
    ("mp_baseline", "matrix.json that --mp-tries compares cells with"),
    ("mp_tries", "runs in all of a cell worse than in the baseline"),
)


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("mpcompat", "multiprocessing start-method matrix")
    group.addoption(
        "--mp-matrix",
        action="store_true",
        default=False,
        help="run every scenario script under the given paths (default: ini mp_paths) once per "
        "start method",
    )
    group.addoption(
        "--mp-fresh",
        action="store_true",
        default=False,
        help="run every matrix cell anew: reuse no earlier result, even where none of its "
        "inputs changed (--mp-repeat never reuses). Env: MPCOMPAT_FRESH=1",
    )
    for flag, metavar, text in _VALUED:
        group.addoption(flag, metavar=metavar, help=text)
    group.addoption(
        "--mp-label",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="record an axis value with every cell, e.g. the requested kserve=0.13.1 (repeatable)",
    )
    parser.addini("mp_paths", "scenario paths for --mp-matrix when none are given", type="paths")
    for name, text in _INI:
        parser.addini(name, text)


def settings_given(config: pytest.Config) -> bool:
    """Whether any of the plugin's settings was given: a flag, its environment variable or
    its ini option (then they are checked, with or without ``--mp-matrix``)."""
    if config.getoption("--mp-label") or config.getoption("--mp-unsupported"):
        return True
    return any(
        config.getoption(f"--mp-{stem.replace('_', '-')}") is not None
        or os.environ.get(f"MPCOMPAT_{stem.upper()}")
        or config.getini(f"mp_{stem}")
        for stem in SETTING_STEMS
    )
