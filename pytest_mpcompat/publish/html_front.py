"""The static part of index.html, readable without JavaScript: what to deploy, what was not
measured and why, and the answers. Every string is escaped; the plugin's own `quoted` names
become <code>."""

from __future__ import annotations

from html import escape

from ..model.matrix import Matrix
from ..model.outcome import KINDS
from .answers import Answer
from .deploy import Table
from .wording import GLOSSARY, code_spans, coverage, describe, mistake_sentences, not_measured

__all__ = [
    "answers_html",
    "deploy_html",
    "glossary_html",
    "legend_html",
    "not_measured_html",
    "prose",
    "summary_html",
]


def prose(text: str) -> str:
    """``text`` escaped, its `quoted` parts as <code>."""
    return "".join(
        f"<code>{escape(part)}</code>" if is_code else escape(part)
        for is_code, part in code_spans(text)
    )


def _table(table: Table) -> str:
    caption = f"<caption>{escape(table.family)}: {escape(table.heading)}</caption>"
    if not table.rows:
        return (f'<figure class="deploy"><p><strong>{escape(table.family)}</strong>: '
                f"{prose(table.empty)}.</p></figure>")  # fmt: skip
    head = "".join(f'<th scope="col">{escape(m)}</th>' for m in table.methods)
    rows = []
    for label, entries in table.rows:
        cells = "".join(
            f'<td class="{"safe" if e.safe else "unsafe"}"><a href="{escape(e.link)}">'
            f"{escape(e.text)}</a></td>" if e.link else f"<td>{escape(e.text)}</td>"
            for e in entries
        )  # fmt: skip
        rows.append(f'<tr><th scope="row">{escape(label)}</th>{cells}</tr>')
    unsafe = "".join(f"<li>{prose(line)}</li>" for line in table.unsafe)
    unsafe += "".join(f'<li class="gap">{prose(gap)}.</li>' for gap in table.gaps)
    if table.mistakes:
        unsafe += f'<li class="tested">{table.mistakes_said} (see the answers).</li>'
    body = "".join(rows)
    return (f'<figure class="deploy"><table>{caption}<thead><tr><td></td>{head}</tr></thead>'
            f'<tbody>{body}</tbody></table><ul class="unsafe">{unsafe}</ul></figure>')  # fmt: skip


def deploy_html(tables: list[Table]) -> str:
    return '<div class="deploy-tables">' + "".join(_table(t) for t in tables) + "</div>"


def summary_html(matrix: Matrix) -> str:
    """The first lines of the page: what was not measured, by cause, before any table."""
    groups = not_measured(matrix)
    if not groups:
        return "<p>Every expected run has a result.</p>"
    items = "".join(
        f"<li>{len(runs)} run{'s' if len(runs) != 1 else ''}: "
        f"{prose(why.removeprefix('not run: '))}</li>"
        for why, runs in groups
    )
    return (f'<p><strong>Not measured</strong> (<a href="#not-measured">which runs</a>):</p>'
            f"<ul>{items}</ul>")  # fmt: skip


def not_measured_html(matrix: Matrix) -> str:
    """Each cause of the runs with no result, with the runs it kept from running."""
    items = []
    for why, runs in not_measured(matrix):
        names = ", ".join(f"<code>{escape(r)}</code>" for r in runs)
        count = f"{len(runs)} run{'s' if len(runs) != 1 else ''}"
        which = f"<details><summary>which</summary>{names}</details>"
        items.append(f"<li><strong>{count}</strong>: {prose(why)}{which}</li>")
    listed = f"<ul>{''.join(items)}</ul>" if items else "<p>Every expected run has a result.</p>"
    return f'<p id="coverage">{prose(coverage(matrix))}</p>{listed}'


def answers_html(found: list[Answer]) -> str:
    out = []
    for answer in found:
        heading, sentences, tested = describe(answer)
        out.append(f"<h3>{escape(heading)}</h3><ul>")
        for line, sentence in zip(answer.lines, sentences, strict=True):
            mark = line.outcome
            out.append(f'<li><span class="mark {mark}">{mark}</span>{prose(sentence)}</li>')
        for text in mistake_sentences(answer):
            out.append(f'<li><span class="mark mistake">mistake</span>{prose(text)}</li>')
        if answer.fixes:
            fixes = "".join(
                f"<li><code>{escape(w)}</code>: {prose(f)}</li>" for w, f in answer.fixes
            )
            out.append(f'<li class="what">For the authors of the code:<ul>{fixes}</ul></li>')
        out.append(f'<li class="tested">Tested: {escape(tested)}.</li></ul>')
    return "\n".join(out)


def glossary_html() -> str:
    items = "".join(
        f"<dt>{prose(term)}</dt><dd>{prose(meaning)}.</dd>" for term, meaning in GLOSSARY
    )
    return f'<details id="words"><summary>Words used here</summary><dl>{items}</dl></details>'


def legend_html(seen: set[str]) -> str:
    """The outcomes the grid shows (``seen``), as the outcome filter lists them."""
    return "".join(
        f'<span class="{k.name}">{escape(k.words)}</span>' for k in KINDS.values() if k.name in seen
    )
