"""index.html in a real headless Chromium: loads from a file URL with no console errors, filters
change what is shown, a crash cell opens its details, injected script from output never runs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from .test_report_publish import INJECTED, cell, raw, three_runs

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed (apt-get install chromium); .ci/run installs it",
)


@pytest.fixture
def page(tmp_path: Path, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    from pytest_mpcompat.publish.cli import main

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
    assert pg.locator("#count").inner_text() == "6 of 6 cells match"
    pg.select_option("#filter-kserve", "0.13.1")
    assert pg.locator("td.cell").count() == 2
    assert pg.locator("#count").inner_text() == "2 of 6 cells match"
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


@pytest.mark.parametrize(("width", "height"), [(1400, 900), (390, 844)], ids=["desktop", "phone"])
def test_the_first_screen_holds_the_answers(page, tmp_path: Path, width: int, height: int) -> None:  # type: ignore[no-untyped-def]
    pg, errors = page
    pg.set_viewport_size({"width": width, "height": height})
    pg.screenshot(path=str(tmp_path / f"first-screen-{width}x{height}.png"))
    heading = pg.locator("#answers h3").first
    box = heading.bounding_box()
    assert box is not None and box["y"] + box["height"] <= height
    assert heading.inner_text() == (
        "kserve_* scenarios, by kserve release: crash 0.13.1; clean 0.14.0; hang 0.21.0"
    )
    first_line = pg.locator("#answers li").first
    line_box = first_line.bounding_box()
    assert line_box is not None and line_box["y"] < height
    assert "start_method_conflict under fork, spawn [start-method-already-set]" in (
        first_line.inner_text()
    )
    assert box["x"] >= 0 and box["x"] + box["width"] <= width  # no sideways scrolling to read it
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
    assert pg.locator("tbody th").all_inner_texts() == ["kserve_two_workers · fork"]
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
        assert "kserve 0.14.0 (Python 3.11): clean under fork, spawn (1 scenario)." in text
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
