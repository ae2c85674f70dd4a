"""Every outcome kind reaches every reader: the rule that decides it, the raw result's schema,
the terminal, the Markdown, the page and the answers. A kind added to ``KINDS`` that one of
them forgets fails here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _pytest._io.terminalwriter import TerminalWriter

from pytest_mpcompat.model import CellResult, Verdict
from pytest_mpcompat.model.catalog import BUILTIN, decide
from pytest_mpcompat.model.outcome import KINDS, OUTCOMES, PROBLEMS, Outcome
from pytest_mpcompat.model.rawfile import build_report, write_atomic
from pytest_mpcompat.model.validate import raw_schema
from pytest_mpcompat.publish.grid import page_data
from pytest_mpcompat.publish.html import render_html
from pytest_mpcompat.publish.markdown import render_markdown
from pytest_mpcompat.publish.merge import merge_files


def _decided(name: str) -> CellResult:
    """A cell that the built-in catalog judges ``name``: its verdict alone, or with the first
    signature that turns that verdict into it."""
    verdict = Verdict(KINDS[name].verdict)
    for signatures in ([], *([sid] for sid in BUILTIN)):
        cell = decide(CellResult(f"scenarios/{name}.py", "spawn", verdict,
                                 signatures=list(signatures),
                                 env={"os": "Linux", "python": "3.11.7"}), BUILTIN)  # fmt: skip
        if cell.outcome.value == name:
            return cell
    raise AssertionError(f"no rule of catalog.decide gives the outcome {name!r}")


def test_the_enum_and_the_table_name_the_same_kinds_in_one_order() -> None:
    assert [o.value for o in Outcome] == list(OUTCOMES) == list(KINDS)
    assert sorted(Outcome, key=lambda o: o.rank) == list(Outcome)
    assert set(PROBLEMS) == {k.name for k in KINDS.values() if k.problem is not None}


@pytest.mark.parametrize("name", list(KINDS))
def test_each_kind_is_decided_by_a_rule_and_valid_in_a_raw_result(name: str) -> None:
    assert _decided(name).outcome.kind is KINDS[name]
    schema = raw_schema()
    assert name in schema["$defs"]["cell"]["properties"]["outcome"]["enum"]
    assert KINDS[name].verdict in schema["$defs"]["cell"]["properties"]["verdict"]["enum"]


@pytest.mark.parametrize("name", list(KINDS))
def test_each_kind_has_its_words_colours_and_terminal_markup(name: str) -> None:
    kind = KINDS[name]
    assert kind.words and kind.short and kind.icon and kind.background.startswith("#")
    known = set(TerminalWriter._esctable)
    assert kind.terminal and set(kind.terminal) <= known, f"{name}: unknown markup"


def test_every_reader_shows_every_kind(tmp_path: Path) -> None:
    path = tmp_path / "raw" / "full-every-kind-3.11.json"
    write_atomic(path, build_report([_decided(n) for n in KINDS], {},
                                    started="2026-11-21T10:00:00+00:00", complete=True))  # fmt: skip
    merged = merge_files([path])
    assert sorted(mc.outcome.value for mc in merged.cells) == sorted(KINDS)
    md = render_markdown(merged)
    html = render_html(merged)
    header = next(line for line in md.splitlines() if line.startswith("| family |"))
    filters = {f["key"]: f["options"] for f in page_data(merged)["filters"]}
    for kind in KINDS.values():
        assert f" {kind.short} |" in header, f"Markdown summary: no column for {kind.name}"
        assert f"{kind.icon} {kind.words}" in md, f"Markdown legend: {kind.name} missing"
        assert f".{kind.name} {{ background: {kind.background};" in html, f"CSS: {kind.name}"
        assert f'<span class="{kind.name}">' in html, f"page legend: {kind.name} missing"
        assert [kind.name, kind.words] in filters["outcome"], f"page filter: {kind.name}"
    shown = json.dumps(page_data(merged)["texts"], ensure_ascii=False)
    for kind in KINDS.values():
        assert kind.short in shown, f"grid: no cell reads {kind.short!r}"
