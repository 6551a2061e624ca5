"""Demo data for the network: the demo region's groups and units, the shipped regional template
imported and copied into the region, and Demo College's own roadmap and annual clock.

`make run` runs it after the assessment demo (`flask network demo`); a second run adds nothing.
The structure has two deliberate breaks, so the region page shows what its rules flag: one
municipality has no representative in the regional group and no digi group yet, and one
representative is a member, not the chair, of their municipality's digi group.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from pathlib import Path

from campus.assessments.demo import DEMO_REGION_NAME
from campus.assessments.demo import DEMO_REGION_SLUG
from campus.assessments.demo import ORGANISATIONS
from campus.assessments.demo import RESPONDENT_DOMAIN
from campus.auth.models import Organisation
from campus.auth.models import OrganisationKind
from campus.auth.models import Region
from campus.auth.models import User
from campus.auth.services import DEMO_EMAIL
from campus.auth.services import DEMO_ORGANISATION_SLUG
from campus.auth.services import hash_password
from campus.clock import utcnow
from campus.extensions import db
from campus.network import kickoff
from campus.network import roadmaps
from campus.network import toolkits
from campus.network.access import organisation_scope
from campus.network.access import region_scope
from campus.network.clock_models import ClockAction
from campus.network.clock_models import ClockActionDone
from campus.network.clock_models import Raci
from campus.network.clock_models import RaciEntry
from campus.network.clock_models import Toolkit
from campus.network.demo_data import COLLEGE_ACTIONS
from campus.network.demo_data import COLLEGE_GOALS
from campus.network.demo_data import COLLEGE_MEASURE
from campus.network.demo_data import COLLEGE_STARTING_POINTS
from campus.network.demo_data import DIGI_GROUPS
from campus.network.demo_data import KICKOFF_ANSWERS
from campus.network.demo_data import NEW_MUNICIPALITY
from campus.network.demo_data import REGION_GROUPS
from campus.network.demo_data import REGIONAL_TEMPLATE
from campus.network.demo_data import TEMPLATES_DIR
from campus.network.demo_data import UNITS
from campus.network.demo_data import Member
from campus.network.demo_learning import complete_demo_paths
from campus.network.models import Goal
from campus.network.models import GoalStatus
from campus.network.models import GoalStatusChange
from campus.network.models import Group
from campus.network.models import GroupKind
from campus.network.models import GroupMembership
from campus.network.models import Roadmap
from campus.network.models import Unit


class DemoError(Exception):
    """The network demo cannot be built (missing demo account or template files)."""


@dataclass
class DemoReport:
    created: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return ", ".join(self.created) if self.created else "nothing new (already there)"


def seed_network_demo(content_dir: Path, now: datetime) -> DemoReport:
    """Build (or complete) the demo network; the caller commits."""
    report = DemoReport()
    demo_user = db.session.execute(
        db.select(User).where(User.email == DEMO_EMAIL)
    ).scalar_one_or_none()
    if demo_user is None:
        raise DemoError("no demo account: run `flask auth demo` first")
    region = _region()
    organisations = _organisations(region, report)
    _units(organisations, report)
    people = _People(organisations, demo_user)
    groups = _groups(region, organisations, people, report)
    toolkit_rows = _import_templates(content_dir, demo_user, now, report)
    regional = next((t for t in toolkit_rows if t.slug == REGIONAL_TEMPLATE), None)
    if regional is not None and not _has_roadmap(region_id=region.id):
        toolkits.apply(regional, region_scope(region), now.year - 1, demo_user, now)
        report.created.append("the regional roadmap and annual clock from the template")
        _progress_region(region, demo_user, now)
    college = organisations[DEMO_ORGANISATION_SLUG]
    if not _has_roadmap(organisation_id=college.id):
        _college_roadmap(college, region, groups, demo_user, now)
        report.created.append("Demo College's roadmap and annual clock")
    if complete_demo_paths(people.get, people.demo_user.id, groups, now):
        report.created.append("path completions of the region's staff (their badges follow)")
    digi = groups.get(GroupKind.DIGI)
    if digi is not None and kickoff.kickoff_of(digi) is None:
        kickoff.start_kickoff(digi, now)
        document = kickoff.kickoff_of(digi)
        answers = list(KICKOFF_ANSWERS) + [""] * len(document.questions)
        kickoff.save_kickoff(
            digi, answers[: len(document.questions)], document.matrix, demo_user, now
        )
        report.created.append("the digi group's kick-off document")
    db.session.flush()
    return report


def _region() -> Region:
    region = db.session.execute(
        db.select(Region).where(Region.slug == DEMO_REGION_SLUG)
    ).scalar_one_or_none()
    if region is None:
        region = Region(slug=DEMO_REGION_SLUG, name=DEMO_REGION_NAME)
        db.session.add(region)
        db.session.flush()
    return region


def _organisations(region: Region, report: DemoReport) -> dict[str, Organisation]:
    specs = [(s.slug, s.name, s.kind) for s in ORGANISATIONS]
    specs.append((*NEW_MUNICIPALITY, OrganisationKind.MUNICIPALITY))
    found = {}
    for slug, name, kind in specs:
        organisation = db.session.execute(
            db.select(Organisation).where(Organisation.slug == slug)
        ).scalar_one_or_none()
        if organisation is None:
            if slug == DEMO_ORGANISATION_SLUG:
                raise DemoError("no demo organisation: run `flask auth demo` first")
            organisation = Organisation(slug=slug, name=name, kind=kind)
            db.session.add(organisation)
            report.created.append(f"organisation {slug}")
        if organisation.region_id is None:
            organisation.region_id = region.id
        found[slug] = organisation
    db.session.flush()
    return found


def _units(organisations: dict[str, Organisation], report: DemoReport) -> None:
    added = 0
    for slug, names in UNITS.items():
        organisation = organisations[slug]
        existing = set(
            db.session.execute(
                db.select(Unit.name).where(Unit.organisation_id == organisation.id)
            ).scalars()
        )
        for name in names:
            if name not in existing:
                db.session.add(Unit(organisation_id=organisation.id, name=name))
                added += 1
    if added:
        report.created.append(f"{added} units")


class _People:
    """The demo's people: the same synthetic staff the assessment demo answers as."""

    FIRST = ("Aino", "Eero", "Helmi", "Juha", "Kaisa", "Lauri", "Maija", "Niko", "Outi")
    LAST = ("Virtanen", "Korhonen", "Mäkinen", "Nieminen", "Laine", "Heikkinen", "Koskinen")

    def __init__(self, organisations: dict[str, Organisation], demo_user: User) -> None:
        self.organisations = organisations
        self.demo_user = demo_user
        self.password_hash = ""

    def get(self, slug: str, number: int) -> User:
        if slug == DEMO_ORGANISATION_SLUG and number == 0:
            return self.demo_user
        email = f"{slug}-{number:02d}@{RESPONDENT_DOMAIN}"
        user = db.session.execute(db.select(User).where(User.email == email)).scalar_one_or_none()
        if user is None:
            if not self.password_hash:
                self.password_hash = hash_password(secrets.token_urlsafe(32))  # nobody logs in
            name = f"{self.FIRST[(number + len(slug)) % 9]} {self.LAST[number % 7]}"
            user = User(
                email=email,
                name=name,
                password_hash=self.password_hash,
                organisation=self.organisations[slug],
                email_verified_at=utcnow(),  # demo people: their badges are issued at once
            )
            db.session.add(user)
            db.session.flush()
        return user


def _group(kind: GroupKind, name: str, columns: dict[str, int | None], mandate: str) -> Group:
    group = db.session.execute(
        db.select(Group).filter_by(kind=kind, name=name, **columns)
    ).scalar_one_or_none()
    if group is None:
        group = Group(kind=kind, name=name, mandate=mandate, path_slugs=[], badge_slugs=[])
        for column, value in columns.items():
            setattr(group, column, value)
        db.session.add(group)
        db.session.flush()
    return group


def _members(group: Group, members: tuple[Member, ...], people: _People) -> None:
    present = {m.user_id for m in group.memberships}
    for slug, number, role in members:
        person = people.get(slug, number)
        if person.id not in present:
            group.memberships.append(
                GroupMembership(
                    user_id=person.id, role=role, organisation_id=people.organisations[slug].id
                )
            )


def _groups(
    region: Region, organisations: dict[str, Organisation], people: _People, report: DemoReport
) -> dict[GroupKind, Group]:
    before = db.session.execute(db.select(db.func.count(Group.id))).scalar_one()
    by_kind = {}
    for kind, name, mandate, theme, members in REGION_GROUPS:
        group = _group(kind, name, region_scope(region).columns(), mandate)
        group.theme_slug = theme
        if kind == GroupKind.REGIONAL:
            group.badge_slugs = ["regional-developer", "regional-development-work"]
        if kind == GroupKind.TUTORS:
            group.badge_slugs = ["tutor-teacher", "tutoring-work"]
            group.path_slugs = ["tutor-teacher"]
        _members(group, members, people)
        by_kind[kind] = group
    for slug, name, members in DIGI_GROUPS:
        scope = organisation_scope(organisations[slug])
        mandate = (
            "Organisaation digitaalisen kehittämisen ryhmä: toteuttaa tiekarttaa ja vuosikelloa."
        )
        group = _group(GroupKind.DIGI, name, scope.columns(), mandate)
        _members(group, members, people)
        if slug == DEMO_ORGANISATION_SLUG:
            by_kind[GroupKind.DIGI] = group
    db.session.flush()
    added = db.session.execute(db.select(db.func.count(Group.id))).scalar_one() - before
    if added:
        report.created.append(f"{added} groups")
    return by_kind


def _import_templates(
    content_dir: Path, user: User, now: datetime, report: DemoReport
) -> list[Toolkit]:
    folder = content_dir / TEMPLATES_DIR
    files = sorted(folder.glob("*.toml")) if folder.is_dir() else []
    if not files:
        raise DemoError(f"no template files in {folder}")
    rows = []
    for path in files:
        document = toolkits.read_toolkit(path.read_text(encoding="utf-8"))
        existing = db.session.execute(
            db.select(Toolkit).where(Toolkit.slug == document["slug"])
        ).scalar_one_or_none()
        if existing is None:
            existing = toolkits.import_file(path.read_text(encoding="utf-8"), user, now)
            report.created.append(f"template {existing.slug}")
        rows.append(existing)
    return rows


def _has_roadmap(**columns: int) -> bool:
    return (
        db.session.execute(db.select(Roadmap.id).filter_by(**columns).limit(1)).first() is not None
    )


def _progress_region(region: Region, user: User, now: datetime) -> None:
    """A year and a half of work: some goals under way, last year's actions done, this year's
    done up to last month (one missed)."""
    roadmap = db.session.execute(
        db.select(Roadmap).where(Roadmap.region_id == region.id)
    ).scalar_one()
    for index, goal in enumerate(roadmap.goals):
        if index % 3 == 0:
            roadmaps.set_status(
                goal, GoalStatus.IN_PROGRESS, "Työ käynnistyi seudun koulutuspäivässä.", user, now
            )
        if index == 1:
            roadmaps.set_status(
                goal, GoalStatus.ACHIEVED, "Tavoitetila todettiin kevätkatsauksessa.", user, now
            )
    actions = db.session.execute(
        db.select(ClockAction).where(ClockAction.region_id == region.id)
    ).scalars()
    for index, action in enumerate(actions):
        db.session.add(
            ClockActionDone(action_id=action.id, year=now.year - 1, done_by_id=user.id, done_at=now)
        )
        if action.end_month < now.month and action.end_month >= action.start_month and index != 2:
            db.session.add(
                ClockActionDone(action_id=action.id, year=now.year, done_by_id=user.id, done_at=now)
            )


def _college_roadmap(
    college: Organisation, region: Region, groups: dict[GroupKind, Group], user: User, now: datetime
) -> None:
    regional_goals = list(
        db.session.execute(
            db.select(Goal)
            .join(Roadmap)
            .where(Roadmap.region_id == region.id)
            .order_by(Goal.position, Goal.id)
        ).scalars()
    )
    roadmap = Roadmap(
        organisation_id=college.id,
        title="Demo Collegen digitaalisen kehittämisen tiekartta",
        first_year=now.year - 1,
        last_year=now.year + 2,
    )
    db.session.add(roadmap)
    digi = groups.get(GroupKind.DIGI)
    for position, (area, focus, title, target, serves, status) in enumerate(COLLEGE_GOALS):
        goal = Goal(
            position=position,
            area=area,
            focus=focus,
            title=title,
            starting_point=COLLEGE_STARTING_POINTS[position],
            target_state=target,
            instrument_slug=COLLEGE_MEASURE[0] if position == 0 else None,
            assessment_area_key=COLLEGE_MEASURE[1] if position == 0 else None,
            status=GoalStatus.PLANNED,
            group_id=digi.id if digi else None,
            serves_goal_id=(
                regional_goals[serves].id
                if serves is not None and serves < len(regional_goals)
                else None
            ),
            path_slugs=[],
            badge_slugs=[],
        )
        roadmap.goals.append(goal)
        goal.history.append(
            GoalStatusChange(status=GoalStatus.PLANNED, changed_at=now, changed_by_id=user.id)
        )
        if status != GoalStatus.PLANNED:
            roadmaps.set_status(goal, status, "Digiryhmän katsaus.", user, now)
    db.session.flush()
    for title, start_month, start_day, end_month, end_day, _kind in COLLEGE_ACTIONS:
        action = ClockAction(
            organisation_id=college.id,
            title=title,
            start_month=start_month,
            start_day=start_day,
            end_month=end_month,
            end_day=end_day,
            first_year=now.year - 1,
            group_id=digi.id if digi else None,
            goal_id=roadmap.goals[0].id,
            path_slugs=[],
        )
        db.session.add(action)
        db.session.flush()
        if digi is not None:
            db.session.add(
                RaciEntry(action_id=action.id, group_id=digi.id, letter=Raci.ACCOUNTABLE)
            )
        db.session.add(
            ClockActionDone(action_id=action.id, year=now.year - 1, done_by_id=user.id, done_at=now)
        )
