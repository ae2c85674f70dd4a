"""pytest-mpcompat: which multiprocessing start methods make a model server crash, hang or work.

Every pytest run in an environment that has the plugin imports this package, so its public
names are loaded on first use, not here.

PYTEST_DONT_REWRITE: loaded by every pytest run, this module has no assertions to rewrite.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .model import CellResult, Expectation, ProcessStack, ServingRecord, Verdict
    from .serving import RequestSpec, ServeSpec
    from .signatures import Signature

__all__ = [
    "CellResult",
    "Expectation",
    "ProcessStack",
    "RequestSpec",
    "ServeSpec",
    "ServingRecord",
    "Signature",
    "Verdict",
    "__version__",
]

__version__ = "0.1.0"

_HOMES = {
    "CellResult": "model",
    "Expectation": "model",
    "ProcessStack": "model",
    "ServingRecord": "model",
    "Verdict": "model",
    "Signature": "signatures",
    "RequestSpec": "serving",
    "ServeSpec": "serving",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
