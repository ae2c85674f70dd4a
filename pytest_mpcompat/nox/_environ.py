"""What the environment of a matrix session needs from the machine: every installed Python
visible to nox, and the installers pointed at the same wheels.

Registering sessions only reads folders (``expose_pyenv_versions``); what asks a subprocess or
the network (pip's configuration, PyTorch's CPU index) runs once, when a session first installs.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterable
from pathlib import Path

__all__ = ["expose_pyenv_versions", "installer_environment"]


def _pyenv_chosen(root: Path) -> list[str]:
    """The versions pyenv would pick now (PYENV_VERSION, a ``.python-version`` here or above,
    else the global ``version`` file), without running pyenv."""
    if os.environ.get("PYENV_VERSION"):
        return os.environ["PYENV_VERSION"].split(":")
    for folder in (Path.cwd(), *Path.cwd().parents):
        local = folder / ".python-version"
        if local.is_file():
            return local.read_text(encoding="utf-8").split()
    global_file = root / "version"
    if global_file.is_file():
        return global_file.read_text(encoding="utf-8").split()
    return []


def expose_pyenv_versions(pythons: Iterable[str]) -> None:
    """Where pyenv manages Python, its shims run only the selected versions: append the newest
    installed patch release of each of ``pythons`` (``"3.12"``) to PYENV_VERSION, keeping what
    is selected first, so that nox finds ``python3.12`` and friends. Reads folders only."""
    if shutil.which("pyenv") is None:
        return
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    try:
        installed = [p.name for p in (root / "versions").iterdir()]
    except OSError:
        return
    chosen = _pyenv_chosen(root)
    for minor in dict.fromkeys(pythons):
        matches = [v for v in installed if re.fullmatch(rf"{re.escape(minor)}\.\d+", v)]
        if matches:
            chosen.append(max(matches, key=lambda v: int(v.rsplit(".", 1)[1])))
    if chosen:
        os.environ["PYENV_VERSION"] = ":".join(dict.fromkeys(v for v in chosen if v))


def interpreter_found(version: str) -> bool:
    """Whether Python ``version`` ("3.14") is installed where nox looks: on PATH (pyenv's
    versions made visible), behind the Windows launcher, or among uv's own Pythons. Reads
    folders only; anything but X.Y is left to nox."""
    if not re.fullmatch(r"\d+\.\d+", version):
        return True
    if shutil.which(f"python{version}") or (sys.platform == "win32" and shutil.which("py")):
        return True
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    uv = Path(os.environ.get("UV_PYTHON_INSTALL_DIR") or Path(data) / "uv" / "python")
    try:
        return any(uv.glob(f"cpython-{version}.*"))
    except OSError:
        return False


def _pip_find_links() -> str:
    """pip's ``find-links`` (a folder of local builds, such as CPU torch wheels), which uv does
    not read from pip's configuration."""
    links = os.environ.get("PIP_FIND_LINKS", "")
    if not links:
        proc = subprocess.run([sys.executable, "-m", "pip", "config", "get", "global.find-links"],
                              capture_output=True, text=True, stdin=subprocess.DEVNULL)  # fmt: skip
        links = proc.stdout.strip() if proc.returncode == 0 else ""
    return ",".join(links.split())


def _cpu_torch_index() -> str:
    """PyTorch's CPU index when it answers (its ``torch==X+cpu`` satisfies a lock's ``torch==X``
    at a tenth of the download), unless indexes were chosen already or MPCOMPAT_TORCH_INDEX is
    ``none`` (the package index's default build is then used)."""
    index = os.environ.get("MPCOMPAT_TORCH_INDEX", "https://download.pytorch.org/whl/cpu")
    if index == "none" or os.environ.get("UV_EXTRA_INDEX_URL") or os.environ.get("UV_INDEX"):
        return ""
    try:
        with urllib.request.urlopen(f"{index.rstrip('/')}/torch/", timeout=3):  # noqa: S310
            return index
    except (OSError, ValueError):
        return ""  # offline, or only the package index is reachable


@functools.cache
def _extra() -> tuple[tuple[str, str], ...]:
    extra = {
        # Compile bytecode at install, as pip does: a user's environment has it, and without it
        # (and with PYTHONDONTWRITEBYTECODE set) every cell would compile torch from source.
        "UV_COMPILE_BYTECODE": os.environ.get("UV_COMPILE_BYTECODE", "1"),
    }
    links = os.environ.get("UV_FIND_LINKS") or _pip_find_links()
    if links:
        extra["UV_FIND_LINKS"] = links
    index = _cpu_torch_index()
    if index:
        extra["UV_EXTRA_INDEX_URL"] = index
        extra["UV_INDEX_STRATEGY"] = os.environ.get("UV_INDEX_STRATEGY", "unsafe-best-match")
    return tuple(extra.items())


def installer_environment() -> dict[str, str]:
    """The variables an install in a matrix session or a bisection probe runs with (worked out
    on the first call, then kept)."""
    return dict(_extra())
