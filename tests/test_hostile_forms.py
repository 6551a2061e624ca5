"""Hostile form posts: whatever is sent, the answer is never a 500.

The app here has CSRF on, as in production (every post carries a valid token): with CSRF off,
views that read `form.csrf_token.errors` fail in a way no real deployment can.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from werkzeug.security import generate_password_hash

from campus import create_app
from campus.auth.models import Organisation
from campus.auth.models import Role
from campus.auth.models import User
from campus.auth.services import set_roles
from campus.badges.models import Assertion
from campus.extensions import db
from tests.conftest import BASE_URL
from tests.conftest import FAST_HASH
from tests.conftest import PASSWORD
from tests.conftest import TEST_BADGES
from tests.conftest import TEST_CONTENT
from tests.conftest import csrf_token_from
from tests.conftest import load_test_content
from tests.conftest import now

HOSTILE = settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ADMIN = "admin@example.org"
LEARNER = "learner@example.org"

nasty = st.one_of(
    st.sampled_from(
        [
            "",
            "\x00",
            "a\x00b@example.org",
            "x" * 100_000,
            "learner@example.org",
            "LEARNER@EXAMPLE.ORG",
            "@",
            "a@b",
            "-1",
            "99999999999999999999",
            "nan",
            "javascript:alert(1)",
            "http://" + "a" * 3000,
            "'; DROP TABLE user; --",
            "\ud7ff\ufeff\u202e",
        ]
    ),
    st.text(max_size=60),
)

# Each target: who posts, the URL, and the field names its form knows (random ones are added).
TARGETS: dict[str, tuple[str, str, list[str]]] = {
    "register": (
        "anon",
        "/auth/register",
        ["name", "email", "organisation", "password", "confirm"],
    ),
    "login": ("anon", "/auth/login", ["email", "password", "next"]),
    "forgot": ("anon", "/auth/forgot", ["email"]),
    "quiz": ("learner", "/paths/basics/check-quiz/submit", ["q-q1", "q-q2", "q-q3"]),
    "reflection": ("learner", "/paths/basics/my-thoughts/submit", ["text"]),
    "read": ("learner", "/paths/basics/welcome/submit", ["submit"]),
    "evidence": ("learner", "/paths/advanced/show-your-work/submit", ["description", "link"]),
    "old-url": ("learner", "/paths/basics/check-quiz/quiz", ["q-q1"]),
    "verify": ("anon", "/badges/verify", ["text", "email"]),
    "apply": ("learner", "/badges/reviewed", ["narrative", "link"]),
    "bulk": ("admin", "/badges/admin/reviewed/bulk-award", ["csv_text", "preview", "confirm"]),
    "award-one": ("admin", "/badges/admin/reviewed/award-one", ["email", "narrative", "award"]),
    "bulk-revoke": ("admin", "/badges/admin/revoke", ["uuids", "reason"]),
    "regions": ("admin", "/network/regions/", ["name"]),
    "units": ("admin", "/network/organisations/1/units", ["name"]),
    "assign-region": ("admin", "/network/organisations/1/region", ["region"]),
    "roadmaps": ("admin", "/network/organisation/1/roadmaps", ["title", "first_year", "last_year"]),
    "clock": (
        "admin",
        "/network/organisation/1/clock",
        ["title", "start_month", "start_day", "end_month", "end_day", "first_year", "paths"],
    ),
    "groups": ("admin", "/network/organisation/1/groups", ["name", "description"]),
    "publish": ("admin", "/network/organisation/1/publish", ["roadmap", "title", "slug"]),
    "toolkit-import": ("admin", "/network/templates/import", ["submit"]),
}
FILE_FIELDS = {
    "evidence": "file",
    "verify": "image",
    "apply": "file",
    "bulk": "csv_file",
    "toolkit-import": "file",
}


@st.composite
def posts(draw: Any) -> tuple[str, dict[str, Any]]:
    target = draw(st.sampled_from(sorted(TARGETS)))
    fields = TARGETS[target][2]
    data: dict[str, Any] = {}
    for name in draw(st.lists(st.sampled_from(fields) | st.text(max_size=8), max_size=6)):
        data[name] = draw(nasty | st.lists(nasty, max_size=3))
    if target in FILE_FIELDS and draw(st.booleans()):
        body = draw(st.binary(max_size=300) | nasty.map(lambda s: s.encode("utf-8", "replace")))
        name = draw(st.sampled_from(["a.csv", "x.png", "../../x.svg", "", "a\x00.pdf"]))
        data[FILE_FIELDS[target]] = (io.BytesIO(body), name)
    return target, data


@pytest.fixture
def csrf_app(tmp_path: Path) -> Iterator[Flask]:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "PASSWORD_HASH_METHOD": FAST_HASH,
            "CONTENT_DIR": str(TEST_CONTENT),
            "BADGES_DIR": str(TEST_BADGES),
            "UPLOAD_DIR": str(tmp_path / "uploads"),
            "MAIL_DIR": str(tmp_path / "mail"),
            "KEYS_DIR": str(tmp_path / "keys"),
            "BASE_URL": BASE_URL,
        }
    )
    with app.app_context():
        db.create_all()
        load_test_content(app)
        db.session.commit()
    yield app


def with_token(app: Flask) -> tuple[FlaskClient, str]:
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client, csrf_token_from(client.get("/auth/login").get_data(as_text=True))


def logged_in(app: Flask, email: str) -> tuple[FlaskClient, str]:
    client, token = with_token(app)
    client.post("/auth/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    # the session is renewed at login: take the token that goes with it
    return client, csrf_token_from(client.get("/auth/account").get_data(as_text=True))


@pytest.fixture
def clients(csrf_app: Flask) -> dict[str, tuple[FlaskClient, str]]:
    """Each kind of visitor once for all examples (their posts pile up, as in real use)."""
    add_user(csrf_app, ADMIN, {Role.ADMIN})
    add_user(csrf_app, LEARNER, set())
    clients = {
        "anon": with_token(csrf_app),
        "learner": logged_in(csrf_app, LEARNER),
        "admin": logged_in(csrf_app, ADMIN),
    }
    learner, token = clients["learner"]
    assert learner.post("/paths/basics/enrol", data={"csrf_token": token}).status_code < 400
    return clients


@HOSTILE
@given(post=posts())
def test_no_form_post_is_a_server_error(clients, post) -> None:  # type: ignore[no-untyped-def]
    target, data = post
    who, url, _ = TARGETS[target]
    client, token = clients[who]
    response = client.post(
        url, data={**data, "csrf_token": token}, content_type="multipart/form-data"
    )
    assert response.status_code < 500, (target, data)
    assert response.status_code != 400 or b"CSRF" not in response.data


def add_user(app: Flask, email: str, roles: set[Role]) -> None:
    with app.app_context():
        org = Organisation(name="Hostile College", slug="hostile-" + email.split("@")[0])
        db.session.add(org)
        db.session.flush()
        user = User(
            email=email,
            name="Hostile",
            password_hash=generate_password_hash(PASSWORD, method=FAST_HASH),
            organisation_id=org.id,
            email_verified_at=now(),
        )
        db.session.add(user)
        set_roles(user, roles)
        db.session.commit()


def test_a_hostile_bulk_csv_awards_nobody(app: Flask, make_user, client: FlaskClient) -> None:
    make_user(ADMIN, {Role.ADMIN})
    admin = client
    admin.post("/auth/login", data={"email": ADMIN, "password": PASSWORD})
    csv_text = '"unclosed,\x00\n' + "a@b.c," + "x" * 100_000 + "\n\ufeffemail\n;;;\n"
    preview = admin.post(
        "/badges/admin/reviewed/bulk-award", data={"csv_text": csv_text, "confirm": "1"}
    )
    assert preview.status_code < 500
    with app.app_context():
        assert db.session.execute(db.select(Assertion)).first() is None
