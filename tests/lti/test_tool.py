"""The campus as an LTI 1.3 tool, driven by an independent platform built on lti1p3platform.

Both run as HTTP servers on 127.0.0.1; `requests.Session` is the learner's browser.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests

from campus.auth.models import Organisation
from campus.auth.models import Role
from campus.auth.models import User
from campus.badges import ob2
from campus.badges.models import Assertion
from campus.extensions import db
from campus.lti.models import LtiIdentity
from campus.lti.models import LtiPlatform
from campus.outbox.models import OutboxItem
from campus.outbox.models import OutboxStatus
from campus.paths.content import load_tree
from campus.paths.sync import sync_tree
from tests.conftest import PASSWORD
from tests.conftest import TEST_BADGES
from tests.conftest import TEST_CONTENT
from tests.conftest import now
from tests.lti.platform_app import CLIENT_ID
from tests.lti.platform_app import DEPLOYMENT
from tests.lti.platform_app import create_platform_app
from tests.lti.support import LiveServer
from tests.lti.support import add_users
from tests.lti.support import auto_post_form
from tests.lti.support import create_campus
from tests.lti.tool_app import make_key


@dataclass
class World:
    campus: str
    lms: str
    app: object
    lms_app: object
    lms_private_pem: str


@pytest.fixture
def world(tmp_path: Path, world_config: dict[str, Any]) -> Iterator[World]:
    content = tmp_path / "content"
    shutil.copytree(TEST_CONTENT, content)
    campus_server, lms_server = LiveServer(), LiveServer()
    base, lms_base = campus_server.base, lms_server.base
    campus = create_campus(tmp_path, content, base, world_config)
    campus_server.start(campus)
    private_pem, public_pem = make_key()
    lms = create_platform_app(lms_base, base, private_pem, public_pem)
    lms_server.start(lms)
    with campus.app_context():
        db.create_all()
        tree = load_tree(content)
        report = sync_tree(tree, now())
        from campus.badges.files import load_badges
        from campus.badges.issuers import IssuingContext
        from campus.badges.issuers import sync_badges

        sync_badges(
            load_badges(TEST_BADGES, tree), IssuingContext.from_config(campus.config), report
        )
        school = Organisation(slug="school", name="School")
        db.session.add(school)
        add_users(school, {"existing@school.fi": set(), "admin@campus.fi": {Role.ADMIN}})
        db.session.add(
            LtiPlatform(
                name="Test LMS",
                issuer=lms_base,
                client_id=CLIENT_ID,
                auth_login_url=f"{lms_base}/authorize",
                auth_token_url=f"{lms_base}/token",
                jwks_url=f"{lms_base}/jwks",
                deployment_ids=[DEPLOYMENT],
                organisation=school,
            )
        )
        db.session.commit()
    try:
        yield World(base, lms_base, campus, lms, private_pem)
    finally:
        campus_server.stop()
        lms_server.stop()


def start(
    world: World,
    browser: requests.Session,
    target: str = "module:basics/welcome",
    kind: str = "launch",
    user: str = "lms-user-1",
) -> tuple[str, dict[str, str]]:
    """The LMS launch up to its auto-post form (LMS → campus login → LMS authorize)."""
    page = browser.get(f"{world.lms}/start", params={"target": target, "kind": kind, "user": user})
    assert page.status_code == 200 and "id_token" in page.text, page.text[:500]
    return auto_post_form(page.text)


def launch(world: World, browser: requests.Session, **kwargs: str) -> requests.Response:
    action, fields = start(world, browser, **kwargs)
    return browser.post(action, data=fields)


def identities(world: World) -> int:
    with world.app.app_context():
        return db.session.execute(db.select(db.func.count()).select_from(LtiIdentity)).scalar()


def test_launch_provisions_by_issuer_and_sub_and_opens_the_module(world: World) -> None:
    browser = requests.Session()
    landing = launch(world, browser)
    assert landing.status_code == 200, landing.text[:800]
    assert "Tiina Teacher" in landing.text and 'action="/lti/tool/continue"' in landing.text
    module_page = browser.get(f"{world.campus}/paths/basics/welcome")
    assert module_page.status_code == 200 and "embed-note" in module_page.text
    with world.app.app_context():
        identity = db.session.execute(db.select(LtiIdentity)).scalar_one()
        user = db.session.get(User, identity.user_id)
        assert identity.sub == "lms-user-1" and identity.email == "teacher@school.fi"
        assert user.email.endswith("@lti.invalid") and user.badge_email == "teacher@school.fi"
        existing = db.session.execute(
            db.select(User).where(User.email == "existing@school.fi")
        ).scalar_one()
        assert user.id != existing.id  # never merged by e-mail
    launch(world, requests.Session())  # a second launch: same identity, same account
    assert identities(world) == 1


def test_completion_is_passed_back_and_survives_an_lms_outage(world: World) -> None:
    browser = requests.Session()
    launch(world, browser)
    page = browser.get(f"{world.campus}/paths/basics/welcome").text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)[1]
    world.lms_app.settings["down"] = True
    done = browser.post(f"{world.campus}/paths/basics/welcome/done", data={"csrf_token": token})
    assert done.status_code == 200  # the learner is not held up by the LMS
    assert world.lms_app.scores == []
    with world.app.app_context():
        item = db.session.execute(db.select(OutboxItem)).scalar_one()
        assert item.kind == "lti.grade" and item.payload["target"] == "module:basics/welcome"
        assert item.status == OutboxStatus.PENDING and item.attempts == 1
        assert "503" in (item.last_error or "")
    world.lms_app.settings["down"] = False
    runner = world.app.test_cli_runner()
    assert "1 item(s)" in runner.invoke(args=["outbox", "retry", str(item.id)]).output
    result = runner.invoke(args=["outbox", "run"])
    assert result.output.startswith("1 done, 0 not done"), result.output
    [score] = world.lms_app.scores
    assert score["userId"] == "lms-user-1" and score["activityProgress"] == "Completed"
    assert score["gradingProgress"] == "FullyGraded" and score["scoreGiven"] == 1


def test_continue_in_a_new_window_with_a_one_time_link(world: World) -> None:
    landing = launch(world, requests.Session())
    # The landing page's form posts the token into a new window, from the campus's own page.
    fields = {"token": re.search(r'name="token" value="([^"]+)"', landing.text)[1]}
    action, own_page = f"{world.campus}/lti/tool/continue", {"Origin": world.campus}
    fresh = requests.Session()  # the new window has none of the iframe's cookies
    opened = fresh.post(action, data=fields, headers=own_page)
    assert opened.status_code == 200 and opened.url.endswith("/paths/basics/welcome")
    again = requests.Session().post(action, data=fields, headers=own_page)
    assert again.status_code == 410  # used once only


def test_deep_linking_picker_returns_a_link_to_the_lms(world: World) -> None:
    browser = requests.Session()
    picker = launch(world, browser, kind="deeplink", target="")
    assert (
        picker.status_code == 200
        and "campus_target" not in picker.text
        and 'name="target"' in picker.text
    )
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', picker.text)[1]
    launch_id = re.search(r'name="launch_id" value="([^"]+)"', picker.text)[1]
    answer = browser.post(
        f"{world.campus}/lti/tool/deep-link",
        data={"csrf_token": token, "launch_id": launch_id, "target": "path:advanced"},
    )
    assert answer.status_code == 200 and 'name="JWT"' in answer.text
    action, fields = auto_post_form(answer.text)
    assert action == f"{world.lms}/dl-return"
    assert browser.post(action, data=fields).json() == {"accepted": 1}
    [item] = world.lms_app.content_items
    assert (
        item["custom"] == {"campus_target": "path:advanced"}
        and item["url"] == f"{world.campus}/lti/tool/launch"
    )


@pytest.mark.parametrize("world_config", [{"FRAME_ANCESTORS": ["https://lms.example"]}])
def test_the_deep_link_answer_may_be_framed_by_the_configured_lms(world: World) -> None:
    """The auto-post page goes back inside the LMS's frame: its own CSP keeps the configured
    frame-ancestors and adds only the LMS's return address as a form target."""
    browser = requests.Session()
    picker = launch(world, browser, kind="deeplink", target="")
    answer = browser.post(
        f"{world.campus}/lti/tool/deep-link",
        data={
            "csrf_token": re.search(r'name="csrf_token"[^>]*value="([^"]+)"', picker.text)[1],
            "launch_id": re.search(r'name="launch_id" value="([^"]+)"', picker.text)[1],
            "target": "path:advanced",
        },
    )
    assert answer.status_code == 200 and 'name="JWT"' in answer.text
    policy = answer.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://lms.example" in policy
    assert f"form-action 'self' {world.lms}" in policy
    assert answer.headers["Cache-Control"] == "no-store"


def _resign(world: World, fields: dict[str, str], **changes: object) -> dict[str, str]:
    claims = jwt.decode(fields["id_token"], options={"verify_signature": False})
    header = jwt.get_unverified_header(fields["id_token"])
    claims.update(changes)
    return {
        **fields,
        "id_token": jwt.encode(
            claims, world.lms_private_pem, algorithm="RS256", headers={"kid": header["kid"]}
        ),
    }


@pytest.mark.parametrize(
    "case", ["bad signature", "unknown deployment", "expired", "wrong audience", "replayed"]
)
def test_bad_launches_are_refused_and_create_no_account(world: World, case: str) -> None:
    browser = requests.Session()
    action, fields = start(world, browser)
    if case == "bad signature":
        head, body, signature = fields["id_token"].split(".")
        fields = {**fields, "id_token": f"{head}.{body}.{signature[:-6]}AAAAAA"}
    elif case == "unknown deployment":
        fields = _resign(
            world, fields, **{"https://purl.imsglobal.org/spec/lti/claim/deployment_id": "other"}
        )
    elif case == "expired":
        fields = _resign(world, fields, exp=1_600_000_000, iat=1_599_999_000)
    elif case == "wrong audience":
        fields = _resign(world, fields, aud="someone-else")
    elif case == "replayed":
        assert browser.post(action, data=fields).status_code == 200
        before = identities(world)
        response = browser.post(action, data=fields)
        assert response.status_code == 400 and identities(world) == before
        return
    response = browser.post(action, data=fields)
    assert 400 <= response.status_code < 500 and "embed-note" not in response.text
    assert identities(world) == 0


def test_linking_needs_the_existing_accounts_login(world: World) -> None:
    browser = requests.Session()
    launch(world, browser)
    page = browser.get(f"{world.campus}/lti/tool/link").text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)[1]
    wrong = browser.post(
        f"{world.campus}/lti/tool/link",
        data={
            "csrf_token": token,
            "confirm": "yes",
            "email": "existing@school.fi",
            "password": "wrong",
        },
    )
    assert wrong.status_code == 401
    linked = browser.post(
        f"{world.campus}/lti/tool/link",
        data={
            "csrf_token": token,
            "confirm": "yes",
            "email": "existing@school.fi",
            "password": PASSWORD,
        },
    )
    assert linked.status_code == 200
    with world.app.app_context():
        identity = db.session.execute(db.select(LtiIdentity)).scalar_one()
        assert db.session.get(User, identity.user_id).email == "existing@school.fi"
    launch(world, requests.Session())  # the next launch lands in the existing account
    with world.app.app_context():
        assert db.session.execute(db.select(db.func.count()).select_from(LtiIdentity)).scalar() == 1


def test_badges_go_to_the_launch_email_or_are_claimed(world: World) -> None:
    from campus.badges.awarding import award
    from campus.badges.issuers import IssuingContext
    from campus.badges.issuers import get_badge
    from campus.badges.models import AwardSource

    launch(world, requests.Session())
    with world.app.app_context():
        user = db.session.get(User, db.session.execute(db.select(LtiIdentity.user_id)).scalar_one())
        assertion = award(
            user,
            get_badge("reviewed"),
            IssuingContext.from_config(world.app.config),
            now(),
            AwardSource.REVIEW,
        ).assertion
        assert assertion.recipient_hash == ob2.recipient_hash(
            "teacher@school.fi", assertion.recipient_salt
        )
        db.session.commit()
    world.lms_app.settings["email"] = ""
    browser = requests.Session()
    landing = launch(world, browser, user="lms-user-2")
    assert "/lti/tool/claim" in landing.text
    with world.app.app_context():
        second = db.session.get(
            User,
            db.session.execute(
                db.select(LtiIdentity.user_id).where(LtiIdentity.sub == "lms-user-2")
            ).scalar_one(),
        )
        award(
            second,
            get_badge("reviewed"),
            IssuingContext.from_config(world.app.config),
            now(),
            AwardSource.REVIEW,
        )
        db.session.commit()
        second_id = second.id
    page = browser.get(f"{world.campus}/lti/tool/claim").text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)[1]
    browser.post(
        f"{world.campus}/lti/tool/claim", data={"csrf_token": token, "email": "Me@Home.fi"}
    )
    # Nothing changes until the link sent to the address is followed and confirmed.
    [message] = Path(world.app.config["MAIL_DIR"]).glob("*.eml")
    body = message_from_bytes(message.read_bytes(), policy=default).get_content()
    link = re.search(r"^http\S+/lti/tool/claim/confirm/(\S+)$", body, re.M)
    confirm = browser.get(link[0]).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', confirm)[1]
    browser.post(
        f"{world.campus}/lti/tool/claim/confirm", data={"csrf_token": token, "token": link[1]}
    )
    with world.app.app_context():
        held = db.session.execute(
            db.select(Assertion).where(
                Assertion.revoked_at.is_(None), Assertion.user_id == second_id
            )
        ).scalar_one()
        assert held.recipient_hash == ob2.recipient_hash("me@home.fi", held.recipient_salt)


def test_dynamic_registration(world: World) -> None:
    admin = requests.Session()
    page = admin.get(f"{world.campus}/auth/login").text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)[1]
    admin.post(
        f"{world.campus}/auth/login",
        data={"email": "admin@campus.fi", "password": PASSWORD, "csrf_token": token},
    )
    form = admin.get(
        f"{world.campus}/lti/tool/register",
        params={
            "openid_configuration": f"{world.lms}/.well-known/openid-configuration",
            "registration_token": "reg-token-1",
        },
    )
    assert form.status_code == 200
    action, fields = auto_post_form(form.text)
    with world.app.app_context():
        org_id = db.session.execute(db.select(Organisation.id)).scalar_one()
    done = admin.post(
        f"{world.campus}/lti/tool/register",
        data={**fields, "name": "Dynamic LMS", "organisation_id": org_id},
    )
    assert done.status_code == 200 and "registration-done.js" in done.text, done.text[:500]
    sent = world.lms_app.registration
    assert sent["initiate_login_uri"] == f"{world.campus}/lti/tool/login"
    assert sent["jwks_uri"] == f"{world.campus}/lti/jwks"
    with world.app.app_context():
        platform = db.session.execute(
            db.select(LtiPlatform).where(LtiPlatform.name == "Dynamic LMS")
        ).scalar_one()
        assert platform.client_id.startswith("dyn-") and platform.deployment_ids == [
            "dyn-deployment"
        ]
    bad = admin.post(
        f"{world.campus}/lti/tool/register",
        data={**fields, "registration_token": "forged", "name": "X", "organisation_id": org_id},
    )
    assert bad.status_code == 502
