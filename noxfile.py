"""Sessions of pytest-mpcompat: the plugin's tests, the scenario matrices, locks, the report.

Every ``[[set]]`` of every ``matrices/*.toml`` becomes one session per Python, tagged with the
matrix's name: ``nox -t full`` runs the published matrix, ``nox -t ci`` the CI one, ``nox -t gpu``
the CUDA scenarios in the environment it finds (installing nothing). Each installs its set with
the lock for its Python and platform (``nox -s lock`` regenerates matrices/locks/) and writes
reports/raw/<session>.json. Where the lock says upstream does not support that Python, every
cell is a skip with the resolver's reason; where this machine cannot build the environment, the
raw result records an environment gap and no cell. ``nox -s report`` merges the raw results.

Environments are made with uv where it is installed, else virtualenv. Interpreters that are not
installed are reported and skipped, not fatal. Where pyenv manages Python, its shims only expose
the selected version; this file appends every installed version of PYTHONS to PYENV_VERSION
(keeping what it already names first) so that ``python3.12`` and friends resolve.
"""

from __future__ import annotations

import dataclasses
import functools
import glob
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import nox
from packaging.requirements import Requirement

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytest_mpcompat.index import IndexFile, python_excluded  # noqa: E402
from pytest_mpcompat.index import files as index_files  # noqa: E402
from pytest_mpcompat.locks import (  # noqa: E402
    PLATFORMS,
    current_platform,
    lock_path,
    platform_target,
    read_lock,
    render_lock,
    without_local_wheels,
)
from pytest_mpcompat.matrixfile import EnvSet, MatrixFile, load_matrix  # noqa: E402

# 3.14 made forkserver the default start method on Linux; where it is not installed, nox
# reports it as a missing interpreter and the report lists its runs as missing.
PYTHONS = ["3.10", "3.11", "3.12", "3.13", "3.14"]
MATRICES = Path("matrices")
CONSTRAINTS = MATRICES / "constraints"
LOCKS = MATRICES / "locks"

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


def _prefer_cpu_torch() -> None:
    """Locks pin ``torch==X``; PyTorch's CPU index has ``X+cpu``, which satisfies the pin at a
    tenth of the download (no CUDA libraries). Use it when it answers, unless the caller chose
    indexes already or set MPCOMPAT_TORCH_INDEX=none (the index's default build is then used)."""
    index = os.environ.get("MPCOMPAT_TORCH_INDEX", "https://download.pytorch.org/whl/cpu")
    if index == "none" or os.environ.get("UV_EXTRA_INDEX_URL") or os.environ.get("UV_INDEX"):
        return
    try:
        with urllib.request.urlopen(f"{index.rstrip('/')}/torch/", timeout=3):  # noqa: S310
            pass
    except (OSError, ValueError):
        return  # offline, or only the package index is reachable
    os.environ["UV_EXTRA_INDEX_URL"] = index
    os.environ.setdefault("UV_INDEX_STRATEGY", "unsafe-best-match")


_expose_pyenv_versions()
_share_pip_find_links()
_prefer_cpu_torch()
# Compile bytecode at install, as pip does: a user's environment has it, and without it (and
# with PYTHONDONTWRITEBYTECODE set) every cell would compile torch from source again.
os.environ.setdefault("UV_COMPILE_BYTECODE", "1")
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


def _why_not(stderr: str) -> str:
    """The reason an installer gives, on one line: uv's cause and hint, else pip's first error."""
    text = stderr.replace("\u00d7", "").replace("\u2570\u2500\u25b6", "")
    cause = re.search(r"(Because .*?)(?=\n\s*\n|\nhint:|\Z)", text, re.S)
    hint = re.search(r"^hint: (.*)$", text, re.M)
    if cause or hint:
        parts = [cause.group(1) if cause else "", hint.group(1) if hint else ""]
        return " ".join(" ".join(parts).split())[:700]
    errors = [ln.removeprefix("ERROR: ") for ln in stderr.splitlines() if ln.startswith("ERROR:")]
    lines = errors or stderr.strip().splitlines()[-1:] or ["the installer failed"]
    return lines[0][:300]


def _install_set(session: nox.Session, env: EnvSet) -> list[str]:
    """Install the set from its lock for this Python and platform. Returns the pytest arguments
    that say what could not be had: ``--mp-unsupported`` (the lock says upstream does not
    support it) or ``--mp-environment-gap`` (this machine could not build it)."""
    plat = current_platform()
    if plat is None:
        where = f"{sys.platform} {platform.machine()}"
        return [
            f"--mp-environment-gap=no lock files for {where} (made for: {', '.join(PLATFORMS)})"
        ]
    lock = read_lock(lock_path(LOCKS, env.lock_name, str(session.python), plat))
    if lock is None:
        return [
            f"--mp-environment-gap=no lock for Python {session.python} on {plat}: "
            f"run `nox -s lock -- {env.lock_name}`"
        ]
    if lock.unsupported:
        return [f"--mp-unsupported={lock.unsupported}"]
    uv = getattr(session.virtualenv, "venv_backend", "") == "uv"
    if env.overrides and not uv:
        return [f"--mp-environment-gap=set {env.name} needs uv for its overrides (pip install uv)"]
    extra = [f"--constraint={CONSTRAINTS / c}" for c in env.constraints]
    with tempfile.TemporaryDirectory() as tmp:
        if env.overrides:
            overrides = Path(tmp, "overrides.txt")
            overrides.write_text("\n".join(env.overrides) + "\n")
            extra.append(f"--override={overrides}")
        code, err = _pip(session, "install", "-q", f"--constraint={lock.path}", *extra,
                         *env.install)  # fmt: skip
    if code:
        return [f"--mp-environment-gap={_why_not(err)}"]
    if env.uninstall:
        _pip(session, "uninstall", "-y", "-q", *env.uninstall)
    return []


def _matrix_session(matrix: MatrixFile, env: EnvSet) -> Callable[[nox.Session], None]:
    def run(session: nox.Session) -> None:
        args = [f"--mp-label={k}={v}" for k, v in env.labels.items()]
        if env.venv:
            # xdist lets a set overlap cells that mostly wait (servers, timeouts): pytest_args -n.
            code, err = _pip(session, "install", "-q", "-e", ".", "pytest-xdist")
            if code:
                session.error(f"cannot install pytest-mpcompat: {_why_not(err)}")
            if env.install:
                args += _install_set(session, env)
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


@functools.cache
def _index_files(package: str) -> list[IndexFile]:
    return index_files(package)


def _excluded_by_requires_python(env: EnvSet, python: str) -> str:
    """uv's resolver ignores the upper bound of a Requires-Python; a set whose pinned package
    declares one that excludes ``python`` is not supported upstream, whatever uv resolves."""
    for requirement in map(Requirement, env.install):
        pins = [s.version for s in requirement.specifier if s.operator == "=="]
        if len(pins) == 1 and len(requirement.specifier) == 1 and "*" not in pins[0]:
            why = python_excluded(_index_files(requirement.name), requirement.name, pins[0], python)
            if why:
                return why
    return ""


def _lock_one(uv: str, env: EnvSet, python: str, plat: str) -> str | None:
    """Resolve one lock file; None when written, else why it could not be resolved at all."""
    excluded = _excluded_by_requires_python(env, python)
    if excluded:
        _write_lock(env, python, plat, None, excluded)
        return None
    with tempfile.TemporaryDirectory() as tmp:
        requirements = Path(tmp, "requirements.in")
        requirements.write_text("\n".join(env.install) + "\n")
        command = [uv, "pip", "compile", str(requirements), "--python-version", python,
                   "--python-platform", platform_target(plat, env.manylinux), "--no-header",
                   "--no-annotate", "--quiet",
                   *(f"--constraint={CONSTRAINTS / c}" for c in env.constraints)]  # fmt: skip
        if env.overrides:
            Path(tmp, "overrides.txt").write_text("\n".join(env.overrides) + "\n")
            command.append(f"--override={Path(tmp, 'overrides.txt')}")
        proc = subprocess.run(command, capture_output=True, text=True, env=without_local_wheels())
    if proc.returncode == 0:
        resolved, unsupported = proc.stdout, None
    elif "No solution found" in proc.stderr:  # upstream's own metadata rules it out
        resolved, unsupported = None, _why_not(proc.stderr)
    else:  # a download or a build failed here: nothing is known about upstream
        return _why_not(proc.stderr)
    _write_lock(env, python, plat, resolved, unsupported)
    return None


def _write_lock(
    env: EnvSet, python: str, plat: str, resolved: str | None, unsupported: str | None
) -> None:
    path = lock_path(LOCKS, env.name, python, plat)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = render_lock(env.name, python, plat, env.install, env.overrides, resolved, unsupported,
                       platform_target(plat, env.manylinux))  # fmt: skip
    partial = path.with_suffix(".tmp")
    partial.write_text(text)
    partial.replace(path)


@nox.session(venv_backend="none")
def lock(session: nox.Session) -> None:
    """Resolve every matrix set for each of its Pythons and every platform into matrices/locks/
    with uv, from the package index alone (posargs: set names; default: all)."""
    uv = shutil.which("uv")
    if uv is None:
        session.error("nox -s lock needs uv on PATH: pip install uv")
    sets: dict[str, EnvSet] = {}
    for path in sorted(MATRICES.glob("*.toml")):
        for env in load_matrix(path).sets:
            if not env.venv or not env.install:
                continue
            known = sets.get(env.lock_name)
            recipe = (env.install, env.overrides, env.constraints)
            if known and (known.install, known.overrides, known.constraints) != recipe:
                session.error(
                    f"{path}: set {env.name!r} installs something else than another set with "
                    f"the lock {env.lock_name!r}: rename one of them"
                )
            python = tuple(dict.fromkeys((*(known.python if known else ()), *env.python)))
            sets[env.lock_name] = dataclasses.replace(env, name=env.lock_name, lock="",
                                                      python=python)  # fmt: skip
    unknown = [name for name in session.posargs if name not in sets]
    if unknown:
        session.error(f"no set named {unknown[0]!r}; sets: {', '.join(sorted(sets))}")
    jobs = [(sets[name], py, plat) for name in (session.posargs or sorted(sets))
            for py in sets[name].python for plat in PLATFORMS]  # fmt: skip
    with ThreadPoolExecutor(max_workers=8) as pool:
        failures = list(pool.map(lambda job: _lock_one(uv, *job), jobs))
    unsupported = 0
    for (env, py, plat), failure in zip(jobs, failures, strict=True):
        if failure:
            session.warn(f"{env.name} on Python {py}, {plat}: not resolved: {failure}")
        else:
            written = read_lock(lock_path(LOCKS, env.name, py, plat))
            unsupported += bool(written and written.unsupported)
    failed = sum(1 for f in failures if f)
    session.log(
        f"{len(jobs) - failed} lock files written under {LOCKS}/ ({unsupported} say upstream "
        f"does not support that Python or platform); {failed} failed"
    )
    if failed:
        session.error("some locks could not be resolved (see above); the old files are kept")


@nox.session(venv_backend=VENV_BACKEND)
def bisect(session: nox.Session) -> None:
    """First release where a cell changes: nox -s bisect -- SCENARIO PACKAGE [--method M]
    [--python X] [--old V] [--new V] [--override REQ]. Writes reports/bisect/*.json."""
    if not session.posargs:
        session.error("usage: nox -s bisect -- SCENARIO PACKAGE [--method M] [--python X] "
                      "[--old V] [--new V] [--override REQ]")  # fmt: skip
    session.install("-e", ".", "uv")
    session.run("python", "-m", "pytest_mpcompat.bisection", *session.posargs)


def _merge(session: nox.Session, matrix: str, out: str) -> None:
    session.install("-e", ".")
    raw = sorted(glob.glob(f"reports/raw/{matrix}-*.json"))
    if matrix == "full":  # the published report also carries the GPU runs and bisections
        raw += sorted(glob.glob("reports/raw/gpu-*.json"))
        raw += [f"--bisection={p}" for p in sorted(glob.glob("reports/bisect/*.json"))]
        raw += ["--matrix", "matrices/gpu.toml"]  # a GPU run not made is listed as missing
    if not raw:
        session.error(f"no raw results in reports/raw/ for {matrix}: run `nox -t {matrix}` first")
    session.run("mpcompat-report", "merge", *raw, "--matrix", f"matrices/{matrix}.toml",
                "--out", out, *session.posargs)  # fmt: skip


@nox.session(venv_backend=VENV_BACKEND)
def report(session: nox.Session) -> None:
    """Merge the full and gpu raw results and the bisections into the published reports/
    (matrix.json, COMPATIBILITY.md, index.html)."""
    _merge(session, "full", "reports")


@nox.session(name="report-ci", venv_backend=VENV_BACKEND)
def report_ci(session: nox.Session) -> None:
    """Merge the ci matrix's raw results into reports/ci/ (not published)."""
    _merge(session, "ci", "reports/ci")


@nox.session(python="3.11", venv_backend=VENV_BACKEND)
def bench(session: nox.Session) -> None:
    """Benchmarks: harness overhead, xdist speed-up, hang handling, the 100k-cell report (merge,
    sizes, and first render and filter change in Chromium beside the earlier renderer)."""
    session.install(
        "-e",
        ".[test]",
        "torch==2.13.0",  # a local CPU build where pip's find-links has one
    )
    session.run("python", "benchmarks/bench_harness.py", "--json", "benchmarks/results.json",
                *session.posargs)  # fmt: skip
    # The report at 100,000 cells in Chromium, beside the renderer it replaced.
    if shutil.which("chromium") or shutil.which("chromium-browser"):
        session.run("python", "benchmarks/bench_report.py", "--json",
                    "benchmarks/report_scale.json")  # fmt: skip
    else:
        session.warn("bench_report.py skipped: it needs Chromium (apt-get install chromium)")


@nox.session(venv_backend=VENV_BACKEND)
def lint(session: nox.Session) -> None:
    """ruff (check and format), mypy --strict on the package, the GitHub workflow's schema."""
    session.install("ruff", "mypy", "pytest", "packaging", "check-jsonschema", "-e", ".")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")
    workflows = sorted(glob.glob(".github/workflows/*.yml"))
    session.run("check-jsonschema", "--builtin-schema", "vendor.github-workflows", *workflows)
