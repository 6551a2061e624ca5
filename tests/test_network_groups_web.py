"""Region, unit, group and kick-off pages: who reads, who edits, and bad input."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from campus.auth.models import Organisation
from campus.auth.models import OrganisationKind
from campus.auth.models import Region
from campus.auth.models import Role
from campus.extensions import db
from campus.network import structure
from campus.network.access import organisation_scope
from campus.network.access import region_scope
from campus.network.models import Group
from campus.network.models import GroupKickoff
from campus.network.models import GroupKind
from campus.network.models import GroupMembership
from campus.network.models import GroupRole
from campus.network.models import Unit


@pytest.fixture
def ids(app: Flask, make_user: Callable[..., int]) -> dict[str, int]:
    """Region Lakeside (North, South municipalities), Faraway outside it; their groups."""
    with app.app_context():
        region = Region(name="Lakeside", slug="lakeside")
        db.session.add(region)
        db.session.flush()
        orgs = {
            name: Organisation(
                name=name,
                slug=name.lower(),
                kind=OrganisationKind.MUNICIPALITY,
                region_id=region.id if name != "Faraway" else None,
            )
            for name in ("North", "South", "Faraway")
        }
        db.session.add_all(orgs.values())
        db.session.commit()
        result = {"region": region.id} | {name.lower(): org.id for name, org in orgs.items()}
    people = {
        "admin@campus.fi": ({Role.ADMIN}, "north"),
        "chair@north.fi": (set(), "north"),
        "learner@north.fi": (set(), "north"),
        "orgadmin@north.fi": ({Role.ORG_ADMIN}, "north"),
        "chair@south.fi": (set(), "south"),
        "orgadmin@south.fi": ({Role.ORG_ADMIN}, "south"),
        "dev@south.fi": ({Role.REGIONAL_DEVELOPER}, "south"),
        "someone@faraway.fi": (set(), "faraway"),
    }
    for email, (roles, org) in people.items():
        make_user(email, roles=roles, organisation_id=result[org])
    with app.app_context():
        north = db.session.get(Organisation, result["north"])
        south = db.session.get(Organisation, result["south"])
        region = db.session.get(Region, result["region"])
        north_digi = structure.create_group(organisation_scope(north), GroupKind.DIGI, "North digi")
        structure.add_member(north_digi, "chair@north.fi", GroupRole.CHAIR)
        south_digi = structure.create_group(organisation_scope(south), GroupKind.DIGI, "South digi")
        structure.add_member(south_digi, "chair@south.fi", GroupRole.CHAIR)
        regional = structure.create_group(region_scope(region), GroupKind.REGIONAL, "Regional ICT")
        db.session.commit()
        result |= {
            "north_digi": north_digi.id,
            "south_digi": south_digi.id,
            "regional": regional.id,
        }
    return result


def login(client, auth, email: str) -> None:  # type: ignore[no-untyped-def]
    auth.logout()
    response = auth.login(email)
    assert response.status_code == 302, email


def members(app: Flask, group_id: int) -> dict[str, str]:
    with app.app_context():
        group = db.session.get(Group, group_id)
        return {member.user.email: member.role.value for member in group.memberships}


def test_group_page_read_matrix(client, auth, ids) -> None:  # type: ignore[no-untyped-def]
    url = f"/network/groups/{ids['north_digi']}"
    assert client.get(url).status_code == 302  # to the login page
    login(client, auth, "learner@north.fi")
    page = client.get(url)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "North digi" in text and "chair@north.fi".split("@")[0].title() in text
    assert "Add a member" not in text  # reads, cannot edit
    assert (
        client.post(f"{url}/members", data={"email": "x@y.fi", "role": "member"}).status_code == 403
    )
    assert client.post(f"{url}/edit", data={"name": "Renamed"}).status_code == 403
    for email in ("someone@faraway.fi", "chair@south.fi"):
        login(client, auth, email)
        assert client.get(url).status_code == 403
    login(client, auth, "dev@south.fi")  # a regional developer reads the region's organisations
    assert client.get(url).status_code == 200


def test_chair_edits_own_group_members_but_not_another_organisations(
    client, auth, app, ids
) -> None:  # type: ignore[no-untyped-def]
    north, south = ids["north_digi"], ids["south_digi"]
    login(client, auth, "chair@south.fi")
    response = client.post(
        f"/network/groups/{north}/members", data={"email": "learner@north.fi", "role": "member"}
    )
    assert response.status_code == 403
    assert "learner@north.fi" not in members(app, north)

    login(client, auth, "chair@north.fi")
    assert "Add a member" in client.get(f"/network/groups/{north}").get_data(as_text=True)
    response = client.post(
        f"/network/groups/{north}/members",
        data={"email": "learner@north.fi", "role": "secretary", "organisation": "0"},
    )
    assert response.status_code == 302
    assert members(app, north)["learner@north.fi"] == "secretary"
    with app.app_context():
        member_id = db.session.execute(
            db.select(GroupMembership.id).where(GroupMembership.role == GroupRole.SECRETARY)
        ).scalar_one()
    prefix = f"member-{member_id}"
    response = client.post(
        f"/network/groups/{north}/members/{member_id}",
        data={f"{prefix}-role": "member", f"{prefix}-organisation": ids["north"]},
    )
    assert response.status_code == 302
    assert members(app, north)["learner@north.fi"] == "member"
    # The chair cannot edit the other organisation's group either.
    assert client.post(f"/network/groups/{south}/edit", data={"name": "X"}).status_code == 403
    response = client.post(f"/network/groups/{north}/members/{member_id}/remove")
    assert response.status_code == 302
    assert "learner@north.fi" not in members(app, north)


def test_org_admin_edits_own_organisations_groups_only(client, auth, app, ids) -> None:  # type: ignore[no-untyped-def]
    login(client, auth, "orgadmin@north.fi")
    response = client.post(
        f"/network/groups/{ids['north_digi']}/edit",
        data={"name": "North digi group", "mandate": "Lead the digital work."},
    )
    assert response.status_code == 302
    with app.app_context():
        group = db.session.get(Group, ids["north_digi"])
        assert (group.name, group.mandate) == ("North digi group", "Lead the digital work.")
    assert (
        client.post(f"/network/groups/{ids['south_digi']}/edit", data={"name": "X"}).status_code
        == 403
    )
    assert client.get(f"/network/groups/{ids['south_digi']}").status_code == 403
    # Creating groups in the own organisation, not in the region.
    response = client.post(
        f"/network/organisation/{ids['north']}/groups",
        data={"kind": "tutor_network", "name": "North tutors"},
    )
    assert response.status_code == 302
    response = client.post(
        f"/network/region/{ids['region']}/groups", data={"kind": "steering", "name": "S"}
    )
    assert response.status_code == 403


def test_regional_developer_edits_the_regions_groups(client, auth, app, ids) -> None:  # type: ignore[no-untyped-def]
    login(client, auth, "dev@south.fi")
    url = f"/network/groups/{ids['regional']}/members"
    response = client.post(url, data={"email": "chair@north.fi", "role": "chair"})
    assert response.status_code == 302
    response = client.post(
        url, data={"email": "dev@south.fi", "role": "member", "organisation": ids["north"]}
    )
    assert response.status_code == 302
    with app.app_context():
        group = db.session.get(Group, ids["regional"])
        represented = {m.user.email: m.organisation.name for m in group.memberships}
    assert represented == {"chair@north.fi": "North", "dev@south.fi": "North"}
    page = client.get(f"/network/region/{ids['region']}/groups").get_data(as_text=True)
    assert "South has no representative in Regional ICT." in page
    assert "has no steering group" in page
    response = client.post(
        f"/network/region/{ids['region']}/groups", data={"kind": "steering", "name": "Steering"}
    )
    assert response.status_code == 302
    assert "has no steering group" not in client.get(
        f"/network/region/{ids['region']}/groups"
    ).get_data(as_text=True)


def test_bad_input_gets_a_message_and_a_4xx(client, auth, app, ids) -> None:  # type: ignore[no-untyped-def]
    login(client, auth, "chair@north.fi")
    url = f"/network/groups/{ids['north_digi']}/members"
    for email in ("nobody@north.fi", "chair@south.fi"):  # unknown, or of another organisation
        response = client.post(url, data={"email": email, "role": "member"})
        assert response.status_code == 422
        assert "No one with that address can join this group" in response.get_data(as_text=True)
    response = client.post(url, data={"email": "learner@north.fi", "role": "chair"})
    assert response.status_code == 422 and "already leads the group" in response.get_data(
        as_text=True
    )
    response = client.post(url, data={"email": "learner@north.fi", "role": "lead"})
    assert response.status_code == 400  # not a role of a digi group
    response = client.post(
        url, data={"email": "learner@north.fi", "role": "member", "organisation": ids["south"]}
    )
    assert response.status_code == 400  # not an organisation this group's members represent
    assert client.post(url, data={"email": "", "role": "member"}).status_code == 400
    assert client.get("/network/groups/9999").status_code == 404
    login(client, auth, "admin@campus.fi")
    response = client.post(
        f"/network/region/{ids['region']}/groups", data={"kind": "digi_group", "name": "Digi"}
    )
    assert response.status_code == 422
    assert "A region cannot have a group of this kind." in response.get_data(as_text=True)
    response = client.post(
        f"/network/region/{ids['region']}/groups", data={"kind": "nonsense", "name": "X"}
    )
    assert response.status_code == 400
    assert client.get("/network/planet/1/groups").status_code == 404


def test_admin_creates_region_and_assigns_organisation(client, auth, app, ids) -> None:  # type: ignore[no-untyped-def]
    login(client, auth, "orgadmin@north.fi")
    assert client.post("/network/regions/", data={"name": "Hills"}).status_code == 403
    assert client.post(f"/network/organisations/{ids['faraway']}/region").status_code == 403
    login(client, auth, "admin@campus.fi")
    page = client.get("/network/regions/").get_data(as_text=True)
    assert "Create a region" in page and "Faraway" in page
    response = client.post("/network/regions/", data={"name": "Hills"})
    assert response.status_code == 302
    with app.app_context():
        hills = db.session.execute(db.select(Region).where(Region.name == "Hills")).scalar_one()
    response = client.post("/network/regions/", data={"name": "Hills"})
    assert response.status_code == 409 and "already exists" in response.get_data(as_text=True)
    assert client.post("/network/regions/", data={"name": ""}).status_code == 400
    prefix = f"org-{ids['faraway']}"
    response = client.post(
        f"/network/organisations/{ids['faraway']}/region", data={f"{prefix}-region": hills.id}
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Organisation, ids["faraway"]).region_id == hills.id
    response = client.post(
        f"/network/organisations/{ids['faraway']}/region", data={f"{prefix}-region": 9999}
    )
    assert response.status_code == 400
    page = client.get(f"/network/regions/{hills.id}").get_data(as_text=True)
    assert "Faraway" in page and "Faraway has no digi group." in page
    assert "has no regional ICT development group" in page


def test_region_page_is_read_by_the_region_only(client, auth, ids) -> None:  # type: ignore[no-untyped-def]
    url = f"/network/regions/{ids['region']}"
    login(client, auth, "learner@north.fi")
    page = client.get(url)
    assert page.status_code == 200 and "Regional ICT" in page.get_data(as_text=True)
    assert "Rename the region" not in page.get_data(as_text=True)
    login(client, auth, "someone@faraway.fi")
    assert client.get(url).status_code == 403
    assert "Lakeside" not in client.get("/network/regions/").get_data(as_text=True)


def test_units_are_added_renamed_and_removed(client, auth, app, ids) -> None:  # type: ignore[no-untyped-def]
    url = f"/network/organisations/{ids['north']}/units"
    login(client, auth, "learner@north.fi")
    assert client.get(url).status_code == 200
    assert client.post(url, data={"name": "School"}).status_code == 403
    login(client, auth, "orgadmin@south.fi")
    assert client.post(url, data={"name": "School"}).status_code == 403
    login(client, auth, "dev@south.fi")  # the region's developer manages its organisations' units
    assert client.post(url, data={"name": "Harbour School"}).status_code == 302
    login(client, auth, "orgadmin@north.fi")
    assert client.post(url, data={"name": "Hill School"}).status_code == 302
    response = client.post(url, data={"name": "Hill School"})
    assert response.status_code == 409 and "already has a unit" in response.get_data(as_text=True)
    with app.app_context():
        unit_ids = dict(db.session.execute(db.select(Unit.name, Unit.id)).all())
    harbour = unit_ids["Harbour School"]
    response = client.post(
        f"{url}/{harbour}/rename", data={f"unit-{harbour}-name": "Harbour Upper"}
    )
    assert response.status_code == 302
    response = client.post(f"{url}/{unit_ids['Hill School']}/remove", follow_redirects=True)
    assert "The unit Hill School is removed." in response.get_data(as_text=True)
    page = client.get(url).get_data(as_text=True)
    assert "Harbour Upper" in page and "Hill School" not in page
    assert (
        client.post(f"/network/organisations/{ids['south']}/units/{harbour}/remove").status_code
        == 403
    )


def test_kickoff_is_filled_in_and_the_raci_rule_holds(client, auth, app, ids) -> None:  # type: ignore[no-untyped-def]
    url = f"/network/groups/{ids['north_digi']}/kickoff"
    login(client, auth, "learner@north.fi")
    page = client.get(url).get_data(as_text=True)
    assert "campus's own kit" in page and "mandate" in page
    assert client.post(url, data={"answer-0": "x"}).status_code == 403
    login(client, auth, "chair@north.fi")
    two_as = {"answer-0": "Our mandate", "cell-0-0": "A", "cell-0-1": "A"}
    response = client.post(url, data=two_as)
    assert response.status_code == 422
    assert "more than one Accountable" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(GroupKickoff, ids["north_digi"]) is None  # nothing kept
    response = client.post(url, data={"answer-0": "Our mandate", "cell-0-0": "A", "cell-1-2": "R"})
    assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "Our mandate" in page and "has no Accountable (A) yet" in page
    with app.app_context():
        kickoff = db.session.get(GroupKickoff, ids["north_digi"])
        assert kickoff.answers[0] == "Our mandate" and kickoff.matrix[0][0] == "A"
    bad = client.post(url, data={"cell-0-0": "Z"})
    assert bad.status_code == 422 and "Use only the letters" in bad.get_data(as_text=True)


def test_kit_page_edits_the_scope_kit(client, auth, app, ids) -> None:  # type: ignore[no-untyped-def]
    url = f"/network/region/{ids['region']}/kickoff-kit"
    login(client, auth, "chair@north.fi")
    assert client.get(url).status_code == 200
    assert client.post(url, data={"title": "K", "questions": "Q"}).status_code == 403
    login(client, auth, "dev@south.fi")
    too_many = "\n".join(f"Question {i}" for i in range(61))
    response = client.post(url, data={"title": "Kit", "questions": too_many})
    assert response.status_code == 422 and "at most 60 questions" in response.get_data(as_text=True)
    data = {"title": "Lakeside kit", "questions": "Why?\nHow?", "tasks": "Plan", "parties": "Chair"}
    assert client.post(url, data=data).status_code == 302
    login(client, auth, "chair@north.fi")
    page = client.get(f"/network/groups/{ids['north_digi']}/kickoff").get_data(as_text=True)
    assert "the kit of Lakeside" in page and "How?" in page


def test_group_page_lists_clock_actions_paths_and_badges(client, auth, app, ids) -> None:  # type: ignore[no-untyped-def]
    from campus.network.clock_models import ClockAction
    from campus.network.clock_models import Raci
    from campus.network.clock_models import RaciEntry

    with app.app_context():
        north_digi = db.session.get(Group, ids["north_digi"])
        north_digi.badge_slugs = ["basics"]
        north_digi.path_slugs = ["basics"]
        owned = ClockAction(
            organisation_id=ids["north"],
            title="Device onboarding",
            start_month=8,
            end_month=9,
            end_day=15,
            first_year=2025,
            group_id=north_digi.id,
        )
        consulted = ClockAction(
            region_id=ids["region"],
            title="Assessment round",
            start_month=10,
            end_month=10,
            first_year=2025,
        )
        unrelated = ClockAction(
            region_id=ids["region"],
            title="Steering review",
            start_month=3,
            end_month=3,
            first_year=2025,
        )
        db.session.add_all([owned, consulted, unrelated])
        db.session.flush()
        db.session.add(
            RaciEntry(
                action_id=consulted.id,
                group_id=north_digi.id,
                member_role=GroupRole.CHAIR,
                letter=Raci.CONSULTED,
            )
        )
        db.session.commit()
    login(client, auth, "learner@north.fi")
    page = client.get(f"/network/groups/{ids['north_digi']}").get_data(as_text=True)
    assert "Device onboarding" in page and "August – 15. September" in page
    assert "the group is responsible" in page
    assert "Assessment round" in page and "C (Chair)" in page
    assert "Steering review" not in page
    assert "Basics badge" in page and "held by 0 of 1 member<" in page  # ngettext: one
    assert 'href="/paths/basics"' in page
