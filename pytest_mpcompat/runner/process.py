"""Run one cell: a scenario in a fresh interpreter under one default start method.

The cell's interpreter is ``sys.executable`` (never a shell or a version-manager shim), started
by the supervisor (``_child/supervisor.py``, kept between cells: ``supervision.py``) in a new
session with stdin closed; its
output goes to files, never to a pipe that could fill and block it. The supervisor adopts the
cell's orphans and kills what is left if this process dies; the runner bounds the cell with its
timeout, takes the stacks of a hung tree, stops a server as an orchestrator would, and leaves no
process of the cell alive: stragglers after the main process exits are reported as leaked.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import ChainMap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..model.catalog import LEAKED_PROCESSES, PORT_TAKEN, PROCESS_LIMIT, Signature, decide
from ..model.cell import CellResult, Verdict
from ..redact import Redactor
from . import supervision
from ._proctree import (
    ADOPTS_ORPHANS,
    birth,
    cmdline,
    descendants,
    group_alive,
    in_session,
    is_alive,
    kill_all,
    kill_group,
    living,
    send,
)
from ._stacks import collect_stacks
from .activity import Activity, mark
from .judge import Facts, judge_exit, match_files, redact_result, verdict
from .lockwaits import mark_locks
from .ports import free_ports, ports_needed
from .request import CellSpec, fill
from .serve import ServedProcess
from .stop import check_still_serving, serve_cell, serving_signatures

__all__ = ["TAIL_BYTES", "run_cell"]

#: How much of the end of stdout and of stderr a result keeps.
TAIL_BYTES = 8192

_KILL = int(getattr(signal, "SIGKILL", signal.SIGTERM))
_FOLLOW_S = 0.05  # how often a waiting cell's tree is read where orphans are not adopted
_PORT_TRIES = 3  # runs of a server cell whose ports other processes keep taking


def _ports(spec: CellSpec) -> list[int]:
    """Free ports for the ``{port}``, ``{port2}``, ... placeholders (at least one to serve)."""
    texts = [*spec.args, *spec.env.values(), *(spec.command or ())]
    return free_ports(max(ports_needed(texts), 1 if spec.serve is not None else 0))


class Terminated(KeyboardInterrupt):
    """SIGTERM reached the runner while a cell was running."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise Terminated("SIGTERM")


def run_cell(spec: CellSpec, catalog: Sequence[Signature]) -> CellResult:
    """Run the cell once and return its verdict; never raises for anything the scenario does.

    While the cell runs, SIGTERM to this process (a CI job being cancelled) is turned into an
    interrupt, so the cell's tree is killed and pytest still writes its report, as on Ctrl-C.
    """
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        result = _run_cell(spec, catalog)
        for _ in range(_PORT_TRIES - 1):
            if PORT_TAKEN not in result.signatures:
                break
            taken = result.reason
            result = _run_cell(spec, catalog)  # on fresh ports: the first were not the server's
            if PORT_TAKEN not in result.signatures:
                result.reason += f" (on fresh ports; the first try's were taken: {taken})"
        # Judged here, once: the outcome by the catalog whose patterns were matched.
        return decide(result, {sig.id: sig for sig in catalog})
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


class _Cell(ServedProcess):
    """A running cell as the supervisor reports it: its main process and its exit status."""

    def __init__(
        self, argv: list[str], spec: CellSpec, work: Path, ports: Sequence[int], code: str = ""
    ) -> None:
        self.methods_log = work / "methods"
        #: The cell's environment, built once: its main process's, and what redaction hides.
        self.env = spec.environment(ports, self.methods_log)
        if code:  # the script, compiled (the bootstrap takes it out of the environment)
            self.env["MPCOMPAT_MAIN_CODE"] = code
        # Every other interpreter of the tree is prepared from it (pytest-mpcompat.pth).
        self.env["MPCOMPAT_BOOTSTRAP"] = supervision.bootstrap()
        scratch = work / "cwd"
        if spec.cwd is None:
            scratch.mkdir()
        config = {"argv": argv, "cwd": str(spec.cwd or scratch), "env": self.env,
                  "out": str(work / "stdout"), "err": str(work / "stderr")}  # fmt: skip
        self.supervisor = supervision.acquire()
        self._status: int | None = None
        self.lost = False  # the supervisor ended before it reported the exit status
        try:
            self.leader = self.supervisor.start(config)
        except OSError:
            supervision.release(self.supervisor)
            raise
        self.started = time.monotonic()
        #: How busy the tree was in its last seconds, read while it runs.
        self.activity = Activity(self._tree, self.supervisor.pid)
        self.activity.start()
        # Without a subreaper an orphan leaves the supervisor's tree: every process once seen
        # in it is kept (with what tells it from a later process of the same pid).
        self._seen: dict[int, object] = {}

    def _event(self, event: dict[str, Any]) -> None:
        if "exit" in event:
            self._status = int(event["exit"])

    def wait(self, timeout: float) -> int | None:
        """The main process's exit status, waiting up to ``timeout`` seconds for it."""
        end = time.monotonic() + max(0.0, timeout)
        while self._status is None:
            if self.lost:
                break
            left = max(0.0, end - time.monotonic())
            if not ADOPTS_ORPHANS:
                self.pids()  # follow the tree while it lives: its orphans are not adopted
                left = min(left, _FOLLOW_S)
            event = self.supervisor.next(left)
            if event is None and not ADOPTS_ORPHANS and time.monotonic() < end:
                continue
            if event is None:
                self.lost = self.lost or self.supervisor.proc.poll() is not None
                break
            self._event(event)
        return self._status

    def exited(self) -> int | None:
        return self.wait(0)

    def _tree(self, exact: bool = False) -> list[int]:
        """The cell's processes below the supervisor, and, where it adopts no orphans, in the
        main process's session; changes nothing (the activity thread reads it too)."""
        found = descendants(self.supervisor.pid, exact)
        if not ADOPTS_ORPHANS:
            here = set(found)
            found += [p for p in in_session(self.leader) if p not in here]
        return found

    def pids(self, exact: bool = False) -> list[int]:
        if ADOPTS_ORPHANS:
            found = descendants(self.supervisor.pid, False)
            if exact and (found or self.supervisor.has_children()):
                found = descendants(self.supervisor.pid, True)  # a pass over every process
            return found
        found = self._tree(exact)  # with the orphans that stayed in the session
        for pid in found:
            if pid not in self._seen:
                self._seen[pid] = birth(pid)
        here = set(found)
        gone = living(p for p in self._seen if p not in here)  # seen, then left the tree
        orphans = [p for p in gone if self._seen[p] is True or birth(p) == self._seen[p]]
        return found + orphans

    def has_children(self) -> bool:
        """Whether anything of the cell is left: below the supervisor (exact where it adopts
        orphans), or, where it does not, in the main process's process group (wherever its
        orphans went)."""
        if self.supervisor.has_children():
            return True
        return not ADOPTS_ORPHANS and group_alive(self.leader)

    def busy_or_stuck(self) -> tuple[str, str] | None:
        return self.activity.verdict()

    def starts(self) -> int:
        return sum(_count_lines(self.methods_log).values())

    def kill(self) -> None:
        kill_group(self.leader)  # first, at once: what stayed in the group cannot fork away
        kill_all(self.pids)
        if self.exited() is None and is_alive(self.leader):  # no process table here
            send([self.leader], _KILL)
        self.wait(5.0)

    def close(self) -> None:
        """End the cell: the supervisor kills anything of it still below it, and is given
        back for the next cell (or retired, if it could not)."""
        self.activity.stop()
        self.supervisor.end(self._event)
        supervision.release(self.supervisor)


def _argv(spec: CellSpec, ports: Sequence[int], work: Path) -> tuple[list[str], str]:
    """The cell's command: its own, or the bootstrap running its script as ``__main__``; and
    the script compiled for the bootstrap ("" for none)."""
    values = spec.placeholders(ports)
    if spec.command:
        return [fill(a, values) for a in spec.command], ""
    args = [fill(a, values) for a in spec.args]
    code = supervision.main_code(spec.script, work, ChainMap(dict(spec.env), os.environ))
    return [sys.executable, supervision.bootstrap(), spec.method, str(spec.script), *args], code


def _run_cell(spec: CellSpec, catalog: Sequence[Signature]) -> CellResult:
    work = Path(tempfile.mkdtemp(prefix="mpcompat-cell-"))
    out_path, err_path = work / "stdout", work / "stderr"
    name = spec.name or str(spec.script)
    result = CellResult(scenario=name, method=spec.method, verdict=Verdict.ERROR)
    try:
        out_path.touch()
        err_path.touch()
        ports = _ports(spec)
        argv, code = _argv(spec, ports, work)
        facts = Facts()
        try:
            cell = _Cell(argv, spec, work, ports, code)
        except OSError as exc:
            result.reason = facts.harness = str(exc)
            result.verdict = verdict(facts)
            return result
        try:
            lost = not _watch(cell, spec, ports, result, err_path, facts)
            result.verdict = verdict(facts)  # judged here, once, from what was seen
            if lost:  # nothing of it can be read
                return result
        finally:
            cell.kill()
            cell.close()
        found = match_files([out_path, err_path], catalog)
        result.signatures = list(dict.fromkeys([*result.signatures, *found]))
        result.signatures += serving_signatures(result.serving)
        if result.leaked:
            result.signatures.append(LEAKED_PROCESSES)
        result.methods_used = _count_lines(cell.methods_log)
        redact_result(result, Redactor(cell.env), found, _tail(out_path), _tail(err_path))
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _watch(
    cell: _Cell, spec: CellSpec, ports: list[int], result: CellResult, err_path: Path, facts: Facts
) -> bool:
    """Wait for the cell (drive and stop it, for a server), its stragglers and its stacks,
    handing every fact the verdict needs to ``facts``. False: its supervisor was lost."""
    if spec.serve is not None:
        hung = serve_cell(cell, spec, spec.serve, ports, result, err_path, facts)
    elif spec.max_processes:
        hung = not _wait_limited(cell, spec, result)
    else:
        hung = cell.wait(spec.timeout) is None
    result.duration_s = round(time.monotonic() - cell.started, 4)
    if cell.lost and cell.exited() is None:
        _supervisor_lost(cell, result, facts)
        return False
    if hung:
        facts.timed_out = True
        result.reason = result.reason or f"still running after {spec.timeout:g} s"
        mark(result, cell.busy_or_stuck())  # before the stacks: they stop the tree
        result.stacks = result.stacks or collect_stacks(cell.pids, err_path, spec.stacks)
        cell.kill()
    else:
        serve = spec.serve
        probe = (lambda: check_still_serving(result, serve, ports)) if serve else None
        result.leaked = _stragglers(cell.pids, spec.exit_grace, probe, cell.has_children)
        if spec.serve is None:
            judge_exit(result, facts, cell.exited())
    if result.stacks:  # (a hang's, or a server's that outlived its stop signal)
        mark_locks(result, spec.script)
    if cell.supervisor.stops:
        _supervisor_stopped(result, cell.supervisor, facts)
    return True


def _supervisor_lost(cell: _Cell, result: CellResult, facts: Facts) -> None:
    """The supervisor died before the main process exited: the cell cannot be judged."""
    send([cell.leader], _KILL)  # its orphans went to init: what kept its group dies with it
    kill_group(cell.leader)
    result.reason = facts.harness = (
        f"the cell's supervisor died (status {cell.supervisor.proc.returncode}) before its "
        "main process exited: something outside the cell killed it"
    )


def _supervisor_stopped(
    result: CellResult, supervisor: supervision.Supervisor, facts: Facts
) -> None:
    """Something in the cell stopped its supervisor (SIGSTOP to the main process's parent):
    it was continued and is retired, and the verdict is no verdict on the program."""
    times = "once" if supervisor.stops == 1 else f"{supervisor.stops} times"
    seen = verdict(facts).value
    read = f"{seen}: {result.reason}" if result.reason else seen
    result.reason = facts.harness = (
        f"the cell stopped its supervisor (pid {supervisor.pid}, the parent of its main "
        f"process) {times}; it was continued and the cell ran on (it read {read}), but a "
        "cell that stops its parent is not measured as a platform runs it"
    )


def _wait_limited(cell: _Cell, spec: CellSpec, result: CellResult) -> bool:
    """Wait like ``cell.wait``, counting the cell's live processes every 20 ms; above
    ``max_processes`` the tree is killed (a fork bomb; RLIMIT_NPROC does not bind root)."""
    assert spec.max_processes is not None
    deadline = time.monotonic() + spec.timeout
    while time.monotonic() < deadline:
        if cell.wait(min(0.02, max(0.0, deadline - time.monotonic()))) is not None:
            return True
        alive = living(cell.pids())
        if len(alive) > spec.max_processes:
            result.reason = f"{len(alive)} processes, over the limit of {spec.max_processes}"
            result.signatures.append(PROCESS_LIMIT)
            cell.kill()
            return True
    return False


def _stragglers(
    find: Callable[[bool], list[int]],
    grace: float,
    before_kill: Callable[[], None] | None = None,
    below: Callable[[], bool] = lambda: False,
) -> list[str]:
    """Processes of the cell still alive once the grace period is over, then killed
    (``before_kill`` looks at what they still do first).

    ``find(exact)`` lists the cell's processes; "none left" is confirmed with an exact reading,
    since the quick one can miss a live process while its siblings exit, and then with
    ``below()`` (the supervisor: is anything still below it?), since both readings can miss a
    process that forks and exits faster than the table is read (a pid hopper). Any one of them
    answering yes is enough to look again."""
    deadline = time.monotonic() + grace
    seen: dict[int, str] = {}  # every live process of the cell read, as "pid command"
    while True:
        alive = living(find(False))
        if not alive:
            alive = living(find(True))
        for pid in alive:
            if pid not in seen:
                seen[pid] = f"{pid} {cmdline(pid)}".strip()
        hidden = not alive and below()
        if not alive and not hidden:
            return []
        if time.monotonic() >= deadline:
            leaked = [seen[pid] for pid in alive if pid in seen]
            if hidden:  # none could be read this time: say what was, and what hid it
                last = list(seen.values())[-3:]
                leaked = [f"{text} (gone; its pid kept changing)" for text in last] or [
                    "a process of the cell whose pid changed faster than the process table "
                    "could be read (it forks and exits)"
                ]
            if before_kill is not None:
                before_kill()
            kill_all(lambda: find(True))
            return leaked
        time.sleep(0.005)


def _count_lines(path: Path) -> dict[str, int]:
    try:
        lines = path.read_text().split()
    except OSError:
        return {}
    return {m: lines.count(m) for m in dict.fromkeys(lines)}


def _tail(path: Path) -> str:
    size = path.stat().st_size
    with open(path, "rb") as fh:
        if size > TAIL_BYTES:
            fh.seek(size - TAIL_BYTES)
        data = fh.read()
    if size > TAIL_BYTES:
        data = data[data.find(b"\n") + 1 :]  # start on a whole line
        return f"[... {size - len(data)} bytes before this ...]\n" + data.decode(errors="replace")
    return data.decode("utf-8", errors="replace")
