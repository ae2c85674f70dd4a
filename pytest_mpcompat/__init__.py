"""pytest-mpcompat: which multiprocessing start methods make a model server crash, hang or work.

Every pytest run in an environment that has the plugin imports this package, so its public
names are loaded on first use, not here.

PYTEST_DONT_REWRITE: loaded by every pytest run, this module has no assertions to rewrite.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .model.catalog import Signature
    from .model.cell import (
        CellResult,
        Expectation,
        Outcome,
        ProcessStack,
        ServingRecord,
        SkipKind,
        Verdict,
    )
    from .scenario.serve import RequestSpec, ServeSpec

__all__ = [
    "CellResult",
    "Expectation",
    "Outcome",
    "ProcessStack",
    "RequestSpec",
    "ServeSpec",
    "ServingRecord",
    "Signature",
    "SkipKind",
    "Verdict",
    "__version__",
]

__version__ = "0.1.0"

_HOMES = {
    "CellResult": "model.cell",
    "Expectation": "model.cell",
    "ProcessStack": "model.cell",
    "ServingRecord": "model.cell",
    "Verdict": "model.cell",
    "Outcome": "model.cell",
    "SkipKind": "model.cell",
    "Signature": "model.catalog",
    "RequestSpec": "scenario.serve",
    "ServeSpec": "scenario.serve",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
