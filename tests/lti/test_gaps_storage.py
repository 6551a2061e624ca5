"""Issue 15, gap 12: LMS launches through LTI platform storage, with no cookie at all.

The LMS is the independent lti1p3platform peer of tests/lti, offering `lti_storage_target` the
way Canvas does; the learner's browser is a `requests.Session` that keeps no cookie, and the test
plays the LMS's storage frame (what the page's script asks of it is in the page's data
attributes). tests/lti/test_gaps_storage_browser.py runs the same flow in Chromium, script and
postMessages included.
"""

from __future__ import annotations

import re
from html import unescape
from http.cookiejar import DefaultCookiePolicy

import pytest
import requests

from campus.extensions import db
from campus.lti.models import LtiIdentity
from campus.lti.models import LtiStoreEntry
from tests.lti import test_tool
from tests.lti.support import auto_post_form
from tests.lti.test_tool import World
from tests.lti.test_tool import identities

world = test_tool.world

DATA = re.compile(r'data-([a-z-]+)="([^"]*)"')


def english_browser() -> requests.Session:
    browser = requests.Session()
    browser.headers["Accept-Language"] = "en"
    return browser


def cookieless_browser() -> requests.Session:
    browser = english_browser()
    browser.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    return browser


def page_data(page: str) -> dict[str, str]:
    return {name: unescape(value) for name, value in DATA.findall(page)}


class PlatformStorage:
    """The LMS's storage frame: values kept per origin of the page that sent them."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], str] = {}

    def put(self, origin: str, key: str, value: str) -> None:
        self.values[(origin, key)] = value

    def get(self, origin: str, key: str) -> str | None:
        return self.values.get((origin, key))


def storage_login(
    world: World, browser: requests.Session, storage: PlatformStorage, **params: str
) -> tuple[dict[str, str], str]:
    """The LMS starts the login with its storage offered; the campus page's script would put
    state and nonce there (done here) and go on to the LMS. Returns the page's data and the
    LMS's auto-post launch page."""
    page = browser.get(
        f"{world.lms}/start",
        params={"target": "module:basics/welcome", "storage": "_parent", **params},
    )
    assert page.status_code == 200, page.text[:500]
    assert page.url.startswith(f"{world.campus}/lti/tool/login")
    data = page_data(page.text)
    assert data["lti-storage"] == "put" and data["storage-target"] == "_parent"
    assert data["platform-origin"] == world.lms  # the OIDC authorisation URL's origin
    storage.put(world.campus, data["state-key"], data["state"])
    storage.put(world.campus, data["nonce-key"], data["nonce"])
    launch_page = browser.get(data["next"])
    assert launch_page.status_code == 200 and "id_token" in launch_page.text
    return data, launch_page.text


def launch_to_confirmation(
    world: World, browser: requests.Session, storage: PlatformStorage, **params: str
) -> tuple[requests.Response, dict[str, str]]:
    _data, launch_page = storage_login(world, browser, storage, **params)
    action, fields = auto_post_form(launch_page)
    return browser.post(action, data=fields), fields


def confirm(
    world: World, browser: requests.Session, storage: PlatformStorage, page: str
) -> requests.Response:
    """What the page's script does: read the state from the LMS's storage and post it back."""
    data = page_data(page)
    assert data["lti-storage"] == "get"
    token = re.search(r'name="token" value="([^"]+)"', page)[1]
    state = storage.get(world.campus, data["state-key"]) or ""
    return browser.post(
        f"{world.campus}/lti/tool/launch/confirm", data={"token": token, "state": state}
    )


def store_rows(world: World, prefix: str) -> int:
    with world.app.app_context():
        return db.session.execute(
            db.select(db.func.count())
            .select_from(LtiStoreEntry)
            .where(LtiStoreEntry.key.startswith(prefix))
        ).scalar()


def test_gap12_a_launch_works_without_any_cookie_through_the_platform_storage(
    world: World,
) -> None:
    browser, storage = cookieless_browser(), PlatformStorage()
    launched, _fields = launch_to_confirmation(world, browser, storage)
    assert launched.status_code == 200, launched.text[:500]
    assert 'action="/lti/tool/launch/confirm"' in launched.text
    assert identities(world) == 0  # nothing happens until the browser shows the state
    landing = confirm(world, browser, storage, launched.text)
    assert landing.status_code == 200, landing.text[:500]
    assert "Tiina Teacher" in landing.text
    assert "blocks cookies inside the course" in landing.text
    assert len(browser.cookies) == 0  # no cookie was ever kept
    assert identities(world) == 1
    # The campus opens in a window of its own (a first-party window keeps its cookies).
    window = english_browser()
    token = re.search(r'name="token" value="([^"]+)"', landing.text)[1]
    module_page = window.post(
        f"{world.campus}/lti/tool/continue",
        data={"token": token, "locale": "en"},
        headers={"Origin": world.campus},
    )
    assert module_page.status_code == 200 and module_page.url.endswith("/paths/basics/welcome")


def test_without_the_platform_storage_a_cookieless_launch_still_fails_as_before(
    world: World,
) -> None:
    browser = cookieless_browser()
    page = browser.get(f"{world.lms}/start", params={"target": "module:basics/welcome"})
    action, fields = auto_post_form(page.text)
    refused = browser.post(action, data=fields)
    assert refused.status_code == 400 and "State not found" in refused.text
    # The person reads what to do; the library's reason stays beside it for support.
    assert "could not be verified. Open the activity again in your course" in refused.text
    assert "Reason for support: State not found" in refused.text
    assert identities(world) == 0


def test_gap12_the_lms_need_not_repeat_the_storage_target_in_its_launch(world: World) -> None:
    world.lms_app.settings["omit_storage_in_launch"] = True  # type: ignore[attr-defined]
    browser, storage = cookieless_browser(), PlatformStorage()
    launched, fields = launch_to_confirmation(world, browser, storage)
    assert "lti_storage_target" not in fields
    assert confirm(world, browser, storage, launched.text).status_code == 200
    assert identities(world) == 1


def test_gap12_a_state_the_storage_does_not_hold_is_refused_and_the_token_spent(
    world: World,
) -> None:
    browser, storage = cookieless_browser(), PlatformStorage()
    launched, _fields = launch_to_confirmation(world, browser, storage)
    token = re.search(r'name="token" value="([^"]+)"', launched.text)[1]
    wrong = browser.post(
        f"{world.campus}/lti/tool/launch/confirm", data={"token": token, "state": "state-forged"}
    )
    assert wrong.status_code == 400 and "could not confirm" in wrong.text
    assert store_rows(world, "tool-storage-pending:") == 0
    again = confirm(world, browser, storage, launched.text)  # the right state, too late
    assert again.status_code == 400 and "expired" in again.text
    assert identities(world) == 0


@pytest.mark.parametrize("token", ["", "x" * 500, "not-a-token"])
def test_gap12_unknown_tokens_are_refused(world: World, token: str) -> None:
    refused = cookieless_browser().post(
        f"{world.campus}/lti/tool/launch/confirm", data={"token": token, "state": "s"}
    )
    assert refused.status_code == 400 and "Traceback" not in refused.text
    assert identities(world) == 0


def test_gap12_a_replayed_launch_is_refused(world: World) -> None:
    browser, storage = cookieless_browser(), PlatformStorage()
    launched, fields = launch_to_confirmation(world, browser, storage)
    assert launched.status_code == 200
    replay = browser.post(f"{world.campus}/lti/tool/launch", data=fields)
    assert replay.status_code == 400
    assert store_rows(world, "tool-storage-pending:") == 1


def test_gap12_an_id_token_cannot_travel_under_another_logins_state(world: World) -> None:
    """A state is bound to the nonce it was issued with: a launch of login A posted with the
    state of login B (both in the storage) is refused."""
    browser, storage = cookieless_browser(), PlatformStorage()
    first, launch_a = storage_login(world, browser, storage)
    second, _launch_b = storage_login(world, browser, storage)
    action, fields = auto_post_form(launch_a)
    assert fields["state"] == first["state"]
    refused = browser.post(action, data={**fields, "state": second["state"]})
    assert refused.status_code == 400
    assert store_rows(world, "tool-storage-pending:") == 0 and identities(world) == 0


def test_gap12_a_browser_that_keeps_cookies_needs_no_confirmation(world: World) -> None:
    browser, storage = english_browser(), PlatformStorage()
    launched, _fields = launch_to_confirmation(world, browser, storage)
    assert launched.status_code == 200 and "Tiina Teacher" in launched.text
    assert "launch/confirm" not in launched.text and identities(world) == 1


def test_gap12_deep_linking_works_without_cookies(world: World) -> None:
    browser, storage = cookieless_browser(), PlatformStorage()
    launched, _fields = launch_to_confirmation(world, browser, storage, kind="deeplink")
    picker = confirm(world, browser, storage, launched.text)
    assert picker.status_code == 200 and 'name="cookieless" value="1"' in picker.text
    launch_id = re.search(r'name="launch_id" value="([^"]+)"', picker.text)[1]
    answer = browser.post(
        f"{world.campus}/lti/tool/deep-link",
        data={"launch_id": launch_id, "target": "module:basics/welcome", "cookieless": "1"},
    )
    assert answer.status_code == 200, answer.text[:500]
    action, fields = auto_post_form(answer.text)
    returned = browser.post(action, data=fields)
    assert returned.json() == {"accepted": 1}
    # The same launch id without the cookieless storage (a session-bound launch) is refused.
    assert (
        browser.post(
            f"{world.campus}/lti/tool/deep-link",
            data={"launch_id": launch_id, "target": "module:basics/welcome"},
        ).status_code
        == 400
    )


@pytest.mark.parametrize("target", ["<script>", "a b", "x" * 65, ""])
def test_gap12_a_storage_target_that_is_not_a_frame_name_is_ignored(
    world: World, target: str
) -> None:
    browser = english_browser()
    page = browser.get(
        f"{world.lms}/start",
        params={"target": "module:basics/welcome", "storage": target},
        allow_redirects=False,
    )
    login = browser.get(page.headers["Location"], allow_redirects=False)
    assert login.status_code == 302  # the ordinary cookie login, no storage page
    assert store_rows(world, "tool-storage-state:") == 0


def test_gap12_the_storage_login_still_sets_the_state_cookie_and_names_no_secret_in_links(
    world: World,
) -> None:
    browser = english_browser()
    page = browser.get(
        f"{world.lms}/start", params={"target": "module:basics/welcome", "storage": "_parent"}
    )
    data = page_data(page.text)
    assert browser.cookies.get(f"lti1p3-{data['state']}") == data["state"]
    assert "no-store" in page.headers["Cache-Control"]
    with world.app.app_context():
        assert db.session.execute(db.select(db.func.count()).select_from(LtiIdentity)).scalar() == 0


def test_the_storage_page_names_the_lms_origin_as_the_browser_does() -> None:
    """The page compares answers with `event.origin`, which has no default port and no upper
    case: the origin it is given must be written the same way."""
    from campus.routing import browser_origin

    assert browser_origin("https://LMS.Example:443/api/lti/authorize") == "https://lms.example"
    assert browser_origin("http://127.0.0.1:8080/authorize?x=1") == "http://127.0.0.1:8080"
    assert browser_origin("https://[::1]:8443/auth") == "https://[::1]:8443"
