"""The demo dashboard in Chromium: the scorecard and "What changed most" on the first screen at
1280 x 900, axe clean at 1280, 390 and 320 px, the detailed tables opened and closed by keyboard,
and printed open, with the scorecard on page 1."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from sqlalchemy.orm import Session

from survey.services.demo import DEMO_PASSWORD, load_demo
from tests.browser_fixtures import AXE_OPTIONS, browser_sign_in

MONITOR = "monitor.nrt@example.org"
# A4 less the print margins (15 mm top and bottom, 12 mm each side), in CSS pixels (96 per inch).
PRINT_WIDTH, PRINT_PAGE_HEIGHT = round(186 / 25.4 * 96), round(267 / 25.4 * 96)


@pytest.fixture
def demo_dashboard(db: Session, live_server: str, browser: Any, demo_mode: Any) -> Iterator[Any]:
    """A function that opens the demo trust dashboard at a width, signed in as its monitor."""
    load_demo(db, today=dt.date(2026, 11, 26))
    db.commit()
    contexts = []

    def open_at(width: int, height: int = 900) -> Any:
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        browser_sign_in(page, live_server, MONITOR, DEMO_PASSWORD, code=False)
        response = page.goto(f"{live_server}/dashboard/NRT")
        assert response is not None and response.status == 200
        return page

    yield open_at
    for context in contexts:
        context.close()


def _bottom(page: Any, selector: str) -> float:
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    return float(box["y"] + box["height"])


@pytest.mark.browser
def test_scorecard_and_what_changed_most_fill_the_first_screen(demo_dashboard: Any) -> None:
    page = demo_dashboard(1280)
    assert page.locator("#scorecard tbody tr").count() >= 8  # four core scales, two groups
    assert _bottom(page, "#scorecard") <= 900
    assert page.locator(".glance .summary li").count() >= 1  # the demo has clear changes
    assert _bottom(page, ".glance .summary") <= 900
    # The gap and the response rates are one line each at this width.
    for line in page.locator(".glance-line").all():
        box = line.bounding_box()
        assert box is not None and box["y"] + box["height"] <= 900
    rates = page.locator(".glance-line").last.bounding_box()
    assert rates is not None and rates["height"] < 2 * 27  # one line of 1rem text
    # The trend charts are small multiples side by side, sharing one axis.
    charts = [page.locator(".small-multiples .chart").nth(i).bounding_box() for i in range(2)]
    assert charts[0] and charts[1] and charts[0]["y"] == charts[1]["y"]


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 390, 320])
def test_dashboard_is_axe_clean_and_fits_the_width(demo_dashboard: Any, width: int) -> None:
    page = demo_dashboard(width)
    result = Axe().run(page, options=AXE_OPTIONS)
    assert result.violations_count == 0, [v["id"] for v in result.response["violations"]]
    page.locator("details").first.evaluate("d => d.open = true")
    result = Axe().run(page, options=AXE_OPTIONS)
    assert result.violations_count == 0, [v["id"] for v in result.response["violations"]]
    # Wide tables scroll in their own region; the page itself never scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.browser
def test_detailed_tables_open_and_close_by_keyboard(demo_dashboard: Any) -> None:
    page = demo_dashboard(390, 844)
    details = page.locator("details.detail-table").first
    table = details.locator("table").first
    assert not table.is_visible()
    for _ in range(200):  # Tab along the page to the first disclosure
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.tagName") == "SUMMARY":
            break
    assert page.evaluate("document.activeElement === document.querySelector('details.detail-table > summary')")
    page.keyboard.press("Enter")
    assert details.evaluate("d => d.open") and table.is_visible()
    # Still a data table, with its caption, inside the disclosure.
    assert table.evaluate("t => t.tagName === 'TABLE' && !!t.caption && t.getAttribute('role') === null")
    page.keyboard.press("Space")
    assert not details.evaluate("d => d.open") and not table.is_visible()


@pytest.mark.browser
def test_print_opens_every_table_and_puts_the_scorecard_on_page_one(demo_dashboard: Any) -> None:
    page = demo_dashboard(PRINT_WIDTH, PRINT_PAGE_HEIGHT)
    hidden = page.locator("details.detail-table table").count()
    assert hidden >= 5 and not page.locator("details.detail-table table").first.is_visible()
    page.emulate_media(media="print")
    tables = page.locator("details.detail-table table")
    assert all(tables.nth(i).is_visible() for i in range(hidden))
    assert all(not s.is_visible() for s in page.locator("details.detail-table > summary").all())
    assert _bottom(page, "#scorecard") <= PRINT_PAGE_HEIGHT
    # The glance section ends page 1; the charts and the tables start on page 2.
    assert page.evaluate("getComputedStyle(document.querySelector('.glance')).breakAfter") == "page"
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") >= 3
