"""The key under which a run keeps its state in ``config.stash``.

PYTEST_DONT_REWRITE: loaded by every pytest run, this module has no assertions to rewrite.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .session import MatrixSession

__all__ = ["STATE"]

#: The run's ``MatrixSession``, once the plugin is in use.
STATE: pytest.StashKey[MatrixSession] = pytest.StashKey()
