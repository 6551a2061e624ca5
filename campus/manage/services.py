"""Organisation progress tables and the admin's organisation and role management."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from campus.auth.models import Organisation
from campus.auth.models import User
from campus.extensions import db
from campus.i18n import pick
from campus.paths.models import Completion
from campus.paths.models import Enrollment
from campus.paths.models import LearningPath
from campus.paths.models import PathCompletion
from campus.paths.models import Theme


@dataclass(frozen=True)
class ProgressCell:
    status: str  # "not_started" | "enrolled" | "completed"
    required_done: int
    required_total: int
    completed_at: datetime | None

    @property
    def percent(self) -> int:
        return int(100 * self.required_done / self.required_total) if self.required_total else 0


@dataclass(frozen=True)
class ProgressTable:
    organisation: Organisation
    paths: list[LearningPath]
    rows: list[tuple[User, list[ProgressCell]]]

    def completed_count(self, path_index: int) -> int:
        return sum(1 for _user, cells in self.rows if cells[path_index].status == "completed")


def organisation_progress(organisation: Organisation, theme: Theme | None = None) -> ProgressTable:
    """Every member × every offered path (optionally of one theme), in four queries."""
    query = db.select(LearningPath).join(Theme).where(LearningPath.is_retired.is_(False))
    if theme is not None:
        query = query.where(LearningPath.theme_id == theme.id)
    paths = list(
        db.session.execute(
            query.order_by(Theme.position, LearningPath.position, LearningPath.slug)
        ).scalars()
    )
    users = list(
        db.session.execute(
            db.select(User)
            .where(User.organisation_id == organisation.id)
            .order_by(User.name, User.id)
        ).scalars()
    )
    user_ids = [user.id for user in users]
    done: dict[int, set[int]] = defaultdict(set)
    enrolled: set[tuple[int, int]] = set()
    finished: dict[tuple[int, int], datetime] = {}
    if user_ids:
        for user_id, module_id in db.session.execute(
            db.select(Completion.user_id, Completion.module_id).where(
                Completion.user_id.in_(user_ids)
            )
        ):
            done[user_id].add(module_id)
        for user_id, path_id in db.session.execute(
            db.select(Enrollment.user_id, Enrollment.path_id).where(
                Enrollment.user_id.in_(user_ids)
            )
        ):
            enrolled.add((user_id, path_id))
        for user_id, path_id, completed_at in db.session.execute(
            db.select(
                PathCompletion.user_id, PathCompletion.path_id, PathCompletion.completed_at
            ).where(PathCompletion.user_id.in_(user_ids))
        ):
            finished[(user_id, path_id)] = completed_at
    required = {path.id: {m.id for m in path.required_modules} for path in paths}
    rows = []
    for user in users:
        cells = []
        for path in paths:
            key = (user.id, path.id)
            status = (
                "completed" if key in finished else "enrolled" if key in enrolled else "not_started"
            )
            cells.append(
                ProgressCell(
                    status=status,
                    required_done=len(required[path.id] & done[user.id]),
                    required_total=len(required[path.id]),
                    completed_at=finished.get(key),
                )
            )
        rows.append((user, cells))
    return ProgressTable(organisation, paths, rows)


def _safe_cell(value: object) -> str:
    """Spreadsheets run cells that start with = + - @ as formulas; quote them."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


def progress_csv(table: ProgressTable, language: str, headers: list[str]) -> str:
    """One row per member and path (long format: easy to filter and pivot)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    for user, cells in table.rows:
        for path, cell in zip(table.paths, cells, strict=True):
            writer.writerow(
                [
                    _safe_cell(user.name),
                    _safe_cell(user.email),
                    _safe_cell(pick(path.theme.title, language)),
                    _safe_cell(path.slug),
                    _safe_cell(pick(path.title, language)),
                    cell.status,
                    cell.required_done,
                    cell.required_total,
                    cell.percent,
                    cell.completed_at.isoformat() if cell.completed_at else "",
                ]
            )
    return buffer.getvalue()


USERS_PER_PAGE = 50


def search_users(organisation: Organisation | None, text: str, page: int):  # type: ignore[no-untyped-def]
    """A page of users, optionally of one organisation and matching a name or e-mail fragment."""
    query = db.select(User).order_by(User.name, User.id)
    if organisation is not None:
        query = query.where(User.organisation_id == organisation.id)
    text = text.strip()
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            db.or_(User.name.ilike(pattern, escape="\\"), User.email.ilike(pattern, escape="\\"))
        )
    return db.paginate(query, page=page, per_page=USERS_PER_PAGE, error_out=False)
