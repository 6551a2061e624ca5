"""Fixtures: a fresh in-memory database per test, loaded with the small tree in tests/data."""

from __future__ import annotations

import re
from collections.abc import Callable
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from campus import create_app
from campus.auth.models import Organisation
from campus.auth.models import Role
from campus.auth.models import User
from campus.auth.services import set_roles
from campus.extensions import db
from campus.paths.content import load_tree
from campus.paths.sync import sync_tree
from tests.database_reset import SUITE_DATABASE_URL
from tests.database_reset import SharedApp

DATA = Path(__file__).parent / "data"
TEST_CONTENT = DATA / "content"
TEST_BADGES = DATA / "badges"
BASE_URL = "https://campus.test"
PASSWORD = "correct horse battery"
FAST_HASH = "pbkdf2:sha256:1000"


def load_test_content(app: Flask) -> None:
    """Sync tests/data content and badges, as `flask content sync` would."""
    from campus.badges.files import load_badges
    from campus.badges.issuers import IssuingContext
    from campus.badges.issuers import sync_badges

    tree = load_tree(TEST_CONTENT)
    report = sync_tree(tree, now())
    badges = load_badges(TEST_BADGES, tree)
    assert badges.problems == [], badges.problems
    sync_badges(badges, IssuingContext.from_config(app.config), report)


def now() -> datetime:
    return datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _app_config() -> dict[str, object]:
    config: dict[str, object] = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": SUITE_DATABASE_URL or "sqlite://",
        "WTF_CSRF_ENABLED": False,
        "PASSWORD_HASH_METHOD": FAST_HASH,
        "CONTENT_DIR": str(TEST_CONTENT),
        "BADGES_DIR": str(TEST_BADGES),
        "BASE_URL": BASE_URL,
        "ASSESSMENT_CAMPUS_CACHE_SECONDS": 0,  # every test's data is new
    }
    return config


def _per_test_dirs(tmp_path: Path) -> dict[str, str]:
    return {
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "MAIL_DIR": str(tmp_path / "mail"),
        "KEYS_DIR": str(tmp_path / "keys"),
    }


def _fresh_app(tmp_path: Path) -> Flask:
    app = create_app({**_app_config(), **_per_test_dirs(tmp_path)})
    with app.app_context():
        db.create_all()
        load_test_content(app)
        db.session.commit()
    return app


_shared: SharedApp | None = None


@pytest.fixture
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    """The app with the test content, on a database of its own for this test.

    Building an app and its schema took a quarter of a second, a third of the suite's time, so
    one app is built per process and its database is put back to the loaded content before each
    test (tests/database_reset.py), with the config and the app's caches as they were. Tests that
    add routes or blueprints mark themselves `fresh_app` and get one of their own.
    """
    global _shared
    if request.node.get_closest_marker("fresh_app"):
        if SUITE_DATABASE_URL:
            pytest.skip("builds its own app: run on SQLite only")
        yield _fresh_app(tmp_path)
        return
    if _shared is None:
        _shared = SharedApp(create_app(_app_config()), load_test_content)
    with _shared.checked_out(_per_test_dirs(tmp_path)) as app:
        yield app


@pytest.fixture
def app_ctx(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A browser that prefers English, so assertions can read the English source strings."""
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def make_org(app: Flask) -> Callable[..., int]:
    def make(name: str = "Test College", slug: str | None = None) -> int:
        with app.app_context():
            org = Organisation(name=name, slug=slug or name.lower().replace(" ", "-"))
            db.session.add(org)
            db.session.commit()
            return org.id

    return make


@pytest.fixture
def make_user(app: Flask, make_org: Callable[..., int]) -> Callable[..., int]:
    """Create a user (returns its id); password is PASSWORD."""
    from werkzeug.security import generate_password_hash

    password_hash = generate_password_hash(PASSWORD, method=FAST_HASH)
    default_org: list[int] = []

    def make(
        email: str = "learner@example.org",
        roles: set[Role] | None = None,
        organisation_id: int | None = None,
        name: str | None = None,
    ) -> int:
        if organisation_id is None:
            if not default_org:
                default_org.append(make_org())
            organisation_id = default_org[0]
        with app.app_context():
            user = User(
                email=email,
                name=name or email.split("@")[0].title(),
                password_hash=password_hash,
                organisation_id=organisation_id,
                email_verified_at=now(),
            )
            db.session.add(user)
            set_roles(user, roles or set())
            db.session.commit()
            return user.id

    return make


class AuthActions:
    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def login(self, email: str = "learner@example.org", password: str = PASSWORD):  # type: ignore[no-untyped-def]
        return self.client.post("/auth/login", data={"email": email, "password": password})

    def logout(self):  # type: ignore[no-untyped-def]
        return self.client.post("/auth/logout")


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert match, "no CSRF token in the page"
    return match[1]


@pytest.fixture
def runner_dir(tmp_path: Path) -> Path:
    """A writable copy of the test content, under a folder named `content`."""
    import shutil

    target = tmp_path / "content"
    shutil.copytree(TEST_CONTENT, target)
    return target


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "fresh_app: the test adds routes; it gets an app of its own")
    config.addinivalue_line("markers", "sqlite_only: the test is about SQLite itself")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On the PostgreSQL pass, run every test that uses the app's database, and only those."""
    if not SUITE_DATABASE_URL:
        return
    keep, drop = [], []
    for item in items:
        uses_database = "app" in getattr(item, "fixturenames", ())
        excluded = item.get_closest_marker("fresh_app") or item.get_closest_marker("sqlite_only")
        (keep if uses_database and not excluded else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
