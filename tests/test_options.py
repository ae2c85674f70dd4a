"""Command-line options, ini twins and their errors."""

from __future__ import annotations

import pytest


def test_unknown_method_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess("--mp-matrix", "--mp-methods", "fork,thread")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--mp-methods: unknown start method 'thread'; choose from fork, spawn, forkserver*"]
    )


def test_bad_timeout_from_environment(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MPCOMPAT_TIMEOUT", "soon")
    result = pytester.runpytest_subprocess("--mp-matrix")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*environment variable MPCOMPAT_TIMEOUT: must be a positive number of seconds, not 'soon'*"
        ]
    )


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (["--mp-timeout", "abc"], "--mp-timeout: must be a positive number of seconds, not 'abc'"),
        (["--mp-repeat", "0"], "--mp-repeat: '0' is not a positive whole number"),
        (["--mp-label", "novalue"], "--mp-label: 'novalue' is not KEY=VALUE"),
    ],
)
def test_options_are_checked_without_the_matrix(
    pytester: pytest.Pytester, given: list[str], message: str
) -> None:
    pytester.makepyfile(test_plain="def test_x(): pass\n")
    result = pytester.runpytest_subprocess(*given)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{message}*"])
    assert pytester.runpytest_subprocess().ret == pytest.ExitCode.OK  # none given: unused


def test_missing_ini_path(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nmp_paths = nowhere\n")
    result = pytester.runpytest_subprocess("--mp-matrix")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*mp_paths*nowhere does not exist*"])


def test_missing_path_argument(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess("--mp-matrix", "no_such_dir")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*file or directory not found: no_such_dir*"])


def test_ini_paths_are_the_default_and_tests_are_left_alone(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nmp_paths = scen\nmp_methods = spawn\n")
    pytester.mkdir("scen")
    (pytester.path / "scen" / "one.py").write_text("print('one')\n")
    (pytester.path / "scen" / "_helper.py").write_text("raise SystemExit(9)\n")
    pytester.makepyfile(test_other="def test_x(): assert False\n")
    result = pytester.runpytest_subprocess("--mp-matrix", "-v")
    result.stdout.fnmatch_lines(["*scen/one.py::spawn PASSED*"])
    result.assert_outcomes(passed=1)


def test_cli_methods_do_not_override_the_scenarios_own(pytester: pytest.Pytester) -> None:
    pytester.makefile(".py", own='# /// script\n# [tool.mpcompat]\n# methods = ["spawn"]\n# ///\n')
    pytester.makefile(".py", plain="print()\n")
    result = pytester.runpytest_subprocess(
        "--mp-matrix", ".", "--mp-methods", "fork", "-v", "-p", "no:cacheprovider"
    )
    result.stdout.fnmatch_lines(["*own.py::spawn PASSED*", "*plain.py::fork PASSED*"])
    result.assert_outcomes(passed=2)


def test_explicit_scenario_file_is_not_imported(pytester: pytest.Pytester) -> None:
    # Importing it into pytest would print at collection and exit the pytest process.
    pytester.makefile(".py", server="import sys\nprint('IMPORTED')\nsys.exit(4)\n")
    result = pytester.runpytest_subprocess(
        "--mp-matrix", "server.py", "--mp-methods", "spawn", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=1)
    assert "IMPORTED" not in result.stdout.str()


def test_unknown_stack_tool(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess("--mp-matrix", "--mp-stacks", "gdb")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--mp-stacks: unknown stack tool 'gdb'; choose from auto, py-spy, faulthandler*"]
    )


def test_unsupported_upstream_is_recorded_cell_by_cell(pytester: pytest.Pytester) -> None:
    import json

    pytester.makefile(
        ".py", a="print()\n", b='# /// script\n# [tool.mpcompat]\n# methods = ["spawn"]\n# ///\n'
    )
    result = pytester.runpytest_subprocess(
        "--mp-matrix", ".", "--mp-methods", "fork", "--mp-report", "r.json", "-p", "no:cacheprovider",
        "--mp-unsupported", "kserve==0.13.1 needs Python >=3.8,<3.12", "--mp-label", "kserve=0.13.1",
    )  # fmt: skip
    result.assert_outcomes(skipped=2)
    report = json.loads((pytester.path / "r.json").read_text())
    cells = report["cells"]
    assert [(c["method"], c["verdict"]) for c in cells] == [("fork", "skip"), ("spawn", "skip")]
    assert {c["reason"] for c in cells} == {
        "not supported upstream: kserve==0.13.1 needs Python >=3.8,<3.12"
    }
    assert all(c["env"]["labels"] == {"kserve": "0.13.1"} for c in cells)
    assert report["environment_gap"] is None and report["complete"] is True


def test_an_environment_gap_records_no_cell(pytester: pytest.Pytester) -> None:
    import json

    pytester.makefile(".py", a="print()\n")
    result = pytester.runpytest_subprocess(
        "--mp-matrix", ".", "--mp-methods", "fork", "--mp-report", "r.json", "-p", "no:cacheprovider",
        "--mp-environment-gap", "torch==2.13.0: download failed",
    )  # fmt: skip
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*not run (environment gap): torch==2.13.0: download failed*"])
    report = json.loads((pytester.path / "r.json").read_text())
    assert report["cells"] == [] and report["unfinished"] == []
    assert report["environment_gap"] == "torch==2.13.0: download failed"


def test_bad_label(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess("--mp-matrix", "--mp-label", "kserve")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--mp-label: 'kserve' is not KEY=VALUE*"])


def test_an_unknown_process_table_is_a_usage_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MPCOMPAT_PROCESS_TABLE", "kvm")
    result = pytester.runpytest_subprocess("--mp-matrix")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*MPCOMPAT_PROCESS_TABLE: unknown way 'kvm'*proc, psutil, ps*"])
