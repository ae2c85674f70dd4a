"""The run's state: every cell (from this process or from xdist workers), and the JSON report.

The plugin registers the one ``MatrixSession`` of a run when it is first used: at
``pytest_configure`` for ``--mp-matrix``, a report or an xdist controller, else when a test
first asks for one of its fixtures (an unused plugin loads none of this). ``run`` is the one
path by which a cell runs and is recorded, for matrix items and for the ``mp_run`` and
``mp_server`` fixtures alike. Cell results travel from xdist workers to the controller as an
attribute of each test report (pytest keeps unknown report attributes when it serialises
reports), so a worker that is killed mid-run has already delivered every cell it finished.
"""

from __future__ import annotations

import fnmatch
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ..model.catalog import Signature
    from ..model.cell import CellResult
    from ..model.lockfile import Lock
    from ..runner.request import CellRequest
    from ..runner.reuse import CellCache
    from ..scenario.load import Scenario
    from .baseline import WorseThanBaseline
    from .settings import Settings

__all__ = ["CELLS", "MatrixSession"]

_NOT_SCENARIOS = {"conftest.py", "__init__.py", "setup.py", "noxfile.py"}


#: Cells a test item ran, handed to its report by ``MatrixSession.pytest_runtest_makereport``.
CELLS: pytest.StashKey[list[CellResult]] = pytest.StashKey()


class MatrixSession:
    """Collects every cell and keeps the report."""

    def __init__(self, config: pytest.Config, settings: Settings) -> None:
        self.config, self.settings = config, settings
        self.is_worker = hasattr(config, "workerinput")
        self.cells: list[CellResult] = []
        self.expected_ids: dict[str, None] = {}  # cell items collected, in order
        self.cell_items: set[str] = set()  # node ids of the cell items made, before deselection
        self.unfinished_reasons: dict[str, str] = {}
        self.started = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
        self._catalog: dict[str, Signature] | None = None
        self._cache: CellCache | None = None
        self._looked_for_cache = False
        self._worse: WorseThanBaseline | None = None
        self._report_lock = self._claim_report()
        if config.pluginmanager.hasplugin("xdist"):
            from ._xdist import XdistHooks

            hooks = XdistHooks(self.is_scenario, self.expected_ids)
            config.pluginmanager.register(hooks, "mpcompat-xdist")
        if settings.matrix:
            self.worse_than_baseline()  # a baseline that cannot be read stops the run now

    def _claim_report(self) -> Lock | None:
        """The report path's lock, held for the run by the process that writes it: a second run
        given the same ``--mp-report`` stops before it runs anything, rather than overwrite
        the first one's cells."""
        report = self.settings.report
        if report is None or self.is_worker or self.config.option.collectonly:
            return None
        from ..model.lockfile import Lock

        lock = Lock(report)
        if not lock.acquire(wait=False):
            raise pytest.UsageError(
                f"--mp-report {report}: another run ({lock.holder()}) is writing this report; "
                "give each run its own report file (merge reads them all)"
            )
        return lock

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        if self._report_lock is not None:
            self._report_lock.release()

    @property
    def catalog(self) -> dict[str, Signature]:
        if self._catalog is None:
            catalog: dict[str, Signature] = {}
            for batch in self.config.hook.pytest_mpcompat_signatures(config=self.config):
                for sig in batch:
                    catalog.setdefault(sig.id, sig)
            self._catalog = catalog
        return self._catalog

    def cell_cache(self) -> CellCache | None:
        """Where matrix cells' results are kept for reuse: pytest's cache folder, unless
        ``--mp-fresh`` (or ``MPCOMPAT_FRESH``) asks for fresh runs, or the cache provider is
        off (``-p no:cacheprovider``)."""
        if self._looked_for_cache:
            return self._cache
        self._looked_for_cache = True
        cache = getattr(self.config, "cache", None)
        if cache is not None and not self.settings.fresh:
            from ..runner.reuse import CellCache

            self._cache = CellCache(Path(cache.mkdir("mpcompat-cells")), self.config.rootpath)
        return self._cache

    def worse_than_baseline(self) -> WorseThanBaseline | None:
        """With ``--mp-tries`` above 1 and a baseline: what tells a matrix cell to try again."""
        if self.settings.tries < 2 or self.settings.baseline is None:
            return None
        if self._worse is None:
            from .baseline import WorseThanBaseline

            self._worse = WorseThanBaseline(self.settings.baseline, self.settings.labels)
        return self._worse

    def default_methods(self) -> tuple[str, ...]:
        from ..runner.cells import available_methods

        return self.settings.methods or available_methods()

    def display_path(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.config.rootpath).as_posix()
        except ValueError:
            return str(path)

    def is_scenario(self, path: Path) -> bool:
        """In matrix mode, a scenario is any .py file that is not a test module or a helper."""
        if not self.settings.matrix or path.suffix != ".py":
            return False
        if path.name in _NOT_SCENARIOS or path.name.startswith("_"):
            return False
        patterns = self.config.getini("python_files")
        return not any(fnmatch.fnmatch(path.name, p) for p in patterns)

    # The one run path -----------------------------------------------------------------------

    def run(
        self,
        scenario: Scenario,
        method: str,
        node: pytest.Item,
        request: CellRequest | None = None,
        reuse: bool = False,
    ) -> CellResult:
        """Run one cell of ``scenario`` for ``node`` (skip reasons, repeats and expectations
        included), as ``request`` asks, and record it. ``reuse``: a matrix cell, whose earlier
        result stands while none of its inputs changed (see ``runner/reuse.py``)."""
        from ..runner.cells import run_scenario_cell
        from ..runner.request import CellRequest

        request = request or CellRequest()
        command = request.command
        result = run_scenario_cell(
            scenario,
            method,
            self.settings,
            name=" ".join(command) if command else self.display_path(scenario.path),
            catalog=self.catalog,
            cwd=self.config.invocation_params.dir,
            request=request,
            reuse=self.cell_cache() if reuse else None,
            worse=self.worse_than_baseline() if reuse else None,
            tries=self.settings.tries,
        )
        self.record(result, node)
        return result

    def record(self, result: CellResult, node: pytest.Item) -> None:
        """Keep ``result`` for ``node``'s report, named by its node id and labelled, those
        redacted too (a scenario's file name or a label can hold a secret)."""
        from ..redact import process_redactor, scrub

        redact = process_redactor()
        result.nodeid = redact(node.nodeid)
        if self.settings.labels:
            result.env.setdefault("labels", {}).update(scrub(dict(self.settings.labels), redact))
        node.stash.setdefault(CELLS, []).append(result)

    # Hooks --------------------------------------------------------------------------------

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        report = yield
        cells = item.stash.get(CELLS, None)
        if cells:
            report.mpcompat_cells = [c.to_dict() for c in cells]
            cells.clear()
        return report

    def pytest_report_header(self, config: pytest.Config) -> list[str] | None:
        if not self.settings.matrix:
            return None
        from ..runner._stacks import find_pyspy
        from ..scenario.requirements import detect_gpu

        stacks = self.settings.stacks
        if stacks == "auto":
            stacks = "py-spy" if find_pyspy() else "faulthandler"
        fail_on = ",".join(sorted(self.settings.fail_on)) or "nothing (recording)"
        if self.settings.repeat > 1 or self.settings.fresh:
            reuse = "none (every cell runs)"
        elif getattr(config, "cache", None) is None:
            reuse = "none (the cache provider is off)"
        else:
            reuse = "unchanged cells (--mp-fresh runs every cell)"
        return [
            f"mpcompat: methods {', '.join(self.default_methods())}; default timeout "
            f"{self.settings.timeout:g} s; repeat {self.settings.repeat}; stacks via {stacks}; "
            f"fail on {fail_on}; GPU: {detect_gpu() or 'none'}; "
            f"report: {self.settings.report or 'none'}; reuse: {reuse}"
        ]

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if not self.settings.matrix or self.config.option.collectonly:
            return  # cell items exist only in matrix mode, and --collect-only runs none
        for item in session.items:  # what is left after deselection, in order
            if item.nodeid in self.cell_items:
                self.expected_ids[item.nodeid] = None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.is_worker:
            return
        cells = getattr(report, "mpcompat_cells", None)
        if cells:
            from ..model.cell import CellResult

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
        if self.settings.environment_gap:
            terminalreporter.write_sep("=", "mpcompat matrix")
            terminalreporter.write_line(
                f"not run (environment gap): {self.settings.environment_gap}", yellow=True
            )
        if not self.cells and not self.unfinished():
            return
        from .summary import write_matrix

        write_matrix(terminalreporter, self.cells, self.unfinished(), self.catalog)
        if self.settings.report is not None:
            terminalreporter.write_line(f"mpcompat report: {self.settings.report}")

    # Report -------------------------------------------------------------------------------

    def unfinished(self) -> dict[str, str]:
        """Cells collected that never delivered a result, by node id (redacted, as the cells'
        own are), and why."""
        if self.settings.environment_gap:
            return {}  # the gap is the whole story: nothing was meant to run
        from ..redact import process_redactor

        redact = process_redactor()
        done = {c.nodeid for c in self.cells}
        reasons = {
            **{n: "did not run (the run stopped first)" for n in self.expected_ids},
            **self.unfinished_reasons,
        }
        missing = {redact(n): redact(r) for n, r in reasons.items()}
        return {n: r for n, r in missing.items() if n not in done}

    def _write(self, *, complete: bool, exitstatus: int | None = None) -> None:
        if self.settings.report is None or self.config.option.collectonly:
            return  # (--collect-only runs nothing: the last run's report stays as it was)
        from ..model.rawfile import build_report, write_atomic

        data = build_report(
            self.cells,
            self.unfinished(),
            started=self.started,
            complete=complete,
            exitstatus=exitstatus,
            catalog=self.catalog,
            gap=self.settings.environment_gap,
        )
        write_atomic(self.settings.report, data)
