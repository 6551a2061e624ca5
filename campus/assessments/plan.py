"""My development plan: the paths a person chose (often from their results), with the reason
they were suggested, an optional target date, and progress. Services flush; the view commits."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from datetime import datetime

from flask_babel import format_date
from sqlalchemy import bindparam
from sqlalchemy.orm import defer
from sqlalchemy.orm import selectinload

from campus.assessments.models import PlanItem
from campus.auth.models import User
from campus.extensions import db
from campus.insert_once import insert_once
from campus.paths.models import LearningPath
from campus.paths.models import Module
from campus.paths.services import PathProgress
from campus.paths.services import progress_for_paths


@dataclass
class PlanEntry:
    item: PlanItem
    path: LearningPath
    progress: PathProgress

    @property
    def target_text(self) -> str:
        """The target date in the reader's language ("" when none)."""
        return format_date(self.item.target_date, "medium") if self.item.target_date else ""


def plan_path_ids(user: User) -> set[int]:
    return set(
        db.session.execute(db.select(PlanItem.path_id).where(PlanItem.user_id == user.id)).scalars()
    )


def add_path(user: User, path: LearningPath, reason: str | None, now: datetime) -> PlanItem:
    """Add once: adding a path already in the plan keeps the first entry (and its reason)."""
    item = insert_once(PlanItem, user_id=user.id, path_id=path.id, reason=reason, added_at=now)
    if item is None:
        item = _find(user, path_id=path.id)
        assert item is not None
    return item


def _find(user: User, item_id: int | None = None, path_id: int | None = None) -> PlanItem | None:
    query = db.select(PlanItem).where(PlanItem.user_id == user.id)
    if item_id is not None:
        query = query.where(PlanItem.id == item_id)
    if path_id is not None:
        query = query.where(PlanItem.path_id == path_id)
    return db.session.execute(query).scalar_one_or_none()


def get_own_item(user: User, item_id: int) -> PlanItem | None:
    """The plan entry if it is this user's (nobody else reads or changes a plan)."""
    return _find(user, item_id=item_id)


def remove(user: User, item_id: int) -> bool:
    item = _find(user, item_id=item_id)
    if item is None:
        return False
    db.session.delete(item)
    db.session.flush()
    return True


def set_target_date(user: User, item_id: int, target: date | None) -> PlanItem | None:
    item = _find(user, item_id=item_id)
    if item is not None:
        item.target_date = target
        db.session.flush()
    return item


@functools.cache
def _entries_statement():  # type: ignore[no-untyped-def]
    """Built once: the dashboard asks on every request, and building it cost more than running
    it."""
    return (
        db.select(PlanItem, LearningPath)
        .join(LearningPath, LearningPath.id == PlanItem.path_id)
        .where(PlanItem.user_id == bindparam("user_id"), LearningPath.is_retired.is_(False))
        .options(
            selectinload(LearningPath.modules).options(
                defer(Module.body_html), defer(Module.settings)
            ),
            selectinload(LearningPath.prerequisites),
            selectinload(LearningPath.theme),
        )
    )


def entries(user: User, limit: int | None = None) -> list[PlanEntry]:
    """The plan with progress on each path: unfinished first (by target date), then done."""
    rows = list(db.session.execute(_entries_statement(), {"user_id": user.id}).all())
    if not rows:
        return []
    progress = progress_for_paths(user, [path for _item, path in rows])
    result = [PlanEntry(item, path, progress[path.id]) for item, path in rows]
    result.sort(
        key=lambda e: (
            e.progress.is_complete,
            e.item.target_date is None,
            e.item.target_date or date.max,
            e.item.added_at,
            e.item.id,
        )
    )
    return result[:limit] if limit is not None else result
