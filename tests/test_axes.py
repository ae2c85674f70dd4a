"""The axes model reaches every reader: what a run records, the merge, the grid, the Markdown,
the answers, the insights and the gate. A machine axis added to ``MACHINE`` that one of them
forgets fails here; so does an OS axis that merged runs from two OSes do not show."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_mpcompat.model import CellResult, Verdict
from pytest_mpcompat.model.axes import MACHINE, METHOD, gate_key, is_release, ordered
from pytest_mpcompat.model.catalog import BUILTIN, decide
from pytest_mpcompat.model.rawfile import build_report, write_atomic
from pytest_mpcompat.publish.answers import answers
from pytest_mpcompat.publish.grid import family_grids, page_data
from pytest_mpcompat.publish.markdown import render_markdown
from pytest_mpcompat.publish.merge import merge_files
from pytest_mpcompat.publish.regress import gate
from pytest_mpcompat.scenario.requirements import environment_axes

SCENARIO = "scenarios/kserve_two_workers.py"


def _run(tmp_path: Path, name: str, os_name: str, verdicts: dict[str, str], **env: str) -> Path:
    cells = []
    for method, verdict in verdicts.items():
        made = CellResult(SCENARIO, method, Verdict(verdict), env={
            "os": os_name, "python": "3.11.7", "gpu": None,
            "packages": {"kserve": "0.15.2"}, "labels": {"runner": name}, **env})  # fmt: skip
        cells.append(decide(made, BUILTIN))
    path = tmp_path / "raw" / f"{name}.json"
    write_atomic(path, build_report(cells, {}, started="2026-11-21T10:00:00+00:00", complete=True))
    return path


def test_every_machine_axis_is_recorded_by_each_run() -> None:
    recorded = environment_axes([])
    for axis in MACHINE:
        assert axis.name in recorded, f"scenario/requirements.py does not record {axis.name}"


@pytest.mark.parametrize("axis", MACHINE, ids=lambda a: a.name)
def test_each_machine_axis_is_a_fact_not_a_release(axis) -> None:  # type: ignore[no-untyped-def]
    assert not is_release(axis.name) and axis.title and axis.missing
    assert ordered(["zlib", METHOD, axis.name]) == [axis.name, "zlib", METHOD]
    assert not is_release(METHOD) and not is_release("runner") and is_release("kserve")


def test_runs_from_two_oses_show_the_os_as_an_axis(tmp_path: Path) -> None:
    linux = _run(tmp_path, "ci-linux", "Linux", {"fork": "pass", "spawn": "pass"})
    mac = _run(tmp_path, "ci-macos", "Darwin", {"fork": "crash", "spawn": "pass"})
    merged = merge_files([linux, mac])
    assert "os" in merged.axis_names()
    filters = {f["key"]: f for f in page_data(merged)["filters"]}
    assert filters["os"]["varies"] and [o[0] for o in filters["os"]["options"]] == [
        "Darwin",
        "Linux",
    ]
    (grid,) = family_grids(merged)
    labels = " ".join(str(col["labels"]) for col in grid.columns)
    assert "os" in grid.corner[0] and "Darwin" in labels and "Linux" in labels
    md = render_markdown(merged)
    header = next(line for line in md.splitlines() if line.startswith("| os |"))
    assert "| fork | spawn |" in header
    # Only the OS with no run is named as such; the OS is never headlined as a release.
    assert "No run on Windows (OS)" in md and "macOS or Windows" not in md
    assert all(a.package != "os" for a in answers(merged))
    assert all(i.package != "os" for i in merged.insights)
    assert "os releases" not in md and "runner releases" not in md


def test_one_os_throughout_is_said_once_and_the_others_are_named(tmp_path: Path) -> None:
    merged = merge_files([_run(tmp_path, "ci-linux", "Linux", {"fork": "pass"})])
    md = render_markdown(merged)
    assert not any(line.startswith("| os |") for line in md.splitlines())
    assert "No run on macOS or Windows (OS)" in md


def test_the_gate_compares_machine_facts_by_what_makes_them_one_configuration(
    tmp_path: Path,
) -> None:
    assert gate_key({"python": "3.11.7", "os": "Linux"}) == gate_key(
        {"python": "3.11.9", "os": "Linux"}
    )
    assert gate_key({"os": "Linux"}) != gate_key({"os": "Darwin"})
    base = merge_files([_run(tmp_path, "ci-linux", "Linux", {"fork": "pass"})]).to_json()
    other = tmp_path / "other"
    mac = merge_files([_run(other, "ci-linux", "Darwin", {"fork": "crash"})]).to_json()
    found = gate(mac, base, partial=True)
    assert not found.worse, "a macOS cell is not the Linux cell got worse"
