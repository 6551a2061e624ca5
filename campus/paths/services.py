"""Catalogue, enrolment, completion and progress. Services flush; the caller commits."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_
from sqlalchemy import bindparam
from sqlalchemy.orm import contains_eager
from sqlalchemy.orm import defer
from sqlalchemy.orm import selectinload

from campus.auth.models import User
from campus.badges.models import Assertion
from campus.badges.models import BadgeClass
from campus.extensions import db
from campus.insert_once import insert_once
from campus.paths.activities import ActivityError
from campus.paths.models import Completion
from campus.paths.models import CompletionSource
from campus.paths.models import Enrollment
from campus.paths.models import EvidenceSubmission
from campus.paths.models import LearningPath
from campus.paths.models import Module
from campus.paths.models import PathCompletion
from campus.paths.models import Theme
from campus.paths.progress import ModuleState  # noqa: F401  (re-exported)
from campus.paths.progress import PathProgress  # noqa: F401  (re-exported)
from campus.paths.progress import my_paths  # noqa: F401  (re-exported)
from campus.paths.progress import path_progress  # noqa: F401  (re-exported)
from campus.paths.progress import progress_for_paths  # noqa: F401  (re-exported)
from campus.signals import module_completed
from campus.signals import path_completed


@dataclass
class CompletionResult:
    completion: Completion
    created: bool
    path_completion: PathCompletion | None = None


# --- catalogue -----------------------------------------------------------------------------


# Lists show module titles and states, not bodies: skip decoding the large JSON columns.
LIST_ONLY = (defer(Module.body_html), defer(Module.settings))


def list_themes(include_retired: bool = False) -> list[Theme]:
    """Themes with their paths and modules loaded up front (the catalogue shows them all);
    retired themes too when asked (the catalogue copy, campus.paths.catalogue_cache)."""
    query = db.select(Theme)
    if not include_retired:
        query = query.where(Theme.is_retired.is_(False))
    return list(
        db.session.execute(
            query.order_by(Theme.position, Theme.id).options(
                selectinload(Theme.paths).selectinload(LearningPath.modules).options(*LIST_ONLY),
                selectinload(Theme.paths).selectinload(LearningPath.prerequisites),
            )
        ).scalars()
    )


def active_paths(theme: Theme, audience: str | None = None) -> list[LearningPath]:
    return [
        path
        for path in theme.paths
        if not path.is_retired and (audience is None or audience in path.audience)
    ]


def get_path(slug: str, *options: Any) -> LearningPath | None:
    offered = LearningPath.is_retired.is_(False)
    query = db.select(LearningPath).where(LearningPath.slug == slug, offered)
    return db.session.execute(query.options(*options)).scalar_one_or_none()


def get_module(path: LearningPath, slug: str) -> Module | None:
    return next((m for m in path.active_modules if m.slug == slug), None)


# --- enrolment and progress ----------------------------------------------------------------


def completed_path_ids(user: User) -> set[int]:
    return set(
        db.session.execute(
            db.select(PathCompletion.path_id).where(PathCompletion.user_id == user.id)
        ).scalars()
    )


def missing_prerequisites(user: User, path: LearningPath) -> list[LearningPath]:
    done = completed_path_ids(user)
    return [required for required in path.prerequisites if required.id not in done]


def find_enrollment(user: User, path: LearningPath) -> Enrollment | None:
    return db.session.execute(
        db.select(Enrollment).where(Enrollment.user_id == user.id, Enrollment.path_id == path.id)
    ).scalar_one_or_none()


def enroll(user: User, path: LearningPath, now: datetime) -> Enrollment:
    """Enrol once; raises ActivityError while prerequisites are missing."""
    enrollment = find_enrollment(user, path)
    if enrollment is not None:
        return enrollment
    missing = missing_prerequisites(user, path)
    if missing:
        from campus.i18n import pick

        names = ", ".join(pick(p.title) for p in missing)
        raise ActivityError(_("Complete these paths first: %(paths)s", paths=names))
    return _enroll_once(user, path, now)


def _enroll_once(user: User, path: LearningPath, now: datetime) -> Enrollment:
    """A double-clicked "Enrol" inserts concurrently: the second request gets the first's row."""
    enrollment = insert_once(Enrollment, user_id=user.id, path_id=path.id, enrolled_at=now)
    if enrollment is None:
        enrollment = find_enrollment(user, path)
        assert enrollment is not None
    return enrollment


def done_module_ids(user: User, module_ids: list[int]) -> set[int]:
    if not module_ids:
        return set()
    return set(
        db.session.execute(
            db.select(Completion.module_id).where(
                Completion.user_id == user.id, Completion.module_id.in_(module_ids)
            )
        ).scalars()
    )


def leave_path(user: User, path: LearningPath) -> bool:
    """Un-enrol (False if not enrolled); completions, answers and evidence stay."""
    enrollment = find_enrollment(user, path)
    if enrollment is None:
        return False
    db.session.delete(enrollment)
    db.session.flush()
    return True


# --- the badges paths award (pages link to the artwork: its bytes stay unread) ---------------

_NO_ARTWORK = (defer(BadgeClass.image_png), defer(BadgeClass.image_svg))


def path_badges(paths: list[LearningPath]) -> dict[int, BadgeClass]:
    """The badge each path awards, by path id, in one query (none for no paths)."""
    if not paths:
        return {}
    query = db.select(BadgeClass).where(
        BadgeClass.path_id.in_([p.id for p in paths]), BadgeClass.is_retired.is_(False)
    )
    return {b.path_id: b for b in db.session.execute(query.options(*_NO_ARTWORK)).scalars()}


def earned_path_badges(user: User, paths: list[LearningPath]) -> dict[int, Assertion]:
    """`user`'s award (not revoked) of each path's badge, by path id, in one query (none for
    no paths)."""
    if not paths:
        return {}
    found = db.session.execute(
        _earned_statement(), {"user_id": user.id, "path_ids": [p.id for p in paths]}
    ).scalars()
    return {a.badge_class.path_id: a for a in found}


@functools.cache
def _earned_statement():  # type: ignore[no-untyped-def]
    """Built once (the dashboard asks on every request)."""
    return (
        db.select(Assertion)
        .join(Assertion.badge_class)
        .where(Assertion.user_id == bindparam("user_id"), Assertion.revoked_at.is_(None))
        .where(BadgeClass.path_id.in_(bindparam("path_ids", expanding=True)))
        .options(contains_eager(Assertion.badge_class).options(*_NO_ARTWORK))
        .options(defer(Assertion.baked_png), defer(Assertion.baked_svg), defer(Assertion.jws))
    )


@functools.cache
def _badge_and_award_statement():  # type: ignore[no-untyped-def]
    """Built once (every path page): the path's badge and one person's award of it."""
    awarded = and_(
        Assertion.badge_class_id == BadgeClass.id,
        Assertion.user_id == bindparam("user_id"),
        Assertion.revoked_at.is_(None),
    )
    return (
        db.select(BadgeClass, Assertion)
        .outerjoin(Assertion, awarded)
        .where(BadgeClass.path_id == bindparam("path_id"), BadgeClass.is_retired.is_(False))
        .order_by(Assertion.id)
        .options(*_NO_ARTWORK)
        .options(defer(Assertion.baked_png), defer(Assertion.baked_svg), defer(Assertion.jws))
    )


def path_badge_and_award(
    user: User | None, path_id: int
) -> tuple[BadgeClass | None, Assertion | None]:
    """The badge the path awards and `user`'s award of it (not revoked), in one query."""
    rows = db.session.execute(
        _badge_and_award_statement(), {"path_id": path_id, "user_id": user.id if user else None}
    ).all()
    if not rows:
        return None, None
    badge, award = rows[-1]
    return badge, award


# --- completion ----------------------------------------------------------------------------


def complete_module(
    user: User,
    module: Module,
    source: CompletionSource,
    now: datetime,
    score: float | None = None,
) -> CompletionResult:
    """Record that `user` completed `module` (once), and complete its path when it is the last.

    Idempotent: a second call returns the first completion, and so does a concurrent one (the
    unique key skips its insert, see insert_once); the surrounding transaction survives.
    """
    existing = _find_completion(user, module)
    if existing is not None:
        return CompletionResult(existing, created=False)
    completion = insert_once(
        Completion,
        user_id=user.id,
        module_id=module.id,
        completed_at=now,
        score=score,
        source=source.value,
    )
    if completion is None:
        existing = _find_completion(user, module)
        assert existing is not None
        return CompletionResult(existing, created=False)
    if find_enrollment(user, module.path) is None:
        _enroll_once(user, module.path, now)
    module_completed.send(module, user=user, completion=completion)
    result = CompletionResult(completion, created=True)
    result.path_completion = _complete_path_if_done(user, module.path, now)
    return result


def _find_completion(user: User, module: Module) -> Completion | None:
    return db.session.execute(
        db.select(Completion).where(
            Completion.user_id == user.id, Completion.module_id == module.id
        )
    ).scalar_one_or_none()


def _complete_path_if_done(user: User, path: LearningPath, now: datetime) -> PathCompletion | None:
    """Record the path's completion once its last required module is done, and say so to
    path_completed's receivers (which enqueue their follow-ups in this transaction)."""
    required_ids = [m.id for m in path.required_modules]
    if not required_ids or done_module_ids(user, required_ids) != set(required_ids):
        return None
    exists = db.session.execute(
        db.select(PathCompletion).where(
            PathCompletion.user_id == user.id, PathCompletion.path_id == path.id
        )
    ).scalar_one_or_none()
    if exists is not None:
        return None
    path_completion = PathCompletion(user_id=user.id, path_id=path.id, completed_at=now)
    db.session.add(path_completion)
    db.session.flush()
    path_completed.send(path, user=user, path_completion=path_completion)
    return path_completion


def learner_submissions(
    model: type[Any], user: User, module: Module, limit: int | None = None
) -> list:  # type: ignore[type-arg]
    """A learner's rows of `model` (attempts, answers, evidence: any model with `user_id`,
    `module_id` and `submitted_at`) for one module, newest first."""
    query = (
        db.select(model)
        .where(model.user_id == user.id, model.module_id == module.id)
        .order_by(model.submitted_at.desc(), model.id.desc())
        .limit(limit)
    )
    return list(db.session.execute(query).scalars())


def evidence_submissions(user: User, module: Module) -> list[EvidenceSubmission]:
    """Also read by the review queue; the evidence kind asks here whether one still waits."""
    return learner_submissions(EvidenceSubmission, user, module)
