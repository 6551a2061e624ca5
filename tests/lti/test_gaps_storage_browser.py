"""Issue 15, gap 12 in a real browser: the campus in an LMS course frame, every campus cookie
blocked (stripped both ways at the network layer), the LMS answering LTI postMessage Storage
from its course page. The campus's script puts and gets the state by postMessage."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.lti import test_tool
from tests.lti.test_tool import World
from tests.lti.test_tool import identities

world = test_tool.world

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]


CAMPUS_COOKIE = re.compile(r"^(campus|lti1p3)")


@pytest.fixture
def cookies_seen(world: World) -> list[str]:
    """Every campus or LTI cookie that reached the campus server (it must stay empty)."""
    seen: list[str] = []
    inner = world.app.wsgi_app

    def recording(environ: dict[str, Any], start_response: Any) -> Any:
        names = [
            part.split("=", 1)[0].strip() for part in environ.get("HTTP_COOKIE", "").split(";")
        ]
        seen.extend(name for name in names if CAMPUS_COOKIE.match(name))
        return inner(environ, start_response)

    world.app.wsgi_app = recording  # type: ignore[method-assign]
    return seen


@pytest.fixture
def course_page(world: World, cookies_seen: list[str]) -> Iterator[Any]:
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing in CI: .ci/run must install it")
        pytest.skip("Chromium not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    def without_campus_cookies(route: Any, request: Any) -> None:
        """Campus requests go out through `requests` without any cookie, and answers come
        back without Set-Cookie: the browser never holds a campus cookie."""
        if not request.url.startswith(world.campus):
            route.continue_()
            return
        headers = {k: v for k, v in request.headers.items() if k.lower() != "cookie"}
        answer = requests.request(
            request.method,
            request.url,
            headers=headers,
            data=request.post_data_buffer,
            allow_redirects=False,
            timeout=15,
        )
        kept = {
            k: v
            for k, v in answer.headers.items()
            if k.lower() not in ("set-cookie", "content-encoding", "content-length")
        }
        route.fulfill(status=answer.status_code, headers=kept, body=answer.content)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="en-GB")
        context.route("**/*", without_campus_cookies)
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


def test_gap12_the_campus_opens_in_a_cookieless_lms_frame(
    world: World, course_page: Any, cookies_seen: list[str]
) -> None:
    course_page.goto(f"{world.lms}/course?target=module:basics/welcome")
    frame = course_page.frame_locator("iframe[name=campus]")
    frame.get_by_text("so the campus opens in a window of its own").wait_for()
    assert frame.get_by_role("button", name="Open in a new window").is_visible()
    assert identities(world) == 1
    kept = course_page.evaluate("Object.keys(window.lmsStorage)")
    assert any(key.startswith(f"{world.campus} campus_state_") for key in kept), kept
    assert any(key.startswith(f"{world.campus} campus_nonce_") for key in kept), kept
    assert cookies_seen == []


def test_gap12_without_the_lms_storage_the_frame_offers_a_window_of_its_own(
    world: World, course_page: Any
) -> None:
    course_page.goto(f"{world.lms}/course?target=module:basics/welcome&responder=none")
    frame = course_page.frame_locator("iframe[name=campus]")
    frame.get_by_text("could not keep the sign-in either").wait_for()
    assert frame.get_by_role("button", name="Open in a new window").is_visible()
    assert identities(world) == 0
