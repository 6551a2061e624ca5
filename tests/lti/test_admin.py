"""Tool registration, platform configuration, disabling and key rotation."""

from __future__ import annotations

from flask import Flask

from campus.auth.models import Role
from campus.extensions import db
from campus.lti import keys as lti_keys
from campus.lti.models import LtiTool
from campus.lti.platform import tools
from tests.conftest import BASE_URL
from tests.conftest import PASSWORD
from tests.conftest import now

TOOL = {
    "name": "Quiz tool",
    "slug": "quiz-tool",
    "client_id": "abc-123",
    "deployment_id": "1",
    "oidc_login_url": "https://tool.example/login",
    "launch_url": "https://tool.example/launch",
    "deep_link_url": "https://tool.example/dl",
    "redirect_uris": "https://tool.example/other\n",
    "jwks_url": "https://tool.example/jwks",
    "jwks": "",
}


def admin_client(app: Flask, make_user):  # type: ignore[no-untyped-def]
    make_user("root@campus.fi", {Role.ADMIN})
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.post("/auth/login", data={"email": "root@campus.fi", "password": PASSWORD})
    return client


def test_admin_registers_tools_and_sees_platform_configuration(app: Flask, make_user) -> None:
    client = admin_client(app, make_user)
    page = client.get("/lti/tools").get_data(as_text=True)
    for url in ("/lti/authorize", "/lti/token", "/lti/jwks", "/lti/deep-link/return"):
        assert f"{BASE_URL}{url}" in page
    assert client.post("/lti/tools", data=TOOL).status_code == 302
    assert client.post("/lti/tools", data=TOOL).status_code == 400  # same slug and client id
    no_keys = client.post(
        "/lti/tools", data={**TOOL, "slug": "x", "client_id": "x", "jwks_url": ""}
    )
    assert no_keys.status_code == 400 and "JWKS" in no_keys.get_data(as_text=True)
    with app.app_context():
        tool = db.session.execute(db.select(LtiTool)).scalar_one()
        assert tool.allowed_redirect_uris == {
            "https://tool.example/launch",
            "https://tool.example/dl",
            "https://tool.example/other",
        }
        tool_id = tool.id
    client.post(f"/lti/tools/{tool_id}/toggle")
    with app.app_context():
        assert db.session.get(LtiTool, tool_id).is_enabled is False


def test_tool_pages_need_admin(client, auth, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user()
    auth.login()
    assert client.get("/lti/tools").status_code == 403
    assert client.post("/lti/tools", data=TOOL).status_code == 403


def test_key_rotation_keeps_old_key_published(app: Flask) -> None:
    runner = app.test_cli_runner()
    with app.app_context():
        context = lti_keys.PlatformContext.from_config(app.config)
        first = lti_keys.active_key(context, now())
        db.session.commit()
        first_kid = first.kid
    result = runner.invoke(args=["lti", "rotate-key"])
    assert result.exit_code == 0
    client = app.test_client()
    keys = client.get("/lti/jwks").get_json()["keys"]
    assert len(keys) == 2 and first_kid in {k["kid"] for k in keys}
    assert all("d" not in k for k in keys)  # public halves only
    with app.app_context():
        later = now().replace(year=now().year + 1)
        assert [k["kid"] for k in lti_keys.jwks(later)["keys"]] != [first_kid]
        assert first_kid not in {k["kid"] for k in lti_keys.jwks(later)["keys"]}
    assert runner.invoke(args=["lti", "prune"]).output.strip() == "0 expired record(s) removed."
    with app.app_context():
        from datetime import timedelta

        from campus.lti.models import LtiReplay
        from campus.lti.models import LtiStoreEntry

        db.session.add(LtiReplay(key="old", expires_at=now() - timedelta(days=1)))
        db.session.add(LtiReplay(key="fresh", expires_at=now().replace(year=2999)))
        db.session.add(
            LtiStoreEntry(key="stale", value={"a": 1}, expires_at=now() - timedelta(days=1))
        )
        db.session.commit()
    assert runner.invoke(args=["lti", "prune"]).output.strip() == "2 expired record(s) removed."


def test_a_rotated_tool_key_is_fetched_again(app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A key id missing from the cached key set makes the campus fetch the set once more."""
    from campus.lti.models import LtiTool as Tool

    calls: list[str] = []
    sets = [{"keys": [{"kid": "old"}]}, {"keys": [{"kid": "new"}]}]

    def fake_fetch(method, url, policy):  # type: ignore[no-untyped-def]
        calls.append(url)
        return sets[min(len(calls), 2) - 1]

    monkeypatch.setattr(tools.outbound, "fetch_json", fake_fetch)
    policy = tools.OutboundPolicy()
    tools._JWKS_CACHE.clear()
    tool = Tool(
        slug="t",
        name="t",
        client_id="c",
        deployment_id="d",
        oidc_login_url="https://t/l",
        launch_url="https://t/x",
        redirect_uris=[],
        jwks_url="https://t/jwks",
    )
    assert tools.tool_key_set(tool, policy)["keys"][0]["kid"] == "old"
    assert tools.tool_key_set(tool, policy)["keys"][0]["kid"] == "old"  # cached
    assert tools.tool_key_set(tool, policy, refresh=True)["keys"][0]["kid"] == "new"
    assert calls == ["https://t/jwks", "https://t/jwks"]
    tools._JWKS_CACHE.clear()
