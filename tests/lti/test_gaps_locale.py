"""Issue 15, "the learner's language" (tool side): the LMS's launch_presentation.locale chooses
the campus language for the session of the launch.

The launch comes from the independent lti1p3platform LMS of tests/lti (platform_app); it sends
no launch_presentation of its own, so its launch message gets one here. The browser asks for
English (Accept-Language), so "nothing changes" shows as English, not as the campus default.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from typing import Any

import pytest
import requests
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract

from campus.auth.models import User
from campus.extensions import db
from campus.lti.models import LtiGradeTarget
from campus.lti.models import LtiIdentity
from campus.lti.tool.provisioning import launch_language
from tests.lti import test_tool
from tests.lti.test_tool import World
from tests.lti.test_tool import launch

world = test_tool.world  # the live LMS peer and campus (a fixture shared with test_tool)

PRESENTATION = "https://purl.imsglobal.org/spec/lti/claim/launch_presentation"
HTML_LANG = re.compile(r'<html lang="([a-z]+)"')
LANGUAGE_FORM = re.compile(
    r'<form method="post" action="([^"]+)" class="language-switch">\s*'
    r'<input type="hidden" name="csrf_token" value="([^"]+)"'
)


@pytest.fixture
def lms_locale(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """What the LMS sends as launch_presentation.locale (None: no launch_presentation)."""
    sent: dict[str, Any] = {"locale": None}
    original = LTIAdvantageMessageLaunchAbstract.get_launch_message

    def with_locale(self: Any, include_extra_claims: bool = True) -> dict[str, Any]:
        message = original(self, include_extra_claims)
        if sent["locale"] is not None:
            message[PRESENTATION] = {"document_target": "iframe", "locale": sent["locale"]}
        return message

    monkeypatch.setattr(LTIAdvantageMessageLaunchAbstract, "get_launch_message", with_locale)
    yield sent


def browser() -> requests.Session:
    session = requests.Session()
    session.headers["Accept-Language"] = "en"
    return session


def lang_of(page: requests.Response) -> str:
    assert page.status_code == 200, page.text[:800]
    found = HTML_LANG.search(page.text)
    assert found is not None
    return found[1]


def launched_user(world: World) -> User:
    identity = db.session.execute(db.select(LtiIdentity)).scalar_one()
    user = db.session.get(User, identity.user_id)
    assert user is not None
    return user


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("sv-FI", "sv"),
        ("fi", "fi"),
        ("fi_FI", "fi"),
        ("EN-gb", "en"),
        ("de-DE", None),
        ("", None),
        (None, None),
        (7, None),
    ],
)
def test_launch_language_maps_lms_locales_to_campus_languages(
    locale: Any, expected: str | None
) -> None:
    assert launch_language({PRESENTATION: {"locale": locale}}) == expected
    assert launch_language({}) is None
    assert launch_language({PRESENTATION: "sv"}) is None


def test_swedish_lms_locale_shows_the_campus_in_swedish_for_the_session(
    world: World, lms_locale: dict[str, Any]
) -> None:
    lms_locale["locale"] = "sv-FI"
    learner = browser()
    landing = launch(world, learner)
    assert lang_of(landing) == "sv"
    assert "Välkommen, Tiina Teacher." in landing.text
    assert lang_of(learner.get(f"{world.campus}/paths/basics/welcome")) == "sv"
    with world.app.app_context():
        user = launched_user(world)
        assert user.locale is None  # session only: nothing saved on the account
        target = db.session.execute(db.select(LtiGradeTarget)).scalar_one()
        assert target.ags["locale"] == "sv"
        assert target.ags["lineitems"].endswith("/lineitems")  # the AGS claim is kept as sent


def test_finnish_lms_locale_shows_the_landing_page_in_finnish(
    world: World, lms_locale: dict[str, Any]
) -> None:
    lms_locale["locale"] = "fi"
    landing = launch(world, browser())
    assert lang_of(landing) == "fi"
    assert "Tervetuloa, Tiina Teacher." in landing.text


@pytest.mark.parametrize("locale", ["de-DE", None])
def test_unsupported_or_missing_lms_locale_changes_nothing(
    world: World, lms_locale: dict[str, Any], locale: str | None
) -> None:
    lms_locale["locale"] = locale
    landing = launch(world, browser())
    assert lang_of(landing) == "en"  # the browser's language, as without a launch
    assert "Welcome, Tiina Teacher." in landing.text
    with world.app.app_context():
        assert launched_user(world).locale is None
        target = db.session.execute(db.select(LtiGradeTarget)).scalar_one()
        assert "locale" not in target.ags


def test_the_persons_own_language_choice_wins_over_the_lms_locale(
    world: World, lms_locale: dict[str, Any]
) -> None:
    lms_locale["locale"] = "sv-FI"
    learner = browser()
    module_url = f"{world.campus}/paths/basics/welcome"
    assert lang_of(launch(world, learner)) == "sv"
    page = learner.get(module_url)
    action, csrf_token = LANGUAGE_FORM.search(page.text).groups()
    chosen = learner.post(
        world.campus + unescape(action),
        data={
            "csrf_token": unescape(csrf_token),
            "language": "fi",
            "next": "/paths/basics/welcome",
        },
    )
    assert lang_of(chosen) == "fi"  # followed the redirect back to the module
    assert lang_of(learner.get(module_url)) == "fi"
    # A later launch from the Swedish LMS does not undo the person's own choice.
    assert lang_of(launch(world, learner)) == "fi"
    with world.app.app_context():
        assert launched_user(world).locale == "fi"


def test_the_new_window_keeps_the_lms_language(world: World, lms_locale: dict[str, Any]) -> None:
    """ "Open in a new window" signs in afresh (which clears the session's language): the landing
    page posts its language along, so the window opens in Swedish too; a forged value is ignored."""
    lms_locale["locale"] = "sv-FI"
    landing = launch(world, browser())
    assert 'name="locale" value="sv"' in landing.text
    token = re.search(r'name="token" value="([^"]+)"', landing.text)[1]  # type: ignore[index]
    action, own_page = f"{world.campus}/lti/tool/continue", {"Origin": world.campus}
    opened = browser().post(action, data={"token": token, "locale": "sv"}, headers=own_page)
    assert opened.url.endswith("/paths/basics/welcome") and lang_of(opened) == "sv"
    lms_locale["locale"] = "sv-FI"
    landing = launch(world, browser())
    token = re.search(r'name="token" value="([^"]+)"', landing.text)[1]  # type: ignore[index]
    forged = browser().post(action, data={"token": token, "locale": "xx"}, headers=own_page)
    assert lang_of(forged) == "en"  # not a campus language: the browser's own wins
