"""``--mp-baseline``: the committed matrix a matrix cell is compared with, so that one that came
out worse runs ``--mp-tries`` times in all before anyone calls it a regression."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from ..model.cell import CellResult

__all__ = ["WorseThanBaseline"]


class WorseThanBaseline:
    """Called with a cell's result: whether its outcome is worse than the baseline's for the
    same configuration (the axes the report gives it, labels included)."""

    def __init__(self, path: Path, labels: tuple[tuple[str, str], ...]) -> None:
        from ..publish.merge import MergeError, read_json
        from ..publish.regress import Baseline, check_matrix

        try:
            data = read_json(path)
        except MergeError as exc:
            raise pytest.UsageError(f"--mp-baseline: {exc}") from None
        problem = check_matrix(path, data)
        if problem is not None:
            raise pytest.UsageError(f"--mp-baseline: {path}: {problem}")
        self._baseline = Baseline(data)
        self._labels = dict(labels)

    def __call__(self, result: CellResult) -> bool:
        from ..publish.merge import axes_of

        labels = {**(result.env.get("labels") or {}), **self._labels}
        axes = axes_of(dataclasses.replace(result, env={**result.env, "labels": labels}))
        was = self._baseline.outcome(result.scenario, axes)
        return was is not None and result.outcome.worse_than(was)
