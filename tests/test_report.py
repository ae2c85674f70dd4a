"""The JSON report: one per run, valid after Ctrl-C, complete across xdist workers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pytest_mpcompat.model.rawfile import read_report

from .conftest import as_from_a_terminal


def wait_for(predicate, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


def cells_in(path: Path) -> int:
    try:
        return len(json.loads(path.read_text())["cells"])
    except (OSError, ValueError):
        return 0


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_interrupt_leaves_a_valid_partial_report(pytester: pytest.Pytester, sig: int) -> None:
    pytester.makefile(".py", a_fast="print('a')\n", b_fast="print('b')\n")
    pytester.makefile(
        ".py",
        c_slow=(
            "# /// script\n# [tool.mpcompat]\n# cwd = 'invocation'\n# ///\n"
            "import time\nopen('started', 'w').close()\ntime.sleep(600)\n"
        ),
        d_never="print('d')\n",
    )
    report = pytester.path / "report.json"
    proc = subprocess.Popen(  # Ctrl-C is pressed in a terminal, however the tests were started
        as_from_a_terminal([sys.executable, "-m", "pytest", "--mp-matrix", ".", "--mp-methods",
                            "fork", "--mp-report", str(report), "-p", "no:cacheprovider"]),
        cwd=pytester.path, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        wait_for(lambda: cells_in(report) == 2 and (pytester.path / "started").exists())
        os.kill(proc.pid, sig)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, out.decode()
    data = read_report(report)
    assert [Path(c.scenario).stem for c in data["cells"]] == ["a_fast", "b_fast"]
    assert data["complete"] is False
    assert [u["nodeid"] for u in data["unfinished"]] == ["c_slow.py::fork", "d_never.py::fork"]
    # no_process_left (autouse) checks that the sleeping cell was killed.


def test_xdist_workers_feed_one_report(run_matrix) -> None:
    m = run_matrix("segfault", "lambda_target", "unguarded", args=("-n", "2"))
    assert len(m.cells) == 9
    assert m.report["complete"] is True and m.report["unfinished"] == []
    assert m["segfault", "spawn"]["signal"] == "SIGSEGV"


def test_killed_xdist_worker(pytester: pytest.Pytester) -> None:
    # The cell's parent is its supervisor, whose parent is the xdist worker running it: this
    # scenario kills its worker.
    pytester.makefile(
        ".py",
        killer="import os, signal\n"
        "with open(f'/proc/{os.getppid()}/stat') as fh:\n"
        "    worker = int(fh.read().rsplit(')', 1)[1].split()[1])\n"
        "os.kill(worker, signal.SIGKILL)\n",
    )
    for name in "abcd":
        pytester.makefile(".py", **{f"ok_{name}": "print('ok')\n"})
    result = pytester.runpytest_subprocess(
        "--mp-matrix", ".", "--mp-methods", "fork", "-n", "2", "--mp-report", "r.json",
        "-p", "no:cacheprovider",
    )  # fmt: skip
    data = read_report(pytester.path / "r.json")
    assert sorted(Path(c.scenario).stem for c in data["cells"]) == ["ok_a", "ok_b", "ok_c", "ok_d"]
    assert data["complete"] is False
    (unfinished,) = data["unfinished"]
    assert unfinished["nodeid"] == "killer.py::fork"
    assert "crashed" in unfinished["reason"]
    result.stdout.fnmatch_lines(["*1 cell(s) did not finish:*", "*killer.py::fork: *crashed*"])


def test_repeat_counts_every_verdict(pytester: pytest.Pytester) -> None:
    pytester.makefile(
        ".py",
        flaky="from pathlib import Path\n"
        "p = Path('count'); n = int(p.read_text()) if p.exists() else 0\n"
        "p.write_text(str(n + 1))\nraise SystemExit(1 if n == 1 else 0)\n",
    )
    pytester.runpytest_subprocess(
        "--mp-matrix", "flaky.py", "--mp-methods", "spawn", "--mp-repeat", "3",
        "--mp-report", "r.json", "-p", "no:cacheprovider",
    )  # fmt: skip
    (cell,) = read_report(pytester.path / "r.json")["cells"]
    assert (cell.verdict.value, cell.repeat, cell.verdict_counts) == (
        "crash",
        3,
        {"pass": 2, "crash": 1},
    )
