"""pytest hooks and fixtures of pytest-mpcompat; nothing else lives here.

Every pytest run in an environment that has the plugin loads this module, used or not, so it
registers the options, hooks and fixtures and imports nothing more. The run's state, one
``MatrixSession`` (session.py), is made when the plugin is first used: at ``pytest_configure``
for ``--mp-matrix``, a report or an xdist controller, else by the first test that asks for one
of its fixtures.

PYTEST_DONT_REWRITE: loaded by every pytest run, this module has no assertions to rewrite.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from . import hookspecs
from .options import add_options, settings_given
from .stash import STATE

if TYPE_CHECKING:
    from ..model.catalog import Signature
    from ..model.cell import CellResult
    from .items import ScenarioFile
    from .session import MatrixSession

__all__ = ["mp_method", "mp_run", "mp_server"]  # the fixtures, found here by pytest


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "mp_methods(*methods): start methods a test using the mp_method fixture runs with",
    )
    if _used_from_the_start(config):
        _session(config)
    elif settings_given(config):
        from .settings import resolve_settings

        resolve_settings(config)  # a bad value stops the run now, with or without a matrix


def _used_from_the_start(config: pytest.Config) -> bool:
    """Whether this run needs the session before any test asks for it: matrix mode, a report
    to write, or an xdist controller that receives its workers' cells."""
    if config.getoption("--mp-matrix"):
        return True
    if config.getoption("--mp-report") or os.environ.get("MPCOMPAT_REPORT"):
        return True
    if config.getini("mp_report"):
        return True
    return bool(getattr(config.option, "numprocesses", None)) and not hasattr(config, "workerinput")


def _session(config: pytest.Config) -> MatrixSession:
    """The run's session, made and registered on first use (settings resolved then)."""
    session = config.stash.get(STATE, None)
    if session is None:
        from .session import MatrixSession
        from .settings import resolve_settings

        settings = resolve_settings(config)
        if (
            settings.matrix
            and config.args_source is not pytest.Config.ArgsSource.ARGS
            and settings.paths
        ):
            config.args = [str(p) for p in settings.paths]
        session = MatrixSession(config, settings)
        config.stash[STATE] = session
        config.pluginmanager.register(session, "mpcompat-session")
    return session


@pytest.hookimpl(trylast=True)
def pytest_mpcompat_signatures(config: pytest.Config) -> list[Signature]:
    from ..model.catalog import BUILTIN_SIGNATURES

    return list(BUILTIN_SIGNATURES)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> ScenarioFile | None:
    # Explicitly named files are claimed in pytest_pycollect_makemodule instead, because
    # pytest's python plugin would otherwise import them as test modules.
    if _is_scenario(file_path, parent.config) and not parent.session.isinitpath(file_path):
        from .items import ScenarioFile

        return ScenarioFile.from_parent(parent, path=file_path)
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makemodule(module_path: Path, parent: pytest.Collector) -> Any:
    if _is_scenario(module_path, parent.config):
        from .items import ScenarioFile

        return ScenarioFile.from_parent(parent, path=module_path)
    return None


def _is_scenario(path: Path, config: pytest.Config) -> bool:
    state = config.stash.get(STATE, None)
    return state is not None and state.is_scenario(path)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "mp_method" not in metafunc.fixturenames:
        return
    from .fixtures import method_params

    metafunc.parametrize("mp_method", method_params(metafunc, _session(metafunc.config)))


# Fixtures: defined here so that pytest finds them when it registers the plugin; their bodies
# (fixtures.py) load only when a test asks for them.


@pytest.fixture
def mp_method(request: pytest.FixtureRequest) -> str:
    """The start method this test runs with; tests that use it run once per start method
    (``--mp-methods``, or ``@pytest.mark.mp_methods("fork", "spawn")``)."""
    return str(request.param)


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
    from .fixtures import make_run

    return make_run(request, _session(request.config))


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
    from .fixtures import make_serve

    return make_serve(mp_run)
