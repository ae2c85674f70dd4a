"""index.html: one self-contained page (no network) with a coloured grid, filters by every axis
and the details of each cell.

The data travels as JSON inside a ``<script type="application/json">`` element with every ``<``
escaped, and the page's script inserts every string with ``textContent``: output captured from a
scenario (HTML, a ``<script>``) is shown as text and never parsed as markup.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from html import escape

from ..model import OUTCOMES
from ..signatures import BUILTIN_SIGNATURES, Signature
from .merge import Matrix

__all__ = ["render_html"]

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pytest-mpcompat compatibility matrix</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1rem 2rem; color: #1a1a1a; }
h1 { font-size: 1.4rem; margin-bottom: .2rem; }
#meta { color: #555; margin-bottom: 1rem; }
#filters { display: flex; flex-wrap: wrap; gap: .6rem 1.2rem; margin-bottom: 1rem; }
#filters label { display: flex; flex-direction: column; font-size: 12px; color: #444; }
table { border-collapse: collapse; margin-bottom: .5rem; }
h2 { font-size: 1.1rem; margin: 1.2rem 0 .3rem; }
p.fixed { color: #555; font-size: 12px; margin: 0 0 .4rem; }
th, td { border: 1px solid #ccc; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; font-weight: 600; font-size: 12px; }
td.cell { cursor: pointer; white-space: nowrap; font-size: 12px; }
td.pass { background: #d8f5d8; } td.warn { background: #fff0b3; }
td.crash { background: #f8c9c9; } td.hang { background: #e3cff5; }
td.skip { background: #eee; color: #666; } td.error { background: #f5a3a3; }
td.selected { outline: 3px solid #2457d6; }
#details { margin-top: 1rem; padding: .8rem; border: 1px solid #bbb; background: #fafafa; }
#details[hidden] { display: none; }
pre { background: #fff; border: 1px solid #ddd; padding: .5rem; max-height: 24rem; overflow: auto;
      white-space: pre-wrap; word-break: break-all; }
.legend span { display: inline-block; padding: 0 6px; margin-right: 4px; border: 1px solid #ccc; }
</style>
</head>
<body>
<h1>Multiprocessing compatibility matrix</h1>
<div id="meta"></div>
<div class="legend"><span class="pass-l" style="background:#d8f5d8">pass</span><span
 style="background:#fff0b3">pass, but its output shows a failure</span><span
 style="background:#f8c9c9">crash</span><span style="background:#e3cff5">hang</span><span
 style="background:#eee">skip</span><span style="background:#f5a3a3">error</span></div>
__BISECTIONS__<div id="filters"></div>
<div id="count"></div>
<div id="grids"></div>
<section id="details" hidden></section>
<script type="application/json" id="data">__DATA__</script>
<script>
"use strict";
const DATA = JSON.parse(document.getElementById("data").textContent);
const SIGS = DATA.signatures;
const AXES = DATA.axes.filter(a => a !== "method");
const METHODS = ["fork", "spawn", "forkserver"];
const OUTCOMES = DATA.outcomes;  // better to worse (model.OUTCOMES)
const filters = {};

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}
function configKey(cell) { return AXES.map(a => a + "=" + (cell.axes[a] || "")).join(" "); }
function cellClass(cell) { return cell.outcome === "degraded" ? "warn" : cell.verdict; }
function visible(cell) {
  return DATA.axes.every(a => !filters[a] || filters[a] === (cell.axes[a] || ""));
}

function buildFilters() {
  const box = document.getElementById("filters");
  for (const axis of DATA.axes) {
    const values = [...new Set(DATA.cells.map(c => c.axes[axis] || ""))].sort();
    const label = el("label", axis);
    const select = el("select");
    select.id = "filter-" + axis;
    select.appendChild(el("option", "all"));
    select.options[0].value = "";
    for (const v of values) { const o = el("option", v); o.value = v; select.appendChild(o); }
    select.addEventListener("change", () => { filters[axis] = select.value; render(); });
    label.appendChild(select);
    box.appendChild(label);
  }
}

function family(scenario) { return scenario.split("/").pop().split("_")[0]; }

function render() {
  const cells = DATA.cells.filter(visible);
  const root = document.getElementById("grids");
  root.replaceChildren();
  const families = [...new Set(cells.map(c => family(c.scenario)))].sort();
  for (const fam of families) {
    const mine = cells.filter(c => family(c.scenario) === fam);
    // Column labels use only the axes that vary within this family; the rest go above it.
    const axes = AXES.filter(a => mine.some(c => c.axes[a] !== undefined));
    const varying = axes.filter(a => new Set(mine.map(c => c.axes[a])).size > 1);
    const fixed = axes.filter(a => !varying.includes(a)).map(a => a + "=" + mine[0].axes[a]);
    const key = c => varying.map(a => a + "=" + (c.axes[a] === undefined ? "-" : c.axes[a])).join(" ");
    const configs = [...new Set(mine.map(key))].sort();
    const scenarios = [...new Set(mine.map(c => c.scenario))];
    const methods = METHODS.filter(m => mine.some(c => c.method === m));
    root.appendChild(el("h2", fam));
    if (fixed.length) root.appendChild(el("p", "all cells: " + fixed.join(", "), "fixed"));
    const table = el("table", null, "grid");
    const head = el("thead"), body = el("tbody");
    const r1 = el("tr"), r2 = el("tr");
    const corner = el("th", "scenario"); corner.rowSpan = 2; r1.appendChild(corner);
    for (const cfg of configs) {
      const th = el("th", cfg || "(one configuration)"); th.colSpan = methods.length; r1.appendChild(th);
      for (const m of methods) r2.appendChild(el("th", m));
    }
    head.append(r1, r2);
    // Every result of a configuration is kept (repeats, several machines): never last-wins.
    const index = new Map();
    for (const c of mine) {
      const k = c.scenario + "|" + key(c) + "|" + c.method;
      if (!index.has(k)) index.set(k, []);
      index.get(k).push(c);
    }
    for (const sc of scenarios) {
      const tr = el("tr");
      tr.appendChild(el("th", sc.split("/").pop()));
      for (const cfg of configs) for (const m of methods) {
        const group = index.get(sc + "|" + cfg + "|" + m);
        if (!group) { tr.appendChild(el("td", "")); continue; }
        // The worst result is the one whose details open; the text counts them all.
        const cell = group.reduce((a, b) => OUTCOMES.indexOf(b.outcome) > OUTCOMES.indexOf(a.outcome) ? b : a);
        let text = cell.verdict + (cell.status ? " " + cell.status : "") + (cell.ran_as ? " (ran as " + cell.ran_as + ")" : "");
        if (cell.signatures.length) text += " [" + cell.signatures.join(", ") + "]";
        if (group.length > 1) {
          const seen = new Map();
          for (const g of group) {
            if (!seen.has(g.outcome)) seen.set(g.outcome, []);
            seen.get(g.outcome).push((g.run && g.run.machine) || "?");
          }
          text = seen.size === 1 ? text + " \u00d7" + group.length : "flaky: " + [...seen].map(
            ([o, where]) => where.length + " " + o + " (" + [...new Set(where)].join(", ") + ")").join(", ");
        }
        const td = el("td", text, "cell " + cellClass(cell));
        td.title = cell.reason || "";
        td.addEventListener("click", () => {
          document.querySelectorAll("td.selected").forEach(n => n.classList.remove("selected"));
          td.classList.add("selected");
          showDetails(cell);
        });
        tr.appendChild(td);
      }
      body.appendChild(tr);
    }
    table.append(head, body);
    root.appendChild(table);
  }
  document.getElementById("count").textContent = cells.length + " of " + DATA.cells.length + " cells shown";
}

function section(parent, title, text) {
  if (!text) return;
  parent.appendChild(el("h3", title));
  parent.appendChild(el("pre", text));
}

function showDetails(cell) {
  const box = document.getElementById("details");
  box.replaceChildren();
  box.hidden = false;
  box.appendChild(el("h2", cell.scenario + " — " + cell.method + ": " + cell.verdict));
  const facts = el("ul");
  const add = (k, v) => { if (v !== null && v !== undefined && v !== "") facts.appendChild(el("li", k + ": " + v)); };
  add("configuration", Object.entries(cell.axes).map(([k, v]) => k + "=" + v).join(", "));
  add("exit code", cell.exit_code); add("signal", cell.signal);
  add("duration", cell.duration_s + " s"); add("reason", cell.reason); add("mismatch", cell.mismatch);
  if (cell.expected) add("expected", cell.expected.verdict + (cell.expected.signatures.length ? " [" + cell.expected.signatures.join(", ") + "]" : ""));
  if (cell.repeat > 1) add("verdicts over " + cell.repeat + " runs", JSON.stringify(cell.verdict_counts));
  if (Object.keys(cell.methods_used || {}).length) add("processes started with", JSON.stringify(cell.methods_used));
  if (cell.ran_as) add("ran as", cell.ran_as + " (not " + cell.method + ": the program chose its own start method)");
  add("run", cell.run.session + " on " + cell.run.machine + ", " + cell.run.started);
  box.appendChild(facts);
  for (const sid of cell.signatures) {
    const sig = SIGS[sid];
    const p = el("p");
    p.appendChild(el("strong", sid + ": "));
    p.appendChild(document.createTextNode(sig ? sig.explanation + " Fix: " + sig.fix : "(no description)"));
    box.appendChild(p);
  }
  if (cell.serving) section(box, "serving", JSON.stringify(cell.serving, null, 1));
  for (const leak of cell.leaked || []) section(box, "leaked process", leak);
  section(box, "stdout (end)", cell.stdout_tail);
  section(box, "stderr (end)", cell.stderr_tail);
  for (const st of cell.stacks || []) section(box, "stack of " + st.pid + " (" + st.tool + "): " + st.cmdline, st.stack);
  box.scrollIntoView({block: "start"});
}

document.getElementById("meta").textContent = DATA.meta;
buildFilters();
render();
</script>
</body>
</html>
"""


def render_html(matrix: Matrix, catalog: Mapping[str, Signature] | None = None) -> str:
    catalog = catalog or {s.id: s for s in BUILTIN_SIGNATURES}
    data = matrix.to_dict()
    machines = sorted({s["host"] for s in matrix.sources})
    data["meta"] = (
        f"{len(matrix.cells)} cells from {len(matrix.sources)} runs on "
        f"{'; '.join(machines) or 'unknown machines'}; generated {matrix.generated}."
    )
    data["outcomes"] = list(OUTCOMES)
    data["signatures"] = {
        sid: {"explanation": s.explanation, "fix": s.fix, "severity": s.severity}
        for sid, s in catalog.items()
    }
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    # Inside <script> only "</" (and "<!--") can end or confuse the element: escape every "<".
    text = text.replace("<", "\\u003c")
    bisections = "".join(
        f"<li><code>{escape(b['scenario'])}</code> ({escape(b['method'])}, Python "
        f"{escape(b['python'])}): {escape(b['summary'])}</li>"
        for b in matrix.bisections
    )
    section = f'<section id="bisections"><h2>Bisections</h2><ul>{bisections}</ul></section>\n'
    page = _PAGE.replace("__BISECTIONS__", section if bisections else "")
    return page.replace("__DATA__", text)
