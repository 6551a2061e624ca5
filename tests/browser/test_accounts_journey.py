"""Accounts in a real browser: forgot password → the mail → a new password → logged in, then the
account page and deleting the account; axe-core on each page at 1366 px and on a 390 px phone."""

from __future__ import annotations

import re
import time
from email import message_from_bytes
from email.policy import default
from pathlib import Path

from flask import Flask

from tests.browser.conftest import WCAG_TAGS
from tests.browser.conftest import WIDER_THAN_SCREEN
from tests.browser.test_journey import SCREENSHOTS
from tests.browser.test_journey import VIEWPORTS

EMAIL = "taker-en@omnia.fi"
NEW_PASSWORD = "a whole new passphrase"
RESET_PATH = re.compile(r"/auth/reset/[A-Za-z0-9_.\-]+")


def reset_link_mailed_to(mail_dir: Path, address: str, since: float) -> str:
    """The reset path in the newest mail to `address` written after `since` (the mail goes
    after the request commits, so it may land a moment after the page)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        mails = sorted(
            (path for path in mail_dir.glob("*.eml") if path.stat().st_mtime >= since),
            key=lambda path: path.stat().st_mtime,
            reverse=True,
        )
        for path in mails:
            message = message_from_bytes(path.read_bytes(), policy=default)
            if message["To"] == address:
                body = message.get_body(preferencelist=("plain",))
                assert body is not None
                found = RESET_PATH.search(body.get_content())
                assert found, "no reset link in the mail"
                return found[0]
        time.sleep(0.1)
    raise AssertionError(f"no mail to {address} in {mail_dir}")


def give_badge(app: Flask, email: str) -> str:
    """A valid badge for `email` (its uuid), so the deletion page asks what happens to it."""
    from campus.auth.services import find_user_by_email
    from campus.badges.awarding import award
    from campus.badges.issuers import IssuingContext
    from campus.badges.issuers import get_badge
    from campus.badges.models import AwardSource
    from campus.clock import utcnow
    from campus.extensions import db

    with app.app_context():
        user = find_user_by_email(email)
        assert user is not None
        user.email_verified_at = utcnow()  # badges go to verified addresses only
        result = award(
            user,
            get_badge("digital-strategy"),
            IssuingContext.from_config(app.config),
            utcnow(),
            AwardSource.BULK,
        )
        db.session.commit()
        return result.assertion.uuid


def scan(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """axe-core finds nothing at either width, and nothing scrolls sideways on the phone; a
    screenshot of each goes to tests/browser/screenshots/."""
    from axe_playwright_python.sync_playwright import Axe

    SCREENSHOTS.mkdir(exist_ok=True)
    for width, viewport in VIEWPORTS.items():
        page.set_viewport_size(viewport)
        results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
        problems = [
            f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"]
        ]
        page.screenshot(path=str(SCREENSHOTS / f"accounts-{name}-{width}.png"), full_page=True)
        assert problems == [], (name, width)
        if width == 390:
            assert page.evaluate(WIDER_THAN_SCREEN) == [], f"{name} scrolls sideways at 390 px"
    page.set_viewport_size(VIEWPORTS[1366])


def submit(page) -> None:  # type: ignore[no-untyped-def]
    """The page's own form (not the language switch in the header)."""
    page.locator("main form [type=submit]").last.click()
    page.wait_for_load_state()


def test_forgot_password_to_a_new_password_and_account_deletion(
    live_server: str, live_app, page
) -> None:  # type: ignore[no-untyped-def]
    base = live_server
    app = live_app
    mail_dir = Path(app.config["MAIL_DIR"])
    badge = give_badge(app, EMAIL)
    page.set_viewport_size(VIEWPORTS[1366])

    page.goto(f"{base}/auth/login")
    page.locator("main a[href='/auth/forgot']").click()
    page.wait_for_url(f"{base}/auth/forgot")
    scan(page, "forgot")
    asked_at = time.time() - 1
    page.fill("#email", EMAIL)
    submit(page)
    assert page.locator("h1").count() == 1 and EMAIL in page.locator("main").inner_text()
    scan(page, "forgot-sent")

    link = reset_link_mailed_to(mail_dir, EMAIL, asked_at)
    page.goto(base + link)
    scan(page, "reset")
    page.fill("#new_password", NEW_PASSWORD)
    page.fill("#confirm", NEW_PASSWORD)
    submit(page)
    page.wait_for_url(f"{base}/dashboard")  # logged in with the new password set
    assert page.locator(".flash-success").first.is_visible()
    # The link worked once: opening it again offers a new one instead.
    assert page.goto(base + link).status == 400

    page.goto(f"{base}/auth/account")
    scan(page, "account")

    page.goto(f"{base}/auth/account/delete")
    assert page.locator("main a[href='/auth/account/data.zip']").count() == 1
    assert page.locator("#badges-0, #badges-1").count() == 2  # keep or revoke the badge
    scan(page, "delete-account")
    page.fill("#password", NEW_PASSWORD)
    submit(page)  # no choice made and the box not ticked: refused, errors beside the fields
    assert page.locator("#badges-error").is_visible()
    assert page.locator("#confirm[aria-invalid=true]").count() == 1
    scan(page, "delete-account-refused")
    page.fill("#password", NEW_PASSWORD)
    page.check("#badges-1")  # revoke my badges
    page.check("#confirm")
    submit(page)
    page.wait_for_url(f"{base}/")
    assert page.locator(".flash-success").first.is_visible()
    assert page.goto(f"{base}/auth/account").url.startswith(f"{base}/auth/login")
    assert page.goto(f"{base}/ob/assertions/{badge}").status == 410  # revoked, as chosen

    # The deleted account cannot log in, with the old or the new password.
    for password in ("correct horse battery", NEW_PASSWORD):
        page.goto(f"{base}/auth/login")
        page.fill("#email", EMAIL)
        page.fill("#password", password)
        submit(page)
        assert page.url.startswith(f"{base}/auth/login")
        assert page.locator(".flash-error").first.is_visible()
