"""Two writers of one report path or one output folder lose nothing and mix nothing: a second
run given a report another run is writing stops before it runs anything (the first keeps all
its cells); a merge waits for another into the same folder and publishes its files whole."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pytest_mpcompat.model.lockfile import Lock, lock_path

from .test_hostile_input import good_raw

#: Each cell waits for the file ``go`` (made by the test), then says so.
WAITS = "import os, time\nwhile not os.path.exists('go'):\n    time.sleep(0.02)\nprint('went')\n"


def pytest_run(folder: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--mp-matrix", ".",
         "--mp-methods", "fork,spawn", "--mp-timeout", "600", "--mp-report", "r.json", *args],
        cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip


def wait_for(what: str, ready: object, proc: subprocess.Popen[str]) -> None:
    """Until ``ready()``; fails (never hangs) if ``proc`` ends first or after ten minutes."""
    deadline = time.monotonic() + 600
    while not ready():  # type: ignore[operator]
        assert proc.poll() is None, f"ended before {what}: {proc.communicate()[0]}"
        assert time.monotonic() < deadline, f"never {what}"
        time.sleep(0.02)


def test_a_second_run_on_the_same_report_stops_and_the_first_keeps_every_cell(
    tmp_path: Path,
) -> None:
    for name in ("a_waits", "b_waits", "c_waits"):
        (tmp_path / f"{name}.py").write_text(WAITS)
    first = pytest_run(tmp_path)
    try:
        wait_for("the report was locked", lock_path(tmp_path / "r.json").exists, first)
        second = pytest_run(tmp_path, "--mp-label", "run=second")
        out = second.communicate(timeout=600)[0]
        assert second.returncode == pytest.ExitCode.USAGE_ERROR, out
        assert f"another run (pid {first.pid})" in out and "r.json" in out, out
        (tmp_path / "go").touch()
        out = first.communicate(timeout=600)[0]
    finally:
        first.kill()
        first.wait()
    assert first.returncode == 0, out
    cells = json.loads((tmp_path / "r.json").read_text())["cells"]
    assert len(cells) == 6 and all("went" in c["stdout_tail"] for c in cells)
    assert not lock_path(tmp_path / "r.json").exists()  # given back at the end of the run


def test_a_run_killed_outright_leaves_its_report_free_and_valid(tmp_path: Path) -> None:
    (tmp_path / "a_quick.py").write_text("print('quick')\n")
    (tmp_path / "b_waits.py").write_text(WAITS)
    first = pytest_run(tmp_path)
    try:
        report = tmp_path / "r.json"
        # the quick cells are in the report before the run is killed
        wait_for("the quick cells were written", lambda: report.exists() and
                 len(json.loads(report.read_text())["cells"]) == 2, first)  # fmt: skip
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate()
    partial = json.loads(report.read_text())
    assert len(partial["cells"]) == 2 and partial["complete"] is False
    (tmp_path / "go").touch()
    again = pytest_run(tmp_path)  # the dead run's lock died with it
    out = again.communicate(timeout=600)[0]
    assert again.returncode == 0, out


def test_a_merge_waits_for_another_into_the_same_folder_and_publishes_whole(
    tmp_path: Path,
) -> None:
    out = tmp_path / "reports"
    (out / "raw").mkdir(parents=True)
    kept = out / "raw" / "mine.json"
    kept.write_text("{}")  # what merge does not write is left alone
    held = Lock(out)
    assert held.acquire(wait=False)
    merge = subprocess.Popen(
        [sys.executable, "-m", "pytest_mpcompat.publish", "merge", str(good_raw(tmp_path)),
         "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        built = lambda: any((b / "index.html").exists() for b in tmp_path.glob(".reports.build-*"))  # noqa: E731
        wait_for("the site was built", built, merge)
        assert merge.poll() is None and not (out / "matrix.json").exists()  # waiting for the lock
    finally:
        held.release()
    output = merge.communicate(timeout=600)[0]
    assert merge.returncode == 0, output
    assert {p.name for p in out.iterdir()} == {"raw", "matrix.json", "COMPATIBILITY.md",
                                                "index.html", "details"}  # fmt: skip
    assert kept.read_text() == "{}" and not list(tmp_path.glob(".reports.build-*"))
    cells = json.loads((out / "matrix.json").read_text())["cells"]
    assert len(cells) == 2 and list((out / "details").glob("*.js"))
