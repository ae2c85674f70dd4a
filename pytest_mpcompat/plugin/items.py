"""Matrix collection: a scenario file is collected (never imported) as one item per start method.

A cell item fails when its cell contradicts the scenario's expectation, when the harness could
not run it, or, for a cell with no expectation, when its outcome is one ``--mp-fail-on`` names.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ..model.cell import CellResult, Verdict
from ..runner.cells import check_signature_ids
from ..scenario.load import Scenario, ScenarioError, load_scenario
from .stash import STATE

__all__ = ["CellFailure", "CellItem", "ScenarioFile", "describe_failure"]


class ScenarioFile(pytest.File):
    """A scenario script: one item per start method. Never imported into this process."""

    def collect(self) -> Iterator[CellItem]:
        state = self.config.stash[STATE]
        self._compile()
        try:
            scenario: Scenario | None = load_scenario(self.path)
            assert scenario is not None
            check_signature_ids(scenario, state.catalog)
            error = None
        except ScenarioError as exc:
            scenario, error = None, exc
        methods = (scenario.methods if scenario else None) or state.default_methods()
        for method in methods:
            item = CellItem.from_parent(self, name=method, scenario=scenario, error=error)
            state.cell_items.add(item.nodeid)
            yield item

    def _compile(self) -> None:
        """A scenario that this Python cannot compile is a collection error, as a test module
        would be: no cell of it can say anything about a start method."""
        try:
            compile(self.path.read_bytes(), str(self.path), "exec", dont_inherit=True)
        except SyntaxError as exc:
            shown = self.config.stash[STATE].display_path(self.path)
            where = f"{shown}:{exc.lineno}" if exc.lineno else shown
            python = ".".join(map(str, sys.version_info[:2]))
            raise self.CollectError(
                f"{where}: {exc.msg}: the scenario does not compile under Python {python}; "
                "fix it (`python -m py_compile` shows the same)"
            ) from None
        except (OSError, ValueError):
            # Unreadable or not text: loading it fails each cell with the reason, and the
            # other scenarios still run.
            return


class CellFailure(Exception):
    """A cell that contradicts its scenario's expectation, hit --mp-fail-on, or that the
    harness could not run: ``args`` are the cell and why it fails."""


class CellItem(pytest.Item):
    def __init__(
        self, *, scenario: Scenario | None, error: ScenarioError | None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.scenario, self.error = scenario, error

    def runtest(self) -> None:
        state = self.config.stash[STATE]
        if state.settings.environment_gap:
            # Not a result: the run as a whole is reported as missing, with this reason.
            pytest.skip(f"not run (environment gap): {state.settings.environment_gap}")
        if self.error is not None or self.scenario is None:
            result = CellResult(
                scenario=state.display_path(self.path),
                method=self.name,
                verdict=Verdict.ERROR,
                reason=str(self.error),
            )
            state.record(result, self)
        else:
            result = state.run(self.scenario, self.name, self, reuse=True)
        if result.verdict is Verdict.SKIP:
            pytest.skip(result.reason)
        if result.verdict is Verdict.ERROR:
            raise CellFailure(result, f"harness error: {result.reason}")
        if result.mismatch:
            raise CellFailure(result, result.mismatch)
        fail_on = state.settings.fail_on
        got = result.outcome.value
        if result.expected is None and got in fail_on:
            raise CellFailure(result, f"{got} (--mp-fail-on {','.join(sorted(fail_on))})")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, CellFailure):
            return describe_failure(*excinfo.value.args)
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        # The domain heads the failure section: name the scenario file, not only the method.
        # (Not a suffix of the node id, so verbose lines still show the node id unchanged.)
        return (
            self.path,
            None,
            f"{self.config.stash[STATE].display_path(self.path)} under {self.name}",
        )


def describe_failure(cell: CellResult, why: str) -> str:
    if cell.verdict is Verdict.ERROR:
        return f"{cell.scenario} under {cell.method}: {why}"
    lines = [f"{cell.scenario} under {cell.method}: {why}"]
    status = f"exit code {cell.exit_code}" + (f" ({cell.signal})" if cell.signal else "")
    lines.append(
        f"verdict {cell.verdict.value}, {status}"
        + (f", ran as {cell.ran_as}" if cell.ran_as else "")
        + (f", signatures: {', '.join(cell.signatures)}" if cell.signatures else "")
        + f", {cell.duration_s:.2f} s"
    )
    if cell.reason:
        lines.append(cell.reason)
    for sid, line in cell.matches.items():
        lines.append(f"{sid}: {line}")
    for leaked in cell.leaked:
        lines.append(f"leaked: {leaked}")
    for name, tail in (("stdout", cell.stdout_tail), ("stderr", cell.stderr_tail)):
        if tail.strip():
            lines.append(f"--- {name} (end) ---\n{tail.rstrip()}")
    for stack in cell.stacks:
        lines.append(f"--- stack of {stack.pid} ({stack.cmdline}) ---\n{stack.stack}")
    return "\n".join(lines)
