"""The development network in a real browser, in Finnish and in English: the demo account
(Demo College's digi group chair) opens the annual clock, adds an action, marks this year's run
done and sees it counted on the organisation's dashboard. Every network page on the way, and the
others the demo fills (roadmaps, groups, kick-off, region, templates, dashboards), get an
axe-core WCAG 2.1 AA scan and a 390 px check. Selectors go by URLs, ids and form actions, not by
words, so the same steps run in both languages."""

from __future__ import annotations

import re

import pytest

from campus.auth.services import DEMO_EMAIL
from tests.browser.conftest import log_in
from tests.browser.test_assessment_journey import assert_fits_narrow_screens
from tests.browser.test_assessment_journey import check_page


def dashboard_actions(page) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """(due, done) from the dashboard's annual-clock table (the table alternative of the chart)."""
    cells = page.locator("table:has(#clock-caption) tbody tr").first.locator("td").all_inner_texts()
    return int(cells[0]), int(cells[1])


@pytest.mark.parametrize("in_language", ["fi", "en"], indirect=True)
def test_chair_adds_an_action_marks_it_done_and_sees_it_on_the_dashboard(  # type: ignore[no-untyped-def]
    live_server: str, in_language
) -> None:
    page, base, language = in_language, live_server, in_language.language
    too_wide: dict[str, list[str]] = {}
    log_in(page, base, DEMO_EMAIL)

    page.goto(f"{base}/network/")
    check_page(page, language, "hub", too_wide)
    clock_link = page.locator("a[href$='/clock'][href*='/network/organisation/']").first
    organisation_url = clock_link.get_attribute("href").rsplit("/clock", 1)[0]  # type: ignore[union-attr]
    page.goto(f"{base}{organisation_url}/dashboard")
    due_before, done_before = dashboard_actions(page)

    clock_link.page.goto(f"{base}{organisation_url}/clock")
    clock = page.locator("svg.clock")
    assert clock.locator("title").count() >= 1 and clock.locator("desc").count() == 1
    arcs = clock.locator("a")
    assert arcs.count() >= 3  # the college's own actions and the region's
    check_page(page, language, "clock", too_wide)

    title = f"Browser journey action {language}"
    page.fill("#title", title)
    page.fill("#description", "Added by the browser test.")
    page.select_option("#start_month", "3")
    page.select_option("#end_month", "3")
    page.fill("#start_day", "2")
    page.fill("#end_day", "20")
    page.click("#action-submit")
    page.wait_for_load_state()
    page.goto(f"{base}{organisation_url}/clock")
    page.locator("a", has_text=title).first.click()
    page.wait_for_url(re.compile(r".*/network/clock/actions/\d+$"))
    check_page(page, language, "action", too_wide)
    year = page.locator("#done-year").input_value()
    assert re.fullmatch(r"20\d\d", year)
    page.click("#done-submit")
    page.wait_for_load_state()
    assert page.locator(".clock-status-done").count() >= 1

    page.goto(f"{base}{organisation_url}/dashboard")
    check_page(page, language, "dashboard", too_wide)
    assert dashboard_actions(page) == (due_before + 1, done_before + 1)

    page.goto(f"{base}{organisation_url}/clock?view=months")
    check_page(page, language, "clock-months", too_wide)
    page.goto(f"{base}{organisation_url}/clock?view=years")
    check_page(page, language, "clock-years", too_wide)
    assert_fits_narrow_screens(too_wide)


@pytest.mark.parametrize("in_language", ["fi", "en"], indirect=True)
def test_every_demo_network_page_passes_axe_and_fits_a_phone(live_server: str, in_language) -> None:  # type: ignore[no-untyped-def]
    page, base, language = in_language, live_server, in_language.language
    too_wide: dict[str, list[str]] = {}
    log_in(page, base, DEMO_EMAIL)
    page.goto(f"{base}/network/")
    hub_links = {
        href
        for href in page.locator("main a").evaluate_all("links => links.map(a => a.pathname)")
        if href.startswith("/network/")
    }
    region = next(h for h in hub_links if re.fullmatch(r"/network/regions/\d+", h))
    visited = set()
    for path in sorted(hub_links | {"/network/regions/"}):
        page.goto(f"{base}{path}")
        assert page.url.startswith(base), path
        check_page(page, language, path, too_wide)
        visited.add(path)
        if path.endswith("/roadmaps") or path.endswith("/groups") or path == region:
            # One level down: each roadmap and group of the scope, and the region's pages.
            for inner in set(
                page.locator("main a").evaluate_all("links => links.map(a => a.pathname)")
            ):
                if re.fullmatch(r"/network/(roadmaps|groups)/\d+(/kickoff)?", inner) and (
                    inner not in visited
                ):
                    page.goto(f"{base}{inner}")
                    check_page(page, language, inner, too_wide)
                    visited.add(inner)
    assert any(p.startswith("/network/roadmaps/") for p in visited)
    assert any(p.startswith("/network/groups/") for p in visited)
    page.goto(f"{base}/network/templates/seudullinen-digikehittaminen")
    check_page(page, language, "template", too_wide)
    assert_fits_narrow_screens(too_wide)
