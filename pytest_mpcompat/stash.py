"""The keys under which a run keeps its state in ``config.stash`` and ``item.stash``.

PYTEST_DONT_REWRITE: loaded by every pytest run, this module has no assertions to rewrite.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .model import CellResult
    from .session import MatrixSession

__all__ = ["CELLS", "STATE"]

#: The run's ``MatrixSession``, once the plugin is in use.
STATE: pytest.StashKey[MatrixSession] = pytest.StashKey()
#: Cells a test item ran, handed to its report by ``MatrixSession.pytest_runtest_makereport``.
CELLS: pytest.StashKey[list[CellResult]] = pytest.StashKey()
