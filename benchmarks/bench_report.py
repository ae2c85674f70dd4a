"""The report at scale, this renderer beside an earlier one, in one run.

For N synthetic cells (100,000 by default, written as 20 raw files by ``_synthetic.py``), each
renderer merges them (``mpcompat-report merge``, run from its own source tree), then the page
is opened in headless Chromium:

* merge: seconds, and the size of the largest file written (the limit is 50 MB);
* first render: from the start of navigation until the grid is drawn (``#count`` has text);
* filter change: one filter set in the page, the script's work and the layout it forces;
* the Markdown's size (a GitHub job summary takes 1 MiB).

The earlier renderer comes from a git revision (``--before``, checked out in a temporary
worktree). Run by hand or by ``nox -s bench``: python benchmarks/bench_report.py --json OUT
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
ROOT = HERE.parent

# Picks the first Python in the Python filter (both pages have it) and returns the milliseconds
# the page took to redraw.
_FILTER_CHANGE = """() => {
  const select = document.querySelector("#filter-python");
  const start = performance.now();
  select.value = select.options[1].value;
  select.dispatchEvent(new Event("change"));
  document.body.offsetHeight;  // the layout the change forces
  return [select.id, select.value, performance.now() - start];
}"""


def merge(tree: Path, raw: Path, out: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pytest_mpcompat.publish", "merge", str(raw), "--out", str(out)],
        check=True, env=env, capture_output=True, cwd=tree,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    files = [p for p in out.rglob("*") if p.is_file()]
    largest = max(files, key=lambda p: p.stat().st_size)
    return {
        "merge_s": round(seconds, 1),
        "largest_file": largest.relative_to(out).as_posix(),
        "largest_mb": round(largest.stat().st_size / 1e6, 1),
        "index_html_mb": round((out / "index.html").stat().st_size / 1e6, 1),
        "matrix_json_mb": round((out / "matrix.json").stat().st_size / 1e6, 1),
        "markdown_kib": round((out / "COMPATIBILITY.md").stat().st_size / 1024),
        "files": len(files),
    }


def browse(page_path: Path, chromium: str) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            start = time.perf_counter()
            page.goto(page_path.as_uri(), timeout=300_000)
            page.wait_for_function(
                "document.getElementById('count').textContent.length > 0", timeout=300_000
            )
            first = time.perf_counter() - start
            count = page.locator("#count").inner_text()
            tds = page.locator("td.cell").count()
            name, value, ms = page.evaluate(_FILTER_CHANGE)
            return {
                "first_render_s": round(first, 2),
                "count_text": count,
                "cells_drawn": tds,
                "filter_change_ms": round(ms),
                "filter": f"{name}={value}",
            }
        finally:
            browser.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cells", type=int, default=100_000)
    parser.add_argument(
        "--before",
        default="4dd639a",
        help="git revision of the earlier renderer, or none; one that cannot "
        "read today's raw results fails (keep its figures with --keep)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the other entries of the --json file (earlier renderers)",
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("bench_report: needs Chromium (apt-get install chromium) and playwright")
    results: dict[str, Any] = {"cells": args.cells, "machine": os.uname().nodename}
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp, "raw")
        subprocess.run(
            [sys.executable, str(HERE / "_synthetic.py"), str(args.cells), str(raw)],
            check=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
        trees = [("now", ROOT)]
        before = Path(tmp, "before-tree")
        if args.before != "none":
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q",
                            str(before), args.before], check=True)  # fmt: skip
            trees.insert(0, (f"before ({args.before})", before))
        try:
            for name, tree in trees:
                out = Path(tmp, name.split()[0])
                result = merge(tree, raw, out)
                result.update(browse(out / "index.html", chromium))
                results[name] = result
                print(name, json.dumps(result), flush=True)  # noqa: T201
        finally:
            if args.before != "none":
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                                str(before)], check=False)  # fmt: skip
    if args.json:
        if args.keep and args.json.is_file():
            results = {**json.loads(args.json.read_text()), **results}
        args.json.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
