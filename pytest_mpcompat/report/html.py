"""index.html: one page (no network) with the answers as static HTML, then a coloured grid with
filters and the details of each cell in a side panel.

The grid's data travels as JSON inside a ``<script type="application/json">`` element with every
``<`` escaped; each cell's details (output, stacks) are in ``details/NNNN.js`` beside the page,
loaded when a cell is opened. The page's script inserts every string with ``textContent``:
output captured from a scenario (HTML, a ``<script>``) is shown as text, never parsed as markup.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from html import escape
from pathlib import Path
from typing import Any

from ..model import OUTCOMES
from ..signatures import BUILTIN_SIGNATURES, Signature
from .answers import answers, coverage, describe, icon, scenario_doc
from .insight import changes_by_scenario
from .merge import DETAILS_CHUNK, DETAILS_FILES, Matrix

__all__ = ["details_files", "render_html", "write_html"]

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pytest-mpcompat compatibility matrix</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1rem 1.5rem; color: #1a1a1a; }
h1 { font-size: 1.4rem; margin: 0 0 .2rem; }
h2 { font-size: 1.1rem; margin: 1.2rem 0 .3rem; }
#meta, p.fixed, #coverage { color: #444; font-size: 13px; margin: 0 0 .5rem; }
#answers { max-width: 70rem; }
#answers h3 { font-size: 14px; margin: .6rem 0 .2rem; }
#answers ul { margin: 0 0 .3rem; padding-left: 1.2rem; }
#answers li { margin: .1rem 0; }
#answers .what, #answers .tested { color: #444; font-size: 13px; }
.mark { display: inline-block; min-width: 4.6em; font-weight: 600; font-size: 12px; padding: 0 4px;
        margin-right: 4px; border-radius: 3px; text-align: center; }
#filters { display: flex; flex-wrap: wrap; gap: .4rem 1rem; margin: .8rem 0 .4rem; }
#filters label { display: flex; flex-direction: column; font-size: 12px; color: #444; }
.scroll { overflow: auto; max-height: 80vh; max-width: 100%; border: 1px solid #ccc;
          margin-bottom: .5rem; }
table { border-collapse: separate; border-spacing: 0; }
th, td { border-right: 1px solid #ddd; border-bottom: 1px solid #ddd; padding: 3px 6px;
         text-align: left; vertical-align: top; }
thead th { position: sticky; top: 0; z-index: 2; background: #f3f3f3; font-size: 12px; }
tbody th { position: sticky; left: 0; z-index: 1; background: #fafafa; font-weight: 500;
           white-space: nowrap; font-size: 12px; }
thead th.corner { left: 0; z-index: 3; }
td.cell { cursor: pointer; white-space: nowrap; font-size: 12px; }
.pass { background: #d8f5d8; } .warn, .degraded { background: #fff0b3; }
.crash { background: #f8c9c9; } .hang { background: #e3cff5; }
.skip { background: #eee; color: #555; } .error { background: #f5a3a3; } .clean { background: #d8f5d8; }
td.cell:focus, td.selected { outline: 3px solid #2457d6; outline-offset: -3px; }
#details { position: fixed; top: 0; right: 0; width: min(46rem, 48vw); height: 100vh;
           overflow: auto; box-sizing: border-box; padding: .8rem 1rem; background: #fafafa;
           border-left: 2px solid #888; box-shadow: -4px 0 12px rgba(0,0,0,.15); z-index: 10; }
#details[hidden] { display: none; }
#details button.close { float: right; }
pre { background: #fff; border: 1px solid #ddd; padding: .5rem; max-height: 22rem; overflow: auto;
      white-space: pre-wrap; word-break: break-all; font-size: 12px; }
mark { background: #ffe066; }
.legend span { display: inline-block; padding: 0 6px; margin-right: 4px; border: 1px solid #ccc; }
@media (max-width: 700px) {
  body { margin: .5rem; }
  #details { width: 100vw; }
  .scroll { max-height: 70vh; }
}
</style>
</head>
<body>
<h1>Multiprocessing compatibility matrix</h1>
<section id="answers"><h2>Answers</h2>__ANSWERS__</section>
__CHANGES__
<p id="coverage"><strong>Coverage:</strong> __COVERAGE__</p>
<div id="meta">__META__</div>
__BISECTIONS__<h2>Every cell</h2>
<noscript><p>The grid below needs JavaScript; the answers above and COMPATIBILITY.md do not.</p></noscript>
<div class="legend"><span class="pass">pass</span><span class="warn">pass, but its output shows
 a failure</span><span class="crash">crash</span><span class="hang">hang</span><span
 class="skip">skip</span><span class="error">error</span></div>
<div id="filters"></div>
<div id="count"></div>
<div id="grids"></div>
<aside id="details" hidden tabindex="-1"></aside>
<script type="application/json" id="data">__DATA__</script>
<script>
"use strict";
const DATA = JSON.parse(document.getElementById("data").textContent);
// Cells travel compact (indices into the scenario, configuration and run tables); each is
// given its readable names once, sharing the tables' objects.
for (const c of DATA.cells) {
  c.scenario = DATA.scenarios[c.s]; c.axes = DATA.configs[c.c]; c.run = DATA.sources[c.r] || {};
  c.method = c.m; c.verdict = c.v; c.outcome = c.o; c.signatures = c.sg || [];
  c.status = c.st || null; c.ran_as = c.as || null; c.reason = c.why || "";
}
DATA.cells.forEach((c, i) => { c.i = i; c.fam = family(c.scenario); });
const SIGS = DATA.signatures;
const AXES = DATA.axes.filter(a => a !== "method");
for (const cfg of DATA.configs) {  // the configuration less its start method, as a key
  Object.defineProperty(cfg, "__full", {value: AXES.map(a => cfg[a]).join("|")});
}
const METHODS = ["fork", "spawn", "forkserver"];
const OUTCOMES = DATA.outcomes;  // better to worse (model.OUTCOMES)
// Filters: every axis, the outcome and the scenario; their state lives in the URL's query.
const KEYS = [...DATA.axes, "outcome", "scenario"];
const filters = {};
const params = new URLSearchParams(location.search);
for (const k of KEYS) if (params.get(k)) filters[k] = params.get(k);
let showSkips = params.get("notrun") === "1";

function saveState() {
  const q = new URLSearchParams(filters);
  if (showSkips) q.set("notrun", "1");
  const text = q.toString();
  history.replaceState(null, "", text ? "?" + text : location.pathname);
}

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}
function cellClass(cell) { return cell.outcome === "degraded" ? "warn" : cell.verdict; }
function value(cell, key) {
  if (key === "outcome") return cell.outcome;
  if (key === "scenario") return cell.scenario.split("/").pop();
  if (key === "method") return cell.method;
  return cell.axes[key] || "";
}
function visible(cell) {
  for (const k in filters) if (filters[k] !== value(cell, k)) return false;
  return true;
}
function versionKey(v) {
  const parts = String(v).split(/[^0-9]+/).filter(Boolean).map(Number);
  return parts.length ? parts : [Infinity];
}
function byVersion(a, b) {
  const x = versionKey(a), y = versionKey(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] === undefined ? -1 : x[i]) - (y[i] === undefined ? -1 : y[i]);
    if (d) return d;
  }
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

function buildFilters() {
  const box = document.getElementById("filters");
  for (const key of KEYS) {
    const values = [...new Set(DATA.cells.map(c => value(c, key)))];
    values.sort(key === "outcome" ? (a, b) => OUTCOMES.indexOf(a) - OUTCOMES.indexOf(b) : byVersion);
    if (values.length < 2 && !filters[key]) continue;  // only what varies
    const label = el("label", key);
    const select = el("select");
    select.id = "filter-" + key;
    select.appendChild(el("option", "all"));
    select.options[0].value = "";
    for (const v of values) { const o = el("option", v); o.value = v; select.appendChild(o); }
    select.value = filters[key] || "";
    select.addEventListener("change", () => {
      if (select.value) filters[key] = select.value; else delete filters[key];
      saveState();
      render();
    });
    label.appendChild(select);
    box.appendChild(label);
  }
  const label = el("label", "show not run");
  const check = el("input");
  check.type = "checkbox";
  check.id = "filter-notrun";
  check.checked = showSkips;
  check.addEventListener("change", () => { showSkips = check.checked; saveState(); render(); });
  label.appendChild(check);
  box.appendChild(label);
}

function family(scenario) { return scenario.split("/").pop().split("_")[0]; }

function cellText(group) {
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
  return [cell, text];
}

// The grid draws at most this many rows at first (more on request): 100,000 cells must not
// freeze the page. The count says how many match and how many rows are drawn.
const ROWS_STEP = 250;
let rowBudget = ROWS_STEP;

function render() {
  const cells = DATA.cells.filter(visible);
  const root = document.getElementById("grids");
  root.replaceChildren();
  const byFamily = new Map();
  for (const c of cells) {
    const fam = c.fam;
    if (!byFamily.has(fam)) byFamily.set(fam, []);
    byFamily.get(fam).push(c);
  }
  let drawn = 0, rowsTotal = 0;
  for (const fam of [...byFamily.keys()].sort()) {
    let mine = byFamily.get(fam);
    // A configuration where nothing was measured (all skips) is hidden unless asked for: its
    // reasons are in the answers and the coverage line.
    const full = c => c.axes.__full;  // the configuration less its start method, computed once
    let hidden = 0;
    if (!showSkips) {
      const measured = new Set(mine.filter(c => c.verdict !== "skip").map(full));
      hidden = new Set(mine.filter(c => !measured.has(full(c))).map(full)).size;
      mine = mine.filter(c => measured.has(full(c)));
    }
    const scenarios = [...new Set(mine.map(c => c.scenario))];
    const present = new Set(mine.map(c => c.scenario + "|" + c.method));
    const rows = [];
    for (const sc of scenarios) for (const m of METHODS) if (present.has(sc + "|" + m)) rows.push([sc, m]);
    rowsTotal += rows.length;
    if (!rows.length || drawn >= rowBudget) continue;
    // Columns are the configurations (versions first), labelled by the axes that vary within
    // this family; the axes that do not vary are said once above the table.
    const axes = AXES.filter(a => mine.some(c => c.axes[a] !== undefined));
    const varying = axes.filter(a => new Set(mine.map(c => c.axes[a])).size > 1);
    // The family's own package leads (kserve for kserve_*), then Python, then the rest.
    const rank = a => a.startsWith(fam) ? 0 : a === "python" ? 1 : 2;
    varying.sort((a, b) => rank(a) - rank(b));
    const fixed = axes.filter(a => !varying.includes(a)).map(a => a + " " + mine[0].axes[a]);
    // A column's key, once per configuration (there are far fewer of them than cells).
    const keys = new Map();
    const key = c => {
      let k = keys.get(c.c);
      if (k === undefined) {
        k = varying.map(a => c.axes[a] === undefined ? "-" : c.axes[a]).join(" | ");
        keys.set(c.c, k);
      }
      return k;
    };
    const configs = [...new Map(mine.map(c => [key(c), varying.map(a => c.axes[a])])).entries()];
    configs.sort((x, y) => {
      for (let i = 0; i < varying.length; i++) {
        const d = byVersion(x[1][i] === undefined ? "" : x[1][i], y[1][i] === undefined ? "" : y[1][i]);
        if (d) return d;
      }
      return 0;
    });
    // Column labels: the leading axes only, unless two columns would then read the same.
    const lead = varying.filter(a => rank(a) < 2);
    const distinct = names => names.length > 0 && new Set(configs.map(([, v]) =>
      names.map(a => v[varying.indexOf(a)]).join("|"))).size === configs.length;
    const heads = distinct(lead) ? lead : varying;
    const label = values => heads.map(a => values[varying.indexOf(a)])
      .map(v => v === undefined ? "-" : v).join(" | ");
    root.appendChild(el("h2", fam));
    if (fixed.length) root.appendChild(el("p", "every cell: " + fixed.join(", "), "fixed"));
    if (hidden) root.appendChild(el("p", hidden + " configuration(s) with nothing measured hidden (see \u201cshow not run\u201d)", "fixed"));
    const scroll = el("div", null, "scroll");
    const table = el("table", null, "grid");
    const head = el("thead"), body = el("tbody");
    const r1 = el("tr");
    r1.appendChild(el("th", "scenario \u00b7 method  \u2192  " + (heads.join(" | ") || "configuration"), "corner"));
    for (const [cfg, values] of configs) {
      const th = el("th", label(values) || "(one configuration)");
      th.title = cfg;
      r1.appendChild(th);
    }
    head.append(r1);
    // Every result of a configuration is kept (repeats, several machines): never last-wins.
    const index = new Map();
    for (const c of mine) {
      const k = c.scenario + "|" + c.method + "|" + key(c);
      if (!index.has(k)) index.set(k, []);
      index.get(k).push(c);
    }
    for (const [sc, m] of rows) {
      if (drawn >= rowBudget) break;
      drawn += 1;
      const tr = el("tr");
      tr.appendChild(el("th", sc.split("/").pop().replace(/\\.py$/, "") + " \u00b7 " + m));
      for (const [cfg] of configs) {
        const group = index.get(sc + "|" + m + "|" + cfg);
        if (!group) { tr.appendChild(el("td", "")); continue; }
        const [cell, text] = cellText(group);
        const td = el("td", text, "cell " + cellClass(cell));
        td.tabIndex = 0;
        td.title = cell.reason || "";
        const open = () => {
          document.querySelectorAll("td.selected").forEach(n => n.classList.remove("selected"));
          td.classList.add("selected");
          showDetails(cell, td);
        };
        td.addEventListener("click", open);
        td.addEventListener("keydown", ev => {
          if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); open(); }
          else move(td, ev);
        });
        tr.appendChild(td);
      }
      body.appendChild(tr);
    }
    table.append(head, body);
    scroll.appendChild(table);
    root.appendChild(scroll);
  }
  let count = cells.length + " of " + DATA.cells.length + " cells match";
  if (drawn < rowsTotal) {
    count += "; " + drawn + " of " + rowsTotal + " rows drawn";
    const more = el("button", "draw " + Math.min(ROWS_STEP, rowsTotal - drawn) + " more rows");
    more.id = "more-rows";
    more.addEventListener("click", () => { rowBudget += ROWS_STEP; render(); });
    root.appendChild(more);
  }
  document.getElementById("count").textContent = count;
}

function move(td, ev) {
  const steps = {ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0]};
  const step = steps[ev.key];
  if (!step) return;
  ev.preventDefault();
  const row = td.parentElement, rows = [...row.parentElement.children];
  const r = rows.indexOf(row) + step[0], c = [...row.children].indexOf(td) + step[1];
  const next = rows[r] && rows[r].children[c];
  if (next && next.tagName === "TD" && next.tabIndex === 0) next.focus();
}

function section(parent, title, text, highlight) {
  if (!text) return;
  parent.appendChild(el("h3", title));
  const pre = el("pre");
  const at = highlight ? text.lastIndexOf(highlight) : -1;
  if (at >= 0) {  // the line that matched a signature, marked
    pre.append(text.slice(0, at), el("mark", highlight), text.slice(at + highlight.length));
  } else {
    pre.textContent = text;
  }
  parent.appendChild(pre);
  pre.scrollTop = pre.scrollHeight;  // output: its end is where the error shows
  if (at >= 0) pre.querySelector("mark").scrollIntoView({block: "center"});
}

// A cell's details (output, stacks, serving record) are loaded on demand from the details
// files beside the page, DATA.chunk cells to a file: plain script tags, so that a page opened
// from disk (file://) can load them too.
const chunks = new Map();  // number -> cells, or the callbacks waiting for it
window.mpcompatDetails = (n, cells) => {
  const waiting = chunks.get(n);
  chunks.set(n, cells);
  if (Array.isArray(waiting && waiting.callbacks)) waiting.callbacks.forEach(f => f());
};
function withDetails(i, then) {
  const n = Math.floor(i / DATA.chunk);
  const got = chunks.get(n);
  if (Array.isArray(got)) return then(got[i % DATA.chunk]);
  if (got) { got.callbacks.push(() => then(chunks.get(n)[i % DATA.chunk])); return; }
  chunks.set(n, {callbacks: [() => then(chunks.get(n)[i % DATA.chunk])]});
  const script = document.createElement("script");
  script.src = DATA.files.replace("{chunk:04d}", String(n).padStart(4, "0"));
  script.onerror = () => { chunks.delete(n); then(null); };
  document.head.appendChild(script);
}

const box = document.getElementById("details");
box.addEventListener("keydown", ev => { if (ev.key === "Escape") box.querySelector("button.close").click(); });

function showDetails(cell, from) {
  withDetails(cell.i, full => {
    if (full) return showFull(full, from);
    box.replaceChildren(el("p", "The details of this cell are in " + DATA.files + ", which is missing beside this page."));
    box.hidden = false;
  });
}

function showFull(cell, from) {
  box.replaceChildren();
  box.hidden = false;
  const close = el("button", "close \u2715", "close");
  close.addEventListener("click", () => { box.hidden = true; if (from) from.focus(); });
  box.appendChild(close);
  box.appendChild(el("h2", cell.scenario + " \u2014 " + cell.method + ": " + cell.verdict));
  const doc = DATA.docs[cell.scenario];
  if (doc && doc[0]) box.appendChild(el("p", doc[0]));
  const facts = el("ul");
  const add = (k, v) => { if (v !== null && v !== undefined && v !== "") facts.appendChild(el("li", k + ": " + v)); };
  add("outcome", cell.outcome);
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
  if (doc && doc[1]) { const p = el("p"); p.appendChild(el("strong", "Fix (scenario): ")); p.append(doc[1]); box.appendChild(p); }
  const matched = Object.values(cell.matches || {})[0] || "";
  if (cell.serving) section(box, "serving", JSON.stringify(cell.serving, null, 1));
  for (const leak of cell.leaked || []) section(box, "leaked process", leak);
  section(box, "stderr (end)", cell.stderr_tail, matched);
  section(box, "stdout (end)", cell.stdout_tail, matched);
  for (const st of cell.stacks || []) section(box, "stack of " + st.pid + " (" + st.tool + "): " + st.cmdline, st.stack);
  box.focus();
}

buildFilters();
render();
</script>
</body>
</html>
"""


def _answers(matrix: Matrix, catalog: Mapping[str, Signature]) -> str:
    """The answers block as static HTML: readable without JavaScript, first on the page."""
    out = []
    for answer in answers(matrix, catalog):
        heading, sentences, tested = describe(answer)
        out.append(f"<h3>{escape(heading)}</h3><ul>")
        for line, sentence in zip(answer.lines, sentences, strict=True):
            mark = icon(line)
            out.append(f'<li><span class="mark {mark}">{mark}</span>{escape(sentence)}</li>')
        if answer.fixes:
            fixes = "".join(
                f"<li><code>{escape(w)}</code>: {escape(f)}</li>" for w, f in answer.fixes
            )
            out.append(f'<li class="what">What to do:<ul>{fixes}</ul></li>')
        out.append(f'<li class="tested">Tested: {escape(tested)}.</li></ul>')
    return "\n".join(out)


def _page_data(matrix: Matrix, catalog: Mapping[str, Signature]) -> dict[str, Any]:
    """What the page's script reads: cells as indices into tables of scenarios, configurations
    and runs (100,000 cells stay a few MB), with the fields the grid draws."""
    index = matrix.to_dict()
    scenarios: dict[str, int] = {}
    configs: dict[tuple[tuple[str, str], ...], int] = {}
    cells = []
    for summary in index["cells"]:
        config = tuple(summary["axes"].items())
        compact = {
            "s": scenarios.setdefault(summary["scenario"], len(scenarios)),
            "c": configs.setdefault(config, len(configs)),
            "r": summary["source"],
            "m": summary["method"],
            "v": summary["verdict"],
            "o": summary["outcome"],
        }
        short = {"sg": summary["signatures"], "st": summary.get("status"),
                 "as": summary.get("ran_as"), "why": summary.get("reason")}  # fmt: skip
        compact.update((k, v) for k, v in short.items() if v)
        cells.append(compact)
    return {
        "axes": index["axes"],
        "outcomes": list(OUTCOMES),
        "signatures": {
            sid: {"explanation": s.explanation, "fix": s.fix, "severity": s.severity}
            for sid, s in catalog.items()
        },
        "docs": {sc: scenario_doc(sc) for sc in scenarios},
        "scenarios": list(scenarios),
        "configs": [dict(c) for c in configs],
        "sources": [{k: s[k] for k in ("session", "machine", "started")} for s in matrix.sources],
        "chunk": DETAILS_CHUNK,
        "files": DETAILS_FILES,
        "cells": cells,
    }


def _script_json(data: Any) -> str:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    # Inside <script> only "</" (and "<!--") can end or confuse the element: escape every "<".
    return text.replace("<", "\\u003c")


def render_html(matrix: Matrix, catalog: Mapping[str, Signature] | None = None) -> str:
    """index.html itself; the cells' details are ``details_files``, written beside it."""
    catalog = catalog or {s.id: s for s in BUILTIN_SIGNATURES}
    machines = sorted({s["host"] for s in matrix.sources})
    meta = (
        f"{len(matrix.cells)} cells from {len(matrix.sources)} runs on "
        f"{'; '.join(machines) or 'unknown machines'}; generated {matrix.generated}."
    )
    bisections = "".join(
        f"<li><code>{escape(b['scenario'])}</code> ({escape(b['method'])}, Python "
        f"{escape(b['python'])}): {escape(b['summary'])}</li>"
        for b in matrix.bisections
    )
    section = f'<section id="bisections"><h2>Bisections</h2><ul>{bisections}</ul></section>\n'
    merged = changes_by_scenario(matrix.to_dict()["insights"])
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
        "META": escape(meta),
        "COVERAGE": escape(coverage(matrix)),
        "ANSWERS": _answers(matrix, catalog),
        "BISECTIONS": section if bisections else "",
        "DATA": _script_json(_page_data(matrix, catalog)),
    }
    # One pass: a placeholder's name inside the data (a hostile scenario name) stays text.
    return re.sub(r"__([A-Z]+)__", lambda m: parts.get(m.group(1), m.group(0)), _PAGE)


def details_files(matrix: Matrix) -> Iterator[tuple[str, str]]:
    """(relative path, text) of each details file: ``DETAILS_CHUNK`` cells in full, as a script
    the page loads when one of them is opened (``mpcompatDetails(n, [cells])``)."""
    for n, start in enumerate(range(0, len(matrix.cells), DETAILS_CHUNK)):
        stop = min(start + DETAILS_CHUNK, len(matrix.cells))
        cells = [matrix.details(i) for i in range(start, stop)]
        # JSON is a JavaScript expression (U+2028 and U+2029 included, since ES2019).
        text = json.dumps(cells, ensure_ascii=False, separators=(",", ":"))
        yield DETAILS_FILES.format(chunk=n), f"mpcompatDetails({n}, {text});\n"


def write_html(matrix: Matrix, out: Path, catalog: Mapping[str, Signature] | None = None) -> None:
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
    (out / "index.html").write_text(render_html(matrix, catalog), encoding="utf-8")
