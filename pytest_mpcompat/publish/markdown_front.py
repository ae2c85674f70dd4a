"""The first part of COMPATIBILITY.md, the part a deployer reads: what to deploy (a table per
family), what was not measured and why, the coverage, and the answers in words."""

from __future__ import annotations

from ..model.matrix import Matrix
from ..model.outcome import KINDS
from .answers import Answer
from .deploy import Table
from .mdtext import code, md, prose
from .wording import GLOSSARY, coverage, describe, mistake_sentences, not_measured

__all__ = ["answers_section", "deploy_section", "glossary_section", "not_measured_section"]


def _link(table: Table, link: str, page_url: str) -> str:
    """Into the published page's grid where its address is known; else to the family's tables
    further down this file (a link to index.html leads nowhere on GitHub)."""
    if page_url:
        return page_url.split("?", 1)[0].split("#", 1)[0] + link
    return f"#{table.family.lower()}"


def _table(table: Table, page_url: str) -> list[str]:
    out = [f"### {md(table.family)}: {md(table.heading)}", ""]
    if not table.rows:
        return out + [prose(table.empty[:1].upper() + table.empty[1:]) + ".", ""]
    out.append("| | " + " | ".join(md(m) for m in table.methods) + " |")
    out.append("|---|" + "---|" * len(table.methods))
    for label, entries in table.rows:
        cells = [
            f"{'✅' if e.safe else '⛔'} [{md(e.text)}]({_link(table, e.link, page_url)})" if e.link
            else md(e.text)
            for e in entries
        ]  # fmt: skip
        out.append(f"| {md(label)} | " + " | ".join(cells) + " |")
    out.append("")
    out += [
        f"- {KINDS[o].icon} {prose(line)}"
        for o, line in zip(table.unsafe_outcomes, table.unsafe, strict=True)
    ]
    out += [f"- ⏭️ {prose(gap)}." for gap in table.gaps]
    if table.mistakes:
        out.append(f"- {table.mistakes_said}: see the answers.")
    return out + [""]


def deploy_section(tables: list[Table], page_url: str = "") -> list[str]:
    out = ["## What to deploy", "",
           "A release is safe at a Python and start method when every scenario of its intended "
           "use passes there (known mistakes reproduced on purpose do not count against it).",
           ""]  # fmt: skip
    for table in tables:
        out += _table(table, page_url)
    return out


def glossary_section() -> list[str]:
    out = ["## Words used here", ""]
    return out + [f"- **{prose(term)}**: {prose(meaning)}." for term, meaning in GLOSSARY] + [""]


def not_measured_section(matrix: Matrix) -> list[str]:
    groups = not_measured(matrix)
    out = ["## Not measured", "", f"**Coverage:** {prose(coverage(matrix))}", ""]
    for why, runs in groups:
        names = ", ".join(code(r) for r in runs)
        out.append(f"- {len(runs)} run{'s' if len(runs) != 1 else ''}: {prose(why)}: {names}")
    return out + [""]


def answers_section(found: list[Answer]) -> list[str]:
    """Per family, each release line in words, what to do, the mistakes that reproduced as
    documented, what was tested."""
    out = ["## Answers", ""]
    for answer in found:
        heading, sentences, tested = describe(answer)
        out += [f"**{md(heading)}**", ""]
        for line, sentence in zip(answer.lines, sentences, strict=True):
            out.append(f"- {KINDS[line.outcome].icon} {prose(sentence)}")
        out += [f"- 🧪 {prose(text)}" for text in mistake_sentences(answer)]
        if answer.fixes:
            out.append("- For the authors of the code:")
            out += [f"  - {code(what)}: {prose(fix)}" for what, fix in answer.fixes]
        out += [f"- Tested: {md(tested)}.", ""]
    return out
