"""The bodies of the fixtures ``mp_method``, ``mp_run`` and ``mp_server`` (plugin.py).

``mp_run`` and ``mp_server`` run a cell through the same path as matrix items (skip reasons,
``--mp-repeat``, the script's own settings and expectations), and record it in the report.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ..constants import START_METHODS

if TYPE_CHECKING:
    from ..model.cell import CellResult
    from ..scenario.serve import ServeSpec
    from .session import MatrixSession

__all__ = ["make_run", "make_serve", "method_params"]


def _scenario(target: str | Path | Sequence[str]) -> tuple[Any, list[str] | None]:
    from ..scenario.load import Scenario, load_scenario

    if isinstance(target, (list, tuple)):
        command = [str(part) for part in target]
        return Scenario(path=Path(command[0])), command
    path = Path(target)  # type: ignore[arg-type]
    if not path.is_file():
        raise FileNotFoundError(f"no scenario script at {path}")
    return load_scenario(path), None


def method_params(metafunc: pytest.Metafunc, state: MatrixSession) -> list[Any]:
    """``mp_method``'s parameters: the test's ``mp_methods`` marker, else the run's methods;
    one this OS lacks is a skip."""
    from ..runner.cells import available_methods
    from .settings import parse_methods

    marker = metafunc.definition.get_closest_marker("mp_methods")
    if marker is not None:
        methods = parse_methods(
            ",".join(marker.args), f"@pytest.mark.mp_methods on {metafunc.definition.nodeid}"
        )
    else:
        methods = state.default_methods()
    have = available_methods()
    return [
        pytest.param(
            m, id=m, marks=() if m in have else pytest.mark.skip(reason=f"no {m} on this OS")
        )
        for m in methods
    ]


def make_run(request: pytest.FixtureRequest, state: MatrixSession) -> Callable[..., CellResult]:
    """``mp_run``: runs one cell for the requesting test and records it."""
    default = request.getfixturevalue("mp_method") if "mp_method" in request.fixturenames else None

    def run(
        script: str | Path | Sequence[str],
        method: str | None = None,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
        args: Sequence[str] | None = None,
        serve: ServeSpec | None = None,
    ) -> CellResult:
        from ..runner.cells import available_methods

        method = method or default or available_methods()[0]
        if method not in START_METHODS:
            raise ValueError(
                f"unknown start method {method!r}; choose from {', '.join(START_METHODS)}"
            )
        from ..runner.request import CellRequest

        scenario, command = _scenario(script)
        asked = CellRequest(timeout=timeout or None, env=env, args=args, serve=serve,
                            command=command)  # fmt: skip
        result = state.run(scenario, method, request.node, asked)
        from ..model.cell import Verdict

        if result.verdict is Verdict.SKIP:
            pytest.skip(result.reason)
        return result

    return run


def make_serve(mp_run: Callable[..., CellResult]) -> Callable[..., CellResult]:
    """``mp_server``: ``mp_run`` with a serve spec built from the script's table and keywords."""

    def serve(target: str | Path | Sequence[str], **kwargs: Any) -> CellResult:
        from ..scenario.serve import RequestSpec, ServeSpec

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
