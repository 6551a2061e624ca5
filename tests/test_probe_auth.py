"""Issue 8, accounts: the password-change crash, a throttle that cannot lock people out, device
cookies, CSRF rotation, registration that does not reveal accounts, no-store caching, private
SQLite files and production start-up warnings."""

from __future__ import annotations

import io
import logging
import os
import re
import runpy
import secrets
import subprocess
import sys
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path

import flask
import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from campus import create_app
from campus.auth import login as login_service
from campus.auth import registration
from campus.auth.models import LoginFailure
from campus.auth.models import User
from campus.extensions import db
from tests.conftest import FAST_HASH
from tests.conftest import PASSWORD
from tests.conftest import csrf_token_from

REPO = Path(__file__).resolve().parent.parent
EMAIL = "learner@example.org"


@pytest.fixture(autouse=True)
def campus_logger_enabled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Alembic's env.py (run by the migration tests) disables existing loggers: undo that."""
    monkeypatch.setattr(logging.getLogger("campus"), "disabled", False)


def _client(app: Flask, address: str = "198.51.100.7") -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def _login(client: FlaskClient, email: str = EMAIL, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post("/auth/login", data={"email": email, "password": password})


# 1. Changing one's password must not crash the worker.

SERVER = """
import sys
from werkzeug.security import generate_password_hash
from werkzeug.serving import make_server
from campus import create_app
from campus.auth.models import Organisation, User
from campus.extensions import db

app = create_app({
    "SECRET_KEY": "s", "SQLALCHEMY_DATABASE_URI": "sqlite:///" + sys.argv[1],
    "WTF_CSRF_ENABLED": False, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    "KEYS_DIR": sys.argv[2], "UPLOAD_DIR": sys.argv[2],
})
with app.app_context():
    db.create_all()
    org = Organisation(name="O", slug="o")
    # A saved language: the flash after the password change is the first use of current_user.
    db.session.add(User(email="a@example.org", name="A", organisation=org, locale="en",
        password_hash=generate_password_hash(sys.argv[3], method="pbkdf2:sha256:1000")))
    db.session.commit()
server = make_server("127.0.0.1", 0, app)
print(server.server_port, flush=True)
server.serve_forever()
"""


def test_password_change_keeps_the_server_alive(tmp_path: Path) -> None:
    """A real server process: before the fix the change request killed it (segfault)."""
    with (
        subprocess.Popen(
            [sys.executable, "-c", SERVER, str(tmp_path / "s.sqlite"), str(tmp_path), PASSWORD],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        ) as process,
        requests.Session() as browser,
    ):
        try:
            assert process.stdout is not None
            base = f"http://127.0.0.1:{process.stdout.readline().strip()}"
            logged_in = browser.post(
                f"{base}/auth/login",
                data={"email": "a@example.org", "password": PASSWORD},
                allow_redirects=False,
                timeout=10,
            )
            assert logged_in.status_code == 302
            changed = browser.post(
                f"{base}/auth/account",
                data={
                    "password-current_password": PASSWORD,
                    "password-new_password": "a new password",
                    "password-confirm": "a new password",
                    "password-submit": "1",
                },
                allow_redirects=False,
                timeout=10,
            )
            assert changed.status_code == 302
            after = browser.get(f"{base}/dashboard", allow_redirects=False, timeout=10)
            assert after.status_code == 200  # the server answers and the session survived
            assert process.poll() is None
        finally:
            process.kill()


def test_password_change_signs_in_the_user_not_the_proxy(app: Flask, make_user) -> None:
    make_user()
    client = _client(app)
    _login(client)
    with client:
        response = client.post(
            "/auth/account",
            data={
                "password-current_password": PASSWORD,
                "password-new_password": "a new password",
                "password-confirm": "a new password",
                "password-submit": "1",
            },
        )
        assert response.status_code == 302
        assert type(flask.g._login_user) is User


# 2. Throttling: per account with backoff, per device cookie, per address with a high bound.


def test_random_emails_from_one_address_do_not_lock_out_others(app: Flask, make_user) -> None:
    make_user()
    attacker = _client(app, "203.0.113.9")
    for _ in range(60):
        email = f"{secrets.token_hex(6)}@example.org"
        assert _login(attacker, email, "guess").status_code == 401
    neighbour = _client(app, "203.0.113.9")  # the same NAT or an unconfigured proxy
    assert _login(neighbour).status_code == 302


def test_failures_on_one_account_back_off(app: Flask, make_user) -> None:
    make_user()
    attacker = _client(app, "203.0.113.9")
    for _ in range(login_service.FREE_FAILURES_PER_ACCOUNT):
        assert _login(attacker, password="guess").status_code == 401
    blocked = _login(attacker)
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) >= 1
    assert "Too many failed attempts. Please wait" in blocked.get_data(as_text=True)
    # A throttled attempt is refused before the password is looked at, and not recorded.
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(LoginFailure)) == 5


def test_backoff_grows_and_ends(app_ctx, make_user) -> None:
    make_user()
    start = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    for second in range(5):
        moment = start + timedelta(seconds=second)
        assert login_service.check_password(EMAIL, "guess", "203.0.113.9", moment) is None
    last = start + timedelta(seconds=4)
    with pytest.raises(login_service.LoginThrottled) as throttled:
        login_service.check_password(EMAIL, PASSWORD, "203.0.113.9", last)
    assert throttled.value.retry_after == 1
    assert (
        login_service.check_password(EMAIL, "guess", "203.0.113.9", last + timedelta(seconds=1))
        is None
    )
    later = last + timedelta(seconds=1)
    assert login_service.throttle_wait(EMAIL, "203.0.113.9", later) == 2  # 1 s, 2 s, 4 s …
    for _ in range(20):
        login_service.record_failure(EMAIL, "203.0.113.9", later)
    assert login_service.throttle_wait(EMAIL, "203.0.113.9", later) == 15 * 60  # at most 15 min
    user = login_service.check_password(
        EMAIL, PASSWORD, "203.0.113.9", later + timedelta(minutes=15)
    )
    assert user is not None and user.email == EMAIL


def test_a_guesser_elsewhere_does_not_lock_the_owner_out_of_a_new_browser(
    app_ctx, make_user
) -> None:
    """Unknown browsers back off per address; only a guessing storm from everywhere slows all."""
    make_user()
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    for _ in range(30):
        login_service.record_failure(EMAIL, "203.0.113.9", now)
    assert login_service.throttle_wait(EMAIL, "203.0.113.9", now) > 0
    owner = login_service.check_password(EMAIL, PASSWORD, "192.0.2.1", now)
    assert owner is not None  # a new browser at another address: no device cookie needed
    # The owner's success does not wipe the guesser's backoff.
    assert login_service.throttle_wait(EMAIL, "203.0.113.9", now) > 0
    for index in range(30):  # many addresses: the account-wide bound (50) is reached
        login_service.record_failure(EMAIL, f"198.51.100.{index}", now)
    assert login_service.throttle_wait(EMAIL, "192.0.2.1", now) > 0


def test_device_cookie_lets_the_owner_in_during_an_attack(app: Flask, make_user) -> None:
    make_user()
    owner = _client(app)
    first = _login(owner)
    assert first.status_code == 302
    cookie = next(
        header
        for header in first.headers.getlist("Set-Cookie")
        if header.startswith("campus_device=")
    )
    assert "HttpOnly" in cookie and "Max-Age=31536000" in cookie and EMAIL not in cookie
    owner.post("/auth/logout")
    attacker = _client(app, "203.0.113.9")
    for _ in range(8):
        _login(attacker, password="guess")
    assert _login(attacker).status_code == 429  # the account is under attack …
    assert _login(_client(app, "192.0.2.50")).status_code == 302  # … not elsewhere
    assert _login(owner).status_code == 302  # but its owner's usual browser gets in


def test_device_failures_slow_down_only_that_browser(app: Flask, make_user) -> None:
    make_user()
    owner = _client(app)
    _login(owner)
    owner.post("/auth/logout")
    for _ in range(login_service.FREE_FAILURES_PER_ACCOUNT):
        assert _login(owner, password="typo").status_code == 401
    assert _login(owner).status_code == 429  # the device has its own backoff
    assert _login(_client(app, "192.0.2.50")).status_code == 302  # the account is not locked


def test_a_forged_or_foreign_device_cookie_does_not_help(app: Flask, make_user) -> None:
    make_user()
    make_user("other@example.org")
    attacker = _client(app, "203.0.113.9")
    assert _login(attacker, "other@example.org").status_code == 302  # vouches for "other" only
    attacker.post("/auth/logout")
    for _ in range(6):
        _login(attacker, password="guess")
    assert _login(attacker).status_code == 429
    with app.test_request_context():
        other_key = Flask("x")
        other_key.secret_key = "not the campus key"
        with other_key.app_context():
            forged = login_service.device_cookie_after_login(None, EMAIL)
        assert login_service.trusted_device(forged, EMAIL) is None
        assert login_service.trusted_device("garbage", EMAIL) is None
        assert login_service.trusted_device(None, EMAIL) is None


def test_per_address_bound(app: Flask, make_user) -> None:
    make_user()
    now = datetime.now(UTC)
    with app.app_context():
        db.session.add_all(
            LoginFailure(email=f"u{index}@example.org", remote_addr="203.0.113.9", failed_at=now)
            for index in range(login_service.MAX_FAILURES_PER_ADDRESS)
        )
        db.session.commit()
    blocked = _login(_client(app, "203.0.113.9"))
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 14 * 60
    assert _login(_client(app, "192.0.2.50")).status_code == 302  # other addresses are fine


def test_wrong_current_password_is_a_throttled_failure(app: Flask, make_user) -> None:
    make_user()
    client = _client(app, "192.0.2.50")
    assert _login(client).status_code == 302
    data = {
        "password-current_password": "guess",
        "password-new_password": "a new password",
        "password-confirm": "a new password",
        "password-submit": "1",
    }
    for _ in range(login_service.FREE_FAILURES_PER_ACCOUNT):
        wrong = client.post("/auth/account", data=data)
        assert wrong.status_code == 400
        assert "The current password is not correct." in wrong.get_data(as_text=True)
    blocked = client.post("/auth/account", data={**data, "password-current_password": PASSWORD})
    assert blocked.status_code == 429 and blocked.headers["Retry-After"]
    assert "Too many failed attempts" in blocked.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(LoginFailure)) == 5


# 3. A proxy the campus was not told about.


def test_forwarded_requests_without_trusted_proxies_warn_once(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    client = _client(app)
    with caplog.at_level(logging.WARNING):
        client.get("/")
        assert not caplog.records
        client.get("/", headers={"X-Forwarded-For": "192.0.2.44"})
        client.get("/", headers={"X-Forwarded-For": "192.0.2.45"})
    warnings = [r for r in caplog.records if "CAMPUS_TRUSTED_PROXIES" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING


def test_no_proxy_warning_when_proxies_are_trusted(caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "k",
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "TRUSTED_PROXIES": 1,
        }
    )
    with app.app_context():
        db.create_all()
    with caplog.at_level(logging.WARNING):
        app.test_client().get("/", headers={"X-Forwarded-For": "192.0.2.44"})
    assert not [r for r in caplog.records if "CAMPUS_TRUSTED_PROXIES" in r.getMessage()]


# 4. A new CSRF token at login.


@pytest.fixture
def csrf_app(tmp_path: Path) -> Flask:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "k",
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "PASSWORD_HASH_METHOD": FAST_HASH,
            "UPLOAD_DIR": str(tmp_path),
            "KEYS_DIR": str(tmp_path / "keys"),
        }
    )
    with app.app_context():
        db.create_all()
    return app


def test_csrf_token_is_rotated_at_login(csrf_app: Flask) -> None:
    with csrf_app.app_context():
        from werkzeug.security import generate_password_hash

        from campus.auth.models import Organisation

        org = Organisation(name="O", slug="o")
        db.session.add(
            User(
                email=EMAIL,
                name="L",
                organisation=org,
                password_hash=generate_password_hash(PASSWORD, method=FAST_HASH),
            )
        )
        db.session.commit()
    client = _client(csrf_app)
    form_token = csrf_token_from(client.get("/auth/login").get_data(as_text=True))
    with client.session_transaction() as session:
        before = session["csrf_token"]
    response = client.post(
        "/auth/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": form_token}
    )
    assert response.status_code == 302
    page = client.get("/auth/account").get_data(as_text=True)
    with client.session_transaction() as session:
        after = session["csrf_token"]
    assert after != before
    # The token an attacker may have planted or read before login no longer works.
    stale = client.post("/auth/language", data={"language": "en", "csrf_token": form_token})
    assert stale.status_code == 400
    fresh = client.post(
        "/auth/language", data={"language": "en", "csrf_token": csrf_token_from(page)}
    )
    assert fresh.status_code == 302


# 5. Registration must not tell whether an address has an account.


def _registration(email: str, org_id: int, password: str = "long enough pw") -> dict[str, object]:
    return {
        "name": "Someone Else",
        "email": email,
        "organisation": org_id,
        "password": password,
        "confirm": password,
    }


def test_registration_does_not_reveal_existing_accounts(
    app: Flask, make_org, make_user, monkeypatch: pytest.MonkeyPatch
) -> None:
    org_id = make_org("Omnia")
    taken_id = make_user("taken@example.org", organisation_id=org_id, name="Original Name")
    with app.app_context():
        before = db.session.get(User, taken_id)
        before_state = (before.name, before.password_hash, before.organisation_id)
    hashed: list[str] = []
    real_hash = registration.hash_password
    monkeypatch.setattr(
        registration, "hash_password", lambda pw: hashed.append(pw) or real_hash(pw)
    )
    answers = []
    for email in ("taken@example.org", "free@example.org"):
        client = _client(app)
        response = client.post(
            "/auth/register", data=_registration(email, org_id, "other password")
        )
        page = client.get(response.headers["Location"])
        shown = re.sub(r'name="csrf_token" value="[^"]*"', "", page.get_data(as_text=True))
        answers.append((response.status_code, response.headers["Location"], response.data, shown))
    assert answers[0] == answers[1]
    status, location, _body, page = answers[0]
    assert status == 302 and location == "/auth/login"
    assert "If the address was free, your account is ready" in page
    assert hashed == ["other password", "other password"]  # the same work for both
    with app.app_context():
        after = db.session.get(User, taken_id)
        assert (after.name, after.password_hash, after.organisation_id) == before_state
        assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 2
    assert _login(_client(app), "taken@example.org", "other password").status_code == 401
    assert _login(_client(app), "taken@example.org", PASSWORD).status_code == 302
    assert _login(_client(app), "free@example.org", "other password").status_code == 302


def test_registration_is_throttled_per_address(app: Flask, make_org) -> None:
    org_id = make_org("Omnia")
    prober = _client(app, "203.0.113.9")
    for index in range(registration.MAX_REGISTRATIONS_PER_ADDRESS):
        response = prober.post(
            "/auth/register", data=_registration(f"p{index}@example.org", org_id)
        )
        assert response.status_code == 302
    blocked = prober.post("/auth/register", data=_registration("last@example.org", org_id))
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 59 * 60
    assert "Too many registrations" in blocked.get_data(as_text=True)
    other = _client(app, "192.0.2.50")
    assert (
        other.post("/auth/register", data=_registration("last@example.org", org_id)).status_code
        == 302
    )
    with app.app_context():
        assert (
            registration.registration_wait(
                "203.0.113.9", datetime.now(UTC) + timedelta(hours=1, seconds=1)
            )
            == 0
        )


# 6. No caching of personal pages and evidence.


def test_logged_in_pages_and_evidence_are_not_stored(app: Flask, make_user) -> None:
    user_id = make_user()
    with app.app_context():
        from campus.paths import services
        from campus.paths.models import EvidenceSubmission
        from campus.paths.models import PathCompletion
        from tests.conftest import now

        db.session.add(
            PathCompletion(
                user_id=user_id, path_id=services.get_path("basics").id, completed_at=now()
            )
        )
        db.session.commit()
    client = _client(app)
    anonymous = client.get("/")
    assert "no-store" not in anonymous.headers.get("Cache-Control", "")
    _login(client)
    client.post(
        "/paths/advanced/show-your-work/evidence",
        data={
            "description": "My plan for the workshop.",
            "file": (io.BytesIO(b"%PDF plan"), "plan.pdf"),
        },
        content_type="multipart/form-data",
    )
    with app.app_context():
        submission = db.session.execute(db.select(EvidenceSubmission)).scalar_one()
    page = client.get("/dashboard")
    download = client.get(f"/evidence/{submission.id}/file")
    for response in (page, download):
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store"
        assert "Cookie" in response.headers["Vary"]
    download.close()
    style = client.get("/static/css/campus.css")
    assert "no-store" not in style.headers.get("Cache-Control", "")
    style.close()


# 7. The SQLite database and the instance folder are private.


def test_sqlite_files_are_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    instance = tmp_path / "instance"
    monkeypatch.setattr(Flask, "auto_find_instance_path", lambda self: str(instance))
    database = instance / "campus.sqlite"
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}"}
    )
    with app.app_context():
        db.session.execute(db.text("PRAGMA journal_mode=WAL"))
        db.create_all()
        db.session.execute(db.select(User)).all()
        wal = database.with_name("campus.sqlite-wal")
        assert wal.exists() and wal.stat().st_mode & 0o777 == 0o600
        db.engine.dispose()
    assert instance.stat().st_mode & 0o777 == 0o700
    assert database.stat().st_mode & 0o777 == 0o600


def test_existing_sqlite_files_are_tightened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    instance.chmod(0o755)
    database = instance / "old.sqlite"
    database.touch()
    database.chmod(0o644)
    monkeypatch.setattr(Flask, "auto_find_instance_path", lambda self: str(instance))
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": "sqlite:///old.sqlite"}
    )
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    assert instance.stat().st_mode & 0o777 == 0o700
    assert database.stat().st_mode & 0o777 == 0o600


# 8. Loud start-up warnings for an unsafe production set-up.


def test_production_warnings(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from campus.security import production_warnings

    unsafe = create_app(
        {
            "SECRET_KEY": "k",
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "BASE_URL": "https://campus.example",
            "KEYS_DIR": str(tmp_path / "keys"),
        }
    )
    with caplog.at_level(logging.WARNING):
        warnings = production_warnings(unsafe)
    assert len(warnings) == 3
    logged = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert logged == warnings
    assert "stored unencrypted" in warnings[0] and "CAMPUS_KEY_PASSPHRASE" in warnings[0]
    assert "CAMPUS_HTTPS" in warnings[1] and "CAMPUS_TRUSTED_PROXIES" in warnings[2]
    caplog.clear()
    safe = create_app(
        {
            "SECRET_KEY": "k",
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "BASE_URL": "https://campus.example",
            "KEY_PASSPHRASE": "p",
            "SESSION_COOKIE_SECURE": True,
            "TRUSTED_PROXIES": 1,
        }
    )
    with caplog.at_level(logging.WARNING):
        assert production_warnings(safe) == []
    assert not caplog.records


def test_wsgi_entry_point_warns(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("CAMPUS_DATABASE_URL", "sqlite://")
    monkeypatch.setenv("CAMPUS_SECRET_KEY", "k")
    monkeypatch.delenv("CAMPUS_KEY_PASSPHRASE", raising=False)
    with caplog.at_level(logging.WARNING):
        runpy.run_path(str(REPO / "wsgi.py"))
    assert any("stored unencrypted" in r.getMessage() for r in caplog.records)
