"""Shared helpers: run the plugin in a real pytest subprocess and check nothing is left behind."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SCRIPTS = Path(__file__).parent / "scripts"
TOKEN_VAR = "MPCOMPAT_TEST_TOKEN"


def processes_with_token(token: str) -> dict[int, str]:
    """Every live process whose environment carries ``token`` (they all inherit it)."""
    needle = f"{TOKEN_VAR}={token}".encode()
    found = {}
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as fh:
                if needle not in fh.read().split(b"\0"):
                    continue
            with open(f"/proc/{name}/stat", "rb") as fh:
                if fh.read().rsplit(b")", 1)[1].split()[0] == b"Z":
                    continue
            with open(f"/proc/{name}/cmdline", "rb") as fh:
                found[int(name)] = fh.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
    return found


@pytest.fixture(autouse=True)
def no_process_left(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail a test that leaves any process behind, wherever it was re-parented."""
    # Leaked processes are found the same way after 0.3 s as after the default 2 s.
    monkeypatch.setenv("MPCOMPAT_EXIT_GRACE", "0.3")
    if not sys.platform.startswith("linux"):
        yield
        return
    token = uuid.uuid4().hex
    monkeypatch.setenv(TOKEN_VAR, token)
    yield
    left = processes_with_token(token)
    if left:
        time.sleep(0.5)  # a process that is exiting right now is not a leak
        left = processes_with_token(token)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    assert not left, f"processes left behind: {left}"


class Matrix:
    """Result of one ``pytest --mp-matrix`` run in a pytester directory."""

    def __init__(self, result: pytest.RunResult, report: dict[str, Any]) -> None:
        self.result, self.report = result, report
        self.cells = {(Path(c["scenario"]).stem, c["method"]): c for c in report["cells"]}

    def __getitem__(self, key: tuple[str, str]) -> dict[str, Any]:
        return self.cells[key]


def copy_scripts(pytester: pytest.Pytester, *names: str) -> None:
    for name in names:
        shutil.copy(SCRIPTS / f"{name}.py", pytester.path / f"{name}.py")


@pytest.fixture
def run_matrix(pytester: pytest.Pytester):  # type: ignore[no-untyped-def]
    def run(*names: str, args: tuple[str, ...] = (), timeout: float = 120) -> Matrix:
        copy_scripts(pytester, *names)
        result = pytester.runpytest_subprocess(
            "--mp-matrix",
            ".",
            "--mp-report",
            "report.json",
            "-p",
            "no:cacheprovider",
            *args,
            timeout=timeout,
        )
        report = json.loads((pytester.path / "report.json").read_text())
        return Matrix(result, report)

    return run


#: Starts argv as a terminal would, whatever launched the tests: default signal dispositions and
#: an empty mask (a background job of a script has SIGINT ignored, and that survives exec).
_AS_FROM_A_TERMINAL = (
    "import os, signal, sys\n"
    "for s in signal.valid_signals():\n"
    "    try:\n"
    "        signal.signal(s, signal.SIG_DFL)\n"
    "    except (OSError, ValueError):\n"
    "        pass\n"
    "signal.pthread_sigmask(signal.SIG_SETMASK, [])\n"
    "os.execv(sys.argv[1], sys.argv[1:])\n"
)


def as_from_a_terminal(argv: list[str]) -> list[str]:
    return [sys.executable, "-c", _AS_FROM_A_TERMINAL, *argv]


@pytest.fixture
def launcher_ignores_sigint() -> Iterator[None]:
    """What a background job of a non-interactive shell (``nox -s tests &``, nohup) hands its
    children: SIGINT ignored and, as some supervisors do, SIGUSR1 blocked."""
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1])
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)
        signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
