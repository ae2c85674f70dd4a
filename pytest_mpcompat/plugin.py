"""pytest hooks of pytest-mpcompat; nothing else lives here.

This module is loaded by every pytest run that has the plugin installed, so it imports only what
start-up needs: collection, running cells, fixtures and reports load when they are used. The
run's state lives in one ``MatrixSession`` (session.py) that ``pytest_configure`` registers.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from . import hookspecs
from .fixtures import mp_method, mp_run, mp_server
from .options import add_options, parse_methods, resolve_settings
from .session import CELLS, STATE, MatrixSession

if TYPE_CHECKING:
    from .items import ScenarioFile
    from .signatures import Signature

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


@pytest.hookimpl(trylast=True)
def pytest_mpcompat_signatures(config: pytest.Config) -> list[Signature]:
    from .signatures import BUILTIN_SIGNATURES

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
    from .cells import available_methods

    marker = metafunc.definition.get_closest_marker("mp_methods")
    state = metafunc.config.stash[STATE]
    if marker is not None:
        methods = parse_methods(
            ",".join(marker.args), f"@pytest.mark.mp_methods on {metafunc.definition.nodeid}"
        )
    else:
        methods = state.default_methods()
    have = available_methods()
    params = [
        pytest.param(
            m, id=m, marks=() if m in have else pytest.mark.skip(reason=f"no {m} on this OS")
        )
        for m in methods
    ]
    metafunc.parametrize("mp_method", params)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    cells = item.stash.get(CELLS, None)
    if cells:
        report.mpcompat_cells = [c.to_dict() for c in cells]
        cells.clear()
    return report
