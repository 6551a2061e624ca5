"""LTI Dynamic Registration offered to tools, driven end to end with an independent tool that
registers itself through pylti1p3next's `DynamicRegistration` (tests/lti/test_dynreg_tool.py).

Both apps run as HTTP servers on 127.0.0.1; `requests.Session` is the admin's and the
learner's browser. The refusals of the registration endpoint are in test_dynreg_refusals.py.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask

from campus.auth.models import Organisation
from campus.auth.models import Role
from campus.clock import aware
from campus.clock import utcnow
from campus.extensions import db
from campus.lti.models import LtiStoreEntry
from campus.lti.models import LtiTool
from campus.paths.content import load_tree
from campus.paths.models import Module
from campus.paths.sync import sync_tree
from tests.conftest import BASE_URL
from tests.conftest import PASSWORD
from tests.conftest import TEST_CONTENT
from tests.conftest import now
from tests.lti.support import LiveServer
from tests.lti.support import add_users
from tests.lti.support import auto_post_form
from tests.lti.support import create_campus
from tests.lti.test_admin import admin_client
from tests.lti.test_dynreg_tool import NRPS_SCOPE
from tests.lti.test_dynreg_tool import SCORE_SCOPE
from tests.lti.test_dynreg_tool import create_dynreg_tool_app
from tests.lti.tool_app import make_key

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass
class World:
    campus: str
    tool: str
    app: Flask
    tool_app: Flask
    module_id: int

    def browser(self, email: str) -> requests.Session:
        session = requests.Session()
        token = CSRF.search(session.get(f"{self.campus}/auth/login").text)[1]
        response = session.post(
            f"{self.campus}/auth/login",
            data={"email": email, "password": PASSWORD, "csrf_token": token},
            allow_redirects=False,
        )
        assert response.status_code == 302, response.text[:500]
        return session

    def offer(self, admin: requests.Session, tool_url: str) -> str:
        """The admin offers registration; the address the page opens in the tool."""
        token = CSRF.search(admin.get(f"{self.campus}/lti/tools/offer").text)[1]
        page = admin.post(
            f"{self.campus}/lti/tools/offer", data={"tool_url": tool_url, "csrf_token": token}
        )
        assert page.status_code == 200, page.text[:800]
        assert 'src="/static/js/lti-offer.js' in page.text and "<script>" not in page.text
        assert "<iframe" not in page.text  # http: the CSP would not let it show (frame-src)
        return unescape(re.search(r'href="([^"]+)" target="_blank" rel="opener"', page.text)[1])


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    content = tmp_path / "content"
    shutil.copytree(TEST_CONTENT, content)
    module_dir = content / "paths/basics/tool-quiz"
    module_dir.mkdir()
    # The module names the short name the campus will make from the tool's client_name.
    (module_dir / "module.toml").write_text(
        'version = 1\nkind = "lti"\ntitle = { fi = "Työkalu", en = "Tool quiz" }\n'
        'tool = "dyn-quiz"\npass_mark = 60\n'
    )
    (module_dir / "module.fi.md").write_text("Tee tehtävä työkalussa.")
    (module_dir / "module.en.md").write_text("Do the task in the tool.")
    manifest = content / "paths/basics/path.toml"
    manifest.write_text(
        manifest.read_text().replace('"extra-reading"]', '"extra-reading", "tool-quiz"]')
    )
    campus_server, tool_server = LiveServer(), LiveServer()
    campus = create_campus(tmp_path, content, campus_server.base)
    campus_server.start(campus)
    tool_app = create_dynreg_tool_app(tool_server.base, *make_key())
    tool_server.start(tool_app)
    with campus.app_context():
        db.create_all()
        sync_tree(load_tree(content), now())
        org = Organisation(slug="omnia", name="Omnia")
        add_users(org, {"learner@omnia.fi": set(), "admin@omnia.fi": {Role.ADMIN}})
        db.session.commit()
        module_id = db.session.execute(
            db.select(Module.id).where(Module.slug == "tool-quiz")
        ).scalar_one()
    try:
        yield World(campus_server.base, tool_server.base, campus, tool_app, module_id)
    finally:
        campus_server.stop()
        tool_server.stop()


def test_a_tool_registers_itself_and_launches_with_its_registered_keys(world: World) -> None:
    admin = world.browser("admin@omnia.fi")
    url = world.offer(admin, f"{world.tool}/register")
    parameters = parse_qs(urlsplit(url).query)
    assert url.startswith(f"{world.tool}/register?")
    config_url = f"{world.campus}/lti/.well-known/openid-configuration"
    assert parameters["openid_configuration"] == [config_url]
    token = parameters["registration_token"][0]
    with world.app.app_context():
        keys = list(db.session.execute(db.select(LtiStoreEntry.key)).scalars())
        assert len(keys) == 1 and keys[0].startswith("dynreg:") and token not in keys[0]

    # The admin's browser opens the tool's page; the tool registers (server to server).
    done = admin.get(url)
    assert done.status_code == 200, done.text[:800]
    assert "org.imsglobal.lti.close" in done.text
    [registration] = world.tool_app.registrations
    with world.app.app_context():
        tool = db.session.execute(db.select(LtiTool)).scalar_one()
        assert (tool.slug, tool.name) == ("dyn-quiz", "Dyn Quiz")
        assert registration["client_id"] == tool.client_id and len(tool.client_id) >= 20
        assert registration["deployment_id"] == tool.deployment_id and tool.deployment_id
        assert tool.oidc_login_url == f"{world.tool}/login"
        assert tool.launch_url == f"{world.tool}/launch"
        assert tool.deep_link_url == f"{world.tool}/deep-link"
        assert tool.jwks_url == f"{world.tool}/jwks" and tool.jwks is None
        assert tool.privacy == "name"  # claims: iss, sub, name
        assert db.session.execute(db.select(LtiStoreEntry)).first() is None  # token consumed
    answer = registration["answer"]
    assert answer["scope"].split() == [SCORE_SCOPE, NRPS_SCOPE]  # the unknown one not granted
    assert answer[TOOL_CONFIGURATION]["deployment_id"] == registration["deployment_id"]
    assert answer["logo_uri"] == f"{world.tool}/logo.png"
    assert registration["issuer"] == world.campus

    # The registered tool appears for the admin, with the IDs the campus made.
    listing = admin.get(f"{world.campus}/lti/tools").text
    assert registration["client_id"] in listing and registration["deployment_id"] in listing

    # The same offer again: the token was used, the tool's library reports the refusal.
    assert admin.get(url).status_code == 502
    with world.app.app_context():
        assert db.session.execute(db.select(db.func.count()).select_from(LtiTool)).scalar() == 1

    # A learner opens the module bound to the tool: the tool accepts the launch with the keys
    # it registered, and reads the members with a token for its registered client ID.
    learner = world.browser("learner@omnia.fi")
    page = learner.get(f"{world.campus}/lti/modules/{world.module_id}/launch")
    assert page.status_code == 200 and "id_token" in page.text, page.text[:800]
    action, fields = auto_post_form(page.text)
    launched = learner.post(action, data=fields)
    assert launched.status_code == 200, launched.text
    data = launched.json()
    assert data["accepted"] is True and data["deployment_id"] == registration["deployment_id"]
    assert data["name"] == "Learner" and data["email"] is None  # privacy "name"
    members = learner.post(f"{world.tool}/members", json={"launch_id": data["launch_id"]})
    assert members.status_code == 200, members.text
    assert [m.get("name") for m in members.json()["members"]] == ["Learner"]


def test_a_forged_token_registers_nothing(world: World) -> None:
    config_url = f"{world.campus}/lti/.well-known/openid-configuration"
    response = requests.get(
        f"{world.tool}/register",
        params={"openid_configuration": config_url, "registration_token": "forged"},
    )
    assert response.status_code == 502
    with world.app.app_context():
        assert db.session.execute(db.select(LtiTool)).first() is None


# --- the admin's pages and the published configuration (test client) ---------------------------


def test_offer_page_needs_an_admin(app: Flask, client, auth, make_user) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/lti/tools/offer").status_code == 302  # to the login page
    make_user()
    auth.login()
    assert client.get("/lti/tools/offer").status_code == 403
    assert (
        client.post("/lti/tools/offer", data={"tool_url": "https://t.example/r"}).status_code == 403
    )
    with app.app_context():
        assert db.session.execute(db.select(LtiStoreEntry)).first() is None


@pytest.mark.parametrize(
    "tool_url", ["", "ftp://tool.example/r", "javascript:alert(1)", "https://a@tool.example/r"]
)
def test_an_unusable_registration_url_is_refused(app: Flask, make_user, tool_url: str) -> None:  # type: ignore[no-untyped-def]
    client = admin_client(app, make_user)
    response = client.post("/lti/tools/offer", data={"tool_url": tool_url})
    assert response.status_code == 400 and "Check the registration URL." in response.text
    with app.app_context():
        assert db.session.execute(db.select(LtiStoreEntry)).first() is None


def test_an_https_tool_is_also_shown_in_a_frame(app: Flask, make_user) -> None:  # type: ignore[no-untyped-def]
    client = admin_client(app, make_user)
    page = client.get("/lti/tools/offer").get_data(as_text=True)
    assert f"{BASE_URL}/lti/.well-known/openid-configuration" in page
    response = client.post(
        "/lti/tools/offer", data={"tool_url": "https://Tool.example:443/reg?lang=fi"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "<iframe" in page and 'title="' in page
    assert 'data-tool-origin="https://tool.example"' in page
    url = unescape(re.search(r'<iframe[^>]*src="([^"]+)"', page)[1])
    query = parse_qs(urlsplit(url).query)
    assert query["lang"] == ["fi"] and len(query["registration_token"][0]) >= 40
    assert query["openid_configuration"] == [f"{BASE_URL}/lti/.well-known/openid-configuration"]
    assert response.headers["Cache-Control"] == "no-store"  # the page holds the token
    with app.app_context():
        entry = db.session.execute(db.select(LtiStoreEntry)).scalar_one()
        left = aware(entry.expires_at) - utcnow()
        assert timedelta(minutes=59) < left <= timedelta(hours=1)
        assert entry.value["tool_url"] == "https://Tool.example:443/reg?lang=fi"


def test_openid_configuration(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/lti/.well-known/openid-configuration")
    assert response.status_code == 200 and response.mimetype == "application/json"
    config = response.get_json()
    assert config["issuer"] == BASE_URL
    assert config["authorization_endpoint"] == f"{BASE_URL}/lti/authorize"
    assert config["token_endpoint"] == f"{BASE_URL}/lti/token"
    assert config["jwks_uri"] == f"{BASE_URL}/lti/jwks"
    assert config["registration_endpoint"] == f"{BASE_URL}/lti/register"
    assert "openid" in config["scopes_supported"] and NRPS_SCOPE in config["scopes_supported"]
    assert SCORE_SCOPE in config["scopes_supported"]
    assert config["response_types_supported"] == ["id_token"]
    assert config["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert config["id_token_signing_alg_values_supported"] == ["RS256"]
    assert {"sub", "name", "email"} <= set(config["claims_supported"])
    platform = config["https://purl.imsglobal.org/spec/lti-platform-configuration"]
    assert platform["product_family_code"] == "campus" and platform["version"]
    assert [m["type"] for m in platform["messages_supported"]] == [
        "LtiResourceLinkRequest",
        "LtiDeepLinkingRequest",
    ]
