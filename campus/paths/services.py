"""Catalogue, enrolment, completion and progress. Services flush; the caller commits."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
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
from campus.paths.models import EvidenceStatus
from campus.paths.models import EvidenceSubmission
from campus.paths.models import LearningPath
from campus.paths.models import Module
from campus.paths.models import PathCompletion
from campus.paths.models import Theme
from campus.signals import module_completed
from campus.signals import path_completed


@dataclass
class CompletionResult:
    completion: Completion
    created: bool
    path_completion: PathCompletion | None = None


# Where a learner stands on one module (computed, never stored).
class ModuleState(enum.StrEnum):
    DONE = "done"
    WAITING = "waiting"  # evidence sent, a reviewer has not decided yet
    RETURNED = "returned"  # evidence returned with feedback: the learner sends a new version
    TODO = "todo"


@dataclass
class PathProgress:
    path: LearningPath
    enrolled: bool
    done_module_ids: set[int]
    completed_at: datetime | None
    required_total: int
    required_done: int
    missing_prerequisites: list[LearningPath] = field(default_factory=list)
    evidence: dict[int, EvidenceSubmission] = field(default_factory=dict)

    @property
    def percent(self) -> int:
        if not self.required_total:
            return 0
        return int(100 * self.required_done / self.required_total)

    @property
    def is_complete(self) -> bool:
        return self.completed_at is not None

    def state(self, module: Module) -> ModuleState:
        if module.id in self.done_module_ids:
            return ModuleState.DONE
        latest = self.evidence.get(module.id)
        return _EVIDENCE_STATES.get(latest.status if latest else None, ModuleState.TODO)

    def modules_in(self, *states: str) -> list[Module]:
        return [m for m in self.path.active_modules if self.state(m) in states]

    @property
    def next_module(self) -> Module | None:
        return self.next_after(None)

    def next_after(self, module: Module | None) -> Module | None:
        """The next module to work on (evidence waiting for review is not): after `module` in
        the path first, then before it."""
        modules = self.path.active_modules
        index = modules.index(module) if module in modules else -1
        later = modules[index + 1 :] + modules[: max(index, 0)]
        return next((m for m in later if self.state(m) in _TO_DO), None)


_EVIDENCE_STATES = {
    EvidenceStatus.SUBMITTED: ModuleState.WAITING,
    EvidenceStatus.RETURNED: ModuleState.RETURNED,
}
_TO_DO = (ModuleState.TODO, ModuleState.RETURNED)


# --- catalogue -----------------------------------------------------------------------------


# Lists show module titles and states, not bodies: skip decoding the large JSON columns.
LIST_ONLY = (defer(Module.body_html), defer(Module.settings))


def list_themes() -> list[Theme]:
    """Themes with their paths and modules loaded up front (the catalogue shows them all)."""
    return list(
        db.session.execute(
            db.select(Theme)
            .where(Theme.is_retired.is_(False))
            .order_by(Theme.position)
            .options(
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


def path_progress(user: User | None, path: LearningPath) -> PathProgress:
    return progress_for_paths(user, [path])[path.id]


def progress_for_paths(user: User | None, paths: list[LearningPath]) -> dict[int, PathProgress]:
    """Progress on many paths in four queries (the catalogue and dashboard show ten or more)."""
    anonymous = user is None or not getattr(user, "is_authenticated", True)
    done: set[int] = set()
    finished: dict[int, datetime] = {}
    enrolled: set[int] = set()
    evidence: dict[int, EvidenceSubmission] = {}
    if not anonymous and paths:
        assert user is not None
        done = set(
            db.session.execute(
                db.select(Completion.module_id).where(Completion.user_id == user.id)
            ).scalars()
        )
        finished = {
            path_id: completed_at
            for path_id, completed_at in db.session.execute(
                db.select(PathCompletion.path_id, PathCompletion.completed_at).where(
                    PathCompletion.user_id == user.id
                )
            )
        }
        enrolled = set(
            db.session.execute(
                db.select(Enrollment.path_id).where(Enrollment.user_id == user.id)
            ).scalars()
        )
        evidence = _latest_evidence(user, [m.id for path in paths for m in path.active_modules])
    result = {}
    for path in paths:
        modules = path.active_modules
        required = [m for m in modules if m.is_required]
        path_done = {m.id for m in modules if m.id in done}
        result[path.id] = PathProgress(
            path=path,
            enrolled=path.id in enrolled,
            done_module_ids=path_done,
            completed_at=finished.get(path.id),
            required_total=len(required),
            required_done=sum(1 for m in required if m.id in path_done),
            missing_prerequisites=[]
            if anonymous
            else [p for p in path.prerequisites if p.id not in finished],
            evidence={m.id: evidence[m.id] for m in modules if m.id in evidence},
        )
    return result


def _latest_evidence(user: User, module_ids: list[int]) -> dict[int, EvidenceSubmission]:
    """Each module's newest evidence from `user`, in one query."""
    latest: dict[int, EvidenceSubmission] = {}
    for submission in db.session.execute(
        db.select(EvidenceSubmission)
        .where(EvidenceSubmission.user_id == user.id, EvidenceSubmission.module_id.in_(module_ids))
        .order_by(EvidenceSubmission.submitted_at, EvidenceSubmission.id)
    ).scalars():
        latest[submission.module_id] = submission
    return latest


def my_paths(user: User) -> list[PathProgress]:
    """Progress on every enrolled path that is still offered, newest enrolment first."""
    paths = list(
        db.session.execute(
            db.select(LearningPath)
            .join(Enrollment)
            .where(Enrollment.user_id == user.id, LearningPath.is_retired.is_(False))
            .options(
                selectinload(LearningPath.modules).options(*LIST_ONLY),
                selectinload(LearningPath.theme),
                selectinload(LearningPath.prerequisites),
            )
            .order_by(Enrollment.enrolled_at.desc(), Enrollment.id.desc())
        ).scalars()
    )
    progress = progress_for_paths(user, paths)
    return [progress[path.id] for path in paths]


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
    """The badge each path awards, by path id, in one query."""
    query = db.select(BadgeClass).where(
        BadgeClass.path_id.in_([p.id for p in paths]), BadgeClass.is_retired.is_(False)
    )
    return {b.path_id: b for b in db.session.execute(query.options(*_NO_ARTWORK)).scalars()}


def earned_path_badges(user: User, paths: list[LearningPath]) -> dict[int, Assertion]:
    """`user`'s award (not revoked) of each path's badge, by path id, in one query."""
    query = (
        db.select(Assertion)
        .join(Assertion.badge_class)
        .where(Assertion.user_id == user.id, Assertion.revoked_at.is_(None))
        .where(BadgeClass.path_id.in_([p.id for p in paths]))
        .options(contains_eager(Assertion.badge_class).options(*_NO_ARTWORK))
        .options(defer(Assertion.baked_png), defer(Assertion.baked_svg), defer(Assertion.jws))
    )
    return {a.badge_class.path_id: a for a in db.session.execute(query).scalars()}


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
