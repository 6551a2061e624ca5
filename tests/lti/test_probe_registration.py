"""Probes of the new registration, framing and platform-storage code, as an attacker and as a
careless admin would use it. Each defect found is a test asserting the right behaviour (it fails
until the product is fixed); the probes that held stay as regression tests.

Defects (failing until fixed):
- lone UTF-16 surrogates in a registration: 500, and the tool is stored anyway;
- a NUL in client_name is stored (PostgreSQL cannot store it: a 500 there);
- control characters in registered URLs are stored; a newline breaks every launch (500);
- a backslash in a host passes the domain check (browsers read it as the end of the host);
- a registration token registers a tool on any host, not the one the offer was made for;
- a pasted registration URL keeps its own openid_configuration and registration_token first;
- /lti/tool/deep-link with a launch id naming another pylti1p3 value (a nonce): 500;
- /lti/tool/launch/confirm with a non-ASCII state: 500, and the token is not spent;
- a storage target with a trailing newline is taken as a frame name.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from datetime import timedelta
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from campus import create_app
from campus.auth.models import Organisation
from campus.auth.models import Role
from campus.clock import utcnow
from campus.extensions import db
from campus.lti.models import LtiPlatform
from campus.lti.models import LtiStoreEntry
from campus.lti.models import LtiTool
from campus.lti.platform.cli import tools_cli
from campus.lti.tool import registration as tool_registration
from campus.lti.tool import storage as platform_storage
from campus.lti.tool.cli import platforms_cli
from campus.paths.content import load_tree
from campus.paths.models import Module
from campus.paths.sync import sync_tree
from tests.conftest import BASE_URL
from tests.conftest import FAST_HASH
from tests.conftest import PASSWORD
from tests.conftest import TEST_BADGES
from tests.conftest import TEST_CONTENT
from tests.conftest import now
from tests.lti.test_admin import TOOL
from tests.lti.test_admin import admin_client
from tests.lti.test_dynreg_refusals import CONFIG
from tests.lti.test_dynreg_refusals import document
from tests.lti.test_dynreg_refusals import new_token
from tests.lti.test_dynreg_refusals import post
from tests.lti.test_dynreg_refusals import tools
from tests.lti.test_framing import ancestors

DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"


@pytest.fixture
def quiet(app: Flask) -> Flask:
    """The app answering an unexpected error with its 500 page (as in production), so that a
    probe sees the status instead of the exception."""
    app.config["RENDER_500_IN_TESTS"] = True
    return app


def store_rows(app: Flask, prefix: str) -> int:
    with app.app_context():
        return db.session.execute(
            db.select(db.func.count())
            .select_from(LtiStoreEntry)
            .where(LtiStoreEntry.key.startswith(prefix))
        ).scalar()


def assert_refused_and_nothing_stored(app: Flask, response: Any) -> None:
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert response.get_json()["error"] == "invalid_client_metadata"
    assert tools(app) == 0


def raw(body: dict[str, Any], marker: str, replacement: str) -> bytes:
    """`body` as JSON text with `marker` (a JSON string's content) replaced verbatim: for
    escapes that json.dumps would never write, such as a lone surrogate."""
    text = json.dumps(body)
    assert marker in text
    return text.replace(marker, replacement).encode()


# --- platform side: POST /lti/register -------------------------------------------------------


LONE_SURROGATES = {
    # (marker placed by the document, the escape that replaces it)
    "client_name": ({"client_name": "SURROGATE"}, "SURROGATE", "Quiz \\ud800"),
    "redirect_uri": (
        {"redirect_uris": ["https://tool.example/SURROGATE"]},
        "SURROGATE",
        "\\udc00",
    ),
    "description": ({"tool__description": "SURROGATE"}, "SURROGATE", "\\udc00"),
    "message label": (
        {"tool__messages": [{"type": "LtiDeepLinkingRequest", "label": "SURROGATE"}]},
        "SURROGATE",
        "\\ud83d",
    ),
}


@pytest.mark.parametrize("case", LONE_SURROGATES.values(), ids=LONE_SURROGATES.keys())
def test_defect_lone_surrogates_in_a_registration_are_refused_and_nothing_stored(
    quiet: Flask, client: FlaskClient, case: tuple[dict[str, Any], str, str]
) -> None:
    """JSON allows "\\ud800" (a lone surrogate); Python decodes it to a str that cannot be
    encoded as UTF-8. Today: a 500, after the commit for URLs and descriptions (the tool is
    stored, the token spent, and the tool never learns its client_id)."""
    changes, marker, escape = case
    token = new_token(quiet)
    body = raw(document(**changes), marker, escape)
    response = post(client, token, body, content_type="application/json")
    assert_refused_and_nothing_stored(quiet, response)
    assert post(client, token, document()).status_code == 200  # the token was not spent


@pytest.mark.parametrize("key", ["client_name", "client_name#fi"])
def test_defect_a_nul_in_the_client_name_is_refused(
    app: Flask, client: FlaskClient, key: str
) -> None:
    """Every other text of the registration refuses NUL (payload.text, _url); the name is
    stored as sent, which PostgreSQL refuses with a 500."""
    changes: dict[str, Any] = {key: "Qu\x00iz"}
    if key != "client_name":
        changes["client_name"] = None
    response = post(client, new_token(app), document(**changes))
    assert_refused_and_nothing_stored(app, response)


CONTROL_CHARACTERS = {
    "newline in login": {"initiate_login_uri": "https://tool.example/lo\ngin"},
    "CR LF in launch": {"tool__target_link_uri": "https://tool.example/launch\r\nX-A: b"},
    "tab in host": {"jwks_uri": "https://keys\t.tool.example/jwks"},
    "newline in redirect": {"redirect_uris": ["https://tool.example/launch\n"]},
}


@pytest.mark.parametrize("changes", CONTROL_CHARACTERS.values(), ids=CONTROL_CHARACTERS.keys())
def test_defect_control_characters_in_registered_urls_are_refused(
    app: Flask, client: FlaskClient, changes: dict[str, Any]
) -> None:
    """urlsplit drops tabs and newlines before parsing, so `_url` checks one address and stores
    another; a stored newline makes every launch of the tool a 500 (see the admin test below)."""
    response = post(client, new_token(app), document(**changes))
    assert_refused_and_nothing_stored(app, response)


BACKSLASH_HOSTS = {
    "redirect": {"redirect_uris": ["https://evil.test\\.tool.example/launch"]},
    "login": {"initiate_login_uri": "https://evil.test\\.tool.example/login"},
    "target": {"tool__target_link_uri": "https://evil.test\\.tool.example/launch"},
}


@pytest.mark.parametrize("changes", BACKSLASH_HOSTS.values(), ids=BACKSLASH_HOSTS.keys())
def test_defect_a_backslash_cannot_smuggle_another_host_past_the_domain_check(
    app: Flask, client: FlaskClient, changes: dict[str, Any]
) -> None:
    """Python reads the host of https://evil.test\\.tool.example/ as "evil.test\\.tool.example"
    (a subdomain of tool.example); a browser reads "evil.test" (WHATWG: a backslash ends the
    host), so the id_token form would post to evil.test."""
    response = post(client, new_token(app), document(**changes))
    assert_refused_and_nothing_stored(app, response)


def test_defect_the_registration_is_bound_to_the_host_the_offer_was_made_for(
    app: Flask, client: FlaskClient
) -> None:
    """The offer stores the tool's URL (tool.example) but the registration never reads it:
    whoever holds the token (it travels in a URL: logs, Referer) registers any host."""
    token = new_token(app)  # offered to https://tool.example/register
    elsewhere = document(
        initiate_login_uri="https://evil.test/login",
        redirect_uris=["https://evil.test/launch"],
        jwks_uri="https://evil.test/jwks",
        tool__domain="evil.test",
        tool__target_link_uri="https://evil.test/launch",
    )
    response = post(client, token, elsewhere)
    assert_refused_and_nothing_stored(app, response)
    assert "tool.example" in response.get_json()["error_description"]
    assert post(client, token, document()).status_code == 200  # the offered tool still can


def test_defect_an_offer_keeps_no_configuration_or_token_from_the_pasted_url(
    app: Flask, make_user: Callable[..., int]
) -> None:
    """A careless admin pastes a registration URL that already names an openid_configuration
    and a registration_token (from a phishing mail, or another LMS). Ours are appended after
    them, and tools read the first value: the tool registers with the other platform."""
    admin = admin_client(app, make_user)
    pasted = (
        "https://tool.example/register?lang=en"
        "&openid_configuration=https://evil.test/openid&registration_token=theirs"
    )
    page = admin.post("/lti/tools/offer", data={"tool_url": pasted})
    if page.status_code == 400:  # refusing such a URL is right too
        assert store_rows(app, "dynreg:") == 0
        return
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    link = unescape(re.search(r'href="([^"]+)" target="_blank" rel="opener"', html)[1])
    query = parse_qs(urlsplit(link).query)
    assert query["openid_configuration"] == [f"{BASE_URL}/lti/.well-known/openid-configuration"]
    assert len(query["registration_token"]) == 1 and query["registration_token"] != ["theirs"]
    assert query["lang"] == ["en"]  # the tool's own parameters stay


# --- platform side: what held ----------------------------------------------------------------


ODD_TYPES = {
    "domain a number": {"tool__domain": 5},
    "domain a list": {"tool__domain": ["tool.example"]},
    "nested redirect list": {"redirect_uris": [["https://tool.example/launch"]]},
    "redirect null item": {"redirect_uris": [None]},
    "21 redirects": {"redirect_uris": [f"https://tool.example/{i}" for i in range(21)]},
    "label a number": {"tool__messages": [{"type": "LtiDeepLinkingRequest", "label": 5}]},
    "message type a number": {"tool__messages": [{"type": 5}]},
    "messages an object": {"tool__messages": {"type": "LtiDeepLinkingRequest"}},
    "secondary domains text": {"tool__secondary_domains": "tool.example"},
    "tool configuration a list": {CONFIG: [{"domain": "tool.example"}]},
    "grant types null": {"grant_types": None},
    "port out of range": {"initiate_login_uri": "https://tool.example:99999/login"},
    "NUL in jwks": {"jwks_uri": "https://tool.example/jwks\x00"},
    "NUL in description": {"tool__description": "a\x00b"},
    "NUL in label": {"tool__messages": [{"type": "LtiDeepLinkingRequest", "label": "a\x00"}]},
    "description too long": {"tool__description": "x" * 2001},
    "icon a number": {"tool__messages": [{"type": "LtiDeepLinkingRequest", "icon_uri": 7}]},
    "target false": {
        "tool__messages": [{"type": "LtiDeepLinkingRequest", "target_link_uri": False}]
    },
    "scope a number": {"scope": 7},
    "application type an object": {"application_type": {"web": True}},
}


@pytest.mark.parametrize("changes", ODD_TYPES.values(), ids=ODD_TYPES.keys())
def test_held_odd_json_types_are_refused_with_400_and_nothing_stored(
    quiet: Flask, client: FlaskClient, changes: dict[str, Any]
) -> None:
    token = new_token(quiet)
    assert_refused_and_nothing_stored(quiet, post(client, token, document(**changes)))
    assert post(client, token, document()).status_code == 200


@pytest.mark.parametrize(
    "body",
    [b"1" * 5000, b'{"a": ' + b"1" * 5000 + b"}", b"[" * 30000 + b"]" * 30000, b"\xff\xfe{}"],
    ids=["huge integer", "huge integer member", "deep nesting", "not utf-8"],
)
def test_held_pathological_json_is_a_400(quiet: Flask, client: FlaskClient, body: bytes) -> None:
    response = post(client, new_token(quiet), body, content_type="application/json")
    assert_refused_and_nothing_stored(quiet, response)


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer   ",
        "Bearer a b",
        "Bearer é",
        "Token {t}",
        "{t}",
        "Bearer {t}x",
        "Bearer x{t}",
    ],
)
def test_held_odd_authorization_headers_are_401_and_leave_the_token_usable(
    quiet: Flask, client: FlaskClient, header: str
) -> None:
    token = new_token(quiet)
    response = client.post(
        "/lti/register", json=document(), headers={"Authorization": header.format(t=token)}
    )
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_token"
    assert tools(quiet) == 0
    lower = client.post(
        "/lti/register", json=document(), headers={"Authorization": f"bearer  {token} "}
    )
    assert lower.status_code == 200  # the scheme is case-insensitive, spaces are trimmed


def test_held_a_registration_never_overwrites_an_existing_tool(
    app: Flask, make_user: Callable[..., int]
) -> None:
    admin = admin_client(app, make_user)
    assert (
        admin.post("/lti/tools", data={**TOOL, "slug": "quiz", "name": "Quiz"}).status_code == 302
    )
    client = app.test_client()
    answer = post(client, new_token(app), document(client_name="  Quiz  "))
    assert answer.status_code == 200
    with app.app_context():
        old, new = db.session.execute(db.select(LtiTool).order_by(LtiTool.id)).scalars().all()
        assert (old.slug, old.client_id, old.oidc_login_url) == (
            "quiz",
            TOOL["client_id"],
            TOOL["oidc_login_url"],
        )
        assert new.slug == "quiz-2" and new.client_id not in (old.client_id, TOOL["client_id"])
        assert answer.get_json()["client_id"] == new.client_id


def test_held_two_registrations_racing_with_one_token_register_one_tool(tmp_path: Path) -> None:
    """Two tools (or one tool retrying) POST with the same token at the same moment."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "race",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'race.sqlite'}",
            "PASSWORD_HASH_METHOD": FAST_HASH,
            "CONTENT_DIR": str(TEST_CONTENT),
            "BADGES_DIR": str(TEST_BADGES),
            "UPLOAD_DIR": str(tmp_path / "uploads"),
            "KEYS_DIR": str(tmp_path / "keys"),
            "BASE_URL": BASE_URL,
            "RENDER_500_IN_TESTS": True,
        }
    )
    with app.app_context():
        db.create_all()
    for round_ in range(3):
        token = new_token(app)
        barrier = threading.Barrier(2)
        statuses: list[int] = []

        def register(
            name: str, token: str = token, barrier: Any = barrier, statuses: Any = statuses
        ) -> None:
            client = app.test_client()
            barrier.wait()
            statuses.append(post(client, token, document(client_name=name)).status_code)

        threads = [threading.Thread(target=register, args=(f"T{round_}{n}",)) for n in "ab"]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(statuses) == [200, 401], statuses
        assert tools(app) == round_ + 1


def test_held_non_admins_reach_no_registration_or_platform_page(
    app: Flask, make_user: Callable[..., int], make_org: Callable[..., int]
) -> None:
    org = make_org("School")
    with app.app_context():
        platform = LtiPlatform(
            name="LMS",
            issuer="https://lms.example",
            client_id="c",
            auth_login_url="https://lms.example/auth",
            auth_token_url="https://lms.example/token",
            jwks_url="https://lms.example/jwks",
            deployment_ids=["1"],
            organisation_id=org,
        )
        db.session.add(platform)
        db.session.commit()
        platform_id = platform.id
    make_user("teacher@campus.fi", {Role.ORG_ADMIN, Role.TUTOR_TEACHER}, organisation_id=org)
    anonymous = app.test_client()
    teacher = app.test_client()
    teacher.post("/auth/login", data={"email": "teacher@campus.fi", "password": PASSWORD})
    requests_ = [
        ("GET", "/lti/tools/offer", {}),
        ("POST", "/lti/tools/offer", {"tool_url": "https://tool.example/register"}),
        ("GET", "/lti/tool/platforms", {}),
        ("POST", "/lti/tool/platforms", {"name": "X", "issuer": "https://x.example"}),
        ("POST", f"/lti/tool/platforms/{platform_id}/toggle", {}),
        ("POST", "/lti/tool/platforms/999999/toggle", {}),  # 403 before 404: no id oracle
        ("GET", "/lti/tool/register?openid_configuration=https://lms.example/c", {}),
        ("POST", "/lti/tool/register", {"openid_configuration": "https://lms.example/c"}),
    ]
    for method, url, data in requests_:
        assert teacher.open(url, method=method, data=data).status_code == 403, url
        assert anonymous.open(url, method=method, data=data).status_code == 302, url
    assert store_rows(app, "dynreg:") == 0
    with app.app_context():
        assert db.session.get(LtiPlatform, platform_id).is_enabled is True
        assert db.session.execute(db.select(db.func.count(LtiPlatform.id))).scalar() == 1


def test_held_openid_configuration_is_public_and_names_the_register_endpoint(
    client: FlaskClient,
) -> None:
    document_ = client.get("/lti/.well-known/openid-configuration").get_json()
    assert document_["registration_endpoint"] == f"{BASE_URL}/lti/register"
    assert document_["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]


# --- platform side: an admin's pasted URL with a newline breaks every launch ------------------


@pytest.fixture
def lti_module(app: Flask, runner_dir: Path) -> int:
    """A module of the test content that launches the tool with the short name quiz-tool."""
    module_dir = runner_dir / "paths/basics/tool-quiz"
    module_dir.mkdir()
    (module_dir / "module.toml").write_text(
        'version = 1\nkind = "lti"\ntitle = { fi = "Työkalu", en = "Tool quiz" }\n'
        'tool = "quiz-tool"\npass_mark = 60\n'
    )
    (module_dir / "module.fi.md").write_text("Tee tehtävä.")
    (module_dir / "module.en.md").write_text("Do the task.")
    manifest = runner_dir / "paths/basics/path.toml"
    manifest.write_text(
        manifest.read_text().replace('"extra-reading"]', '"extra-reading", "tool-quiz"]')
    )
    with app.app_context():
        sync_tree(load_tree(runner_dir), now())
        db.session.commit()
        return db.session.execute(
            db.select(Module.id).where(Module.slug == "tool-quiz")
        ).scalar_one()


def test_defect_a_pasted_trailing_newline_never_breaks_the_tools_launches(
    quiet: Flask, make_user: Callable[..., int], lti_module: int
) -> None:
    """Copying a URL from a mail or a PDF often brings a newline; the admin form (wtforms' URL
    validator: `$` matches before a final newline) stores it, and each launch of the tool then
    redirects to it: Werkzeug refuses the Location header, every learner gets a 500."""
    admin = admin_client(quiet, make_user)
    answer = admin.post(
        "/lti/tools", data={**TOOL, "oidc_login_url": TOOL["oidc_login_url"] + "\n"}
    )
    if answer.status_code == 400:  # refused with the form: right too
        assert tools(quiet) == 0
        return
    assert answer.status_code == 302
    launch = admin.get(f"/lti/modules/{lti_module}/launch")
    assert launch.status_code == 302, launch.status_code
    assert launch.headers["Location"].startswith(TOOL["oidc_login_url"] + "?")


def test_defect_the_cli_refuses_a_url_with_a_newline(app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        tools_cli,
        [
            "add",
            "--name",
            "Quiz tool",
            "--slug",
            "quiz-tool",
            "--login-url",
            "https://tool.example/lo\ngin",
            "--launch-url",
            "https://tool.example/launch",
            "--jwks-url",
            "https://tool.example/jwks",
        ],
    )
    assert result.exit_code == 1, result.output
    assert tools(app) == 0


# --- tool side: framing ----------------------------------------------------------------------


def test_held_an_issuer_path_with_spaces_and_semicolons_adds_only_its_origin(
    app: Flask, make_org: Callable[..., int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issuers stored by the CLI and by tool-side Dynamic Registration (any text after the
    host) never reach the header: only the checked origin does."""
    make_org("Omnia", "omnia")
    result = app.test_cli_runner().invoke(
        platforms_cli,
        [
            "add",
            "--name",
            "LMS",
            "--issuer",
            "https://lms.example/a b; script-src *",
            "--client-id",
            "c",
            "--login-url",
            "https://lms.example/auth",
            "--token-url",
            "https://lms.example/token",
            "--jwks-url",
            "https://lms.example/jwks",
            "--deployment-id",
            "1",
            "--organisation",
            "omnia",
        ],
    )
    assert result.exit_code == 0, result.output
    issuer = "https://moodle.example/x y;frame-ancestors *"
    config_url = "https://moodle.example/openid"

    def fake_fetch(method: str, url: str, policy: Any, **kwargs: Any) -> Any:
        if method == "GET":
            return {
                "issuer": issuer,
                "authorization_endpoint": "https://moodle.example/auth",
                "token_endpoint": "https://moodle.example/token",
                "jwks_uri": "https://moodle.example/jwks",
                "registration_endpoint": "https://moodle.example/register",
            }
        return {"client_id": "dyn", CONFIG: {"deployment_id": "2"}}

    monkeypatch.setattr(tool_registration.outbound, "fetch_json", fake_fetch)
    with app.test_request_context():
        tool_registration.dynamic_registration(
            config_url,
            None,
            tool_registration.ToolEndpoints.current(),
            1,
            "Moodle",
            tool_registration.outbound.OutboundPolicy.from_config(app.config),
        )
        db.session.commit()
    assert ancestors(app.test_client().get("/")) == [
        "'self'",
        "https://lms.example",
        "https://moodle.example",
    ]


def test_held_registering_a_disabled_platform_again_does_not_let_it_frame(
    app: Flask, make_user: Callable[..., int], monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = admin_client(app, make_user)
    issuer = "https://moodle.school.fi"

    def fake_fetch(method: str, url: str, policy: Any, **kwargs: Any) -> Any:
        if method == "GET":
            return {
                "issuer": issuer,
                "authorization_endpoint": f"{issuer}/auth",
                "token_endpoint": f"{issuer}/token",
                "jwks_uri": f"{issuer}/jwks",
                "registration_endpoint": f"{issuer}/register",
            }
        return {"client_id": "dyn-1", CONFIG: {"deployment_id": "3"}}

    monkeypatch.setattr(tool_registration.outbound, "fetch_json", fake_fetch)
    with app.app_context():
        org_id = db.session.execute(db.select(Organisation.id)).scalars().first()
    form = {"openid_configuration": f"{issuer}/openid", "name": "Moodle", "organisation_id": org_id}
    assert admin.post("/lti/tool/register", data=form).status_code == 200
    with app.app_context():
        platform_id = db.session.execute(db.select(LtiPlatform.id)).scalar_one()
    assert admin.post(f"/lti/tool/platforms/{platform_id}/toggle").status_code == 302
    assert ancestors(admin.get("/")) == ["'self'"]
    assert admin.post("/lti/tool/register", data=form).status_code == 200
    with app.app_context():
        assert db.session.get(LtiPlatform, platform_id).is_enabled is False
    assert ancestors(admin.get("/")) == ["'self'"]


# --- tool side: platform storage and the cookieless deep-link path ---------------------------


def _store(app: Flask, key: str, value: Any) -> None:
    with app.app_context():
        db.session.add(
            LtiStoreEntry(key=key, value=value, expires_at=utcnow() + timedelta(hours=1))
        )
        db.session.commit()


@pytest.mark.parametrize(
    ("key", "launch_id"),
    [
        ("lti1p3-nonce-n0nce", "nonce-n0nce"),  # what pylti1p3 keeps for a login's nonce
        ("lti1p3-state-s-id-token-hash", "state-s-id-token-hash"),
    ],
)
@pytest.mark.parametrize("cookieless", ["1", "0"])
def test_defect_deep_link_refuses_a_launch_id_that_names_another_stored_value(
    quiet: Flask, client: FlaskClient, key: str, launch_id: str, cookieless: str
) -> None:
    """The launch id is looked up in the same store as pylti1p3's nonces and state hashes; a
    login's nonce is in the address the campus redirects to, so anyone who starts a login can
    name it. Its value (True, a string) is not a launch: today an AttributeError, a 500."""
    _store(quiet, key, True if "nonce" in key else "hash")
    response = client.post(
        "/lti/tool/deep-link",
        data={"launch_id": launch_id, "target": "module:basics/welcome", "cookieless": cookieless},
    )
    assert response.status_code == 400, response.status_code


def _pending(app: Flask) -> str:
    with app.app_context():
        stored = platform_storage.StoredState("state-1", "_parent", "https://lms.example", "n")
        token = platform_storage.open_pending("launch-1", stored, utcnow())
        db.session.commit()
        return token


@pytest.mark.parametrize("state", ["ä", "state-1é", "😀"])
def test_defect_confirm_with_a_non_ascii_state_is_refused_and_spends_the_token(
    quiet: Flask, client: FlaskClient, state: str
) -> None:
    """hmac.compare_digest raises TypeError for str with non-ASCII characters: a 500, rolled
    back, so the token can be tried again ("a token is never tried twice" does not hold)."""
    token = _pending(quiet)
    response = client.post("/lti/tool/launch/confirm", data={"token": token, "state": state})
    assert response.status_code == 400, response.status_code
    assert "could not confirm" in response.get_data(as_text=True)
    assert store_rows(quiet, "tool-storage-pending:") == 0


def test_held_confirm_cannot_be_replayed(quiet: Flask, client: FlaskClient) -> None:
    token = _pending(quiet)
    first = client.post("/lti/tool/launch/confirm", data={"token": token, "state": "state-1"})
    assert first.status_code == 400  # the launch data is gone (none was stored here)
    again = client.post("/lti/tool/launch/confirm", data={"token": token, "state": "state-1"})
    assert again.status_code == 400 and "expired" in again.get_data(as_text=True)
    assert store_rows(quiet, "tool-storage-pending:") == 0


@pytest.mark.parametrize("target", ["_parent\n", "post_message_forwarding\n"])
def test_defect_a_storage_target_with_a_trailing_newline_is_no_frame_name(target: str) -> None:
    """TARGET_PATTERN ends with `$`, which also matches before a final newline: the value is
    taken (and stored, and put in the page) though it names no frame; the login then fails in
    the page's script instead of falling back to the ordinary cookie login."""
    assert platform_storage.storage_target(target) is None


@pytest.mark.parametrize("target", ["", "<b>", "a b", "x" * 65, "_parent\x00", "ä"])
def test_held_storage_targets_that_are_no_frame_names_are_ignored(target: str) -> None:
    assert platform_storage.storage_target(target) is None
    assert platform_storage.storage_target("post_message_forwarding") == "post_message_forwarding"


def test_held_a_cookie_bound_launch_id_is_not_found_with_cookieless(
    app: Flask, make_org: Callable[..., int]
) -> None:
    """On HTTPS pylti1p3 keeps a cookie-bound launch under the browser's session id; the
    cookieless deep-link path (no CSRF token) looks it up without one and finds nothing, while
    the browser with the cookie gets its answer."""
    org = make_org("School")
    with app.app_context():
        db.session.add(
            LtiPlatform(
                name="LMS",
                issuer="https://lms.example",
                client_id="c",
                auth_login_url="https://lms.example/auth",
                auth_token_url="https://lms.example/token",
                jwks_url="https://lms.example/jwks",
                deployment_ids=["d"],
                organisation_id=org,
            )
        )
        db.session.commit()
    body = {
        "iss": "https://lms.example",
        "aud": "c",
        "sub": "teacher",
        "nonce": "n",
        "https://purl.imsglobal.org/spec/lti/claim/message_type": "LtiDeepLinkingRequest",
        "https://purl.imsglobal.org/spec/lti/claim/version": "1.3.0",
        "https://purl.imsglobal.org/spec/lti/claim/deployment_id": "d",
        DL_SETTINGS: {
            "deep_link_return_url": "https://lms.example/return",
            "accept_types": ["ltiResourceLink"],
            "accept_presentation_document_targets": ["iframe"],
        },
    }
    launch_uuid = (
        "0b6e3c1a-9f7d-4c2e-8a51-3d2f6b7c8e90"  # pylti1p3 names launches lti1p3-launch-<uuid>
    )
    _store(app, f"lti1p3-sid-1-launch-{launch_uuid}", body)
    browser = app.test_client()
    form = {"launch_id": f"lti1p3-launch-{launch_uuid}", "target": "module:basics/welcome"}
    https = {"base_url": "https://campus.test"}
    refused = browser.post("/lti/tool/deep-link", data={**form, "cookieless": "1"}, **https)
    assert refused.status_code == 400
    assert browser.post("/lti/tool/deep-link", data=form, **https).status_code == 400  # no cookie
    browser.set_cookie("lti1p3-session-id", "sid-1", domain="campus.test")
    answer = browser.post("/lti/tool/deep-link", data=form, **https)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    assert 'action="https://lms.example/return"' in answer.get_data(as_text=True)
