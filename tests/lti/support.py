"""Shared pieces of the LTI end-to-end tests: real servers on loopback, and form parsing."""

from __future__ import annotations

import re
import threading
import time
import uuid
from functools import cache
from html import unescape
from pathlib import Path
from typing import Any

import jwt
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash
from werkzeug.serving import make_server

from campus import create_app
from campus.auth.models import Organisation
from campus.auth.models import Role
from campus.auth.models import User
from campus.auth.services import set_roles
from campus.extensions import db
from tests.conftest import BASE_URL
from tests.conftest import FAST_HASH
from tests.conftest import PASSWORD

FORM_INPUT = re.compile(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"')


class LiveServer:
    """A threaded HTTP server on 127.0.0.1; the port is known before the app is chosen, so two
    apps that must know each other's address can be built."""

    def __init__(self) -> None:
        self._server = make_server("127.0.0.1", 0, Flask("placeholder"), threaded=True)
        self.base = f"http://127.0.0.1:{self._server.server_port}"
        self._thread: threading.Thread | None = None

    def start(self, app: Any) -> None:
        self._server.app = app
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5)


def auto_post_form(page: str) -> tuple[str, dict[str, str]]:
    """The action and fields of an auto-submitting launch form."""
    action = unescape(re.search(r'<form[^>]*action="([^"]+)"', page)[1])
    return action, {name: unescape(value) for name, value in FORM_INPUT.findall(page)}


def create_campus(
    tmp_path: Path, content: Path, base_url: str, extra: dict[str, Any] | None = None
) -> Flask:
    return create_app(
        {
            "SECRET_KEY": "campus-secret",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'campus.sqlite'}",
            "PASSWORD_HASH_METHOD": FAST_HASH,
            "KEYS_DIR": str(tmp_path / "keys"),
            "CONTENT_DIR": str(content),
            "SESSION_COOKIE_NAME": "campus_session",
            "UPLOAD_DIR": str(tmp_path / "uploads"),
            "MAIL_DIR": str(tmp_path / "mail"),
            "BASE_URL": base_url,
            # Both ends of these tests live on 127.0.0.1: the lab setting an operator would use.
            "LTI_ALLOW_PRIVATE_ADDRESSES": True,
            **(extra or {}),
        }
    )


def add_users(organisation: Organisation, accounts: dict[str, set[Role]]) -> None:
    """Users with the test PASSWORD (inside an app context; the caller commits)."""
    password_hash = generate_password_hash(PASSWORD, method=FAST_HASH)
    for email, roles in accounts.items():
        user = User(
            email=email,
            name=email.split("@")[0].title(),
            organisation=organisation,
            password_hash=password_hash,
        )
        db.session.add(user)
        set_roles(user, roles)


@cache
def tool_key(name: str) -> tuple[str, dict[str, Any]]:
    """A tool's private PEM and its public JWK (one per tool name, made once per test run)."""
    from jwcrypto.jwk import JWK

    from tests.lti.tool_app import make_key

    private_pem, _public = make_key()
    key = JWK.from_pem(private_pem.encode())
    return private_pem, {**key.export_public(as_dict=True), "kid": key.thumbprint()}


def service_token(client: FlaskClient, client_id: str, scope: str) -> dict[str, str]:
    """The Authorization header of a client-credentials token the tool `client_id` gets from
    the campus (signed with `tool_key(client_id)`), for AGS and NRPS calls."""
    private_pem, public = tool_key(client_id)
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": f"{BASE_URL}/lti/token",
        "iat": int(time.time()),
        "exp": int(time.time()) + 300,
        "jti": str(uuid.uuid4()),
    }
    assertion = jwt.encode(claims, private_pem, algorithm="RS256", headers={"kid": public["kid"]})
    answer = client.post(
        "/lti/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
            "scope": scope,
        },
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return {"Authorization": f"Bearer {answer.get_json()['access_token']}"}
