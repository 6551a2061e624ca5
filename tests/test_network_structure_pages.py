"""Structure pages: deleting a group leaves no dangling rows behind, and the region, groups and
group pages run a fixed number of queries however many groups and members there are."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import pytest
from flask import Flask
from sqlalchemy import event

from campus.auth.models import Organisation
from campus.auth.models import OrganisationKind
from campus.auth.models import Region
from campus.auth.models import Role
from campus.extensions import db
from campus.network import ical
from campus.network import kickoff as kits
from campus.network import structure
from campus.network.access import organisation_scope
from campus.network.access import region_scope
from campus.network.clock_models import CalendarFeed
from campus.network.clock_models import ClockAction
from campus.network.clock_models import Raci
from campus.network.clock_models import RaciEntry
from campus.network.models import DevelopmentArea
from campus.network.models import Focus
from campus.network.models import Goal
from campus.network.models import Group
from campus.network.models import GroupKickoff
from campus.network.models import GroupKind
from campus.network.models import GroupRole
from campus.network.models import Roadmap

NOW = datetime(2026, 3, 2, 9, 30)


@pytest.fixture
def ids(app: Flask, make_user: Callable[..., int]) -> dict[str, int]:
    """Region Lakeside with the municipality North; an admin and eight people of North."""
    with app.app_context():
        region = Region(name="Lakeside", slug="lakeside")
        db.session.add(region)
        db.session.flush()
        north = Organisation(
            name="North", slug="north", kind=OrganisationKind.MUNICIPALITY, region_id=region.id
        )
        db.session.add(north)
        db.session.commit()
        result = {"region": region.id, "north": north.id}
    make_user("admin@campus.fi", roles={Role.ADMIN}, organisation_id=result["north"])
    for number in range(8):
        make_user(f"p{number}@north.fi", organisation_id=result["north"])
    return result


def login(client, auth, email: str) -> None:  # type: ignore[no-untyped-def]
    auth.logout()
    assert auth.login(email).status_code == 302


def test_deleted_group_leaves_actions_goals_and_pages_working(client, auth, app, ids) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        region = db.session.get(Region, ids["region"])
        north = db.session.get(Organisation, ids["north"])
        digi = structure.create_group(organisation_scope(north), GroupKind.DIGI, "North digi")
        regional = structure.create_group(region_scope(region), GroupKind.REGIONAL, "Regional")
        owned = ClockAction(
            organisation_id=north.id, title="Onboarding", start_month=8, end_month=8,
            first_year=2025, group_id=digi.id,
        )  # fmt: skip
        shared = ClockAction(
            region_id=region.id, title="Assessment round", start_month=10, end_month=10,
            first_year=2025,
        )  # fmt: skip
        db.session.add_all([owned, shared])
        db.session.flush()
        db.session.add_all(
            [
                RaciEntry(action_id=owned.id, group_id=digi.id, letter=Raci.ACCOUNTABLE),
                RaciEntry(action_id=shared.id, group_id=regional.id, letter=Raci.ACCOUNTABLE),
                RaciEntry(action_id=shared.id, group_id=digi.id, letter=Raci.CONSULTED),
            ]
        )
        roadmap = Roadmap(title="N", first_year=2025, last_year=2027, organisation_id=north.id)
        goal = Goal(
            roadmap=roadmap, title="Skills", area=DevelopmentArea.COMPETENCE, group_id=digi.id
        )
        goal.focus = Focus.LEARNING
        db.session.add(goal)
        group_token = ical.create_feed(digi, None, NOW)
        region_token = ical.create_feed(region, None, NOW)
        kits.start_kickoff(digi, NOW)
        db.session.commit()
        digi_id, owned_id, shared_id, goal_id = digi.id, owned.id, shared.id, goal.id
    login(client, auth, "admin@campus.fi")
    assert client.post(f"/network/groups/{digi_id}/delete").status_code == 302
    with app.app_context():
        assert db.session.get(Group, digi_id) is None
        assert db.session.get(ClockAction, owned_id).group_id is None  # type: ignore[union-attr]
        assert db.session.get(Goal, goal_id).group_id is None  # type: ignore[union-attr]
        assert (
            db.session.execute(db.select(RaciEntry).where(RaciEntry.group_id == digi_id)).first()
            is None
        )
        assert (
            db.session.execute(
                db.select(CalendarFeed).where(CalendarFeed.group_id == digi_id)
            ).first()
            is None
        )
        assert db.session.get(GroupKickoff, digi_id) is None
    for url in (f"/network/clock/actions/{owned_id}", f"/network/clock/actions/{shared_id}"):
        assert client.get(url).status_code == 200, url
    assert client.get(f"/network/calendar/{region_token}.ics").status_code == 200
    assert client.get(f"/network/calendar/{group_token}.ics").status_code == 404
    assert client.get(f"/network/region/{ids['region']}/clock").status_code == 200


@contextmanager
def counted(app: Flask) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def add_groups(app: Flask, ids: dict[str, int], count: int) -> int:
    """`count` digi groups in North and theme teams in the region, two members each."""
    with app.app_context():
        north = db.session.get(Organisation, ids["north"])
        region = db.session.get(Region, ids["region"])
        for number in range(count):
            digi = structure.create_group(organisation_scope(north), GroupKind.DIGI, f"D{number}")
            structure.add_member(digi, "p0@north.fi", GroupRole.CHAIR)
            structure.add_member(digi, "p1@north.fi", GroupRole.MEMBER)
            theme = structure.create_group(region_scope(region), GroupKind.THEME, f"T{number}")
            structure.add_member(theme, "p2@north.fi", GroupRole.LEAD)
            structure.add_member(theme, "p3@north.fi", GroupRole.PARTICIPANT)
        db.session.commit()
        return digi.id


def queries(app: Flask, client, url: str) -> int:  # type: ignore[no-untyped-def]
    client.get(url)  # warm up (first-request work is not the page's)
    with counted(app) as statements:
        assert client.get(url).status_code == 200, url
    return len(statements)


def test_structure_pages_do_not_query_once_a_group_or_member(client, auth, app, ids) -> None:  # type: ignore[no-untyped-def]
    pages = (
        f"/network/regions/{ids['region']}",
        f"/network/region/{ids['region']}/groups",
        f"/network/organisation/{ids['north']}/groups",
    )
    add_groups(app, ids, 2)
    login(client, auth, "admin@campus.fi")
    few = [queries(app, client, url) for url in pages]
    group_id = add_groups(app, ids, 6)
    many = [queries(app, client, url) for url in pages]
    assert few == many
    # A group page with two members, then with eight.
    url = f"/network/groups/{group_id}"
    two = queries(app, client, url)
    with app.app_context():
        group = db.session.get(Group, group_id)
        for number in range(2, 8):
            structure.add_member(group, f"p{number}@north.fi", GroupRole.MEMBER)
        db.session.commit()
    assert queries(app, client, url) == two
