"""Issue 13, defect 9 in a real browser: the organisation progress page fits 390 px and 1366 px
(the table scrolls inside its own region, its name column and header stay in view), sorts by
header links and searches by name, and passes axe-core in Finnish and English."""

from __future__ import annotations

import pytest

from tests.browser.conftest import assert_fits_narrow_screens
from tests.browser.conftest import check_page
from tests.browser.conftest import log_in

REGION = ".op-table-scroll"


def _page_width(page) -> int:  # type: ignore[no-untyped-def]
    return page.evaluate("document.documentElement.scrollWidth")


def _left(page, selector: str) -> float:  # type: ignore[no-untyped-def]
    return page.locator(selector).first.bounding_box()["x"]


def _top(page, selector: str) -> float:  # type: ignore[no-untyped-def]
    return page.locator(selector).first.bounding_box()["y"]


@pytest.mark.parametrize("in_language", ["fi", "en"], indirect=True)
def test_progress_page_fits_and_keeps_names_in_view(live_server: str, in_language) -> None:  # type: ignore[no-untyped-def]
    page = in_language
    too_wide: dict[str, list[str]] = {}
    log_in(page, live_server, "leader@demo.fi")
    page.goto(live_server + "/manage/")
    assert "/progress" in page.url
    check_page(page, page.language, "progress", too_wide)  # axe, then the 390 px check
    assert_fits_narrow_screens(too_wide)
    assert page.locator("svg.op-chart[role=img]").count() >= 3

    for width, height in ((1366, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        assert _page_width(page) <= width, (width, _page_width(page))
        region = page.locator(REGION)
        sizes = region.evaluate(
            "r => [r.scrollWidth, r.clientWidth, r.scrollHeight, r.clientHeight]"
        )
        assert sizes[0] > sizes[1], "the table scrolls sideways inside its region"
        region.scroll_into_view_if_needed()
        name_left = _left(page, f"{REGION} tbody th.op-name")
        path_left = _left(page, f"{REGION} thead th.op-path")
        region.evaluate("r => { r.scrollLeft = 400; r.scrollTop = 300; }")
        assert abs(_left(page, f"{REGION} tbody th.op-name") - name_left) < 1  # sticky column
        assert _left(page, f"{REGION} thead th.op-path") < path_left - 100  # the rest moved
        if sizes[2] > sizes[3]:
            # The caption scrolled away; the header row stays at the top of the region.
            assert abs(_top(page, f"{REGION} thead th") - _top(page, REGION)) < 2
        region.evaluate("r => { r.scrollLeft = 0; r.scrollTop = 0; }")


def test_sort_links_and_search(live_server: str, page) -> None:  # type: ignore[no-untyped-def]
    log_in(page, live_server, "leader@demo.fi")
    page.goto(live_server + "/manage/")
    name_header = page.locator(f"{REGION} thead th").first
    assert name_header.get_attribute("aria-sort") == "ascending"
    page.locator(f"{REGION} thead th").nth(2).get_by_role("link").click()  # last activity
    page.wait_for_load_state()
    assert "sort=activity" in page.url and "dir=desc" in page.url
    assert page.locator(f"{REGION} thead th").nth(2).get_attribute("aria-sort") == "descending"
    assert page.locator(f"{REGION} thead th").first.get_attribute("aria-sort") is None
    everyone = page.locator(f"{REGION} tbody tr").count()
    page.fill("#q", "leader")
    page.locator("form.op-filter button[type=submit]").click()
    page.wait_for_load_state()
    assert "q=leader" in page.url and "sort=activity" in page.url  # the sort is kept
    assert page.locator(f"{REGION} tbody tr").count() == 1 < everyone
    csv_link = page.locator("form.op-filter a.button").get_attribute("href")
    assert csv_link.endswith(".csv?q=leader")
