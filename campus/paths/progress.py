"""Where a learner stands on paths: read fresh on every request, in two queries for any number
of paths. Works on the ORM paths and on the catalogue copy's entries (campus.paths.
catalogue_cache) alike: both have `id`, `active_modules` and `prerequisites`."""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from typing import Any

from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import bindparam
from sqlalchemy import cast
from sqlalchemy import literal
from sqlalchemy import null
from sqlalchemy import union_all
from sqlalchemy.orm import selectinload

from campus.auth.models import User
from campus.extensions import db
from campus.paths.models import Completion
from campus.paths.models import Enrollment
from campus.paths.models import EvidenceStatus
from campus.paths.models import EvidenceSubmission
from campus.paths.models import LearningPath
from campus.paths.models import Module
from campus.paths.models import PathCompletion


# Where a learner stands on one module (computed, never stored).
class ModuleState(enum.StrEnum):
    DONE = "done"
    WAITING = "waiting"  # evidence sent, a reviewer has not decided yet
    RETURNED = "returned"  # evidence returned with feedback: the learner sends a new version
    TODO = "todo"


@dataclass
class PathProgress:
    path: Any  # a LearningPath, or its catalogue entry
    enrolled: bool
    done_module_ids: set[int]
    completed_at: datetime | None
    required_total: int
    required_done: int
    missing_prerequisites: list[Any] = field(default_factory=list)
    evidence: dict[int, Any] = field(default_factory=dict)  # SentEvidence by module id

    @property
    def percent(self) -> int:
        if not self.required_total:
            return 0
        return int(100 * self.required_done / self.required_total)

    @property
    def is_complete(self) -> bool:
        return self.completed_at is not None

    def state(self, module: Any) -> ModuleState:
        if module.id in self.done_module_ids:
            return ModuleState.DONE
        latest = self.evidence.get(module.id)
        return _EVIDENCE_STATES.get(latest.status if latest else None, ModuleState.TODO)

    def modules_in(self, *states: str) -> list[Any]:
        return [m for m in self.path.active_modules if self.state(m) in states]

    @property
    def next_module(self) -> Any | None:
        return self.next_after(None)

    def next_after(self, module: Any | None) -> Any | None:
        """The next module to work on (evidence waiting for review is not): after `module` in
        the path first, then before it. Modules are matched by id (an ORM row or an entry)."""
        modules = self.path.active_modules
        ids = [m.id for m in modules]
        index = ids.index(module.id) if module is not None and module.id in ids else -1
        later = modules[index + 1 :] + modules[: max(index, 0)]
        return next((m for m in later if self.state(m) in _TO_DO), None)


_EVIDENCE_STATES = {
    EvidenceStatus.SUBMITTED: ModuleState.WAITING,
    EvidenceStatus.RETURNED: ModuleState.RETURNED,
}
_TO_DO = (ModuleState.TODO, ModuleState.RETURNED)


@dataclass
class Standing:
    """A learner's rows that progress is made of, from one query."""

    done: set[int] = field(default_factory=set)  # module ids
    finished: dict[int, datetime] = field(default_factory=dict)  # path id -> completed at
    enrolled: list[int] = field(default_factory=list)  # path ids, newest enrolment first
    evidence: dict[int, SentEvidence] = field(default_factory=dict)  # module id -> newest


@dataclass(frozen=True)
class SentEvidence:
    """What the pages show of a learner's newest evidence for a module."""

    id: int
    module_id: int
    status: EvidenceStatus
    submitted_at: datetime
    reviewed_at: datetime | None
    file_name: str | None
    feedback: str | None


@functools.cache
def _standing_statement():  # type: ignore[no-untyped-def]
    """Built once (every learner page runs it): five kinds of rows of one learner, the columns
    evidence needs left empty in the others."""
    user_id = bindparam("user_id", type_=Integer)
    at_type = PathCompletion.completed_at.type
    blank = (
        null().cast(String).label("status"),
        null().cast(at_type).label("reviewed_at"),
        null().cast(String).label("file_name"),
        null().cast(Text).label("feedback"),
    )
    finished = db.select(
        literal("f", String).label("kind"),
        PathCompletion.path_id.label("key"),
        PathCompletion.completed_at.label("at"),
        PathCompletion.id.label("row_id"),
        *blank,
    ).where(PathCompletion.user_id == user_id)
    enrolled = db.select(
        literal("e", String), Enrollment.path_id, Enrollment.enrolled_at, Enrollment.id, *blank
    ).where(Enrollment.user_id == user_id)
    done = db.select(
        literal("c", String),
        Completion.module_id,
        null().cast(at_type),
        null().cast(Integer),
        *blank,
    ).where(Completion.user_id == user_id)
    sent = db.select(
        literal("s", String),
        EvidenceSubmission.module_id,
        EvidenceSubmission.submitted_at,
        EvidenceSubmission.id,
        cast(EvidenceSubmission.status, String),
        EvidenceSubmission.reviewed_at,
        EvidenceSubmission.file_name,
        EvidenceSubmission.feedback,
    ).where(EvidenceSubmission.user_id == user_id)
    return union_all(finished, enrolled, done, sent)


def standing(user: User) -> Standing:
    """Completions, path completions, enrolments and the newest evidence per module, of `user`,
    in one statement."""
    result = Standing()
    enrolments: list[tuple[datetime, int, int]] = []
    sent: list[tuple[datetime, int, SentEvidence]] = []
    rows = db.session.execute(_standing_statement(), {"user_id": user.id})
    for kind, key, at, row_id, status, reviewed_at, file_name, feedback in rows:
        if kind == "c":
            result.done.add(key)
        elif kind == "f":
            result.finished[key] = at
        elif kind == "e":
            enrolments.append((at, row_id, key))
        else:
            evidence = SentEvidence(
                row_id, key, EvidenceStatus(status), at, reviewed_at, file_name, feedback
            )
            sent.append((at, row_id, evidence))
    enrolments.sort(reverse=True)
    result.enrolled = [path_id for _at, _id, path_id in enrolments]
    for _at, _id, evidence in sorted(sent, key=lambda item: (item[0], item[1])):
        result.evidence[evidence.module_id] = evidence  # the newest is written last
    return result


def path_progress(user: User | None, path: Any) -> PathProgress:
    return progress_for_paths(user, [path])[path.id]


def progress_for_paths(
    user: User | None, paths: list[Any], known: Standing | None = None
) -> dict[int, PathProgress]:
    """Progress on many paths in one query (the catalogue and dashboard show ten or more);
    `known` is the learner's standing when the caller has already read it."""
    anonymous = user is None or not getattr(user, "is_authenticated", True)
    rows = Standing()
    evidence: dict[int, SentEvidence] = {}
    if not anonymous and paths:
        assert user is not None
        rows = known if known is not None else standing(user)
        evidence = rows.evidence
    done, finished, enrolled = rows.done, rows.finished, set(rows.enrolled)
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


# Lists show module titles and states, not bodies: skip decoding the large JSON columns.
def _list_only() -> tuple[Any, ...]:
    from sqlalchemy.orm import defer

    return (defer(Module.body_html), defer(Module.settings))


def my_paths(user: User) -> list[PathProgress]:
    """Progress on every enrolled path that is still offered, newest enrolment first (ORM
    paths, for the API; the dashboard uses the catalogue copy: my_paths_in)."""
    paths = list(
        db.session.execute(
            db.select(LearningPath)
            .join(Enrollment)
            .where(Enrollment.user_id == user.id, LearningPath.is_retired.is_(False))
            .options(
                selectinload(LearningPath.modules).options(*_list_only()),
                selectinload(LearningPath.theme),
                selectinload(LearningPath.prerequisites),
            )
            .order_by(Enrollment.enrolled_at.desc(), Enrollment.id.desc())
        ).scalars()
    )
    progress = progress_for_paths(user, paths)
    return [progress[path.id] for path in paths]


def my_paths_in(catalogue: Any, user: User) -> list[PathProgress]:
    """my_paths over the catalogue copy's entries: two queries, whatever the enrolments."""
    rows = standing(user)
    paths = [catalogue.paths[i] for i in rows.enrolled if i in catalogue.paths]
    paths = [path for path in paths if not path.is_retired]
    progress = progress_for_paths(user, paths, known=rows)
    return [progress[path.id] for path in paths]
