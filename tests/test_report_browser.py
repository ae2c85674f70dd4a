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
    from pytest_mpcompat.report.cli import main

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
    assert details.is_visible()
    text = details.inner_text()
    assert "crash" in text and "start-method-already-set" in text and "get_context" in text
    assert errors == []


def test_injected_script_in_output_stays_text(page) -> None:  # type: ignore[no-untyped-def]
    pg, errors = page
    pg.select_option("#filter-kserve", "0.21.0")
    pg.locator("td.cell.pass").first.click()
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
    assert "hang" in pg.locator("#details").inner_text()
    assert errors == []
