"""Issue 16: the organisation progress page at scale. A page of members, never all of them;
bad page numbers never give a 500; the CSV is streamed, its members read in chunks; the number
of statements does not grow with the members."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import event
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite

from campus.auth.models import Organisation
from campus.auth.models import User
from campus.extensions import db
from campus.manage.progress import ProgressQuery
from campus.manage.progress import iter_progress
from campus.manage.progress import offered_paths
from campus.manage.progress import progress_table
from campus.manage.progress_overview import year_month
from campus.paths.models import Completion
from tests.conftest import now
from tests.orgprogress_support import add_members as _add_members
from tests.orgprogress_support import make_home
from tests.orgprogress_support import member_names as _names


@pytest.fixture
def home(make_org, make_user, auth) -> int:  # type: ignore[no-untyped-def]
    return make_home(make_org, make_user, auth)


def _progress(app: Flask, email: str, modules: tuple[str, ...], when=None) -> None:  # type: ignore[no-untyped-def]
    """Mark `modules` of the basics path read (enrols; the reading ones only)."""
    from campus.paths import services
    from campus.paths.kinds.read import mark_read

    with app.app_context():
        user = db.session.execute(db.select(User).where(User.email == email)).scalar_one()
        path = services.get_path("basics")
        for slug in modules:
            mark_read(user, services.get_module(path, slug), when or now())
        db.session.commit()


def _csv(response) -> list[list[str]]:  # type: ignore[no-untyped-def]
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:]), delimiter=";"))


def _statements(client, url: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The statements of one request, the streamed body included."""
    seen: list[str] = []

    def before(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    with client.application.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        response = client.get(url)
        assert response.status_code == 200, url
        response.get_data()  # a streamed body runs its queries while it is read
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return seen


def test_page_two_shows_the_next_members(client, app: Flask, home: int) -> None:
    _add_members(app, home, 58)  # + boss and Liisa = 60
    url = f"/manage/organisations/{home}/progress"
    first = _names(client.get(url).get_data(as_text=True))
    second = _names(client.get(url + "?page=2").get_data(as_text=True))
    assert len(first) == 50 and len(second) == 10
    assert not set(first) & set(second)
    everyone = sorted(first + second)
    assert first + second == everyone  # by name, page after page
    # Sorted pages continue each other too.
    by_progress = [
        name
        for page in (1, 2)
        for name in _names(
            client.get(url + f"?sort=progress&dir=desc&page={page}").get_data(as_text=True)
        )
    ]
    assert sorted(by_progress) == everyone


@pytest.mark.parametrize(
    ("page", "status"),
    [
        ("0", 200),
        ("-1", 200),
        ("x", 200),
        ("1.5", 200),
        ("99999999999999999999", 200),
        ("100000", 404),
        ("3", 404),
    ],
)
def test_bad_page_numbers_clamp_or_404(client, app: Flask, home: int, page: str, status) -> None:  # type: ignore[no-untyped-def]
    _add_members(app, home, 58)
    response = client.get(f"/manage/organisations/{home}/progress?page={page}")
    assert response.status_code == status
    if status == 200:  # anything that is not a page number is the first page
        assert "page 1 of 2" in response.get_data(as_text=True)


def test_csv_is_streamed_and_matches_the_page(client, app: Flask, home: int) -> None:
    _add_members(app, home, 3)
    _progress(app, "liisa@home.fi", ("welcome",), now() - timedelta(days=3))
    _progress(app, "member001@home.fi", ("welcome",))
    url = f"/manage/organisations/{home}/progress"
    response = client.get(url + ".csv", headers={"Accept-Language": "en"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.is_streamed
    rows = _csv(response)
    header, body = rows[0], rows[1:]
    assert header[:3] == ["Name", "E-mail", "Theme"] and len(header) == 11
    with app.app_context():
        organisation = db.session.get(Organisation, home)
        paths = offered_paths()
        table = progress_table(organisation, query=ProgressQuery(), paths=paths)
        expected = [
            [
                member.name,
                member.email,
                path.slug,
                cell.status,
                str(cell.required_done),
                str(cell.required_total),
                str(cell.percent),
            ]
            for member, cells in table.rows
            for path, cell in zip(paths, cells, strict=True)
        ]
    labels = {"Not started": "not_started", "In progress": "enrolled", "Completed": "completed"}
    got = [[r[0], r[1], r[3], labels[r[5]], r[6], r[7], r[8]] for r in body]
    assert got == expected
    # The same people, in the same order, as the page shows.
    page = _names(client.get(url).get_data(as_text=True))
    assert list(dict.fromkeys(r[0] for r in body)) == page
    liisa = next(r for r in body if r[0] == "Liisa Learner" and r[3] == "basics")
    assert liisa[5:9] == ["In progress", "1", "3", "33"] and liisa[10]


CELLS = "SELECT completion.user_id, completion.module_id"


def test_csv_reads_members_in_chunks(app: Flask, home: int) -> None:
    """iter_progress reads the members `chunk` at a time (yield_per): the cells' four queries
    run once per chunk, and the rows are the same whatever the chunk size."""
    _add_members(app, home, 5)  # 7 people
    _progress(app, "member002@home.fi", ("welcome",))
    with app.app_context():
        organisation = db.session.get(Organisation, home)
        paths = offered_paths()
        seen: list[str] = []

        def before(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
            seen.append(statement)

        event.listen(db.engine, "before_cursor_execute", before)
        try:
            rows = iter_progress(organisation, paths, chunk=3)
            first = next(rows)
            assert sum(s.startswith(CELLS) for s in seen) == 1  # only the first chunk yet
            chunked = [first, *rows]
        finally:
            event.remove(db.engine, "before_cursor_execute", before)
        assert sum(s.startswith(CELLS) for s in seen) == 3  # 7 people, 3 a chunk
        whole = list(iter_progress(organisation, paths, chunk=500))
    assert [(m.name, f, c) for m, f, c in chunked] == [(m.name, f, c) for m, f, c in whole]
    assert len(whole) == 7
    member = next(facts for m, facts, _cells in whole if m.name == "Member 002")
    assert member.modules_done == 1 and member.last_activity is not None


@pytest.mark.parametrize("suffix", ["", "?sort=progress", "?sort=activity&dir=asc", ".csv"])
def test_statements_do_not_grow_with_members(client, app: Flask, home: int, suffix: str) -> None:
    url = f"/manage/organisations/{home}/progress{suffix}"
    _add_members(app, home, 3)
    _progress(app, "member000@home.fi", ("welcome",))
    few = _statements(client, url)
    _add_members(app, home, 120, prefix="more")  # 125 people: three pages
    _progress(app, "more044@home.fi", ("welcome",))
    many = _statements(client, url)
    assert len(few) == len(many), (len(few), len(many))
    # No full user rows (password hashes, roles) for the people listed.
    assert not any("password_hash" in s and "LIMIT" in s for s in many)


def test_progress_sort_and_figures_agree(client, app: Flask, home: int) -> None:
    """The figures shown come from the page's own rows; the order from grouped SQL."""
    _add_members(app, home, 2)
    _progress(app, "member000@home.fi", ("welcome",))
    _progress(app, "member001@home.fi", ("welcome",), now() - timedelta(days=1))
    with app.app_context():
        organisation = db.session.get(Organisation, home)
        query = ProgressQuery(sort="progress", descending=True)
        table = progress_table(organisation, query=query)
        names = [member.name for member, _cells in table.rows]
        assert names[:2] == ["Member 000", "Member 001"]  # one module each, then by name
        facts = [table.facts[member.id] for member, _cells in table.rows]
        assert [f.modules_done for f in facts] == [1, 1, 0, 0]
        assert facts[0].last_activity == now()
        assert facts[1].last_activity == now() - timedelta(days=1)
        assert facts[2].last_activity is None


def test_month_key_per_database() -> None:
    statement = db.select(year_month(Completion.completed_at))
    assert "substr(completion.completed_at, 1, 7)" in str(
        statement.compile(dialect=sqlite.dialect())
    )
    assert "to_char((completion.completed_at) AT TIME ZONE 'UTC', 'YYYY-MM')" in str(
        statement.compile(dialect=postgresql.dialect())
    )


def test_an_unread_download_leaves_no_context_behind(client, app: Flask, home: int) -> None:
    """The test client (like a server) reads the first piece to start the response: that piece
    is the byte order mark, sent before the stream enters the request context. So a download
    that is never read does not break the next request."""
    _add_members(app, home, 3)
    url = f"/manage/organisations/{home}/progress.csv"
    response = client.get(url)  # never read: dropped while the next download has begun
    response = client.get(url)
    assert len(_csv(response)) == 1 + 5 * 2  # header, 5 people × 2 paths
    assert client.get(f"/manage/organisations/{home}/progress").status_code == 200
