"""pytest-mpcompat: which multiprocessing start methods make a model server crash, hang or work."""

from __future__ import annotations

from .model import CellResult, Expectation, ProcessStack, Verdict
from .serving import RequestSpec, ServeSpec
from .signatures import Signature

__all__ = [
    "CellResult",
    "Expectation",
    "ProcessStack",
    "RequestSpec",
    "ServeSpec",
    "Signature",
    "Verdict",
    "__version__",
]

__version__ = "0.1.0"
