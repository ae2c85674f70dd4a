"""Expectations, skips and user signatures decide whether a cell item passes."""

from __future__ import annotations

import json

import pytest


def run(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, dict]:  # type: ignore[type-arg]
    result = pytester.runpytest_subprocess(
        "--mp-matrix", ".", "--mp-report", "r.json", "-p", "no:cacheprovider", "-rs", *args
    )
    cells = json.loads((pytester.path / "r.json").read_text())["cells"]
    return result, {(c["scenario"], c["method"]): c for c in cells}


UNGUARDED = (
    "import multiprocessing\n"
    "def work():\n    pass\n"
    "p = multiprocessing.Process(target=work)\np.start()\np.join()\n"
)


def test_a_dead_worker_contradicts_an_expected_clean_pass(pytester: pytest.Pytester) -> None:
    pytester.makefile(
        ".py",
        unguarded='# /// script\n# [tool.mpcompat]\n# expect = { spawn = "pass" }\n# ///\n'
        + UNGUARDED,
    )
    result, cells = run(pytester, "--mp-methods", "spawn")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*expected a clean pass, but the cell shows spawn-main-guard-missing*"]
    )
    assert cells["unguarded.py", "spawn"]["mismatch"]


def test_version_rules_pick_the_expectation(pytester: pytest.Pytester) -> None:
    block = (
        "# /// script\n# [tool.mpcompat]\n#\n"
        '# [[tool.mpcompat.expect]]\n# when = ["python<3.0"]\n# verdict = "hang"\n#\n'
        '# [[tool.mpcompat.expect]]\n# when = ["pytest>=7"]\n# verdict = "crash"\n#\n'
        '# [[tool.mpcompat.expect]]\n# verdict = "pass"\n# ///\n'
    )
    pytester.makefile(".py", rules=block + "raise SystemExit(2)\n")
    result, cells = run(pytester, "--mp-methods", "fork")
    result.assert_outcomes(passed=1)
    assert cells["rules.py", "fork"]["expected"] == {"verdict": "crash", "signatures": []}


def test_unmet_requirements_skip_with_a_reason(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")  # no GPU, even on a GPU machine
    pytester.makefile(
        ".py",
        gpu='# /// script\n# [tool.mpcompat]\n# requires = ["cuda"]\n# ///\nraise SystemExit(1)\n',
    )
    pytester.makefile(
        ".py",
        dep='# /// script\n# dependencies = ["no-such-dist>=1"]\n# ///\nraise SystemExit(1)\n',
    )
    pytester.makefile(
        ".py", old_python='# /// script\n# requires-python = "<3.0"\n# ///\nraise SystemExit(1)\n'
    )
    result, cells = run(pytester, "--mp-methods", "spawn")
    result.assert_outcomes(skipped=3)
    assert (
        cells["gpu.py", "spawn"]["reason"] == "requires cuda: CUDA_VISIBLE_DEVICES hides every GPU"
    )
    assert cells["dep.py", "spawn"]["reason"] == "needs no-such-dist>=1 (not installed)"
    assert cells["old_python.py", "spawn"]["reason"].startswith("needs Python <3.0")
    assert {c["verdict"] for c in cells.values()} == {"skip"}


def test_signatures_from_a_conftest_hook(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        "from pytest_mpcompat import Signature\n"
        "def pytest_mpcompat_signatures(config):\n"
        "    return [Signature('model-oom', r'CUDA out of memory|MODEL OOM', 'The model did not fit.', 'Shrink it.')]\n"
    )
    pytester.makefile(".py", oom="import sys\nprint('MODEL OOM', file=sys.stderr)\n")
    result, cells = run(pytester, "--mp-methods", "fork")
    assert cells["oom.py", "fork"]["signatures"] == ["model-oom"]
    result.stdout.fnmatch_lines(["*model-oom: The model did not fit.*", "*fix: Shrink it.*"])


def test_large_output_keeps_a_bounded_tail(pytester: pytest.Pytester) -> None:
    pytester.makefile(
        ".py",
        loud="import sys\nline = 'x' * 99 + '\\n'\nfor _ in range(300_000):\n    sys.stdout.write(line)\n"
        "print('the end')\nprint('RuntimeError: context has already been set', file=sys.stderr)\n",
    )
    result, cells = run(pytester, "--mp-methods", "fork")
    cell = cells["loud.py", "fork"]
    assert cell["stdout_tail"].startswith("[... ")
    assert cell["stdout_tail"].endswith("the end\n")
    assert len(cell["stdout_tail"]) < 8400
    assert cell["signatures"] == ["start-method-already-set"]


def test_secrets_never_reach_the_report(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_abcdefghijklmnopqrstuvwxyz012345")
    monkeypatch.setenv("DB_PASSWORD", "correct-horse-battery")
    pytester.makefile(
        ".py",
        leak="import os, sys\nprint('token', os.environ['HF_TOKEN'])\n"
        "print('db', os.environ['DB_PASSWORD'], 'key AKIAABCDEFGHIJKLMNOP', file=sys.stderr)\n",
    )
    result, cells = run(pytester, "--mp-methods", "spawn")
    cell = cells["leak.py", "spawn"]
    assert cell["stdout_tail"] == "token [redacted]\n"
    assert cell["stderr_tail"] == "db [redacted] key [redacted]\n"
    raw = (pytester.path / "r.json").read_text()
    assert "correct-horse-battery" not in raw and "hf_abcdef" not in raw
