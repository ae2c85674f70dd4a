"""The runs a matrix file expects, and what a run with no raw result is waiting for: what a
merge lists as missing (``mpcompat-report merge --matrix``)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .sets import MatrixFile, load_matrix

__all__ = ["expected_runs"]


def expected_runs(paths: Iterable[str]) -> dict[str, str]:
    """Each run of the matrix files at ``paths`` -> why it would have no result."""
    expected: dict[str, str] = {}
    for path in paths:
        loaded = load_matrix(Path(path))
        expected.update(dict.fromkeys(loaded.session_names(), _why_missing(path, loaded)))
    return expected


def _why_missing(path: str, matrix: MatrixFile) -> str:
    """What a run of ``matrix`` with no raw result, and no record of why, is waiting for. A run
    that was tried leaves a record (an interpreter or environment it did not find)."""
    if matrix.hardware == "gpu":
        return (f"not run: it needs a GPU runner, and no result from one is here (run "
                f"`nox -t {matrix.name}` on a machine with a GPU; {path})")  # fmt: skip
    return (f"not run: neither a result nor a record of why is here (its nox session, run "
            f"where its Python is installed, makes one; {path})")  # fmt: skip
