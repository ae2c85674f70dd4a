"""The bodies of the sessions ``matrix_sessions`` registers: one per set and Python, ``bisect``
and the reports."""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path

import nox
from nox.command import CommandFailed

from ..matrix.sets import EnvSet, MatrixFile
from ._environ import installer_environment
from ._install import (
    add_bytecode,
    found_python,
    install_plugin,
    install_set,
    installs_skipped,
    lock_gap,
    pip,
    unmet,
    why_not,
)
from ._results import check_measured, place, staged

__all__ = ["Layout", "bisect", "merge", "not_made", "run_set"]


@dataclass(frozen=True)
class Layout:
    """Where a repository keeps its matrix: every path relative to the noxfile's folder."""

    matrices: Path
    scenarios: Path
    reports: Path
    plugin: tuple[str, ...]  # installer arguments for pytest-mpcompat

    @property
    def locks(self) -> Path:
        return self.matrices / "locks"

    @property
    def constraints(self) -> Path:
        return self.matrices / "constraints"

    @property
    def raw(self) -> Path:
        return self.reports / "raw"


def _checkout(layout: Layout) -> str | None:
    """The source folder the plugin is installed from with ``-e``, if it is one."""
    args = list(layout.plugin)
    return args[1] if len(args) == 2 and args[0] == "-e" else None


def _pytest_in_found_environment(session: nox.Session, env: EnvSet, layout: Layout) -> list[str]:
    """pytest's command in the environment nox found (``venv = false``, ``--no-venv`` or a
    reused one under ``-R``): the plugin installed there, else loaded from its checkout."""
    if not unmet(session, ("pytest-mpcompat",)):
        return ["python", "-m", "pytest"]
    checkout = _checkout(layout)
    if checkout is None:
        session.error(
            f"pytest-mpcompat is not installed in the environment this session runs in; "
            f"install it there ({' '.join(layout.plugin)}), or run without --no-venv / -R"
        )
    session.env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [checkout, os.environ.get("PYTHONPATH")])
    )
    return ["python", "-m", "pytest", "-p", "pytest_mpcompat.plugin"]


def run_set(session: nox.Session, env: EnvSet, layout: Layout) -> None:
    """Run one set's scenarios under the plugin, writing ``<reports>/raw/<session>.json``."""
    args = [f"--mp-label={k}={v}" for k, v in env.labels.items()]
    # The X.Y this session runs (asked of its python only under --no-venv or venv = false).
    python = found_python(session) if env.python or env.install else ""
    if isinstance(session.python, str) and python != session.python:
        # --no-venv: nox runs every Python's session with the one on PATH.
        session.skip(f"this session measures Python {session.python}; the environment found "
                     f"(--no-venv) runs Python {python}: run `nox --no-venv -s "
                     f"{session.name.removesuffix(session.python)}{python}` there")  # fmt: skip
    made_here = env.venv and not installs_skipped(session)
    if made_here:
        install_plugin(session, list(layout.plugin))
        if env.install:
            args += install_set(session, env, layout.locks, layout.constraints,
                                list(layout.plugin))  # fmt: skip
        add_bytecode(session)
        run_pytest = ["python", "-m", "pytest"]
    else:
        run_pytest = _pytest_in_found_environment(session, env, layout)
        # Nothing is installed here, so only what the lock says of upstream still counts.
        _, gap = lock_gap(session, env, layout.locks, python) if env.install else (None, [])
        gap = [arg for arg in gap if arg.startswith("--mp-unsupported=")]
        missing = [] if gap else unmet(session, env.install)
        if missing:
            gap = [f"--mp-environment-gap=the environment this session found (--no-venv, -R or "
                   f"venv = false) lacks {', '.join(missing)}: run it without -R / --no-venv, "
                   "or install them there"]  # fmt: skip
        args += gap
    paths = sorted(
        p for pattern in env.scenarios for p in glob.glob(str(layout.scenarios / pattern))
    )
    if not paths:
        session.error(f"set {env.name}: no scenario under {layout.scenarios}/ matches "
                      f"{', '.join(env.scenarios)}")  # fmt: skip
    report = layout.raw / f"{session.name}.json"
    new = staged(report)
    failed = None
    try:
        session.run(*run_pytest, "--mp-matrix", *paths, "--mp-report", str(new), *args,
                    *env.pytest_args, *session.posargs, external=True)  # fmt: skip
    except CommandFailed as exc:
        failed = exc
    finally:
        got = place(session, new, report, found_environment=not made_here)
    if failed is not None:
        session.error(f"{session.name}: pytest failed ({failed.reason}); its result is in "
                      f"{report}")  # fmt: skip
    check_measured(session, session.name, got)


def not_made(session: nox.Session, layout: Layout, why: str, fail: bool) -> None:
    """A run that cannot be made on this machine (its Python is not installed here): its raw
    result records why, so that the report names the cause instead of guessing it (a measured
    result already there is kept). ``fail``: the matrix asks for missing interpreters to fail
    the run, as nox would."""
    from ..model.rawfile import build_report, utc_now, write_atomic

    started = utc_now()
    report = layout.raw / f"{session.name}.json"
    new = staged(report)
    write_atomic(new, build_report([], {}, started=started, complete=True, not_made=why))
    place(session, new, report, found_environment=True)
    if fail:
        session.error(f"{why} (recorded in {report})")
    session.log(f"not run: {why} (recorded in {report})")


def bisect(session: nox.Session, layout: Layout) -> None:
    """The ``bisect`` session: ``pytest_mpcompat.matrix.bisection`` with posargs."""
    if not session.posargs:
        session.error("usage: nox -s bisect -- SCENARIO PACKAGE [--method M] [--python X] "
                      "[--old V] [--new V] [--override REQ] [--constraint FILE]")  # fmt: skip
    if not installs_skipped(session):
        code, err = pip(session, "install", "-q", *layout.plugin, "uv")
        if code:
            session.error(f"cannot install pytest-mpcompat and uv: {why_not(err)}")
    session.env.update(installer_environment())
    session.env.setdefault("MPCOMPAT_PLUGIN", " ".join(layout.plugin))
    session.run("python", "-m", "pytest_mpcompat.matrix.bisection", *session.posargs,
                external=True)  # fmt: skip


def merge(session: nox.Session, layout: Layout, matrices: list[MatrixFile], out: Path) -> None:
    """A report session: the raw results of ``matrices`` (and, for the published report, every
    bisection) merged into ``out``."""
    if not installs_skipped(session):
        code, err = pip(session, "install", "-q", *layout.plugin)
        if code:
            session.error(f"cannot install pytest-mpcompat: {why_not(err)}")
    raw: list[str] = []
    for matrix in matrices:
        raw += sorted(glob.glob(str(layout.raw / f"{matrix.name}-*.json")))
    if not raw:
        names = " ".join(f"-t {m.name}" for m in matrices)
        session.error(f"no raw results in {layout.raw}/ for {', '.join(m.name for m in matrices)}:"
                      f" run `nox {names}` first")  # fmt: skip
    if out == layout.reports:
        bisections = sorted(glob.glob(str(layout.reports / "bisect" / "*.json")))
        raw += [f"--bisection={p}" for p in bisections]
    expected = [f"--matrix={m.path}" for m in matrices]
    session.run("python", "-m", "pytest_mpcompat.publish", "merge", *raw, *expected,
                "--out", str(out), *session.posargs, external=True)  # fmt: skip
