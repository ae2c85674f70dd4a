"""What one cell is asked to be, typed: a test's request, and the cell it resolves to.

``CellRequest`` is what ``mp_run`` and ``mp_server`` add to a scenario's own settings;
``cell_spec`` resolves scenario, settings and request into the one ``CellSpec`` a run uses, with
the cell's name (its identity in every report) and, once its ports are known, its environment
(``CellSpec.environment``): both are decided here and nowhere else.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..constants import DEFAULT_EXIT_GRACE_S
from ..scenario.load import Scenario
from ..scenario.serve import ServeSpec

__all__ = ["CellRequest", "CellSpec", "cell_spec"]

#: pytest's per-test variables, and the settings of the run around the cell (the gate's), which
#: are not the program's.
_DROPPED_ENV = ("PYTEST_CURRENT_TEST", "MPCOMPAT_BASELINE", "MPCOMPAT_TRIES",
                "MPCOMPAT_ALLOW_UNMEASURED")  # fmt: skip
_DROPPED_ENV_PREFIXES = ("PYTEST_XDIST_",)


@dataclass(frozen=True)
class CellRequest:
    """What a test asks of a cell beyond its scenario's settings; ``None`` keeps the scenario's."""

    timeout: float | None = None
    #: Variables set over the scenario's own ``env``.
    env: Mapping[str, str] | None = None
    args: Sequence[str] | None = None
    serve: ServeSpec | None = None
    #: Run this argv instead of the script (the scenario is then only its settings).
    command: Sequence[str] | None = None


@dataclass(frozen=True)
class CellSpec:
    """One cell, resolved: what the runner starts, and how it bounds and judges it."""

    script: Path
    method: str
    timeout: float
    #: The cell's name in results and reports: the scenario's path as the run shows it, or the
    #: command it ran.
    name: str = ""
    env: Mapping[str, str] = field(default_factory=dict)  # placeholders in values are filled
    args: Sequence[str] = ()
    cwd: Path | None = None  # None: an empty folder of the cell's own, removed after it
    stacks: str = "auto"  # how to take the stacks of a hang (see _stacks.collect_stacks)
    serve: ServeSpec | None = None  # drive the script as a server (see serve.py)
    #: Run this argv instead of the script (placeholders filled). The start method is then only
    #: exported in MPCOMPAT_START_METHOD, for programs that read it into a library's setting.
    command: Sequence[str] | None = None
    memory_limit_mb: int | None = None  # RLIMIT_AS, set by the bootstrap before the script runs
    max_processes: int | None = None  # the runner kills the cell when it has more live processes
    exit_grace: float = DEFAULT_EXIT_GRACE_S  # see DEFAULT_EXIT_GRACE_S

    def placeholders(self, ports: Sequence[int]) -> dict[str, str]:
        """``{method}``, ``{port}``, ``{port2}``, ... and ``{workers}`` with their values."""
        values = {"{method}": self.method}
        for i, port in enumerate(ports, start=1):
            values["{port}" if i == 1 else f"{{port{i}}}"] = str(port)
        if self.serve is not None:
            values["{workers}"] = str(self.serve.workers)
        return values

    def environment(
        self, ports: Sequence[int] = (), methods_log: Path | None = None
    ) -> dict[str, str]:
        """The cell's environment: ours without pytest's per-test variables, plus the scenario's
        (placeholders filled) and the ``MPCOMPAT_*`` variables that tell it its settings."""
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in _DROPPED_ENV and not k.startswith(_DROPPED_ENV_PREFIXES)
        }
        values = self.placeholders(ports)
        env.update({k: fill(v, values) for k, v in self.env.items()})
        env["MPCOMPAT_START_METHOD"] = self.method
        for i, port in enumerate(ports, start=1):
            env["MPCOMPAT_PORT" if i == 1 else f"MPCOMPAT_PORT{i}"] = str(port)
        if self.serve is not None:
            env["MPCOMPAT_WORKERS"] = str(self.serve.workers)
        if self.memory_limit_mb:
            env["MPCOMPAT_MEMORY_LIMIT_MB"] = str(self.memory_limit_mb)
        env.setdefault("PYTHONFAULTHANDLER", "1")
        if methods_log is not None:
            env["MPCOMPAT_METHODS_LOG"] = str(methods_log)
        return env


def fill(text: str, values: Mapping[str, str]) -> str:
    for key, value in values.items():
        text = text.replace(key, value)
    return text


def cell_spec(
    scenario: Scenario,
    method: str,
    *,
    name: str,
    default_timeout: float,
    cwd: Path,
    stacks: str = "auto",
    exit_grace: float = DEFAULT_EXIT_GRACE_S,
    request: CellRequest | None = None,
) -> CellSpec:
    """The cell a scenario's metadata describes, with what ``request`` asks instead. ``cwd`` is
    the folder pytest was started from, used where the scenario asks for it."""
    request = request or CellRequest()
    where = {"invocation": cwd, "script": scenario.path.resolve().parent}.get(scenario.cwd)
    # The script as `python SCRIPT` would name it from that folder (absolute from a scratch one).
    script = {"invocation": scenario.path, "script": Path(scenario.path.name)}.get(
        scenario.cwd, (cwd / scenario.path).resolve()
    )
    return CellSpec(
        script=script,
        method=method,
        name=name,
        timeout=request.timeout or scenario.timeout or default_timeout,
        env={**scenario.env, **(request.env or {})},
        args=tuple(request.args) if request.args is not None else scenario.args,
        cwd=where,  # None: a scratch folder of the cell's own
        stacks=stacks,
        serve=request.serve or scenario.serve,
        command=tuple(request.command) if request.command else None,
        memory_limit_mb=scenario.memory_limit_mb,
        max_processes=scenario.max_processes,
        exit_grace=scenario.exit_grace if scenario.exit_grace is not None else exit_grace,
    )
