"""Installing a matrix set into its session's environment, and saying why that failed.

The outcome is a list of pytest arguments: nothing (installed), ``--mp-unsupported=REASON`` (the
lock says upstream does not support this Python or platform) or ``--mp-environment-gap=REASON``
(this machine could not build it). With ``--no-venv`` or a reused environment under
``--no-install`` (``-R``) nothing is installed, as nox users expect, and the environment found
must already hold the set's requirements.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nox

from ..matrix.locks import PLATFORMS, Lock, current_platform, lock_path, read_lock
from ..matrix.sets import EnvSet
from ._environ import installer_environment

__all__ = [
    "add_bytecode", "bytecode_store", "found_python", "install_plugin", "install_set",
    "installs_skipped", "lock_gap", "pip", "unmet", "why_not",
]  # fmt: skip

_UNMET = """\
import json, sys
from importlib import metadata
from packaging.requirements import Requirement
unmet = []
for text in sys.argv[1:]:
    req = Requirement(text)
    try:
        have = metadata.version(req.name)
    except metadata.PackageNotFoundError:
        unmet.append(f"{text} (not installed)")
        continue
    if req.specifier and not req.specifier.contains(have, prereleases=True):
        unmet.append(f"{text} (found {have})")
print(json.dumps(unmet))
"""


def find_uv() -> str | None:
    """The uv that nox made the environments with: on PATH, or the ``uv`` package beside nox
    (``pip install nox uv`` puts it in a folder PATH may not name)."""
    found = shutil.which("uv")
    if found:
        return found
    try:
        from uv import find_uv_bin

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        return None


def _uses_uv(session: nox.Session) -> bool:
    return session.venv_backend == "uv"


def pip(session: nox.Session, *args: str, compile_bytecode: bool = True) -> tuple[int, str]:
    """pip (or ``uv pip`` in a uv-made environment) in the session's environment, keeping its
    output so that a failure can be reported. ``compile_bytecode=False``: the bytecode is
    left to the store (``bytecode_store``)."""
    python = Path(session.bin) / ("python.exe" if os.name == "nt" else "python")
    if _uses_uv(session):
        verb, *rest = args
        rest = [a for a in rest if a != "-y"]  # uv pip uninstall never asks
        command = [find_uv() or "uv", "pip", verb, "--python", str(python), *rest]
    else:
        command = [str(python), "-m", "pip", *args]
        if not compile_bytecode and args[:1] == ("install",):
            command.append("--no-compile")
    env = {**os.environ, **installer_environment()}
    if not compile_bytecode:
        env["UV_COMPILE_BYTECODE"] = "0"
    proc = subprocess.run(command, capture_output=True, text=True, env=env,
                          stdin=subprocess.DEVNULL)  # fmt: skip
    session.log(proc.stdout[-2000:] + proc.stderr[-2000:])
    return proc.returncode, proc.stderr


#: Compiles (or links from the store) the bytecode of an environment: run by its interpreter.
_PYC_STORE = str(Path(__file__).with_name("_pyc_store.py"))


def bytecode_store() -> Path | None:
    """Where compiled bytecode is kept between environments (``MPCOMPAT_BYTECODE_STORE``, else
    the user's cache folder); None when that variable is ``none``: each install compiles its
    own, as pip does."""
    chosen = os.environ.get("MPCOMPAT_BYTECODE_STORE", "")
    if chosen.lower() == "none":
        return None
    if chosen:
        return Path(chosen)
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "pytest-mpcompat" / "bytecode"


def add_bytecode(session: nox.Session) -> None:
    """Bytecode for what was installed without it, from the store (``bytecode_store``)."""
    store = bytecode_store()
    if store is not None:
        session.run("python", _PYC_STORE, str(store), external=True)


def why_not(stderr: str) -> str:
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


def found_python(session: nox.Session) -> str:
    """The X.Y of the session's ``python``: the one nox made it for, else (``--no-venv``, where
    nox makes no environment) the one found on PATH."""
    if isinstance(session.python, str) and session.venv_backend != "none":
        return session.python
    out = session.run("python", "-c", "import sys; print('%d.%d' % sys.version_info[:2])",
                      silent=True, external=True, log=False)  # fmt: skip
    return str(out).strip().splitlines()[-1]


def installs_skipped(session: nox.Session) -> bool:
    """True where nox skips install steps: ``--no-venv``, or a reused environment under
    ``--no-install`` (``-R``). Asked through nox's own rule (``run_install`` runs nothing)."""
    if session.venv_backend == "none":
        return True
    return session.run_install("python", "-c", "", silent=True, log=False) is None


def unmet(session: nox.Session, requirements: tuple[str, ...]) -> list[str]:
    """Which of ``requirements`` the session's ``python`` does not satisfy, each with what it
    found; ["python: ..."] if that interpreter could not answer."""
    if not requirements:
        return []
    out = session.run("python", "-c", _UNMET, *requirements, silent=True, success_codes=[0, 1],
                      external=True, log=False)  # fmt: skip
    text = str(out or "").strip().splitlines()
    try:
        found = json.loads(text[-1]) if text else None
    except ValueError:
        found = None
    if not isinstance(found, list):
        return [f"python: could not check the installed packages ({' '.join(text)[-200:]})"]
    return [str(f) for f in found]


def install_plugin(session: nox.Session, plugin: list[str]) -> None:
    """The plugin that drives the matrix, and pytest-xdist for sets that pass ``-n``."""
    # (Its bytecode comes from the store, with the set's: add_bytecode.)
    code, err = pip(session, "install", "-q", *plugin, "pytest-xdist",
                    compile_bytecode=bytecode_store() is None)  # fmt: skip
    if code:
        session.error(f"cannot install pytest-mpcompat ({' '.join(plugin)}): {why_not(err)}")


def lock_gap(
    session: nox.Session, env: EnvSet, locks: Path, python: str
) -> tuple[Lock | None, list[str]]:
    """The set's lock for this Python and platform, or the pytest arguments that say why there
    is nothing to install: upstream does not support it, or no lock was made for it."""
    plat = current_platform()
    if plat is None:
        where = f"{sys.platform} {platform.machine()}"
        return None, [
            f"--mp-environment-gap=no lock files for {where} (made for: {', '.join(PLATFORMS)})"
        ]
    lock = read_lock(lock_path(locks, env.lock_name, python, plat))
    if lock is None:
        return None, [
            f"--mp-environment-gap=no lock for Python {python} on {plat}: "
            f"run `nox -s lock -- {env.lock_name}`"
        ]
    stale = lock.stale_for(env.install, env.overrides)
    if stale:
        return None, [f"--mp-environment-gap=the lock is stale: {stale}: run "
                      f"`nox -s lock -- {env.lock_name}`"]  # fmt: skip
    if lock.unsupported:
        return None, [f"--mp-unsupported={lock.unsupported}"]
    return lock, []


#: In a session's environment: what was installed there (``_set_key``), once it all was.
_STAMP = ".mpcompat-set"


def _set_key(env: EnvSet, lock: Lock, constraints: Path) -> str:
    """Everything an install of the set depends on: its lock's content, what it asks, overrides,
    removals, constraint files and the installers' settings."""
    digest = hashlib.sha256()
    parts = [lock.path.read_bytes(), *(p.encode() for p in env.install), b"--override",
             *(p.encode() for p in env.overrides), b"--uninstall",
             *(p.encode() for p in env.uninstall),
             *(_read_bytes(constraints / c) for c in env.constraints),
             json.dumps(installer_environment(), sort_keys=True).encode()]  # fmt: skip
    for part in parts:
        digest.update(part + b"\0")
    return digest.hexdigest()


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b"(missing)"


def _holds(session: nox.Session, key: str, plugin: list[str]) -> bool:
    """True when the session's environment already holds exactly this install (nox reused it
    and nothing it depends on changed). A reused one that holds anything else is made anew
    first, so that nothing of an earlier lock lingers in it."""
    venv = session.virtualenv
    stamp = Path(venv.location) / _STAMP
    try:
        if stamp.read_text(encoding="ascii").strip() == key:
            return True
    except OSError:
        pass
    if getattr(venv, "_reused", False) and hasattr(venv, "create"):
        session.log("the reused environment holds another install: making it anew")
        setattr(venv, "reuse_existing", False)  # noqa: B010 - nox's own switch
        venv.create()
        install_plugin(session, plugin)
    stamp.unlink(missing_ok=True)
    return False


def install_set(
    session: nox.Session, env: EnvSet, locks: Path, constraints: Path, plugin: list[str]
) -> list[str]:
    """Install the set from its lock for this Python and platform, unless the environment
    (reused) holds it already; the pytest arguments that say what could not be had."""
    lock, gap = lock_gap(session, env, locks, str(session.python))
    if lock is None:
        return gap
    if env.overrides and not _uses_uv(session):
        return [f"--mp-environment-gap=set {env.name} needs uv for its overrides (pip install uv)"]
    key = _set_key(env, lock, constraints)
    if _holds(session, key, plugin):
        session.log(f"the environment holds set {env.name} as {lock.path.name} says: unchanged")
        return []
    extra = [f"--constraint={constraints / c}" for c in env.constraints]
    with tempfile.TemporaryDirectory() as tmp:
        if env.overrides:
            overrides = Path(tmp, "overrides.txt")
            overrides.write_text("\n".join(env.overrides) + "\n")
            extra.append(f"--override={overrides}")
        code, err = pip(session, "install", "-q", f"--constraint={lock.path}", *extra,
                        *env.install, compile_bytecode=bytecode_store() is None)  # fmt: skip
    if code:
        return [f"--mp-environment-gap={why_not(err)}"]
    if env.uninstall:
        pip(session, "uninstall", "-y", "-q", *env.uninstall)
    (Path(session.virtualenv.location) / _STAMP).write_text(key + "\n", encoding="ascii")
    return []
