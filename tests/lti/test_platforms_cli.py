"""`flask lti platforms list|add`: the same rules as the admin page, from a terminal."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from campus.extensions import db
from campus.lti.models import LtiPlatform
from campus.lti.tool.cli import platforms_cli
from tests.conftest import BASE_URL

ADD = [
    "add",
    "--name",
    "School Canvas",
    "--issuer",
    "https://canvas.instructure.com",
    "--client-id",
    "10000000000001",
    "--login-url",
    "https://sso.canvaslms.com/api/lti/authorize_redirect",
    "--token-url",
    "https://sso.canvaslms.com/login/oauth2/token",
    "--jwks-url",
    "https://sso.canvaslms.com/api/lti/security/jwks",
    "--deployment-id",
    "1:abc",
    "--deployment-id",
    "2:def",
    "--frame-origin",
    "https://school.instructure.com",
]


def invoke(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(platforms_cli, list(args))


def stored(app: Flask) -> list[LtiPlatform]:
    with app.app_context():
        return list(db.session.execute(db.select(LtiPlatform)).scalars())


def test_add_registers_the_platform_and_prints_what_to_paste(app: Flask, make_org: Any) -> None:
    org = make_org("Omnia")
    result = invoke(app, *ADD, "--organisation", "omnia")
    assert result.exit_code == 0, result.output
    [platform] = stored(app)
    assert platform.organisation_id == org and platform.deployment_ids == ["1:abc", "2:def"]
    assert platform.frame_origins == ["https://school.instructure.com"]
    for address in ("/lti/tool/login", "/lti/tool/launch", "/lti/jwks", "/lti/tool/canvas.json"):
        assert f"{BASE_URL}{address}" in result.output
    assert "https://canvas.instructure.com https://school.instructure.com" in result.output
    # The app's next response lets that LMS frame the campus.
    policy = app.test_client().get("/").headers["Content-Security-Policy"]
    assert "https://school.instructure.com" in policy

    listing = invoke(app, "list")
    assert listing.exit_code == 0
    for text in (
        "School Canvas",
        "enabled",
        "10000000000001",
        "1:abc, 2:def",
        "https://canvas.instructure.com https://school.instructure.com",
    ):
        assert text in listing.output


def test_the_organisation_may_be_an_id_or_a_name(app: Flask, make_org: Any) -> None:
    org = make_org("Omnia")
    assert invoke(app, *ADD, "--organisation", str(org)).exit_code == 0
    second = [*ADD[:6], "other-client", *ADD[7:]]
    assert invoke(app, *second, "--organisation", "Omnia").exit_code == 0
    assert [p.organisation_id for p in stored(app)] == [org, org]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (["--frame-origin", "https://a.example; script-src *"], "is not an LMS address"),
        (["--frame-origin", "https://a.example/path"], "is not an LMS address"),
        (["--organisation", "nobody"], "no organisation"),
        (["--issuer", "lms.example"], "full web addresses"),
        (["--deployment-id", "a,b"], "comma"),
    ],
)
def test_bad_input_exits_1_and_stores_nothing(
    app: Flask, make_org: Any, change: list[str], message: str
) -> None:
    make_org("Omnia")
    args = [*ADD, "--organisation", "omnia"]
    option = change[0]
    if option in args and option not in ("--frame-origin", "--deployment-id"):
        args[args.index(option) + 1] = change[1]
    else:
        args += change
    result = invoke(app, *args)
    assert result.exit_code == 1 and message in result.output, result.output
    assert stored(app) == []


def test_a_platform_registered_twice_is_refused(app: Flask, make_org: Any) -> None:
    make_org("Omnia")
    assert invoke(app, *ADD, "--organisation", "omnia").exit_code == 0
    again = invoke(app, *ADD, "--organisation", "omnia")
    assert again.exit_code == 1 and "registered already" in again.output
    assert len(stored(app)) == 1


def test_list_says_when_there_is_none(app: Flask) -> None:
    result = invoke(app, "list")
    assert result.exit_code == 0 and result.output.strip() == "No platforms registered."
