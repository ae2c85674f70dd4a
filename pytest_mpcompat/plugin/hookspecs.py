"""Hooks other plugins and conftest files can implement to extend pytest-mpcompat.

PYTEST_DONT_REWRITE: loaded by every pytest run, this module has no assertions to rewrite.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from ..model.catalog import Signature

__all__ = ["pytest_mpcompat_signatures"]


@pytest.hookspec
def pytest_mpcompat_signatures(config: pytest.Config) -> list[Signature]:
    """Return failure signatures to match on every cell's output.

    Every implementation's list is used. When two signatures share an id, the one returned
    first wins; the built-in catalog is returned last, so a plugin or conftest can replace a
    built-in signature by reusing its id.
    """
    raise NotImplementedError
