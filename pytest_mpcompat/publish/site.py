"""Writing the published folder whole: every file of a merge is built in a temporary folder
beside ``--out``, then moved into place under the folder's lock, so two merges into one folder
never mix (``matrix.json`` of one, ``index.html`` and ``details/`` of the other) and a merge
that fails or is killed while it builds leaves the folder as it was. Files in the folder that
merge does not write (``raw/``, say) are left alone."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from ..model.lockfile import Lock
from ..model.matrix import Matrix
from ..model.rawfile import write_atomic
from .html import write_html
from .markdown import render_markdown

__all__ = ["write_site"]


def write_site(merged: Matrix, out: Path, page_url: str = "") -> None:
    """``matrix.json``, ``COMPATIBILITY.md``, ``index.html`` and ``details/`` of ``merged``
    in ``out``, all of them from this merge. ``page_url``: where ``index.html`` is published,
    for the Markdown's links into its grid (none: they lead to the Markdown's own tables)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=f".{out.name}.build-", dir=out.parent))
    try:
        write_atomic(build / "matrix.json", merged.to_json(), durable=False)
        (build / "COMPATIBILITY.md").write_text(render_markdown(merged, page_url), encoding="utf-8")
        write_html(merged, build)
        with Lock(out):
            out.mkdir(exist_ok=True)
            for entry in sorted(build.iterdir()):
                _move_in(entry, out / entry.name, build)
    finally:
        shutil.rmtree(build, ignore_errors=True)


def _move_in(entry: Path, target: Path, build: Path) -> None:
    """``entry`` in place of ``target``: a file in one step; a folder by moving the old one
    into ``build`` (removed with it) and the new one in its place."""
    if entry.is_dir() and target.exists():
        os.replace(target, build / f".old-{target.name}")
    os.replace(entry, target)
