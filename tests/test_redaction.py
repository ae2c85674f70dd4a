"""Secrets in the shapes real output carries never reach a report, and ordinary log lines are
left as they are. The corpus (``secrets_corpus.py``) has a sample of every token family the
redactor lists, of name-anchored values, of the shapes server logs hold and of key material."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_mpcompat.cli import main
from pytest_mpcompat.model import ProcessStack
from pytest_mpcompat.redact import TOKEN_SHAPES, Redactor

from .secrets_corpus import KEYS, LOG_SHAPES, NAMED, ORDINARY, TOKENS
from .test_report_publish import cell, raw

SAMPLES = [(f, line, secret) for f, (line, secret) in TOKENS.items()] + NAMED + LOG_SHAPES + KEYS


def leaked(secret: str, text: str) -> bool:
    """The secret, or any run of 12 of its characters, is in ``text``."""
    run = min(12, len(secret))
    return any(secret[i : i + run] in text for i in range(len(secret) - run + 1))


def test_every_token_family_has_a_sample() -> None:
    assert sorted(TOKENS) == sorted(family for family, _, _ in TOKEN_SHAPES)


@pytest.mark.parametrize(
    ("line", "secret"), [s[1:] for s in SAMPLES], ids=[f"{n}-{s[0]}" for n, s in enumerate(SAMPLES)]
)
def test_each_shape_is_taken_out(line: str, secret: str) -> None:
    done = Redactor({})(line)
    assert not leaked(secret, done) and "[redacted]" in done, done


@pytest.mark.parametrize("line", ORDINARY)
def test_ordinary_lines_are_left_alone(line: str) -> None:
    assert Redactor({})(line) == line


def test_the_same_text_redacts_alike_alone_and_among_others() -> None:
    """Lines are redacted once and remembered: a line reads the same whatever came before it."""
    redact = Redactor({})
    alone = [Redactor({})(line) for _, line, _ in SAMPLES] + ORDINARY
    together = redact("\n".join(line for _, line, _ in SAMPLES) + "\n" + "\n".join(ORDINARY))
    assert together == "\n".join(alone)
    assert redact("\n".join(ORDINARY)) == "\n".join(ORDINARY)


def test_a_secret_environment_value_is_taken_out_anywhere() -> None:
    redact = Redactor({"MY_SERVICE_TOKEN": "plain words here", "PATH": "/usr/bin", "HOME": "/x"})
    assert redact("got plain words here from /usr/bin") == "got [redacted] from /usr/bin"


def test_no_secret_reaches_any_output(tmp_path: Path) -> None:
    lines = "\n".join(line for _, line, _ in SAMPLES)
    leaky = cell(
        "scenarios/kserve_leaky.py", "spawn", "crash", "0.14.0",
        reason=lines[:1500], stdout_tail=lines, stderr_tail=lines, leaked=[lines[-400:]],
        stacks=[ProcessStack(pid=3, ppid=1, cmdline=lines[:300], stack=lines, tool="py-spy")],
    )  # fmt: skip
    leaky.env["labels"] = {"note": TOKENS["GitHub"][0]}
    out = tmp_path / "out"
    assert main(["merge", str(raw(tmp_path, "r", [leaky])), "--out", str(out)]) == 0
    for name in ("matrix.json", "COMPATIBILITY.md", "index.html", "details/0000.js"):
        text = (out / name).read_text()
        as_json = json.dumps(text)  # a secret JSON-escaped in the file reads the same here
        for what, _, secret in SAMPLES:
            if secret in lines[:1500] + lines[-400:] or secret in lines:
                assert not leaked(secret, text) and not leaked(secret, as_json), (name, what)


def test_a_run_stores_and_shows_nothing_secret(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a cell prints, its file's name, a label and the value of a secret variable of the
    environment are redacted before the run writes them anywhere: the raw report, the reuse
    cache and the matrix summary."""
    shown = [TOKENS[f] for f in ("GitHub", "Stripe", "Hugging Face")]
    shown += [(line, secret) for _, line, secret in LOG_SHAPES[:4]]
    in_name, in_label = TOKENS["npm"][1], TOKENS["Slack"][1]
    in_env = "plain words of the deploy pipeline"
    monkeypatch.setenv("DEPLOY_SERVICE_TOKEN", in_env)
    script = "import os, sys\n" + "".join(
        f"print({line!r})\nprint({line!r}, file=sys.stderr)\n" for line, _ in shown
    ) + "print('env says', os.environ['DEPLOY_SERVICE_TOKEN'])\n"  # fmt: skip
    (pytester.path / f"leak_{in_name}.py").write_text(script)
    result = pytester.runpytest_subprocess(
        "--mp-matrix", ".", "--mp-methods", "spawn", "--mp-report", "r.json",
        "--mp-label", f"note={in_label}",
    )  # fmt: skip
    result.assert_outcomes(passed=1)
    report = (pytester.path / "r.json").read_text()
    (cell,) = json.loads(report)["cells"]
    assert "env says [redacted]" in cell["stdout_tail"]  # the cell ran and printed
    assert cell["env"]["labels"] == {"note": "[redacted]"}
    cache = [
        p.read_text() for p in (pytester.path / ".pytest_cache" / "d").rglob("*") if p.is_file()
    ]
    assert cache, "the cell's result was stored for reuse"
    summary = result.stdout.str().split("mpcompat matrix", 1)[1]
    secrets = [s for _, s in shown] + [in_name, in_label, in_env]
    for where, text in [
        ("raw report", report),
        ("summary", summary),
        *(("cache", c) for c in cache),
    ]:
        for secret in secrets:
            assert not leaked(secret, text) and not leaked(secret, json.dumps(text)), (
                where,
                secret,
            )
