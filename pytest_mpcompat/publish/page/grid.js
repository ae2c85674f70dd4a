// The grid of index.html. Python (publish/grid.py) decided every table: its rows, columns,
// labels, order, the text and colour of each place and which cell it opens, the filters and
// the order of their values, and every word of a cell's panel (publish/panel.py). This script
// only filters, draws and opens cells.
(() => {
"use strict";

const DATA = JSON.parse(document.getElementById("data").textContent);
const KEYS = DATA.filters.map(f => f.key);
// The cells, for the filters, by column: configuration, scenario and outcome (indices into
// DATA's tables) and the place that shows it. The places, by column too: row and column in
// their family's table, text and reason (indices into DATA.texts), colour (into DATA.outcomes)
// and the cell each opens; family k's are its first to first + count.
const CELLS = DATA.cells;
const COUNT = CELLS.outcome.length;
const PLACES = DATA.places;

// The filters' state lives in the URL's query: a shared link opens the same view.
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

function value(i, key) {
  if (key === "outcome") return DATA.outcomes[CELLS.outcome[i]];
  if (key === "scenario") return DATA.scenarios[CELLS.scenario[i]];
  const v = DATA.configs[CELLS.config[i]][key];
  return v === undefined ? "" : v;
}

function visible(i) {
  for (const k in filters) if (filters[k] !== value(i, k)) return false;
  return true;
}

function buildFilters() {
  const box = document.getElementById("filters");
  for (const {key, options, varies} of DATA.filters) {
    if (!varies && filters[key] === undefined) continue;  // only what varies, or what a link set
    const label = el("label", key);
    const select = el("select");
    select.id = "filter-" + key;
    select.appendChild(el("option", "all"));
    select.options[0].value = "";
    const known = new Set(options.map(([v]) => v));
    // A value from a link that no cell has (a Python no run measured) is kept, and said so.
    if (filters[key] !== undefined && !known.has(filters[key])) {
      options.push([filters[key], filters[key] + " (no cell)"]);
    }
    for (const [v, text] of options) {
      const o = el("option", text);
      o.value = v;
      select.appendChild(o);
    }
    select.value = filters[key] === undefined ? "" : filters[key];
    select.addEventListener("change", () => {
      if (select.value) filters[key] = select.value;
      else delete filters[key];
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
  check.addEventListener("change", () => {
    showSkips = check.checked;
    saveState();
    render();
  });
  label.appendChild(check);
  box.appendChild(label);
}

// The grid draws at most this many rows at first (more on request): 100,000 cells must not
// freeze the page. The count says how many match and how many rows are drawn.
const ROWS_STEP = 250;
let rowBudget = ROWS_STEP;

// A family's table is worked out for two views: what was measured, and everything.
const view = () => (showSkips ? 1 : 0);

// A label that may break after each "_" of a scenario's name, never inside a word.
function breakable(node, text) {
  text.split("_").forEach((part, i) => {
    if (i) node.append("_", document.createElement("wbr"));
    node.append(part);
  });
  return node;
}

function drawTable(fam, places, rows, cols) {
  const table = el("table", null, "grid");
  const head = el("thead");
  const body = el("tbody");
  const top = el("tr");
  top.appendChild(el("th", fam.corner[view()], "corner"));
  for (const c of cols) {
    const th = el("th", fam.columns[c].labels[view()]);
    th.title = fam.columns[c].title;
    top.appendChild(th);
  }
  head.append(top);
  const at = new Map(places.map(p => [PLACES.row[p] + "|" + PLACES.col[p], p]));
  for (const r of rows) {
    const tr = el("tr");
    tr.appendChild(breakable(el("th"), fam.rows[r].label));
    for (const c of cols) {
      const place = at.get(r + "|" + c);  // a number, 0 included
      tr.appendChild(place === undefined ? el("td", "") : drawPlace(place));
    }
    body.appendChild(tr);
  }
  table.append(head, body);
  const first = body.querySelector("td.cell");
  if (first) first.tabIndex = 0;
  return table;
}

function drawPlace(p) {
  // (a place of the grid: one configuration's results for one row)
  const td = el("td", DATA.texts[PLACES.text[p]], "cell " + DATA.outcomes[PLACES.class[p]]);
  const sigs = DATA.texts[PLACES.sigs[p]];
  if (sigs) td.append(" ", el("span", sigs, "sigs"));  // left to the panel on a phone
  td.tabIndex = -1;  // one tab stop per grid (its first cell); the arrows move within it
  td.title = DATA.texts[PLACES.reason[p]];
  const open = () => {
    document.querySelectorAll("td.selected").forEach(n => n.classList.remove("selected"));
    td.classList.add("selected");
    showDetails(PLACES.opens[p], td);
  };
  td.addEventListener("click", open);
  td.addEventListener("keydown", ev => {
    if (ev.key === "Enter" || ev.key === " ") {
      ev.preventDefault();
      open();
    } else {
      move(td, ev);
    }
  });
  return td;
}

function render() {
  const root = document.getElementById("grids");
  root.replaceChildren();
  // How many of each place's cells pass the filters: one pass over the cells.
  const passing = new Int32Array(PLACES.row.length);
  let matching = 0;
  for (let i = 0; i < COUNT; i++) {
    if (visible(i)) {
      passing[CELLS.place[i]]++;
      matching++;
    }
  }
  const tally = {drawn: 0, rows: 0, shown: 0, hidden: 0};
  for (const fam of DATA.families) drawFamily(root, fam, passing, tally);
  let count = tally.shown + " of " + COUNT + " cells shown";
  if (tally.hidden) count += "; " + tally.hidden + " not run are hidden (tick \u201cshow not run\u201d)";
  if (tally.drawn < tally.rows) count += "; " + tally.drawn + " of " + tally.rows + " rows drawn";
  document.getElementById("count").textContent = count;
  if (!tally.rows) root.appendChild(emptyState(matching));
  if (tally.drawn < tally.rows) {
    const more = el("button", "draw " + Math.min(ROWS_STEP, tally.rows - tally.drawn) + " more rows");
    more.id = "more-rows";
    more.addEventListener("click", () => {
      rowBudget += ROWS_STEP;
      render();
    });
    root.appendChild(more);
  }
}

// Why nothing is drawn: no cell matches, or every match is a cell that was not run.
function emptyState(matching) {
  const box = el("p", null, "empty");
  if (matching) {
    box.append(matching + " cells match, and none of them was run: tick \u201cshow not run\u201d to see them.");
  } else {
    box.append("No cell matches these filters. The runs with no result are listed under ");
    const link = el("a", "Not measured");
    link.href = "#not-measured";
    box.append(link, ".");
  }
  return box;
}

function drawFamily(root, fam, passing, tally) {
  // A place is shown when one of its cells passes the filters; a column with nothing
  // measured only when asked for.
  const places = [];
  for (let p = fam.first; p < fam.first + fam.count; p++) {
    if (!passing[p]) continue;
    if (showSkips || fam.columns[PLACES.col[p]].measured) places.push(p);
    else tally.hidden += passing[p];
  }
  const rows = [...new Set(places.map(p => PLACES.row[p]))].sort((a, b) => a - b);
  const cols = [...new Set(places.map(p => PLACES.col[p]))].sort((a, b) => a - b);
  tally.rows += rows.length;
  if (!rows.length || tally.drawn >= rowBudget) return;
  const shown = rows.slice(0, rowBudget - tally.drawn);
  tally.drawn += shown.length;
  const drawnRows = new Set(shown);
  for (const p of places) if (drawnRows.has(PLACES.row[p])) tally.shown += passing[p];
  {
    const heading = el("h2", fam.name);
    heading.id = "grid-" + fam.name;
    root.appendChild(heading);
    if (fam.fixed[view()]) root.appendChild(el("p", fam.fixed[view()], "fixed"));
    if (fam.hidden && !showSkips) {
      const note = fam.hidden + (fam.hidden === 1 ? " configuration" : " configurations")
        + " with nothing measured hidden (see \u201cshow not run\u201d)";
      root.appendChild(el("p", note, "fixed"));
    }
    // A scrollable region is reached from the keyboard too.
    const scroll = el("div", null, "scroll");
    scroll.tabIndex = 0;
    scroll.setAttribute("role", "region");
    scroll.setAttribute("aria-label", fam.name + " grid");
    scroll.appendChild(drawTable(fam, places, shown, cols));
    root.appendChild(scroll);
  }
}

function move(td, ev) {
  const steps = {ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0]};
  const step = steps[ev.key];
  if (!step) return;
  ev.preventDefault();
  const row = td.parentElement;
  const rows = [...row.parentElement.children];
  const r = rows.indexOf(row) + step[0];
  const c = [...row.children].indexOf(td) + step[1];
  const next = rows[r] && rows[r].children[c];
  if (next && next.tagName === "TD" && next.classList.contains("cell")) {
    td.tabIndex = -1;
    next.tabIndex = 0;
    next.focus();
  }
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
  pre.tabIndex = 0;  // a scrollable region is reached from the keyboard too
  pre.setAttribute("aria-label", title);
  parent.appendChild(pre);
  // Scrolled within itself, never the panel (which opens at its top): to the matched line, else
  // to the end of the output, where an error shows.
  const mark = pre.querySelector("mark");
  pre.scrollTop = mark ? mark.offsetTop - pre.offsetTop - pre.clientHeight / 2 : pre.scrollHeight;
}

// A cell's details (output, stacks, serving record) are loaded on demand from the details
// files beside the page, DATA.chunk cells to a file: plain script tags, so that a page opened
// from disk (file://) can load them too.
const chunks = new Map();  // number -> cells, or the callbacks waiting for it
window.mpcompatDetails = (n, cells) => {
  const waiting = chunks.get(n);
  chunks.set(n, cells);
  if (waiting && Array.isArray(waiting.callbacks)) waiting.callbacks.forEach(f => f());
};

function withDetails(i, then) {
  const n = Math.floor(i / DATA.chunk);
  const got = chunks.get(n);
  if (Array.isArray(got)) return then(got[i % DATA.chunk]);
  if (got) {
    got.callbacks.push(() => then(chunks.get(n)[i % DATA.chunk]));
    return undefined;
  }
  chunks.set(n, {callbacks: [() => then(chunks.get(n)[i % DATA.chunk])]});
  const script = document.createElement("script");
  script.src = DATA.files[n];
  script.onerror = () => {
    chunks.delete(n);
    then(null);
  };
  document.head.appendChild(script);
  return undefined;
}

const box = document.getElementById("details");
// Escape closes an open panel wherever the focus is.
document.addEventListener("keydown", ev => {
  const close = box.querySelector("button.close");
  if (ev.key === "Escape" && !box.hidden && close) close.click();
});

function showDetails(i, from) {
  withDetails(i, full => {
    if (full) {
      showFull(full, from);
      return;
    }
    const file = DATA.files[Math.floor(i / DATA.chunk)];
    const missing = "The details of this cell are in " + file + ", which is missing beside this page.";
    box.replaceChildren(el("p", missing));
    box.hidden = false;
  });
}

// Pieces of text, each [is code, text], as nodes.
function spans(parent, pieces) {
  for (const [code, text] of pieces) parent.append(code ? el("code", text) : text);
}

// A part of the cell's record, by its path: ["stderr_tail"], ["stacks", 0, "stack"].
function partOf(cell, path) {
  const found = path.reduce((v, k) => (v === undefined || v === null ? v : v[k]), cell);
  return typeof found === "string" ? found : JSON.stringify(found, null, 1);
}

function showFull(cell, from) {
  const panel = cell.panel;
  box.replaceChildren();
  box.hidden = false;
  const close = el("button", "close \u2715", "close");
  close.addEventListener("click", () => {
    box.hidden = true;
    document.body.classList.remove("panel-open");
    if (from) from.focus();
  });
  box.appendChild(close);
  box.appendChild(el("h2", panel.title));
  if (panel.lead) box.appendChild(el("p", panel.lead));
  const list = el("ul");
  for (const [label, text] of panel.facts) list.appendChild(el("li", label + ": " + text));
  box.appendChild(list);
  for (const [label, pieces] of panel.notes) {
    const p = el("p");
    p.appendChild(el("strong", label));
    spans(p, pieces);
    box.appendChild(p);
  }
  for (const [title, path, mark] of panel.sections) section(box, title, partOf(cell, path), mark);
  // The page makes room for the panel (on a wide screen), so the selected cell stays in view.
  document.body.classList.add("panel-open");
  if (from) from.scrollIntoView({block: "nearest", inline: "nearest"});
  box.scrollTop = 0;
  close.focus();
}

buildFilters();
render();
if (location.hash) {  // a link into a family's grid: the grid is drawn now, so scroll to it
  const target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
  if (target) target.scrollIntoView();
}
})();
