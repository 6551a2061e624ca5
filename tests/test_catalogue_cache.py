"""The per-process copy of the content (campus.paths.catalogue_cache): pages show new content
after a sync, whichever process ran it, and the copy never carries one learner's data to another.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from campus.auth.models import User
from campus.extensions import db
from campus.paths import catalogue_cache
from campus.paths import services
from campus.paths.models import CompletionSource
from campus.paths.models import LearningPath
from tests.conftest import now

OTHER = "other@example.org"


def _sync(app: Flask, folder: Path) -> None:
    result = app.test_cli_runner().invoke(args=["content", "sync", "--dir", str(folder)])
    assert result.exit_code == 0, result.output


def _rename_basics(folder: Path, title: str) -> None:
    manifest = folder / "paths/basics/path.toml"
    manifest.write_text(manifest.read_text().replace('en = "Basics"', f'en = "{title}"'))


def _page(client: FlaskClient, url: str) -> str:
    response = client.get(url, headers={"Accept-Language": "en"})
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def test_pages_show_a_sync_run_in_this_process(
    app: Flask, client: FlaskClient, auth, make_user, runner_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    make_user()
    auth.login()
    assert "Basics" in _page(client, "/") and "Basics, renamed" not in _page(client, "/")
    _rename_basics(runner_dir, "Basics, renamed")
    shutil.rmtree(runner_dir / "paths/basics/extra-reading")
    manifest = runner_dir / "paths/basics/path.toml"
    manifest.write_text(manifest.read_text().replace(', "extra-reading"]', "]"))
    _sync(app, runner_dir)
    assert "Basics, renamed" in _page(client, "/")
    path_page = _page(client, "/paths/basics")
    assert "Basics, renamed" in path_page and "/paths/basics/extra-reading" not in path_page
    assert client.get("/paths/basics/extra-reading").status_code == 404


def test_pages_show_a_sync_run_by_another_process(
    app: Flask, client: FlaskClient, runner_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another host's sync leaves this process's copy alone: the per-request check (ids,
    hashes, retired flags) must notice the change by itself."""
    assert "Basics" in _page(client, "/paths/basics")
    before = app.extensions["campus_catalogue"].value
    monkeypatch.setattr(catalogue_cache, "forget", lambda: None)  # as if it ran elsewhere
    _rename_basics(runner_dir, "Basics elsewhere")
    _sync(app, runner_dir)
    assert app.extensions["campus_catalogue"].value is before  # not dropped by the sync
    assert "Basics elsewhere" in _page(client, "/paths/basics")
    assert "Basics elsewhere" in _page(client, "/")


def test_an_edit_without_a_new_hash_in_this_process_is_shown(
    app: Flask, client: FlaskClient
) -> None:
    assert "Basics" in _page(client, "/")
    with app.app_context():
        path = db.session.execute(db.select(LearningPath).filter_by(slug="basics")).scalar_one()
        path.title = {**path.title, "en": "Basics, edited"}
        db.session.commit()
    assert "Basics, edited" in _page(client, "/")


def test_the_copy_is_reused_while_the_content_is_unchanged(app: Flask, client: FlaskClient) -> None:
    _page(client, "/")
    first = app.extensions["campus_catalogue"].value
    _page(client, "/paths/basics")
    _page(client, "/")
    assert app.extensions["campus_catalogue"].value is first


def test_one_learners_progress_never_reaches_another(
    app: Flask, client: FlaskClient, auth, make_user: Callable[..., int]
) -> None:  # type: ignore[no-untyped-def]
    learner_id = make_user()
    make_user(OTHER)
    with app.app_context():
        learner = db.session.get(User, learner_id)
        basics = services.get_path("basics")
        services.enroll(learner, basics, now())
        services.complete_module(
            learner, services.get_module(basics, "welcome"), CompletionSource.SELF, now()
        )
        db.session.commit()
    auth.login()
    mine = {url: _page(client, url) for url in ("/", "/dashboard", "/paths/basics")}
    assert "Progress on Basics" in mine["/"]
    assert "Basics" in mine["/dashboard"] and "Leave this path" in mine["/paths/basics"]
    auth.logout()
    auth.login(OTHER)
    theirs = {url: _page(client, url) for url in ("/", "/dashboard", "/paths/basics")}
    assert "Progress on" not in theirs["/"]
    assert "You have no paths in progress." in theirs["/dashboard"]
    assert "Leave this path" not in theirs["/paths/basics"]
    assert "Enrol and start" in theirs["/paths/basics"]
    welcome = _page(client, "/paths/basics/welcome")
    assert "✓ Done" not in welcome
    # The copy holds content only: no learner's ids, rows or progress.
    copy = app.extensions["campus_catalogue"].value[2]
    assert not hasattr(copy, "progress") and not hasattr(copy, "user_id")
    assert all(type(path).__name__ == "PathEntry" for path in copy.paths.values())


def test_texts_looked_up_once_per_request_follow_a_change_of_language(app: Flask) -> None:
    """Templates' `_`, the labels and `|tr` keep their lookups for the request, and still
    follow flask_babel.refresh() (a language chosen during the request) and the material
    language chosen in the session."""
    from flask import render_template_string
    from flask import session
    from flask_babel import refresh

    from campus.i18n import MATERIAL_LANGUAGE_KEY
    from campus.labels import AUDIENCE_LABELS

    page = "{{ _('Catalogue') }}|{{ labels.AUDIENCE_LABELS['teachers'] }}|{{ texts|tr }}"
    texts = {"fi": "suomeksi", "en": "in English"}
    with app.test_request_context("/", headers={"Accept-Language": "fi"}):
        assert render_template_string(page, texts=texts) == "Tarjonta|Opettajat|suomeksi"
        assert str(AUDIENCE_LABELS["teachers"]) == "Opettajat"
        session["locale"] = "sv"
        refresh()
        assert render_template_string(page, texts=texts) == "Utbud|Lärare|suomeksi"
        session[MATERIAL_LANGUAGE_KEY] = "en"
        assert render_template_string(page, texts=texts).endswith("|in English")


def test_learner_pages_run_few_statements_once_the_copy_is_made(
    app: Flask, client: FlaskClient, auth, make_user: Callable[..., int]
) -> None:  # type: ignore[no-untyped-def]
    """Issue 16: the content comes from the copy (one check), the learner's progress from one
    statement; the rest is the login, the header's unread count and the page's own."""
    from tests.test_query_counts import statements_for

    make_user()
    auth.login()
    client.post("/paths/basics/enrol")
    limits = {
        "/": 5,  # check, login, progress, latest assessment, unread count
        "/dashboard": 5,  # check, login, progress, plan, unread count (no path completed)
        "/paths/basics": 5,  # check, login, progress, badge and award, unread count
        "/paths/basics/welcome": 5,  # check, login, the module's row, progress, unread count
    }
    for url in limits:
        _page(client, url)
    counts = {url: len(statements_for(app, client, url)) for url in limits}
    assert all(counts[url] <= limits[url] for url in limits), counts
