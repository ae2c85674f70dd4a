"""Results of earlier runs, reused for a cell none of whose inputs changed since.

As a build tool caches a test's result under a key made of its inputs, a matrix cell's result
is kept under the SHA-256 of everything that can change what the cell does:

- the scenario file and the local modules it imports (``_prefork.py`` beside it), found by
  reading its imports, and theirs;
- the cell as it is started: method, arguments, environment variables of the scenario and of
  this process (less a few that only a shell changes), timeout, serve table, limits;
- the environment: this interpreter's exact version and path, the platform, the machine's name
  and core count, every installed distribution with its version, and the lock file the nox
  session installed it from (``MPCOMPAT_LOCK``);
- the harness: the source of the parts of this package that run and judge a cell
  (``runner/``, ``scenario/``, ``model/``), and the signatures the run judges by.

Paths inside the checkout (pytest's rootdir) count relative to it: the same checkout moved
elsewhere (a CI service's per-run workspace, a second worktree) reuses what it measured there.

A hit is the earlier result with ``reused`` set and its own ``measured_at``. A miss runs the
cell and stores the result (not a harness error: that says nothing about the program). Entries
are files written atomically, so parallel sessions share one folder. ``--mp-fresh`` (or
``MPCOMPAT_FRESH=1``) runs every cell anew, and ``--mp-repeat`` never reuses.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import platform
import re
import sys
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from ..model.catalog import Signature
from ..model.cell import CellResult, Verdict
from .request import CellSpec

__all__ = ["CellCache", "local_imports"]

#: Variables a shell or a terminal changes between two identical runs; nothing a cell reads.
_VOLATILE_ENV = frozenset(
    {"_", "OLDPWD", "SHLVL", "TERM", "TERM_SESSION_ID", "WINDOWID", "COLUMNS", "LINES",
     "SSH_CLIENT", "SSH_CONNECTION", "SSH_TTY", "SSH_AUTH_SOCK", "DISPLAY", "PS1",
     "XDG_SESSION_ID", "GPG_AGENT_INFO",
     # Where an installer keeps its downloads (a CI job's temporary folder): what it installed
     # is an input, through the distributions.
     "UV_CACHE_DIR", "PIP_CACHE_DIR"}
)  # fmt: skip
#: Prefixes of what a CI service sets per run (run ids, runner names, tokens' paths).
_VOLATILE_PREFIXES = ("GITHUB_", "RUNNER_", "ACTIONS_", "CI_JOB_", "BUILDKITE_BUILD_")
_FORMAT = 1  # bump when what an entry holds changes
#: The parts of this package that decide what a cell does and how it is judged (the report's
#: rendering, the nox tooling and the terminal summary do not).
_HARNESS = ("runner/**/*", "scenario/**/*", "model/**/*", "redact/**/*", "constants.py")


class CellCache:
    """The folder of reusable results (pytest's cache folder, ``mpcompat/cells``)."""

    def __init__(self, folder: Path, root: Path | None = None) -> None:
        self.folder = folder
        # Paths under the checkout are keyed relative to it, so a checkout that moved (a CI
        # service's workspace of this run, a second worktree) reuses what its twin measured.
        # The rootdir itself, or a path in it: not a sibling that only starts alike.
        self._root = (
            re.compile(re.escape(str(root)) + r"(?![^/\\\0'\"\s:;,)])")
            if root is not None and len(root.parts) > 2
            else None
        )
        self.reused = 0
        self.stored = 0

    def key(self, spec: CellSpec, catalog: Iterable[Signature]) -> str:
        digest = hashlib.sha256()
        for part in (
            _environment_fingerprint(),
            _catalog_text(catalog),
            repr(_started_as(spec)),
            *(f"{path}\0{_file_hash(path)}" for path in _scenario_files(spec.script)),
        ):
            if self._root is not None:
                part = self._root.sub("<checkout>", part)
            digest.update(part.encode("utf-8", "surrogateescape") + b"\0\0")
        return digest.hexdigest()

    def load(self, key: str) -> CellResult | None:
        try:
            data = json.loads((self.folder / f"{key}.json").read_text("utf-8"))
            if data.get("format") != _FORMAT:
                return None
            result = CellResult.from_dict(data["cell"])
        except (OSError, ValueError, KeyError, TypeError):
            return None  # none, or unreadable: the cell runs (and replaces it)
        result.reused = True
        self.reused += 1
        return result

    def store(self, key: str, result: CellResult) -> None:
        if result.verdict is Verdict.ERROR or not result.measured_at:
            return
        from ..model.rawfile import write_atomic

        data = result.to_dict()
        data["reused"] = False
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            write_atomic(self.folder / f"{key}.json", {"format": _FORMAT, "cell": data}, False)
        except OSError:
            return  # a read-only cache folder: the run still counts, it is only not kept
        self.stored += 1


def _started_as(spec: CellSpec) -> tuple[Any, ...]:
    """What of the cell's spec reaches it, the environment included (ports are left out: they
    change every run, and a script cannot depend on their values)."""
    env = {
        k: v
        for k, v in spec.environment().items()
        if k not in _VOLATILE_ENV and not k.startswith(_VOLATILE_PREFIXES)
    }
    return (spec.method, spec.timeout, tuple(spec.args), sorted(env.items()), spec.cwd,
            spec.stacks, spec.serve, tuple(spec.command or ()), spec.memory_limit_mb,
            spec.max_processes, spec.exit_grace, str(spec.script))  # fmt: skip


def _catalog_text(catalog: Iterable[Signature]) -> str:
    return repr(sorted((s.id, s.pattern or "", s.severity) for s in catalog))


@cache
def _environment_fingerprint() -> str:
    """This interpreter, platform, machine, installed distributions, lock and harness.

    The machine is its host name unless ``MPCOMPAT_MACHINE`` names a class of machines that
    behave alike (CI runners of one image get a new host name each run)."""
    from importlib.metadata import distributions

    dists = sorted(
        f"{d.metadata['Name']}=={d.version}" for d in distributions() if d.metadata["Name"]
    )
    lock = os.environ.get("MPCOMPAT_LOCK", "")
    lock_text = _file_hash(Path(lock)) if lock else ""
    package = Path(__file__).resolve().parent.parent
    harness = hashlib.sha256()
    for path in sorted(p for part in _HARNESS for p in package.glob(part)):
        if path.suffix in (".py", ".json") and path.is_file():
            harness.update(path.relative_to(package).as_posix().encode() + b"\0")
            harness.update(path.read_bytes())
    machine = os.environ.get("MPCOMPAT_MACHINE") or platform.node()
    return "\n".join([sys.version, sys.executable, platform.platform(), platform.machine(),
                      machine, str(os.cpu_count()), lock_text, harness.hexdigest(),
                      *dists])  # fmt: skip


def _file_hash(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "missing"


def _scenario_files(script: Path) -> list[Path]:
    """The scenario and the local modules it imports, theirs too (each once)."""
    seen: list[Path] = []
    todo = [script]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.append(path)
        todo.extend(local_imports(path))
    return seen


def local_imports(path: Path) -> list[Path]:
    """The files beside ``path`` that its imports would load: ``name.py``, or every file of a
    package folder ``name/``. A file that cannot be parsed has none (the cell shows why)."""
    try:
        tree = ast.parse(path.read_bytes(), str(path))
    except (OSError, SyntaxError, ValueError):
        return []
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    found = []
    for name in sorted(names):
        module = path.parent / f"{name}.py"
        package = path.parent / name
        if module.is_file():
            found.append(module)
        elif (package / "__init__.py").is_file():
            found.extend(sorted(p for p in package.rglob("*.py") if p.is_file()))
    return found
