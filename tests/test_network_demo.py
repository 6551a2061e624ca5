"""`flask network demo`: the demo region's groups, the shipped template copied into the region,
Demo College's roadmap mirroring regional goals, completed paths and badges; built once, with the
two structure breaks the region page is meant to flag."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from campus.assessments.demo import DEMO_REGION_SLUG
from campus.assessments.demo import seed_demo
from campus.auth.models import Organisation
from campus.auth.models import Region
from campus.auth.services import DEMO_EMAIL
from campus.auth.services import DEMO_ORGANISATION_SLUG
from campus.badges.files import load_badges
from campus.badges.issuers import IssuingContext
from campus.badges.issuers import sync_badges
from campus.badges.models import Assertion
from campus.config import REPO_ROOT
from campus.extensions import db
from campus.network.clock_models import ClockAction
from campus.network.clock_models import RaciEntry
from campus.network.clock_models import Toolkit
from campus.network.demo import seed_network_demo
from campus.network.models import Goal
from campus.network.models import GroupKickoff
from campus.network.models import Roadmap
from campus.network.rules import structure_flags
from campus.outbox.services import run_committed
from campus.paths.content import load_tree
from campus.paths.models import PathCompletion
from campus.paths.sync import sync_tree
from tests.test_assessment_demo import demo_app  # noqa: F401  (the fixture)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
PASSWORD = "demo password 123"


@pytest.fixture
def network_demo(demo_app: Flask) -> Flask:  # noqa: F811
    """The shipped paths and badges, the assessment demo, then the network demo (as make setup)."""
    with demo_app.app_context():
        tree = load_tree(REPO_ROOT / "content")
        report = sync_tree(tree, NOW)
        badges = load_badges(REPO_ROOT / "badges", tree)
        sync_badges(badges, IssuingContext.from_config(demo_app.config), report)
        seed_demo(NOW.date())
        seed_network_demo(REPO_ROOT / "content", NOW)
        db.session.commit()
        run_committed(NOW)
    return demo_app


def test_the_demo_builds_the_network_once(network_demo: Flask) -> None:
    with network_demo.app_context():
        region = db.session.execute(
            db.select(Region).where(Region.slug == DEMO_REGION_SLUG)
        ).scalar_one()
        members = db.session.execute(
            db.select(Organisation).where(Organisation.region_id == region.id)
        ).scalars()
        assert len(list(members)) == 5
        assert {t.slug for t in db.session.execute(db.select(Toolkit)).scalars()} == {
            "seudullinen-digikehittaminen",
            "regional-digital-development",
        }
        regional = db.session.execute(
            db.select(Roadmap).where(Roadmap.region_id == region.id)
        ).scalar_one()
        assert len(regional.goals) == 12
        actions = list(
            db.session.execute(
                db.select(ClockAction).where(ClockAction.region_id == region.id)
            ).scalars()
        )
        assert len(actions) == 14
        for action in actions:  # the copy kept exactly one Accountable in every matrix
            letters = [entry.letter for entry in action.raci]
            assert letters.count("A") == 1, action.title
        college = db.session.execute(
            db.select(Organisation).where(Organisation.slug == DEMO_ORGANISATION_SLUG)
        ).scalar_one()
        own = db.session.execute(
            db.select(Roadmap).where(Roadmap.organisation_id == college.id)
        ).scalar_one()
        serving = [goal for goal in own.goals if goal.serves_goal_id is not None]
        assert len(serving) == 2
        assert all(
            db.session.get(Goal, goal.serves_goal_id).roadmap_id == regional.id  # type: ignore[union-attr]
            for goal in serving
        )
        assert db.session.scalar(db.select(db.func.count()).select_from(GroupKickoff)) == 1
        assert db.session.scalar(db.select(db.func.count()).select_from(PathCompletion)) > 50
        # … and the badges those paths earn were issued by the outbox after the commit.
        assert db.session.scalar(db.select(db.func.count()).select_from(Assertion)) > 50
        codes = {flag.code for flag in structure_flags(region)}
        # The two deliberate breaks: Demojärvi has no representative and no digi group yet,
        # and Demola's representative is in its digi group but does not chair it.
        assert {"no_representative", "no_digi_group", "representative_not_chair"} <= codes
        before = tuple(
            db.session.scalar(db.select(db.func.count()).select_from(model))
            for model in (Roadmap, Goal, ClockAction, RaciEntry, PathCompletion)
        )
        again = seed_network_demo(REPO_ROOT / "content", NOW)
        db.session.commit()
        assert again.created == []
        after = tuple(
            db.session.scalar(db.select(db.func.count()).select_from(model))
            for model in (Roadmap, Goal, ClockAction, RaciEntry, PathCompletion)
        )
        assert after == before


def test_the_demo_account_sees_the_dashboard_count_real_work(  # type: ignore[no-untyped-def]
    network_demo: Flask, client: FlaskClient
) -> None:
    client.post("/auth/login", data={"email": DEMO_EMAIL, "password": PASSWORD})
    with network_demo.app_context():
        region_id = db.session.execute(
            db.select(Region.id).where(Region.slug == DEMO_REGION_SLUG)
        ).scalar_one()
    page = client.get(f"/network/region/{region_id}/dashboard?year=2026")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Demojärven kunta" in text and "Demo College" in text
    assert "Every badge held in the region" in text  # the table that lists only held badges
