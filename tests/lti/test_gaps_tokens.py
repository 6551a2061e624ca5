"""Issue 15, gaps 7 and 9: the token endpoint's RFC 6749 §5.2 error codes, and a JWKS that is
never empty (`flask lti keys ensure` at set-up; otherwise a key is made on the first request).

In-process: the tool's key set is registered inline, so nothing is fetched."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl
from urllib.parse import urlsplit

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient
from jwcrypto.jwk import JWK

from campus.extensions import db
from campus.lti.constants import SUPPORTED_SCOPES
from campus.lti.models import LtiKey
from campus.lti.models import LtiReplay
from campus.lti.models import LtiTool
from campus.paths.models import LearningPath
from campus.paths.models import ModuleKind
from tests.conftest import BASE_URL
from tests.lti.support import auto_post_form
from tests.lti.tool_app import make_key

CLIENT_ID = "gap-tool"
TOKEN_URL = f"{BASE_URL}/lti/token"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
PRIVATE_PARTS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}
TOOL_PEM, _TOOL_PUBLIC = make_key()
TOOL_KID = JWK.from_pem(TOOL_PEM.encode()).thumbprint()
OTHER_PEM, _OTHER_PUBLIC = make_key()


def _tool_key_set() -> dict[str, Any]:
    key = JWK.from_pem(TOOL_PEM.encode())
    return {"keys": [{**key.export_public(as_dict=True), "kid": TOOL_KID}]}


@pytest.fixture
def tool(app: Flask) -> int:
    with app.app_context():
        tool = LtiTool(
            slug="gap-tool",
            name="Gap tool",
            client_id=CLIENT_ID,
            deployment_id="deployment-1",
            oidc_login_url="https://tool.invalid/login",
            launch_url="https://tool.invalid/launch",
            redirect_uris=[],
            jwks=_tool_key_set(),
        )
        db.session.add(tool)
        db.session.commit()
        return tool.id


def _assertion(pem: str = TOOL_PEM, kid: str = TOOL_KID, **changes: Any) -> str:
    claims = {
        "iss": CLIENT_ID,
        "sub": CLIENT_ID,
        "aud": TOKEN_URL,
        "iat": int(time.time()),
        "exp": int(time.time()) + 300,
        "jti": str(uuid.uuid4()),
    }
    claims.update(changes)
    return jwt.encode(claims, pem, algorithm="RS256", headers={"kid": kid})


def _form(**changes: Any) -> dict[str, Any]:
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": _assertion(),
        "scope": SCORE,
    }
    form.update(changes)
    return {name: value for name, value in form.items() if value is not None}


def _disable(app: Flask) -> dict[str, Any]:
    with app.app_context():
        db.session.execute(db.select(LtiTool)).scalar_one().is_enabled = False
        db.session.commit()
    return _form()


def _replayed(app: Flask) -> dict[str, Any]:
    form = _form()
    assert app.test_client().post("/lti/token", data=form).status_code == 200
    return form


# (case, the request's form given the app, the expected status, the expected RFC 6749 code)
CASES: list[tuple[str, Callable[[Flask], dict[str, Any]], int, str]] = [
    # Client authentication failed (RFC 6749 §5.2, RFC 7521 §4.2.1): 401 invalid_client.
    ("unknown client_id", lambda a: _form(client_assertion=_assertion(iss="x", sub="x")), 401,
     "invalid_client"),
    ("signed with another key", lambda a: _form(client_assertion=_assertion(OTHER_PEM)), 401,
     "invalid_client"),
    ("a key id the tool lacks", lambda a: _form(client_assertion=_assertion(kid="nope")), 401,
     "invalid_client"),
    ("assertion not a JWT", lambda a: _form(client_assertion="abc.def"), 401, "invalid_client"),
    ("assertion for another audience",
     lambda a: _form(client_assertion=_assertion(aud="https://elsewhere.test/token")), 401,
     "invalid_client"),
    ("assertion expired", lambda a: _form(client_assertion=_assertion(exp=int(time.time()) - 60)),
     401, "invalid_client"),
    ("no client authentication", lambda a: _form(client_assertion=None), 401, "invalid_client"),
    ("another client authentication method",
     lambda a: _form(client_assertion_type="urn:example:password"), 401, "invalid_client"),
    ("disabled tool", _disable, 401, "invalid_client"),
    ("replayed assertion", _replayed, 401, "invalid_client"),
    # The grant and the request itself.
    ("grant password", lambda a: _form(grant_type="password"), 400, "unsupported_grant_type"),
    ("grant authorization_code", lambda a: _form(grant_type="authorization_code"), 400,
     "unsupported_grant_type"),
    ("grant_type missing", lambda a: _form(grant_type=None), 400, "invalid_request"),
    ("grant_type repeated", lambda a: _form(grant_type=["client_credentials"] * 2), 400,
     "invalid_request"),
    ("client_assertion repeated", lambda a: _form(client_assertion=[_assertion()] * 2), 400,
     "invalid_request"),
    # Scopes (RFC 6749 §3.3: a missing scope without a default is an invalid scope).
    ("scope unknown", lambda a: _form(scope="openid https://example.test/scope"), 400,
     "invalid_scope"),
    ("scope missing", lambda a: _form(scope=None), 400, "invalid_scope"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "make", "status", "code"), CASES, ids=[case[0] for case in CASES])
def test_token_errors_carry_rfc_6749_codes(
    app: Flask,
    client: FlaskClient,
    tool: int,
    case: str,
    make: Callable[[Flask], dict[str, Any]],
    status: int,
    code: str,
) -> None:
    form = make(app)
    with app.app_context():
        replays = db.session.execute(db.select(db.func.count()).select_from(LtiReplay)).scalar()
    response = client.post("/lti/token", data=form)
    document = response.get_json()
    assert (response.status_code, document["error"]) == (status, code), document
    assert isinstance(document["error_description"], str) and document["error_description"]
    assert "access_token" not in document
    assert response.headers["Content-Type"].startswith("application/json")
    with app.app_context():  # nothing recorded: no token id was used up
        assert (
            db.session.execute(db.select(db.func.count()).select_from(LtiReplay)).scalar()
            == replays
        )


def test_a_body_that_is_not_a_form_is_an_invalid_request(client: FlaskClient, tool: int) -> None:
    response = client.post("/lti/token", json=_form())
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"


def test_token_answers_are_never_stored(client: FlaskClient, tool: int) -> None:
    """RFC 6749 §5.1: the token and every error with Cache-Control: no-store."""
    granted = client.post("/lti/token", data=_form())
    assert granted.status_code == 200
    assert granted.headers["Cache-Control"] == "no-store"
    for form in (_form(client_assertion=_assertion(OTHER_PEM)), _form(grant_type="password")):
        refused = client.post("/lti/token", data=form)
        assert refused.status_code in (400, 401)
        assert refused.headers.get("Cache-Control") == "no-store", refused.get_json()


def test_known_scopes_of_a_mixed_request_are_granted(client: FlaskClient, tool: int) -> None:
    """RFC 6749 §3.3: the server may grant fewer scopes than asked, and says which."""
    response = client.post("/lti/token", data=_form(scope=f"{SCORE} https://example.test/other"))
    assert response.status_code == 200
    assert response.get_json()["scope"] == SCORE
    assert SCORE in SUPPORTED_SCOPES


# Gap 9: the key set exists from set-up.


def _public_keys(client: FlaskClient) -> list[dict[str, Any]]:
    response = client.get("/lti/jwks")
    assert response.status_code == 200
    return response.get_json()["keys"]


def test_a_fresh_campus_publishes_one_public_key(app: Flask, client: FlaskClient) -> None:
    keys = _public_keys(client)
    assert len(keys) == 1
    key = keys[0]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig"
    assert key["kid"] and key["n"] and key["e"]
    assert not PRIVATE_PARTS & set(key)
    assert _public_keys(client) == keys  # the same key on every request
    with app.app_context():
        assert db.session.execute(db.select(LtiKey.kid)).scalars().all() == [key["kid"]]


def test_keys_ensure_creates_one_key_once(app: Flask, client: FlaskClient) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["lti", "keys", "ensure"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=["lti", "keys", "ensure"])
    assert second.exit_code == 0, second.output
    with app.app_context():
        kids = db.session.execute(db.select(LtiKey.kid)).scalars().all()
    assert len(kids) == 1
    assert kids[0] in first.output and kids[0] in second.output
    assert "New" in first.output and "already" in second.output
    for output in (first.output, second.output):
        assert "PRIVATE" not in output and "BEGIN" not in output
    assert [key["kid"] for key in _public_keys(client)] == kids


def test_the_key_read_before_any_launch_verifies_the_id_token(
    app: Flask, client: FlaskClient, tool: int, make_user: Callable[..., int], auth: Any
) -> None:
    """A tool caches the key set when it is registered; the first launch is signed with it."""
    cached = {key["kid"]: key for key in _public_keys(client)}
    with app.app_context():
        path = db.session.execute(
            db.select(LearningPath).where(LearningPath.slug == "basics")
        ).scalar_one()
        module = path.modules[0]
        module.kind = ModuleKind.LTI
        module.settings = {"tool": "gap-tool"}
        module_id = module.id
        db.session.commit()
    make_user("learner@example.org", roles=set())
    auth.login("learner@example.org")

    login = client.get(f"/lti/modules/{module_id}/launch")
    assert login.status_code == 302, login.get_data(as_text=True)[:500]
    hints = dict(parse_qsl(urlsplit(login.headers["Location"]).query))
    response = client.get(
        "/lti/authorize",
        query_string={
            "scope": "openid",
            "response_type": "id_token",
            "response_mode": "form_post",
            "prompt": "none",
            "client_id": CLIENT_ID,
            "redirect_uri": hints["target_link_uri"],
            "login_hint": hints["login_hint"],
            "lti_message_hint": hints["lti_message_hint"],
            "nonce": str(uuid.uuid4()),
            "state": "s",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[:500]
    action, fields = auto_post_form(page)
    assert action == "https://tool.invalid/launch"
    id_token = fields["id_token"]
    kid = jwt.get_unverified_header(id_token)["kid"]
    assert kid in cached
    public_pem = JWK(**cached[kid]).export_to_pem()
    claims = jwt.decode(id_token, public_pem, algorithms=["RS256"], audience=CLIENT_ID)
    assert claims["iss"] == BASE_URL
    with app.app_context():
        assert db.session.execute(db.select(db.func.count()).select_from(LtiKey)).scalar() == 1
