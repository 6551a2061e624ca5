"""A new user's journey in a real browser, and an axe-core WCAG 2.1 AA scan of the main pages."""

from __future__ import annotations

import pytest

from tests.browser.conftest import log_in

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def progress_of(page) -> str:  # type: ignore[no-untyped-def]
    return page.locator(".path-outline [role=progressbar]").get_attribute("aria-valuenow")


def test_learner_enrols_and_works_through_a_path(live_server: str, page) -> None:  # type: ignore[no-untyped-def]
    base = live_server
    page.goto(base + "/")
    assert page.locator("html").get_attribute("lang") == "fi"
    assert page.locator("section.theme").count() == 8
    log_in(page, base, "learner@omnia.fi")
    assert (
        "Sinulla ei ole keskeneräisiä polkuja" in page.content()
        or page.locator("#in-progress").count() == 1
    )

    page.goto(base + "/paths/digital-strategy")
    page.get_by_role("button", name="Ilmoittaudu ja aloita").click()
    page.wait_for_url(base + "/paths/digital-strategy/from-strategy-to-roadmap")
    assert progress_of(page) == "0"
    page.get_by_role("button", name="Merkitse tehdyksi").click()
    page.wait_for_load_state()
    assert page.locator(".flash-success").first.is_visible()
    assert progress_of(page) == "25"

    # A quiz answered wrongly stores the attempt, shows the result, and leaves the bar alone.
    page.goto(base + "/paths/digital-strategy/measuring-digital-capability")
    for fieldset in page.locator("fieldset.question").all():
        fieldset.locator("input").last.check()
    page.get_by_role("button", name="Lähetä vastaukset").click()
    page.wait_for_load_state()
    assert page.locator("#quiz-result.failed").is_visible()
    assert progress_of(page) == "25"

    page.goto(base + "/dashboard")
    assert "25 %" in page.locator(".progress-list").inner_text()
    next_link = page.get_by_role("link", name="Seuraava moduuli", exact=False)
    assert next_link.count() == 1

    # Switching the language keeps the user on the page and changes the interface.
    page.select_option("#language-choice", "en")
    page.get_by_role("button", name="Vaihda").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", name="My paths").is_visible()


@pytest.mark.parametrize(
    ("who", "path"),
    [
        (None, "/"),
        (None, "/auth/login"),
        (None, "/auth/register"),
        (None, "/paths/tutor-teacher"),
        ("learner@omnia.fi", "/dashboard"),
        ("learner@omnia.fi", "/paths/digital-strategy/measuring-digital-capability"),
        ("learner@omnia.fi", "/paths/digital-strategy/my-roadmap-reflection"),
        ("learner@omnia.fi", "/paths/tutor-teacher/tutoring-evidence"),
        ("learner@omnia.fi", "/auth/account"),
        ("boss@omnia.fi", "/manage/organisations/1/progress"),
    ],
)
def test_pages_have_no_wcag_violations(live_server: str, page, who, path) -> None:  # type: ignore[no-untyped-def]
    from axe_playwright_python.sync_playwright import Axe

    if who:
        log_in(page, live_server, who)
    response = page.goto(live_server + path)
    assert response is not None and response.status == 200
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    problems = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
    ]
    assert problems == []


def test_the_accessibility_scan_can_fail(page) -> None:  # type: ignore[no-untyped-def]
    """Guard against a scan that passes everything: an unlabeled input and no lang must fail."""
    from axe_playwright_python.sync_playwright import Axe

    page.set_content("<html><body><input type=text><img src=x></body></html>")
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    found = {violation["id"] for violation in results.response["violations"]}
    assert {"html-has-lang", "label", "image-alt"} <= found
