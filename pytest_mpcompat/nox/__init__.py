"""nox sessions for a compatibility matrix: what a repository's ``noxfile.py`` imports.

::

    # noxfile.py
    from pytest_mpcompat.nox import matrix_sessions

    matrix_sessions()

registers, from every ``matrices/*.toml``:

* ``<matrix>-<set>-<python>`` for each set and Python, tagged ``<matrix>`` (``nox -t ci``) and
  ``<matrix>-<set>`` (every Python of a set): the
  set installed from its lock, its scenarios (globs under ``scenarios/``) run with
  ``pytest --mp-matrix``, the raw result written to ``reports/raw/<session>.json``;
* ``lock``: every set resolved by uv into ``matrices/locks/`` for each Python and platform;
* ``bisect``: the first release of a package where a scenario's cell changes;
* ``report``: the raw results of the published matrices (``publish``, default: all) and the
  bisections merged into ``reports/``; ``report-<matrix>`` for each other matrix, into
  ``reports/<matrix>/``.

Registering reads the matrix files and nothing else runs: what asks pip's configuration or the
network happens in the first session that installs. ``--no-venv`` and ``-R`` install nothing, as
nox users expect, and check that the environment found has what the set needs.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import nox

from ..matrix.origin import plugin_install_args
from ..matrix.sets import EnvSet, MatrixFile, MatrixFileError, load_matrix
from ._environ import expose_pyenv_versions, interpreter_found
from ._lock import lock_sets
from ._sessions import Layout, bisect, merge, not_made, run_set

__all__ = ["expose_pyenv_versions", "matrix_sessions"]

#: uv where it is installed, else virtualenv: the same sessions either way.
VENV_BACKEND = "uv|virtualenv"


def matrix_sessions(
    matrices: str | Path = "matrices",
    *,
    scenarios: str | Path = "scenarios",
    reports: str | Path = "reports",
    publish: Sequence[str] | None = None,
    plugin: Sequence[str] | None = None,
    venv_backend: str = VENV_BACKEND,
) -> list[str]:
    """Register the sessions of every ``<matrices>/*.toml``; returns their names.

    ``publish`` names the matrix files (by stem) whose results make ``report``; ``plugin`` is
    how each session installs pytest-mpcompat (installer arguments; default: the way the running
    one was installed, see ``pytest_mpcompat.matrix.origin``). A malformed matrix file stops
    nox with its path, line and what is wrong.
    """
    folder = Path(matrices)
    files = sorted(folder.glob("*.toml"))
    if not files:
        raise SystemExit(f"nox: {folder}/: no matrix files (*.toml) here")
    try:
        loaded = [load_matrix(path) for path in files]
    except MatrixFileError as exc:
        raise SystemExit(f"nox: {exc}") from None
    published = list(publish) if publish is not None else [m.name for m in loaded]
    unknown = [name for name in published if name not in {m.name for m in loaded}]
    if unknown:
        raise SystemExit(f"nox: publish names {unknown[0]!r}, which is no matrix file in {folder}/")
    install = tuple(plugin) if plugin is not None else tuple(plugin_install_args())
    layout = Layout(folder, Path(scenarios), Path(reports), install)
    expose_pyenv_versions(py for m in loaded for s in m.sets for py in s.python)
    # Offline machines: never let uv download an interpreter that nox did not find.
    os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")
    # A matrix that reports missing interpreters lists them as runs with no result.
    nox.options.error_on_missing_interpreters = any(
        m.missing_interpreters == "error" for m in loaded
    )
    names = [n for matrix in loaded for env in matrix.sets
             for n in _register_set(matrix, env, layout, venv_backend)]  # fmt: skip
    return names + _register_tools(loaded, published, layout, venv_backend)


def _register_tools(
    loaded: list[MatrixFile], published: list[str], layout: Layout, venv_backend: str
) -> list[str]:
    """lock, bisect, report (the published matrices) and report-NAME (each other one)."""
    nox.session(name="lock", venv_backend="none")(_doc(
        lambda session: lock_sets(session, loaded, layout.locks, layout.constraints),
        f"Resolve every set of {layout.matrices}/*.toml for each Python and platform into "
        f"{layout.locks}/ with uv (posargs: set names; default: all).",
    ))  # fmt: skip
    nox.session(name="bisect", venv_backend=venv_backend)(_doc(
        lambda session: bisect(session, layout),
        "First release where a cell changes: nox -s bisect -- SCENARIO PACKAGE [--method M] "
        "[--python X] [--old V] [--new V] [--override REQ]. Writes "
        f"{layout.reports}/bisect/*.json.",
    ))  # fmt: skip
    names = ["lock", "bisect", "report"]
    chosen = [m for m in loaded if m.name in published]
    nox.session(name="report", venv_backend=venv_backend)(_doc(
        lambda session: merge(session, layout, chosen, layout.reports),
        f"Merge the {' and '.join(published)} raw results and the bisections into "
        f"{layout.reports}/ (matrix.json, COMPATIBILITY.md, index.html).",
    ))  # fmt: skip
    for matrix in loaded:
        if matrix.name in published:
            continue
        out = layout.reports / matrix.name
        nox.session(name=f"report-{matrix.name}", venv_backend=venv_backend)(_doc(
            _bind(merge, layout, [matrix], out),
            f"Merge the {matrix.name} matrix's raw results into {out}/.",
        ))  # fmt: skip
        names.append(f"report-{matrix.name}")
    return names


def _register_set(matrix: MatrixFile, env: EnvSet, layout: Layout, venv_backend: str) -> list[str]:
    """The set's sessions: one per Python found here, and for each Python that is not one that
    records the run as not made, and why (nox would skip it and leave no trace)."""
    name = f"{matrix.name}-{env.name}"
    where = ", ".join(env.install) or ("the environment it finds" if not env.venv else "stdlib")
    doc = f"{matrix.name} matrix: {' '.join(env.scenarios)} with {where}. {env.description}"
    if not env.venv:
        nox.session(name=name, python=False, venv_backend="none", tags=[matrix.name])(
            _doc(_bind(run_set, env, layout), doc.strip()))  # fmt: skip
        return [name]
    tags = [matrix.name, name]
    # Reused while what it installs is unchanged (install_set checks); --reuse-venv=never
    # makes it anew.
    reuse = True if env.install else None
    if not env.python:
        nox.session(name=name, python=None, venv_backend=venv_backend, tags=tags,
                    reuse_venv=reuse)(_doc(_bind(run_set, env, layout), doc.strip()))  # fmt: skip
        return [name]
    names = []
    fail = matrix.missing_interpreters == "error"
    for py in env.python:
        # One session per Python, named so by us: --no-venv (where nox drops a list of
        # Pythons) finds the same names, and each still knows the Python it measures.
        if interpreter_found(py):
            body = _doc(_bind(run_set, env, layout), doc.strip())
            nox.session(name=f"{name}-{py}", python=py, venv_backend=venv_backend, tags=tags,
                        reuse_venv=reuse)(body)  # fmt: skip
        else:
            why = (f"Python {py} is not installed on {platform.node() or 'this machine'} (no "
                   f"python{py} on PATH, in pyenv or among uv's Pythons)")  # fmt: skip
            nox.session(name=f"{name}-{py}", python=False, venv_backend="none", tags=tags)(
                _doc(_bind(not_made, layout, why, fail), f"{doc.strip()} Not runnable here: "
                     f"{why}; records that."))  # fmt: skip
        names.append(f"{name}-{py}")
    return names


def _bind(body: Callable[..., None], *args: Any) -> Callable[[nox.Session], None]:
    return lambda session: body(session, *args)


def _doc(func: Callable[[nox.Session], None], doc: str) -> Callable[[nox.Session], None]:
    func.__doc__ = doc
    return func
