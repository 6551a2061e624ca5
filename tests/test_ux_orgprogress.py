"""Issue 13, defect 9: the organisation progress page pages, sorts, searches and draws charts;
the CSV opens in Finnish Excel; the query count does not grow with the people on a page."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import event

from campus.auth.models import Organisation
from campus.auth.models import User
from campus.extensions import db
from tests.conftest import now
from tests.orgprogress_support import add_members as _add_members
from tests.orgprogress_support import make_home
from tests.orgprogress_support import member_names


def _complete_welcome(app: Flask, email: str, when=None) -> None:  # type: ignore[no-untyped-def]
    from campus.paths import services
    from campus.paths.kinds.read import mark_read

    with app.app_context():
        user = db.session.execute(db.select(User).where(User.email == email)).scalar_one()
        mark_read(user, services.get_module(services.get_path("basics"), "welcome"), when or now())
        db.session.commit()


@pytest.fixture
def home(make_org, make_user, auth) -> int:  # type: ignore[no-untyped-def]
    return make_home(make_org, make_user, auth)


_names = member_names


def test_pages_of_fifty_with_prev_next_links(client, app: Flask, home: int) -> None:
    _add_members(app, home, 53)  # + boss and Liisa = 55
    first = client.get(f"/manage/organisations/{home}/progress")
    assert first.status_code == 200
    html = first.get_data(as_text=True)
    assert len(_names(html)) == 50
    assert 'rel="next"' in html and "page 1 of 2" in html
    assert 'rel="next"' in first.headers["Link"] and "page=2" in first.headers["Link"]
    second = client.get(f"/manage/organisations/{home}/progress?page=2")
    assert len(_names(second.get_data(as_text=True))) == 5
    assert 'rel="prev"' in second.headers["Link"] and "next" not in second.headers["Link"]
    assert client.get(f"/manage/organisations/{home}/progress?page=3").status_code == 404
    assert client.get(f"/manage/organisations/{home}/progress?page=x").status_code == 200


def test_sort_by_progress_and_activity_with_aria_sort(client, app: Flask, home: int) -> None:
    _add_members(app, home, 3)
    _complete_welcome(app, "member002@home.fi", now() - timedelta(days=40))
    _complete_welcome(app, "member001@home.fi")
    url = f"/manage/organisations/{home}/progress"
    by_name = client.get(url).get_data(as_text=True)
    assert _names(by_name)[0] == "Aino Boss"
    assert re.search(
        r'<th scope="col" class="op-sortable" aria-sort="ascending">\s*<a[^>]*>Name', by_name
    )
    by_progress = client.get(url + "?sort=progress&dir=desc").get_data(as_text=True)
    assert _names(by_progress)[:2] == ["Member 001", "Member 002"]  # ties broken by name
    assert 'aria-sort="descending"' in by_progress
    by_activity = client.get(url + "?sort=activity&dir=desc").get_data(as_text=True)
    assert _names(by_activity)[:2] == ["Member 001", "Member 002"]
    oldest_first = client.get(url + "?sort=activity&dir=asc").get_data(as_text=True)
    assert _names(oldest_first)[-2:] == ["Member 002", "Member 001"]  # never active first
    assert "Last activity" in by_name and "No activity" in by_name
    # Header links keep the filters and toggle the direction of the current sort.
    assert "sort=progress&amp;dir=asc" in by_progress
    assert client.get(url + "?sort=bogus&dir=sideways").status_code == 200


def test_search_by_name_or_email(client, app: Flask, home: int) -> None:
    _add_members(app, home, 3)
    html = client.get(f"/manage/organisations/{home}/progress?q=liisa").get_data(as_text=True)
    assert _names(html) == ["Liisa Learner"]
    assert 'type="search" id="q" name="q" value="liisa"' in html
    none = client.get(f"/manage/organisations/{home}/progress?q=%25_nobody").get_data(as_text=True)
    assert _names(none) == [] and "No staff members match" in none


def test_charts_with_table_alternatives(client, app: Flask, home: int) -> None:
    _complete_welcome(app, "liisa@home.fi")
    html = client.get(f"/manage/organisations/{home}/progress").get_data(as_text=True)
    for chart in ("op-themes", "op-paths", "op-months-modules", "op-months-paths"):
        assert f'role="img" aria-labelledby="{chart}-title {chart}-desc"' in html
        assert f'<title id="{chart}-title">' in html
    assert html.count("<details") == 3 and "Completions per month" in html
    assert "1 in progress" in html  # Liisa is doing Basics
    assert 'style="' not in html  # strict CSP: classes only
    assert "<strong>1</strong> active in the last 30 days" in html


def test_csv_opens_in_finnish_excel(client, app: Flask, home: int) -> None:
    _complete_welcome(app, "liisa@home.fi")
    response = client.get(
        f"/manage/organisations/{home}/progress.csv", headers={"Accept-Language": "fi"}
    )
    assert response.status_code == 200 and response.mimetype == "text/csv"
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:]), delimiter=";"))
    assert len(rows[0]) == 11 and all(len(row) == 11 for row in rows)
    liisa = [row for row in rows if row[0] == "Liisa Learner"]
    assert {row[3] for row in liisa} == {"basics", "advanced"}
    basics = next(row for row in liisa if row[3] == "basics")
    assert basics[5] == "Kesken"  # "In progress", translated
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", basics[10])  # last activity
    assert "enrolled" not in body and "not_started" not in body
    searched = client.get(f"/manage/organisations/{home}/progress.csv?q=liisa")
    assert {row.split(";")[0] for row in searched.get_data(as_text=True).splitlines()[1:]} == {
        "Liisa Learner"
    }


def test_authorisation_unchanged(client, app: Flask, home: int, auth) -> None:
    with app.app_context():
        other = db.session.execute(
            db.select(Organisation.id).where(Organisation.name == "Other College")
        ).scalar_one()
    base = f"/manage/organisations/{other}/progress"
    for url in (base, base + "?sort=progress&page=1", base + ".csv", base + ".csv?q=outi"):
        assert client.get(url).status_code == 403, url
    html = client.get(f"/manage/organisations/{home}/progress").get_data(as_text=True)
    assert "Outi Other" not in html
    auth.logout()
    auth.login("liisa@home.fi")
    assert client.get(f"/manage/organisations/{home}/progress?page=2").status_code == 403


def _statements(client, url: str) -> int:  # type: ignore[no-untyped-def]
    count = 0

    def before(*_args) -> None:  # type: ignore[no-untyped-def]
        nonlocal count
        count += 1

    with client.application.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return count


def test_query_count_does_not_grow_with_rows(client, app: Flask, home: int) -> None:
    url = f"/manage/organisations/{home}/progress"
    _add_members(app, home, 3)  # 5 people
    _complete_welcome(app, "member000@home.fi")
    five = _statements(client, url)
    _add_members(app, home, 45, prefix="more")  # 50 people
    _complete_welcome(app, "more044@home.fi")
    fifty = _statements(client, url)
    assert len(_names(client.get(url).get_data(as_text=True))) == 50
    assert five == fifty, (five, fifty)
    assert _statements(client, url + ".csv") == _statements(client, url + ".csv?q=more")


def test_progress_over_time_counts_completions_per_month(
    client, app: Flask, home: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    import campus.manage.views as views

    monkeypatch.setattr(views, "utcnow", now)  # "today" is 23 November 2026
    _complete_welcome(app, "liisa@home.fi", now() - timedelta(days=60))  # September
    html = client.get(f"/manage/organisations/{home}/progress").get_data(as_text=True)
    rows = re.findall(
        r'<tr><th scope="row">(\w+ \d{4})</th><td>(\d+)</td><td>(\d+)</td></tr>', html
    )
    assert rows[0][0] == "December 2025" and rows[-1][0] == "November 2026"
    assert ("September 2026", "1", "0") in rows
    assert sum(int(modules) for _month, modules, _paths in rows) == 1
    assert "<strong>0</strong> active in the last 30 days" in html
