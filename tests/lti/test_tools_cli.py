"""`flask lti tools list|add`: register a tool from the command line, with generated IDs."""

from __future__ import annotations

import pytest
from flask import Flask

from campus.extensions import db
from campus.lti.models import LtiTool
from campus.lti.platform.cli import tools_cli
from tests.conftest import BASE_URL

ADD = [
    "add",
    "--name",
    "Quiz tool",
    "--slug",
    "quiz-tool",
    "--login-url",
    "https://tool.example/login",
    "--launch-url",
    "https://tool.example/launch",
    "--jwks-url",
    "https://tool.example/jwks",
]


def count(app: Flask) -> int:
    with app.app_context():
        return db.session.execute(db.select(db.func.count()).select_from(LtiTool)).scalar()


def test_add_generates_ids_and_prints_what_to_paste(app: Flask) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(tools_cli, [*ADD, "--deep-link-url", "https://tool.example/dl"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        tool = db.session.execute(db.select(LtiTool)).scalar_one()
        assert tool.deep_link_url == "https://tool.example/dl" and tool.privacy == "name_email"
        assert tool.jwks_url == "https://tool.example/jwks"
        client_id, deployment_id = tool.client_id, tool.deployment_id
    assert f"Client ID: {client_id}" in result.output
    assert f"Deployment ID: {deployment_id}" in result.output
    assert f"Issuer: {BASE_URL}" in result.output
    for url in ("/lti/authorize", "/lti/token", "/lti/jwks", "/lti/deep-link/return"):
        assert f"{BASE_URL}{url}" in result.output
    listing = runner.invoke(tools_cli, ["list"])
    assert listing.exit_code == 0
    assert listing.output.strip() == (
        f"Quiz tool\tslug=quiz-tool\tclient_id={client_id}\tdeployment_id={deployment_id}\tenabled"
    )


def test_typed_ids_and_privacy_are_kept(app: Flask) -> None:
    runner = app.test_cli_runner()
    args = [*ADD, "--client-id", "abc", "--deployment-id", "1", "--privacy", "anonymous"]
    result = runner.invoke(tools_cli, args)
    assert result.exit_code == 0, result.output
    with app.app_context():
        tool = db.session.execute(db.select(LtiTool)).scalar_one()
        assert (tool.client_id, tool.deployment_id, tool.privacy) == ("abc", "1", "anonymous")


def test_list_without_tools(app: Flask) -> None:
    result = app.test_cli_runner().invoke(tools_cli, ["list"])
    assert result.exit_code == 0 and result.output.strip() == "No tools registered."


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"--slug": "Bad Slug"}, "--slug must be"),
        ({"--login-url": "ftp://tool.example/login"}, "--login-url must be an http"),
        ({"--launch-url": "https://tool.example:99999/x"}, "--launch-url is not a valid"),
        ({"--jwks-url": ""}, "JWKS"),
        ({"--privacy": "everything"}, "--privacy must be"),
        ({"--name": "   "}, "--name must have"),
        ({"--client-id": " "}, "--client-id must have"),
    ],
)
def test_bad_input_exits_1_and_stores_nothing(
    app: Flask, change: dict[str, str], message: str
) -> None:
    args = list(ADD)
    for option, value in change.items():
        if option in args:
            args[args.index(option) + 1] = value
        else:
            args += [option, value]
    result = app.test_cli_runner().invoke(tools_cli, args)
    assert result.exit_code == 1 and message in result.output, result.output
    assert count(app) == 0


def test_a_taken_slug_or_client_id_is_refused(app: Flask) -> None:
    runner = app.test_cli_runner()
    assert runner.invoke(tools_cli, [*ADD, "--client-id", "abc"]).exit_code == 0
    again = runner.invoke(tools_cli, [*ADD[:4], "other", *ADD[5:], "--client-id", "abc"])
    assert again.exit_code == 1 and "exists already" in again.output
    assert count(app) == 1
