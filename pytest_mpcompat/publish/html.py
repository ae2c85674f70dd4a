"""index.html: one page (no network) with the answers as static HTML, then a coloured grid with
filters and the details of each cell in a side panel.

The page is ``page/index.html`` with ``page/style.css`` and ``page/grid.js`` inlined; the grid
that ``grid.py`` worked out travels as JSON inside a ``<script type="application/json">``
element with every ``<`` escaped; each cell's details (output, stacks) are in
``details/NNNN.js`` beside the page, loaded when a cell is opened. The page's script inserts
every string with ``textContent``: output captured from a scenario (HTML, a ``<script>``) is
shown as text, never parsed as markup.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from html import escape
from pathlib import Path
from typing import Any

from ..model.matrix import DETAILS_CHUNK, DETAILS_FILES, Matrix
from ..model.outcome import KINDS
from .answers import answers
from .deploy import deploy_tables
from .grid import page_data
from .html_front import (
    answers_html,
    deploy_html,
    glossary_html,
    legend_html,
    not_measured_html,
    prose,
    summary_html,
)
from .insight import changes_by_scenario
from .panel import panel
from .wording import measured_on, when

__all__ = ["details_files", "render_html", "write_html"]

_PAGE_FILES = Path(__file__).with_name("page")


@functools.cache
def _page_file(name: str) -> str:
    text = (_PAGE_FILES / name).read_text(encoding="utf-8")
    if "</" in text and name != "index.html":  # inlined in <style> or <script>: nothing may end it
        raise RuntimeError(f"{_PAGE_FILES / name}: contains '</', which would end its element")
    return text


def _script_json(data: Any) -> str:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    # Inside <script> only "</" (and "<!--") can end or confuse the element: escape every "<".
    return text.replace("<", "\\u003c")


def outcome_css() -> str:
    """Each outcome's colours, one class per kind (its name)."""
    rules = []
    for k in KINDS.values():
        ink = f" color: {k.ink};" if k.ink else ""
        rules.append(f".{k.name} {{ background: {k.background};{ink} }}\n")
    return "".join(rules)


def render_html(matrix: Matrix) -> str:
    """index.html itself; the cells' details are ``details_files``, written beside it."""
    found = answers(matrix)
    meta = f"{measured_on(matrix)} Generated {matrix.generated}. " + when(matrix)
    bisections = "".join(
        f"<li><code>{escape(b['scenario'])}</code> ({escape(b['method'])}, Python "
        f"{escape(b['python'])}): {escape(b['summary'])}</li>"
        for b in matrix.bisections
    )
    section = f'<section id="bisections"><h2>Bisections</h2><ul>{bisections}</ul></section>\n'
    merged = changes_by_scenario(matrix.insights)
    changes = "".join(
        f"<li><code>{escape(sc)}</code> ({escape(', '.join(ms) + (f'; {where}' if where else ''))})"
        f": {escape(summary)}</li>"
        for (sc, where, summary), ms in merged.items()
    )
    parts = {
        "CHANGES": (
            f'<details id="changes"><summary>Where the outcome changes with a version '
            f"({len(merged)})</summary><ul>{changes}</ul></details>"
            if merged
            else ""
        ),
        "META": prose(meta),
        "DEPLOY": deploy_html(deploy_tables(matrix, found)),
        "NOTMEASURED": not_measured_html(matrix),
        "SUMMARY": summary_html(matrix),
        "LEGEND": legend_html({mc.outcome.value for mc in matrix.cells}),
        "GLOSSARY": glossary_html(),
        "ANSWERS": answers_html(found),
        "BISECTIONS": section if bisections else "",
        "DATA": _script_json(page_data(matrix)),
        "STYLE": _page_file("style.css") + outcome_css(),
        "SCRIPT": _page_file("grid.js"),
    }
    # One pass: a placeholder's name inside the data (a hostile scenario name) stays text.
    page = _page_file("index.html")
    return re.sub(r"__([A-Z]+)__", lambda m: parts.get(m.group(1), m.group(0)), page)


def details_files(matrix: Matrix) -> Iterator[tuple[str, str]]:
    """(relative path, text) of each details file: ``DETAILS_CHUNK`` cells in full, as a script
    the page loads when one of them is opened (``mpcompatDetails(n, [cells])``)."""
    for n, start in enumerate(range(0, len(matrix.cells), DETAILS_CHUNK)):
        stop = min(start + DETAILS_CHUNK, len(matrix.cells))
        cells = [{**matrix.cells[i].details(), "panel": panel(matrix.cells[i], matrix.catalog)}
                 for i in range(start, stop)]  # fmt: skip
        # JSON is a JavaScript expression (U+2028 and U+2029 included, since ES2019).
        text = json.dumps(cells, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        yield DETAILS_FILES.format(chunk=n), f"mpcompatDetails({n}, {text});\n"


def write_html(matrix: Matrix, out: Path) -> None:
    """index.html and its details files under ``out``; details files of an earlier, larger
    report are removed."""
    folder = out / Path(DETAILS_FILES).parent
    folder.mkdir(parents=True, exist_ok=True)
    written = set()
    for name, text in details_files(matrix):
        (out / name).write_text(text, encoding="utf-8")
        written.add(out / name)
    for stale in folder.glob("*.js"):
        if stale not in written:
            stale.unlink()
    (out / "index.html").write_text(render_html(matrix), encoding="utf-8")
