"""Secrets in the shapes real output carries never reach a report, and ordinary log lines are
left as they are."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_mpcompat.model import ProcessStack
from pytest_mpcompat.publish.cli import main
from pytest_mpcompat.redact import Redactor

from .test_report_publish import cell, raw

# (where it is seen, the line, the secret in it). The tokens are made up in each family's shape.
SAMPLES = [
    ("bare JWT", "token eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
     "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c issued", "SflKxwRJSMeKKF2QT4fwpMeJf36POk6"),
    ("PEM private key", "loaded:\n-----BEGIN RSA PRIVATE KEY-----\n"
     "MIIEpAIBAAKCAQEA1c7+9z5Pad7OejecsQ0bu3aozN3tihPmljnnudb9G3HECdnH\n"
     "-----END RSA PRIVATE KEY-----\ndone", "MIIEpAIBAAKCAQEA1c7"),
    ("PEM key cut by the tail", "-----BEGIN OPENSSH PRIVATE KEY-----\n"
     "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtz", "b3BlbnNzaC1rZXkt"),
    ("service account JSON", '{"private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqh'
     'kiG9w0BAQEFAASC\\n-----END PRIVATE KEY-----\\n", "client_id": "1"}', "MIIEvQIBADANBgkqh"),
    ("Google API key", "GET https://maps.googleapis.com/x?key=AIzaSyD-9tSrke72PouQMnMX-a7eZSW0"
     "jkFMBWY", "AIzaSyD-9tSrke72PouQMnMX"),
    ("JSON password", 'config: {"user": "admin", "password": "hunter2-correct-horse"}',
     "hunter2-correct-horse"),
    ("X-Api-Key header", "X-Api-Key: 9f8e7d6c5b4a39281706f5e4d3c2b1a0",
     "9f8e7d6c5b4a39281706f5e4d3c2b1a0"),
    ("headers dict", "headers={'X-Api-Key': 'abcd1234efgh5678', 'Accept': '*/*'}",
     "abcd1234efgh5678"),
    ("OpenAI project key", "OPENAI: sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD",
     "abcdefghijklmnopqrstuvwxyz0123"),
    ("Hugging Face", "hub login with hf_a1B2c3D4e5F6g7H8i9J0k1L2 ok", "a1B2c3D4e5F6g7H8"),
    ("GitHub fine-grained", "github_pat_11ABCDEFG0abcdefghijkl_mnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU"
     "VWXYZ0123456", "mnopqrstuvwxyzABCDEFG"),
    ("GitLab", "remote: glpat-Abcdefghij1234567890 accepted", "glpat-Abcdefghij123"),
    ("AWS key id", "aws_access_key_id = AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"),
    ("Stripe", "charge with sk_live_4eC39HqLyjWDarjtT1zdp7dc", "4eC39HqLyjWDarjtT1zdp7dc"),
    ("Slack webhook", "posting to https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXX"
     "XXXXXXXXXXXXX", "T00000000/B00000000"),
    ("SendGrid", "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",
     "TwL2iGABf9DHoTf"),
    ("npm", "//registry.npmjs.org/:_authToken=npm_abcdefghijklmnopqrstuvwxyz0123456789",
     "abcdefghijklmnopqrstuvwxyz0123"),
    ("Azure SAS", "https://acct.blob.core.windows.net/c/b?sv=2021-08-06&sig=abcdEFGH1234%2Bxyz%3D"
     "&se=2026", "abcdEFGH1234%2Bxyz"),
    ("Azure connection string", "AccountName=acct;AccountKey=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2Rl"
     "ZmdoaWprbG1ub3BxcnN0dXZ3eHl6QUJDREVGR0g=;EndpointSuffix=core.windows.net", "Zm9vYmFyYmF6"),
    ("command-line flag", "python serve.py --token s3cr3tvalue123 --port 8080", "s3cr3tvalue123"),
    ("basic auth", "Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA"),
    ("cookie", "Set-Cookie: sessionid=38afes7a8b0c; HttpOnly", "38afes7a8b0c"),
    ("URL password", "redis://default:Sup3rS3cret@cache:6379/0", "Sup3rS3cret"),
]  # fmt: skip

ORDINARY = [
    "INFO 11-30 engine: max_num_batched_tokens=2048, max_model_len=4096",
    "epoch 3/10 loss=0.231 acc=0.91 at 127.0.0.1:8080, 512 tokens generated successfully",
    "Traceback (most recent call last): KeyError: 'token'",
    "uvicorn: Started server process [1234]; password hashing disabled in tests",
    "RuntimeError: context has already been set",
]


@pytest.mark.parametrize(("line", "secret"), [s[1:] for s in SAMPLES], ids=[s[0] for s in SAMPLES])
def test_each_shape_is_taken_out(line: str, secret: str) -> None:
    done = Redactor({})(line)
    assert secret not in done and "[redacted]" in done


@pytest.mark.parametrize("line", ORDINARY)
def test_ordinary_lines_are_left_alone(line: str) -> None:
    assert Redactor({})(line) == line


def test_no_secret_reaches_any_output(tmp_path: Path) -> None:
    lines = "\n".join(line for _, line, _ in SAMPLES)
    leaky = cell(
        "scenarios/kserve_leaky.py", "spawn", "crash", "0.14.0",
        reason=lines[:1500], stdout_tail=lines, stderr_tail=lines, leaked=[lines[-400:]],
        stacks=[ProcessStack(pid=3, ppid=1, cmdline=lines[:300], stack=lines, tool="py-spy")],
    )  # fmt: skip
    leaky.env["labels"] = {"note": SAMPLES[9][1]}
    out = tmp_path / "out"
    assert main(["merge", str(raw(tmp_path, "r", [leaky])), "--out", str(out)]) == 0
    for name in ("matrix.json", "COMPATIBILITY.md", "index.html", "details/0000.js"):
        text = (out / name).read_text()
        as_json = json.dumps(text)  # a secret JSON-escaped in the file reads the same here
        for what, _, secret in SAMPLES:
            assert secret not in text and secret not in as_json, (name, what)
