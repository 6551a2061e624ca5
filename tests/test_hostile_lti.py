"""Hostile bodies and tokens on the LTI endpoints (platform and tool side): never a 500."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from tests.conftest import BASE_URL
from tests.lti import test_dynreg_refusals as registration_refusals
from tests.lti import test_gaps_deep_linking as deep_linking
from tests.lti import test_gaps_tool as tool_side
from tests.lti.test_gaps_ags import campus  # noqa: F401 - a fixture

HOSTILE = settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

text = st.one_of(
    st.sampled_from(["", "\x00", "x" * 20_000, "null", "[]", "{}", "-1", "1e999", "../.."]),
    st.text(max_size=30),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=10,
)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# JWTs that look right at a glance: three parts, a JSON header naming a key that may not exist.
jwts = st.builds(
    lambda header, claims, signature: ".".join(
        [b64(json.dumps(header).encode()), b64(json.dumps(claims).encode()), b64(signature)]
    ),
    st.fixed_dictionaries(
        {"alg": st.sampled_from(["RS256", "none", "HS256", "ES256", ""]), "kid": text}
    ),
    st.dictionaries(
        st.sampled_from(["iss", "aud", "sub", "exp", "iat", "nonce", "azp"]) | text, json_values
    ),
    st.binary(max_size=64),
)
tokens = jwts | text

CONTEXTS = st.sampled_from(["1", "ctx", "%00", "a" * 300])
ITEMS = st.sampled_from([1, 2, 999999999])


@st.composite
def requests(draw: Any) -> tuple[str, str, dict[str, Any]]:
    """(method, url, keyword arguments for the test client)."""
    context, item = draw(CONTEXTS), draw(ITEMS)
    bearer = {"Authorization": "Bearer " + draw(tokens).replace("\n", "")}
    body = draw(json_values)
    kind = draw(
        st.sampled_from(
            [
                "token",
                "register",
                "lineitems-get",
                "lineitems-post",
                "lineitem-put",
                "lineitem-delete",
                "results",
                "scores",
                "memberships",
                "deep-link-return",
                "tool-launch",
                "tool-login",
                "tool-deep-link",
                "tool-register",
                "authorize",
            ]
        )
    )
    ags = f"/lti/ags/{context}/lineitems"
    json_types = st.sampled_from(
        [
            "application/json",
            "application/vnd.ims.lis.v1.score+json",
            "application/vnd.ims.lis.v2.lineitem+json",
            "text/plain",
        ]
    )
    as_json = {"data": json.dumps(body), "content_type": draw(json_types), "headers": bearer}
    form = draw(
        st.dictionaries(
            st.sampled_from(
                [
                    "id_token",
                    "JWT",
                    "state",
                    "grant_type",
                    "client_assertion",
                    "client_assertion_type",
                    "scope",
                    "iss",
                    "login_hint",
                    "target_link_uri",
                    "lti_message_hint",
                    "client_id",
                    "openid_configuration",
                    "registration_token",
                    "redirect_uri",
                    "nonce",
                    "response_type",
                    "response_mode",
                    "prompt",
                ]
            ),
            tokens,
        )
    )
    choices = {
        "token": ("POST", "/lti/token", {"data": form}),
        "register": ("POST", "/lti/register", as_json),
        "lineitems-get": ("GET", ags, {"headers": bearer, "query_string": form}),
        "lineitems-post": ("POST", ags, as_json),
        "lineitem-put": ("PUT", f"{ags}/{item}", as_json),
        "lineitem-delete": ("DELETE", f"{ags}/{item}", {"headers": bearer}),
        "results": ("GET", f"{ags}/{item}/results", {"headers": bearer, "query_string": form}),
        "scores": ("POST", f"{ags}/{item}/scores", as_json),
        "memberships": ("GET", f"/lti/nrps/{context}/memberships", {"headers": bearer}),
        "deep-link-return": ("POST", "/lti/deep-link/return", {"data": form}),
        "tool-launch": ("POST", "/lti/tool/launch", {"data": form}),
        "tool-login": (draw(st.sampled_from(["GET", "POST"])), "/lti/tool/login", {"data": form}),
        "tool-deep-link": ("POST", "/lti/tool/deep-link", {"data": form}),
        "tool-register": ("GET", "/lti/tool/register", {"query_string": form}),
        "authorize": ("GET", "/lti/authorize", {"query_string": form}),
    }
    method, url, kwargs = choices[kind]
    if method == "GET" and "data" in kwargs:
        kwargs = {"query_string": kwargs["data"]}
    return method, url, kwargs


@HOSTILE
@given(request=requests())
def test_no_lti_request_is_a_server_error(client: FlaskClient, request) -> None:  # type: ignore[no-untyped-def]
    method, url, kwargs = request
    response = client.open(url, method=method, **kwargs)
    assert response.status_code < 500, (method, url, kwargs)


def test_a_forged_token_gets_no_scores_in(client: FlaskClient) -> None:
    forged = ".".join([b64(b'{"alg":"none"}'), b64(b'{"scope":"all"}'), ""])
    response = client.post(
        "/lti/ags/1/lineitems/1/scores",
        data=json.dumps({"scoreGiven": 1, "scoreMaximum": 1, "userId": "1"}),
        content_type="application/vnd.ims.lis.v1.score+json",
        headers={"Authorization": f"Bearer {forged}"},
    )
    assert response.status_code in (401, 403)


# With a real tool and a real service token (the AGS tests' campus): the bodies get past the
# token check to the parsing and storing behind it.
score_keys = st.sampled_from(
    [
        "userId",
        "scoreGiven",
        "scoreMaximum",
        "activityProgress",
        "gradingProgress",
        "timestamp",
        "comment",
        "label",
        "resourceId",
        "resourceLinkId",
        "tag",
        "startDateTime",
        "endDateTime",
    ]
)
ags_bodies = st.one_of(json_values, st.dictionaries(score_keys, json_values, max_size=6))


@HOSTILE
@given(
    where=st.sampled_from(["items", "item", "scores", "results", "members"]),
    body=ags_bodies,
    content_type=st.sampled_from(
        ["application/vnd.ims.lis.v1.score+json", "application/vnd.ims.lis.v2.lineitem+json"]
    ),
    query=st.dictionaries(st.sampled_from(["limit", "user_id", "resource_link_id", "tag"]), text),
)
def test_no_authorised_ags_body_is_a_server_error(  # type: ignore[no-untyped-def]
    campus,  # noqa: F811 - the imported fixture
    where,
    body,
    content_type,
    query,
) -> None:
    auth = campus.token("plain-tool")
    created = campus.client.post(
        "/lti/ags/basics/lineitems", json={"label": "Quiz", "scoreMaximum": 10}, headers=auth
    )
    item = created.get_json()["id"].removeprefix(BASE_URL)
    data = json.dumps(body)
    calls = {
        "items": ("POST", "/lti/ags/basics/lineitems"),
        "item": ("PUT", item),
        "scores": ("POST", f"{item}/scores"),
        "results": ("GET", f"{item}/results"),
        "members": ("GET", "/lti/nrps/basics/memberships"),
    }
    method, url = calls[where]
    response = campus.client.open(
        url, method=method, data=data, content_type=content_type, headers=auth, query_string=query
    )
    assert response.status_code < 500, (method, url, data)


def mutated(draw: Any, document: dict[str, Any], keys: list[str]) -> dict[str, Any]:
    """`document` with a few of `keys` (a dotted key reaches one level in) replaced or removed."""
    for key in draw(st.lists(st.sampled_from(keys), min_size=1, max_size=3)):
        holder, name = document, key
        if "." in key:
            outer, name = key.split(".", 1)
            holder = document.setdefault(outer, {})
            if not isinstance(holder, dict):
                continue
        if draw(st.booleans()):
            holder.pop(name, None)
        else:
            holder[name] = draw(json_values)
    return document


DL_KEYS = ["type", "url", "title", "text", "custom", "lineItem", "lineItem.scoreMaximum"]
DL_KEYS += ["lineItem.label", "lineItem.resourceId", "lineItem.tag", "iframe", "window"]


@pytest.fixture
def linking(tmp_path: Path) -> Iterator[Any]:
    """The deep-linking tests' campus: a tool registered inline that signs what it returns."""
    yield from deep_linking.campus.__wrapped__(tmp_path)


@HOSTILE
@given(data=st.data())
def test_a_hostile_deep_link_is_refused_and_changes_nothing(linking, data) -> None:  # type: ignore[no-untyped-def]
    count = data.draw(st.integers(0, 3))
    items = [mutated(data.draw, deep_linking.quiz(), DL_KEYS) for _ in range(count)]
    before = linking.recorded()
    status = linking.return_items(*items)
    assert status < 500, items
    if status != 302:
        assert linking.recorded()[:3] == before[:3]


RF_KEYS = [
    "application_type",
    "response_types",
    "grant_types",
    "initiate_login_uri",
    "redirect_uris",
    "client_name",
    "jwks_uri",
    "token_endpoint_auth_method",
    "scope",
    "logo_uri",
    "contacts",
    f"{registration_refusals.CONFIG}.domain",
    f"{registration_refusals.CONFIG}.target_link_uri",
    f"{registration_refusals.CONFIG}.claims",
    f"{registration_refusals.CONFIG}.messages",
    f"{registration_refusals.CONFIG}.custom_parameters",
]


@HOSTILE
@given(data=st.data())
def test_a_hostile_registration_is_refused_and_stores_no_tool(app: Flask, client, data) -> None:  # type: ignore[no-untyped-def]
    document = mutated(data.draw, registration_refusals.document(), RF_KEYS)
    before = registration_refusals.tools(app)
    token = registration_refusals.new_token(app)
    response = registration_refusals.post(client, token, document)
    assert response.status_code < 500, document
    if response.status_code != 200:
        assert registration_refusals.tools(app) == before


registered = tool_side.registered  # a platform registered with the campus as its tool


@HOSTILE
@given(
    method=st.sampled_from(["GET", "POST"]),
    changes=st.dictionaries(st.sampled_from(sorted(tool_side.GOOD_LOGIN)), st.none() | text),
)
def test_a_hostile_login_initiation_is_refused_and_records_nothing(  # type: ignore[no-untyped-def]
    app: Flask, client: FlaskClient, registered, method, changes
) -> None:
    params = {k: v for k, v in {**tool_side.GOOD_LOGIN, **changes}.items() if v is not None}
    before = tool_side._stored(app)
    response = tool_side._initiate(client, method, params)
    assert response.status_code < 500, params
    if response.status_code >= 400:
        assert tool_side._stored(app) == before
