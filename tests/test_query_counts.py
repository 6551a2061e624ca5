"""SQL statements per page do not grow with the rows the page shows (issue 16: no N+1).

Each page is served once with the small test content, then again after many more rows of what
it lists were added (themes, paths and modules; enrolments, completions and badges; notifications;
members of an organisation): the second request may run no more statements than the first.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from campus.auth.models import Role
from campus.auth.models import User
from campus.extensions import db
from campus.paths.models import LearningPath
from tests.conftest import now
from tests.query_count_support import add_assertions
from tests.query_count_support import add_assertions_of
from tests.query_count_support import add_catalogue
from tests.query_count_support import add_members
from tests.query_count_support import add_modules
from tests.query_count_support import add_notifications
from tests.query_count_support import add_progress

LEARNER = "learner@example.org"
LEADER = "leader@example.org"


@contextmanager
def counting(app: Flask) -> Iterator[list[str]]:
    """The SQL statements run while the block runs (the listener is removed afterwards)."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def statements_for(app: Flask, client: FlaskClient, url: str) -> list[str]:
    """Serve `url` once (a 200), and say which statements it ran."""
    with counting(app) as statements:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return statements


# --- the pages -----------------------------------------------------------------------------


@pytest.fixture
def world(app: Flask, make_user: Callable[..., int]) -> dict[str, int]:
    """A learner who completed the basics path (its badge awarded the real way) and an
    organisation leader, in one organisation."""
    from campus.outbox import services as outbox
    from tests.test_badges import complete_basics

    learner_id = make_user(LEARNER)
    with app.app_context():
        learner = db.session.get(User, learner_id)
        organisation_id = learner.organisation_id
    leader_id = make_user(LEADER, roles={Role.ORG_ADMIN}, organisation_id=organisation_id)
    with app.app_context():
        learner = db.session.get(User, learner_id)
        complete_basics(learner)
        outbox.run_committed(now())
        basics = db.session.execute(
            db.select(LearningPath).where(LearningPath.slug == "basics")
        ).scalar_one()
        # One notice of each kind that names records, so the small page already loads each kind.
        add_notifications(learner_id, add_assertions_of(learner_id)[:1], [basics], modules=1)
        db.session.commit()
    return {"learner": learner_id, "leader": leader_id, "organisation": organisation_id}


def grow(app: Flask, world: dict[str, int], n: int = 8) -> None:
    """Many more rows of everything the pages list."""
    with app.app_context():
        paths = add_catalogue(n)
        add_modules(world["learner"], "basics", 3 * n)
        add_progress(world["learner"], paths)
        assertions = add_assertions(world["learner"])
        add_notifications(world["learner"], assertions, paths)
        add_members(world["organisation"], paths, 60)  # more than a progress page (50)
        db.session.commit()


LEARNER_PAGES = [
    "/",
    "/?q=path",
    "/?audience=teachers",
    "/dashboard",
    "/paths/basics",
    "/paths/basics/welcome",
    "/badges/",
    "/badges/backpack",
    "/notifications/",
]


def leader_pages(world: dict[str, int]) -> list[str]:
    organisation = world["organisation"]
    return [
        f"/manage/organisations/{organisation}/progress",
        f"/manage/organisations/{organisation}/progress?sort=progress",
        f"/manage/organisations/{organisation}/progress.csv",
    ]


def _measure(app: Flask, client: FlaskClient, auth, world: dict[str, int]) -> dict[str, int]:  # type: ignore[no-untyped-def]
    counts = {}
    auth.login(LEARNER)
    for url in LEARNER_PAGES:
        counts[url] = len(statements_for(app, client, url))
    auth.logout()
    counts["/ (anonymous)"] = len(statements_for(app, client, "/"))
    auth.login(LEADER)
    for url in leader_pages(world):
        counts[url] = len(statements_for(app, client, url))
    auth.logout()
    return counts


def test_statements_per_page_do_not_grow_with_rows(
    app: Flask, client: FlaskClient, auth, world: dict[str, int]
) -> None:  # type: ignore[no-untyped-def]
    """Every learner and leader page runs as many statements with eight more themes (sixteen
    paths, 48 modules, 16 badges, all enrolled, half completed), 24 more modules on the shown
    path, 16 more awards, 240 more notices and 60 more colleagues as with the small content."""
    small = _measure(app, client, auth, world)
    grow(app, world)
    large = _measure(app, client, auth, world)
    grew = {url: (small[url], large[url]) for url in small if large[url] > small[url]}
    assert not grew, f"statements grew with the rows (small, large): {grew}"
    assert all(count > 0 for count in small.values())


def test_counting_sees_the_request_and_then_stops(
    app: Flask, client: FlaskClient, auth, world
) -> None:  # type: ignore[no-untyped-def]
    """The listener records one request's statements and is removed afterwards."""
    auth.login(LEARNER)
    with counting(app) as statements:
        client.get("/notifications/")
    seen = len(statements)
    assert any("FROM notification" in statement for statement in statements)
    client.get("/notifications/")
    assert len(statements) == seen


def test_a_page_of_notices_loads_what_they_name_once_per_kind(
    app: Flask, client: FlaskClient, auth, world: dict[str, int]
) -> None:  # type: ignore[no-untyped-def]
    """240 notices naming 16 badges, 16 awards and 48 modules: one query for each kind, and
    the page still names every record (the records stay loaded while the page is written)."""
    grow(app, world, n=8)
    auth.login(LEARNER)
    statements = statements_for(app, client, "/notifications/")
    assert sum("FROM module" in s for s in statements) == 1
    assert sum("FROM assertion" in s for s in statements) == 1
    assert sum("FROM badge_class" in s for s in statements) == 1
    page = client.get("/notifications/").get_data(as_text=True)
    assert "You earned the badge “Badge 7.1 en”" in page
    assert "Your evidence for “Module 2 en” was accepted" in page


def test_backpack_loads_badges_in_one_query_without_baked_files(
    app: Flask, client: FlaskClient, auth, world: dict[str, int]
) -> None:  # type: ignore[no-untyped-def]
    grow(app, world, n=4)
    auth.login(LEARNER)
    statements = statements_for(app, client, "/badges/backpack")
    assertion_queries = [s for s in statements if "FROM assertion" in s]
    assert len(assertion_queries) == 1
    assert "baked_png" not in assertion_queries[0] and "jws" not in assertion_queries[0]
    assert sum("FROM badge_class" in s for s in statements) == 1
    page = client.get("/badges/backpack").get_data(as_text=True)
    for name in ("Basics badge", "Badge 0.0 en", "Badge 3.1 en"):
        assert name in page


def test_path_page_lists_modules_without_reading_their_bodies(
    app: Flask, client: FlaskClient, auth, world: dict[str, int]
) -> None:  # type: ignore[no-untyped-def]
    from campus.paths.catalogue_cache import FINGERPRINT_SQL

    auth.login(LEARNER)
    statements = statements_for(app, client, "/paths/basics")
    module_queries = [s for s in statements if "FROM module" in s and s != FINGERPRINT_SQL]
    assert len(module_queries) == 1
    assert "body_html" not in module_queries[0] and "settings" not in module_queries[0]
    # Then the path comes from the process's copy of the content: only its check reads modules.
    again = statements_for(app, client, "/paths/basics")
    assert [s for s in again if "FROM module" in s] == [FINGERPRINT_SQL]
    # The module page still shows its own body.
    assert "Welcome" in client.get("/paths/basics/welcome").get_data(as_text=True)
