"""Fixtures: ``mp_method``, ``mp_run`` and ``mp_server``.

``mp_run`` and ``mp_server`` run a cell through the same path as matrix items (skip reasons,
``--mp-repeat``, the script's own settings and expectations), and record it in the report.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from .model import START_METHODS, CellResult, Verdict
from .session import STATE

__all__ = ["mp_method", "mp_run", "mp_server"]


@pytest.fixture
def mp_method(request: pytest.FixtureRequest) -> str:
    """The start method this test runs with; tests that use it run once per start method
    (``--mp-methods``, or ``@pytest.mark.mp_methods("fork", "spawn")``)."""
    return str(request.param)


def _scenario(target: str | Path | Sequence[str]) -> tuple[Any, list[str] | None]:
    from .scenario import Scenario, load_scenario

    if isinstance(target, (list, tuple)):
        command = [str(part) for part in target]
        return Scenario(path=Path(command[0])), command
    path = Path(target)  # type: ignore[arg-type]
    if not path.is_file():
        raise FileNotFoundError(f"no scenario script at {path}")
    return load_scenario(path), None


@pytest.fixture
def mp_run(request: pytest.FixtureRequest) -> Callable[..., CellResult]:
    """Run a script as a cell and return its ``CellResult``.

    ``mp_run(script, method=None, timeout=None, env=None, args=None, serve=None)``: the method
    defaults to the test's ``mp_method`` parameter, else this OS's default. The script's own
    ``[tool.mpcompat]`` settings (env, args, timeout, serve, requires, expect) apply unless
    given here; a cell whose requirements are unmet skips the test. ``script`` may also be a
    command (a list of strings). Every result also goes into the JSON report; ``cell.ok`` is
    False when it contradicts the script's expectation (``cell.mismatch`` says how).
    """
    state = request.config.stash[STATE]
    default = request.getfixturevalue("mp_method") if "mp_method" in request.fixturenames else None

    def run(
        script: str | Path | Sequence[str],
        method: str | None = None,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
        args: Sequence[str] | None = None,
        serve: Any = None,
    ) -> CellResult:
        from .cells import available_methods

        method = method or default or available_methods()[0]
        if method not in START_METHODS:
            raise ValueError(
                f"unknown start method {method!r}; choose from {', '.join(START_METHODS)}"
            )
        scenario, command = _scenario(script)
        result = state.run(
            scenario,
            method,
            request.node,
            timeout=timeout or None,
            env={**scenario.env, **(env or {})},
            args=tuple(args) if args is not None else None,
            serve=serve,
            command=command,
        )
        if result.verdict is Verdict.SKIP:
            pytest.skip(result.reason)
        return result

    return run


@pytest.fixture
def mp_server(mp_run: Callable[..., CellResult]) -> Callable[..., CellResult]:
    """Start a server (a script, or a command as a list) under a start method with N workers on
    free ports of 127.0.0.1, wait for it, send real HTTP requests, stop it as an orchestrator
    would (SIGTERM, a grace period, SIGKILL), and return the ``CellResult``; its ``serving``
    record holds what was seen.

    ``mp_server(target, workers=, ready=, requests=[{"path": "/"}], ready_timeout=,
    request_timeout=, stop_signals=["SIGTERM"], stop_timeout=, crash_loop=, method=...,
    timeout=..., env=..., args=...)``. Settings not given come from the script's own
    ``[tool.mpcompat.serve]`` table, else the defaults. Use ``{port}``, ``{port2}``, ... and
    ``{workers}`` in ``args``, ``env`` or the command.
    """

    def serve(target: str | Path | Sequence[str], **kwargs: Any) -> CellResult:
        from .serving import RequestSpec, ServeSpec

        names = {f.name for f in dataclasses.fields(ServeSpec)}
        changes = {k: kwargs.pop(k) for k in list(kwargs) if k in names}
        changes = {k: v for k, v in changes.items() if v is not None}
        if "requests" in changes:
            changes["requests"] = tuple(
                r if isinstance(r, RequestSpec) else RequestSpec(**r) for r in changes["requests"]
            )
        if "stop_signals" in changes:
            changes["stop_signals"] = tuple(changes["stop_signals"])
        scenario, _ = _scenario(target)
        spec = dataclasses.replace(scenario.serve or ServeSpec(), **changes)
        return mp_run(target, serve=spec, **kwargs)

    return serve
