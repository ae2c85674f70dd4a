"""pytest hooks: options, scenario collection, cell items, fixtures and the report.

Module-level hooks only set things up; the run's state lives in one ``MatrixSession`` object
that ``pytest_configure`` registers. Cell results travel from xdist workers to the controller as
an attribute of each test report (pytest keeps unknown report attributes when it serialises
reports), so a worker that is killed mid-run has already delivered every cell it finished.
"""

from __future__ import annotations

import datetime as _dt
import fnmatch
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from . import hookspecs
from ._stacks import find_pyspy
from .cells import available_methods, cell_spec, check_signature_ids, run_scenario_cell
from .jsonreport import build_report, write_atomic
from .model import START_METHODS, CellResult, Verdict
from .options import Settings, add_options, parse_methods, resolve_settings
from .requirements import detect_gpu, environment_axes
from .runner import run_cell
from .scenario import Scenario, ScenarioError, load_scenario
from .serving import RequestSpec, ServeSpec
from .signatures import BUILTIN_SIGNATURES, Signature
from .summary import write_matrix

__all__ = ["CellItem", "MatrixSession", "ScenarioFile"]

STATE = pytest.StashKey["MatrixSession"]()
_CELLS = pytest.StashKey[list[CellResult]]()
_NOT_SCENARIOS = {"conftest.py", "__init__.py", "setup.py", "noxfile.py"}


# -- start-up ------------------------------------------------------------------------------


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
    return list(BUILTIN_SIGNATURES)


# -- collection ----------------------------------------------------------------------------


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> ScenarioFile | None:
    # Explicitly named files are claimed in pytest_pycollect_makemodule instead, because
    # pytest's python plugin would otherwise import them as test modules.
    if _is_scenario(file_path, parent.config) and not parent.session.isinitpath(file_path):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makemodule(module_path: Path, parent: pytest.Collector) -> Any:
    if _is_scenario(module_path, parent.config):
        return ScenarioFile.from_parent(parent, path=module_path)
    return None


def _is_scenario(path: Path, config: pytest.Config) -> bool:
    """In matrix mode, a scenario is any .py file that is not a test module or a helper."""
    state = config.stash.get(STATE, None)
    if state is None or not state.settings.matrix or path.suffix != ".py":
        return False
    if path.name in _NOT_SCENARIOS or path.name.startswith("_"):
        return False
    patterns = config.getini("python_files")
    return not any(fnmatch.fnmatch(path.name, p) for p in patterns)


class ScenarioFile(pytest.File):
    """A scenario script: one item per start method. Never imported into this process."""

    def collect(self) -> Iterator[CellItem]:
        state = self.config.stash[STATE]
        try:
            scenario: Scenario | None = load_scenario(self.path)
            assert scenario is not None
            check_signature_ids(scenario, state.catalog)
            error = None
        except ScenarioError as exc:
            scenario, error = None, exc
        methods = (scenario.methods if scenario else None) or state.default_methods()
        for method in methods:
            yield CellItem.from_parent(self, name=method, scenario=scenario, error=error)


class CellFailure(Exception):
    """A cell that contradicts its scenario's expectation, or that the harness could not run."""


class CellItem(pytest.Item):
    def __init__(
        self, *, scenario: Scenario | None, error: ScenarioError | None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.scenario, self.error = scenario, error

    def runtest(self) -> None:
        state = self.config.stash[STATE]
        if self.error is not None or self.scenario is None:
            result = CellResult(
                scenario=state.display_path(self.path),
                method=self.name,
                verdict=Verdict.ERROR,
                reason=str(self.error),
            )
        else:
            result = run_scenario_cell(
                self.scenario,
                self.name,
                default_timeout=state.settings.timeout,
                repeat=state.settings.repeat,
                catalog=state.catalog,
                cwd=self.config.invocation_params.dir,
                stacks=state.settings.stacks,
                not_installable=state.settings.not_installable,
            )
            result.scenario = state.display_path(self.path)
        result.nodeid = self.nodeid
        state.label(result)
        self.stash.setdefault(_CELLS, []).append(result)
        if result.verdict is Verdict.SKIP:
            pytest.skip(result.reason)
        if not result.ok:
            raise CellFailure(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, CellFailure):
            return _describe_failure(excinfo.value.args[0])
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, self.name


def _describe_failure(cell: CellResult) -> str:
    if cell.verdict is Verdict.ERROR:
        return f"harness error: {cell.reason}"
    lines = [f"{cell.method}: {cell.mismatch}"]
    lines.append(
        f"verdict {cell.verdict.value}, exit code {cell.exit_code}"
        + (f" ({cell.signal})" if cell.signal else "")
        + (f", signatures: {', '.join(cell.signatures)}" if cell.signatures else "")
        + f", {cell.duration_s:.2f} s"
    )
    if cell.reason:
        lines.append(cell.reason)
    for leaked in cell.leaked:
        lines.append(f"leaked: {leaked}")
    for name, tail in (("stdout", cell.stdout_tail), ("stderr", cell.stderr_tail)):
        if tail.strip():
            lines.append(f"--- {name} (end) ---\n{tail.rstrip()}")
    for stack in cell.stacks:
        lines.append(f"--- stack of {stack.pid} ({stack.cmdline}) ---\n{stack.stack}")
    return "\n".join(lines)


# -- fixtures ------------------------------------------------------------------------------


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "mp_method" not in metafunc.fixturenames:
        return
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
    ``[tool.mpcompat]`` env, args, timeout and serve settings apply unless given here. ``script``
    may also be a command (a list of strings). Every result also goes into the JSON report.
    """
    state = request.config.stash[STATE]
    default = request.getfixturevalue("mp_method") if "mp_method" in request.fixturenames else None

    def run(
        script: str | Path | Sequence[str],
        method: str | None = None,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
        args: Sequence[str] | None = None,
        serve: ServeSpec | None = None,
    ) -> CellResult:
        method = method or default or available_methods()[0]
        if method not in START_METHODS:
            raise ValueError(
                f"unknown start method {method!r}; choose from {', '.join(START_METHODS)}"
            )
        if method not in available_methods():
            pytest.skip(f"no {method} on this OS")
        command = None
        if isinstance(script, (list, tuple)):
            command = [str(part) for part in script]
            scenario = Scenario(path=Path(command[0]))
        else:
            path = Path(script)  # type: ignore[arg-type]
            if not path.is_file():
                raise FileNotFoundError(f"mp_run: no scenario script at {path}")
            scenario = load_scenario(path)
        spec = cell_spec(
            scenario,
            method,
            default_timeout=state.settings.timeout,
            cwd=request.config.invocation_params.dir,
            stacks=state.settings.stacks,
            timeout=timeout or None,
            env={**scenario.env, **(env or {})},
            args=tuple(args) if args is not None else None,
            serve=serve,
            command=command,
        )
        result = run_cell(spec, list(state.catalog.values()))
        result.scenario = " ".join(command) if command else state.display_path(scenario.path)
        result.env = environment_axes(scenario.dependencies)
        result.nodeid = request.node.nodeid
        state.label(result)
        request.node.stash.setdefault(_CELLS, []).append(result)
        return result

    return run


@pytest.fixture
def mp_server(mp_run: Callable[..., CellResult]) -> Callable[..., CellResult]:
    """Start a server (a script, or a command as a list) under a start method with N workers on
    a free port of 127.0.0.1, wait for it, send real HTTP requests, stop it with SIGTERM then
    SIGINT, and return the ``CellResult``; its ``serving`` dict holds what was seen.

    ``mp_server(target, workers=2, ready="/", requests=[{"path": "/"}], ready_timeout=60,
    request_timeout=10, stop_timeout=10, method=..., timeout=..., env=..., args=...)``. Use
    ``{port}`` and ``{workers}`` in ``args``, ``env`` or the command.
    """

    def serve(
        target: str | Path | Sequence[str],
        *,
        workers: int = 2,
        ready: str = "/",
        requests: Sequence[RequestSpec | Mapping[str, Any]] = ({"path": "/"},),
        ready_timeout: float = 60.0,
        request_timeout: float = 10.0,
        stop_timeout: float = 10.0,
        **run_kwargs: Any,
    ) -> CellResult:
        spec = ServeSpec(
            workers=workers,
            ready=ready,
            ready_timeout=ready_timeout,
            request_timeout=request_timeout,
            stop_timeout=stop_timeout,
            requests=tuple(r if isinstance(r, RequestSpec) else RequestSpec(**r) for r in requests),
        )
        return mp_run(target, serve=spec, **run_kwargs)

    return serve


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    cells = item.stash.get(_CELLS, None)
    if cells:
        report.mpcompat_cells = [c.to_dict() for c in cells]
        cells.clear()
    return report


# -- the run's state -----------------------------------------------------------------------


class MatrixSession:
    """Collects every cell (from this process or from xdist workers) and keeps the report."""

    def __init__(self, config: pytest.Config, settings: Settings) -> None:
        self.config, self.settings = config, settings
        self.is_worker = hasattr(config, "workerinput")
        self.cells: list[CellResult] = []
        self.expected_ids: dict[str, None] = {}  # cell items collected, in order
        self.unfinished_reasons: dict[str, str] = {}
        self.started = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
        self._catalog: dict[str, Signature] | None = None
        if config.pluginmanager.hasplugin("xdist"):
            config.pluginmanager.register(_XdistHooks(self), "mpcompat-xdist")

    @property
    def catalog(self) -> dict[str, Signature]:
        if self._catalog is None:
            catalog: dict[str, Signature] = {}
            for batch in self.config.hook.pytest_mpcompat_signatures(config=self.config):
                for sig in batch:
                    catalog.setdefault(sig.id, sig)
            self._catalog = catalog
        return self._catalog

    def label(self, result: CellResult) -> None:
        if self.settings.labels:
            result.env.setdefault("labels", {}).update(self.settings.labels)

    def default_methods(self) -> tuple[str, ...]:
        return self.settings.methods or available_methods()

    def display_path(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.config.rootpath).as_posix()
        except ValueError:
            return str(path)

    # Hooks --------------------------------------------------------------------------------

    def pytest_report_header(self, config: pytest.Config) -> list[str] | None:
        if not self.settings.matrix:
            return None
        stacks = self.settings.stacks
        if stacks == "auto":
            stacks = "py-spy" if find_pyspy() else "faulthandler"
        return [
            f"mpcompat: methods {', '.join(self.default_methods())}; default timeout "
            f"{self.settings.timeout:g} s; repeat {self.settings.repeat}; stacks via {stacks}; "
            f"GPU: {detect_gpu() or 'none'}; report: {self.settings.report or 'none'}"
        ]

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        for item in session.items:
            if isinstance(item, CellItem):
                self.expected_ids[item.nodeid] = None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.is_worker:
            return
        cells = getattr(report, "mpcompat_cells", None)
        if cells:
            self.cells.extend(CellResult.from_dict(c) for c in cells)
            self._write(complete=False)
        elif report.when not in ("setup", "call", "teardown") and report.failed:
            # xdist reports an item whose worker died as a failure outside the three phases.
            self.unfinished_reasons[report.nodeid] = str(report.longrepr).splitlines()[0]
            self._write(complete=False)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if not self.is_worker:
            self._write(complete=not self.unfinished(), exitstatus=int(exitstatus))

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        write_matrix(terminalreporter, self.cells, self.unfinished(), self.catalog)
        if self.settings.report is not None and (self.cells or self.unfinished()):
            terminalreporter.write_line(f"mpcompat report: {self.settings.report}")

    # Report -------------------------------------------------------------------------------

    def unfinished(self) -> dict[str, str]:
        done = {c.nodeid for c in self.cells}
        missing = {
            n: "did not run (the run stopped first)" for n in self.expected_ids if n not in done
        }
        missing.update({n: r for n, r in self.unfinished_reasons.items() if n not in done})
        return missing

    def _write(self, *, complete: bool, exitstatus: int | None = None) -> None:
        if self.settings.report is None:
            return
        data = build_report(
            self.cells,
            self.unfinished(),
            started=self.started,
            complete=complete,
            exitstatus=exitstatus,
        )
        write_atomic(self.settings.report, data)


class _XdistHooks:
    """Registered only when pytest-xdist is installed (its hooks do not exist otherwise)."""

    def __init__(self, session: MatrixSession) -> None:
        self.session = session

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: Sequence[str]) -> None:
        for nodeid in ids:
            path, _, name = nodeid.rpartition("::")
            if name in START_METHODS and _is_scenario(Path(path), self.session.config):
                self.session.expected_ids[nodeid] = None
