"""npm packages for the lint scripts, installed once into a folder under .nox/ and kept while
the pinned versions stay the same."""

from __future__ import annotations

import subprocess
from pathlib import Path

__all__ = ["npm_install"]


def npm_install(npm: str, folder: Path, packages: tuple[str, ...]) -> Path:
    """``packages`` (``name@version``) in ``folder``; its node_modules."""
    stamp = folder / "installed"
    if not stamp.is_file() or stamp.read_text() != " ".join(packages):
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run([npm, "install", "--silent", "--no-audit", "--no-fund", "--prefix",
                        str(folder), *packages], check=True)  # fmt: skip
        stamp.write_text(" ".join(packages))
    return folder / "node_modules"
