"""The API core: problem details for every error, paging links, conditional GET, rate limits,
the OpenAPI 3.1 document and the readable docs page."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from types import SimpleNamespace

import pytest
from flask import Flask
from flask.testing import FlaskClient

from campus.api import caching
from campus.api import core
from campus.api import paging
from campus.api import ratelimit
from campus.api.problems import abort_problem
from campus.api.ratelimit_models import ApiRateCounter
from campus.api.token_models import SCOPES
from campus.extensions import db

PROBLEM = "application/problem+json"


def assert_problem(response, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status
    assert response.mimetype == PROBLEM
    body = response.get_json(force=True)
    assert body["status"] == status
    assert body["type"] == "about:blank"
    assert body["title"]
    return body


# --- problem details -----------------------------------------------------------------------


def test_unknown_api_path_is_a_problem_not_a_page(client: FlaskClient) -> None:
    body = assert_problem(client.get("/api/v1/no-such-thing"), 404)
    assert body["title"] == "Not Found"
    assert body["instance"] == "/api/v1/no-such-thing"
    # The rest of the site keeps its HTML error page.
    page = client.get("/no-such-page")
    assert page.status_code == 404 and page.mimetype == "text/html"


def test_wrong_method_is_405_with_allow(client: FlaskClient) -> None:
    response = client.delete("/api/v1/themes")
    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]


def test_validation_errors_are_422_problems_listing_the_fields(client: FlaskClient) -> None:
    response = client.get("/api/v1/themes?per_page=1000&page=0")
    body = assert_problem(response, 422)
    assert set(body["errors"]["query"]) == {"per_page", "page"}
    assert body["detail"]


@pytest.mark.fresh_app  # adds routes
def test_abort_problem_and_unexpected_errors(app: Flask) -> None:
    app.config["RENDER_500_IN_TESTS"] = True

    def teapot():  # type: ignore[no-untyped-def]
        abort_problem(409, detail="Already there.", type_="https://campus.test/problems/dup")

    def boom():  # type: ignore[no-untyped-def]
        raise RuntimeError("secret internals")

    app.add_url_rule("/api/v1/test-conflict", view_func=teapot)
    app.add_url_rule("/api/v1/test-boom", view_func=boom)
    client = app.test_client()
    conflict = client.get("/api/v1/test-conflict")
    assert conflict.status_code == 409 and conflict.mimetype == PROBLEM
    assert conflict.get_json(force=True)["type"] == "https://campus.test/problems/dup"
    assert conflict.get_json(force=True)["detail"] == "Already there."
    crash = client.get("/api/v1/test-boom")
    body = assert_problem(crash, 500)
    assert "secret" not in crash.get_data(as_text=True)
    assert body["title"] == "Internal Server Error"


def test_api_blueprints_are_csrf_exempt(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from campus import create_app
    from tests.conftest import BASE_URL

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "KEYS_DIR": str(tmp_path),
            "BASE_URL": BASE_URL,
        }
    )
    with app.app_context():
        db.create_all()

    def accepted():  # type: ignore[no-untyped-def]
        return {"ok": True}

    # A POST view of an API blueprint runs without a CSRF token (bearer tokens only) …
    app.add_url_rule("/api/v1/test-post", "api_catalogue.test_post", accepted, methods=["POST"])
    # … while the same view elsewhere on the site is refused without one.
    app.add_url_rule("/test-post", "paths.test_post", accepted, methods=["POST"])
    client = app.test_client()
    assert client.post("/api/v1/test-post").get_json() == {"ok": True}
    assert client.post("/test-post").status_code == 400


# --- paging --------------------------------------------------------------------------------


def test_paginate_a_list_gives_rfc8288_links(app: Flask) -> None:
    with app.test_request_context("/api/v1/themes?lang=fi&page=2&per_page=2"):
        items, headers = paging.paginate(list(range(7)), page=2, per_page=2)
    assert items == [2, 3]
    assert headers["X-Total-Count"] == "7"
    links = {
        part.split("; ")[1].removeprefix('rel="').rstrip('"'): part.split(";")[0].strip("<>")
        for part in headers["Link"].split(", ")
    }
    assert set(links) == {"first", "prev", "next", "last"}
    assert links["next"] == "https://campus.test/api/v1/themes?lang=fi&page=3&per_page=2"
    assert links["last"].endswith("page=4&per_page=2")
    assert links["first"].endswith("page=1&per_page=2")


def test_paginate_a_select_and_a_page_past_the_end(app: Flask) -> None:
    from campus.paths.models import Theme

    with app.test_request_context("/api/v1/themes"):
        query = db.select(Theme).order_by(Theme.position)
        items, headers = paging.paginate(query, page=1, per_page=1)
        assert [t.slug for t in items] == ["alpha"]
        assert headers["X-Total-Count"] == "2"
        assert 'rel="prev"' not in headers["Link"]
        items, headers = paging.paginate(query, page=9, per_page=1)
        assert items == []
        assert 'rel="next"' not in headers["Link"]
        assert 'page=2&per_page=1>; rel="prev"' in headers["Link"]


# --- conditional GET -----------------------------------------------------------------------


def test_conditional_json_etag_and_last_modified(app: Flask) -> None:
    changed = datetime(2026, 11, 1, 10, 0, 30, 123, tzinfo=UTC)
    with app.test_request_context("/api/v1/x"):
        first = caching.conditional_json({"a": 1}, changed)
    etag = first.headers["ETag"]
    assert first.status_code == 200 and not etag.startswith("W/")
    assert first.headers["Last-Modified"] == "Sun, 01 Nov 2026 10:00:30 GMT"
    with app.test_request_context("/api/v1/x", headers={"If-None-Match": etag}):
        assert caching.conditional_json({"a": 1}, changed).status_code == 304
    with app.test_request_context("/api/v1/x", headers={"If-None-Match": f"W/{etag}"}):
        assert caching.conditional_json({"a": 1}).status_code == 304
    with app.test_request_context("/api/v1/x", headers={"If-None-Match": etag}):
        assert caching.conditional_json({"a": 2}).status_code == 200
    since = {"If-Modified-Since": "Sun, 01 Nov 2026 10:00:30 GMT"}
    with app.test_request_context("/api/v1/x", headers=since):
        assert caching.conditional_json({"a": 1}, changed).status_code == 304
    # If-None-Match wins over If-Modified-Since.
    with app.test_request_context("/api/v1/x", headers={**since, "If-None-Match": '"other"'}):
        assert caching.conditional_json({"a": 1}, changed).status_code == 200
    with app.test_request_context("/api/v1/x"):
        private = caching.conditional_json({"a": 1}, public=False)
    assert private.headers["Cache-Control"] == "private, no-cache"


# --- rate limits ---------------------------------------------------------------------------


def test_anonymous_callers_are_limited_per_address(app: Flask, client: FlaskClient) -> None:
    app.config["API_RATE_LIMIT_ANONYMOUS"] = 3
    for left in (2, 1, 0):
        response = client.get("/api/v1/themes")
        assert response.status_code == 200
        assert f"r={left};" in response.headers["RateLimit"]
        assert response.headers["RateLimit-Policy"] == '"api";q=3;w=60'
    refused = client.get("/api/v1/themes")
    body = assert_problem(refused, 429)
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "at most 3" in body["detail"]
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "192.0.2.9"
    assert other.get("/api/v1/themes").status_code == 200
    # Pages outside the API are not counted.
    assert client.get("/").status_code == 200


def test_callers_with_a_token_count_per_client_or_token(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    app.config["API_RATE_LIMIT_ANONYMOUS"] = 1
    app.config["API_RATE_LIMIT_AUTHENTICATED"] = 2
    callers = iter([SimpleNamespace(client_id=None, token_id="t1")] * 3)
    monkeypatch.setattr(core, "_principal", lambda: next(callers))
    assert client.get("/api/v1/themes").status_code == 200
    assert client.get("/api/v1/themes").status_code == 200
    assert client.get("/api/v1/themes").status_code == 429
    monkeypatch.setattr(core, "_principal", lambda: SimpleNamespace(client_id="c9", token_id="x"))
    assert client.get("/api/v1/themes").headers["RateLimit-Policy"] == '"api";q=2;w=60'
    with app.app_context():
        keys = set(db.session.execute(db.select(ApiRateCounter.key)).scalars())
    assert keys == {"token:t1", "client:c9"}


def test_windows_are_fixed_and_old_ones_are_purged(app_ctx: None) -> None:
    start = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)
    first = ratelimit.hit("addr:x", 2, 60, start)
    assert first is not None and first.allowed and first.remaining == 1 and first.reset == 60
    ratelimit.hit("addr:x", 2, 60, start.replace(second=30))
    third = ratelimit.hit("addr:x", 2, 60, start.replace(second=50))
    assert third is not None and not third.allowed and third.reset == 10
    assert third.headers()["Retry-After"] == "10"
    fresh = ratelimit.hit("addr:x", 2, 60, start.replace(minute=1))
    assert fresh is not None and fresh.allowed and fresh.count == 1
    ratelimit.hit("addr:y", 2, 60, start.replace(minute=2, second=5))

    def windows() -> list[tuple[str, int]]:
        rows = db.session.execute(db.select(ApiRateCounter.key, ApiRateCounter.window_start))
        return sorted((key, window - int(start.timestamp())) for key, window in rows)

    # The previous window stays (another host may still count in it); older ones go.
    assert windows() == [("addr:x", 60), ("addr:y", 120)]


# --- the document and the docs page --------------------------------------------------------


def test_openapi_document_is_3_1_with_problem_errors(client: FlaskClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"] == "3.1.0"
    assert spec["info"]["title"] == "Campus API" and spec["info"]["version"] == "v1"
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["bearerAuth"]["description"],
    }
    flow = schemes["oauth2"]["flows"]["clientCredentials"]
    assert flow["tokenUrl"] == "https://campus.test/api/v1/oauth/token"
    assert set(flow["scopes"]) == set(SCOPES)
    assert flow["scopes"]["badges:write"] == core.SCOPE_DESCRIPTIONS["badges:write"]
    problem = spec["components"]["schemas"]["ProblemDetails"]
    assert {"type", "title", "status"} <= set(problem["required"])
    responses = spec["components"]["responses"]
    assert set(responses["DEFAULT_ERROR"]["content"]) == {PROBLEM}
    assert set(responses["UNPROCESSABLE_ENTITY"]["content"]) == {PROBLEM}
    operations = [
        (path, method, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]
    assert ("/api/v1/themes", "get") in {(p, m) for p, m, _op in operations}
    for path, method, op in operations:
        assert op["responses"]["default"] == {"$ref": "#/components/responses/DEFAULT_ERROR"}, (
            path,
            method,
        )
        assert op.get("summary"), (path, method)
        assert op.get("tags"), (path, method)
    assert all(tag["name"] for tag in spec["tags"])


def test_docs_page_is_rendered_from_the_document(client: FlaskClient) -> None:
    response = client.get("/api/v1/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert html.count("<h1") == 1
    assert "GET /api/v1/paths/{slug}" in html
    assert "List learning paths" in html
    assert "curl -i 'https://campus.test/api/v1/paths" in html
    assert "organisation:read" in html
    assert "<caption>Responses</caption>" in html
    assert "<code>X-Total-Count</code>" in html
    assert "cdn" not in html.lower()
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_openapi_document_validates_against_the_oas_3_1_schema(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    try:
        from openapi_spec_validator import validate

        validate(spec)
    except ImportError:  # schemathesis ships the official OAS 3.1 JSON Schema
        import jsonschema
        from schemathesis.specs.openapi.definitions import OPENAPI_31

        jsonschema.Draft202012Validator(OPENAPI_31).validate(spec)
