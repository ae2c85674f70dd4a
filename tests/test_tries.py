"""--mp-tries with --mp-baseline: a matrix cell worse than the committed matrix runs again, and
the gate tells a regression (worse in every try) from a flake (tries that disagree)."""

from __future__ import annotations

import json

import pytest

from pytest_mpcompat.cli import main as report

FLIP = """\
from pathlib import Path
count = Path("count.txt")
n = int(count.read_text()) if count.exists() else 0
count.write_text(str(n + 1))
raise SystemExit(n % 2)  # passes, then crashes, then passes...
"""
BROKE = """\
from pathlib import Path
raise SystemExit(1 if Path("broken").exists() else 0)
"""


def test_a_worse_cell_is_tried_again_and_the_gate_tells_flaky_from_worse(
    pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    pytester.makefile(".py", flip=FLIP, broke=BROKE)
    run = ["-p", "no:cacheprovider", "--mp-matrix", "flip.py", "broke.py", "--mp-methods", "spawn"]
    assert pytester.runpytest_subprocess(*run, "--mp-report", "base.json").ret == 0
    assert report(["merge", str(pytester.path / "base.json"), "--out", "b"]) == 0
    (pytester.path / "broken").write_text("")
    done = pytester.runpytest_subprocess(*run, "--mp-report", "new.json",
                                         "--mp-baseline", "b/matrix.json", "--mp-tries", "3")  # fmt: skip
    assert done.ret == 0, done.stdout.str()  # no expectation: recorded, not failed
    cells = {
        c["scenario"]: c for c in json.loads((pytester.path / "new.json").read_text())["cells"]
    }
    assert cells["flip.py"]["verdict_counts"] == {"crash": 2, "pass": 1}
    assert cells["broke.py"]["verdict_counts"] == {"crash": 3}
    assert (pytester.path / "count.txt").read_text() == "4"  # 1 + 3 tries, no more
    assert report(["merge", str(pytester.path / "new.json"), "--out", "n"]) == 0
    capsys.readouterr()
    assert report(["check", "--baseline", "b/matrix.json", "n/matrix.json"]) == 1
    out = capsys.readouterr().out
    assert "flaky, not counted: flip.py (" in out and "crash x2, pass x1 in 3 tries" in out
    assert "worse: broke.py (" in out and "pass -> crash (in each of 3 tries)" in out
    # A cell no worse than the baseline runs once.
    (pytester.path / "broken").unlink()
    again = pytester.runpytest_subprocess(*run, "--mp-report", "same.json",
                                          "--mp-baseline", "b/matrix.json", "--mp-tries", "3")  # fmt: skip
    assert again.ret == 0
    same = {
        c["scenario"]: c for c in json.loads((pytester.path / "same.json").read_text())["cells"]
    }
    assert same["broke.py"]["repeat"] == 1


def test_a_baseline_that_is_no_matrix_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makefile(".py", broke=BROKE)
    pytester.makefile(".json", raw='{"cells": []}')
    done = pytester.runpytest_subprocess("--mp-matrix", "broke.py", "--mp-baseline", "raw.json",
                                         "--mp-tries", "2")  # fmt: skip
    assert done.ret == pytest.ExitCode.USAGE_ERROR
    done.stderr.fnmatch_lines(["*--mp-baseline: *raw.json: not a merged pytest-mpcompat matrix*"])
