"""The mp_run and mp_method fixtures, for people who assert in Python."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from .conftest import SCRIPTS


def test_mp_run_with_mp_method(pytester: pytest.Pytester) -> None:
    shutil.copy(SCRIPTS / "lambda_target.py", pytester.path)
    pytester.makepyfile(
        test_it="""
        import pytest

        @pytest.mark.mp_methods("fork", "spawn")
        def test_lambda(mp_run, mp_method):
            cell = mp_run("lambda_target.py")
            assert cell.method == mp_method
            if mp_method == "fork":
                assert cell.verdict.value == "pass"
            else:
                assert cell.verdict.value == "crash"
                assert "unpicklable-target" in cell.signatures

        def test_explicit(mp_run):
            cell = mp_run("lambda_target.py", method="forkserver", env={"X": "{method}"})
            assert cell.verdict.value == "crash" and cell.method == "forkserver"
        """
    )
    result = pytester.runpytest_subprocess("-v", "--mp-report", "r.json", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*test_lambda?fork? PASSED*", "*test_lambda?spawn? PASSED*"])
    result.assert_outcomes(passed=3)
    cells = json.loads((pytester.path / "r.json").read_text())["cells"]
    assert sorted((c["nodeid"].split("::")[1], c["method"], c["verdict"]) for c in cells) == [
        ("test_explicit", "forkserver", "crash"),
        ("test_lambda[fork]", "fork", "pass"),
        ("test_lambda[spawn]", "spawn", "crash"),
    ]


def test_mp_method_follows_the_command_line(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_it="def test_m(mp_method):\n    assert mp_method in ('spawn', 'forkserver')\n"
    )
    result = pytester.runpytest_subprocess(
        "-v", "--mp-methods", "spawn,forkserver", "-p", "no:cacheprovider"
    )
    result.stdout.fnmatch_lines(["*test_m?spawn? PASSED*", "*test_m?forkserver? PASSED*"])


def test_mp_run_scenario_env_gets_the_method(pytester: pytest.Pytester) -> None:
    pytester.makefile(
        ".py",
        knob='# /// script\n# [tool.mpcompat]\n# env = { LIB_METHOD = "{method}" }\n# ///\nimport os\nprint(os.environ["LIB_METHOD"], os.environ["MPCOMPAT_START_METHOD"])\n',
    )
    pytester.makepyfile(
        test_it="def test_env(mp_run):\n    assert mp_run('knob.py', method='spawn').stdout_tail == 'spawn spawn\\n'\n"
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_a_cell_runs_where_pytest_was_started_unless_asked(pytester: pytest.Pytester) -> None:
    """As its user runs it, by default; ``cwd = "scratch"`` keeps what a server writes in its
    working folder (.metrics/, .envs/) out of the user's tree, ``"script"`` runs beside it."""
    body = "import os\nopen('written-here', 'w').close()\nprint('cwd', os.getcwd())\n"
    pytester.makefile(
        ".py", scratch="# /// script\n# [tool.mpcompat]\n# cwd = 'scratch'\n# ///\n" + body
    )
    pytester.makefile(".py", here=body)
    sub = pytester.mkdir("sub")
    (sub / "beside.py").write_text(
        "# /// script\n# [tool.mpcompat]\n# cwd = 'script'\n# ///\n" + body
    )
    result = pytester.runpytest_subprocess(
        "--mp-matrix",
        "scratch.py",
        "here.py",
        "sub/beside.py",
        "--mp-methods",
        "spawn",
        "--mp-report",
        "r.json",
        "-p",
        "no:cacheprovider",
    )
    result.assert_outcomes(passed=3)
    cells = {c["scenario"]: c for c in json.loads((pytester.path / "r.json").read_text())["cells"]}
    assert (pytester.path / "written-here").exists()  # here.py
    assert (sub / "written-here").exists()  # beside.py
    scratch = cells["scratch.py"]["stdout_tail"].split("cwd ", 1)[1].strip()
    assert not Path(scratch).exists(), "the scratch folder is removed with the cell"
    assert Path(scratch).name == "cwd" and str(pytester.path) not in scratch
