"""Bad input gets a clear error naming the file, the line or the option; nothing is ignored."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_mpcompat.cli import main as report_main
from pytest_mpcompat.model.rawfile import write_atomic
from pytest_mpcompat.scenario import ScenarioError, load_scenario


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e10", "0"])
def test_unusable_timeouts_are_usage_errors(pytester: pytest.Pytester, value: str) -> None:
    pytester.makefile(".py", one="print('hi')\n")
    result = pytester.runpytest_inprocess("--mp-matrix", ".", f"--mp-timeout={value}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*--mp-timeout: must be *, not '{value}'*"])


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        (
            "# [tool.mpcompat]\n# timeout = inf\n",
            3,
            "'timeout' must be a positive number of seconds (a finite one), not inf",
        ),
        ("# [tool.mpcompat]\n# timeout = nan\n", 3, "(a finite one), not nan"),
        ("# [tool.mpcompat]\n# timeout = 1e10\n", 3, "must be at most 86400 seconds"),
        ("# [tool.mpcompat.serve]\n# stop_timeout = inf\n", 3, "'stop_timeout' must be"),
        (
            "# [tool.mpcompt]\n# timeout = 3\n",
            2,
            "[tool.mpcompt] looks like a misspelt [tool.mpcompat]",
        ),
        (
            '# dependancies = ["kserve"]\n',
            2,
            "unknown top-level key 'dependancies' in the '# /// script' block (did you mean 'dependencies'?)",
        ),
        (
            '# [tool.mpcompat.serve]\n# stop_signals = ["SIGKILL"]\n',
            3,
            "unknown stop signal 'SIGKILL'",
        ),
        ('# [tool.mpcompat]\n# role = "fixed"\n', 3, "'role' must be one of use, mistake"),
        ('# [tool.mpcompat]\n# twin = "x_fixed.py"\n', 3, "'twin' names the fixed twin of a"),
        (
            '# [tool.mpcompat]\n# role = "mistake"\n# twin = "../x.py"\n',
            4,
            "'twin' must name a scenario file beside this one",
        ),
        # tomllib places an unclosed array on the next key's line; the open bracket is blamed.
        ('# [tool.mpcompat]\n# args = ["a",\n# timeout = 3\n', 3, "invalid TOML"),
    ],
)
def test_scenario_errors_name_the_line(tmp_path: Path, body: str, line: int, message: str) -> None:
    path = tmp_path / "scenario.py"
    path.write_text(f"# /// script\n{body}# ///\nprint()\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.line == line, str(info.value)
    assert message in info.value.message


def test_other_tools_tables_are_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "scenario.py"
    path.write_text('# /// script\n# [tool.uv]\n# exclude-newer = "2025-01-01T00:00:00Z"\n# ///\n')
    assert load_scenario(path).timeout is None


def test_a_scenario_that_does_not_compile_is_a_collection_error(pytester: pytest.Pytester) -> None:
    pytester.makefile(".py", broken="import os\n\ndef f(:\n    pass\n")
    result = pytester.runpytest_subprocess(
        "--mp-matrix", ".", "--mp-methods", "spawn", "--mp-report", "r.json"
    )
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        [
            "*ERROR collecting broken.py*",
            "broken.py:3: invalid syntax: the scenario does not compile under Python *",
            "*1 error during collection*",
        ]  # fmt: skip
    )
    assert json.loads((pytester.path / "r.json").read_text())["cells"] == []


def test_a_module_the_scenario_imports_that_does_not_compile_is_a_crash(
    pytester: pytest.Pytester,
) -> None:
    """The scenario compiles and its program fails as Python reports it: a measured crash."""
    pytester.makefile(".py", _helper="def f(:\n    pass\n", uses="import _helper\n")
    result = pytester.runpytest_subprocess(
        "--mp-matrix", "uses.py", "--mp-methods", "spawn", "--mp-report", "r.json"
    )
    direct = subprocess.run(
        [sys.executable, "uses.py"], cwd=pytester.path, capture_output=True, text=True
    )
    (cell,) = json.loads((pytester.path / "r.json").read_text())["cells"]
    assert (cell["verdict"], cell["exit_code"]) == ("crash", 1)
    assert cell["stderr_tail"] == direct.stderr  # no frame of the harness in it
    assert cell["signatures"] == ["syntax-error"]
    result.stdout.fnmatch_lines(["syntax-error: *", "*e.g. uses.py (spawn):", "*SyntaxError: *"])


def test_an_installed_package_that_cannot_import_is_named(pytester: pytest.Pytester) -> None:
    # A package whose dependency moved on (KServe 0.10 with cloudevents 2): the cell crashes
    # before any process starts, and says it was the installation.
    package = pytester.path / "env" / "lib" / "site-packages" / "servelib"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("from cloudevents_gone.http import CloudEvent\n")
    pytester.makefile(
        ".py",
        serve="import sys\nsys.path.insert(0, 'env/lib/site-packages')\nimport servelib\n",
    )
    pytester.runpytest_subprocess(
        "--mp-matrix", ".", "--mp-methods", "spawn", "--mp-report", "r.json"
    )
    (cell,) = json.loads((pytester.path / "r.json").read_text())["cells"]
    assert (cell["verdict"], cell["exit_code"]) == ("crash", 1)
    assert cell["signatures"] == ["dependency-import-error"]
    assert "No module named 'cloudevents_gone'" in cell["matches"]["dependency-import-error"]


def test_fail_on_gates_cells_without_expectations(pytester: pytest.Pytester) -> None:
    pytester.makefile(".py", crashes="raise SystemExit(3)\n", fine="print('ok')\n")
    pytester.makefile(
        ".py",
        known='# /// script\n# [tool.mpcompat]\n# expect = { spawn = "crash" }\n# ///\n'
        "raise SystemExit(3)\n",
    )
    recording = pytester.runpytest_subprocess("--mp-matrix", ".", "--mp-methods", "spawn")
    recording.assert_outcomes(passed=3)
    gated = pytester.runpytest_subprocess(
        "--mp-matrix", ".", "--mp-methods", "spawn", "--mp-fail-on", "crash,hang"
    )
    gated.assert_outcomes(passed=2, failed=1)  # the expected crash is judged by its rule
    gated.stdout.fnmatch_lines(
        ["*_ crashes.py under spawn _*", "crashes.py under spawn: crash (--mp-fail-on crash,hang)"]
    )
    bad = pytester.runpytest_inprocess("--mp-matrix", ".", "--mp-fail-on", "crahs")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    bad.stderr.fnmatch_lines(["*--mp-fail-on: unknown outcome 'crahs'; choose from degraded, *"])


def test_report_cli_errors_name_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert report_main(["merge", str(empty), "--out", str(tmp_path / "out")]) == 2
    assert f"{empty}: no raw results" in capsys.readouterr().err
    raw = tmp_path / "raw.json"
    raw.write_text(json.dumps({"schema": 2, "cells": []}))
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    for baseline, message in [
        (raw, f"{raw}: not a merged pytest-mpcompat matrix (a raw result: merge it first)"),
        (broken, f"{broken}:1: not valid JSON"),
        (empty, f"{empty}: is a folder"),
        (tmp_path / "gone.json", f"{tmp_path / 'gone.json'}: cannot read"),
    ]:
        assert report_main(["check", "--baseline", str(baseline), str(raw)]) == 2
        assert message in capsys.readouterr().err


def test_atomic_writes_fsync_only_when_durable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: calls.append(fd) or real(fd))
    write_atomic(tmp_path / "a.json", {"x": 1}, durable=False)
    assert calls == []
    write_atomic(tmp_path / "a.json", {"x": 2})
    assert len(calls) == 1
    assert json.loads((tmp_path / "a.json").read_text()) == {"x": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]  # no temporary file left


def test_atomic_writes_follow_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        write_atomic(tmp_path / "private.json", {})
    finally:
        os.umask(old)
    assert (tmp_path / "private.json").stat().st_mode & 0o777 == 0o600
    write_atomic(tmp_path / "shared.json", {})
    assert (tmp_path / "shared.json").stat().st_mode & 0o777 == 0o666 & ~old
