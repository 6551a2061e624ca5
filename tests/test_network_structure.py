"""Structure services and rules: regions, units, groups, members, the flags, and the kick-off kit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from campus.auth.models import Organisation
from campus.auth.models import OrganisationKind
from campus.auth.models import Region
from campus.auth.models import User
from campus.extensions import db
from campus.network import kickoff as kits
from campus.network import regions
from campus.network import rules
from campus.network import structure
from campus.network.access import organisation_scope
from campus.network.access import region_scope
from campus.network.models import Group
from campus.network.models import GroupKind
from campus.network.models import GroupMembership
from campus.network.models import GroupRole
from campus.network.structure import StructureError

NOW = datetime(2026, 3, 2, 9, 30)


@pytest.fixture
def world(app_ctx: None, make_user: Callable[..., int]):  # type: ignore[no-untyped-def]
    """A region with two municipalities and a provider; one user in each organisation."""
    region = regions.create_region("Lakeside")
    north = Organisation(
        name="North", slug="north", kind=OrganisationKind.MUNICIPALITY, region_id=region.id
    )
    south = Organisation(
        name="South", slug="south", kind=OrganisationKind.MUNICIPALITY, region_id=region.id
    )
    college = Organisation(name="College", slug="college", region_id=region.id)
    elsewhere = Organisation(name="Elsewhere", slug="elsewhere", kind=OrganisationKind.MUNICIPALITY)
    db.session.add_all([north, south, college, elsewhere])
    db.session.commit()
    for email, org in [
        ("anna@north.fi", north),
        ("bert@north.fi", north),
        ("sara@south.fi", south),
        ("cole@college.fi", college),
        ("eve@elsewhere.fi", elsewhere),
    ]:
        make_user(email, organisation_id=org.id)
    return {
        "region": region,
        "north": north,
        "south": south,
        "college": college,
        "elsewhere": elsewhere,
    }


def codes(flags: list[rules.Flag]) -> list[str]:
    return [flag.code for flag in flags]


def user(email: str) -> User:
    return db.session.execute(db.select(User).where(User.email == email)).scalar_one()


# Regions and units ----------------------------------------------------------------------------


def test_regions_are_created_renamed_and_assigned(world) -> None:  # type: ignore[no-untyped-def]
    region = world["region"]
    assert region.slug == "lakeside"
    with pytest.raises(StructureError, match="already exists"):
        regions.create_region("Lakeside")
    with pytest.raises(StructureError):
        regions.create_region("   ")
    other = regions.create_region("Hills")
    with pytest.raises(StructureError):
        regions.rename_region(other, "Lakeside")
    regions.rename_region(other, "  Green   Hills ")
    assert other.name == "Green Hills"
    regions.assign_region(world["elsewhere"], other)
    assert world["elsewhere"].region_id == other.id
    regions.assign_region(world["elsewhere"], None)
    assert world["elsewhere"].region_id is None
    assert [org.name for org in regions.region_organisations(region)] == [
        "College",
        "North",
        "South",
    ]


def test_units_are_unique_per_organisation(world) -> None:  # type: ignore[no-untyped-def]
    north, south = world["north"], world["south"]
    school = regions.add_unit(north, "Harbour School")
    regions.add_unit(south, "Harbour School")  # another organisation may use the name
    with pytest.raises(StructureError, match="already has a unit"):
        regions.add_unit(north, "Harbour  School")
    with pytest.raises(StructureError):
        regions.add_unit(north, "x" * 201)
    regions.rename_unit(school, "Harbour Upper School")
    assert [unit.name for unit in regions.units_of(north)] == ["Harbour Upper School"]
    regions.remove_unit(school)
    db.session.flush()
    assert regions.units_of(north) == []


# Groups and members ---------------------------------------------------------------------------


def test_group_kinds_allowed_per_scope(world) -> None:  # type: ignore[no-untyped-def]
    region_s, north_s = region_scope(world["region"]), organisation_scope(world["north"])
    for kind in (GroupKind.STEERING, GroupKind.REGIONAL, GroupKind.TUTORS, GroupKind.THEME):
        assert structure.create_group(region_s, kind, f"R {kind}").region_id == world["region"].id
    with pytest.raises(StructureError, match="region cannot"):
        structure.create_group(region_s, GroupKind.DIGI, "Digi")
    for kind in (GroupKind.STEERING, GroupKind.REGIONAL):
        with pytest.raises(StructureError, match="organisation cannot"):
            structure.create_group(north_s, kind, "No")
    digi = structure.create_group(north_s, GroupKind.DIGI, "North digi", "Plan the year.")
    assert digi.organisation_id == world["north"].id and digi.mandate == "Plan the year."
    assert [group.name for group in structure.groups_of(north_s)] == ["North digi"]


def test_default_and_chosen_paths_and_badges_must_exist(world) -> None:  # type: ignore[no-untyped-def]
    scope = region_scope(world["region"])
    existing_badges = structure.existing_badge_slugs()
    group = structure.create_group(scope, GroupKind.REGIONAL, "Regional")
    # Only slugs the campus has are suggested (the test campus has none of the defaults).
    assert set(group.badge_slugs) <= existing_badges
    assert set(group.badge_slugs) == existing_badges & {
        "regional-developer",
        "regional-development-work",
    }
    badge = sorted(existing_badges)[0]
    structure.update_group(group, "Regional ICT", "Mandate", None, [], [badge, badge])
    assert group.badge_slugs == [badge] and group.name == "Regional ICT"
    with pytest.raises(StructureError, match="no badge no-such-badge"):
        structure.update_group(group, "Regional ICT", "", None, [], ["no-such-badge"])
    with pytest.raises(StructureError, match="no path no-such-path"):
        structure.update_group(group, "Regional ICT", "", None, ["no-such-path"], [])


def test_members_roles_and_represented_organisations(world) -> None:  # type: ignore[no-untyped-def]
    regional = structure.create_group(region_scope(world["region"]), GroupKind.REGIONAL, "Reg")
    anna = structure.add_member(regional, "ANNA@north.fi ", GroupRole.CHAIR)
    assert anna.organisation_id == world["north"].id  # their own organisation by default
    with pytest.raises(StructureError, match="already a member"):
        structure.add_member(regional, "anna@north.fi", GroupRole.MEMBER)
    # An unknown address and a person of another organisation get the same message.
    refused = "No one with that address can join this group"
    with pytest.raises(StructureError, match=refused):
        structure.add_member(regional, "nobody@north.fi", GroupRole.MEMBER)
    with pytest.raises(StructureError, match=refused):
        structure.add_member(regional, "eve@elsewhere.fi", GroupRole.MEMBER, world["south"].id)
    with pytest.raises(StructureError, match="cannot have that role"):
        structure.add_member(regional, "bert@north.fi", GroupRole.DEVELOPER)
    with pytest.raises(StructureError, match="already leads"):
        structure.add_member(regional, "bert@north.fi", GroupRole.CHAIR)
    # Someone of the region can represent another organisation of the region, none outside it.
    with pytest.raises(StructureError, match="organisation of the region"):
        structure.add_member(regional, "sara@south.fi", GroupRole.MEMBER, world["elsewhere"].id)
    sara = structure.add_member(regional, "sara@south.fi", GroupRole.MEMBER, world["north"].id)
    assert sara.organisation_id == world["north"].id

    digi = structure.create_group(organisation_scope(world["north"]), GroupKind.DIGI, "N digi")
    with pytest.raises(StructureError, match="represents its organisation"):
        structure.add_member(digi, "bert@north.fi", GroupRole.MEMBER, world["south"].id)
    with pytest.raises(StructureError, match=refused):  # a region's person, not North's
        structure.add_member(digi, "sara@south.fi", GroupRole.MEMBER)
    bert = structure.add_member(digi, "bert@north.fi", GroupRole.MEMBER, responsibilities="Notes")
    structure.change_member(bert, GroupRole.CHAIR, world["north"].id, "Chairs")
    assert bert.role == GroupRole.CHAIR and bert.responsibilities == "Chairs"
    with pytest.raises(StructureError):
        structure.change_member(bert, GroupRole.LEAD, world["north"].id, "")
    structure.remove_member(bert)
    db.session.flush()
    assert db.session.get(GroupMembership, bert.id) is None
    assert structure.chair_of(regional) is anna


# The rules and their flags --------------------------------------------------------------------


def test_region_without_regional_or_steering_group_is_flagged(world) -> None:  # type: ignore[no-untyped-def]
    scope = region_scope(world["region"])
    flags = codes(rules.structure_flags(world["region"]))
    assert "no_regional_group" in flags and "no_steering_group" in flags
    steering = structure.create_group(scope, GroupKind.STEERING, "Steering")
    regional = structure.create_group(scope, GroupKind.REGIONAL, "Regional ICT group")
    structure.add_member(steering, "cole@college.fi", GroupRole.CHAIR)
    structure.add_member(regional, "cole@college.fi", GroupRole.CHAIR)
    flags = rules.structure_flags(world["region"])
    assert "no_regional_group" not in codes(flags) and "no_steering_group" not in codes(flags)
    messages = [flag.message for flag in flags if flag.code == "no_representative"]
    assert messages == [
        "North has no representative in Regional ICT group.",
        "South has no representative in Regional ICT group.",
    ]


def _full_region(world):  # type: ignore[no-untyped-def]
    """A region that follows every rule: reps chair their municipalities' digi groups."""
    scope = region_scope(world["region"])
    steering = structure.create_group(scope, GroupKind.STEERING, "Steering")
    structure.add_member(steering, "cole@college.fi", GroupRole.CHAIR)
    regional = structure.create_group(scope, GroupKind.REGIONAL, "Regional")
    structure.add_member(regional, "anna@north.fi", GroupRole.CHAIR)
    structure.add_member(regional, "sara@south.fi", GroupRole.MEMBER)
    north = structure.create_group(organisation_scope(world["north"]), GroupKind.DIGI, "N digi")
    structure.add_member(north, "anna@north.fi", GroupRole.CHAIR)
    south = structure.create_group(organisation_scope(world["south"]), GroupKind.DIGI, "S digi")
    structure.add_member(south, "sara@south.fi", GroupRole.CHAIR)
    return regional, north, south


def test_a_region_that_follows_the_rules_has_no_flags(world) -> None:  # type: ignore[no-untyped-def]
    _full_region(world)
    assert rules.structure_flags(world["region"]) == []
    assert rules.organisation_flags(world["north"]) == []


def test_municipality_without_digi_group_and_representative_rules(world) -> None:  # type: ignore[no-untyped-def]
    regional, north, south = _full_region(world)
    sara = next(m for m in south.memberships if m.user.email == "sara@south.fi")
    # The representative is a member but does not chair: a softer notice.
    structure.change_member(sara, GroupRole.MEMBER, world["south"].id, "")
    flags = rules.structure_flags(world["region"])
    notice = [flag for flag in flags if flag.code == "representative_not_chair"]
    assert len(notice) == 1 and notice[0].severity == "notice" and notice[0].group is south
    assert "Sara" in notice[0].message and "no_leader" in codes(flags)
    # Not a member at all: a warning.
    structure.remove_member(sara)
    db.session.flush()
    flags = rules.structure_flags(world["region"])
    assert "representative_not_chair" not in codes(flags)
    warning = next(flag for flag in flags if flag.code == "representative_not_in_digi")
    assert warning.severity == "warning" and warning.organisation is world["south"]
    assert "representative_not_in_digi" in codes(rules.organisation_flags(world["south"]))
    # No digi group at all: the municipality is flagged (the provider is not).
    structure.delete_group(south)
    db.session.flush()
    flags = rules.structure_flags(world["region"])
    assert [f.organisation.name for f in flags if f.code == "no_digi_group"] == ["South"]
    assert "representative_not_in_digi" not in codes(flags)
    assert codes(rules.organisation_flags(world["south"])) == ["no_digi_group"]
    assert rules.organisation_flags(world["college"]) == []


def test_leader_count_and_role_mismatch_flags(world) -> None:  # type: ignore[no-untyped-def]
    regional, north, _south = _full_region(world)
    bert = user("bert@north.fi")
    # Data from elsewhere (an import, an edit of the kind) can break what the services refuse.
    north.memberships.append(
        GroupMembership(user=bert, role=GroupRole.CHAIR, organisation_id=world["north"].id)
    )
    db.session.flush()
    flags = rules.organisation_flags(world["north"])
    many = [flag for flag in flags if flag.code == "many_leaders"]
    assert len(many) == 1 and "Anna" in many[0].message and "Bert" in many[0].message
    north.memberships[-1].role = GroupRole.DEVELOPER
    db.session.flush()
    assert codes(rules.organisation_flags(world["north"])) == ["role_mismatch"]
    theme = structure.create_group(region_scope(world["region"]), GroupKind.THEME, "Theme team")
    structure.add_member(theme, "cole@college.fi", GroupRole.LEAD)
    structure.add_member(theme, "sara@south.fi", GroupRole.PARTICIPANT)
    theme.memberships[-1].role = GroupRole.SECRETARY
    db.session.flush()
    mismatch = [f for f in rules.structure_flags(world["region"]) if f.group is theme]
    assert codes(mismatch) == ["role_mismatch"]
    theme.memberships[-1].role = GroupRole.PARTICIPANT
    db.session.flush()
    assert not [f for f in rules.structure_flags(world["region"]) if f.group is theme]


def test_a_member_from_an_organisation_that_left_the_region_is_flagged(world) -> None:  # type: ignore[no-untyped-def]
    _full_region(world)
    regions.assign_region(world["south"], None)
    db.session.flush()
    flags = rules.structure_flags(world["region"])
    assert "outside_region" in codes(flags)


# The kick-off kit -----------------------------------------------------------------------------


def test_built_in_kit_is_used_without_a_scope_kit(world) -> None:  # type: ignore[no-untyped-def]
    content = kits.kit_for(organisation_scope(world["north"]))
    assert content.kit_id is None and content.source == ""
    assert 8 <= len(content.questions) <= 12 and "Chair" in content.parties
    assert any("mandate" in question for question in content.questions)


def test_kit_limits_and_inheritance(world) -> None:  # type: ignore[no-untyped-def]
    region_s, north_s = region_scope(world["region"]), organisation_scope(world["north"])
    with pytest.raises(StructureError, match="at most 60 questions"):
        kits.parse_kit("Kit", "\n".join(f"Q{i}" for i in range(61)), "", "")
    with pytest.raises(StructureError, match="at most 40 tasks"):
        kits.parse_kit("Kit", "Q", "\n".join(f"T{i}" for i in range(41)), "P")
    with pytest.raises(StructureError, match="at most 12 parties"):
        kits.parse_kit("Kit", "Q", "T", "\n".join(f"P{i}" for i in range(13)))
    with pytest.raises(StructureError, match="500 characters"):
        kits.parse_kit("Kit", "x" * 501, "", "")
    with pytest.raises(StructureError, match="needs parties"):
        kits.parse_kit("Kit", "Q", "T", "")
    content = kits.parse_kit(" Region kit ", "Why?\n\n  How?  \n", "Plan\nReport", "Chair\nICT")
    assert content.questions == ["Why?", "How?"] and content.tasks == ["Plan", "Report"]
    kit = kits.save_kit(region_s, content)
    inherited = kits.kit_for(north_s)
    assert inherited.kit_id == kit.id and inherited.source == "Lakeside"
    own = kits.save_kit(north_s, kits.parse_kit("North kit", "Q1", "", ""))
    assert kits.kit_for(north_s).kit_id == own.id
    assert kits.save_kit(north_s, kits.parse_kit("North kit 2", "Q2", "", "")).id == own.id


def test_kickoff_snapshot_and_raci_rule(world) -> None:  # type: ignore[no-untyped-def]
    region_s = region_scope(world["region"])
    kits.save_kit(region_s, kits.parse_kit("Kit", "Why?\nHow?", "Plan\nReport", "Chair\nICT\nHead"))
    digi = structure.create_group(organisation_scope(world["north"]), GroupKind.DIGI, "N digi")
    kickoff = kits.start_kickoff(digi, NOW)
    assert kickoff.questions == ["Why?", "How?"] and kickoff.matrix == [["", "", ""], ["", "", ""]]
    with pytest.raises(StructureError, match="already started"):
        kits.start_kickoff(digi, NOW)
    # A later edit of the kit does not change the group's copy.
    kits.save_kit(region_s, kits.parse_kit("Kit", "Other?", "", ""))
    assert kits.kickoff_of(digi).questions == ["Why?", "How?"]  # type: ignore[union-attr]

    anna = user("anna@north.fi")
    with pytest.raises(StructureError, match="more than one Accountable"):
        kits.save_kickoff(digi, ["a", "b"], [["A", "A", ""], ["", "", ""]], anna, NOW)
    with pytest.raises(StructureError, match="only the letters"):
        kits.save_kickoff(digi, ["a", "b"], [["X", "", ""], ["", "", ""]], anna, NOW)
    with pytest.raises(StructureError, match="does not match"):
        kits.save_kickoff(digi, ["a", "b"], [["A", ""], ["", "", ""]], anna, NOW)
    with pytest.raises(StructureError, match="answers do not match"):
        kits.save_kickoff(digi, ["a"], [["A", "", ""], ["", "", ""]], anna, NOW)
    warnings = kits.save_kickoff(
        digi, [" Because ", "Together"], [["a", "r", "i"], ["R", "C", ""]], anna, NOW
    )
    assert warnings == ["“Report” has no Accountable (A) yet."]
    saved = kits.kickoff_of(digi)
    assert saved is not None and saved.answers == ["Because", "Together"]
    assert saved.matrix == [["A", "R", "I"], ["R", "C", ""]] and saved.updated_by_id == anna.id
    assert saved.updated_at == NOW


def test_raci_letters_of_the_kit_are_the_clock_letters() -> None:
    assert kits.LETTERS == ("", "R", "A", "C", "I")
    assert kits.check_matrix(["T"], ["P", "Q"], [["A", "C"]]) == []


def test_deleting_a_group_removes_members(world) -> None:  # type: ignore[no-untyped-def]
    digi = structure.create_group(organisation_scope(world["north"]), GroupKind.DIGI, "N digi")
    structure.add_member(digi, "anna@north.fi", GroupRole.CHAIR)
    db.session.commit()
    structure.delete_group(digi)
    db.session.commit()
    assert db.session.execute(db.select(GroupMembership)).first() is None
    assert db.session.execute(db.select(Group)).first() is None
    assert db.session.get(Region, world["region"].id) is not None


def test_many_representatives_of_a_municipality_are_flagged(world) -> None:  # type: ignore[no-untyped-def]
    regional, _north, _south = _full_region(world)
    assert "many_representatives" not in codes(rules.structure_flags(world["region"]))
    bert = structure.add_member(regional, "bert@north.fi", GroupRole.MEMBER)
    flags = [
        f for f in rules.organisation_flags(world["north"]) if f.code == "many_representatives"
    ]
    assert len(flags) == 1 and flags[0].organisation is world["north"]
    assert "North has more than one representative in Regional: Anna, Bert." == flags[0].message
    structure.remove_member(bert)
    db.session.flush()
    assert "many_representatives" not in codes(rules.structure_flags(world["region"]))


def test_leaving_a_region_unlinks_goals_from_its_goals(world) -> None:  # type: ignore[no-untyped-def]
    from campus.network.models import DevelopmentArea
    from campus.network.models import Focus
    from campus.network.models import Goal
    from campus.network.models import Roadmap

    def goal(roadmap: Roadmap, title: str, serves: Goal | None = None) -> Goal:
        made = Goal(roadmap=roadmap, title=title, area=DevelopmentArea.CONTENT, serves=serves)
        made.focus = Focus.LEARNING
        db.session.add(made)
        return made

    regional = Roadmap(title="R", first_year=2025, last_year=2027, region_id=world["region"].id)
    north = Roadmap(title="N", first_year=2025, last_year=2027, organisation_id=world["north"].id)
    south = Roadmap(title="S", first_year=2025, last_year=2027, organisation_id=world["south"].id)
    shared = goal(regional, "Shared")
    north_goal, north_own = goal(north, "N1", shared), goal(north, "N2")
    north_inner = goal(north, "N3", north_own)  # a link inside the organisation stays
    south_goal = goal(south, "S1", shared)
    db.session.flush()
    regions.assign_region(world["north"], world["region"])  # no change: links stay
    assert north_goal.serves_goal_id == shared.id
    regions.assign_region(world["north"], regions.create_region("Hills"))
    db.session.flush()
    assert north_goal.serves_goal_id is None and north_inner.serves_goal_id == north_own.id
    assert south_goal.serves_goal_id == shared.id  # another organisation's link stays
    regions.assign_region(world["south"], None)
    assert south_goal.serves_goal_id is None
