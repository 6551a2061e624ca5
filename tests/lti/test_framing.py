"""Registering an LMS lets it show the campus in a frame: CSP frame-ancestors follows the
enabled platforms (issuer origin + frame origins), and no typed origin can change the header."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from campus.extensions import db
from campus.lti import framing
from campus.lti.models import LtiPlatform
from campus.lti.tool import registration
from campus.security import policy_for_request

CANVAS = {
    "name": "School Canvas",
    "issuer": "https://canvas.instructure.com",
    "client_id": "10000000000001",
    "auth_login_url": "https://sso.canvaslms.com/api/lti/authorize_redirect",
    "auth_token_url": "https://sso.canvaslms.com/login/oauth2/token",
    "jwks_url": "https://sso.canvaslms.com/api/lti/security/jwks",
    "deployment_ids": "1:abc",
}

DIRECTIVES = [
    "default-src",
    "img-src",
    "style-src",
    "script-src",
    "object-src",
    "base-uri",
    "form-action",
    "frame-ancestors",
    "frame-src",
]


@pytest.fixture
def admin(client: FlaskClient, make_user: Any, auth: Any) -> FlaskClient:
    from campus.auth.models import Role

    make_user("root@campus.fi", {Role.ADMIN})
    auth.login("root@campus.fi")
    return client


def ancestors(response: Any) -> list[str]:
    """The frame-ancestors sources of a response's CSP (and the policy has no extra words)."""
    policy = response.headers["Content-Security-Policy"]
    directives = [d.strip() for d in policy.split(";")]
    assert [d.split()[0] for d in directives] == DIRECTIVES, policy
    [directive] = [d for d in directives if d.startswith("frame-ancestors ")]
    return directive.split()[1:]


def platforms(app: Flask) -> list[LtiPlatform]:
    with app.app_context():
        return list(db.session.execute(db.select(LtiPlatform)).scalars())


def _org_id(app: Flask) -> int:
    from campus.auth.models import Organisation

    with app.app_context():
        return db.session.execute(db.select(Organisation.id)).scalars().first()


def test_registering_a_platform_lets_its_lms_frame_the_campus(
    app: Flask, admin: FlaskClient
) -> None:
    before = admin.get("/")
    assert ancestors(before) == ["'self'"] and before.headers["X-Frame-Options"] == "SAMEORIGIN"
    page = admin.get("/lti/tool/platforms").get_data(as_text=True)
    assert "one per line" in page and "Moodle needs none" in page and "Canvas needs" in page
    answer = admin.post(
        "/lti/tool/platforms",
        data={
            **CANVAS,
            "organisation_id": _org_id(app),
            "frame_origins": "https://School.Instructure.com/\r\n\r\nhttps://other.example:8443\n"
            "https://school.instructure.com",
        },
    )
    assert answer.status_code == 302
    [platform] = platforms(app)
    assert platform.frame_origins == [
        "https://school.instructure.com",
        "https://other.example:8443",
    ]
    expected = [
        "'self'",
        "https://canvas.instructure.com",
        "https://school.instructure.com",
        "https://other.example:8443",
    ]
    assert ancestors(answer) == expected  # this very process forgot its cached list
    after = admin.get("/")
    assert ancestors(after) == expected and "X-Frame-Options" not in after.headers
    listed = admin.get("/lti/tool/platforms").get_data(as_text=True)
    assert "<code>https://school.instructure.com</code>" in listed
    assert "<code>https://other.example:8443</code>" in listed


def test_a_disabled_platform_may_frame_the_campus_no_more(app: Flask, admin: FlaskClient) -> None:
    admin.post(
        "/lti/tool/platforms",
        data={**CANVAS, "organisation_id": _org_id(app), "frame_origins": "https://s.example"},
    )
    [platform] = platforms(app)
    assert "https://s.example" in ancestors(admin.get("/"))
    assert admin.post(f"/lti/tool/platforms/{platform.id}/toggle").status_code == 302
    [platform] = platforms(app)
    assert platform.is_enabled is False
    response = admin.get("/")
    assert ancestors(response) == ["'self'"] and response.headers["X-Frame-Options"] == "SAMEORIGIN"
    admin.post(f"/lti/tool/platforms/{platform.id}/toggle")
    assert ancestors(admin.get("/"))[1:] == ["https://canvas.instructure.com", "https://s.example"]
    assert admin.post("/lti/tool/platforms/999999/toggle").status_code == 404


@pytest.mark.parametrize(
    "origin",
    [
        "https://a.example; script-src *",
        "https://a.example/path",
        "javascript:x",
        "https://a.example 'unsafe-inline'",
        "https://a.example'",
        'https://a.example"',
        "http://a.example",  # http only for localhost
        "https://*.example",
        "https://user@a.example",
        "https://a.example?x=1",
        "https://a.example#x",
        "https://a.example:99999",
        "https://a..example",
        "https://intranet",
        "data:text/html,x",
        "*",
        "'self'",
        "https://a.example,https://b.example",
        "https://exämple.fi",
    ],
)
def test_bad_frame_origins_are_refused_and_nothing_is_stored(
    app: Flask, admin: FlaskClient, origin: str
) -> None:
    answer = admin.post(
        "/lti/tool/platforms",
        data={
            **CANVAS,
            "organisation_id": _org_id(app),
            "frame_origins": f"https://fine.example\n{origin}",
        },
    )
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    assert "is not an LMS address" in page and "one address per line" in page
    assert 'value="https://canvas.instructure.com"' in page  # what was typed stays in the form
    assert platforms(app) == []
    assert ancestors(admin.get("/")) == ["'self'"]


def test_an_issuer_that_is_no_web_origin_is_refused(app: Flask, admin: FlaskClient) -> None:
    for issuer in ("https://lms.example; script-src *", "http://lms.example", "https://x y.fi"):
        answer = admin.post(
            "/lti/tool/platforms",
            data={**CANVAS, "issuer": issuer, "organisation_id": _org_id(app)},
        )
        assert answer.status_code == 400 and "The issuer must be" in answer.get_data(as_text=True)
    assert platforms(app) == []


def test_origins_are_checked_strictly() -> None:
    good = {
        "https://lms.example": "https://lms.example",
        " HTTPS://LMS.Example/ ": "https://lms.example",
        "https://lms.example:8443": "https://lms.example:8443",
        "http://localhost:8000": "http://localhost:8000",
        "http://127.0.0.1:5001": "http://127.0.0.1:5001",
        "https://xn--exmple-cua.fi": "https://xn--exmple-cua.fi",
    }
    for value, origin in good.items():
        assert framing.valid_origin(value) == origin
    for value in ("https://a.example\nscript-src *", "https://a.example\n/x", "ftp://a.example"):
        assert framing.valid_origin(value) is None
    assert framing.origin_of("https://moodle.school.fi/moodle/") == "https://moodle.school.fi"
    assert framing.origin_of("not a url") is None


def _platform(**changes: Any) -> LtiPlatform:
    values: dict[str, Any] = {
        "name": "LMS",
        "issuer": "https://moodle.school.fi",
        "client_id": "c",
        "auth_login_url": "https://moodle.school.fi/auth",
        "auth_token_url": "https://moodle.school.fi/token",
        "jwks_url": "https://moodle.school.fi/jwks",
        "deployment_ids": ["1"],
        "frame_origins": [],
    }
    return LtiPlatform(**{**values, **changes})


def test_stored_values_are_checked_again_when_read(
    app: Flask, client: FlaskClient, make_org: Any
) -> None:
    """A value that reached the table another way never reaches the header."""
    org = make_org()
    with app.app_context():
        db.session.add(
            _platform(
                issuer="https://moodle.school.fi/moodle",
                frame_origins=["https://a.example; script-src *", "https://ok.example", 7],
                organisation_id=org,
            )
        )
        db.session.add(_platform(issuer="javascript:alert(1)", client_id="d", organisation_id=org))
        db.session.commit()
    assert ancestors(client.get("/")) == [
        "'self'",
        "https://moodle.school.fi",
        "https://ok.example",
    ]


def test_the_list_is_cached_and_forgotten_on_change(
    app: Flask, client: FlaskClient, make_org: Any
) -> None:
    org = make_org()
    client.get("/")  # warm the cache
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "FROM lti_platform" in statement:
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        for _ in range(3):
            client.get("/")
        assert statements == []  # one query per TTL, not per page
        with app.app_context():
            db.session.add(_platform(organisation_id=org))  # changed without the service
            db.session.commit()
        assert ancestors(client.get("/")) == ["'self'"]
        with app.app_context():
            framing.forget()
        assert ancestors(client.get("/")) == ["'self'", "https://moodle.school.fi"]
        assert len(statements) == 1
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_configured_ancestors_come_first_and_auto_post_pages_agree(
    app: Flask, client: FlaskClient, make_org: Any
) -> None:
    app.config["FRAME_ANCESTORS"] = ["https://moodle.school.fi", "https://env.example"]
    with app.app_context():
        db.session.add(
            _platform(frame_origins=["https://canvas.school.fi"], organisation_id=make_org())
        )
        db.session.commit()
    expected = [
        "'self'",
        "https://moodle.school.fi",
        "https://env.example",
        "https://canvas.school.fi",
    ]
    assert ancestors(client.get("/")) == expected
    with app.test_request_context():
        policy = policy_for_request(["https://tool.example"])
    assert "frame-ancestors " + " ".join(expected) in policy
    assert "form-action 'self' https://tool.example" in policy


def test_dynamic_registration_lets_the_lms_it_was_opened_from_frame_the_campus(
    app: Flask, admin: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    issuer = "https://moodle.school.fi"
    config_url = f"{issuer}/mod/lti/openid-configuration.php"

    def fake_fetch(method: str, url: str, policy: Any, **kwargs: Any) -> Any:
        if method == "GET":
            assert url == config_url
            return {
                "issuer": issuer,
                "authorization_endpoint": f"{issuer}/mod/lti/auth.php",
                "token_endpoint": f"{issuer}/mod/lti/token.php",
                "jwks_uri": f"{issuer}/mod/lti/certs.php",
                "registration_endpoint": f"{issuer}/mod/lti/openid-registration.php",
            }
        return {
            "client_id": "dyn-1",
            "https://purl.imsglobal.org/spec/lti-tool-configuration": {"deployment_id": "3"},
        }

    monkeypatch.setattr(registration.outbound, "fetch_json", fake_fetch)
    done = admin.post(
        "/lti/tool/register",
        data={
            "openid_configuration": config_url,
            "name": "Moodle",
            "organisation_id": _org_id(app),
        },
    )
    assert done.status_code == 200
    assert "<code>https://moodle.school.fi</code>" in done.get_data(as_text=True)
    [platform] = platforms(app)
    assert platform.frame_origins == ["https://moodle.school.fi"]
    assert ancestors(admin.get("/")) == ["'self'", "https://moodle.school.fi"]
    # Registering again (the same LMS and client) keeps one entry.
    admin.post(
        "/lti/tool/register",
        data={
            "openid_configuration": config_url,
            "name": "Moodle",
            "organisation_id": _org_id(app),
        },
    )
    [platform] = platforms(app)
    assert platform.frame_origins == ["https://moodle.school.fi"]
