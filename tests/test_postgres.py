"""The same schema and the same rules on a real PostgreSQL server.

Set CAMPUS_TEST_POSTGRES_URL (postgresql+psycopg://user:pw@host:port/db; the database is wiped).
`.ci/run` starts a server and sets it; without it these tests are skipped locally and fail in CI.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import upgrade

from campus import create_app
from campus.auth.models import Organisation
from campus.auth.models import User
from campus.extensions import db
from campus.manage.services import organisation_progress
from campus.paths import services
from campus.paths.content import load_tree
from campus.paths.kinds.quiz import submit_quiz
from campus.paths.kinds.read import mark_read
from campus.paths.kinds.reflection import submit_reflection
from campus.paths.models import Completion
from campus.paths.models import CompletionSource
from campus.paths.models import PathCompletion
from campus.paths.sync import sync_tree
from tests.conftest import FAST_HASH
from tests.conftest import TEST_CONTENT
from tests.conftest import now

URL = os.environ.get("CAMPUS_TEST_POSTGRES_URL")


@pytest.fixture
def pg_app() -> Iterator[Flask]:
    if not URL:
        if os.environ.get("CI"):
            pytest.fail("CAMPUS_TEST_POSTGRES_URL is not set in CI: .ci/run must start PostgreSQL")
        pytest.skip("CAMPUS_TEST_POSTGRES_URL not set")
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "k",
            "SQLALCHEMY_DATABASE_URI": URL,
            "PASSWORD_HASH_METHOD": FAST_HASH,
        }
    )
    with app.app_context():
        with db.engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
        upgrade()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_migrations_match_models_on_postgres(pg_app: Flask) -> None:
    with pg_app.app_context(), db.engine.connect() as connection:
        assert connection.dialect.name == "postgresql"
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []
        columns = {c["name"]: c for c in sa.inspect(connection).get_columns("completion")}
        assert columns["completed_at"]["type"].timezone is True


def _seed(app: Flask) -> int:
    with app.app_context():
        sync_tree(load_tree(TEST_CONTENT), now())
        org = Organisation(slug="pg", name="PG College")
        user = User(
            email="pg@example.org",
            name="Pg",
            password_hash="x",
            organisation=org,
            email_verified_at=datetime.now(UTC),
        )
        db.session.add(user)
        db.session.commit()
        return user.id


def test_sync_completion_and_progress_on_postgres(pg_app: Flask) -> None:
    user_id = _seed(pg_app)
    with pg_app.app_context():
        report = sync_tree(load_tree(TEST_CONTENT), now())
        db.session.commit()
        assert not report.changed  # idempotent on PostgreSQL too
        user = db.session.get(User, user_id)
        path = services.get_path("basics")
        mark_read(user, services.get_module(path, "welcome"), now())
        mark_read(user, services.get_module(path, "welcome"), now())
        submit_quiz(
            user,
            services.get_module(path, "check-quiz"),
            {"q1": ["b"], "q2": ["a", "c"], "q3": ["a"]},
            now(),
        )
        _answer, result = submit_reflection(
            user,
            services.get_module(path, "my-thoughts"),
            "Long enough reflection for the test path.",
            now(),
        )
        db.session.commit()
        assert result.path_completion is not None
        stored = db.session.execute(db.select(PathCompletion)).scalar_one()
        assert stored.completed_at == now()  # timezone-aware round trip
        table = organisation_progress(user.organisation)
        [(row_user, cells)] = table.rows
        assert row_user.id == user_id
        assert [c.status for c in cells] == ["completed", "not_started"]


def test_concurrent_completions_record_once(pg_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two requests completing the same module at the same moment: one row, both succeed."""
    user_id = _seed(pg_app)
    barrier = threading.Barrier(2, timeout=10)
    original = services._find_completion
    first_call = threading.local()

    def racing_find(user, module):  # type: ignore[no-untyped-def]
        found = original(user, module)
        if not getattr(first_call, "done", False):
            first_call.done = True
            barrier.wait()  # both threads have seen "not completed yet"
        return found

    monkeypatch.setattr(services, "_find_completion", racing_find)
    outcomes: list[bool] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with pg_app.app_context():
                user = db.session.get(User, user_id)
                module = services.get_module(services.get_path("basics"), "welcome")
                result = services.complete_module(user, module, CompletionSource.SELF, now())
                db.session.commit()
                outcomes.append(result.created)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert sorted(outcomes) == [False, True]
    with pg_app.app_context():
        assert db.session.execute(db.select(db.func.count()).select_from(Completion)).scalar() == 1


def test_badges_on_postgres(pg_app: Flask) -> None:
    """Awarding, baked images (bytea), JSON evidence and revocation on a real server."""
    from campus.badges import issuers
    from campus.badges import ob2
    from campus.badges import revocation
    from campus.badges import verify
    from campus.badges.baking import unbake
    from campus.badges.files import load_badges
    from campus.badges.models import Assertion
    from campus.paths.sync import SyncReport
    from tests.conftest import BASE_URL
    from tests.conftest import TEST_BADGES

    user_id = _seed(pg_app)
    pg_app.config.update(BASE_URL=BASE_URL, KEYS_DIR=str(Path(tempfile.mkdtemp()) / "keys"))
    with pg_app.app_context():
        context = issuers.IssuingContext.from_config(pg_app.config)
        issuers.sync_badges(
            load_badges(TEST_BADGES, load_tree(TEST_CONTENT)), context, SyncReport()
        )
        db.session.commit()
        user = db.session.get(User, user_id)
        path = services.get_path("basics")
        mark_read(user, services.get_module(path, "welcome"), now())
        submit_quiz(
            user,
            services.get_module(path, "check-quiz"),
            {"q1": ["b"], "q2": ["a", "c"], "q3": ["a"]},
            now(),
        )
        submit_reflection(
            user,
            services.get_module(path, "my-thoughts"),
            "Long enough reflection for the test path.",
            now(),
        )
        db.session.commit()
        from campus.outbox.services import run_committed

        run_committed(now())  # the path badge follows the completion's commit
    with pg_app.app_context():
        assertion = db.session.execute(db.select(Assertion)).scalar_one()
        assert unbake(bytes(assertion.baked_png)) == assertion.jws
        assert assertion.evidence[0]["narrative"].startswith("Completed the path")
        urls = ob2.Urls(BASE_URL)
        assert verify.verify_image(bytes(assertion.baked_svg), urls, now(), "pg@example.org").valid
        revocation.revoke(assertion, "Test", now())
        db.session.commit()
        assert not verify.verify_text(assertion.jws, urls, now()).valid


@pytest.mark.parametrize(
    ("method", "url", "data"),
    [
        ("POST", "/auth/login", {"email": "a\x00@example.org", "password": "x"}),
        ("GET", "/lti/tool/login?iss=%00&login_hint=x&target_link_uri=x", None),
        ("GET", "/paths/a%00b", None),
        (
            "POST",
            "/lti/token",
            {
                "grant_type": "client_credentials",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                # an unsigned JWT whose sub holds a NUL
                "client_assertion": "eyJhbGciOiJub25lIn0.eyJzdWIiOiJcdTAwMDAifQ.",
                "scope": "https://purl.imsglobal.org/spec/lti-ags/scope/score",
            },
        ),
    ],
)
def test_nul_bytes_are_refused_not_a_500_on_postgres(
    pg_app: Flask, method: str, url: str, data: dict[str, str] | None
) -> None:
    """PostgreSQL cannot store or compare NUL in text (psycopg DataError): a 4xx, never a 500."""
    pg_app.config["WTF_CSRF_ENABLED"] = False
    response = pg_app.test_client().open(url, method=method, data=data)
    assert 400 <= response.status_code < 500, (url, response.status_code)
