"""`GET /lti/tool/canvas.json`: the developer-key configuration a Canvas admin loads by URL."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from campus.lti.constants import Scope
from tests.conftest import BASE_URL


def _urls(value: Any, key: str = "") -> list[tuple[str, str]]:
    """Every (key, value) in the JSON whose key names an address."""
    if isinstance(value, dict):
        return [pair for k, v in value.items() for pair in _urls(v, k)]
    if isinstance(value, list):
        return [pair for v in value for pair in _urls(v, key)]
    if key.endswith(("_url", "_uri")):
        return [(key, value)]
    return []


def test_canvas_configuration_is_public_and_points_at_the_campus(client: FlaskClient) -> None:
    response = client.get("/lti/tool/canvas.json")  # nobody is logged in
    assert response.status_code == 200 and response.mimetype == "application/json"
    config = response.get_json()
    assert config["title"] and config["description"]
    assert config["oidc_initiation_url"] == f"{BASE_URL}/lti/tool/login"
    assert config["target_link_uri"] == f"{BASE_URL}/lti/tool/launch"
    assert config["public_jwk_url"] == f"{BASE_URL}/lti/jwks"
    assert "public_jwk" not in config  # Canvas fetches the keys, so a rotation needs no edit
    urls = _urls(config)
    assert len(urls) == 5 and all(url.startswith(f"{BASE_URL}/") for _key, url in urls), urls
    assert config["scopes"] == [Scope.LINEITEM.value, Scope.SCORE.value, Scope.RESULT.value]


def test_canvas_placements_are_the_deep_linking_picker_only(client: FlaskClient) -> None:
    [extension] = client.get("/lti/tool/canvas.json").get_json()["extensions"]
    assert extension["platform"] == "canvas.instructure.com"
    assert extension["privacy_level"] == "public"
    assert extension["domain"] == "campus.test" and extension["tool_id"] == "campus"
    placements = extension["settings"]["placements"]
    assert {p["placement"] for p in placements} == {"link_selection", "assignment_selection"}
    for placement in placements:
        assert placement["message_type"] == "LtiDeepLinkingRequest"
        assert placement["target_link_uri"] == f"{BASE_URL}/lti/tool/launch"
        assert placement["text"]


def test_the_platforms_page_links_the_canvas_configuration(
    client: FlaskClient, make_user: Any, auth: Any
) -> None:
    from campus.auth.models import Role

    make_user("root@campus.fi", {Role.ADMIN})
    auth.login("root@campus.fi")
    page = client.get("/lti/tool/platforms").get_data(as_text=True)
    assert f'href="{BASE_URL}/lti/tool/canvas.json"' in page
    assert f"<code>{BASE_URL}/lti/tool/register</code>" in page


def test_canvas_configuration_follows_base_url(app: Flask) -> None:
    app.config["BASE_URL"] = "https://kampus.example.fi"
    config = app.test_client().get("/lti/tool/canvas.json", base_url="https://evil.example").json
    assert config["oidc_initiation_url"] == "https://kampus.example.fi/lti/tool/login"
    assert config["extensions"][0]["domain"] == "kampus.example.fi"
