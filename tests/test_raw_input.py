"""Raw results as the merge reads them: the outcome their run decided survives it (a user's
conftest signature included), files of an older layout are migrated, and a malformed file is
refused naming the file, the cell and the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_mpcompat.cli import main
from pytest_mpcompat.model.cell import SCHEMA_VERSION
from pytest_mpcompat.model.rawfile import ReportError, read_report

COMMITTED = Path(__file__).parent.parent / "reports" / "raw"


def test_a_conftest_signature_survives_the_merge(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makeconftest(
        "from pytest_mpcompat import Signature\n"
        "def pytest_mpcompat_signatures(config):\n"
        "    return [Signature('model-oom', r'MODEL OOM', 'The model did not fit.', 'Shrink it.')]\n"
    )
    pytester.makefile(".py", oom="import sys\nprint('MODEL OOM', file=sys.stderr)\n")
    result = pytester.runpytest_subprocess(
        "--mp-matrix", "oom.py", "--mp-methods", "fork", "--mp-report", "raw/r.json",
        "-p", "no:cacheprovider",
    )  # fmt: skip
    assert result.ret == 0, result.stdout.str()
    raw = json.loads((pytester.path / "raw" / "r.json").read_text())
    (cell,) = raw["cells"]
    assert (cell["verdict"], cell["outcome"]) == ("pass", "degraded")
    assert raw["signatures"]["model-oom"]["explanation"] == "The model did not fit."
    # Merged elsewhere: no conftest there, and the plugin's catalog does not know the signature.
    out = tmp_path / "out"
    assert main(["merge", str(pytester.path / "raw"), "--out", str(out)]) == 0
    matrix = json.loads((out / "matrix.json").read_text())
    (merged,) = matrix["cells"]
    assert (merged["verdict"], merged["outcome"]) == ("pass", "degraded")
    assert matrix["signatures"]["model-oom"]["fix"] == "Shrink it."
    md = (out / "COMPATIBILITY.md").read_text()
    assert "| `model-oom` | The model did not fit. | Shrink it. |" in md
    assert "The model did not fit." in (out / "details" / "0000.js").read_text()  # its panel


def _write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data))
    return path


@pytest.fixture
def schema2(tmp_path: Path) -> dict:  # type: ignore[type-arg]
    """A raw result of schema 2, as the published report's runs wrote them (stdlib on 3.11)."""
    return json.loads((Path(__file__).parent / "data" / "raw-schema-2.json").read_text())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["cells"][2].update(signatures="spawn-main-guard-missing"),
         r"cell 2 \(scenarios/stdlib_fork_in_threaded_server.py, forkserver\): field signatures: "
         r"must be a list, not a string \(\"spawn-main-guard-missing\"\)"),
        (lambda d: d["cells"][0].update(duration_s="slow"),
         r"cell 0 \(.*, fork\): field duration_s: must be a number, not a string \(\"slow\"\)"),
        (lambda d: d["cells"][1]["env"]["packages"].update(torch=2),
         r"cell 1 \(.*\): field env.packages.torch: must be a string or null, not an integer"),
        (lambda d: d["cells"][1].update(verdict="fine"),
         r"cell 1 .*: field verdict: must be one of \"pass\", \"crash\", .*, not \"fine\""),
        (lambda d: d["cells"][0].pop("method"), r"cell 0 \(scenarios/.*\): field method: is missing"),
        (lambda d: d.update(complete="yes"), r"r.json: field complete: must be a boolean"),
        (lambda d: d.update(schema=99), r"r.json: schema 99 is newer than this pytest-mpcompat"),
        (lambda d: d.update(schema="2"), r"field schema: must be a layout version, not '2'"),
    ],
    ids=["signatures-a-string", "duration-a-string", "package-version-a-number",
         "unknown-verdict", "method-missing", "complete-a-string", "newer-schema", "schema-text"],
)  # fmt: skip
def test_a_malformed_raw_file_is_refused_naming_file_cell_and_field(
    tmp_path: Path,
    schema2: dict,
    change,
    message: str,  # type: ignore[no-untyped-def, type-arg]
) -> None:
    change(schema2)
    path = _write(tmp_path / "r.json", schema2)
    with pytest.raises(ReportError, match=message):
        read_report(path)
    # The command says the same, and writes nothing.
    assert main(["merge", str(path), "--out", str(tmp_path / "out")]) == 2
    assert not (tmp_path / "out" / "matrix.json").exists()


def test_files_that_are_not_raw_results_are_refused(tmp_path: Path) -> None:
    (tmp_path / "r.json").write_text("{\n  nope")
    with pytest.raises(ReportError, match=r"r.json:2: not valid JSON"):
        read_report(tmp_path / "r.json")
    with pytest.raises(ReportError, match="not a pytest-mpcompat raw result"):
        read_report(_write(tmp_path / "m.json", {"kind": "pytest-mpcompat matrix"}))


def test_older_layouts_are_migrated_not_refused(tmp_path: Path, schema2: dict) -> None:  # type: ignore[type-arg]
    # Schema 2 as written: outcomes present, no skip kinds, no signature descriptions.
    skip = {**schema2["cells"][0], "verdict": "skip", "outcome": "skip", "signatures": [],
            "reason": "needs kserve>=0.12.1 (not installed)"}  # fmt: skip
    upstream = {**skip, "method": "spawn", "reason": "not supported upstream: kserve needs <3.13"}
    # Schema 1: no outcome (decided on migration by the built-in catalog), a server's one port.
    degraded = {**schema2["cells"][0], "verdict": "pass", "signatures": ["worker-fatal-signal"],
                "serving": {"port": 8123, "workers_requested": 2}}  # fmt: skip
    del degraded["outcome"]
    old = {**schema2, "schema": 1, "cells": [skip, upstream, degraded]}
    data = read_report(_write(tmp_path / "old.json", old))
    assert data["schema"] == SCHEMA_VERSION
    first, second, third = data["cells"]
    assert (first.skip_kind.value, second.skip_kind.value) == ("environment", "upstream")
    assert third.outcome.value == "degraded" and third.serving.ports == [8123]
    assert data["signatures"]["worker-fatal-signal"]["severity"] == "error"


def test_every_committed_raw_result_reads(tmp_path: Path) -> None:
    files = sorted(COMMITTED.glob("*.json"))
    assert files
    cells = [c for f in files for c in read_report(f)["cells"]]
    assert all(c.outcome is not None for c in cells)
    assert all(c.skip_kind is not None for c in cells if c.verdict.value == "skip")


@pytest.mark.parametrize(
    ("body", "verdict", "outcome"),
    [
        ("raise SystemExit(3)\n", "crash", "crash"),
        ("import sys\nprint('RuntimeError: context has already been set', file=sys.stderr)\n",
         "pass", "degraded"),
        ("print('ok')\n", "pass", "pass"),
    ],
    ids=["crash", "degraded", "pass"],
)  # fmt: skip
def test_a_run_is_judged_where_it_runs(
    tmp_path: Path, body: str, verdict: str, outcome: str
) -> None:
    """The outcome comes with the run's result, whoever asked for it (the plugin or a script
    of its own), never from the verdict it started with."""
    from pytest_mpcompat.model.catalog import BUILTIN_SIGNATURES
    from pytest_mpcompat.runner.process import run_cell
    from pytest_mpcompat.runner.request import CellSpec

    script = tmp_path / "s.py"
    script.write_text(body)
    result = run_cell(CellSpec(script, "spawn", 30), BUILTIN_SIGNATURES)
    assert (result.verdict.value, result.outcome.value) == (verdict, outcome)
