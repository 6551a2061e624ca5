"""A new user's journey in a real browser, and an axe-core WCAG 2.1 AA scan of the main pages."""

from __future__ import annotations

import re
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.conftest import WIDER_THAN_SCREEN
from tests.browser.conftest import log_in

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# Every run writes a screenshot of each scanned page here (the folder is not kept in git).
SCREENSHOTS = Path(__file__).parent / "screenshots"
VIEWPORTS = {1366: {"width": 1366, "height": 900}, 390: {"width": 390, "height": 844}}


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


@pytest.fixture(scope="module")
def signed_in(browser, live_server: str) -> Iterator[Callable[[str | None], object]]:  # type: ignore[no-untyped-def]
    """A page per person (None: a visitor), logged in once and reused by every scan."""
    pages: dict[str | None, object] = {}

    def page_of(who: str | None):  # type: ignore[no-untyped-def]
        if who not in pages:
            context = browser.new_context(locale="fi-FI", viewport=VIEWPORTS[1366])
            page = context.new_page()
            page.set_default_timeout(10_000)
            if who:
                log_in(page, live_server, who)
            pages[who] = page
        return pages[who]

    yield page_of
    for page in pages.values():
        page.context.close()  # type: ignore[attr-defined]


@pytest.mark.parametrize("width", list(VIEWPORTS))
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
        ("learner@omnia.fi", "/auth/account/email"),
        ("boss@omnia.fi", "/manage/organisations/1/progress"),
        (None, "/badges/"),
        (None, "/badges/verify"),
        (None, "/auth/forgot"),
        (None, "/about/accessibility"),
        (None, "/about/privacy"),
        ("learner@omnia.fi", "/badges/tutoring-work"),
        ("learner@omnia.fi", "/badges/all-eight-themes"),
        ("learner@omnia.fi", "/badges/backpack"),
        ("admin@omnia.fi", "/badges/reviews"),
        ("admin@omnia.fi", "/badges/admin/digital-strategy"),
        ("admin@omnia.fi", "/badges/admin/revoke"),
        ("admin@omnia.fi", "/lti/tools"),
        ("admin@omnia.fi", "/lti/tool/platforms"),
        ("admin@omnia.fi", "/lti/tools/offer"),
        ("admin@omnia.fi", "/manage/follow-ups/"),
        ("learner@omnia.fi", "/lti/tool/identities"),
    ],
)
def test_pages_have_no_wcag_violations(live_server: str, signed_in, who, path, width) -> None:  # type: ignore[no-untyped-def]
    """axe-core finds nothing at 1366 px and on a 390 px phone, where nothing scrolls sideways;
    a screenshot of each is written to tests/browser/screenshots/."""
    from axe_playwright_python.sync_playwright import Axe

    page = signed_in(who)
    page.set_viewport_size(VIEWPORTS[width])
    response = page.goto(live_server + path)
    assert response is not None and response.status == 200
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    problems = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
    ]
    SCREENSHOTS.mkdir(exist_ok=True)
    name = re.sub(r"[^a-z0-9]+", "-", f"{who or 'visitor'} {path}".lower()).strip("-")
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
    assert problems == []
    if width == 390:
        assert page.evaluate(WIDER_THAN_SCREEN) == [], f"{path} scrolls sideways at 390 px"


def test_badge_is_awarded_at_once_and_its_page_is_accessible(live_server: str, page) -> None:  # type: ignore[no-untyped-def]
    """Completing a path's last module awards its badge in that request; the badge pages pass axe."""
    import tomllib

    from axe_playwright_python.sync_playwright import Axe

    from campus.config import REPO_ROOT

    base, path = live_server, "networks-and-sharing"
    log_in(page, base, "admin@omnia.fi")
    page.goto(f"{base}/paths/{path}")
    page.get_by_role("button", name="Ilmoittaudu ja aloita").click()
    page.wait_for_load_state()
    manifest = tomllib.loads((REPO_ROOT / "content/paths" / path / "path.toml").read_text())
    for slug in manifest["modules"]:
        module = tomllib.loads(
            (REPO_ROOT / "content/paths" / path / slug / "module.toml").read_text()
        )
        page.goto(f"{base}/paths/{path}/{slug}")
        if module["kind"] == "read":
            page.get_by_role("button", name="Merkitse tehdyksi").click()
        elif module["kind"] == "quiz":
            for question in module["questions"]:
                for choice in question["choices"]:
                    if choice.get("correct"):
                        page.check(f"#q-{question['id']}-{choice['id']}")
            page.get_by_role("button", name="Lähetä vastaukset").click()
        else:
            page.fill(
                "textarea", "Kokeilen jakaa yhden käytännön kuukaudessa alueen verkostossa. " * 8
            )
            page.get_by_role("button", name="Tallenna pohdinta").click()
        page.wait_for_load_state()
    # Completed and awarded in that request: one badge moment, no stack of banners.
    assert page.locator(".bm-earned").count() == 1
    assert page.locator(".flash-success").count() == 0
    page.goto(f"{base}/badges/backpack")
    badge_link = page.locator(".badge-card h2 a").first
    assert badge_link.count() == 1
    badge_link.click()
    page.wait_for_load_state()
    assert page.locator(".status-pill.status-valid").is_visible()
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    assert results.response["violations"] == []


def test_the_accessibility_scan_can_fail(page) -> None:  # type: ignore[no-untyped-def]
    """Guard against a scan that passes everything: an unlabeled input and no lang must fail."""
    from axe_playwright_python.sync_playwright import Axe

    page.set_content("<html><body><input type=text><img src=x></body></html>")
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    found = {violation["id"] for violation in results.response["violations"]}
    assert {"html-has-lang", "label", "image-alt"} <= found
