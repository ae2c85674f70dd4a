"""The published compatibility report: merge raw results, render Markdown and HTML, compare.

Raw results (one JSON report per nox session, machine or CI job) are the only input; everything
here is rendered from the merged model (``model/matrix.py``) that ``merge.py`` builds.
"""

from __future__ import annotations

from ..model.matrix import Matrix
from .merge import MergeError, merge_files
from .regress import worse_cells

__all__ = ["Matrix", "MergeError", "merge_files", "worse_cells"]
