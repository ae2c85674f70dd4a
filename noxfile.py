"""Sessions of pytest-mpcompat: the plugin's tests, the scenario matrix, lint.

Interpreters that are not installed are reported and skipped, not fatal. Where pyenv manages
Python, its shims only expose the selected version; this file appends every installed 3.10-3.13
to PYENV_VERSION (keeping what it already names first) so that ``python3.12`` and friends resolve.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import nox

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]

nox.options.sessions = ["tests"]
nox.options.error_on_missing_interpreters = False
nox.options.reuse_venv = "yes"


def _expose_pyenv_versions() -> None:
    pyenv = shutil.which("pyenv")
    if pyenv is None:
        return
    run = lambda *a: subprocess.run([pyenv, *a], capture_output=True, text=True).stdout  # noqa: E731
    installed = run("versions", "--bare").split()
    # `pyenv exec` (behind every shim) exports the version it chose; keep it in front.
    chosen = (os.environ.get("PYENV_VERSION") or run("version-name").strip()).split(":")
    for minor in PYTHONS:
        matches = [v for v in installed if re.fullmatch(rf"{re.escape(minor)}\.\d+", v)]
        if matches:
            chosen.append(max(matches, key=lambda v: int(v.rsplit(".", 1)[1])))
    os.environ["PYENV_VERSION"] = ":".join(dict.fromkeys(v for v in chosen if v))


_expose_pyenv_versions()


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """Run the plugin's own test suite (real subprocesses, real start methods)."""
    session.install("-e", ".[test]")
    # Exit code 5 (no tests collected) only means something when the caller filtered the run.
    codes = [0, 5] if session.posargs else [0]
    session.run("pytest", *session.posargs, success_codes=codes)


@nox.session
def matrix(session: nox.Session) -> None:
    """Run the bundled scenarios under every start method and write reports/raw/<session>.json."""
    session.install("-e", ".")
    report = f"reports/raw/{session.name}.json"
    session.run("pytest", "--mp-matrix", "scenarios", "--mp-report", report, *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (check and format) and mypy --strict on the package."""
    session.install("ruff", "mypy", "pytest", "packaging", "-e", ".")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")
