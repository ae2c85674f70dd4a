"""One supervisor serves every cell of a process, and no cell's processes reach the next."""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path

import pytest

from pytest_mpcompat.model.catalog import BUILTIN_SIGNATURES
from pytest_mpcompat.runner import supervision
from pytest_mpcompat.runner._proctree import ADOPTS_ORPHANS
from pytest_mpcompat.runner.process import run_cell
from pytest_mpcompat.runner.request import CellSpec

SCRIPTS = Path(__file__).parent / "scripts"
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX process groups")


def _script(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.skipif(
    not ADOPTS_ORPHANS,
    reason="without a subreaper a grandchild that makes its own session before it is seen can "
    "escape the leak check (a known limit of the psutil and ps paths)",
)
def test_cells_share_one_supervisor_and_a_leak_ends_with_its_cell(tmp_path: Path) -> None:
    pid_file = tmp_path / "supervisor-pid"
    probe = _script(
        tmp_path,
        "probe.py",
        f"import os\nopen({str(pid_file)!r}, 'a').write(f'{{os.getppid()}} ')\n",
    )
    first = run_cell(CellSpec(probe, "spawn", 30), BUILTIN_SIGNATURES)
    leaky = run_cell(
        CellSpec(SCRIPTS / "detached_grandchild.py", "spawn", 30, exit_grace=0.3),
        BUILTIN_SIGNATURES,
    )
    after = run_cell(CellSpec(probe, "spawn", 30, exit_grace=0.3), BUILTIN_SIGNATURES)
    assert first.verdict.value == after.verdict.value == "pass", (first.reason, after.reason)
    parents = pid_file.read_text().split()
    assert len(parents) == 2 and parents[0] == parents[1], parents  # the same supervisor
    assert leaky.leaked, leaky.reason  # the grandchild, reported and killed with its cell
    assert after.leaked == [] and "leaked-processes" not in after.signatures


def test_a_cell_on_another_thread_gets_a_supervisor_of_its_own(tmp_path: Path) -> None:
    slow = _script(tmp_path, "slow.py", "import os, time\ntime.sleep(0.5)\nprint(os.getppid())\n")
    results = {}

    def run(name: str) -> None:
        results[name] = run_cell(CellSpec(slow, "spawn", 30), BUILTIN_SIGNATURES)

    threads = [threading.Thread(target=run, args=(n,)) for n in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    parents = {r.stdout_tail.strip() for r in results.values()}
    assert [r.verdict.value for r in results.values()] == ["pass", "pass"]
    assert len(parents) == 2, parents  # run at once, each under its own supervisor


def test_a_dead_supervisor_fails_its_cell_and_the_next_cell_gets_a_new_one(
    tmp_path: Path,
) -> None:
    sleeper = _script(tmp_path, "sleeper.py", "import time\ntime.sleep(30)\n")
    quick = _script(tmp_path, "quick.py", "import os\nprint(os.getppid())\n")
    run_cell(CellSpec(quick, "spawn", 30), BUILTIN_SIGNATURES)  # the shared one, started
    shared = supervision.acquire()
    supervision.release(shared)
    timer = threading.Timer(1.0, os.kill, (shared.pid, signal.SIGKILL))
    timer.start()
    try:
        killed = run_cell(CellSpec(sleeper, "spawn", 30), BUILTIN_SIGNATURES)
    finally:
        timer.cancel()
    assert killed.verdict.value == "error", killed.reason
    assert "supervisor died" in killed.reason
    again = run_cell(CellSpec(quick, "spawn", 30), BUILTIN_SIGNATURES)
    assert again.verdict.value == "pass", again.reason
    assert again.stdout_tail.strip() != str(shared.pid)


def test_the_script_runs_as_main_with_nothing_of_the_harness_in_its_view(tmp_path: Path) -> None:
    """The script arrives compiled, but its argv, environment and traceback are its own."""
    script = _script(
        tmp_path,
        "view.py",
        "import os, sys\n"
        "print(repr(sys.argv), repr(os.environ.get('MPCOMPAT_MAIN_CODE')), __name__)\n"
        "raise SystemExit(__file__)\n",
    )
    cell = run_cell(CellSpec(script, "spawn", 30, args=("one",)), BUILTIN_SIGNATURES)
    assert cell.stdout_tail.strip() == f"[{str(script)!r}, 'one'] None __main__"
    assert cell.stderr_tail.strip() == str(script)  # the code object's file is the script


def test_a_syntax_error_is_reported_as_the_interpreter_reports_it(tmp_path: Path) -> None:
    script = _script(tmp_path, "broken.py", "print('never'\n")
    cell = run_cell(CellSpec(script, "spawn", 30), BUILTIN_SIGNATURES)
    assert cell.exit_code == 1 and "syntax-error" in cell.signatures, cell.stderr_tail
    assert f'File "{script}", line 1' in cell.stderr_tail
