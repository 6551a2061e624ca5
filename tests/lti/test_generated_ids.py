"""A tool registered by hand without client or deployment ID gets generated ones, shown to the
admin to paste into the tool; typed IDs are kept as before."""

from __future__ import annotations

import re

from flask import Flask

from campus.extensions import db
from campus.lti.models import LtiTool
from campus.lti.platform import tools
from tests.conftest import BASE_URL
from tests.lti.test_admin import TOOL
from tests.lti.test_admin import admin_client

NO_IDS = {**TOOL, "client_id": "", "deployment_id": ""}


def stored(app: Flask, slug: str) -> tuple[int, str, str]:
    with app.app_context():
        tool = db.session.execute(db.select(LtiTool).where(LtiTool.slug == slug)).scalar_one()
        return tool.id, tool.client_id, tool.deployment_id


def test_empty_ids_are_generated_and_shown(app: Flask, make_user) -> None:  # type: ignore[no-untyped-def]
    client = admin_client(app, make_user)
    response = client.post("/lti/tools", data=NO_IDS)
    tool_id, client_id, deployment_id = stored(app, "quiz-tool")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/lti/tools/{tool_id}")
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", client_id)
    assert re.fullmatch(r"[0-9a-f]{12}", deployment_id)
    page = client.get(f"/lti/tools/{tool_id}").get_data(as_text=True)
    assert "Give the tool its client ID and deployment ID." in page  # the flash
    assert client_id in page and deployment_id in page
    for url in ("/lti/authorize", "/lti/token", "/lti/jwks", "/lti/deep-link/return"):
        assert f"{BASE_URL}{url}" in page  # everything to paste, on one page
    listing = client.get("/lti/tools").get_data(as_text=True)
    assert client_id in listing and deployment_id in listing
    assert "/lti/tools/offer" in listing  # the way to registration without typing


def test_generated_ids_differ_between_tools(app: Flask, make_user) -> None:  # type: ignore[no-untyped-def]
    client = admin_client(app, make_user)
    assert client.post("/lti/tools", data=NO_IDS).status_code == 302
    second = {**NO_IDS, "slug": "quiz-tool-b", "name": "Quiz B"}
    assert client.post("/lti/tools", data=second).status_code == 302
    first_ids, second_ids = stored(app, "quiz-tool")[1:], stored(app, "quiz-tool-b")[1:]
    assert first_ids[0] != second_ids[0] and first_ids[1] != second_ids[1]


def test_typed_ids_are_kept(app: Flask, make_user) -> None:  # type: ignore[no-untyped-def]
    client = admin_client(app, make_user)
    typed = {**TOOL, "client_id": " typed-client ", "deployment_id": "7"}
    assert client.post("/lti/tools", data=typed).status_code == 302
    assert stored(app, "quiz-tool")[1:] == ("typed-client", "7")
    # The typed client ID is taken: a second tool with it is refused, nothing stored.
    again = client.post("/lti/tools", data={**typed, "slug": "other"})
    assert again.status_code == 400 and "exists already" in again.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(db.select(db.func.count()).select_from(LtiTool)).scalar() == 1


def test_free_slug_is_made_from_the_name_and_unique(app: Flask, app_ctx: None) -> None:
    assert tools.free_slug("Äidinkieli: Quiz!") == "aidinkieli-quiz"
    assert tools.free_slug("?!") == "tool"
    db.session.add(
        LtiTool(
            slug="quiz",
            name="Quiz",
            client_id="c",
            deployment_id="d",
            oidc_login_url="https://t/l",
            launch_url="https://t/x",
            redirect_uris=[],
        )
    )
    db.session.flush()
    assert tools.free_slug("Quiz") == "quiz-2"
    assert len(tools.free_slug("x" * 300)) <= 80
