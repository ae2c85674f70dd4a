"""Sessions of pytest-mpcompat: the plugin's tests, the scenario matrices, the report, lint.

Every ``[[set]]`` of every ``matrices/*.toml`` becomes one session per Python, tagged with the
matrix's name: ``nox -t full`` runs the published matrix, ``nox -t ci`` the CI one, ``nox -t gpu``
the CUDA scenarios in the environment it finds (installing nothing). Each writes
reports/raw/<session>.json; a set that cannot be installed on a Python is still run, and records
every cell as not installable with pip's reason. ``nox -s report`` merges the raw results.

Interpreters that are not installed are reported and skipped, not fatal. Where pyenv manages
Python, its shims only expose the selected version; this file appends every installed 3.10-3.13
to PYENV_VERSION (keeping what it already names first) so that ``python3.12`` and friends resolve.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nox

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytest_mpcompat.matrixfile import EnvSet, MatrixFile, load_matrix  # noqa: E402

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
MATRICES = Path("matrices")
CONSTRAINTS = MATRICES / "constraints"

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


def _share_pip_find_links() -> None:
    """uv does not read pip's configuration: give it pip's ``find-links`` (a folder of local
    builds, such as CPU torch wheels) so that both installers resolve the same pins."""
    if os.environ.get("UV_FIND_LINKS"):
        return
    links = os.environ.get("PIP_FIND_LINKS")
    if not links:
        proc = subprocess.run([sys.executable, "-m", "pip", "config", "get", "global.find-links"],
                              capture_output=True, text=True)  # fmt: skip
        links = proc.stdout.strip() if proc.returncode == 0 else ""
    if links:
        os.environ["UV_FIND_LINKS"] = ",".join(links.split())


_expose_pyenv_versions()
_share_pip_find_links()
# Offline machines: never let uv try to download an interpreter nox did not find.
os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")
# uv where it is installed, else virtualenv: the same sessions either way.
VENV_BACKEND = "uv|virtualenv"


@nox.session(python=PYTHONS, venv_backend=VENV_BACKEND)
def tests(session: nox.Session) -> None:
    """Run the plugin's own test suite (real subprocesses, real start methods)."""
    session.install("-e", ".[test]")
    # Exit code 5 (no tests collected) only means something when the caller filtered the run.
    codes = [0, 5] if session.posargs else [0]
    # Most of a test is spent waiting on the processes it runs: four workers even on two cores.
    session.run("pytest", "-n", "4", *session.posargs, success_codes=codes)


def _pip(session: nox.Session, *args: str) -> tuple[int, str]:
    """pip (or ``uv pip`` in a uv-made environment) in the session's environment, keeping its
    output so that a failure can be reported."""
    python = Path(session.bin) / ("python.exe" if os.name == "nt" else "python")
    if getattr(session.virtualenv, "venv_backend", "") == "uv":
        verb, *rest = args
        rest = [a for a in rest if a != "-y"]  # uv pip uninstall never asks
        command = [shutil.which("uv") or "uv", "pip", verb, "--python", str(python), *rest]
    else:
        command = [str(python), "-m", "pip", *args]
    proc = subprocess.run(command, capture_output=True, text=True)
    session.log(proc.stdout[-2000:] + proc.stderr[-2000:])
    return proc.returncode, proc.stderr


def _why_not(stderr: str, requirement: str = "") -> str:
    """The reason the installer gives, shortest first: the Python range of the version asked
    for, the version that does not exist, else the installer's first error line."""
    version = requirement.partition("==")[2]
    if version:
        ranged = re.search(
            rf"\b{re.escape(version)} Requires-Python ([^;\n]+)", stderr
        ) or re.search(
            rf"{re.escape(requirement)} depends on Python([<>=!~][^\s,]+(?:,[<>=!~][^\s,]+)*)",
            stderr,
        )
        if ranged:
            return f"needs Python {ranged.group(1).strip()}"
    errors = [ln.removeprefix("ERROR: ") for ln in stderr.splitlines() if ln.startswith("ERROR:")]
    for error in errors:
        if error.startswith("Could not find a version"):
            return error.split(" (from versions")[0]
    # uv: "  cause: Because ..., we can conclude that ... unsatisfiable." and a "hint:" line.
    causes = [ln.strip().removeprefix("cause: ") for ln in stderr.splitlines()
              if ln.strip().startswith("cause:")]  # fmt: skip
    hints = [ln.removeprefix("hint: ") for ln in stderr.splitlines() if ln.startswith("hint:")]
    if causes or hints:
        return " ".join(causes[-1:] + hints[:1])[:400]
    lines = errors or stderr.strip().splitlines()[-1:] or ["the installer failed"]
    return lines[0][:300]


def _blockers(session: nox.Session, env: EnvSet) -> str:
    """Each requirement of the set that cannot be installed here on its own (with the pin its
    constraints give it), and pip's reason."""
    pins = {}
    for name in env.constraints:
        for line in (CONSTRAINTS / name).read_text().splitlines():
            if "==" in line and not line.startswith("#"):
                pins[line.split("==")[0].strip().lower()] = line.strip()
    found = []
    for req in env.install:
        pinned = pins.get(re.split(r"[<>=!~\[; ]", req, maxsplit=1)[0].lower(), req)
        code, err = _pip(session, "install", "-q", "--dry-run", "--no-deps", pinned)
        if code:
            found.append(f"{pinned}: {_why_not(err, pinned)}")
    return "; ".join(found)


def _matrix_session(matrix: MatrixFile, env: EnvSet) -> Callable[[nox.Session], None]:
    def run(session: nox.Session) -> None:
        args = [f"--mp-label={k}={v}" for k, v in env.labels.items()]
        if env.venv:
            code, err = _pip(session, "install", "-q", "-e", ".")
            if code:
                session.error(f"cannot install pytest-mpcompat: {_why_not(err)}")
            if env.install:
                cons = [f"--constraint={CONSTRAINTS / c}" for c in env.constraints]
                code, err = _pip(session, "install", "-q", *cons, *env.install)
                if code:
                    reason = _blockers(session, env) or _why_not(err)
                    args.append(f"--mp-not-installable={reason}")
                elif env.uninstall:
                    _pip(session, "uninstall", "-y", "-q", *env.uninstall)
            run_pytest = ["python", "-m", "pytest"]
        else:  # the environment nox runs in (a GPU machine): load the plugin from the tree
            session.env["PYTHONPATH"] = os.pathsep.join(
                filter(None, [os.getcwd(), os.environ.get("PYTHONPATH")])
            )
            probe = (
                "import importlib.metadata as m; "
                "print(bool(m.entry_points(group='pytest11', name='mpcompat')))"
            )
            installed = "True" in str(session.run("python", "-c", probe, silent=True))
            run_pytest = [
                "python",
                "-m",
                "pytest",
                *([] if installed else ["-p", "pytest_mpcompat.plugin"]),
            ]
        paths = sorted(p for pattern in env.scenarios for p in glob.glob(f"scenarios/{pattern}"))
        report = f"reports/raw/{session.name}.json"
        session.run(*run_pytest, "--mp-matrix", *paths, "--mp-report", report, *args,
                    *env.pytest_args, *session.posargs)  # fmt: skip

    where = ", ".join(env.install) or (
        "the environment it finds" if not env.venv else "stdlib only"
    )
    run.__doc__ = (
        f"{matrix.name} matrix: {' '.join(env.scenarios)} with {where}. {env.description}".strip()
    )
    return run


for _path in sorted(MATRICES.glob("*.toml")):
    _m = load_matrix(_path)
    for _env in _m.sets:
        _python: Any = list(_env.python) if _env.venv else False
        nox.session(
            name=f"{_m.name}-{_env.name}",
            python=_python,
            venv_backend=VENV_BACKEND if _env.venv else "none",
            tags=[_m.name],
        )(_matrix_session(_m, _env))


@nox.session(venv_backend=VENV_BACKEND)
def report(session: nox.Session) -> None:
    """Merge the full and gpu raw results into reports/ (matrix.json, COMPATIBILITY.md,
    index.html)."""
    session.install("-e", ".")
    raw = sorted(glob.glob("reports/raw/full-*.json") + glob.glob("reports/raw/gpu-*.json"))
    session.run("mpcompat-report", "merge", *raw,
                "--matrix", "matrices/full.toml", "--out", "reports", *session.posargs)  # fmt: skip


@nox.session(python="3.11", venv_backend=VENV_BACKEND)
def bench(session: nox.Session) -> None:
    """Harness benchmarks (overhead, xdist speed-up, hang handling, 100k-cell report)."""
    session.install(
        "-e", ".[test]", "torch==2.13.0", f"--constraint={CONSTRAINTS / 'torch-2.13.0-cpu.txt'}"
    )
    session.run("python", "benchmarks/bench_harness.py", "--json", "benchmarks/results.json",
                *session.posargs)  # fmt: skip


@nox.session(venv_backend=VENV_BACKEND)
def lint(session: nox.Session) -> None:
    """ruff (check and format), mypy --strict on the package, the GitHub workflow's schema."""
    session.install("ruff", "mypy", "pytest", "packaging", "check-jsonschema", "-e", ".")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")
    workflows = sorted(glob.glob(".github/workflows/*.yml"))
    session.run("check-jsonschema", "--builtin-schema", "vendor.github-workflows", *workflows)
