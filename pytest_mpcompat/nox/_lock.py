"""``nox -s lock``: every set of every matrix file resolved by uv for each of its Pythons and
every platform, into ``<matrices>/locks/<set>/py<X.Y>-<platform>.txt``."""

from __future__ import annotations

import dataclasses
import functools
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nox
from packaging.requirements import Requirement

from ..matrix.index import IndexFile, python_excluded
from ..matrix.index import files as index_files
from ..matrix.locks import (
    PLATFORMS,
    lock_path,
    platform_target,
    read_lock,
    render_lock,
    without_local_wheels,
)
from ..matrix.sets import EnvSet, MatrixFile
from ._install import find_uv, why_not

__all__ = ["lock_sets"]


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


class _Locker:
    def __init__(self, uv: str, locks: Path, constraints: Path) -> None:
        self.uv, self.locks, self.constraints = uv, locks, constraints

    def one(self, env: EnvSet, python: str, plat: str) -> str | None:
        """Resolve one lock file; None when written, else why it could not be resolved."""
        excluded = _excluded_by_requires_python(env, python)
        if excluded:
            self._write(env, python, plat, None, excluded)
            return None
        with tempfile.TemporaryDirectory() as tmp:
            requirements = Path(tmp, "requirements.in")
            requirements.write_text("\n".join(env.install) + "\n")
            command = [self.uv, "pip", "compile", str(requirements), "--python-version", python,
                       "--python-platform", platform_target(plat, env.manylinux), "--no-header",
                       "--no-annotate", "--quiet",
                       *(f"--constraint={self.constraints / c}"
                         for c in env.constraints)]  # fmt: skip
            if env.overrides:
                Path(tmp, "overrides.txt").write_text("\n".join(env.overrides) + "\n")
                command.append(f"--override={Path(tmp, 'overrides.txt')}")
            proc = subprocess.run(command, capture_output=True, text=True,
                                  env=without_local_wheels(), stdin=subprocess.DEVNULL)  # fmt: skip
        if proc.returncode == 0:
            resolved, unsupported = proc.stdout, None
        elif "No solution found" in proc.stderr:  # upstream's own metadata rules it out
            resolved, unsupported = None, why_not(proc.stderr)
        else:  # a download or a build failed here: nothing is known about upstream
            return why_not(proc.stderr)
        self._write(env, python, plat, resolved, unsupported)
        return None

    def _write(
        self, env: EnvSet, python: str, plat: str, resolved: str | None, unsupported: str | None
    ) -> None:
        path = lock_path(self.locks, env.name, python, plat)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = render_lock(env.name, python, plat, env.install, env.overrides, resolved,
                           unsupported, platform_target(plat, env.manylinux))  # fmt: skip
        partial = path.with_suffix(".tmp")
        partial.write_text(text)
        partial.replace(path)


def _lockable(session: nox.Session, matrices: list[MatrixFile]) -> dict[str, EnvSet]:
    """One recipe per lock name, with the Pythons of every set that installs from it."""
    sets: dict[str, EnvSet] = {}
    for matrix in matrices:
        for env in matrix.sets:
            if not env.venv or not env.install:
                continue
            known = sets.get(env.lock_name)
            recipe = (env.install, env.overrides, env.constraints)
            if known and (known.install, known.overrides, known.constraints) != recipe:
                session.error(
                    f"{matrix.path}: set {env.name!r} installs something else than another set "
                    f"with the lock {env.lock_name!r}: rename one of them"
                )
            python = tuple(dict.fromkeys((*(known.python if known else ()), *env.python)))
            sets[env.lock_name] = dataclasses.replace(env, name=env.lock_name, lock="",
                                                      python=python)  # fmt: skip
    return sets


def lock_sets(
    session: nox.Session, matrices: list[MatrixFile], locks: Path, constraints: Path
) -> None:
    """The ``lock`` session: posargs name sets (default: all)."""
    uv = find_uv()
    if uv is None:
        session.error("nox -s lock needs uv on PATH: pip install uv")
    sets = _lockable(session, matrices)
    unknown = [name for name in session.posargs if name not in sets]
    if unknown:
        session.error(f"no set named {unknown[0]!r}; sets: {', '.join(sorted(sets))}")
    jobs = [(sets[name], py, plat) for name in (session.posargs or sorted(sets))
            for py in sets[name].python for plat in PLATFORMS]  # fmt: skip
    locker = _Locker(uv, locks, constraints)
    with ThreadPoolExecutor(max_workers=8) as pool:
        failures = list(pool.map(lambda job: locker.one(*job), jobs))
    unsupported = 0
    for (env, py, plat), failure in zip(jobs, failures, strict=True):
        if failure:
            session.warn(f"{env.name} on Python {py}, {plat}: not resolved: {failure}")
        else:
            written = read_lock(lock_path(locks, env.name, py, plat))
            unsupported += bool(written and written.unsupported)
    failed = sum(1 for f in failures if f)
    session.log(
        f"{len(jobs) - failed} lock files written under {locks}/ ({unsupported} say upstream "
        f"does not support that Python or platform); {failed} failed"
    )
    if failed:
        session.error("some locks could not be resolved (see above); the old files are kept")
