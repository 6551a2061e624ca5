"""Issue 15, platform side: deep-linking line items (gap 2), what a deep link may return (gaps 5
and 8), and member lists scoped to the tool's context with its privacy level (NRPS).

One campus per test on an in-memory database, driven through its HTTP endpoints with the Flask
test client; the tool is played by signing its messages with a key registered inline.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl
from urllib.parse import urlsplit

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient
from jwcrypto.jwk import JWK

from campus import create_app
from campus.auth.models import Organisation
from campus.auth.models import Role
from campus.auth.models import User
from campus.extensions import db
from campus.lti.keys import PlatformContext
from campus.lti.models import LtiLineItem
from campus.lti.models import LtiReplay
from campus.lti.models import LtiResourceLink
from campus.lti.models import LtiTool
from campus.lti.models import LtiToolSubject
from campus.lti.platform.launch import hint_serializer
from campus.paths.content import load_tree
from campus.paths.models import Enrollment
from campus.paths.models import LearningPath
from campus.paths.models import Module
from campus.paths.sync import sync_tree
from tests.conftest import BASE_URL
from tests.conftest import FAST_HASH
from tests.conftest import PASSWORD
from tests.conftest import TEST_CONTENT
from tests.conftest import now
from tests.lti.support import FORM_INPUT
from tests.lti.support import add_users
from tests.lti.tool_app import make_key

CLIENT_ID = "dl-tool"
DEPLOYMENT = "dl-deployment"
TOOL = "https://tool.invalid"
ITEMS = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"
DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
CUSTOM_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/custom"
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"


@dataclass
class Campus:
    app: Flask
    client: FlaskClient
    private_pem: str
    kid: str
    module_id: int
    ids: dict[str, int]

    def deep_link_jwt(self, *items: dict[str, Any]) -> str:
        with self.app.app_context():
            hint = hint_serializer(PlatformContext.from_config(self.app.config)).dumps(
                {"user": self.ids["admin@dl.fi"], "module": self.module_id, "deep_link": True}
            )
        now_s = int(time.time())
        claims = {
            "iss": CLIENT_ID,
            "aud": BASE_URL,
            **{"iat": now_s, "exp": now_s + 300, "nonce": str(uuid.uuid4())},
            "https://purl.imsglobal.org/spec/lti/claim/message_type": "LtiDeepLinkingResponse",
            "https://purl.imsglobal.org/spec/lti/claim/deployment_id": DEPLOYMENT,
            "https://purl.imsglobal.org/spec/lti-dl/claim/data": hint,
            ITEMS: list(items),
        }
        return jwt.encode(claims, self.private_pem, algorithm="RS256", headers={"kid": self.kid})

    def return_items(self, *items: dict[str, Any]) -> int:
        token = self.deep_link_jwt(*items)
        return self.client.post("/lti/deep-link/return", data={"JWT": token}).status_code

    def link(self) -> LtiResourceLink:
        return db.session.execute(
            db.select(LtiResourceLink).where(LtiResourceLink.module_id == self.module_id)
        ).scalar_one()

    def recorded(self) -> tuple[Any, ...]:
        """What a refused response must leave as it was: the link, line items, replay records."""
        with self.app.app_context():
            link = self.link()
            counts = [
                db.session.execute(db.select(db.func.count()).select_from(model)).scalar()
                for model in (LtiLineItem, LtiReplay)
            ]
            return (link.url, link.title, dict(link.custom), *counts)

    def id_token(self, email: str, deep_link: bool = False) -> dict[str, Any]:
        """Launch the module as `email` up to the signed id_token (the tool's part played here)."""
        self.client.post("/auth/login", data={"email": email, "password": PASSWORD})
        suffix = "?deep_link=1" if deep_link else ""
        first = self.client.get(f"/lti/modules/{self.module_id}/launch{suffix}")
        assert first.status_code == 302, first.get_data(as_text=True)[:300]
        login = dict(parse_qsl(urlsplit(first.headers["Location"]).query))
        params = {
            "scope": "openid",
            "response_type": "id_token",
            "response_mode": "form_post",
            "prompt": "none",
            "client_id": CLIENT_ID,
            # The tool's registered endpoint (the chosen link is its target_link_uri).
            "redirect_uri": f"{TOOL}/deep-link" if deep_link else f"{TOOL}/launch",
            "login_hint": login["login_hint"],
            "lti_message_hint": login["lti_message_hint"],
            "nonce": str(uuid.uuid4()),
            "state": "s",
        }
        page = self.client.get("/lti/authorize", query_string=params)
        self.client.post("/auth/logout")
        assert page.status_code == 200, page.get_data(as_text=True).split("<main")[-1][:600]
        fields = dict(FORM_INPUT.findall(page.get_data(as_text=True)))
        return jwt.decode(fields["id_token"], options={"verify_signature": False})

    def token(self) -> str:
        now_s = int(time.time())
        claims = {"iss": CLIENT_ID, "sub": CLIENT_ID, "aud": f"{BASE_URL}/lti/token"}
        claims |= {"iat": now_s, "exp": now_s + 300, "jti": str(uuid.uuid4())}
        assertion = jwt.encode(claims, self.private_pem, "RS256", headers={"kid": self.kid})
        form = {
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
            "scope": NRPS_SCOPE,
        }
        answer = self.client.post("/lti/token", data=form)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return answer.get_json()["access_token"]

    def members(self, context_id: str) -> tuple[int, Any]:
        response = self.client.get(
            f"/lti/nrps/{context_id}/memberships",
            headers={"Authorization": f"Bearer {self.token()}"},
        )
        return response.status_code, response.get_json()

    def set_tool(self, **values: Any) -> None:
        with self.app.app_context():
            db.session.execute(db.update(LtiTool).values(**values))
            db.session.commit()


@pytest.fixture
def campus(tmp_path: Path) -> Iterator[Campus]:
    """Path `basics` has a module opening the tool (in an iframe, with its own custom parameters);
    path `advanced` does not use the tool. Both have learners; one learner is in both."""
    content = tmp_path / "content"
    shutil.copytree(TEST_CONTENT, content)
    module_dir = content / "paths/basics/tool-quiz"
    module_dir.mkdir()
    (module_dir / "module.toml").write_text(
        'version = 1\nkind = "lti"\ntitle = { fi = "Työkalu", en = "Tool quiz" }\n'
        'tool = "dl-tool"\npresentation = "iframe"\ncustom = { level = "2", mode = "exam" }\n'
    )
    (module_dir / "module.fi.md").write_text("Tee tehtävä työkalussa.")
    (module_dir / "module.en.md").write_text("Do the task in the tool.")
    manifest = content / "paths/basics/path.toml"
    manifest.write_text(
        manifest.read_text().replace('"extra-reading"]', '"extra-reading", "tool-quiz"]')
    )
    private_pem, _public = make_key()
    key = JWK.from_pem(private_pem.encode())
    public = {**key.export_public(as_dict=True), "kid": key.thumbprint()}
    app = create_app(
        {
            "TESTING": True,
            "RENDER_500_IN_TESTS": False,
            "SECRET_KEY": "dl-secret",
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "WTF_CSRF_ENABLED": False,
            "PASSWORD_HASH_METHOD": FAST_HASH,
            "CONTENT_DIR": str(content),
            "UPLOAD_DIR": str(tmp_path / "uploads"),
            "KEYS_DIR": str(tmp_path / "keys"),
            "BASE_URL": BASE_URL,
        }
    )
    with app.app_context():
        db.create_all()
        sync_tree(load_tree(content), now())
        add_users(
            Organisation(slug="dl", name="DL"),
            {
                "admin@dl.fi": {Role.ADMIN},
                "basic.one@dl.fi": set(),
                "both.paths@dl.fi": set(),
                "advanced.only@dl.fi": set(),
            },
        )
        db.session.add(
            LtiTool(
                slug="dl-tool",
                name="Deep-linking tool",
                client_id=CLIENT_ID,
                deployment_id=DEPLOYMENT,
                oidc_login_url=f"{TOOL}/login",
                launch_url=f"{TOOL}/launch",
                deep_link_url=f"{TOOL}/deep-link",
                redirect_uris=["https://content.tool.invalid/launch"],
                jwks={"keys": [public]},
            )
        )
        db.session.flush()
        ids = dict(db.session.execute(db.select(User.email, User.id)).all())
        paths = dict(db.session.execute(db.select(LearningPath.slug, LearningPath.id)).all())
        for email, slugs in (
            ("basic.one@dl.fi", ["basics"]),
            ("both.paths@dl.fi", ["basics", "advanced"]),
            ("advanced.only@dl.fi", ["advanced"]),
        ):
            for slug in slugs:
                db.session.add(
                    Enrollment(user_id=ids[email], path_id=paths[slug], enrolled_at=now())
                )
        module_id = db.session.execute(
            db.select(Module.id).where(Module.slug == "tool-quiz")
        ).scalar_one()
        db.session.commit()
    campus = Campus(app, app.test_client(), private_pem, key.thumbprint(), module_id, ids)
    # The module's first deep-linking launch creates its resource link, as an admin's would.
    campus.id_token("admin@dl.fi", deep_link=True)
    yield campus


def quiz(**changes: Any) -> dict[str, Any]:
    item = {
        "type": "ltiResourceLink",
        "url": f"{TOOL}/launch?activity=quiz-42",
        "title": "Quiz 42",
        "custom": {"activity": "quiz-42", "mode": "practice"},
    }
    item.update(changes)
    return {k: v for k, v in item.items() if v is not None}


# --- gap 2: a deep-linking lineItem creates a line item bound to the link -----------------------


def test_deep_link_line_item_is_bound_to_the_link_and_named_in_launches(campus: Campus) -> None:
    line_item = {"scoreMaximum": 20, "label": "Quiz 42 score", "resourceId": "quiz-42", "tag": "g"}
    assert campus.return_items(quiz(lineItem=line_item)) == 302
    with campus.app.app_context():
        link = campus.link()
        item = db.session.execute(db.select(LtiLineItem)).scalar_one()
        assert (item.resource_link_id, item.context_id) == (link.resource_link_id, "basics")
        assert (item.label, item.score_maximum, item.resource_id, item.tag) == (
            "Quiz 42 score",
            20.0,
            "quiz-42",
            "g",
        )
        item_id = item.id
    # Gap 1 met through deep linking: the launch names the link's one line item.
    claims = campus.id_token("basic.one@dl.fi")
    assert claims[AGS_CLAIM]["lineitem"] == f"{BASE_URL}/lti/ags/basics/lineitems/{item_id}"
    # Choosing the same content again updates that column instead of adding a second one.
    assert campus.return_items(quiz(lineItem={**line_item, "scoreMaximum": 25})) == 302
    with campus.app.app_context():
        item = db.session.execute(db.select(LtiLineItem)).scalar_one()
        assert (item.id, item.score_maximum) == (item_id, 25.0)


def test_deep_link_line_item_without_label_resource_id_or_tag(campus: Campus) -> None:
    assert campus.return_items(quiz(lineItem={"scoreMaximum": 10})) == 302
    with campus.app.app_context():
        item = db.session.execute(db.select(LtiLineItem)).scalar_one()
        assert item.label == "Quiz 42"  # the item's title stands in for the missing label
        assert (item.resource_id, item.tag) == (None, None)
        assert item.resource_link_id == campus.link().resource_link_id


BAD_LINE_ITEMS: list[tuple[str, Any]] = [
    ("scoreMaximum missing", {"label": "x"}),
    ("scoreMaximum zero", {"scoreMaximum": 0}),
    ("scoreMaximum negative", {"scoreMaximum": -5}),
    ("scoreMaximum NaN", {"scoreMaximum": float("nan")}),
    ("scoreMaximum Infinity", {"scoreMaximum": float("inf")}),
    ("scoreMaximum a string", {"scoreMaximum": "10"}),
    ("scoreMaximum a boolean", {"scoreMaximum": True}),
    ("label a number", {"scoreMaximum": 10, "label": 5}),
    ("lineItem a list", [10]),
]


def test_bad_deep_link_line_items_are_refused_and_change_nothing(campus: Campus) -> None:
    before = campus.recorded()
    for case, line_item in BAD_LINE_ITEMS:  # one campus: each refusal must leave it as it was
        assert campus.return_items(quiz(lineItem=line_item)) == 400, case
        assert campus.recorded() == before, case


# --- gap 5: advertise what is honoured, honour what is advertised ------------------------------


def test_deep_linking_request_advertises_one_item_and_the_modules_target(campus: Campus) -> None:
    """Decision: a module opens one resource link (LtiResourceLink.module_id is unique and modules
    come from content files), so `accept_multiple` is false; the module opens in an iframe
    (module.toml), the one target offered; never `embed`, which the campus cannot show."""
    settings = campus.id_token("admin@dl.fi", deep_link=True)[DL_SETTINGS]
    assert settings["accept_multiple"] is False
    assert settings["accept_presentation_document_targets"] == ["iframe"]
    assert settings["accept_types"] == ["ltiResourceLink"]


def test_two_items_are_refused_as_advertised_and_change_nothing(campus: Campus) -> None:
    before = campus.recorded()
    assert campus.return_items(quiz(), quiz(title="Quiz 43")) == 400
    assert campus.recorded() == before


# --- gap 8: custom parameters merge; links stay on the tool's hosts ----------------------------


def test_deep_link_custom_parameters_merge_with_the_modules_own(campus: Campus) -> None:
    assert campus.return_items(quiz()) == 302
    merged = {"level": "2", "mode": "practice", "activity": "quiz-42"}
    with campus.app.app_context():
        assert campus.link().custom == merged
    assert campus.id_token("basic.one@dl.fi")[CUSTOM_CLAIM] == merged
    # Choosing again starts from the module's own parameters, not from the previous choice.
    assert campus.return_items(quiz(custom={"activity": "quiz-7"})) == 302
    with campus.app.app_context():
        assert campus.link().custom == {"level": "2", "mode": "exam", "activity": "quiz-7"}


FOREIGN_URLS = [
    "https://evil.example/launch",
    "https://tool.invalid.evil.example/launch",
    "https://tool.invalid:8443/launch",
    "http://tool.invalid/launch",
    "https:///launch",
    "javascript:alert(1)",
]


def test_content_item_url_on_another_host_is_refused(campus: Campus) -> None:
    """Decision: a link must be on a host (and port) registered for the tool (its launch,
    deep-linking or redirect URLs); anything else is refused with 400 and nothing recorded."""
    before = campus.recorded()
    for url in FOREIGN_URLS:
        assert campus.return_items(quiz(url=url)) == 400, url
        assert campus.recorded() == before, url


def test_content_item_url_on_a_registered_redirect_host_is_accepted(campus: Campus) -> None:
    assert campus.return_items(quiz(url="https://content.tool.invalid/quiz/42")) == 302
    with campus.app.app_context():
        assert campus.link().url == "https://content.tool.invalid/quiz/42"


# --- NRPS: the tool's context only, as its privacy level allows -------------------------------


def test_member_list_is_scoped_to_the_paths_using_the_tool(campus: Campus) -> None:
    status, document = campus.members("basics")
    assert status == 200
    assert sorted(m["email"] for m in document["members"]) == [
        "basic.one@dl.fi",
        "both.paths@dl.fi",
    ]
    status, document = campus.members("advanced")  # enrolled people, but the tool is not used
    assert status == 404 and "members" not in document
    assert campus.members("no-such-path")[0] == 404


def test_anonymous_tool_lists_no_names_nor_emails(campus: Campus) -> None:
    campus.set_tool(privacy="anonymous", pairwise_sub=True)
    status, document = campus.members("basics")
    assert status == 200 and len(document["members"]) == 2
    for member in document["members"]:
        assert set(member) == {"status", "user_id", "roles"}
        assert not member["user_id"].startswith("campus-user-")
    with campus.app.app_context():
        stored = set(db.session.execute(db.select(LtiToolSubject.sub)).scalars())
    assert {m["user_id"] for m in document["members"]} == stored  # kept: the same next time
    assert {m["user_id"] for m in campus.members("basics")[1]["members"]} == stored


def test_name_only_tool_lists_names_without_emails(campus: Campus) -> None:
    campus.set_tool(privacy="name")
    status, document = campus.members("basics")
    assert status == 200
    assert sorted(m["name"] for m in document["members"]) == ["Basic.One", "Both.Paths"]
    assert all("email" not in m for m in document["members"])
    assert {m["user_id"] for m in document["members"]} == {
        f"campus-user-{campus.ids['basic.one@dl.fi']}",
        f"campus-user-{campus.ids['both.paths@dl.fi']}",
    }
