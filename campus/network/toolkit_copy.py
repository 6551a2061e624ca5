"""Copying a template into a region or organisation: new rows owned by the copier (a roadmap
and its goals, clock actions and their RACI, a kit), all in one savepoint, so that a failure
leaves nothing and a copy never shares a row with its source.

Group kinds resolve to the copier's own group of that kind; for an organisation, a regional kind
(steering group, regional ICT group) resolves to its region's group. A kind with no group is
created as an empty group where the scope can have that kind; otherwise the cell is dropped and
reported. Paths, badges and assessment areas this campus does not have are left out, and said so.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import datetime

from flask_babel import force_locale
from flask_babel import gettext as _

from campus.auth.models import User
from campus.extensions import db
from campus.network.access import Scope
from campus.network.clock_models import ClockAction
from campus.network.clock_models import Raci
from campus.network.clock_models import RaciEntry
from campus.network.clock_models import Toolkit
from campus.network.labels import group_kind_label
from campus.network.models import DevelopmentArea
from campus.network.models import Focus
from campus.network.models import Goal
from campus.network.models import GoalStatus
from campus.network.models import GoalStatusChange
from campus.network.models import Group
from campus.network.models import GroupKind
from campus.network.models import KickoffKit
from campus.network.models import Roadmap
from campus.network.roadmap_measures import find_area
from campus.network.structure import allowed_kinds
from campus.network.structure import existing_badge_slugs
from campus.network.structure import existing_path_slugs
from campus.network.structure import groups_of
from campus.network.toolkit_format import ToolkitDocument
from campus.network.toolkit_format import ToolkitError
from campus.network.toolkit_format import party_label_parts
from campus.network.toolkit_format import validate_document
from campus.network.years import EARLIEST_YEAR
from campus.network.years import LATEST_YEAR


def first_year_range(years: int) -> tuple[int, int]:
    """The first years a copy of a `years`-long roadmap can start in: its last year
    (first + years - 1) must still be one the network plans in."""
    return EARLIEST_YEAR, LATEST_YEAR - (years - 1)


def _missing(document: ToolkitDocument, paths: set[str], badges: set[str]) -> list[str]:
    goals = document["roadmap"]["goals"]
    actions = document["clock"]["actions"]
    wanted_paths = {slug for item in [*goals, *actions] for slug in item["paths"]}
    wanted_badges = {slug for goal in goals for slug in goal["badges"]}
    warnings = []
    missing_paths = sorted(wanted_paths - paths)
    if missing_paths:
        warnings.append(
            _(
                "Paths this campus does not have (a copy leaves them out): %(slugs)s.",
                slugs=", ".join(missing_paths),
            )
        )
    missing_badges = sorted(wanted_badges - badges)
    if missing_badges:
        warnings.append(
            _(
                "Badges this campus does not have (a copy leaves them out): %(slugs)s.",
                slugs=", ".join(missing_badges),
            )
        )
    return warnings


def unknown_references(document: ToolkitDocument) -> list[str]:
    """Paths (active ones) and badges this installation does not have (a copy leaves them out)."""
    return _missing(document, existing_path_slugs(), existing_badge_slugs())


@dataclass
class DroppedCell:
    """A RACI cell (or a responsible group) with no group to go to in the copier's scope."""

    action: str
    party: str
    letter: str  # "" for a responsible group


@dataclass
class CopyReport:
    roadmap: Roadmap | None = None
    goals: int = 0
    actions: int = 0
    raci_cells: int = 0
    kit: KickoffKit | None = None
    created_groups: list[Group] = field(default_factory=list)
    dropped: list[DroppedCell] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class _Groups:
    """Group kinds → the copier's groups: its own group of the kind; for an organisation, its
    region's group of a regional kind; else a new empty group, where the kind is allowed."""

    def __init__(self, scope: Scope, language: str, report: CopyReport) -> None:
        self.scope = scope
        self.language = language
        self.report = report
        self.own: dict[GroupKind, Group] = {}
        self.regional: dict[GroupKind, Group] = {}
        # One query; the first group of a kind (by id) is the one a kind resolves to.
        for group in sorted(groups_of(scope, with_region=True), key=lambda g: g.id):
            found = self.own if scope.owns(group) else self.regional
            found.setdefault(group.kind, group)
        self.found: dict[GroupKind, Group | None] = {}

    def group(self, kind: GroupKind) -> Group | None:
        if kind in self.found:
            return self.found[kind]
        allowed = allowed_kinds(self.scope)
        group = self.own.get(kind)
        if group is None and kind not in allowed:
            group = self.regional.get(kind)
        if group is None and kind in allowed:
            with force_locale(self.language):
                name = str(group_kind_label(kind))
            group = Group(kind=kind, name=name, mandate="", **self.scope.columns())
            db.session.add(group)
            self.report.created_groups.append(group)
        self.found[kind] = group
        return group


def _kept(slugs: list[str], known: set[str]) -> list[str]:
    return [slug for slug in slugs if slug in known]


def _copy_roadmap(
    document: ToolkitDocument,
    context: _Context,
) -> dict[str, Goal]:
    plan = document["roadmap"]
    roadmap = Roadmap(
        title=plan["title"],
        first_year=context.first_year,
        last_year=context.first_year + plan["years"] - 1,
        **context.scope.columns(),
    )
    db.session.add(roadmap)
    context.report.roadmap = roadmap
    goals: dict[str, Goal] = {}
    note = _("Copied from the template “%(title)s”", title=document["title"])
    for position, item in enumerate(plan["goals"]):
        group = None
        if "group" in item:
            group = context.groups.group(GroupKind(item["group"]))
            if group is None:
                context.report.dropped.append(DroppedCell(item["title"], item["group"], ""))
        instrument, area = item.get("instrument"), item.get("assessment_area")
        if instrument and area and find_area(instrument, area) is None:
            context.report.warnings.append(
                _(
                    "The goal “%(goal)s” was measured by %(instrument)s/%(area)s, which this"
                    " campus does not have; the copy has no measured starting point.",
                    goal=item["title"],
                    instrument=instrument,
                    area=area,
                )
            )
            instrument = area = None
        goal = Goal(
            roadmap=roadmap,
            position=position,
            area=DevelopmentArea(item["area"]),
            focus=Focus(item["focus"]),
            title=item["title"],
            starting_point=item["starting_point"],
            target_state=item["target_state"],
            indicators=item["indicators"],
            status=GoalStatus.PLANNED,
            instrument_slug=instrument,
            assessment_area_key=area,
            group=group,
            path_slugs=_kept(item["paths"], context.paths),
            badge_slugs=_kept(item["badges"], context.badges),
        )
        goal.history.append(
            GoalStatusChange(
                status=GoalStatus.PLANNED,
                note=note,
                changed_at=context.now,
                changed_by_id=context.user_id,
            )
        )
        db.session.add(goal)
        goals[item["key"]] = goal
    context.report.goals = len(goals)
    db.session.flush()
    return goals


def _copy_actions(document: ToolkitDocument, context: _Context, goals: dict[str, Goal]) -> None:
    report = context.report
    for item in document["clock"]["actions"]:
        group = None
        if "group" in item:
            group = context.groups.group(GroupKind(item["group"]))
            if group is None:
                report.dropped.append(DroppedCell(item["title"], item["group"], ""))
        action = ClockAction(
            title=item["title"],
            description=item["description"],
            start_month=item["start_month"],
            start_day=item.get("start_day"),
            end_month=item["end_month"],
            end_day=item.get("end_day"),
            first_year=context.first_year,
            last_year=None,
            group=group,
            goal=goals.get(item.get("goal", "")),
            path_slugs=_kept(item["paths"], context.paths),
            **context.scope.columns(),
        )
        db.session.add(action)
        for party, letter in item["raci"].items():
            kind, role = party_label_parts(party)
            target = context.groups.group(kind)
            if target is None:
                report.dropped.append(DroppedCell(item["title"], party, letter))
                continue
            action.raci.append(RaciEntry(group=target, member_role=role, letter=Raci(letter)))
            report.raci_cells += 1
        report.actions += 1
    db.session.flush()


def _copy_kit(document: ToolkitDocument, context: _Context) -> None:
    if "kit" not in document:
        return
    kit = document["kit"]
    row = KickoffKit(
        title=kit["title"],
        questions=list(kit["questions"]),
        tasks=list(kit["tasks"]),
        parties=list(kit["parties"]),
        **context.scope.columns(),
    )
    db.session.add(row)
    context.report.kit = row
    db.session.flush()


@dataclass
class _Context:
    scope: Scope
    first_year: int
    user_id: int | None
    now: datetime
    report: CopyReport
    groups: _Groups
    paths: set[str]
    badges: set[str]


def apply(
    source: Toolkit | ToolkitDocument,
    scope: Scope,
    first_year: int,
    user: User | None,
    now: datetime,
) -> CopyReport:
    """Copy a template into `scope`, its period starting in `first_year`; all or nothing."""
    document = validate_document(source.body if isinstance(source, Toolkit) else source)
    first, last = first_year_range(document["roadmap"]["years"])
    if not first <= first_year <= last:
        raise ToolkitError(
            [_("The first year must be between %(first)d and %(last)d.", first=first, last=last)]
        )
    paths, badges = existing_path_slugs(), existing_badge_slugs()
    report = CopyReport()
    report.warnings.extend(_missing(document, paths, badges))
    context = _Context(
        scope=scope,
        first_year=first_year,
        user_id=user.id if user is not None else None,
        now=now,
        report=report,
        groups=_Groups(scope, document["language"], report),
        paths=paths,
        badges=badges,
    )
    with db.session.begin_nested():
        goals = _copy_roadmap(document, context)
        _copy_actions(document, context, goals)
        _copy_kit(document, context)
    return report
