"""A real server in a thread and Debian's Chromium driven by Playwright.

Locally the browser tests are skipped when Chromium is missing; in CI (CI=true) a missing
browser is a failure, so that a green run always includes them.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from campus import create_app
from campus.assessments.content import load_instruments
from campus.assessments.content import path_folders
from campus.assessments.demo import seed_demo
from campus.assessments.sync import sync_instruments
from campus.auth.models import Organisation
from campus.auth.models import Role
from campus.auth.models import User
from campus.auth.services import DEMO_ORGANISATION_SLUG
from campus.auth.services import ensure_demo_account
from campus.auth.services import set_roles
from campus.badges.files import load_badges
from campus.badges.issuers import IssuingContext
from campus.badges.issuers import sync_badges
from campus.clock import utcnow
from campus.config import REPO_ROOT
from campus.extensions import db
from campus.network.demo import seed_network_demo
from campus.paths.content import load_tree
from campus.paths.sync import sync_tree
from tests.conftest import FAST_HASH
from tests.conftest import PASSWORD
from tests.conftest import now

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _require_browser() -> None:
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing in CI: .ci/run must install it")
        pytest.skip("Chromium not installed (apt-get install chromium)")


_LIVE_APPS: dict[str, Flask] = {}  # live_server's address -> its app (for its config)


@pytest.fixture
def live_app(live_server: str) -> Flask:
    """The app behind `live_server` (where its mail goes, its database)."""
    return _LIVE_APPS[live_server]


def _live_config(folder: Path) -> dict[str, object]:
    return {
        "SECRET_KEY": "browser-tests",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'campus.sqlite'}",
        "PASSWORD_HASH_METHOD": FAST_HASH,
        "UPLOAD_DIR": str(folder / "uploads"),
        "MAIL_DIR": str(folder / "mail"),
        "KEYS_DIR": str(folder / "keys"),
    }


@pytest.fixture(scope="session")
def live_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo campus the browser tests start from, built once per run (12 s); each test
    module gets a copy of its folder (database, keys, uploads)."""
    folder = tmp_path_factory.mktemp("live-template")
    app = create_app(_live_config(folder))
    with app.app_context():
        db.create_all()
        tree = load_tree(REPO_ROOT / "content")
        report = sync_tree(tree, now())
        badges = load_badges(REPO_ROOT / "badges", tree)
        sync_badges(badges, IssuingContext.from_config(app.config), report)
        instruments, problems = load_instruments(
            REPO_ROOT / "content", path_folders(REPO_ROOT / "content")
        )
        assert problems == [], problems
        sync_instruments(instruments, report)
        org = Organisation(slug="omnia", name="Omnia")
        db.session.add(org)
        db.session.flush()  # organisation 1 (test_journey's progress page)
        # The assessment demo (`make setup`): a region whose organisations have respondents.
        ensure_demo_account(PASSWORD)
        seed_demo(utcnow().date())
        # The network demo (`make setup`): groups, the regional template, roadmaps and clocks.
        seed_network_demo(REPO_ROOT / "content", utcnow())
        demo_college = db.session.execute(
            db.select(Organisation).where(Organisation.slug == DEMO_ORGANISATION_SLUG)
        ).scalar_one()
        for email, roles, organisation in (
            ("learner@omnia.fi", set(), org),
            ("boss@omnia.fi", {Role.ORG_ADMIN}, org),
            ("admin@omnia.fi", {Role.ADMIN}, org),
            ("taker-fi@omnia.fi", set(), org),
            ("taker-en@omnia.fi", set(), org),
            ("leader@demo.fi", {Role.ORG_ADMIN}, demo_college),
            ("developer@demo.fi", {Role.REGIONAL_DEVELOPER}, demo_college),
        ):
            from werkzeug.security import generate_password_hash

            user = User(
                email=email,
                name=email.split("@")[0].title(),
                organisation=organisation,
                password_hash=generate_password_hash(PASSWORD, method=FAST_HASH),
                email_verified_at=datetime.now(UTC),
            )
            db.session.add(user)
            set_roles(user, roles)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()  # the file is complete and closed before it is copied
    return folder


@pytest.fixture(scope="module")
def live_server(live_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("live") / "campus"
    shutil.copytree(live_template, folder)
    app = create_app(_live_config(folder))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    _LIVE_APPS[base] = app
    try:
        yield base
    finally:
        _LIVE_APPS.pop(base, None)
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="fi-FI", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def log_in(page, base: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/auth/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/dashboard")


WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
LOCALES = {"fi": "fi-FI", "en": "en-GB"}
# What sticks out of a narrow screen, innermost first: elements, and text (a long word) that
# overflows its box. Empty when nothing scrolls sideways.
WIDER_THAN_SCREEN = """() => {
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth <= width) return [];
  const found = [`page ${document.documentElement.scrollWidth}px`];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node && found.length < 6; node = walker.nextNode()) {
    let box, name;
    if (node.nodeType === Node.TEXT_NODE) {
      const range = document.createRange();
      range.selectNodeContents(node);
      box = range.getBoundingClientRect();
      name = `text "${node.textContent.trim().slice(0, 40)}"`;
    } else {
      box = node.getBoundingClientRect();
      name = `${node.tagName.toLowerCase()}.${node.className}`;
    }
    if (box.right > width + 1) found.push(`${name} ${Math.round(box.right)}px`);
  }
  return found;
}"""


def assert_fits_narrow_screens(too_wide: dict[str, list[str]]) -> None:
    assert too_wide == {}, f"scrolls sideways at 390 px: {too_wide}"


@pytest.fixture
def in_language(browser, request):  # type: ignore[no-untyped-def]
    """A page whose browser asks for the parametrised language."""
    context = browser.new_context(
        locale=LOCALES[request.param], viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.language = request.param
    yield page
    context.close()


def check_page(page, language: str, name: str, too_wide: dict[str, list[str]]) -> None:  # type: ignore[no-untyped-def]
    """The page is in the language asked for and passes axe; what does not fit a 390 px phone
    is noted in `too_wide` under the page's name (checked at the end: one run lists them all)."""
    from axe_playwright_python.sync_playwright import Axe

    assert page.locator("html").get_attribute("lang") == language, page.url
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    problems = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
    ]
    assert problems == [], page.url
    size = page.viewport_size
    page.set_viewport_size({"width": 390, "height": 844})
    overflow = page.evaluate(WIDER_THAN_SCREEN)
    page.set_viewport_size(size)
    if overflow:
        too_wide[name] = overflow
