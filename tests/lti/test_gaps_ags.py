"""Issue 15, gaps 3, 4 and 6: the platform's Assignment and Grade Services, driven through the
real endpoints with tokens from `/lti/token` (client assertions signed as a tool would).

Gap 3: no number that is not finite (or whose quotient is not) is recorded, completes a module
or a path, or leaves the results service as non-JSON. Gap 4: line items without resourceId/tag
coexist. Gap 6: results honour `user_id`; a pairwise tool's `sub` finds its person both ways.
"""

from __future__ import annotations

import json
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
from campus.auth.models import Role
from campus.auth.models import User
from campus.badges.files import load_badges
from campus.badges.issuers import IssuingContext
from campus.badges.issuers import sync_badges
from campus.extensions import db
from campus.lti.constants import SUPPORTED_SCOPES
from campus.lti.models import LtiLineItem
from campus.lti.models import LtiResourceLink
from campus.lti.models import LtiScore
from campus.lti.models import LtiTool
from campus.lti.models import LtiToolSubject
from campus.outbox.models import OutboxItem
from campus.paths.content import load_tree
from campus.paths.models import Completion
from campus.paths.models import Enrollment
from campus.paths.models import LearningPath
from campus.paths.models import Module
from campus.paths.models import PathCompletion
from campus.paths.sync import sync_tree
from tests.conftest import BASE_URL
from tests.conftest import FAST_HASH
from tests.conftest import TEST_BADGES
from tests.conftest import TEST_CONTENT
from tests.conftest import now
from tests.lti.support import add_users
from tests.lti.support import service_token
from tests.lti.support import tool_key

SCOPES = " ".join(sorted(SUPPORTED_SCOPES))
SCORE = "application/vnd.ims.lis.v1.score+json"
LINEITEM = "application/vnd.ims.lis.v2.lineitem+json"
STAMP = "2026-11-23T12:00:00+00:00"
ITEMS = "/lti/ags/basics/lineitems"


@dataclass
class Campus:
    app: Flask
    client: FlaskClient
    learner_id: int
    other_id: int

    def token(self, client_id: str) -> dict[str, str]:
        return service_token(self.client, client_id, SCOPES)

    def count(self, model: Any) -> int:
        with self.app.app_context():
            return db.session.execute(db.select(db.func.count()).select_from(model)).scalar()

    def counts(self) -> tuple[int, ...]:
        return tuple(
            self.count(m) for m in (LtiScore, Completion, PathCompletion, OutboxItem, LtiLineItem)
        )


def _tool(slug: str, pairwise: bool = False) -> LtiTool:
    return LtiTool(
        slug=slug,
        name=slug.title(),
        client_id=slug,
        deployment_id="d-1",
        oidc_login_url="https://tool.invalid/login",
        launch_url="https://tool.invalid/launch",
        redirect_uris=[],
        jwks={"keys": [tool_key(slug)[1]]},  # inline: no key set is fetched
        pairwise_sub=pairwise,
    )


@pytest.fixture
def campus(tmp_path: Path) -> Iterator[Campus]:
    """Basics gets an LTI module (pass mark 60) launched by "plain-tool"; the learner has done
    every other required module, so passing it completes the path (a badge follow-up)."""
    content = tmp_path / "content"
    shutil.copytree(TEST_CONTENT, content)
    # Basics uses both tools (a tool sees only the paths that use it); "pairwise-quiz" is done.
    for slug, tool in (("tool-quiz", "plain-tool"), ("pairwise-quiz", "pairwise-tool")):
        module_dir = content / "paths/basics" / slug
        module_dir.mkdir()
        (module_dir / "module.toml").write_text(
            'version = 1\nkind = "lti"\ntitle = { fi = "Työkalu", en = "Tool quiz" }\n'
            f'tool = "{tool}"\npass_mark = 60\n'
        )
        (module_dir / "module.fi.md").write_text("Tee tehtävä työkalussa.")
        (module_dir / "module.en.md").write_text("Do the task in the tool.")
    manifest = content / "paths/basics/path.toml"
    manifest.write_text(
        manifest.read_text().replace(
            '"extra-reading"]', '"extra-reading", "tool-quiz", "pairwise-quiz"]'
        )
    )
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "ags-secret",
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "WTF_CSRF_ENABLED": False,
            "PASSWORD_HASH_METHOD": FAST_HASH,
            "CONTENT_DIR": str(content),
            "BADGES_DIR": str(TEST_BADGES),
            "UPLOAD_DIR": str(tmp_path / "uploads"),
            "KEYS_DIR": str(tmp_path / "keys"),
            "BASE_URL": BASE_URL,
        }
    )
    with app.app_context():
        db.create_all()
        tree = load_tree(content)
        report = sync_tree(tree, now())
        sync_badges(load_badges(TEST_BADGES, tree), IssuingContext.from_config(app.config), report)
        org = Organisation(slug="omnia", name="Omnia")
        add_users(org, {"learner@omnia.fi": set(), "other@omnia.fi": {Role.ADMIN}})
        plain, pairwise = _tool("plain-tool"), _tool("pairwise-tool", pairwise=True)
        db.session.add_all([plain, pairwise])
        db.session.flush()
        ids = dict(db.session.execute(db.select(User.email, User.id)).all())
        path = db.session.execute(
            db.select(LearningPath).where(LearningPath.slug == "basics")
        ).scalar_one()
        quiz = db.session.execute(db.select(Module).where(Module.slug == "tool-quiz")).scalar_one()
        for user_id in ids.values():
            db.session.add(Enrollment(user_id=user_id, path_id=path.id, enrolled_at=now()))
        for module in path.required_modules:
            if module.id != quiz.id:
                db.session.add(
                    Completion(
                        user_id=ids["learner@omnia.fi"],
                        module_id=module.id,
                        completed_at=now(),
                        source="self",
                    )
                )
        db.session.add(
            LtiResourceLink(
                module_id=quiz.id,
                tool_id=plain.id,
                resource_link_id="rl-quiz",
                url=None,
                title=None,
                custom={},
            )
        )
        db.session.commit()
        yield Campus(app, app.test_client(), ids["learner@omnia.fi"], ids["other@omnia.fi"])


def _line_item(campus: Campus, auth: dict[str, str], **fields: Any) -> dict[str, Any]:
    created = campus.client.post(
        ITEMS, json={"label": "Quiz", "scoreMaximum": 10, **fields}, headers=auth
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    return created.get_json()


def _score(user_sub: str, **changes: Any) -> dict[str, Any]:
    return {
        "userId": user_sub,
        "scoreGiven": 9,
        "scoreMaximum": 10,
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "timestamp": STAMP,
        **changes,
    }


def _post(campus: Campus, url: str, auth: dict[str, str], body: dict[str, Any] | str) -> int:
    data = body if isinstance(body, str) else json.dumps(body)  # NaN/Infinity as Python writes
    return campus.client.post(
        url.removeprefix(BASE_URL) + "/scores", data=data, content_type=SCORE, headers=auth
    ).status_code


# --- gap 3: numbers that are not finite -------------------------------------------------------

NON_FINITE: list[dict[str, Any] | str] = [
    {"scoreGiven": "NaN"},
    {"scoreGiven": "Infinity"},
    {"scoreGiven": float("nan")},  # json.dumps writes NaN, which Python's json reads
    {"scoreGiven": float("inf")},
    '{"scoreGiven": 1e400}',  # read as Infinity
    {"scoreMaximum": float("nan")},
    {"scoreMaximum": "Infinity"},
    {"scoreMaximum": float("-inf")},
    {"scoreGiven": -1},
    {"scoreMaximum": 0},
    {"scoreMaximum": None},  # scoreGiven needs scoreMaximum
    # Finite numbers whose quotient is not: 100 / 5e-324 overflowed to an infinite percentage,
    # which passed the pass mark and completed the module, the path and its badge.
    {"scoreGiven": 1, "scoreMaximum": 5e-324},
    {"scoreGiven": 1e308, "scoreMaximum": 1e-10},
]


def test_non_finite_scores_are_refused_and_complete_nothing(campus: Campus) -> None:
    auth = campus.token("plain-tool")
    item = _line_item(campus, auth, resourceLinkId="rl-quiz")
    sub = f"campus-user-{campus.learner_id}"
    before = campus.counts()
    for changes in NON_FINITE:
        if isinstance(changes, str):  # a duplicate key: the last one counts
            body: dict[str, Any] | str = json.dumps(_score(sub))[:-1] + ", " + changes[1:]
        else:
            body = {k: v for k, v in _score(sub, **changes).items() if v is not None}
        assert _post(campus, item["id"], auth, body) == 400, changes
        # No score, completion, path completion nor outbox item (the badge follow-up).
        assert campus.counts() == before, changes
    # The control: the same item, learner and token with a finite passing score complete it all.
    assert _post(campus, item["id"], auth, _score(sub)) == 204
    assert campus.counts()[:4] == (before[0] + 1, before[1] + 1, before[2] + 1, before[3] + 1)
    with campus.app.app_context():
        assert (
            db.session.execute(
                db.select(Completion.score).where(Completion.source == "lti")
            ).scalar_one()
            == 90.0
        )


def test_huge_scores_are_a_percentage_without_overflow(campus: Campus) -> None:
    """100 × 1e308 overflowed before the division: an infinite percentage was recorded."""
    auth = campus.token("plain-tool")
    item = _line_item(campus, auth, resourceLinkId="rl-quiz")
    body = _score(f"campus-user-{campus.learner_id}", scoreGiven=1e308, scoreMaximum=1e308)
    assert _post(campus, item["id"], auth, body) == 204
    with campus.app.app_context():
        assert (
            db.session.execute(
                db.select(Completion.score).where(Completion.source == "lti")
            ).scalar_one()
            == 100.0
        )


def test_a_nan_pass_mark_comparison_cannot_complete(
    campus: Campus, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defence in depth: were a NaN percentage ever computed, it would not pass the mark (NaN <
    60 is False, so the old `percent < pass_mark` test let it through)."""
    from campus.lti.platform import ags

    monkeypatch.setattr(ags, "_percent", lambda given, maximum: float("nan"))
    auth = campus.token("plain-tool")
    item = _line_item(campus, auth, resourceLinkId="rl-quiz")
    before = campus.counts()
    assert _post(campus, item["id"], auth, _score(f"campus-user-{campus.learner_id}")) == 204
    assert campus.counts()[:4] == (before[0] + 1, before[1], before[2], before[3])


def test_non_finite_line_item_maximum_is_refused_on_create_and_update(campus: Campus) -> None:
    auth = campus.token("plain-tool")
    item = _line_item(campus, auth)
    for body in (
        '{"label": "x", "scoreMaximum": NaN}',
        '{"label": "x", "scoreMaximum": "Infinity"}',
    ):
        created = campus.client.post(ITEMS, data=body, content_type=LINEITEM, headers=auth)
        assert created.status_code == 400
        updated = campus.client.put(
            item["id"].removeprefix(BASE_URL), data=body, content_type=LINEITEM, headers=auth
        )
        assert updated.status_code == 400
    assert campus.count(LtiLineItem) == 1
    with campus.app.app_context():
        assert db.session.execute(db.select(LtiLineItem.score_maximum)).scalar_one() == 10.0


def test_results_stay_json_when_old_rows_are_not_finite(campus: Campus) -> None:
    """Rows written before the checks (PostgreSQL keeps NaN and Infinity) are left out of the
    result, never sent as `Infinity`, which no strict JSON parser reads."""
    auth = campus.token("plain-tool")
    item = _line_item(campus, auth)
    with campus.app.app_context():
        for user_id, given in ((campus.learner_id, float("inf")), (campus.other_id, 4.0)):
            db.session.add(
                LtiScore(
                    line_item_id=int(item["id"].rsplit("/", 1)[1]),
                    user_id=user_id,
                    score_given=given,
                    score_maximum=10.0,
                    activity_progress="Completed",
                    grading_progress="FullyGraded",
                    timestamp=now(),
                )
            )
        db.session.commit()
    response = campus.client.get(f"{item['id'].removeprefix(BASE_URL)}/results", headers=auth)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Infinity" not in text and "NaN" not in text

    def strict(constant: str) -> None:
        raise ValueError(constant)

    results = {r["userId"]: r for r in json.loads(text, parse_constant=strict)}
    learner = results[f"campus-user-{campus.learner_id}"]
    assert "resultScore" not in learner and "resultMaximum" not in learner
    other = results[f"campus-user-{campus.other_id}"]
    assert (other["resultScore"], other["resultMaximum"]) == (4.0, 10.0)


# --- gap 4: line items without resourceId / tag ---------------------------------------------


def test_several_line_items_without_resource_id_or_tag_coexist(campus: Campus) -> None:
    auth = campus.token("plain-tool")
    first = _line_item(campus, auth, label="Column 1")
    second = _line_item(campus, auth, label="Column 2")
    third = _line_item(campus, auth, label="Column 3", resourceId="", tag="")
    assert len({first["id"], second["id"], third["id"]}) == 3
    for document in (first, second, third):
        assert "resourceId" not in document and "tag" not in document
    with campus.app.app_context():
        stored = db.session.execute(db.select(LtiLineItem.resource_id, LtiLineItem.tag)).all()
        assert stored == [(None, None)] * 3  # None, not "": absent stays absent
    # Only a tag, or only a resourceId, also coexist with their twins.
    _line_item(campus, auth, label="Tagged 1", tag="quiz")
    _line_item(campus, auth, label="Tagged 2", tag="quiz")
    _line_item(campus, auth, label="Resource", resourceId="r-1", tag="quiz")
    # Our choice: the same non-empty resourceId and tag twice is a conflict, and nothing lands.
    twin = campus.client.post(
        ITEMS,
        json={"label": "Twin", "scoreMaximum": 5, "resourceId": "r-1", "tag": "quiz"},
        headers=auth,
    )
    assert twin.status_code == 409 and campus.count(LtiLineItem) == 6
    listed = campus.client.get(ITEMS, headers=auth).get_json()
    assert [d["label"] for d in listed] == [
        "Column 1", "Column 2", "Column 3", "Tagged 1", "Tagged 2", "Resource"
    ]  # fmt: skip
    tagged = campus.client.get(f"{ITEMS}?tag=quiz", headers=auth).get_json()
    assert [d["label"] for d in tagged] == ["Tagged 1", "Tagged 2", "Resource"]
    by_resource = campus.client.get(f"{ITEMS}?resource_id=r-1", headers=auth).get_json()
    assert [(d["label"], d["resourceId"], d["tag"]) for d in by_resource] == [
        ("Resource", "r-1", "quiz")
    ]


# --- gap 6: results for one user; a pairwise tool's subjects --------------------------------


def test_results_honour_user_id(campus: Campus) -> None:
    auth = campus.token("plain-tool")
    item = _line_item(campus, auth)
    learner, other = f"campus-user-{campus.learner_id}", f"campus-user-{campus.other_id}"
    assert _post(campus, item["id"], auth, _score(learner, scoreGiven=7)) == 204
    assert _post(campus, item["id"], auth, _score(other, scoreGiven=3)) == 204
    url = f"{item['id'].removeprefix(BASE_URL)}/results"
    everyone = campus.client.get(url, headers=auth).get_json()
    assert sorted(r["userId"] for r in everyone) == sorted([learner, other])
    one = campus.client.get(url, query_string={"user_id": learner}, headers=auth).get_json()
    assert [(r["userId"], r["resultScore"]) for r in one] == [(learner, 7.0)]
    for unknown in ("campus-user-999999", "someone", ""):
        response = campus.client.get(url, query_string={"user_id": unknown}, headers=auth)
        assert response.status_code == 200 and response.get_json() == []


def test_a_pairwise_tool_scores_and_reads_by_its_own_subjects(campus: Campus) -> None:
    from campus.lti.platform.privacy import subject_for

    with campus.app.app_context():
        tool = db.session.execute(
            db.select(LtiTool).where(LtiTool.slug == "pairwise-tool")
        ).scalar_one()
        pairwise_sub = subject_for(tool, db.session.get(User, campus.learner_id))
        db.session.commit()
    assert not pairwise_sub.startswith("campus-user-")
    auth = campus.token("pairwise-tool")
    item = _line_item(campus, auth)
    # The campus-wide subject means nothing to this tool: refused, nothing recorded.
    assert _post(campus, item["id"], auth, _score(f"campus-user-{campus.learner_id}")) == 400
    assert campus.count(LtiScore) == 0
    assert _post(campus, item["id"], auth, _score(pairwise_sub, scoreGiven=6)) == 204
    with campus.app.app_context():
        assert db.session.execute(db.select(LtiScore.user_id)).scalar_one() == campus.learner_id
    url = f"{item['id'].removeprefix(BASE_URL)}/results"
    results = campus.client.get(url, headers=auth).get_json()
    assert [(r["userId"], r["resultScore"]) for r in results] == [(pairwise_sub, 6.0)]
    assert results[0]["id"].endswith(f"/results/{pairwise_sub}")  # no campus-wide id leaks
    one = campus.client.get(url, query_string={"user_id": pairwise_sub}, headers=auth)
    assert [r["userId"] for r in one.get_json()] == [pairwise_sub]
    wide = campus.client.get(
        url, query_string={"user_id": f"campus-user-{campus.learner_id}"}, headers=auth
    )
    assert wide.get_json() == []
    assert campus.count(LtiToolSubject) == 1
