"""With the database gone (PostgreSQL restarting, failing over), people and API clients get a
503 that says to try again, with Retry-After, not a 500 and never a stack trace."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from campus import create_app
from tests.conftest import FAST_HASH

# Nothing listens on the discard port: every connection is refused at once.
UNREACHABLE = "postgresql+psycopg://campus:campus@127.0.0.1:9/campus?connect_timeout=2"


@pytest.fixture
def unreachable_app(tmp_path: Path) -> Flask:
    return create_app(
        {
            "TESTING": True,
            "RENDER_500_IN_TESTS": True,
            "SECRET_KEY": "k",
            "SQLALCHEMY_DATABASE_URI": UNREACHABLE,
            "PASSWORD_HASH_METHOD": FAST_HASH,
            "KEYS_DIR": str(tmp_path / "keys"),
        }
    )


def test_a_page_says_try_again_in_the_visitors_language(unreachable_app: Flask) -> None:
    client = unreachable_app.test_client()
    response = client.get("/", headers={"Accept-Language": "fi"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    page = response.get_data(as_text=True)
    assert "Traceback" not in page and "psycopg" not in page
    english = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "cannot reach its database just now" in english
    assert "cannot reach its database just now" not in page  # Finnish, not the source


def test_a_signed_in_visitor_gets_the_page_too(unreachable_app: Flask) -> None:
    """Loading the user needs the database as well: the page is drawn as for a visitor."""
    client = unreachable_app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = "1:token"
    response = client.get("/dashboard", headers={"Accept-Language": "en"})
    assert response.status_code == 503
    assert "cannot reach its database" in response.get_data(as_text=True)


def test_api_clients_get_problem_details(unreachable_app: Flask) -> None:
    response = unreachable_app.test_client().get("/api/v1/paths")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 503


def test_a_bad_query_is_still_a_500_not_a_503(tmp_path: Path) -> None:
    """Only an unreachable or busy database is a 503: a programming error stays a 500."""
    from sqlalchemy import text

    from campus.extensions import db

    app = create_app(
        {
            "TESTING": True,
            "RENDER_500_IN_TESTS": True,
            "SECRET_KEY": "k",
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "KEYS_DIR": str(tmp_path / "keys"),
        }
    )

    @app.get("/broken-query")
    def broken_query() -> str:
        db.session.execute(text("SELECT no_such_column FROM no_such_table"))
        return "unreachable"

    assert app.test_client().get("/broken-query").status_code == 500


def test_a_connection_lost_after_the_answer_does_not_turn_it_into_a_500(
    app: Flask, client, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL restarted while the page was being sent: closing the session at the end of
    the request fails, but the answer already made stands."""
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import Session

    closing = Session.close
    failures: list[str] = []

    def close_on_a_dead_connection(session: Session) -> None:
        if not failures:
            failures.append("closed")
            closing(session)
            raise OperationalError("ROLLBACK", {}, Exception("server closed the connection"))
        closing(session)

    monkeypatch.setattr(Session, "close", close_on_a_dead_connection)
    response = client.get("/")
    assert response.status_code == 200
    assert failures == ["closed"]  # the failing close really ran
    assert client.get("/").status_code == 200  # and the next request works
