"""Issue 15, "member lists leak beyond the tool's context", for grades too: the AGS endpoints
(line items, scores, results) answer a tool only in a context (path) that uses it, that is
where a module that is not retired opens it. Any other path is unknown to the tool (404) and
nothing is recorded there; in its own path everything still works.

Basics uses "scoped-tool". Advanced uses "other-tool", and names "scoped-tool" only in a
retired module (which opens nothing).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from campus import create_app
from campus.auth.models import Organisation
from campus.auth.models import User
from campus.extensions import db
from campus.lti.constants import SUPPORTED_SCOPES
from campus.lti.models import LtiLineItem
from campus.lti.models import LtiScore
from campus.lti.models import LtiTool
from campus.paths.content import load_tree
from campus.paths.models import Completion
from campus.paths.models import Enrollment
from campus.paths.models import LearningPath
from campus.paths.models import Module
from campus.paths.sync import sync_tree
from tests.conftest import BASE_URL
from tests.conftest import FAST_HASH
from tests.conftest import TEST_CONTENT
from tests.conftest import now
from tests.lti.support import add_users
from tests.lti.support import service_token
from tests.lti.support import tool_key

SCOPES = " ".join(sorted(SUPPORTED_SCOPES))
SCORE = "application/vnd.ims.lis.v1.score+json"
STAMP = "2026-11-23T12:00:00+00:00"
MODULES = {
    # (path, module): (tool, retired)
    ("basics", "scoped-quiz"): ("scoped-tool", False),
    ("advanced", "other-quiz"): ("other-tool", False),
    ("advanced", "scoped-old"): ("scoped-tool", True),
}


@dataclass
class Campus:
    app: Flask
    client: FlaskClient
    learner_sub: str

    def token(self, client_id: str) -> dict[str, str]:
        return service_token(self.client, client_id, SCOPES)

    def rows(self) -> tuple[int, int, int]:
        """Line items, scores and completions."""
        with self.app.app_context():
            return tuple(  # type: ignore[return-value]
                db.session.execute(db.select(db.func.count()).select_from(model)).scalar()
                for model in (LtiLineItem, LtiScore, Completion)
            )

    def old_item(self, context_id: str, tool_slug: str) -> int:
        """A line item stored directly, as one made before the rule (or before the tool left
        the path) would be."""
        with self.app.app_context():
            tool = db.session.execute(
                db.select(LtiTool).where(LtiTool.slug == tool_slug)
            ).scalar_one()
            item = LtiLineItem(
                tool_id=tool.id, context_id=context_id, label="Old column", score_maximum=10.0
            )
            db.session.add(item)
            db.session.commit()
            return item.id


def _tool(slug: str) -> LtiTool:
    return LtiTool(
        slug=slug,
        name=slug.title(),
        client_id=slug,
        deployment_id="d-1",
        oidc_login_url="https://tool.invalid/login",
        launch_url="https://tool.invalid/launch",
        redirect_uris=[],
        jwks={"keys": [tool_key(slug)[1]]},
    )


@pytest.fixture
def campus(tmp_path: Path) -> Iterator[Campus]:
    content = tmp_path / "content"
    shutil.copytree(TEST_CONTENT, content)
    added: dict[str, list[str]] = {}
    for (path_slug, slug), (tool, _retired) in MODULES.items():
        module_dir = content / "paths" / path_slug / slug
        module_dir.mkdir()
        (module_dir / "module.toml").write_text(
            'version = 1\nkind = "lti"\ntitle = { fi = "Työkalu", en = "Tool" }\n'
            f'tool = "{tool}"\npass_mark = 60\n'
        )
        (module_dir / "module.fi.md").write_text("Tee tehtävä työkalussa.")
        (module_dir / "module.en.md").write_text("Do the task in the tool.")
        added.setdefault(path_slug, []).append(slug)
    for path_slug, slugs in added.items():
        manifest = content / "paths" / path_slug / "path.toml"
        lines = manifest.read_text().splitlines()
        listed = "".join(f', "{s}"' for s in slugs)
        lines = [f"{ln[:-1]}{listed}]" if ln.startswith("modules = [") else ln for ln in lines]
        manifest.write_text("\n".join(lines) + "\n")
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "scope-secret",
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
        for (_path_slug, slug), (_tool_slug, retired) in MODULES.items():
            module = db.session.execute(db.select(Module).where(Module.slug == slug)).scalar_one()
            module.is_retired = retired
        add_users(Organisation(slug="omnia", name="Omnia"), {"learner@omnia.fi": set()})
        db.session.add_all([_tool("scoped-tool"), _tool("other-tool")])
        db.session.flush()
        learner = db.session.execute(db.select(User)).scalar_one()
        for path in db.session.execute(db.select(LearningPath)).scalars():
            db.session.add(Enrollment(user_id=learner.id, path_id=path.id, enrolled_at=now()))
        db.session.commit()
        yield Campus(app, app.test_client(), f"campus-user-{learner.id}")


def _score(sub: str) -> dict[str, Any]:
    return {
        "userId": sub,
        "scoreGiven": 9,
        "scoreMaximum": 10,
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "timestamp": STAMP,
    }


def test_line_items_only_in_a_path_that_uses_the_tool(campus: Campus) -> None:
    auth = campus.token("scoped-tool")
    body = {"label": "Quiz", "scoreMaximum": 10}
    # Advanced does not use scoped-tool (its one module there is retired): unknown, nothing made.
    for context in ("advanced", "no-such-path"):
        listed = campus.client.get(f"/lti/ags/{context}/lineitems", headers=auth)
        assert listed.status_code == 404
        created = campus.client.post(f"/lti/ags/{context}/lineitems", json=body, headers=auth)
        assert created.status_code == 404
        assert campus.rows() == (0, 0, 0)
    # Basics uses it: create and list work.
    created = campus.client.post("/lti/ags/basics/lineitems", json=body, headers=auth)
    assert created.status_code == 201, created.get_data(as_text=True)
    listed = campus.client.get("/lti/ags/basics/lineitems", headers=auth)
    assert [d["id"] for d in listed.get_json()] == [created.get_json()["id"]]
    assert campus.rows() == (1, 0, 0)


def test_the_other_tool_is_scoped_the_other_way(campus: Campus) -> None:
    """Advanced is a real context for other-tool, which in turn cannot reach basics."""
    auth = campus.token("other-tool")
    body = {"label": "Other", "scoreMaximum": 5}
    assert (
        campus.client.post("/lti/ags/basics/lineitems", json=body, headers=auth).status_code == 404
    )
    assert campus.client.get("/lti/ags/basics/lineitems", headers=auth).status_code == 404
    assert campus.rows() == (0, 0, 0)
    created = campus.client.post("/lti/ags/advanced/lineitems", json=body, headers=auth)
    assert created.status_code == 201
    assert campus.rows() == (1, 0, 0)


def test_no_score_or_result_in_a_path_that_does_not_use_the_tool(campus: Campus) -> None:
    """A column of the tool stored in advanced (made before the rule, or before the module
    using the tool there was retired) takes no score, shows no result and cannot be changed."""
    auth = campus.token("scoped-tool")
    old = f"/lti/ags/advanced/lineitems/{campus.old_item('advanced', 'scoped-tool')}"
    before = campus.rows()
    score = campus.client.post(
        f"{old}/scores", json=_score(campus.learner_sub), content_type=SCORE, headers=auth
    )
    assert score.status_code == 404
    assert campus.client.get(old, headers=auth).status_code == 404
    assert campus.client.get(f"{old}/results", headers=auth).status_code == 404
    assert campus.client.put(old, json={"label": "Renamed"}, headers=auth).status_code == 404
    assert campus.client.delete(old, headers=auth).status_code == 404
    assert campus.rows() == before  # no score, no completion, the column still there
    with campus.app.app_context():
        assert db.session.execute(db.select(LtiLineItem.label)).scalar_one() == "Old column"
    # The control: the same learner, token and body in basics, which uses the tool.
    mine = f"/lti/ags/basics/lineitems/{campus.old_item('basics', 'scoped-tool')}"
    score = campus.client.post(
        f"{mine}/scores", json=_score(campus.learner_sub), content_type=SCORE, headers=auth
    )
    assert score.status_code == 204, score.get_data(as_text=True)
    results = campus.client.get(f"{mine}/results", headers=auth).get_json()
    assert [(r["userId"], r["resultScore"]) for r in results] == [(campus.learner_sub, 9.0)]
    assert campus.rows()[:2] == (before[0] + 1, before[1] + 1)


def test_a_context_id_naming_the_wrong_path_does_not_reach_an_item(campus: Campus) -> None:
    """An item of basics addressed through advanced's URL is not found (nor scored)."""
    auth = campus.token("scoped-tool")
    item_id = campus.old_item("basics", "scoped-tool")
    wrong = f"/lti/ags/advanced/lineitems/{item_id}"
    score = campus.client.post(
        f"{wrong}/scores", json=_score(campus.learner_sub), content_type=SCORE, headers=auth
    )
    assert score.status_code == 404
    assert campus.rows()[1] == 0
