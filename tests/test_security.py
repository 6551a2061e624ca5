"""Authorisation per role and organisation, CSRF, and cookie flags."""

from __future__ import annotations

import csv
import io

import pytest
from flask import Flask

from campus import create_app
from campus.auth.models import Role
from campus.extensions import db
from tests.conftest import FAST_HASH
from tests.conftest import csrf_token_from


@pytest.fixture
def two_orgs(make_org, make_user, app: Flask, client):
    home = make_org("Home College")
    other = make_org("Other College")
    ids = {
        "learner": make_user("learner@home.fi", organisation_id=home, name="Liisa Learner"),
        "colleague": make_user("colleague@home.fi", organisation_id=home, name='=HYPERLINK("x")'),
        "org_admin": make_user("admin@home.fi", {Role.ORG_ADMIN}, organisation_id=home),
        "stranger": make_user("someone@other.fi", organisation_id=other, name="Outi Other"),
        "admin": make_user("root@campus.fi", {Role.ADMIN}, organisation_id=other),
    }
    return home, other, ids


def login(client, email: str) -> None:
    from tests.conftest import PASSWORD

    assert (
        client.post("/auth/login", data={"email": email, "password": PASSWORD}).status_code == 302
    )


def test_learner_cannot_see_any_organisation_table(client, two_orgs) -> None:
    home, other, _ids = two_orgs
    login(client, "learner@home.fi")
    for url in (
        "/manage/",
        f"/manage/organisations/{home}/progress",
        f"/manage/organisations/{other}/progress",
        f"/manage/organisations/{home}/progress.csv",
        "/manage/organisations",
        "/manage/users",
    ):
        assert client.get(url).status_code == 403, url


def test_org_admin_sees_only_their_own_organisation(client, two_orgs) -> None:
    home, other, _ids = two_orgs
    login(client, "admin@home.fi")
    assert (
        client.get("/manage/")
        .headers["Location"]
        .endswith(f"/manage/organisations/{home}/progress")
    )
    page = client.get(
        f"/manage/organisations/{home}/progress", headers={"Accept-Language": "en"}
    ).get_data(as_text=True)
    assert "Liisa Learner" in page and "Outi Other" not in page
    assert client.get(f"/manage/organisations/{other}/progress").status_code == 403
    assert client.get(f"/manage/organisations/{other}/progress.csv").status_code == 403
    assert client.get("/manage/organisations").status_code == 403  # admin only
    assert (
        client.post("/manage/organisations", data={"name": "X", "kind": "other"}).status_code == 403
    )
    assert client.get("/manage/organisations/999/progress").status_code == 404


def test_progress_csv(client, two_orgs, app: Flask) -> None:
    home, _other, ids = two_orgs
    with app.app_context():
        from campus.auth.models import User
        from campus.paths import services
        from campus.paths.kinds.read import mark_read
        from tests.conftest import now

        learner = db.session.get(User, ids["learner"])
        mark_read(learner, services.get_module(services.get_path("basics"), "welcome"), now())
        db.session.commit()
    login(client, "admin@home.fi")
    response = client.get(
        f"/manage/organisations/{home}/progress.csv?theme=alpha", headers={"Accept-Language": "en"}
    )
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")  # Excel reads UTF-8 with the BOM
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:3] == ["Name", "E-mail", "Theme"]
    assert len(rows) == 1 + 3  # three members × one path in theme alpha
    liisa = next(r for r in rows if r[0] == "Liisa Learner")
    assert liisa[3:9] == ["basics", "Basics", "In progress", "1", "3", "33"]
    assert any(r[0] == '\'=HYPERLINK("x")' for r in rows)  # no formula injection
    assert client.get(f"/manage/organisations/{home}/progress.csv?theme=nope").status_code == 404


def test_admin_creates_organisations_and_assigns_roles(client, two_orgs, app: Flask) -> None:
    home, _other, ids = two_orgs
    login(client, "root@campus.fi")
    assert (
        client.post(
            "/manage/organisations", data={"name": "Keuda", "kind": "education_provider"}
        ).status_code
        == 302
    )
    assert (
        client.post(
            "/manage/organisations", data={"name": "Keuda", "kind": "education_provider"}
        ).status_code
        == 400
    )
    response = client.post(
        f"/manage/users/{ids['learner']}",
        data={"organisation": home, "roles": ["tutor_teacher", "reviewer"]},
    )
    assert response.status_code == 302
    with app.app_context():
        from campus.auth.models import User

        assert db.session.get(User, ids["learner"]).roles == {
            Role.LEARNER,
            Role.TUTOR_TEACHER,
            Role.REVIEWER,
        }
    # An admin cannot remove their own admin role (no lock-out).
    own = client.post(f"/manage/users/{ids['admin']}", data={"organisation": home, "roles": []})
    assert own.status_code == 400
    assert (
        client.get(f"/manage/organisations/{home}/progress").status_code == 200
    )  # admin sees every org


@pytest.fixture
def csrf_app(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "k",
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "PASSWORD_HASH_METHOD": FAST_HASH,
            "UPLOAD_DIR": str(tmp_path),
        }
    )
    with app.app_context():
        db.create_all()
    return app


def test_state_changing_forms_need_a_csrf_token(csrf_app: Flask) -> None:
    client = csrf_app.test_client()
    with csrf_app.app_context():
        from campus.auth.models import OrganisationKind
        from campus.auth.services import create_organisation

        org = create_organisation("Org", OrganisationKind.OTHER)
        db.session.commit()
        org_id = org.id
    data = {
        "name": "A",
        "email": "a@example.org",
        "organisation": org_id,
        "password": "long enough pw",
        "confirm": "long enough pw",
    }
    refused = client.post("/auth/register", data=data, headers={"Accept-Language": "en"})
    assert refused.status_code == 400
    assert "The form had expired" in refused.get_data(as_text=True)
    assert client.post("/auth/language", data={"language": "en"}).status_code == 400
    token = csrf_token_from(client.get("/auth/register").get_data(as_text=True))
    assert client.post("/auth/register", data={**data, "csrf_token": token}).status_code == 302
    assert client.post("/auth/logout").status_code == 400  # logout is state-changing too


def test_session_cookie_flags(client, make_user) -> None:
    make_user()
    response = client.post(
        "/auth/login", data={"email": "learner@example.org", "password": "correct horse battery"}
    )
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_https_deployment_sets_secure_cookies(monkeypatch) -> None:
    monkeypatch.setenv("CAMPUS_HTTPS", "1")
    app = create_app({"TESTING": True, "SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    assert (
        app.config["SESSION_COOKIE_SAMESITE"] == "None" and app.config["SESSION_COOKIE_PARTITIONED"]
    )
    with app.test_request_context():
        from flask import session

        session["x"] = 1
        response = app.make_response("ok")
        app.session_interface.save_session(app, session, response)
        cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "SameSite=None" in cookie and "Partitioned" in cookie


def test_lms_origins_may_frame_the_campus(monkeypatch) -> None:
    monkeypatch.setenv("CAMPUS_FRAME_ANCESTORS", "https://moodle.school.fi https://canvas.example")
    app = create_app({"TESTING": True, "SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with app.app_context():
        db.create_all()
    headers = app.test_client().get("/").headers
    assert (
        "frame-ancestors 'self' https://moodle.school.fi https://canvas.example"
        in headers["Content-Security-Policy"]
    )
    assert "X-Frame-Options" not in headers


def test_secret_key_is_generated_once_and_kept(tmp_path, monkeypatch) -> None:
    from campus.config import stored_secret_key

    first = stored_secret_key(tmp_path)
    assert len(first) > 40 and stored_secret_key(tmp_path) == first
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"


def test_admin_user_list_is_searchable_and_paged(client, make_org, make_user, app: Flask) -> None:
    org = make_org("Big College")
    make_user("root@campus.fi", {Role.ADMIN}, organisation_id=org, name="Root")
    for index in range(55):
        make_user(f"person{index:02d}@big.fi", organisation_id=org, name=f"Person {index:02d}")
    make_user("under_score@big.fi", organisation_id=org, name="Uma")
    login(client, "root@campus.fi")
    first = client.get("/manage/users").get_data(as_text=True)
    assert "57 users" in first and "Page 1 of 2" in first and "Person 48" in first
    second = client.get("/manage/users?page=2").get_data(as_text=True)
    assert "Person 50" in second and "Uma" in second and "Person 49" not in second
    found = client.get("/manage/users?q=PERSON 1").get_data(as_text=True)
    assert "10 users" in found  # Person 10–19, case-insensitive
    literal = client.get("/manage/users?q=_").get_data(as_text=True)
    assert "1 user" in literal and "under_score@big.fi" in literal  # _ is not a wildcard
    assert client.get("/manage/users?page=99").status_code == 200


def test_login_is_throttled_per_account_and_address(app: Flask, make_user) -> None:
    from tests.conftest import PASSWORD

    make_user()
    owner = app.test_client()
    owner.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert (
        owner.post(
            "/auth/login", data={"email": "learner@example.org", "password": PASSWORD}
        ).status_code
        == 302
    )
    owner.post("/auth/logout")
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    for _ in range(5):
        response = attacker.post(
            "/auth/login", data={"email": "learner@example.org", "password": "guess"}
        )
        assert response.status_code == 401
    blocked = attacker.post(
        "/auth/login",
        data={"email": "learner@example.org", "password": PASSWORD},
        headers={"Accept-Language": "en"},
    )
    assert blocked.status_code == 429 and "Too many failed attempts" in blocked.get_data(
        as_text=True
    )
    assert int(blocked.headers["Retry-After"]) >= 1
    ok = owner.post("/auth/login", data={"email": "learner@example.org", "password": PASSWORD})
    assert ok.status_code == 302  # the real user's browser (device cookie) is not locked out


def test_successful_login_clears_failures(app: Flask, make_user) -> None:
    from campus.auth.models import LoginFailure
    from tests.conftest import PASSWORD

    make_user()
    client = app.test_client()
    for _ in range(4):  # below the backoff
        client.post("/auth/login", data={"email": "learner@example.org", "password": "guess"})
    assert (
        client.post(
            "/auth/login", data={"email": "learner@example.org", "password": PASSWORD}
        ).status_code
        == 302
    )
    with app.app_context():
        assert db.session.execute(db.select(LoginFailure)).first() is None


def test_trusted_proxy_setting_reads_forwarded_address(monkeypatch) -> None:
    monkeypatch.setenv("CAMPUS_TRUSTED_PROXIES", "1")
    app = create_app({"TESTING": True, "SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": "sqlite://"})

    @app.get("/whoami")
    def whoami():  # type: ignore[no-untyped-def]
        from flask import request

        return request.remote_addr or ""

    response = app.test_client().get("/whoami", headers={"X-Forwarded-For": "192.0.2.44"})
    assert response.get_data(as_text=True) == "192.0.2.44"
