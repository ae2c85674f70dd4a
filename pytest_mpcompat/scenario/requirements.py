"""What a cell needs from the machine, and the environment axes a result is recorded under.

Nothing here imports a scenario's packages or initialises CUDA: versions come from installed
distribution metadata, modules are located without being imported, and GPUs are found through
the driver's files or ``nvidia-smi``.
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import os
import platform
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

__all__ = [
    "REQUIREMENT_KEYWORDS",
    "condition_holds",
    "detect_gpu",
    "environment_axes",
    "installed_version",
    "unmet_dependency",
    "unmet_requirement",
    "validate_condition",
    "validate_requirement",
]


@functools.cache
def detect_gpu() -> str | None:
    """Name of the first NVIDIA GPU the driver exposes, without initialising CUDA."""
    for info in sorted(Path("/proc/driver/nvidia/gpus").glob("*/information")):
        try:
            for line in info.read_text().splitlines():
                if line.startswith("Model:"):
                    return line.split(":", 1)[1].strip()
        except OSError:
            continue
    smi = shutil.which("nvidia-smi")
    if smi:
        try:
            out = subprocess.run(
                [smi, "--query-gpu=name", "--format=csv,noheader"],
                capture_output=True,
                text=True,
                timeout=20,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        names = [n.strip() for n in out.stdout.splitlines() if n.strip()]
        if out.returncode == 0 and names:
            return names[0]
    return None


def _cuda() -> str | None:
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1"):
        return "CUDA_VISIBLE_DEVICES hides every GPU"
    if detect_gpu() is None:
        return "no NVIDIA GPU found (no /proc/driver/nvidia/gpus and no working nvidia-smi)"
    return None


def _os(name: str, test: Callable[[], bool]) -> Callable[[], str | None]:
    return lambda: None if test() else f"needs {name}, this is {platform.system() or sys.platform}"


REQUIREMENT_KEYWORDS: dict[str, Callable[[], str | None]] = {
    "cuda": _cuda,
    "linux": _os("Linux", lambda: sys.platform.startswith("linux")),
    "macos": _os("macOS", lambda: sys.platform == "darwin"),
    "windows": _os("Windows", lambda: sys.platform == "win32"),
    "posix": _os("a POSIX system", lambda: os.name == "posix"),
}
_PREFIXES = ("module:", "executable:")
_HELP = (
    f"use one of {', '.join(REQUIREMENT_KEYWORDS)}, 'module:NAME' (an importable module) or "
    "'executable:NAME' (a program on PATH)"
)


def validate_requirement(req: str) -> str | None:
    """Why ``req`` is not a valid requirement, or None."""
    if req in REQUIREMENT_KEYWORDS:
        return None
    for prefix in _PREFIXES:
        if req.startswith(prefix) and req[len(prefix) :].strip():
            return None
    return f"unknown requirement {req!r}: {_HELP}"


def unmet_requirement(req: str) -> str | None:
    """Why this machine does not meet ``req`` (already validated), or None."""
    if req in REQUIREMENT_KEYWORDS:
        return REQUIREMENT_KEYWORDS[req]()
    kind, _, name = req.partition(":")
    if kind == "module":
        try:
            found = importlib.util.find_spec(name) if "." not in name else _find_dotted(name)
        except (ImportError, ValueError):
            found = None
        return None if found else f"module {name!r} is not importable"
    return None if shutil.which(name) else f"program {name!r} is not on PATH"


def _find_dotted(name: str) -> object:
    # find_spec would import the parent packages; locating the top level is all we allow.
    return importlib.util.find_spec(name.split(".", 1)[0])


def installed_version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def unmet_dependency(dep: str) -> str | None:
    """Why the PEP 508 dependency ``dep`` is not satisfied here, or None."""
    req = Requirement(dep)
    if req.marker is not None and not req.marker.evaluate():
        return None
    have = installed_version(req.name)
    if have is None:
        return f"needs {dep} (not installed)"
    if req.specifier and not req.specifier.contains(have, prereleases=True):
        return f"needs {dep} (installed: {req.name} {have})"
    return None


_CONDITION = re.compile(r"^\s*(?P<not>not\s+)?(?P<body>.+?)\s*$")


def validate_condition(cond: str) -> str | None:
    """Why ``cond`` cannot be used in an expect rule's ``when``, or None.

    A condition is a requirement keyword (``cuda``, ``linux``...), ``python<3.12``-style
    interpreter version test, or a PEP 508 requirement on an installed distribution
    (``kserve<0.14``); ``not`` in front negates it.
    """
    body = _CONDITION.match(cond)
    if body is None:
        return f"empty condition in 'when': {cond!r}"
    text = body["body"]
    if text in REQUIREMENT_KEYWORDS:
        return None
    try:
        Requirement(text)
    except InvalidRequirement:
        return (
            f"invalid condition {cond!r} in 'when': use a requirement keyword "
            f"({', '.join(REQUIREMENT_KEYWORDS)}), 'python>=3.12' or a distribution with a "
            "version range such as 'kserve<0.14'"
        )
    return None


def condition_holds(cond: str) -> bool:
    body = _CONDITION.match(cond)
    assert body is not None
    text, negate = body["body"], bool(body["not"])
    if text in REQUIREMENT_KEYWORDS:
        result = REQUIREMENT_KEYWORDS[text]() is None
    else:
        req = Requirement(text)
        have = (
            platform.python_version()
            if req.name.lower() == "python"
            else installed_version(req.name)
        )
        result = have is not None and _version_in(have, req.specifier)
    return result != negate


def _version_in(version: str, spec: SpecifierSet) -> bool:
    try:
        return spec.contains(Version(version), prereleases=True)
    except InvalidVersion:
        return False


@functools.cache
def _machine_axes() -> dict[str, Any]:
    return {
        "os": platform.system() or sys.platform,
        "os_release": platform.release(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "implementation": sys.implementation.name,
        "gpu": detect_gpu(),
    }


def environment_axes(dependencies: Iterable[str]) -> dict[str, Any]:
    """OS, Python, GPU and the installed versions of the scenario's dependencies."""
    packages: dict[str, str | None] = {}
    for dep in dependencies:
        name = Requirement(dep).name
        packages[name] = installed_version(name)
    return {**_machine_axes(), "packages": packages}
