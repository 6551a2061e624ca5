"""Issue 13, items 7, 8 and 11 in a real browser: the badge moment, copying the link, verifying."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from campus.config import REPO_ROOT
from tests.browser.conftest import WIDER_THAN_SCREEN
from tests.browser.conftest import log_in

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SCREENSHOTS = Path(__file__).parent / "screenshots"
HOOKED = "badge_moments" in (REPO_ROOT / "campus/templates/base.html").read_text()
PATH = "networks-and-sharing"


def axe_problems(page) -> list[str]:  # type: ignore[no-untyped-def]
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    return [
        f"{v['id']}: {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
    ]


def fits_a_phone(page, name: str) -> list[str]:  # type: ignore[no-untyped-def]
    """What scrolls sideways at 390 px (screenshots of both widths are kept)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"badgemoment-{name}-1366.png"), full_page=True)
    size = page.viewport_size
    page.set_viewport_size({"width": 390, "height": 844})
    overflow = page.evaluate(WIDER_THAN_SCREEN)
    page.screenshot(path=str(SCREENSHOTS / f"badgemoment-{name}-390.png"), full_page=True)
    page.set_viewport_size(size)
    return overflow


def complete_path(page, base: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/paths/{PATH}")
    page.get_by_role("button", name="Ilmoittaudu ja aloita").click()
    page.wait_for_load_state()
    manifest = tomllib.loads((REPO_ROOT / "content/paths" / PATH / "path.toml").read_text())
    for slug in manifest["modules"]:
        module = tomllib.loads(
            (REPO_ROOT / "content/paths" / PATH / slug / "module.toml").read_text()
        )
        page.goto(f"{base}/paths/{PATH}/{slug}")
        if module["kind"] == "read":
            page.get_by_role("button", name="Merkitse tehdyksi").click()
        elif module["kind"] == "quiz":
            for question in module["questions"]:
                for choice in question["choices"]:
                    if choice.get("correct"):
                        page.check(f"#q-{question['id']}-{choice['id']}")
            page.get_by_role("button", name="Lähetä vastaukset").click()
        else:
            page.fill("textarea", "Jaan yhden käytännön kuukaudessa alueen verkostossa. " * 8)
            page.get_by_role("button", name="Tallenna pohdinta").click()
        page.wait_for_load_state()


def test_earning_a_badge_is_one_moment_and_the_link_copies(live_server: str, browser) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="fi-FI", viewport={"width": 1366, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        log_in(page, live_server, "learner@omnia.fi")
        complete_path(page, live_server)
        if HOOKED:  # the flash edit in base.html (lead) shows the moment
            moment = page.locator(".bm-earned")
            assert moment.count() == 1 and page.locator(".flash-success").count() == 0
            assert moment.locator("img").get_attribute("alt")
            assert moment.locator("a[href='/badges/backpack']").count() == 1
            assert axe_problems(page) == []
            assert fits_a_phone(page, "moment") == []
        page.goto(f"{live_server}/badges/backpack")
        page.locator(".badge-card h2 a").first.click()
        page.wait_for_load_state()
        assert (
            page.locator("meta[property='og:image']")
            .get_attribute("content")
            .endswith(f"/ob/badges/{PATH}/image.png")
        )
        copy = page.locator("[data-bm-copy]")
        assert copy.is_visible()  # shown once the script runs
        copy.click()
        status = page.locator("#share-url-status")
        status.wait_for(state="visible")
        assert status.inner_text().strip()
        address = page.locator("#share-url").input_value()
        assert page.evaluate("navigator.clipboard.readText()") == address
        assert page.locator("a[href^='https://www.linkedin.com/profile/add?']").count() == 1
        assert axe_problems(page) == []
        assert fits_a_phone(page, "assertion") == []
        revoke_with_confirmation(browser, live_server, page.url)
        page.reload()
        assert page.locator("#share-url, [data-bm-copy], a[href*='/badge.png']").count() == 0
    finally:
        context.close()


def revoke_with_confirmation(browser, base: str, badge_page: str) -> None:  # type: ignore[no-untyped-def]
    """An admin's "Revoke…" opens a page that says what revoking does; only its button revokes."""
    context = browser.new_context(locale="fi-FI", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        log_in(page, base, "admin@omnia.fi")
        uuid = badge_page.rstrip("/").rsplit("/", 1)[1]
        page.goto(f"{base}/badges/admin/{PATH}")
        page.locator(f"a[href='/badges/admin/assertions/{uuid}/revoke']").click()
        page.wait_for_load_state()
        assert page.locator(".bm-warning").is_visible()
        assert axe_problems(page) == []
        assert fits_a_phone(page, "revoke") == []
        page.fill("#reason", "Myönnetty vahingossa")
        page.locator("button.danger").click()
        page.wait_for_url(f"{base}/badges/admin/{PATH}")
        assert page.locator(".status-revoked").count() >= 1
    finally:
        context.close()


@pytest.mark.parametrize("in_language", ["fi", "en"], indirect=True)
def test_verify_page_names_the_file_and_gives_a_verdict(live_server: str, in_language) -> None:  # type: ignore[no-untyped-def]
    page = in_language
    page.goto(f"{live_server}/badges/verify")
    name = page.locator("#image-name")
    before = name.inner_text()
    assert page.locator("label.bm-file-button").is_visible()
    assert page.locator("#image").bounding_box()["width"] <= 1  # the styled label stands in
    # The campus's badge artwork carries no award: a picture, not a badge.
    artwork = page.request.get(f"{live_server}/ob/badges/{PATH}/image.png").body()
    page.set_input_files(
        "#image", files=[{"name": "my-badge.png", "mimeType": "image/png", "buffer": artwork}]
    )
    assert name.inner_text() == "my-badge.png" != before
    assert axe_problems(page) == []
    page.locator("form.narrow [type=submit]").click()
    page.wait_for_load_state()
    assert page.locator(".bm-verdict-not-a-badge").count() == 1
    page.fill("#text", "onko tämä merkki?")
    page.locator("form.narrow [type=submit]").click()
    page.wait_for_load_state()
    verdict = page.locator(".bm-verdict-not-a-badge h2")
    assert verdict.count() == 1
    assert page.locator(".bm-verdict-invalid").count() == 0
    assert axe_problems(page) == []
    assert fits_a_phone(page, f"verify-{page.language}") == []
