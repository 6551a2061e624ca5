"""The demo's learning: completed paths for the synthetic staff, so that the dashboards count."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from campus.assessments.demo import ORGANISATIONS
from campus.auth.models import User
from campus.extensions import db
from campus.network.models import Group
from campus.network.models import GroupKind
from campus.paths.models import CompletionSource
from campus.paths.models import LearningPath
from campus.paths.models import PathCompletion
from campus.paths.services import complete_module


def complete_demo_paths(
    person_of: Callable[[str, int], User],
    demo_user_id: int,
    groups: dict[GroupKind, Group],
    now: datetime,
) -> bool:
    """Completed paths, so that the dashboards have something to count: most synthetic staff
    have finished one or two paths, the tutor-teacher network its path and the regional group
    the regional-developer path. Badges follow through the outbox when the caller commits."""
    paths = list(
        db.session.execute(
            db.select(LearningPath)
            .where(LearningPath.is_retired.is_(False))
            .order_by(LearningPath.position, LearningPath.id)
        ).scalars()
    )
    if not paths or has_completions(person_of("demo-vocational-institute", 1)):
        return False
    by_slug = {path.slug: path for path in paths}
    chosen: list[tuple[User, LearningPath]] = []
    for index, spec in enumerate(ORGANISATIONS):
        for number in range(1, spec.people + 1):
            person = person_of(spec.slug, number)
            if number % 3:
                chosen.append((person, paths[(number + index) % len(paths)]))
            if number % 4 == 0:
                chosen.append((person, paths[(number * 3 + index) % len(paths)]))
    for kind, slug in (
        (GroupKind.TUTORS, "tutor-teacher"),
        (GroupKind.REGIONAL, "regional-developer"),
    ):
        group = groups.get(kind)
        if group is not None and slug in by_slug:
            chosen += [
                (m.user, by_slug[slug]) for m in group.memberships if m.user_id != demo_user_id
            ]
    for person, path in chosen:
        for module in path.active_modules:
            complete_module(person, module, CompletionSource.SELF, now)
    return True


def has_completions(person: User) -> bool:
    found = db.session.execute(
        db.select(PathCompletion.id).where(PathCompletion.user_id == person.id).limit(1)
    ).first()
    return found is not None
