"""The public catalogue API: what the catalogue pages show anonymously, no more, no fewer."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from campus.extensions import db
from campus.paths.models import LearningPath
from campus.paths.models import Module
from campus.paths.models import Theme
from tests.query_count_support import add_catalogue


def _retire(app: Flask, model: type, **where: object) -> None:
    with app.app_context():
        row = db.session.execute(db.select(model).filter_by(**where)).scalars().first()
        row.is_retired = True
        db.session.commit()


def test_themes_list_with_texts_in_every_language(client: FlaskClient) -> None:
    response = client.get("/api/v1/themes")
    assert response.status_code == 200 and response.mimetype == "application/json"
    themes = response.get_json()
    assert [t["slug"] for t in themes] == ["alpha", "beta"]
    alpha = themes[0]
    assert alpha["title"] == {"fi": "Alfa-teema", "en": "Alpha theme", "sv": "Alfa-tema"}
    assert alpha["path_count"] == 1
    assert alpha["url"] == "https://campus.test/api/v1/themes/alpha"
    assert response.headers["X-Total-Count"] == "2"
    assert 'rel="last"' in response.headers["Link"]


def test_lang_picks_one_language_with_the_pages_fallback(client: FlaskClient) -> None:
    themes = client.get("/api/v1/themes?lang=sv").get_json()
    assert themes[0]["title"] == "Alfa-tema"
    assert themes[0]["summary"] == "Testiteema."  # no Swedish summary: Finnish, as the pages
    assert client.get("/api/v1/themes?lang=de").status_code == 422


def test_theme_detail_and_retired_themes(app: Flask, client: FlaskClient) -> None:
    theme = client.get("/api/v1/themes/alpha?lang=en").get_json()
    assert [p["slug"] for p in theme["paths"]] == ["basics"]
    assert theme["paths"][0]["badge"]["url"] == "https://campus.test/badges/basics"
    _retire(app, Theme, slug="alpha")
    assert client.get("/api/v1/themes/alpha").status_code == 404
    assert [t["slug"] for t in client.get("/api/v1/themes").get_json()] == ["beta"]
    # Its paths leave the catalogue list with it, as on the catalogue page.
    assert "basics" not in [p["slug"] for p in client.get("/api/v1/paths").get_json()]


def test_paths_filtered_by_theme_and_audience(client: FlaskClient) -> None:
    every = client.get("/api/v1/paths").get_json()
    assert [p["slug"] for p in every] == ["basics", "advanced"]
    beta = client.get("/api/v1/paths?theme=beta").get_json()
    assert [p["slug"] for p in beta] == ["advanced"]
    assert client.get("/api/v1/paths?theme=nope").get_json() == []
    teachers = client.get("/api/v1/paths?audience=teachers").get_json()
    assert "basics" in [p["slug"] for p in teachers]
    assert all("teachers" in p["audience"] for p in teachers)
    assert client.get("/api/v1/paths?audience=%25").status_code == 422


def test_path_detail_lists_active_modules_without_their_material(
    app: Flask, client: FlaskClient
) -> None:
    _retire(app, Module, slug="extra-reading")
    path = client.get("/api/v1/paths/basics").get_json()
    assert path["theme"] == "alpha"
    assert [m["slug"] for m in path["modules"]] == ["welcome", "check-quiz", "my-thoughts"]
    assert path["module_count"] == 3
    assert path["page_url"] == "https://campus.test/paths/basics"
    text = client.get("/api/v1/paths/basics").get_data(as_text=True)
    assert "body_html" not in text and "settings" not in text and "answer" not in text
    quiz = client.get("/api/v1/paths/basics/modules/check-quiz").get_json()
    assert quiz["kind"] == "quiz" and quiz["path"] == "basics"
    assert set(quiz) == {
        "slug",
        "position",
        "title",
        "kind",
        "minutes",
        "is_required",
        "url",
        "path",
    }
    assert client.get("/api/v1/paths/basics/modules/extra-reading").status_code == 404
    assert client.get("/api/v1/paths/basics/modules/nope").status_code == 404


def test_retired_paths_are_gone(app: Flask, client: FlaskClient) -> None:
    _retire(app, LearningPath, slug="advanced")
    response = client.get("/api/v1/paths/advanced")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert [p["slug"] for p in client.get("/api/v1/paths").get_json()] == ["basics"]


def test_conditional_get_on_catalogue_resources(app: Flask, client: FlaskClient) -> None:
    first = client.get("/api/v1/paths/basics")
    etag = first.headers["ETag"]
    again = client.get("/api/v1/paths/basics", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag
    listed = client.get("/api/v1/themes")
    assert (
        client.get("/api/v1/themes", headers={"If-None-Match": listed.headers["ETag"]}).status_code
        == 304
    )
    with app.app_context():
        path = db.session.execute(db.select(LearningPath).filter_by(slug="basics")).scalar_one()
        path.title = {**path.title, "en": "Basics, renewed"}
        db.session.commit()
    changed = client.get("/api/v1/paths/basics", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def _statements(app: Flask, client: FlaskClient, url: str) -> int:
    statements: list[str] = []

    def record(conn, cursor, statement, *rest) -> None:  # type: ignore[no-untyped-def]
        if "api_rate_counter" not in statement:
            statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len(statements)


def test_query_counts_do_not_grow_with_the_catalogue(app: Flask, client: FlaskClient) -> None:
    urls = [
        "/api/v1/themes?per_page=100",
        "/api/v1/themes/alpha",
        "/api/v1/paths?per_page=100",
        "/api/v1/paths/basics",
    ]
    before = {url: _statements(app, client, url) for url in urls}
    with app.app_context():
        grown = add_catalogue(30)
        theme = db.session.execute(db.select(Theme).filter_by(slug="alpha")).scalar_one()
        for path in grown[:10]:
            path.theme = theme
        db.session.commit()
    assert len(client.get("/api/v1/paths?per_page=100").get_json()) == 62
    after = {url: _statements(app, client, url) for url in urls}
    assert all(after[url] <= before[url] for url in urls), (before, after)
