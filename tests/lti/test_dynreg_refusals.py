"""The registration endpoint (POST /lti/register) refuses what LTI-DR and RFC 7591 do not
allow: a missing, unknown, expired or used token (401), metadata it cannot honour (400
`invalid_client_metadata`), an oversized body (413). A refusal stores nothing and leaves a
valid token usable; the accepted registration's answer follows the spec."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from campus.clock import utcnow
from campus.extensions import db
from campus.lti.models import LtiStoreEntry
from campus.lti.models import LtiTool
from campus.lti.platform import registration
from tests.conftest import BASE_URL

CONFIG = "https://purl.imsglobal.org/spec/lti-tool-configuration"
LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"


def document(**changes: Any) -> dict[str, Any]:
    """A valid registration as pylti1p3 and Moodle's tools send it; `changes` replace keys
    (`tool__key` for the tool configuration; the value None removes the key)."""
    body: dict[str, Any] = {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": "https://tool.example/login",
        "redirect_uris": ["https://tool.example/launch"],
        "client_name": "Quiz",
        "jwks_uri": "https://tool.example/jwks",
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": f"openid {LINEITEM} https://example.org/other",
        CONFIG: {
            "domain": "tool.example",
            "target_link_uri": "https://tool.example/launch",
            "claims": ["iss", "sub", "email"],
            "messages": [{"type": "LtiDeepLinkingRequest"}],
        },
    }
    for key, value in changes.items():
        target, name = (body[CONFIG], key[6:]) if key.startswith("tool__") else (body, key)
        if value is None:
            target.pop(name, None)
        else:
            target[name] = value
    return body


def new_token(app: Flask, when: Any = None) -> str:
    with app.app_context():
        offer = registration.create_offer(
            "https://tool.example/register", f"{BASE_URL}/c", 1, when or utcnow()
        )
        db.session.commit()
        return offer.url.rsplit("registration_token=", 1)[1]


def post(client, token: str | None, body: Any, **kwargs: Any):  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    if isinstance(body, bytes):
        return client.post("/lti/register", data=body, headers=headers, **kwargs)
    return client.post("/lti/register", json=body, headers=headers, **kwargs)


def tools(app: Flask) -> int:
    with app.app_context():
        return db.session.execute(db.select(db.func.count()).select_from(LtiTool)).scalar()


def test_the_accepted_registration_is_answered_per_the_spec(app: Flask, client) -> None:  # type: ignore[no-untyped-def]
    response = post(client, new_token(app), document(logo_uri="https://cdn.example/q.png"))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    answer = response.get_json()
    with app.app_context():
        tool = db.session.execute(db.select(LtiTool)).scalar_one()
        assert answer["client_id"] == tool.client_id
        assert answer[CONFIG]["deployment_id"] == tool.deployment_id
        assert (tool.slug, tool.name, tool.privacy) == ("quiz", "Quiz", "name_email")
        assert tool.launch_url == tool.deep_link_url == "https://tool.example/launch"
        assert tool.redirect_uris == ["https://tool.example/launch"]
        assert db.session.execute(db.select(LtiStoreEntry)).first() is None
    assert answer["scope"] == LINEITEM  # only what the campus offers
    assert answer["redirect_uris"] == ["https://tool.example/launch"]
    assert answer["token_endpoint_auth_method"] == "private_key_jwt"
    assert answer["logo_uri"] == "https://cdn.example/q.png"  # shown only, any host
    assert answer[CONFIG]["claims"] == ["iss", "sub", "email"]
    assert answer[CONFIG]["messages"] == [{"type": "LtiDeepLinkingRequest"}]
    # The same name again: a short name of its own.
    second = post(client, new_token(app), document())
    assert second.status_code == 200 and second.get_json()["client_id"] != answer["client_id"]
    with app.app_context():
        assert db.session.execute(db.select(LtiTool.slug).order_by(LtiTool.id)).scalars().all() == [
            "quiz",
            "quiz-2",
        ]


@pytest.mark.parametrize(
    ("claims", "privacy"),
    [
        (["sub", "email", "name"], "name_email"),
        (["sub", "given_name"], "name"),
        (["family_name"], "name"),
        (["iss", "sub"], "anonymous"),
        (None, "anonymous"),
    ],
)
def test_privacy_follows_the_requested_claims(
    app: Flask, client, claims: list[str] | None, privacy: str
) -> None:  # type: ignore[no-untyped-def]
    assert post(client, new_token(app), document(tool__claims=claims)).status_code == 200
    with app.app_context():
        assert db.session.execute(db.select(LtiTool.privacy)).scalar_one() == privacy


def test_subdomains_ports_and_localized_names(app: Flask, client) -> None:  # type: ignore[no-untyped-def]
    body = document(
        client_name=None,
        **{"client_name#fi": "Visa", "client_name#en": "Quiz"},
        initiate_login_uri="https://auth.tool.example:8443/login",
        tool__messages=[
            {"type": "LtiResourceLinkRequest", "target_link_uri": "https://run.tool.example/go"},
            {"type": "LtiSubmissionReviewRequest", "target_link_uri": "https://x.example/y"},
        ],
    )
    response = post(client, new_token(app), body)
    assert response.status_code == 200, response.get_data(as_text=True)
    with app.app_context():
        tool = db.session.execute(db.select(LtiTool)).scalar_one()
        assert tool.name == "Quiz"  # client_name#en before #fi (sorted keys)
        assert tool.launch_url == "https://run.tool.example/go" and tool.deep_link_url is None
    # A message type the campus never sends is left out of the answer.
    assert [m["type"] for m in response.get_json()[CONFIG]["messages"]] == [
        "LtiResourceLinkRequest"
    ]


@pytest.mark.parametrize(
    "token", [None, "", "unknown-token", "x" * 500], ids=["none", "empty", "unknown", "long"]
)
def test_a_missing_or_unknown_token_is_refused(app: Flask, client, token: str | None) -> None:  # type: ignore[no-untyped-def]
    response = post(client, token, document())
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_token"
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert tools(app) == 0


def test_an_expired_token_is_refused(app: Flask, client) -> None:  # type: ignore[no-untyped-def]
    token = new_token(app, utcnow() - timedelta(hours=1, seconds=1))
    response = post(client, token, document())
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_token"
    assert tools(app) == 0


def test_a_token_registers_one_tool_only(app: Flask, client) -> None:  # type: ignore[no-untyped-def]
    token = new_token(app)
    assert post(client, token, document()).status_code == 200
    again = post(client, token, document(client_name="Another"))
    assert again.status_code == 401 and again.get_json()["error"] == "invalid_token"
    assert tools(app) == 1


def test_another_scheme_than_bearer_is_refused(app: Flask, client) -> None:  # type: ignore[no-untyped-def]
    token = new_token(app)
    headers = {"Authorization": f"Basic {token}"}
    response = client.post("/lti/register", json=document(), headers=headers)
    assert response.status_code == 401 and tools(app) == 0


OTHER_HOST = "https://tool.example.evil.test/login"
BAD_METADATA = {
    "application_type": {"application_type": "native"},
    "no id_token": {"response_types": ["code"]},
    "response_types not a list": {"response_types": "id_token"},
    "no client_credentials": {"grant_types": ["implicit"]},
    "auth method": {"token_endpoint_auth_method": "client_secret_basic"},
    "no auth method": {"token_endpoint_auth_method": None},
    "no login": {"initiate_login_uri": None},
    "login elsewhere": {"initiate_login_uri": OTHER_HOST},
    "login on a look-alike": {"initiate_login_uri": "https://eviltool.example/login"},
    "login not web": {"initiate_login_uri": "javascript:alert(1)"},
    "login with user": {"initiate_login_uri": "https://tool.example@evil.test/login"},
    "login too long": {"initiate_login_uri": "https://tool.example/" + "a" * 2000},
    "no redirect": {"redirect_uris": []},
    "redirect elsewhere": {"redirect_uris": ["https://tool.example/a", OTHER_HOST]},
    "redirect with fragment": {"redirect_uris": ["https://tool.example/a#x"]},
    "no jwks": {"jwks_uri": None},
    "jwks elsewhere": {"jwks_uri": "https://keys.example/jwks"},
    "no tool configuration": {CONFIG: None},
    "no domain": {"tool__domain": None},
    "bad domain": {"tool__domain": "tool.example/path"},
    "no target": {"tool__target_link_uri": None},
    "target elsewhere": {"tool__target_link_uri": "http://127.0.0.1/launch"},
    "target on another port": {"tool__domain": "tool.example:8443"},
    "no messages": {"tool__messages": None},
    "message elsewhere": {
        "tool__messages": [{"type": "LtiDeepLinkingRequest", "target_link_uri": OTHER_HOST}]
    },
    "message without type": {"tool__messages": [{"target_link_uri": "https://tool.example/"}]},
    "claims not strings": {"tool__claims": [1, 2]},
    "logo not web": {"logo_uri": "data:image/png;base64,AAAA"},
    "name too long": {"client_name": "x" * 201},
    "scope not text": {"scope": ["openid"]},
}


@pytest.mark.parametrize("changes", BAD_METADATA.values(), ids=BAD_METADATA.keys())
def test_bad_metadata_is_refused_and_nothing_stored(
    app: Flask, client, changes: dict[str, Any]
) -> None:  # type: ignore[no-untyped-def]
    token = new_token(app)
    response = post(client, token, document(**changes))
    assert response.status_code == 400, response.get_data(as_text=True)
    refusal = response.get_json()
    assert refusal["error"] == "invalid_client_metadata" and refusal["error_description"]
    assert tools(app) == 0
    # The token was not spent on the refused request: the corrected one is accepted.
    assert post(client, token, document()).status_code == 200


@pytest.mark.parametrize(
    "body", [b"not json", b"[1, 2]", b'{"a": '], ids=["text", "array", "truncated"]
)
def test_a_body_that_is_no_json_object_is_refused(app: Flask, client, body: bytes) -> None:  # type: ignore[no-untyped-def]
    response = post(client, new_token(app), body, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_client_metadata" and tools(app) == 0


def test_a_body_that_is_not_json_at_all_is_refused(app: Flask, client) -> None:  # type: ignore[no-untyped-def]
    response = post(client, new_token(app), b"a=b", content_type="text/plain")
    assert response.status_code == 415 and tools(app) == 0


def test_an_oversized_body_is_refused_before_the_token_is_spent(app: Flask, client) -> None:  # type: ignore[no-untyped-def]
    token = new_token(app)
    big = copy.deepcopy(document())
    big[CONFIG]["description"] = "x" * registration.MAX_BODY
    response = post(client, token, json.dumps(big).encode(), content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["error"] == "invalid_client_metadata"
    assert tools(app) == 0
    assert post(client, token, document()).status_code == 200
