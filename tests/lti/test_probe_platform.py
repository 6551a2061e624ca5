"""Probes from issue 8: Dynamic Registration as an SSRF tool, and LTI endpoints fed wrong types.

Every server here listens on 127.0.0.1. Where a test names another address, connections are
intercepted (`no_connections`) before any packet leaves: nothing is sent off this machine.
"""

from __future__ import annotations

import json
import re
import socket
import time
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from html import unescape
from typing import Any

import jwt
import pytest
from flask import Flask
from flask import Response
from flask import jsonify
from flask import redirect
from flask import request
from flask.testing import FlaskClient
from jwcrypto.jwk import JWK

from campus import create_app
from campus import outbound
from campus.auth.models import Organisation
from campus.auth.models import Role
from campus.auth.models import User
from campus.extensions import db
from campus.lti.constants import SUPPORTED_SCOPES
from campus.lti.errors import LtiError
from campus.lti.keys import PlatformContext
from campus.lti.models import LtiLineItem
from campus.lti.models import LtiPlatform
from campus.lti.models import LtiReplay
from campus.lti.models import LtiResourceLink
from campus.lti.models import LtiScore
from campus.lti.models import LtiTool
from campus.lti.platform.launch import hint_serializer
from campus.lti.platform.tools import tool_key_set
from campus.paths.models import Completion
from campus.paths.models import Enrollment
from campus.paths.models import LearningPath
from campus.paths.models import Module
from tests.conftest import BASE_URL
from tests.conftest import FAST_HASH
from tests.conftest import TEST_BADGES
from tests.conftest import TEST_CONTENT
from tests.conftest import load_test_content
from tests.conftest import now
from tests.lti.support import LiveServer
from tests.lti.support import add_users
from tests.lti.tool_app import make_key

NEUTRAL = (
    "The registration could not be completed with this platform. Check the address and try again."
)
CONFIG_PATH = "/.well-known/openid-configuration"


# --- a recording LMS on loopback -----------------------------------------------------------------


@dataclass
class Lms:
    base: str
    hits: list[str] = field(default_factory=list)
    mode: dict[str, str] = field(default_factory=dict)


def _lms_app(lms: Lms) -> Flask:
    app = Flask("probe-lms")

    @app.before_request
    def record() -> None:
        lms.hits.append(request.path)

    @app.get(CONFIG_PATH)
    def configuration() -> Any:
        mode = lms.mode.get("config", "ok")
        if mode == "redirect":
            return redirect(lms.mode["target"] + CONFIG_PATH)
        if mode == "garbage":
            return "<html>not an LMS</html>"
        if mode == "error":
            return Response("boom", status=500)
        if mode == "slow":
            time.sleep(2)
        if mode == "huge":
            return Response((b" " * 65536 for _ in range(40)), mimetype="application/json")
        issuer = "https://elsewhere.example" if mode == "wrong-issuer" else lms.base
        return jsonify(
            {
                "issuer": issuer,
                "authorization_endpoint": f"{lms.base}/authorize",
                "token_endpoint": f"{lms.base}/token",
                "jwks_uri": f"{lms.base}/jwks",
                "registration_endpoint": f"{lms.base}/register",
            }
        )

    @app.post("/register")
    def register() -> Any:
        mode = lms.mode.get("register", "ok")
        if mode == "redirect":
            return redirect(lms.mode["target"] + "/register", code=307)
        if mode == "refuse":
            return Response(status=401)
        return jsonify({"client_id": "probe-client", "deployment_id": "d"})

    return app


@pytest.fixture
def lms_factory() -> Iterator[Callable[[], Lms]]:
    servers: list[LiveServer] = []

    def start() -> Lms:
        server = LiveServer()
        lms = Lms(server.base)
        server.start(_lms_app(lms))
        servers.append(server)
        return lms

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def no_connections(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every outgoing TCP connect is recorded and refused before it is made."""
    attempts: list[Any] = []

    def connect(self: socket.socket, address: Any) -> None:
        attempts.append(address)
        raise ConnectionRefusedError("connections are intercepted in this test")

    monkeypatch.setattr(socket.socket, "connect", connect)
    return attempts


@pytest.fixture
def admin(client: FlaskClient, make_user: Callable[..., int], auth: Any) -> FlaskClient:
    make_user("admin@example.org", roles={Role.ADMIN})
    auth.login("admin@example.org")
    return client


def _register(app: Flask, client: FlaskClient, url: str) -> tuple[int, str]:
    """Post the confirmation form; the status and the page's error message."""
    with app.app_context():
        org_id = db.session.execute(db.select(Organisation.id)).scalars().first()
    response = client.post(
        "/lti/tool/register",
        data={
            "openid_configuration": url,
            "registration_token": "reg-token",
            "name": "Probe LMS",
            "organisation_id": org_id,
        },
    )
    page = response.get_data(as_text=True)
    flashed = re.findall(r'<p class="flash flash-error">(.*?)</p>', page, re.S)
    return response.status_code, unescape(" ".join(flashed).strip())


def _platforms(app: Flask) -> int:
    with app.app_context():
        return db.session.execute(db.select(db.func.count()).select_from(LtiPlatform)).scalar()


# --- SSRF ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "template",
    [
        "http://127.0.0.1:{port}" + CONFIG_PATH,
        "http://localhost:{port}" + CONFIG_PATH,
        "http://[::1]:{port}" + CONFIG_PATH,
        "http://[::ffff:127.0.0.1]:{port}" + CONFIG_PATH,
        "http://10.0.0.1" + CONFIG_PATH,
        "http://192.168.1.1" + CONFIG_PATH,
        "http://169.254.169.254/latest/meta-data/",
        "http://0.0.0.0:{port}" + CONFIG_PATH,
        "http://2130706433:{port}" + CONFIG_PATH,
    ],
)
def test_registration_refuses_private_targets_before_connecting(
    app: Flask,
    admin: FlaskClient,
    lms_factory: Callable[[], Lms],
    no_connections: list[Any],
    template: str,
) -> None:
    lms = lms_factory()
    port = lms.base.rsplit(":", 1)[1]
    assert not app.config.get("LTI_ALLOW_PRIVATE_ADDRESSES")  # the default
    status, message = _register(app, admin, template.format(port=port))
    assert no_connections == [] and lms.hits == []  # refused before any connection
    assert (status, message) == (502, NEUTRAL) and _platforms(app) == 0


def test_a_redirect_is_not_followed(
    app: Flask, admin: FlaskClient, lms_factory: Callable[[], Lms]
) -> None:
    app.config["LTI_ALLOW_PRIVATE_ADDRESSES"] = True  # both servers are on loopback
    first, second = lms_factory(), lms_factory()
    first.mode.update(config="redirect", target=second.base)
    assert _register(app, admin, first.base + CONFIG_PATH) == (502, NEUTRAL)
    first.mode.update(config="ok", register="redirect")
    assert _register(app, admin, first.base + CONFIG_PATH) == (502, NEUTRAL)
    assert first.hits == [CONFIG_PATH, CONFIG_PATH, "/register"]
    assert second.hits == [] and _platforms(app) == 0


def test_every_registration_failure_reads_the_same(
    app: Flask,
    admin: FlaskClient,
    lms_factory: Callable[[], Lms],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Closed port, open port with garbage, timeouts, refusals: one status, one sentence."""
    app.config["LTI_ALLOW_PRIVATE_ADDRESSES"] = True
    monkeypatch.setattr(
        outbound.OutboundPolicy,
        "from_config",
        classmethod(lambda cls, config: cls(allow_private=True, read_timeout=0.5)),
    )
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_url = f"http://127.0.0.1:{closed.getsockname()[1]}{CONFIG_PATH}"
    closed.close()
    answers = {"closed port": _register(app, admin, closed_url)}
    for config, register in [
        ("garbage", "ok"),
        ("error", "ok"),
        ("wrong-issuer", "ok"),
        ("slow", "ok"),
        ("huge", "ok"),
        ("ok", "refuse"),
    ]:
        lms = lms_factory()
        lms.mode.update(config=config, register=register)
        answers[f"{config}/{register}"] = _register(app, admin, lms.base + CONFIG_PATH)
    assert set(answers.values()) == {(502, NEUTRAL)}, answers
    assert _platforms(app) == 0
    logged = [r for r in caplog.records if r.name == "campus.lti.tool.registration"]
    assert len(logged) == len(answers) and all(r.levelname == "WARNING" for r in logged)
    assert "reg-token" not in caplog.text


def test_the_setting_lets_a_lab_register_a_loopback_lms(
    app: Flask, admin: FlaskClient, lms_factory: Callable[[], Lms]
) -> None:
    lms = lms_factory()
    assert _register(app, admin, lms.base + CONFIG_PATH)[0] == 502
    app.config["LTI_ALLOW_PRIVATE_ADDRESSES"] = True
    status, message = _register(app, admin, lms.base + CONFIG_PATH)
    assert (status, message) == (200, "") and _platforms(app) == 1


def _resolve(monkeypatch: pytest.MonkeyPatch, name: str, addresses: list[str]) -> None:
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != name:
            return real(host, port, *args, **kwargs)
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)) for address in addresses
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_only_checked_public_addresses_are_connected(
    monkeypatch: pytest.MonkeyPatch, no_connections: list[Any]
) -> None:
    """A name with a private and a public address: only the public one is tried (and the
    interception refuses it, so nothing is sent)."""
    _resolve(monkeypatch, "mixed.test", ["10.1.2.3", "8.8.8.8", "127.0.0.1"])
    with pytest.raises(outbound.OutboundError):
        outbound.fetch_json("GET", "http://mixed.test/x", outbound.OutboundPolicy())
    assert [address[0] for address in no_connections] == ["8.8.8.8"]


def test_the_address_actually_connected_is_checked(
    monkeypatch: pytest.MonkeyPatch, lms_factory: Callable[[], Lms]
) -> None:
    """Were the socket to end up elsewhere than the checked address (rebinding, a NAT
    surprise), the peer check refuses it before a request is written."""
    lms = lms_factory()
    port = int(lms.base.rsplit(":", 1)[1])
    _resolve(monkeypatch, "rebound.test", ["8.8.8.8"])
    real = outbound.create_connection
    monkeypatch.setattr(
        outbound, "create_connection", lambda address, *a, **k: real(("127.0.0.1", port), *a, **k)
    )
    with pytest.raises(outbound.OutboundError, match="non-public"):
        outbound.fetch_json("GET", f"http://rebound.test:{port}/x", outbound.OutboundPolicy())
    time.sleep(0.1)
    assert lms.hits == []


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://127.0.0.1/", "gopher://127.0.0.1:70/", "http:///x"]
)
def test_only_http_and_https_are_fetched(url: str, no_connections: list[Any]) -> None:
    with pytest.raises(outbound.OutboundError):
        outbound.fetch_json("GET", url, outbound.OutboundPolicy(allow_private=True))
    assert no_connections == []


def test_answers_are_capped_while_streaming(lms_factory: Callable[[], Lms]) -> None:
    lms = lms_factory()
    lms.mode["config"] = "huge"  # 2.5 MiB, chunked: no Content-Length to refuse early
    with pytest.raises(outbound.OutboundError, match="size limit"):
        outbound.fetch_json("GET", lms.base + CONFIG_PATH, outbound.OutboundPolicy(True))


def test_tool_key_sets_are_fetched_under_the_same_policy(
    app: Flask, no_connections: list[Any]
) -> None:
    tool = LtiTool(
        slug="t",
        name="t",
        client_id="c",
        deployment_id="d",
        oidc_login_url="https://t.invalid/l",
        launch_url="https://t.invalid/x",
        redirect_uris=[],
        jwks_url="http://169.254.169.254/jwks",
    )
    with pytest.raises(LtiError) as refused:
        tool_key_set(tool, outbound.OutboundPolicy.from_config(app.config), refresh=True)
    assert refused.value.status == 502 and no_connections == []


# --- malformed requests to the platform endpoints ---------------------------------------------

CLIENT_ID = "probe-tool"
DEPLOYMENT = "probe-deployment"
ALL_SCOPES = " ".join(sorted(SUPPORTED_SCOPES))
STAMP = "2026-11-23T12:00:00+00:00"
DELETE = object()


@dataclass
class Platform:
    app: Flask
    client: FlaskClient
    private_pem: str
    kid: str
    learner_id: int
    admin_id: int
    module_id: int
    token: str = ""
    item_url: str = ""

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def counts(self) -> tuple[int, ...]:
        with self.app.app_context():
            return tuple(
                db.session.execute(db.select(db.func.count()).select_from(model)).scalar()
                for model in (LtiLineItem, LtiScore, Completion, LtiReplay)
            )


def _assertion(platform: Platform, **changes: Any) -> str:
    claims = {
        "iss": CLIENT_ID,
        "sub": CLIENT_ID,
        "aud": f"{BASE_URL}/lti/token",
        "iat": int(time.time()),
        "exp": int(time.time()) + 300,
        "jti": str(uuid.uuid4()),
    }
    claims.update(changes)
    return jwt.encode(
        claims, platform.private_pem, algorithm="RS256", headers={"kid": platform.kid}
    )


def _token_form(platform: Platform, **changes: Any) -> dict[str, Any]:
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": _assertion(platform),
        "scope": ALL_SCOPES,
    }
    form.update(changes)
    return {k: v for k, v in form.items() if v is not DELETE}


@pytest.fixture(scope="module")
def platform() -> Iterator[Platform]:
    """One campus for the whole module, with TESTING on and RENDER_500_IN_TESTS off: an
    unexpected exception in a view is raised into the test instead of becoming a 500 page."""
    import tempfile

    private_pem, _public = make_key()
    key = JWK.from_pem(private_pem.encode())
    public = {**key.export_public(as_dict=True), "kid": key.thumbprint()}
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "TESTING": True,
                "RENDER_500_IN_TESTS": False,
                "SECRET_KEY": "probe-secret",
                "SQLALCHEMY_DATABASE_URI": "sqlite://",
                "WTF_CSRF_ENABLED": False,
                "PASSWORD_HASH_METHOD": FAST_HASH,
                "CONTENT_DIR": str(TEST_CONTENT),
                "BADGES_DIR": str(TEST_BADGES),
                "UPLOAD_DIR": f"{tmp}/uploads",
                "KEYS_DIR": f"{tmp}/keys",
                "BASE_URL": BASE_URL,
            }
        )
        with app.app_context():
            db.create_all()
            load_test_content(app)
            organisation = Organisation(slug="probe", name="Probe")
            add_users(organisation, {"learner@probe.fi": set(), "admin@probe.fi": {Role.ADMIN}})
            tool = LtiTool(
                slug="probe-tool",
                name="Probe tool",
                client_id=CLIENT_ID,
                deployment_id=DEPLOYMENT,
                oidc_login_url="https://tool.invalid/login",
                launch_url="https://tool.invalid/launch",
                redirect_uris=[],
                jwks={"keys": [public]},  # inline: no key set is fetched
            )
            db.session.add(tool)
            db.session.flush()
            path = db.session.execute(
                db.select(LearningPath).where(LearningPath.slug == "basics")
            ).scalar_one()
            module = (
                db.session.execute(
                    db.select(Module).where(Module.path_id == path.id).order_by(Module.id)
                )
                .scalars()
                .first()
            )
            ids = dict(db.session.execute(db.select(User.email, User.id)).all())
            db.session.add(
                Enrollment(user_id=ids["learner@probe.fi"], path_id=path.id, enrolled_at=now())
            )
            db.session.add(
                LtiResourceLink(
                    module_id=module.id,
                    tool_id=tool.id,
                    resource_link_id="rl-probe",
                    url=None,
                    title=None,
                    custom={},
                )
            )
            db.session.commit()
            probe = Platform(
                app,
                app.test_client(),
                private_pem,
                key.thumbprint(),
                ids["learner@probe.fi"],
                ids["admin@probe.fi"],
                module.id,
            )
        answer = probe.client.post("/lti/token", data=_token_form(probe))
        assert answer.status_code == 200, answer.get_data(as_text=True)
        probe.token = answer.get_json()["access_token"]
        created = probe.client.post(
            "/lti/ags/basics/lineitems",
            json={"label": "Quiz", "scoreMaximum": 10, "resourceLinkId": "rl-probe"},
            headers=probe.auth(),
        )
        assert created.status_code == 201, created.get_data(as_text=True)
        probe.item_url = created.get_json()["id"].removeprefix(BASE_URL)
        yield probe


def _body(changes: dict[str, Any] | str, valid: dict[str, Any]) -> str:
    if isinstance(changes, str):
        return changes
    merged = {**valid, **changes}
    return json.dumps({k: v for k, v in merged.items() if v is not DELETE})


def _send(platform: Platform, method: str, url: str, body: str, media_type: str) -> tuple[int, Any]:
    response = platform.client.open(
        url, method=method, data=body, content_type=media_type, headers=platform.auth()
    )
    return response.status_code, response.get_json(silent=True)


JSON = "application/json"
SCORE = "application/vnd.ims.lis.v1.score+json"
LINEITEM = "application/vnd.ims.lis.v2.lineitem+json"
DEEP = "[" * 100_000 + "]" * 100_000

SCORE_CASES: list[tuple[str, dict[str, Any] | str, str]] = [
    ("scoreGiven as a string", {"scoreGiven": "5"}, SCORE),
    ("scoreGiven as text", {"scoreGiven": "five"}, SCORE),
    ("scoreGiven as a list", {"scoreGiven": [5]}, SCORE),
    ("scoreGiven as an object", {"scoreGiven": {"value": 5}}, SCORE),
    ("scoreGiven as a boolean", {"scoreGiven": True}, SCORE),
    ("scoreGiven NaN", {"scoreGiven": float("nan")}, SCORE),
    ("scoreGiven Infinity", {"scoreGiven": float("inf")}, SCORE),
    ("scoreGiven beyond float", {"scoreGiven": 10**400}, SCORE),
    ("scoreGiven negative", {"scoreGiven": -1}, SCORE),
    ("scoreGiven without maximum", {"scoreMaximum": DELETE}, SCORE),
    ("scoreMaximum zero", {"scoreMaximum": 0}, SCORE),
    ("scoreMaximum zero, no score", {"scoreMaximum": 0, "scoreGiven": DELETE}, SCORE),
    ("scoreMaximum negative", {"scoreMaximum": -10}, SCORE),
    ("scoreMaximum -Infinity", {"scoreMaximum": float("-inf")}, SCORE),
    ("scoreMaximum as a string", {"scoreMaximum": "10"}, SCORE),
    ("userId as a number", {"userId": 7}, SCORE),
    ("userId as a list", {"userId": ["campus-user-1"]}, SCORE),
    ("userId missing", {"userId": DELETE}, SCORE),
    ("activityProgress as a list", {"activityProgress": ["Completed"]}, SCORE),
    ("activityProgress as an object", {"activityProgress": {"a": 1}}, SCORE),
    ("activityProgress unknown", {"activityProgress": "Done"}, SCORE),
    ("gradingProgress as a number", {"gradingProgress": 1}, SCORE),
    ("timestamp as a number", {"timestamp": 1_700_000_000}, SCORE),
    ("timestamp as text", {"timestamp": "yesterday"}, SCORE),
    ("timestamp missing", {"timestamp": DELETE}, SCORE),
    ("comment as an object", {"comment": {"text": "hi"}}, SCORE),
    ("body a list", "[1, 2]", SCORE),
    ("body a number", "42", SCORE),
    ("body null", "null", SCORE),
    ("body a string", '"score"', SCORE),
    ("body not JSON", "{", SCORE),
    ("body nested 100000 deep", DEEP, SCORE),
    ("valid JSON sent as a form", {}, "application/x-www-form-urlencoded"),
    ("valid JSON sent as text", {}, "text/plain"),
]


@pytest.mark.parametrize(
    ("case", "changes", "media_type"), SCORE_CASES, ids=[c[0] for c in SCORE_CASES]
)
def test_malformed_scores_are_refused_and_change_nothing(
    platform: Platform, case: str, changes: dict[str, Any] | str, media_type: str
) -> None:
    valid = {
        "userId": f"campus-user-{platform.learner_id}",
        "scoreGiven": 9,
        "scoreMaximum": 10,
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "timestamp": STAMP,
    }
    before = platform.counts()
    status, document = _send(
        platform, "POST", f"{platform.item_url}/scores", _body(changes, valid), media_type
    )
    assert 400 <= status < 500 and document["error"] == "invalid_request", (status, document)
    assert document["error_description"]
    assert platform.counts() == before


LINE_ITEM_CASES: list[tuple[str, dict[str, Any] | str, str]] = [
    ("label as a list", {"label": ["Quiz"]}, LINEITEM),
    ("label as a number", {"label": 5}, LINEITEM),
    ("label empty", {"label": "  "}, LINEITEM),
    ("label missing", {"label": DELETE}, LINEITEM),
    ("scoreMaximum as a string", {"scoreMaximum": "10"}, LINEITEM),
    ("scoreMaximum zero", {"scoreMaximum": 0}, LINEITEM),
    ("scoreMaximum negative", {"scoreMaximum": -1}, LINEITEM),
    ("scoreMaximum NaN", {"scoreMaximum": float("nan")}, LINEITEM),
    ("scoreMaximum Infinity", {"scoreMaximum": float("inf")}, LINEITEM),
    ("scoreMaximum as a boolean", {"scoreMaximum": True}, LINEITEM),
    ("scoreMaximum missing", {"scoreMaximum": DELETE}, LINEITEM),
    ("resourceLinkId as an object", {"resourceLinkId": {"id": "rl-probe"}}, LINEITEM),
    ("resourceLinkId as a number", {"resourceLinkId": 1}, LINEITEM),
    ("resourceId as a list", {"resourceId": ["a"]}, LINEITEM),
    ("tag as an object", {"tag": {"a": 1}}, LINEITEM),
    ("body a list", "[]", LINEITEM),
    ("body null", "null", LINEITEM),
    ("body nested 100000 deep", DEEP, LINEITEM),
    ("valid JSON sent as text", {}, "text/plain"),
]


@pytest.mark.parametrize(
    ("case", "changes", "media_type"), LINE_ITEM_CASES, ids=[c[0] for c in LINE_ITEM_CASES]
)
def test_malformed_line_items_are_refused_and_change_nothing(
    platform: Platform, case: str, changes: dict[str, Any] | str, media_type: str
) -> None:
    valid = {"label": "Another", "scoreMaximum": 5, "resourceId": "r", "tag": "t"}
    before = platform.counts()
    status, document = _send(
        platform, "POST", "/lti/ags/basics/lineitems", _body(changes, valid), media_type
    )
    assert 400 <= status < 500 and document["error"] == "invalid_request", (status, document)
    assert platform.counts() == before
    # The same label, scoreMaximum or body as an update of the existing item changes nothing.
    if case.split()[0] in {"label", "scoreMaximum", "body", "valid"} and "missing" not in case:
        status, document = _send(platform, "PUT", platform.item_url, _body(changes, {}), media_type)
        assert 400 <= status < 500 and document["error"] == "invalid_request", (status, document)
        with platform.app.app_context():
            item = db.session.execute(db.select(LtiLineItem)).scalars().first()
            assert (item.label, item.score_maximum) == ("Quiz", 10.0)


def test_a_valid_score_still_lands(platform: Platform) -> None:
    """The control for the cases above: the same endpoint takes a well-formed score."""
    body = {
        "userId": f"campus-user-{platform.learner_id}",
        "scoreGiven": 2,
        "scoreMaximum": 10,
        "activityProgress": "InProgress",
        "gradingProgress": "Pending",
        "timestamp": "2026-11-23T12:00:00Z",
    }
    lines, scores, completions, replays = platform.counts()
    status, _ = _send(platform, "POST", f"{platform.item_url}/scores", json.dumps(body), SCORE)
    assert status == 204 and platform.counts() == (lines, scores + 1, completions, replays)


@pytest.mark.parametrize(
    "query", ["page=100000000000000000000", "page=99999999999&limit=100", "page=-3&limit=abc"]
)
def test_member_pages_out_of_range_are_not_errors(platform: Platform, query: str) -> None:
    response = platform.client.get(f"/lti/nrps/basics/memberships?{query}", headers=platform.auth())
    assert response.status_code in (200, 400), response.get_data(as_text=True)
    assert response.get_json()


def test_line_item_ids_beyond_64_bits_are_unknown(platform: Platform) -> None:
    huge = "/lti/ags/basics/lineitems/99999999999999999999999"
    assert platform.client.get(huge, headers=platform.auth()).status_code == 404
    assert platform.client.get(f"{huge}/results", headers=platform.auth()).status_code == 404


TOKEN_CASES: list[tuple[str, Callable[[Platform], Any], str]] = [
    ("scope repeated", lambda p: {**_token_form(p), "scope": [ALL_SCOPES, ALL_SCOPES]}, "form"),
    (
        "grant_type repeated",
        lambda p: {**_token_form(p), "grant_type": ["client_credentials"] * 2},
        "form",
    ),
    (
        "client_assertion repeated",
        lambda p: {**_token_form(p), "client_assertion": [_assertion(p), _assertion(p)]},
        "form",
    ),
    ("client_assertion not a JWT", lambda p: _token_form(p, client_assertion="abc"), "form"),
    ("client_assertion missing", lambda p: _token_form(p, client_assertion=DELETE), "form"),
    ("scope missing", lambda p: _token_form(p, scope=DELETE), "form"),
    ("scope unknown", lambda p: _token_form(p, scope="openid"), "form"),
    ("grant_type wrong", lambda p: _token_form(p, grant_type="password"), "form"),
    (
        "exp far in the future",
        lambda p: _token_form(p, client_assertion=_assertion(p, exp=10**12)),
        "form",
    ),
    ("jti a list", lambda p: _token_form(p, client_assertion=_assertion(p, jti=["a"])), "form"),
    ("the form sent as JSON", lambda p: _token_form(p), "json"),
    ("the form sent as multipart", lambda p: _token_form(p), "multipart"),
]


@pytest.mark.parametrize(("case", "make", "encoding"), TOKEN_CASES, ids=[c[0] for c in TOKEN_CASES])
def test_malformed_token_requests_get_an_oauth_error(
    platform: Platform, case: str, make: Callable[[Platform], Any], encoding: str
) -> None:
    form = make(platform)
    before = platform.counts()
    if encoding == "json":
        response = platform.client.post("/lti/token", json=form)
    elif encoding == "multipart":
        response = platform.client.post("/lti/token", data=form, content_type="multipart/form-data")
    else:
        response = platform.client.post("/lti/token", data=form)
    document = response.get_json()
    assert 400 <= response.status_code < 500, (response.status_code, document)
    expected = {400: {"invalid_request", "unsupported_grant_type", "invalid_scope"}}
    assert document["error"] in expected.get(response.status_code, {"invalid_client"}), document
    assert response.headers["Content-Type"].startswith("application/json")
    assert platform.counts() == before  # no token id was recorded


def _deep_link_jwt(platform: Platform, **changes: Any) -> str:
    with platform.app.app_context():
        hint = hint_serializer(PlatformContext.from_config(platform.app.config)).dumps(
            {"user": platform.admin_id, "module": platform.module_id, "deep_link": True}
        )
    claims = {
        "iss": CLIENT_ID,
        "aud": BASE_URL,
        "iat": int(time.time()),
        "exp": int(time.time()) + 300,
        "nonce": str(uuid.uuid4()),
        "https://purl.imsglobal.org/spec/lti/claim/message_type": "LtiDeepLinkingResponse",
        "https://purl.imsglobal.org/spec/lti/claim/deployment_id": DEPLOYMENT,
        "https://purl.imsglobal.org/spec/lti-dl/claim/data": hint,
        "https://purl.imsglobal.org/spec/lti-dl/claim/content_items": [
            {"type": "ltiResourceLink", "url": "https://tool.invalid/quiz", "title": "Quiz"}
        ],
    }
    claims.update(changes)
    return jwt.encode(
        claims, platform.private_pem, algorithm="RS256", headers={"kid": platform.kid}
    )


ITEMS = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"
DEEP_LINK_CASES: list[tuple[str, dict[str, Any]]] = [
    ("content_items an object", {ITEMS: {"type": "ltiResourceLink"}}),
    ("content_items of numbers", {ITEMS: [1, 2]}),
    ("content_items of strings", {ITEMS: ["ltiResourceLink"]}),
    ("url a list", {ITEMS: [{"type": "ltiResourceLink", "url": ["https://x.invalid"]}]}),
    ("url a number", {ITEMS: [{"type": "ltiResourceLink", "url": 5}]}),
    ("data an object", {"https://purl.imsglobal.org/spec/lti-dl/claim/data": {"user": 1}}),
    ("nonce a list", {"nonce": ["n"]}),
]


@pytest.mark.parametrize(("case", "changes"), DEEP_LINK_CASES, ids=[c[0] for c in DEEP_LINK_CASES])
def test_malformed_deep_link_responses_are_refused(
    platform: Platform, case: str, changes: dict[str, Any]
) -> None:
    response = platform.client.post(
        "/lti/deep-link/return", data={"JWT": _deep_link_jwt(platform, **changes)}
    )
    assert 400 <= response.status_code < 500
    with platform.app.app_context():
        assert db.session.execute(db.select(LtiResourceLink.url)).scalar_one() is None


def test_a_valid_deep_link_response_still_lands(platform: Platform) -> None:
    response = platform.client.post("/lti/deep-link/return", data={"JWT": _deep_link_jwt(platform)})
    assert response.status_code == 302
    with platform.app.app_context():
        link = db.session.execute(db.select(LtiResourceLink)).scalar_one()
        assert link.url == "https://tool.invalid/quiz"
        link.url = None  # leave the module as the other cases expect it
        db.session.commit()
