"""The campus as LTI 1.3 platform, driven end to end with an independent pylti1p3next tool.

Both apps run as real HTTP servers on 127.0.0.1 (the tool fetches the campus JWKS and asks for
tokens server to server); `requests.Session` plays the browser.
"""

from __future__ import annotations

import re
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from pathlib import Path

import jwt
import pytest
import requests

from campus.auth.models import Organisation
from campus.auth.models import Role
from campus.auth.models import User
from campus.extensions import db
from campus.lti.models import LtiLineItem
from campus.lti.models import LtiReplay
from campus.lti.models import LtiResourceLink
from campus.lti.models import LtiTool
from campus.paths.content import load_tree
from campus.paths.models import Completion
from campus.paths.models import Enrollment
from campus.paths.models import Module
from campus.paths.sync import sync_tree
from tests.conftest import PASSWORD
from tests.conftest import TEST_CONTENT
from tests.conftest import now
from tests.lti.support import LiveServer
from tests.lti.support import add_users
from tests.lti.support import auto_post_form
from tests.lti.support import create_campus
from tests.lti.tool_app import create_tool_app
from tests.lti.tool_app import make_key

CLIENT_ID = "campus-test-tool"
DEPLOYMENT = "deployment-1"


@dataclass
class World:
    campus: str
    tool: str
    app: object
    module_id: int
    tool_private_pem: str

    def browser(self, email: str) -> requests.Session:
        session = requests.Session()
        page = session.get(f"{self.campus}/auth/login").text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)[1]
        response = session.post(
            f"{self.campus}/auth/login",
            data={"email": email, "password": PASSWORD, "csrf_token": token},
            allow_redirects=False,
        )
        assert response.status_code == 302, response.text[:500]
        return session


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    content = tmp_path / "content"
    shutil.copytree(TEST_CONTENT, content)
    module_dir = content / "paths/basics/tool-quiz"
    module_dir.mkdir()
    (module_dir / "module.toml").write_text(
        'version = 1\nkind = "lti"\ntitle = { fi = "Työkalu", en = "Tool quiz" }\n'
        'tool = "test-tool"\npass_mark = 60\ncustom = { level = "2" }\n'
    )
    (module_dir / "module.fi.md").write_text("Tee tehtävä työkalussa.")
    (module_dir / "module.en.md").write_text("Do the task in the tool.")
    manifest = content / "paths/basics/path.toml"
    manifest.write_text(
        manifest.read_text().replace('"extra-reading"]', '"extra-reading", "tool-quiz"]')
    )

    campus_server, tool_server = LiveServer(), LiveServer()
    base, tool_base = campus_server.base, tool_server.base
    campus = create_campus(tmp_path, content, base)
    campus_server.start(campus)
    private_pem, public_pem = make_key()
    tool_server.start(create_tool_app(base, CLIENT_ID, DEPLOYMENT, private_pem, public_pem))
    with campus.app_context():
        db.create_all()
        sync_tree(load_tree(content), now())
        org = Organisation(slug="omnia", name="Omnia")
        add_users(org, {"learner@omnia.fi": set(), "admin@omnia.fi": {Role.ADMIN}})
        db.session.add(
            LtiTool(
                slug="test-tool",
                name="Test tool",
                client_id=CLIENT_ID,
                deployment_id=DEPLOYMENT,
                oidc_login_url=f"{tool_base}/login",
                launch_url=f"{tool_base}/launch",
                deep_link_url=f"{tool_base}/deep-link",
                redirect_uris=[],
                jwks_url=f"{tool_base}/jwks",
            )
        )
        db.session.commit()
        module_id = db.session.execute(
            db.select(Module.id).where(Module.slug == "tool-quiz")
        ).scalar_one()
    try:
        yield World(base, tool_base, campus, module_id, private_pem)
    finally:
        campus_server.stop()
        tool_server.stop()


def launch(world: World, browser: requests.Session, deep_link: bool = False) -> requests.Response:
    """Open the module's tool: campus → tool login → campus authorize → auto-post to the tool."""
    suffix = "?deep_link=1" if deep_link else ""
    page = browser.get(f"{world.campus}/lti/modules/{world.module_id}/launch{suffix}")
    assert page.status_code == 200 and "id_token" in page.text, page.text[:800]
    action, fields = auto_post_form(page.text)
    return browser.post(action, data=fields)


def test_independent_tool_accepts_the_resource_link_launch(world: World) -> None:
    browser = world.browser("learner@omnia.fi")
    response = launch(world, browser)
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["accepted"] is True and data["has_ags"] and data["has_nrps"]
    assert data["sub"].startswith("campus-user-") and data["name"] == "Learner"
    assert data["roles"] == ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"]
    assert data["context"]["id"] == "basics"
    assert data["custom"] == {"level": "2"}
    assert data["presentation"]["document_target"] == "window"


def test_score_completes_the_module_and_members_can_be_read(world: World) -> None:
    browser = world.browser("learner@omnia.fi")
    launch_id = launch(world, browser).json()["launch_id"]
    stamp = datetime.now(UTC).isoformat()
    low = browser.post(
        f"{world.tool}/grade", json={"launch_id": launch_id, "score": 3, "timestamp": stamp}
    )
    assert low.status_code == 200, low.text
    with world.app.app_context():
        assert (
            db.session.execute(
                db.select(Completion).where(Completion.module_id == world.module_id)
            ).first()
            is None
        )
    high = browser.post(
        f"{world.tool}/grade", json={"launch_id": launch_id, "score": 8, "timestamp": stamp}
    )
    assert high.status_code == 200, high.text
    with world.app.app_context():
        completion = db.session.execute(
            db.select(Completion).where(Completion.module_id == world.module_id)
        ).scalar_one()
        assert completion.source == "lti" and completion.score == 80.0
        assert db.session.execute(db.select(db.func.count()).select_from(LtiLineItem)).scalar() == 1
    members = browser.post(f"{world.tool}/members", json={"launch_id": launch_id})
    assert members.status_code == 200, members.text
    assert [m["name"] for m in members.json()["members"]] == ["Learner"]


def test_deep_linking_round_trip(world: World) -> None:
    admin = world.browser("admin@omnia.fi")
    assert (
        world.browser("learner@omnia.fi")
        .get(f"{world.campus}/lti/modules/{world.module_id}/launch?deep_link=1")
        .status_code
        == 403
    )
    response = launch(world, admin, deep_link=True)
    assert response.status_code == 200 and "JWT" in response.text, response.text[:500]
    action, fields = auto_post_form(response.text)
    assert action == f"{world.campus}/lti/deep-link/return"
    # A browser sends no SameSite=Lax session cookie with this cross-site POST: post without it.
    accepted = requests.post(action, data=fields, allow_redirects=False)
    assert accepted.status_code == 302, accepted.text[:500]
    with world.app.app_context():
        link = db.session.execute(db.select(LtiResourceLink)).scalar_one()
        assert link.url.endswith("/launch?activity=quiz-42") and link.title == "Quiz 42"
        assert link.custom == {"level": "2", "activity": "quiz-42"}  # the module's own kept
    again = requests.post(action, data=fields)  # the same response twice: its nonce was used
    assert again.status_code == 401


def test_tampered_deep_link_response_is_refused(world: World) -> None:
    admin = world.browser("admin@omnia.fi")
    action, fields = auto_post_form(launch(world, admin, deep_link=True).text)
    header, body, signature = fields["JWT"].split(".")
    claims = jwt.decode(fields["JWT"], options={"verify_signature": False})
    claims["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"][0]["url"] = (
        "https://evil.example/"
    )
    forged = jwt.utils.base64url_encode(jwt.api_jws.json.dumps(claims).encode()).decode()
    refused = admin.post(action, data={"JWT": f"{header}.{forged}.{signature}"})
    assert refused.status_code == 401
    with world.app.app_context():
        assert db.session.execute(db.select(LtiResourceLink.url)).scalar_one() is None


def test_tampered_id_token_is_refused_by_the_tool(world: World) -> None:
    browser = world.browser("learner@omnia.fi")
    page = browser.get(f"{world.campus}/lti/modules/{world.module_id}/launch")
    action, fields = auto_post_form(page.text)
    header, body, signature = fields["id_token"].split(".")
    claims = jwt.decode(fields["id_token"], options={"verify_signature": False})
    claims["https://purl.imsglobal.org/spec/lti/claim/roles"] = [
        "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
    ]
    forged = jwt.utils.base64url_encode(jwt.api_jws.json.dumps(claims).encode()).decode()
    response = browser.post(action, data={**fields, "id_token": f"{header}.{forged}.{signature}"})
    assert response.status_code == 400 and response.json()["accepted"] is False


def _authorize_params(world: World, browser: requests.Session) -> dict[str, str]:
    """Follow the launch only up to the tool's redirect to our authorize endpoint."""
    first = browser.get(
        f"{world.campus}/lti/modules/{world.module_id}/launch", allow_redirects=False
    )
    login = browser.get(first.headers["Location"], allow_redirects=False)
    from urllib.parse import parse_qsl
    from urllib.parse import urlsplit

    return dict(parse_qsl(urlsplit(login.headers["Location"]).query))


def test_unregistered_redirect_uri_and_foreign_hints_are_refused(world: World) -> None:
    learner = world.browser("learner@omnia.fi")
    params = _authorize_params(world, learner)
    evil = learner.get(
        f"{world.campus}/lti/authorize",
        params={**params, "redirect_uri": "https://evil.example/launch"},
    )
    assert evil.status_code == 400 and 'name="id_token"' not in evil.text
    admin = world.browser("admin@omnia.fi")
    stolen = admin.get(f"{world.campus}/lti/authorize", params=params)  # another user's hints
    assert stolen.status_code == 403 and 'name="id_token"' not in stolen.text
    with world.app.app_context():
        assert db.session.execute(db.select(LtiReplay)).first() is None  # nothing recorded
    good = learner.get(f"{world.campus}/lti/authorize", params=params)
    assert good.status_code == 200 and 'name="id_token"' in good.text
    replay = learner.get(f"{world.campus}/lti/authorize", params=params)  # the same nonce again
    assert replay.status_code == 401


def _assertion(world: World, **changes: object) -> str:
    from jwcrypto.jwk import JWK

    kid = JWK.from_pem(world.tool_private_pem.encode()).thumbprint()
    claims = {
        "iss": CLIENT_ID,
        "sub": CLIENT_ID,
        "aud": f"{world.campus}/lti/token",
        "iat": int(time.time()),
        "exp": int(time.time()) + 300,
        "jti": str(uuid.uuid4()),
    }
    claims.update(changes)
    return jwt.encode(claims, world.tool_private_pem, algorithm="RS256", headers={"kid": kid})


def _token_request(world: World, assertion: str, scope: str) -> requests.Response:
    return requests.post(
        f"{world.campus}/lti/token",
        data={
            "grant_type": "client_credentials",
            "scope": scope,
            "client_assertion": assertion,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        },
    )


def test_token_requests_are_checked(world: World) -> None:
    score_scope = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
    assertion = _assertion(world)
    first = _token_request(world, assertion, score_scope)
    assert first.status_code == 200 and first.json()["scope"] == score_scope
    assert _token_request(world, assertion, score_scope).status_code == 401  # replayed jti
    assert (
        _token_request(
            world, _assertion(world, aud="https://elsewhere.example/token"), score_scope
        ).status_code
        == 401
    )
    assert (
        _token_request(world, _assertion(world, iss="someone-else"), score_scope).status_code == 401
    )
    assert (
        _token_request(world, _assertion(world, exp=int(time.time()) - 60), score_scope).status_code
        == 401
    )
    # A score-only token cannot create line items, nor read members.
    token = first.json()["access_token"]
    created = requests.post(
        f"{world.campus}/lti/ags/basics/lineitems",
        json={"label": "x", "scoreMaximum": 10},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert created.status_code == 403
    members = requests.get(
        f"{world.campus}/lti/nrps/basics/memberships", headers={"Authorization": f"Bearer {token}"}
    )
    assert members.status_code == 403
    assert requests.get(f"{world.campus}/lti/nrps/basics/memberships").status_code == 401
    with world.app.app_context():
        assert db.session.execute(db.select(LtiLineItem)).first() is None


def test_members_are_paged(world: World) -> None:
    with world.app.app_context():
        org = db.session.execute(db.select(Organisation)).scalar_one()
        path_id = db.session.get(Module, world.module_id).path_id
        for index in range(5):
            user = User(
                email=f"m{index}@omnia.fi",
                name=f"Member {index}",
                organisation=org,
                password_hash="x",
            )
            db.session.add(user)
            db.session.flush()
            db.session.add(Enrollment(user_id=user.id, path_id=path_id, enrolled_at=now()))
        db.session.commit()
    token = _token_request(
        world,
        _assertion(world),
        "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
    ).json()["access_token"]
    url = f"{world.campus}/lti/nrps/basics/memberships?limit=2"
    names = []
    while url:
        page = requests.get(url, headers={"Authorization": f"Bearer {token}"})
        assert page.status_code == 200
        names += [m["name"] for m in page.json()["members"]]
        url = page.links.get("next", {}).get("url")
    assert names == [f"Member {i}" for i in range(5)]


def test_disabled_tool_is_not_launched(world: World) -> None:
    with world.app.app_context():
        db.session.execute(db.update(LtiTool).values(is_enabled=False))
        db.session.commit()
    browser = world.browser("learner@omnia.fi")
    response = browser.get(
        f"{world.campus}/lti/modules/{world.module_id}/launch", allow_redirects=False
    )
    assert response.status_code == 409 and "not available" in response.text


def test_scores_only_land_on_members_of_the_context(world: World) -> None:
    learner = world.browser("learner@omnia.fi")
    launch(world, learner)  # enrols the learner and creates the resource link
    scopes = " ".join(
        [
            "https://purl.imsglobal.org/spec/lti-ags/scope/score",
            "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
        ]
    )
    token = _token_request(world, _assertion(world), scopes).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    with world.app.app_context():
        link_id = db.session.execute(db.select(LtiResourceLink.resource_link_id)).scalar_one()
        admin_id = db.session.execute(
            db.select(User.id).where(User.email == "admin@omnia.fi")
        ).scalar_one()
        learner_id = db.session.execute(
            db.select(User.id).where(User.email == "learner@omnia.fi")
        ).scalar_one()
    wrong_context = requests.post(
        f"{world.campus}/lti/ags/advanced/lineitems",
        headers=auth,
        json={"label": "x", "scoreMaximum": 10, "resourceLinkId": link_id},
    )
    # Advanced does not use the tool: unknown to it (404), before the link is even looked at.
    assert wrong_context.status_code == 404
    item = requests.post(
        f"{world.campus}/lti/ags/basics/lineitems",
        headers=auth,
        json={"label": "Quiz", "scoreMaximum": 10, "resourceLinkId": link_id},
    ).json()
    stamp = datetime.now(UTC).isoformat()
    score = {
        "scoreGiven": 10,
        "scoreMaximum": 10,
        "timestamp": stamp,
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
    }
    outsider = requests.post(
        f"{item['id']}/scores", headers=auth, json={**score, "userId": f"campus-user-{admin_id}"}
    )
    assert outsider.status_code == 400
    member = requests.post(
        f"{item['id']}/scores", headers=auth, json={**score, "userId": f"campus-user-{learner_id}"}
    )
    assert member.status_code == 204
    with world.app.app_context():
        assert [c.user_id for c in db.session.execute(db.select(Completion)).scalars()] == [
            learner_id
        ]
