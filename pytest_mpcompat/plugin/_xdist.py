"""pytest-xdist glue, registered only when xdist is installed (its hooks do not exist otherwise).

The controller collects nothing itself; it learns the cell items from the workers' collections
so that cells a dead worker never ran are still listed as unfinished.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from ..constants import START_METHODS

__all__ = ["XdistHooks"]


class XdistHooks:
    """Adds the cell items each worker collected to ``expected`` (node id -> None)."""

    def __init__(self, is_scenario: Callable[[Path], bool], expected: dict[str, None]) -> None:
        self.is_scenario, self.expected = is_scenario, expected

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: Sequence[str]) -> None:
        for nodeid in ids:
            path, _, name = nodeid.rpartition("::")
            if name in START_METHODS and self.is_scenario(Path(path)):
                self.expected[nodeid] = None
