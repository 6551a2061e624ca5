"""Issue 13 (progress) in a real browser: evidence waiting for review is shown as waiting, a
read module leads to the next one, a path names its badge, and a person can leave a path.
Every page passes axe (Finnish at 1280 px, English at 390 px) and fits a phone."""

from __future__ import annotations

import pytest

from tests.browser.conftest import assert_fits_narrow_screens
from tests.browser.conftest import check_page
from tests.browser.conftest import log_in

PATH = "tutor-teacher"
EVIDENCE = "tutoring-evidence"
USERS = {"fi": "taker-fi@omnia.fi", "en": "taker-en@omnia.fi"}


@pytest.mark.parametrize("in_language", ["fi", "en"], indirect=True)
def test_waiting_evidence_next_steps_badge_and_leaving(live_server: str, in_language) -> None:  # type: ignore[no-untyped-def]
    page, base, language = in_language, live_server, in_language.language
    too_wide: dict[str, list[str]] = {}
    if language == "en":  # axe scans the Finnish pages on a laptop, the English ones on a phone
        page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, base, USERS[language])

    # The path page names its badge, with the artwork and a link to the badge page.
    page.goto(f"{base}/paths/{PATH}")
    badge = page.locator(".ux-progress-badge")
    assert badge.locator("img").get_attribute("alt")
    assert badge.locator("img").evaluate("img => img.complete && img.naturalWidth > 0")
    assert badge.locator("a").first.get_attribute("href") == f"/badges/{PATH}"
    page.locator(f"form[action='/paths/{PATH}/enrol'] button").click()
    page.wait_for_url(f"{base}/paths/{PATH}/role-and-mandate")

    # A read module leads to the next one.
    page.locator("section.activity button[type=submit]").click()
    page.wait_for_load_state()
    next_link = page.locator(".ux-progress-next a.button")
    assert next_link.get_attribute("href") == f"/paths/{PATH}/coaching-colleagues"
    check_page(page, language, "read module done", too_wide)

    # Evidence sent: waiting for review on the module page, its side panel, the path page and
    # the dashboard, and no "continue" leads back to it.
    page.goto(f"{base}/paths/{PATH}/{EVIDENCE}")
    page.fill("textarea[name=description]", "I ran a workshop on submission assignments. " * 3)
    page.fill("input[name=link]", "https://example.org/workshop-plan")
    page.locator(
        "section.activity form button[type=submit], section.activity form input[type=submit]"
    ).click()
    page.wait_for_load_state()
    assert page.locator(".ux-progress-review-waiting").is_visible()
    assert page.locator(".path-outline li.ux-progress-waiting .ux-progress-pill").is_visible()
    check_page(page, language, "evidence waiting", too_wide)

    page.goto(f"{base}/paths/{PATH}")
    row = page.locator(".module-list li.ux-progress-waiting")
    assert row.count() == 1 and row.locator(".ux-progress-pill").is_visible()
    assert row.locator("a").get_attribute("href") == f"/paths/{PATH}/{EVIDENCE}"
    continue_link = page.locator("a.button.primary[href^='/paths/tutor-teacher/']")
    assert continue_link.get_attribute("href") == f"/paths/{PATH}/coaching-colleagues"
    check_page(page, language, "path with waiting evidence", too_wide)

    page.goto(f"{base}/dashboard")
    card = page.locator(".progress-list li.card").filter(
        has=page.locator(f"a[href='/paths/{PATH}']")
    )
    assert card.locator(".ux-progress-pill-waiting").is_visible()
    assert card.locator(f"a.button[href='/paths/{PATH}/{EVIDENCE}']").count() == 0
    check_page(page, language, "dashboard", too_wide)

    # Leaving asks first, says the completions are kept, and takes the path off the dashboard.
    page.goto(f"{base}/paths/{PATH}")
    page.locator(f"a[href='/paths/{PATH}/leave']").click()
    page.wait_for_url(f"{base}/paths/{PATH}/leave")
    check_page(page, language, "leave", too_wide)
    page.locator(f"form[action='/paths/{PATH}/leave'] button[type=submit]").click()
    page.wait_for_url(f"{base}/dashboard")
    assert page.locator(f".progress-list a[href='/paths/{PATH}']").count() == 0
    page.goto(f"{base}/paths/{PATH}")
    assert page.locator(".module-list li.done").count() == 1  # the completion was kept
    assert_fits_narrow_screens(too_wide)
