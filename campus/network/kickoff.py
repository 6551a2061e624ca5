"""The digi group kick-off kit: a question battery and a responsibility matrix (RACI) that a new
group fills in; the filled-in copy (GroupKickoff) is the group's starting document.

A scope (region or organisation) can have its own kit; an organisation without one uses its
region's, and without either the campus's built-in kit below. Services never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from campus.auth.models import Region
from campus.auth.models import User
from campus.extensions import db
from campus.network.access import Scope
from campus.network.access import region_scope
from campus.network.access import scope_of
from campus.network.annual import accountable_count
from campus.network.clock_models import Raci
from campus.network.models import Group
from campus.network.models import GroupKickoff
from campus.network.models import KickoffKit
from campus.network.structure import StructureError

MAX_QUESTIONS = 60
MAX_TASKS = 40
MAX_PARTIES = 12
MAX_LINE = 500
MAX_ANSWER = 5000
TITLE_MAX = 200
LETTERS = ("", *(letter.value for letter in Raci))  # "" = no part in the task

DEFAULT_TITLE = _l("Starting the digi group's work")
DEFAULT_QUESTIONS = (
    _l(
        "What is the group's mandate, and who gave it (the education board, the head of education)?"
    ),
    _l(
        "Who are the members, which schools and staff groups do they speak for, and who is missing?"
    ),
    _l(
        "Where does digital teaching and learning stand today: what does the starting-point assessment or the last survey show?"
    ),
    _l("Which devices, networks and services do pupils and staff have, and what is not working?"),
    _l(
        "What do the tutor teachers do, how much time do they have, and how does the group work with them?"
    ),
    _l(
        "How do pupils' digital skills get taught and assessed, and which curriculum goals need the most work?"
    ),
    _l(
        "What competence do staff need next year, and which paths and badges of the campus serve it?"
    ),
    _l("How does the group tell schools, guardians and the regional group what it decides?"),
    _l(
        "How are data protection, information security and accessibility looked after in new tools?"
    ),
    _l(
        "Which three goals does the group set for the first year, and how will you know they are met?"
    ),
    _l("When does the group meet, how are meetings prepared, and where are the notes kept?"),
)
DEFAULT_TASKS = (
    _l("Drawing up the digi group's annual clock"),
    _l("Setting the roadmap's goals for the municipality"),
    _l("Running the starting-point assessment round"),
    _l("Device onboarding at the start of the school year"),
    _l("Planning the tutor teachers' work"),
    _l("Choosing and introducing new digital tools"),
    _l("Data protection and information security checks"),
    _l("Reporting to the regional group and the education board"),
)
DEFAULT_PARTIES = (
    _l("Chair"),
    _l("Secretary"),
    _l("Principals"),
    _l("Tutor teachers"),
    _l("ICT support"),
    _l("Head of education"),
)


@dataclass
class KitContent:
    """What a group fills in: a stored kit, or the built-in one (kit_id None)."""

    title: str
    questions: list[str]
    tasks: list[str]
    parties: list[str]
    kit_id: int | None = None
    source: str = field(default="")  # the scope's name the kit comes from ("" = built in)


def default_kit() -> KitContent:
    return KitContent(
        title=str(DEFAULT_TITLE),
        questions=[str(text) for text in DEFAULT_QUESTIONS],
        tasks=[str(text) for text in DEFAULT_TASKS],
        parties=[str(text) for text in DEFAULT_PARTIES],
    )


def scope_kit(scope: Scope) -> KickoffKit | None:
    """The scope's own kit (the first one, if there are several)."""
    query = db.select(KickoffKit).order_by(KickoffKit.id)
    if scope.is_region:
        query = query.where(KickoffKit.region_id == scope.id, KickoffKit.organisation_id.is_(None))
    else:
        query = query.where(KickoffKit.organisation_id == scope.id, KickoffKit.region_id.is_(None))
    return db.session.execute(query.limit(1)).scalar_one_or_none()


def kit_for(scope: Scope) -> KitContent:
    """The kit a group of the scope starts from: the scope's, its region's, or the built-in."""
    kit = scope_kit(scope)
    source = scope.name
    if kit is None and not scope.is_region and scope.region_id is not None:
        region = db.session.get(Region, scope.region_id)
        if region is not None:
            kit, source = scope_kit(region_scope(region)), region.name
    if kit is None:
        return default_kit()
    return KitContent(
        kit.title, list(kit.questions), list(kit.tasks), list(kit.parties), kit.id, source
    )


def _lines(text: str, limit: int, too_many: str, too_long: str) -> list[str]:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if len(lines) > limit:
        raise StructureError(too_many % {"count": limit})
    for line in lines:
        if len(line) > MAX_LINE:
            raise StructureError(too_long % {"count": MAX_LINE, "line": line[:60]})
    return lines


def parse_kit(title: str, questions: str, tasks: str, parties: str) -> KitContent:
    """A kit from a form's textareas (one item a line); refuses what is over the limits."""
    title = " ".join((title or "").split())
    if not title:
        raise StructureError(_("Give the kit a title."))
    if len(title) > TITLE_MAX:
        raise StructureError(_("A title can be at most %(count)s characters.", count=TITLE_MAX))
    too_long = _("A line can be at most %(count)s characters: “%(line)s…”.")
    content = KitContent(
        title=title,
        questions=_lines(
            questions, MAX_QUESTIONS, _("A kit can have at most %(count)s questions."), too_long
        ),
        tasks=_lines(tasks, MAX_TASKS, _("A kit can have at most %(count)s tasks."), too_long),
        parties=_lines(
            parties, MAX_PARTIES, _("A kit can have at most %(count)s parties."), too_long
        ),
    )
    if not content.questions:
        raise StructureError(_("Write at least one question."))
    if content.tasks and not content.parties:
        raise StructureError(_("A matrix with tasks needs parties (the columns)."))
    return content


def save_kit(scope: Scope, content: KitContent) -> KickoffKit:
    """Create or replace the scope's kit. Groups that started from it keep their own copy."""
    kit = scope_kit(scope)
    if kit is None:
        kit = KickoffKit(**scope.columns())
        db.session.add(kit)
    kit.title = content.title
    kit.questions = list(content.questions)
    kit.tasks = list(content.tasks)
    kit.parties = list(content.parties)
    db.session.flush()
    return kit


def kickoff_of(group: Group) -> GroupKickoff | None:
    return db.session.get(GroupKickoff, group.id)


def kickoffs_of(groups: list[Group]) -> dict[int, GroupKickoff]:
    """The started kick-offs of the groups, by group id (one query)."""
    if not groups:
        return {}
    query = db.select(GroupKickoff).where(GroupKickoff.group_id.in_([g.id for g in groups]))
    return {kickoff.group_id: kickoff for kickoff in db.session.execute(query).scalars()}


def start_kickoff(
    group: Group, now: datetime, kit: KitContent | KickoffKit | None = None
) -> GroupKickoff:
    """Copy the kit (by default the one the group's scope uses) into the group's document."""
    if kickoff_of(group) is not None:
        raise StructureError(_("%(group)s has already started its kick-off.", group=group.name))
    if kit is None:
        kit = kit_for(scope_of(group))
    kit_id = kit.id if isinstance(kit, KickoffKit) else kit.kit_id
    kickoff = GroupKickoff(
        group_id=group.id,
        kit_id=kit_id,
        questions=list(kit.questions),
        answers=["" for _question in kit.questions],
        tasks=list(kit.tasks),
        parties=list(kit.parties),
        matrix=[["" for _party in kit.parties] for _task in kit.tasks],
        updated_at=now,
    )
    db.session.add(kickoff)
    db.session.flush()
    return kickoff


def check_matrix(tasks: list[str], parties: list[str], matrix: list[list[str]]) -> list[str]:
    """Refuse a matrix of the wrong shape, an unknown letter, or a task with two Accountables;
    return warnings for tasks with no Accountable."""
    if len(matrix) != len(tasks) or any(len(row) != len(parties) for row in matrix):
        raise StructureError(_("The matrix does not match the kit's tasks and parties."))
    warnings: list[str] = []
    for task, row in zip(tasks, matrix, strict=True):
        if any(letter not in LETTERS for letter in row):
            raise StructureError(_("Use only the letters R, A, C and I in the matrix."))
        accountable = accountable_count(row)
        if accountable > 1:
            raise StructureError(
                _("“%(task)s” has more than one Accountable (A): choose one.", task=task)
            )
        if accountable == 0:
            warnings.append(_("“%(task)s” has no Accountable (A) yet.", task=task))
    return warnings


def save_kickoff(
    group: Group,
    answers: list[str],
    matrix: list[list[str]],
    user: User | None,
    now: datetime,
) -> list[str]:
    """Store the group's answers and matrix; returns the warnings (tasks without an A)."""
    kickoff = kickoff_of(group) or start_kickoff(group, now)
    if len(answers) != len(kickoff.questions):
        raise StructureError(_("The answers do not match the kit's questions."))
    cleaned = [(answer or "").strip() for answer in answers]
    if any(len(answer) > MAX_ANSWER for answer in cleaned):
        raise StructureError(_("An answer can be at most %(count)s characters.", count=MAX_ANSWER))
    letters = [[(letter or "").strip().upper() for letter in row] for row in matrix]
    warnings = check_matrix(kickoff.tasks, kickoff.parties, letters)
    kickoff.answers = cleaned
    kickoff.matrix = letters
    kickoff.updated_at = now
    kickoff.updated_by_id = user.id if user is not None else None
    return warnings
