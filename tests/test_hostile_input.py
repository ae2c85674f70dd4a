"""Raw results and baselines are untrusted input: what is not safe to read is refused in one
line naming the file (and the cell and field where there is one), exit 2, no traceback, and
nothing is published; ``check`` exits 1 for a regression only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .test_report_publish import cell, raw

CONFLICT = "scenarios/kserve_start_method_conflict.py"


def report(*args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``python -m pytest_mpcompat.publish ...`` in a process of its own; ``timeout`` bounds a
    reader that blocks (a failure of the test, not a hang of the suite)."""
    return subprocess.run(
        [sys.executable, "-m", "pytest_mpcompat.publish", *map(str, args)],
        capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def refused(done: subprocess.CompletedProcess[str], *words: str) -> str:
    """The one-line refusal ``done`` printed, checked: exit 2, no traceback, ``words`` in it."""
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, (
        done.stderr
    )
    for word in words:
        assert word in done.stderr, done.stderr
    return done.stderr


def good_raw(tmp_path: Path, name: str = "full-kserve-0.13.1-3.11") -> Path:
    return raw(tmp_path, name, [
        cell(CONFLICT, "fork", "pass", "0.13.1", signatures=["start-method-already-set"]),
        cell(CONFLICT, "spawn", "pass", "0.13.1"),
    ])  # fmt: skip


def with_text(path: Path, old: str, new: str) -> Path:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ('"duration_s": 0.0', '"duration_s": ' + "[" * 100_000 + "]" * 100_000, ["nested deeper"]),
        ('"duration_s": 0.0', '"duration_s": ' + "9" * 5000, ["5000 digits"]),
        ('"duration_s": 0.0', '"duration_s": NaN', ["NaN"]),
        ('"duration_s": 0.0', '"duration_s": Infinity', ["Infinity"]),
        ('"duration_s": 0.0', '"duration_s": 1e400', ["1e400"]),
        ('"stdout_tail": ""', '"stdout_tail": "' + "x" * (5 << 20) + '"', ["cell 0", "string of"]),
        ('"outcome": "degraded"', '"outcome": "hang"', ["cell 0", "field outcome", "verdict pass"]),
        # a pass whose output shows an error-level signature is degraded, whatever it claims
        ('"outcome": "degraded"', '"outcome": "pass"', ["cell 0", "start-method-already-set"]),
    ],
    ids=["deep", "huge-int", "nan", "infinity", "1e400", "huge-string", "verdict", "signature"],
)
def test_a_hostile_raw_result_is_refused_and_nothing_published(
    tmp_path: Path, old: str, new: str, words: list[str]
) -> None:
    path = with_text(good_raw(tmp_path), old, new)
    out = tmp_path / "out"
    message = refused(report("merge", path, "--out", out), str(path), *words)
    assert not out.exists(), message


def test_a_fifo_among_the_inputs_is_refused_without_blocking(tmp_path: Path) -> None:
    folder = good_raw(tmp_path).parent
    os.mkfifo(folder / "z-pipe.json")  # read, it would wait forever for a writer
    refused(report("merge", folder, "--out", tmp_path / "out", timeout=60), "not a regular file")


def test_the_same_run_twice_with_different_outcomes_is_reported(tmp_path: Path) -> None:
    first = good_raw(tmp_path)
    copy = tmp_path / "copy" / first.name
    copy.parent.mkdir()
    copy.write_text(first.read_text())
    with_text(copy, '"verdict": "pass"', '"verdict": "hang"')
    with_text(copy, '"outcome": "degraded"', '"outcome": "hang"')
    refused(report("merge", first, copy, "--out", tmp_path / "out"), "disagree", "degraded", "hang")
    # the same copy twice is one run, merged once
    same = tmp_path / "same" / first.name
    same.parent.mkdir()
    same.write_text(first.read_text())
    merged = report("merge", first, same, "--out", tmp_path / "out")
    assert merged.returncode == 0, merged.stderr
    assert len(json.loads((tmp_path / "out" / "matrix.json").read_text())["cells"]) == 2


def test_outputs_hold_finite_json_that_a_browser_reads(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert report("merge", good_raw(tmp_path), "--out", out).returncode == 0
    for path in [out / "matrix.json", *sorted((out / "details").glob("*.js"))]:
        text = path.read_text()
        for word in ("NaN", "Infinity"):
            assert word not in text, path


def test_check_refuses_a_baseline_it_cannot_trust_and_exits_1_only_for_regressions(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    assert report("merge", good_raw(tmp_path), "--out", out).returncode == 0
    matrix = out / "matrix.json"
    assert report("check", "--baseline", matrix, matrix).returncode == 0
    data = json.loads(matrix.read_text())
    # The new run got worse: degraded -> hang in the cell that was degraded.
    worse = dict(data, cells=[dict(c) for c in data["cells"]])
    (bad,) = [c for c in worse["cells"] if c["outcome"] == "degraded"]
    bad.update(verdict="hang", outcome="hang")
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps(worse))
    gate = report("check", "--baseline", matrix, newer)
    assert gate.returncode == 1 and "degraded -> hang" in gate.stdout, gate.stdout
    # A baseline whose cell says nothing of its outcome cannot gate anything.
    blank = dict(
        data, cells=[{k: v for k, v in c.items() if k != "outcome"} for c in data["cells"]]
    )
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps(blank))
    refused(report("check", "--baseline", baseline, newer), str(baseline), "field outcome")
    # nor one that contradicts itself
    baseline.write_text(
        json.dumps(dict(data, cells=[dict(c, outcome="hang") for c in data["cells"]]))
    )
    refused(report("check", "--baseline", baseline, newer), "contradicts")
    for number in ("NaN", "1e400", "9" * 5000):
        baseline.write_text(matrix.read_text().replace('"cells"', f'"x": {number}, "cells"', 1))
        refused(report("check", "--baseline", baseline, newer), str(baseline))
