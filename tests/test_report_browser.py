"""index.html in a real headless Chromium: loads from a file URL with no console errors, filters
change what is shown, a crash cell opens its details, injected script from output never runs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .test_report_publish import INJECTED, three_runs

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed (apt-get install chromium); .ci/run installs it",
)


@pytest.fixture
def page(tmp_path: Path):  # type: ignore[no-untyped-def]
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    from pytest_mpcompat.report.cli import main

    three_runs(tmp_path)
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
