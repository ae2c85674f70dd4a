"""Matrix cells reuse their earlier result while none of their inputs changed, and only then."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

# Two scenarios, one of which imports a helper beside it; each prints a fresh random number, so
# a cell that ran again shows another one.
HELPER = "GREETING = 'hello'\n"
USES_HELPER = (
    "import os\n"
    "import _helper\n"
    "print(_helper.GREETING, os.urandom(8).hex())\n"
)  # fmt: skip
ALONE = "import os\nprint('alone', os.urandom(8).hex())\n"


def _write(folder: Path) -> None:
    (folder / "_helper.py").write_text(HELPER)
    (folder / "uses_helper.py").write_text(USES_HELPER)
    (folder / "alone.py").write_text(ALONE)


def _run(pytester: pytest.Pytester, *args: str) -> dict[tuple[str, str], dict]:  # type: ignore[type-arg]
    result = pytester.runpytest_subprocess(
        "--mp-matrix", ".", "--mp-methods", "fork,spawn", "--mp-report", "r.json", *args
    )
    result.assert_outcomes(passed=4)
    cells = json.loads(Path("r.json").read_text())["cells"]  # under the run's folder
    return {(Path(c["scenario"]).stem, c["method"]): c for c in cells}


def _reused(cells: dict[tuple[str, str], dict]) -> set[tuple[str, str]]:  # type: ignore[type-arg]
    return {key for key, cell in cells.items() if cell["reused"]}


def test_unchanged_cells_are_reused_and_an_edit_reruns_only_its_cells(
    pytester: pytest.Pytester,
) -> None:
    _write(pytester.path)
    first = _run(pytester)
    assert _reused(first) == set()
    assert all(cell["measured_at"] for cell in first.values())

    second = _run(pytester)
    assert _reused(second) == set(first)
    for key, cell in second.items():  # the same run, as measured then
        assert cell["stdout_tail"] == first[key]["stdout_tail"]
        assert cell["measured_at"] == first[key]["measured_at"]

    (pytester.path / "alone.py").write_text(ALONE + "# edited\n")
    third = _run(pytester)
    assert _reused(third) == {("uses_helper", "fork"), ("uses_helper", "spawn")}
    assert third["alone", "fork"]["stdout_tail"] != first["alone", "fork"]["stdout_tail"]

    (pytester.path / "_helper.py").write_text("GREETING = 'hi'\n")  # a helper is an input too
    fourth = _run(pytester)
    assert _reused(fourth) == {("alone", "fork"), ("alone", "spawn")}
    assert fourth["uses_helper", "spawn"]["stdout_tail"].startswith("hi ")


def test_settings_environment_and_flags_decide_reuse(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(pytester.path)
    _run(pytester)
    result = pytester.runpytest_subprocess(
        "--mp-matrix", ".", "--mp-methods", "fork,spawn", "--mp-report", "r.json"
    )
    result.stdout.fnmatch_lines(["4 of 4 cells reused from earlier runs, measured *"])
    assert _reused(_run(pytester, "--mp-timeout", "60")) == set()  # a setting that reaches it
    monkeypatch.setenv("SOMETHING_A_CELL_COULD_READ", "1")
    assert _reused(_run(pytester, "--mp-timeout", "60")) == set()  # its environment
    assert len(_reused(_run(pytester, "--mp-timeout", "60"))) == 4
    assert _reused(_run(pytester, "--mp-timeout", "60", "--mp-fresh")) == set()
    monkeypatch.setenv("MPCOMPAT_FRESH", "1")
    assert _reused(_run(pytester, "--mp-timeout", "60")) == set()
    monkeypatch.delenv("MPCOMPAT_FRESH")
    repeated = _run(pytester, "--mp-timeout", "60", "--mp-repeat", "2")
    assert _reused(repeated) == set()
    assert all(cell["repeat"] == 2 for cell in repeated.values())
    assert _reused(_run(pytester, "-p", "no:cacheprovider")) == set()  # nowhere to keep them


def test_collect_only_runs_nothing_and_keeps_the_last_report(pytester: pytest.Pytester) -> None:
    _write(pytester.path)
    before = _run(pytester)
    report = (pytester.path / "r.json").read_text()
    result = pytester.runpytest_subprocess(
        "--mp-matrix", ".", "--mp-methods", "fork,spawn", "--mp-report", "r.json", "--co", "-q"
    )
    result.stdout.fnmatch_lines(["*4 tests collected*"])
    result.stdout.no_fnmatch_line("*did not finish*")
    assert (pytester.path / "r.json").read_text() == report
    assert len(before) == 4


def test_a_moved_checkout_reuses_what_it_measured(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CI service gives each run a workspace of its own: paths inside the checkout (the
    scenarios, a venv's variables) count relative to it, and a path outside it still counts."""
    import shutil

    here = pytester.path / "checkout"
    here.mkdir()
    _write(here)
    (here / "pytest.ini").write_text("[pytest]\n")
    monkeypatch.chdir(here)
    monkeypatch.setenv("A_VENV_OF_THE_CHECKOUT", str(here / ".venv"))
    first = _run(pytester)
    moved = pytester.path / "moved"
    shutil.copytree(here, moved)
    monkeypatch.chdir(moved)
    monkeypatch.setenv("A_VENV_OF_THE_CHECKOUT", str(moved / ".venv"))
    again = _run(pytester)
    assert _reused(again) == set(first)
    monkeypatch.setenv("A_VENV_OF_THE_CHECKOUT", str(pytester.path / "elsewhere"))
    assert _reused(_run(pytester)) == set()
