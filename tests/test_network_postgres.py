"""The network on a real PostgreSQL server: the whole demo (shipped content, assessment demo,
network demo with the regional template copied in), its pages, an action marked done, a calendar
feed, and the CHECK constraints that keep every row in exactly one scope."""

from __future__ import annotations

import re
from datetime import UTC
from datetime import datetime

import pytest
import sqlalchemy as sa
from flask import Flask
from icalendar import Calendar
from sqlalchemy.exc import IntegrityError

from campus.assessments.content import load_instruments
from campus.assessments.content import path_folders
from campus.assessments.demo import seed_demo
from campus.assessments.sync import sync_instruments
from campus.auth.models import Organisation
from campus.auth.models import Region
from campus.auth.services import DEMO_EMAIL
from campus.auth.services import DEMO_ORGANISATION_SLUG
from campus.auth.services import ensure_demo_account
from campus.badges.files import load_badges
from campus.badges.issuers import IssuingContext
from campus.badges.issuers import sync_badges
from campus.config import REPO_ROOT
from campus.extensions import db
from campus.network.clock_models import ClockAction
from campus.network.clock_models import ClockActionDone
from campus.network.demo import seed_network_demo
from campus.network.models import Goal
from campus.network.models import Group
from campus.network.models import GroupKind
from campus.network.models import Roadmap
from campus.paths.content import load_tree
from campus.paths.sync import sync_tree
from tests.conftest import PASSWORD
from tests.test_postgres import pg_app  # noqa: F401  (the fixture)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _seed_everything(app: Flask) -> None:
    content = REPO_ROOT / "content"
    with app.app_context():
        tree = load_tree(content)
        report = sync_tree(tree, NOW)
        sync_badges(
            load_badges(REPO_ROOT / "badges", tree), IssuingContext.from_config(app.config), report
        )
        instruments, problems = load_instruments(content, path_folders(content))
        assert problems == []
        sync_instruments(instruments, report)
        ensure_demo_account(PASSWORD)
        seed_demo(NOW.date())
        seed_network_demo(content, NOW)
        db.session.commit()
        again = seed_network_demo(content, NOW)  # a second run adds nothing
        db.session.commit()
        assert again.created == []


def test_the_demo_network_works_on_postgres(pg_app: Flask, tmp_path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    pg_app.config.update(WTF_CSRF_ENABLED=False, KEYS_DIR=str(tmp_path / "keys"))
    _seed_everything(pg_app)
    with pg_app.app_context():
        assert db.engine.dialect.name == "postgresql"
        college = db.session.execute(
            db.select(Organisation).where(Organisation.slug == DEMO_ORGANISATION_SLUG)
        ).scalar_one()
        region = db.session.get(Region, college.region_id)
        roadmaps = list(db.session.execute(db.select(Roadmap.id)).scalars())
        assert len(roadmaps) == 2  # the region's (from the template) and the college's
        groups = list(db.session.execute(db.select(Group.id)).scalars())
        college_id, region_id = college.id, region.id  # type: ignore[union-attr]
    client = pg_app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fi"
    assert (
        client.post("/auth/login", data={"email": DEMO_EMAIL, "password": PASSWORD}).status_code
        == 302
    )
    pages = [
        "/network/",
        "/network/regions/",
        f"/network/regions/{region_id}",
        f"/network/organisation/{college_id}/clock",
        f"/network/organisation/{college_id}/clock?view=months",
        f"/network/organisation/{college_id}/clock?view=years",
        f"/network/region/{region_id}/clock",
        f"/network/organisation/{college_id}/dashboard",
        f"/network/region/{region_id}/dashboard",
        f"/network/region/{region_id}/groups",
        "/network/templates/",
        *[f"/network/roadmaps/{roadmap_id}" for roadmap_id in roadmaps],
        *[f"/network/groups/{group_id}" for group_id in groups],
    ]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        assert 'lang="fi"' in response.get_data(as_text=True)

    # An action added, marked done and counted; its calendar feed parses.
    added = client.post(
        f"/network/organisation/{college_id}/clock",
        data={
            "title": "PostgreSQL-toimenpide",
            "start_month": "12",
            "start_day": "15",
            "end_month": "1",
            "end_day": "10",
            "first_year": "2026",
            "group": "0",
            "goal": "0",
        },
    )
    assert added.status_code == 302
    with pg_app.app_context():
        action_id = db.session.execute(
            db.select(ClockAction.id).where(ClockAction.title == "PostgreSQL-toimenpide")
        ).scalar_one()
    done = client.post(f"/network/clock/actions/{action_id}/done", data={"year": "2026"})
    assert done.status_code == 302
    with pg_app.app_context():
        assert db.session.get(ClockActionDone, (action_id, 2026)) is not None
    created = client.post(f"/network/organisation/{college_id}/clock/feed", follow_redirects=True)
    url = re.search(r"/network/calendar/[A-Za-z0-9_-]+\.ics", created.get_data(as_text=True))
    assert url, "the new calendar address is shown once"
    feed = client.get(url[0])
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    events = Calendar.from_ical(feed.data).walk("VEVENT")
    ours = [e for e in events if str(e["SUMMARY"]) == "PostgreSQL-toimenpide"]
    assert len(ours) == 1
    assert ours[0]["DTSTART"].dt.isoformat() == "2026-12-15"
    assert ours[0]["DTEND"].dt.isoformat() == "2027-01-11"  # exclusive, over the new year


def test_scope_checks_hold_on_postgres(pg_app: Flask) -> None:  # noqa: F811
    """A group, roadmap or action in both a region and an organisation (or in neither) is
    refused by the database itself, and deleting a regional goal unlinks the goals serving it."""
    with pg_app.app_context():
        region = Region(slug="r", name="R")
        organisation = Organisation(slug="o", name="O", region=None)
        db.session.add_all([region, organisation])
        db.session.commit()
        for columns in ({"region_id": region.id, "organisation_id": organisation.id}, {}):
            db.session.add(Group(kind=GroupKind.DIGI, name="G", **columns))
            with pytest.raises(IntegrityError):
                db.session.commit()
            db.session.rollback()
        regional = Roadmap(region_id=region.id, title="R", first_year=2026, last_year=2028)
        local = Roadmap(organisation_id=organisation.id, title="O", first_year=2026, last_year=2028)
        db.session.add_all([regional, local])
        db.session.flush()
        served = Goal(roadmap_id=regional.id, area="competence", focus="learning", title="S")
        db.session.add(served)
        db.session.flush()
        serving = Goal(
            roadmap_id=local.id,
            area="competence",
            focus="learning",
            title="L",
            serves_goal_id=served.id,
        )
        db.session.add(serving)
        db.session.commit()
        db.session.execute(sa.delete(Goal).where(Goal.id == served.id))
        db.session.commit()
        db.session.expire_all()
        assert db.session.get(Goal, serving.id).serves_goal_id is None  # type: ignore[union-attr]
        with pytest.raises(IntegrityError):
            db.session.add(Roadmap(region_id=region.id, title="X", first_year=2028, last_year=2026))
            db.session.commit()
        db.session.rollback()
