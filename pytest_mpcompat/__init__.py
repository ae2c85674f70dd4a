"""pytest-mpcompat: which multiprocessing start methods make a model server crash, hang or work."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .model import CellResult, Expectation, ProcessStack, ServingRecord, Verdict
from .signatures import Signature

if TYPE_CHECKING:
    from .serving import RequestSpec, ServeSpec

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


def __getattr__(name: str) -> Any:
    # serving.py imports sockets and process tables: load it only for those who use it.
    if name in ("RequestSpec", "ServeSpec"):
        from . import serving

        return getattr(serving, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
