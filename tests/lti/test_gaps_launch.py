"""Issue 15, launch claims: the coupled AGS line item, privacy per tool, the learner's language
and the optional core claims (tool_platform, lis), read by an independent pylti1p3next tool.

Two tools run as real HTTP servers next to the campus; each launches its own module of the path
"basics". Their `/claims` launch URL answers with every claim of the validated id_token.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from flask import Flask
from flask import jsonify
from flask import request
from pylti1p3.contrib.flask import FlaskCookieService
from pylti1p3.contrib.flask import FlaskMessageLaunch
from pylti1p3.contrib.flask import FlaskRequest
from pylti1p3.contrib.flask import FlaskSessionService
from pylti1p3.contrib.flask.service_connector import FlaskServiceConnector
from pylti1p3.exception import LtiException
from pylti1p3.grade import Grade
from pylti1p3.tool_config import ToolConfDict

from campus.auth.models import Organisation
from campus.auth.models import Role
from campus.auth.models import User
from campus.extensions import db
from campus.lti.models import LtiLineItem
from campus.lti.models import LtiScore
from campus.lti.models import LtiTool
from campus.lti.models import LtiToolSubject
from campus.paths.content import load_tree
from campus.paths.models import Module
from campus.paths.sync import sync_tree
from tests.conftest import TEST_CONTENT
from tests.conftest import now
from tests.lti.support import LiveServer
from tests.lti.support import add_users
from tests.lti.support import auto_post_form
from tests.lti.support import create_campus
from tests.lti.test_admin import TOOL
from tests.lti.test_admin import admin_client
from tests.lti.test_platform import World
from tests.lti.tool_app import create_tool_app
from tests.lti.tool_app import make_key

AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
PRESENTATION = "https://purl.imsglobal.org/spec/lti/claim/launch_presentation"
TOOL_PLATFORM = "https://purl.imsglobal.org/spec/lti/claim/tool_platform"
LIS = "https://purl.imsglobal.org/spec/lti/claim/lis"
RESOURCE_LINK = "https://purl.imsglobal.org/spec/lti/claim/resource_link"
PERSON = ("name", "given_name", "family_name", "email")
LEARNER = "liisa@omnia.fi"


def tool_peer(platform: str, client_id: str, deployment_id: str) -> Flask:
    """The suite's pylti1p3next tool, plus `/claims` (a launch URL that answers with all the
    claims it validated) and `/grade-coupled` (a score posted to the claim's `lineitem`)."""
    private_pem, public_pem = make_key()
    app = create_tool_app(platform, client_id, deployment_id, private_pem, public_pem)
    settings = {
        platform: [
            {
                "default": True,
                "client_id": client_id,
                "auth_login_url": f"{platform}/lti/authorize",
                "auth_token_url": f"{platform}/lti/token",
                "auth_audience": None,
                "key_set_url": f"{platform}/lti/jwks",
                "key_set": None,
                "deployment_ids": [deployment_id],
            }
        ]
    }

    def tool_conf() -> ToolConfDict:
        conf = ToolConfDict(settings)
        conf.set_private_key(platform, private_pem, client_id=client_id)
        conf.set_public_key(platform, public_pem, client_id=client_id)
        return conf

    @app.post("/claims")
    def claims() -> Any:
        message = FlaskMessageLaunch(FlaskRequest(), tool_conf())
        try:
            data = message.get_launch_data()
        except LtiException as error:
            return jsonify({"accepted": False, "error": str(error)}), 400
        return jsonify({"accepted": True, "launch_id": message.get_launch_id(), "claims": data})

    @app.post("/grade-coupled")
    def grade_coupled() -> Any:
        flask_request = FlaskRequest()
        message = FlaskMessageLaunch.from_cache(
            request.get_json()["launch_id"],
            flask_request,
            tool_conf(),
            session_service=FlaskSessionService(flask_request),
            cookie_service=FlaskCookieService(flask_request),
            service_connector_cls=FlaskServiceConnector,
        )
        score = (
            Grade()
            .set_score_given(7)
            .set_score_maximum(10)
            .set_timestamp(datetime.now(UTC).isoformat())
            .set_activity_progress("Completed")
            .set_grading_progress("FullyGraded")
            .set_user_id(message.get_launch_data()["sub"])
        )
        # No line item given: the claim's `lineitem` (the library raises on an error status).
        message.get_ags().put_grade(score)
        return jsonify({"posted": True})

    return app


@dataclass
class Gaps:
    world: World
    other_tool: str
    other_module_id: int

    def launch(self, email: str, module_id: int | None = None) -> dict[str, Any]:
        """Launch a module as `email`; the tool's view of the validated launch."""
        browser = self.world.browser(email)
        return self.launch_with(browser, module_id)

    def launch_with(
        self, browser: requests.Session, module_id: int | None = None
    ) -> dict[str, Any]:
        module_id = module_id or self.world.module_id
        page = browser.get(f"{self.world.campus}/lti/modules/{module_id}/launch")
        assert page.status_code == 200 and "id_token" in page.text, page.text[:800]
        action, fields = auto_post_form(page.text)
        response = browser.post(action, data=fields)
        assert response.status_code == 200 and response.json()["accepted"], response.text[:800]
        return response.json()

    def set_tool(self, slug: str, **values: object) -> None:
        with self.world.app.app_context():
            db.session.execute(db.update(LtiTool).where(LtiTool.slug == slug).values(**values))
            db.session.commit()


def _module(content: Path, slug: str, tool: str, title: str) -> None:
    folder = content / "paths/basics" / slug
    folder.mkdir()
    (folder / "module.toml").write_text(
        f'version = 1\nkind = "lti"\ntitle = {{ fi = "{title}", en = "{title}" }}\n'
        f'tool = "{tool}"\npass_mark = 60\n'
    )
    (folder / "module.fi.md").write_text("Tee tehtävä työkalussa.")
    (folder / "module.en.md").write_text("Do the task in the tool.")


@pytest.fixture
def gaps(tmp_path: Path) -> Iterator[Gaps]:
    content = tmp_path / "content"
    shutil.copytree(TEST_CONTENT, content)
    _module(content, "tool-quiz", "test-tool", "Tool quiz")
    _module(content, "other-quiz", "other-tool", "Other quiz")
    manifest = content / "paths/basics/path.toml"
    manifest.write_text(
        manifest.read_text().replace(
            '"extra-reading"]', '"extra-reading", "tool-quiz", "other-quiz"]'
        )
    )
    servers = [LiveServer(), LiveServer(), LiveServer()]
    campus_server, first, second = servers
    campus = create_campus(tmp_path, content, campus_server.base)
    campus_server.start(campus)
    for server, client_id in ((first, "tool-one"), (second, "tool-two")):
        server.start(tool_peer(campus_server.base, client_id, "deployment-1"))
    with campus.app_context():
        db.create_all()
        sync_tree(load_tree(content), now())
        org = Organisation(slug="omnia", name="Omnia")
        add_users(org, {LEARNER: set(), "admin@omnia.fi": {Role.ADMIN}})
        db.session.flush()
        learner = db.session.execute(db.select(User).where(User.email == LEARNER)).scalar_one()
        learner.name = "Liisa Virtanen"
        learner.locale = "sv"
        for slug, client_id, server in (
            ("test-tool", "tool-one", first),
            ("other-tool", "tool-two", second),
        ):
            db.session.add(
                LtiTool(
                    slug=slug,
                    name=slug.title(),
                    client_id=client_id,
                    deployment_id="deployment-1",
                    oidc_login_url=f"{server.base}/login",
                    launch_url=f"{server.base}/claims",
                    deep_link_url=f"{server.base}/deep-link",
                    redirect_uris=[],
                    jwks_url=f"{server.base}/jwks",
                )
            )
        db.session.commit()
        ids = {slug: id_ for slug, id_ in db.session.execute(db.select(Module.slug, Module.id))}
    world = World(campus_server.base, first.base, campus, ids["tool-quiz"], "")
    try:
        yield Gaps(world, second.base, ids["other-quiz"])
    finally:
        for server in servers:
            server.stop()


# --- gap 1: the AGS claim names the resource link's only line item ----------------------------


def test_ags_claim_carries_the_lineitem_of_a_link_with_exactly_one(gaps: Gaps) -> None:
    browser = gaps.world.browser(LEARNER)
    first = gaps.launch_with(browser)
    assert "lineitem" not in first["claims"][AGS]  # no line item yet: nothing to name
    created = browser.post(
        f"{gaps.world.tool}/grade",  # the suite's tool creates a line item bound to the link
        json={"launch_id": first["launch_id"], "score": 3, "timestamp": now().isoformat()},
    )
    assert created.status_code == 200, created.text
    with gaps.world.app.app_context():
        item = db.session.execute(db.select(LtiLineItem)).scalar_one()
        item_id, link_id = item.id, item.resource_link_id
    second = gaps.launch_with(browser)
    endpoint = second["claims"][AGS]
    assert endpoint["lineitem"] == f"{gaps.world.campus}/lti/ags/basics/lineitems/{item_id}"
    assert second["claims"][RESOURCE_LINK]["id"] == link_id
    # The coupled model: the tool posts to `endpoint.lineitem` without naming a line item.
    coupled = browser.post(
        f"{gaps.world.tool}/grade-coupled", json={"launch_id": second["launch_id"]}
    )
    assert coupled.status_code == 200 and coupled.json()["posted"], coupled.text
    with gaps.world.app.app_context():
        scores = db.session.execute(db.select(LtiScore.line_item_id, LtiScore.score_given)).all()
        assert (item_id, 7.0) in scores
        # A second column for the same link: the claim no longer names one.
        db.session.add(
            LtiLineItem(
                tool_id=item.tool_id,
                context_id="basics",
                resource_link_id=link_id,
                label="Second column",
                score_maximum=5,
                resource_id="second",
                tag="other",
            )
        )
        db.session.commit()
    third = gaps.launch_with(browser)
    assert "lineitem" not in third["claims"][AGS]
    assert third["claims"][AGS]["lineitems"] == f"{gaps.world.campus}/lti/ags/basics/lineitems"


def test_lineitem_of_another_tool_is_not_named(gaps: Gaps) -> None:
    first = gaps.launch(LEARNER)
    with gaps.world.app.app_context():
        other = db.session.execute(
            db.select(LtiTool.id).where(LtiTool.slug == "other-tool")
        ).scalar_one()
        db.session.add(
            LtiLineItem(
                tool_id=other,
                context_id="basics",
                resource_link_id=first["claims"][RESOURCE_LINK]["id"],
                label="Not yours",
                score_maximum=10,
            )
        )
        db.session.commit()
    assert "lineitem" not in gaps.launch(LEARNER)["claims"][AGS]


# --- privacy per tool ----------------------------------------------------------------------


def test_privacy_level_decides_name_and_email(gaps: Gaps) -> None:
    """Default (name and e-mail), then anonymous, then name only: one tool, three launches."""
    browser = gaps.world.browser(LEARNER)
    claims = gaps.launch_with(browser)["claims"]
    assert claims["name"] == "Liisa Virtanen"
    assert claims["given_name"] == "Liisa" and claims["family_name"] == "Virtanen"
    assert claims["email"] == LEARNER
    assert claims["sub"].startswith("campus-user-")
    gaps.set_tool("test-tool", privacy="anonymous")
    claims = gaps.launch_with(browser)["claims"]
    assert not {claim for claim in PERSON if claim in claims}
    assert claims["sub"] and claims["https://purl.imsglobal.org/spec/lti/claim/roles"]
    gaps.set_tool("test-tool", privacy="name")
    claims = gaps.launch_with(browser)["claims"]
    assert claims["name"] == "Liisa Virtanen" and claims["family_name"] == "Virtanen"
    assert "email" not in claims


def test_pairwise_sub_differs_per_tool_and_is_stable(gaps: Gaps) -> None:
    gaps.set_tool("test-tool", pairwise_sub=True)
    gaps.set_tool("other-tool", pairwise_sub=True)
    browser = gaps.world.browser(LEARNER)
    first = gaps.launch_with(browser)["claims"]["sub"]
    other = gaps.launch_with(browser, gaps.other_module_id)["claims"]["sub"]
    again = gaps.launch_with(browser)
    assert first == again["claims"]["sub"] and first != other
    # A score the tool sends for its own sub lands on the learner.
    graded = browser.post(
        f"{gaps.world.tool}/grade",
        json={"launch_id": again["launch_id"], "score": 8, "timestamp": now().isoformat()},
    )
    assert graded.status_code == 200, graded.text
    assert not first.startswith("campus-user-") and not other.startswith("campus-user-")
    with gaps.world.app.app_context():
        assert {s.sub for s in db.session.execute(db.select(LtiToolSubject)).scalars()} == {
            first,
            other,
        }
        learner = db.session.execute(db.select(User.id).where(User.email == LEARNER)).scalar_one()
        assert db.session.execute(db.select(LtiScore.user_id)).scalars().all() == [learner]


def test_deep_linking_request_follows_the_privacy_level(gaps: Gaps) -> None:
    gaps.set_tool("test-tool", privacy="name")
    admin = gaps.world.browser("admin@omnia.fi")
    page = admin.get(f"{gaps.world.campus}/lti/modules/{gaps.world.module_id}/launch?deep_link=1")
    _, fields = auto_post_form(page.text)
    claims = jwt.decode(fields["id_token"], options={"verify_signature": False})
    assert claims["name"] == "Admin" and "email" not in claims
    settings = claims["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"]
    assert settings["accept_multiple"] is False  # gap 5: only what is honoured
    assert settings["accept_presentation_document_targets"] == ["window"]
    assert claims[PRESENTATION]["locale"] in ("fi", "sv", "en")


# --- the learner's language and the optional core claims -------------------------------------


def test_launch_carries_locale_tool_platform_and_lis(gaps: Gaps) -> None:
    claims = gaps.launch(LEARNER)["claims"]
    presentation = claims[PRESENTATION]
    assert presentation["locale"] == "sv"  # the learner's own interface language
    assert presentation["document_target"] == "window"
    assert presentation["return_url"].endswith("/paths/basics/tool-quiz")
    platform = claims[TOOL_PLATFORM]
    assert platform["guid"] == gaps.world.campus.removeprefix("http://")
    assert platform["name"] == "Campus" and platform["product_family_code"] == "campus"
    assert platform["version"]
    assert claims[LIS] == {"course_section_sourcedid": "basics"}
    with gaps.world.app.app_context():
        db.session.execute(db.update(User).where(User.email == LEARNER).values(locale="fi"))
        db.session.commit()
    assert gaps.launch(LEARNER)["claims"][PRESENTATION]["locale"] == "fi"


# --- the admin page of a tool ----------------------------------------------------------------


def test_admin_sets_privacy_on_registration_and_on_the_tool_page(app: Flask, make_user) -> None:
    client = admin_client(app, make_user)
    page = client.get("/lti/tools").get_data(as_text=True)
    assert "What the tool learns" in page and "pairwise" in page
    registered = client.post("/lti/tools", data={**TOOL, "privacy": "name", "pairwise_sub": "y"})
    assert registered.status_code == 302
    with app.app_context():
        tool = db.session.execute(db.select(LtiTool)).scalar_one()
        assert (tool.privacy, tool.pairwise_sub) == ("name", True)
        tool_id = tool.id
    edit = client.get(f"/lti/tools/{tool_id}")
    assert edit.status_code == 200
    text = edit.get_data(as_text=True)
    assert '<option selected value="name">' in text and "checked" in text
    saved = client.post(f"/lti/tools/{tool_id}", data={"privacy": "anonymous"})
    assert saved.status_code == 302
    with app.app_context():
        tool = db.session.get(LtiTool, tool_id)
        assert (tool.privacy, tool.pairwise_sub) == ("anonymous", False)
    bad = client.post(f"/lti/tools/{tool_id}", data={"privacy": "everything", "pairwise_sub": "y"})
    assert bad.status_code == 400
    with app.app_context():
        tool = db.session.get(LtiTool, tool_id)
        assert (tool.privacy, tool.pairwise_sub) == ("anonymous", False)
    assert client.get("/lti/tools/999999").status_code == 404
    refused = client.post(
        "/lti/tools", data={**TOOL, "slug": "x", "client_id": "x", "privacy": "?"}
    )
    assert refused.status_code == 400


def test_tool_page_needs_admin(client, auth, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user()
    auth.login()
    assert client.get("/lti/tools/1").status_code == 403
    assert client.post("/lti/tools/1", data={"privacy": "anonymous"}).status_code == 403
