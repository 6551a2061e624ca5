"""Issue 15, registration without typing: an LMS opens the campus's Dynamic Registration page in
its dialog frame before it is registered (Moodle and Canvas do). Only these pages may then be
framed by the origin of the LMS's configuration address; the admin confirms in a window of its
own, and the framed page passes the LMS the "done" message (tests/lti/test_gaps_storage_browser
style Chromium test below)."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from campus.auth.models import Role
from campus.extensions import db
from campus.lti import framing
from campus.lti.models import LtiPlatform
from tests.conftest import PASSWORD
from tests.lti import test_tool
from tests.lti.test_framing import ancestors
from tests.lti.test_tool import World

world = test_tool.world

MOODLE_CONFIG = "https://moodle.school.fi/mod/lti/openid-configuration.php"
QUERY = {"openid_configuration": MOODLE_CONFIG, "registration_token": "reg-1"}
IN_FRAME = {"Sec-Fetch-Dest": "iframe"}


def test_the_lms_may_frame_its_registration_page_before_it_is_registered(
    client: FlaskClient,
) -> None:
    page = client.get("/lti/tool/register", query_string=QUERY, headers=IN_FRAME)
    assert page.status_code == 200
    assert ancestors(page) == ["'self'", "https://moodle.school.fi"]
    assert "X-Frame-Options" not in page.headers
    text = page.get_data(as_text=True)
    assert "Continue in a new window" in text and 'rel="opener"' in text
    assert "registration-relay.js" in text
    # Only that page: the rest of the campus still refuses the LMS's frame.
    home = client.get("/", headers=IN_FRAME)
    assert ancestors(home) == ["'self'"] and home.headers["X-Frame-Options"] == "SAMEORIGIN"


def test_outside_a_frame_a_visitor_is_sent_to_sign_in(client: FlaskClient) -> None:
    page = client.get("/lti/tool/register", query_string=QUERY)
    assert page.status_code == 302 and "/auth/login" in page.headers["Location"]
    assert client.post("/lti/tool/register", data=QUERY).status_code == 302


def test_an_admin_confirms_in_the_frame_too(
    client: FlaskClient, make_user: Callable[..., int], auth: Any
) -> None:
    make_user("admin@example.org", roles={Role.ADMIN})
    auth.login("admin@example.org")
    page = client.get("/lti/tool/register", query_string=QUERY, headers=IN_FRAME)
    assert page.status_code == 200 and 'name="organisation_id"' in page.get_data(as_text=True)
    assert ancestors(page) == ["'self'", "https://moodle.school.fi"]


def test_a_signed_in_non_admin_is_refused(
    client: FlaskClient, make_user: Callable[..., int], auth: Any
) -> None:
    make_user("learner@example.org")
    auth.login("learner@example.org")
    assert client.get("/lti/tool/register", query_string=QUERY).status_code == 403


@pytest.mark.parametrize(
    "config_url",
    [
        "javascript:alert(1)",
        "https://a.example; script-src *",
        "https://a.example 'unsafe-inline'/x",
        "http://lms.example/config",  # plain http only for localhost
        "",
        "x" * 3000,
    ],
)
def test_a_bad_configuration_address_frames_nothing(client: FlaskClient, config_url: str) -> None:
    page = client.get(
        "/lti/tool/register",
        query_string={"openid_configuration": config_url},
        headers=IN_FRAME,
    )
    assert page.status_code == 200
    assert ancestors(page) == ["'self'"]


CHROMIUM = "/usr/bin/chromium"


def test_registration_in_the_lms_dialog_closes_it_when_the_admin_confirms_elsewhere(
    world: World,
) -> None:
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing in CI: .ci/run must install it")
        pytest.skip("Chromium not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with world.app.app_context():  # the LMS is not registered yet: it may not frame the campus
        for platform in db.session.execute(db.select(LtiPlatform)).scalars():
            platform.is_enabled = False
        db.session.commit()
        framing.forget()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_context(locale="en-GB").new_page()
        page.set_default_timeout(15_000)
        try:
            page.goto(f"{world.lms}/admin/add-tool")
            dialog = page.frame_locator("iframe[name=registration]")
            with page.expect_popup() as opened:
                dialog.get_by_role("link", name="Continue in a new window").click()
            window = opened.value
            window.wait_for_url(re.compile(r"/auth/login"))
            window.fill("#email", "admin@campus.fi")
            window.fill("#password", PASSWORD)
            window.click("main input[type=submit]")
            window.fill("#dr-name", "Dialog LMS")
            window.get_by_role("button", name="Register").click()
            window.get_by_text("The campus is registered in Dialog LMS").wait_for()
            page.wait_for_function("window.lmsMessages.length > 0")
            assert page.evaluate("window.lmsMessages") == [{"subject": "org.imsglobal.lti.close"}]
            assert dialog.get_by_text("You can close this dialog").is_visible()
        finally:
            browser.close()
    with world.app.app_context():
        registered = db.session.execute(
            db.select(LtiPlatform).where(LtiPlatform.name == "Dialog LMS")
        ).scalar_one()
        assert registered.client_id.startswith("dyn-")
