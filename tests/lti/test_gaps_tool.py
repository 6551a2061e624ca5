"""Issue 15, tool side: gaps 10, 11, 13 and 14 (the campus as an LTI tool).

Login initiation is driven with the Flask test client (the LMS's browser redirect); launches,
deep linking and grade passback go through the independent peers of tests/lti (an
lti1p3platform LMS) and a small recording AGS service written here.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import jwt
import pytest
import requests
from flask import Flask
from flask import jsonify
from flask import request
from flask.testing import FlaskClient

from campus.extensions import db
from campus.lti.models import LtiGradeTarget
from campus.lti.models import LtiPlatform
from campus.lti.models import LtiStoreEntry
from campus.lti.tool.passback import completed_payload
from campus.lti.tool.passback import deliver_grade
from tests.conftest import BASE_URL
from tests.conftest import now
from tests.lti import test_tool
from tests.lti.platform_app import CLIENT_ID
from tests.lti.platform_app import DEPLOYMENT
from tests.lti.support import LiveServer
from tests.lti.support import auto_post_form
from tests.lti.test_tool import World
from tests.lti.test_tool import identities
from tests.lti.test_tool import start

world = test_tool.world  # the live LMS peer and campus (a fixture shared with test_tool)

ISSUER = "https://lms.test"
DL_DATA = "https://purl.imsglobal.org/spec/lti-dl/claim/data"
DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
CONTENT_ITEMS = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"
AGS_SCOPES = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
]


# --- gaps 10 and 11: login initiation --------------------------------------------------------


@pytest.fixture
def registered(app: Flask, make_org: Callable[..., int]) -> None:
    with app.app_context():
        db.session.add(
            LtiPlatform(
                name="LMS",
                issuer=ISSUER,
                client_id="client-1",
                auth_login_url=f"{ISSUER}/authorize",
                auth_token_url=f"{ISSUER}/token",
                jwks_url=f"{ISSUER}/jwks",
                deployment_ids=["d-1"],
                organisation_id=make_org(),
            )
        )
        db.session.commit()


GOOD_LOGIN = {
    "iss": ISSUER,
    "login_hint": "user-1",
    "target_link_uri": f"{BASE_URL}/lti/tool/launch",
    "lti_message_hint": "hint-1",
    "client_id": "client-1",
}


def _initiate(client: FlaskClient, method: str, params: dict[str, str]) -> Any:
    if method == "GET":
        return client.get("/lti/tool/login", query_string=params)
    return client.post("/lti/tool/login", data=params)


def _stored(app: Flask) -> int:
    with app.app_context():
        return db.session.execute(db.select(db.func.count()).select_from(LtiStoreEntry)).scalar()


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"iss": None}, "no issuer"),
        ({"iss": "https://unknown-lms.test"}, "This learning platform is not registered"),
        ({"login_hint": None}, "no login hint"),
        ({"target_link_uri": None}, "no target link"),
        ({"target_link_uri": "https://elsewhere.test/launch"}, "does not point at this campus"),
        # gap 11: a known issuer with a client id it never registered
        ({"client_id": "client-forged"}, "This client ID is not registered"),
    ],
)
def test_gap10_11_bad_login_initiation_is_a_clear_400_and_records_nothing(
    app: Flask,
    client: FlaskClient,
    registered: None,
    method: str,
    change: dict[str, str | None],
    message: str,
) -> None:
    params = {k: v for k, v in {**GOOD_LOGIN, **change}.items() if v is not None}
    response = _initiate(client, method, params)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page and "The launch was refused" in page
    assert "Traceback" not in page and "OIDCException" not in page
    assert "Location" not in response.headers
    assert _stored(app) == 0


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("client_id", ["client-1", None])
def test_gap11_good_login_initiation_keeps_the_registered_client(
    app: Flask, client: FlaskClient, registered: None, method: str, client_id: str | None
) -> None:
    """The control case: a registered (or absent) client id goes on to the LMS's authorize URL."""
    params = {k: v for k, v in {**GOOD_LOGIN, "client_id": client_id}.items() if v is not None}
    response = _initiate(client, method, params)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{ISSUER}/authorize"
    query = parse_qs(location.query)
    assert query["client_id"] == ["client-1"] and query["login_hint"] == ["user-1"]
    assert _stored(app) > 0  # the nonce is kept: refusals above really stored nothing


def test_gap11_a_second_registration_of_the_issuer_is_chosen_by_client_id(
    app: Flask, client: FlaskClient, registered: None, make_org: Callable[..., int]
) -> None:
    with app.app_context():
        db.session.add(
            LtiPlatform(
                name="LMS 2",
                issuer=ISSUER,
                client_id="client-2",
                auth_login_url=f"{ISSUER}/authorize-2",
                auth_token_url=f"{ISSUER}/token",
                jwks_url=f"{ISSUER}/jwks",
                deployment_ids=["d-2"],
                organisation_id=make_org("Other", "other"),
            )
        )
        db.session.commit()
    chosen = _initiate(client, "GET", {**GOOD_LOGIN, "client_id": "client-2"})
    assert chosen.status_code == 302 and "/authorize-2?" in chosen.headers["Location"]
    forged = _initiate(client, "POST", {**GOOD_LOGIN, "client_id": "client-3"})
    assert forged.status_code == 400 and _stored(app) > 0  # only the good one stored


# --- gap 11 at launch: the id_token's audience --------------------------------------------


def _resign(world: World, fields: dict[str, str], change: Callable[[dict], None]) -> dict:
    claims = jwt.decode(fields["id_token"], options={"verify_signature": False})
    header = jwt.get_unverified_header(fields["id_token"])
    change(claims)
    token = jwt.encode(
        claims, world.lms_private_pem, algorithm="RS256", headers={"kid": header["kid"]}
    )
    return {**fields, "id_token": token}


def test_gap11_launch_for_another_audience_is_refused(world: World) -> None:
    """pylti1p3 compares the token's audience with the registration it finds: verified here
    with one registration of the issuer and with two (then found by client id)."""
    forged_audiences = ["client-forged", ["client-forged"], ["client-forged", CLIENT_ID]]
    browser = requests.Session()
    for aud in forged_audiences:
        action, fields = start(world, browser)
        response = browser.post(
            action, data=_resign(world, fields, lambda c, aud=aud: c.update(aud=aud))
        )
        assert response.status_code == 400 and "embed-note" not in response.text, aud
    with world.app.app_context():
        first = db.session.execute(db.select(LtiPlatform)).scalar_one()
        db.session.add(
            LtiPlatform(
                name="Same LMS, other client",
                issuer=first.issuer,
                client_id="client-other",
                auth_login_url=first.auth_login_url,
                auth_token_url=first.auth_token_url,
                jwks_url=first.jwks_url,
                deployment_ids=[DEPLOYMENT],
                organisation_id=first.organisation_id,
            )
        )
        db.session.commit()
    for aud in forged_audiences:
        action, fields = start(world, browser)
        response = browser.post(
            action, data=_resign(world, fields, lambda c, aud=aud: c.update(aud=aud))
        )
        assert response.status_code == 400 and "embed-note" not in response.text, aud
    assert identities(world) == 0
    action, fields = start(world, browser)  # the control: the registered audience is let in
    assert browser.post(action, data=fields).status_code == 200 and identities(world) == 1


# --- gaps 13 and 14: the deep-linking answer -----------------------------------------------


def _pick(world: World, browser: requests.Session, fields: dict[str, str], action: str) -> Any:
    import re

    picker = browser.post(action, data=fields)
    assert picker.status_code == 200, picker.text[:500]
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', picker.text)[1]
    launch_id = re.search(r'name="launch_id" value="([^"]+)"', picker.text)[1]
    answer = browser.post(
        f"{world.campus}/lti/tool/deep-link",
        data={"csrf_token": token, "launch_id": launch_id, "target": "module:basics/welcome"},
    )
    assert answer.status_code == 200 and 'name="JWT"' in answer.text
    return auto_post_form(answer.text)


def test_gap14_data_claim_is_omitted_without_data_and_echoed_with_it(world: World) -> None:
    browser = requests.Session()
    action, fields = start(world, browser, kind="deeplink", target="")
    without_data = _resign(world, fields, lambda claims: claims[DL_SETTINGS].pop("data"))
    return_url, answer = _pick(world, browser, without_data, action)
    claims = jwt.decode(answer["JWT"], options={"verify_signature": False})
    assert DL_DATA not in claims and claims[CONTENT_ITEMS]
    assert browser.post(return_url, data=answer).json() == {"accepted": 1}
    action, fields = start(world, browser, kind="deeplink", target="")
    _, answer = _pick(world, browser, fields, action)
    claims = jwt.decode(answer["JWT"], options={"verify_signature": False})
    assert claims[DL_DATA] == "opaque-data-7"


def test_gap13_deep_link_items_offer_a_titled_line_item(world: World) -> None:
    browser = requests.Session()
    browser.headers["Accept-Language"] = "en"
    action, fields = start(world, browser, kind="deeplink", target="")
    return_url, answer = _pick(world, browser, fields, action)
    assert browser.post(return_url, data=answer).json() == {"accepted": 1}
    [item] = world.lms_app.content_items  # what the LMS received and validated
    assert item["title"] == "Welcome"
    assert item["lineItem"] == {
        "scoreMaximum": 100,
        "label": "Welcome",
        "resourceId": "module:basics/welcome",
    }
    assert item["custom"] == {"campus_target": "module:basics/welcome"}


# --- gap 13: the column the passback creates ----------------------------------------------


@pytest.fixture
def ags_peer() -> Iterator[tuple[str, dict[str, list[Any]]]]:
    """An LMS's token and AGS endpoints that record what the campus sends them."""
    received: dict[str, list[Any]] = {"lineitems": [], "scores": []}
    server = LiveServer()
    peer = Flask("recording-ags")

    @peer.post("/token")
    def token() -> Any:
        return jsonify({"access_token": "t-1", "token_type": "Bearer", "expires_in": 3600})

    @peer.route("/lineitems", methods=["GET", "POST"])
    def lineitems() -> Any:
        if request.method == "GET":
            return jsonify([])
        body = request.get_json(force=True)
        received["lineitems"].append(body)
        return jsonify({**body, "id": f"{server.base}/lineitems/9"})

    @peer.post("/lineitems/9/scores")
    def scores() -> Any:
        received["scores"].append(request.get_json(force=True))
        return jsonify({})

    server.start(peer)
    try:
        yield server.base, received
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("target", "label"), [("module:basics/welcome", "Tervetuloa"), ("path:basics", "Perusteet")]
)
def test_gap13_passback_labels_the_lms_column_with_the_title(
    app: Flask,
    make_user: Callable[..., int],
    ags_peer: tuple[str, dict[str, list[Any]]],
    target: str,
    label: str,
) -> None:
    base, received = ags_peer
    user_id = make_user()
    app.config["LTI_ALLOW_PRIVATE_ADDRESSES"] = True  # the peer listens on 127.0.0.1
    with app.app_context():
        platform = LtiPlatform(
            name="LMS",
            issuer=base,
            client_id="client-1",
            auth_login_url=f"{base}/authorize",
            auth_token_url=f"{base}/token",
            jwks_url=f"{base}/jwks",
            deployment_ids=["d-1"],
            organisation_id=1,
        )
        db.session.add(platform)
        db.session.flush()
        grade_target = LtiGradeTarget(
            platform_id=platform.id,
            user_id=user_id,
            target=target,
            sub="lms-user-1",
            ags={"scope": AGS_SCOPES, "lineitems": f"{base}/lineitems"},  # no `lineitem`
        )
        db.session.add(grade_target)
        db.session.commit()
        deliver_grade(completed_payload(grade_target, now()), now(), 10)
    [column] = received["lineitems"]
    assert column["label"] == label  # the campus's default language (fi), not the machine key
    assert column["scoreMaximum"] == 100
    assert column["resourceId"] == target and column["tag"] == target
    [score] = received["scores"]
    assert score["userId"] == "lms-user-1" and score["scoreGiven"] == score["scoreMaximum"]
