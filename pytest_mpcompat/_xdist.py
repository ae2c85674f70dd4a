"""pytest-xdist glue, registered only when xdist is installed (its hooks do not exist otherwise).

The controller collects nothing itself; it learns the cell items from the workers' collections
so that cells a dead worker never ran are still listed as unfinished.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .constants import START_METHODS

if TYPE_CHECKING:
    from .session import MatrixSession

__all__ = ["XdistHooks"]


class XdistHooks:
    def __init__(self, session: MatrixSession) -> None:
        self.session = session

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: Sequence[str]) -> None:
        for nodeid in ids:
            path, _, name = nodeid.rpartition("::")
            if name in START_METHODS and self.session.is_scenario(Path(path)):
                self.session.expected_ids[nodeid] = None
