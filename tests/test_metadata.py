"""Scenario metadata: the format, and an error naming file and line for every mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_mpcompat.model import Verdict
from pytest_mpcompat.scenario import ScenarioError, load_scenario


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.py"
    path.write_text(text)
    return path


FULL = '''\
"""A server."""
# /// script
# requires-python = ">=3.10"
# dependencies = ["packaging>=20"]
#
# [tool.mpcompat]
# methods = ["fork", "spawn"]
# timeout = 30
# requires = ["linux", "module:json"]
# args = ["--workers", "2"]
# env = { LIB_WORKER_METHOD = "{method}" }
#
# [[tool.mpcompat.expect]]
# methods = ["fork"]
# when = ["packaging<1"]
# verdict = "crash"
# signatures = ["start-method-already-set"]
#
# [[tool.mpcompat.expect]]
# verdict = "pass"
# ///
print("hi")
'''


def test_full_block(tmp_path: Path) -> None:
    s = load_scenario(write(tmp_path, FULL))
    assert s.methods == ("fork", "spawn")
    assert s.timeout == 30.0
    assert s.requires == ("linux", "module:json")
    assert s.dependencies == ("packaging>=20",)
    assert s.args == ("--workers", "2")
    assert s.env == {"LIB_WORKER_METHOD": "{method}"}
    first, second = s.expect
    assert (first.verdict, first.methods, first.when, first.line) == (
        Verdict.CRASH,
        ("fork",),
        ("packaging<1",),
        13,
    )
    assert (second.verdict, second.methods, second.line) == (Verdict.PASS, None, 19)


def test_no_block_means_defaults(tmp_path: Path) -> None:
    s = load_scenario(write(tmp_path, "print('plain script')\n"))
    assert (s.methods, s.timeout, s.expect, s.requires) == (None, None, (), ())


def test_expect_table_form(tmp_path: Path) -> None:
    text = '# /// script\n# [tool.mpcompat]\n# expect = { fork = "hang", spawn = { verdict = "crash", signatures = ["unpicklable-target"] } }\n# ///\n'
    s = load_scenario(write(tmp_path, text))
    assert [(r.methods, r.verdict, r.signatures) for r in s.expect] == [
        (("fork",), Verdict.HANG, ()),
        (("spawn",), Verdict.CRASH, ("unpicklable-target",)),
    ]


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ('# [tool.mpcompat]\n# methods = ["fork", "spwan"]\n', 3, "unknown start method 'spwan'"),
        ("# [tool.mpcompat]\n# timeout = -1\n", 3, "'timeout' must be a positive number"),
        ('# [tool.mpcompat]\n# requires = ["cudaa"]\n', 3, "unknown requirement 'cudaa'"),
        (
            '# [tool.mpcompat]\n# expect = { fork = "crsh" }\n',
            3,
            "must be one of pass, crash, hang",
        ),
        ("# [tool.mpcompat]\n# timeot = 3\n", 3, "unknown key 'timeot'"),
        ("# [tool.mpcompat]\n# timeout = \n", 3, "invalid TOML"),
        ('# dependencies = ["kserve>>1"]\n', 2, "invalid dependency 'kserve>>1'"),
        (
            '# [tool.mpcompat]\n#\n# [[tool.mpcompat.expect]]\n# verdict = "pass"\n# when = ["kserve<<0.14"]\n',
            4,
            "invalid condition",
        ),
    ],
)
def test_errors_name_file_and_line(tmp_path: Path, body: str, line: int, message: str) -> None:
    path = write(tmp_path, f"# /// script\n{body}# ///\nprint()\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.line == line, str(info.value)
    assert message in info.value.message
    assert str(info.value).startswith(f"{path}:{line}: ")


def test_unclosed_block(tmp_path: Path) -> None:
    path = write(tmp_path, "import os\n# /// script\n# [tool.mpcompat]\nprint()\n")
    with pytest.raises(ScenarioError, match=r":2: '# /// script' block is never closed"):
        load_scenario(path)


def test_two_blocks(tmp_path: Path) -> None:
    path = write(tmp_path, "# /// script\n# ///\n\n# /// script\n# ///\n")
    with pytest.raises(ScenarioError, match=r":4: a second '# /// script' block"):
        load_scenario(path)


def test_malformed_scenario_is_an_error_cell_and_the_run_goes_on(pytester: pytest.Pytester) -> None:
    pytester.makefile(
        ".py", broken='# /// script\n# [tool.mpcompat]\n# methods = ["thread"]\n# ///\n'
    )
    pytester.makefile(".py", fine="print('fine')\n")
    result = pytester.runpytest_subprocess(
        "--mp-matrix", ".", "--mp-methods", "fork", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*broken.py:3: unknown start method 'thread'*"])


def test_unknown_signature_in_expectation(pytester: pytest.Pytester) -> None:
    pytester.makefile(
        ".py",
        sc='# /// script\n# [tool.mpcompat]\n# expect = { fork = { verdict = "pass", signatures = ["no-such-sig"] } }\n# ///\n',
    )
    result = pytester.runpytest_subprocess(
        "--mp-matrix", ".", "--mp-methods", "fork", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*sc.py:3: unknown signature 'no-such-sig'*"])


SERVE = """\
# /// script
# [tool.mpcompat]
# args = ["--port", "{port}"]
#
# [tool.mpcompat.serve]
# workers = 3
# ready = "/health"
# request_timeout = 2.5
#
# [[tool.mpcompat.serve.requests]]
# path = "/predict"
# json = { x = [1, 2] }
# contains = "y"
# count = 2
#
# [[tool.mpcompat.serve.requests]]
# path = "/metrics"
# ///
"""


def test_serve_table(tmp_path: Path) -> None:
    serve = load_scenario(write(tmp_path, SERVE)).serve
    assert serve is not None
    assert (serve.workers, serve.ready, serve.request_timeout, serve.ready_timeout) == (
        3,
        "/health",
        2.5,
        60.0,
    )
    predict, metrics = serve.requests
    assert (predict.method, predict.json, predict.contains, predict.count) == (
        "POST",
        {"x": [1, 2]},
        "y",
        2,
    )
    assert (metrics.method, metrics.status) == ("GET", 200)


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("# workers = 3", "# workers = 0", 6, "'workers' must be a whole number >= 1"),
        ('# ready = "/health"', '# ready = "health"', 7, "'ready' must be a URL path"),
        ('# contains = "y"', '# contans = "y"', 13, "unknown key 'contans' in a serve request"),
        (
            "# request_timeout = 2.5",
            "# request_timeout = -1",
            8,
            "'request_timeout' must be a positive number",
        ),
    ],
)
def test_serve_errors(tmp_path: Path, old: str, new: str, line: int, message: str) -> None:
    path = write(tmp_path, SERVE.replace(old, new))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert (info.value.line, message in info.value.message) == (line, True), str(info.value)
