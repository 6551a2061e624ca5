"""Issue 13, defect 5 in a real browser: a Swedish reader reads the modules in Swedish; where a
module's task (here a quiz) is only in Finnish and English, the page says so and lets the reader
switch it to English (the page stays Swedish). Axe-core finds nothing; it fits a 390 px phone."""

from __future__ import annotations

from tests.browser.conftest import assert_fits_narrow_screens
from tests.browser.conftest import check_page
from tests.browser.conftest import log_in

FINNISH_QUIZ = "/paths/digital-strategy/measuring-digital-capability"  # questions: fi, en
SWEDISH = "/paths/tutor-teacher/role-and-mandate"


def _swedish_page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="sv-FI", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    return context, page


def test_swedish_reader_is_told_and_can_switch_the_material(live_server: str, browser) -> None:  # type: ignore[no-untyped-def]
    context, page = _swedish_page(browser)
    try:
        too_wide: dict[str, list[str]] = {}
        log_in(page, live_server, "learner@omnia.fi")
        page.goto(live_server + FINNISH_QUIZ)
        notice = page.locator(".swedish-notice")
        assert notice.count() == 1
        assert page.locator(".prose").get_attribute("lang") == "sv"  # the body is Swedish
        assert page.locator("h1").get_attribute("lang") == "sv"
        assert page.locator(".swedish-notice input[name=language]").get_attribute("value") == "en"
        finnish_task = page.locator(".activity").inner_text()
        check_page(page, "sv", "notice-fi", too_wide)

        notice.get_by_role("button").click()
        page.wait_for_url(live_server + FINNISH_QUIZ)
        assert page.locator("html").get_attribute("lang") == "sv"
        assert page.locator(".activity").inner_text() != finnish_task  # now in English
        assert page.locator(".swedish-notice input[name=language]").get_attribute("value") == "fi"
        check_page(page, "sv", "notice-en", too_wide)

        page.goto(live_server + SWEDISH)
        assert page.locator(".swedish-notice").count() == 0
        assert page.locator(".prose").get_attribute("lang") == "sv"
        assert "tutorlärare" in page.locator(".prose").inner_text()
        check_page(page, "sv", "swedish-body", too_wide)
        assert_fits_narrow_screens(too_wide)
    finally:
        context.close()
