"""Lock files: the exact versions a matrix set installs, per Python and per platform.

``nox -s lock`` resolves each ``[[set]]`` of ``matrices/*.toml`` with uv's resolver for every
Python and platform below, against the package index only (never a local folder of wheels), so a
lock holds no build that exists on one machine alone. It writes
``matrices/locks/<set>/py<X.Y>-<platform>.txt``:

* resolved: uv's pinned requirements, used as constraints when the session installs the set;
  a local build of the same version (a CPU torch wheel in pip's find-links) still satisfies
  ``torch==X`` and is preferred by uv;
* not resolvable: a ``# unsupported:`` line with uv's reason (a Requires-Python that excludes
  this Python, a dependency with no wheel for it). That is a fact about upstream, published as
  such, never confused with a runner that could not download something (an environment gap).

Standard library only.
"""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "PLATFORMS", "Lock", "current_platform", "lock_path", "platform_target", "read_lock",
    "render_lock", "without_local_wheels",
]  # fmt: skip

#: Short name -> uv's ``--python-platform`` target.
PLATFORMS = {
    "linux": "x86_64-manylinux_2_28",
    "macos": "aarch64-apple-darwin",  # for macOS 14 (MACOS_TARGET)
    "windows": "x86_64-pc-windows-msvc",
}
MACOS_TARGET = "14.0"


def platform_target(plat: str, manylinux: str = "") -> str:
    """uv's ``--python-platform`` for ``plat``; ``manylinux`` ("2_34") raises the glibc that a
    Linux lock targets, for a set whose wheels need a newer one than the default."""
    if plat == "linux" and manylinux:
        return f"x86_64-manylinux_{manylinux}"
    return PLATFORMS[plat]


_UNSUPPORTED = "# unsupported: "
_REQUIREMENTS = "# requirements: "
_OVERRIDES = "# overrides: "


@dataclass(frozen=True)
class Lock:
    path: Path
    pins: tuple[str, ...]  # requirement lines, e.g. "kserve==0.14.0"
    unsupported: str | None = None  # why upstream cannot be installed here, if it cannot
    requirements: str | None = None  # what it was resolved for (None: a lock that says not)
    overrides: str = ""

    def stale_for(self, install: tuple[str, ...], overrides: tuple[str, ...]) -> str | None:
        """Why this lock no longer answers a set that installs ``install`` with ``overrides``
        (it was resolved for something else), or None when it does."""
        if self.requirements is None:
            return None
        for what, made, now in (("installs", self.requirements, install),
                                ("overrides", self.overrides, overrides)):  # fmt: skip
            if " ".join(made.split()) != " ".join(" ".join(now).split()):
                return (
                    f"{self.path} was resolved for a set that {what} "
                    f"{made or 'nothing'!r}; the set now {what} {' '.join(now) or 'nothing'!r}"
                )
        return None


def current_platform() -> str | None:
    """The lock platform this machine installs for, or None where no lock is made."""
    machine = platform.machine().lower()
    if sys.platform.startswith("linux") and machine in ("x86_64", "amd64"):
        return "linux"
    if sys.platform == "darwin" and machine in ("arm64", "aarch64"):
        return "macos"
    if sys.platform == "win32" and machine in ("amd64", "x86_64"):
        return "windows"
    return None


def lock_path(root: Path, set_name: str, python: str, plat: str) -> Path:
    return root / set_name / f"py{python}-{plat}.txt"


def read_lock(path: Path) -> Lock | None:
    """The lock at ``path``; None if there is none. A malformed file raises ValueError naming
    the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    pins: list[str] = []
    unsupported = requirements = None
    overrides = ""
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line.startswith(_UNSUPPORTED):
            unsupported = line.removeprefix(_UNSUPPORTED).strip()
        elif raw.startswith(_REQUIREMENTS.rstrip()) and requirements is None:
            requirements = raw.removeprefix(_REQUIREMENTS.rstrip()).strip()
        elif raw.startswith(_OVERRIDES.rstrip()):
            overrides = raw.removeprefix(_OVERRIDES.rstrip()).strip()
        elif line and not line.startswith("#"):
            if "==" not in line:
                raise ValueError(
                    f"{path}:{number}: a lock pins exact versions (name==version), not "
                    f"{line!r}; regenerate it with `nox -s lock`"
                )
            pins.append(line)
    return Lock(path, tuple(pins), unsupported, requirements, overrides)


def render_lock(
    set_name: str,
    python: str,
    plat: str,
    requirements: tuple[str, ...],
    overrides: tuple[str, ...],
    resolved: str | None,
    unsupported: str | None,
    target: str = "",
) -> str:
    """The text of a lock file: a header saying what was resolved and how to redo it, then
    either the pins or the reason there are none."""
    lines = [
        f"# {set_name} on Python {python}, {plat} ({target or PLATFORMS[plat]})",
        f"{_REQUIREMENTS}{' '.join(requirements)}",
    ]
    if overrides:
        lines.append(f"{_OVERRIDES}{' '.join(overrides)}")
    lines.append(f"# regenerate: nox -s lock -- {set_name}")
    if unsupported is not None:
        lines.append(_UNSUPPORTED + " ".join(unsupported.split()))
    else:
        lines += [ln for ln in (resolved or "").splitlines() if ln.strip()]
    return "\n".join(lines) + "\n"


def without_local_wheels(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for resolving a lock: the index only, no folder of local builds."""
    env = dict(os.environ if environ is None else environ)
    for name in ("UV_FIND_LINKS", "PIP_FIND_LINKS"):
        env.pop(name, None)
    # uv assumes macOS 13 for an Apple target; the runners (and torch's wheels) are macOS 14.
    env.setdefault("MACOSX_DEPLOYMENT_TARGET", MACOS_TARGET)
    return env
