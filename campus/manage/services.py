"""Organisation progress exports and the admin's organisation and role management.

The progress table itself (search, sort, paging, cells) lives in campus.manage.progress.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from datetime import UTC
from datetime import datetime
from datetime import tzinfo

from campus.auth.models import Organisation
from campus.auth.models import User
from campus.clock import aware
from campus.extensions import db
from campus.i18n import pick
from campus.manage.progress import Member
from campus.manage.progress import MemberFacts
from campus.manage.progress import ProgressCell
from campus.manage.progress import ProgressTable
from campus.manage.progress import organisation_progress
from campus.paths.models import LearningPath

__all__ = [
    "ProgressCell",
    "ProgressTable",
    "organisation_progress",
    "progress_csv",
    "progress_csv_lines",
]


def _safe_cell(value: object) -> str:
    """Spreadsheets run cells that start with = + - @ as formulas; quote them."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


def _moment(value: datetime | None, zone: tzinfo) -> str:
    """A time as spreadsheets read it in every locale ("2026-11-23 14:00"), in `zone`."""
    return aware(value).astimezone(zone).strftime("%Y-%m-%d %H:%M") if value else ""


def progress_csv_lines(
    paths: list[LearningPath],
    members: Iterable[tuple[Member, MemberFacts | None, list[ProgressCell]]],
    language: str,
    headers: list[str],
    status_labels: Mapping[str, object] | None = None,
    zone: tzinfo = UTC,
    batch: int = 1000,
) -> Iterator[str]:
    """The CSV a piece at a time: the header, then about `batch` rows per piece.

    One row per member and path (long format: easy to filter and pivot). Semicolon-separated:
    Excel in Finnish (and Swedish) locales splits on semicolons, since the comma is their decimal
    separator. The view adds the UTF-8 byte order mark that tells Excel the encoding. Status
    values are shown in `status_labels` (translated once, here) when given.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(headers)
    labels = {status: str(label) for status, label in (status_labels or {}).items()}
    columns = [
        (
            _safe_cell(pick(path.theme.title, language)),
            _safe_cell(path.slug),
            _safe_cell(pick(path.title, language)),
        )
        for path in paths
    ]
    written = 0
    for member, facts, cells in members:
        name, email = _safe_cell(member.name), _safe_cell(member.email)
        last = _moment(facts.last_activity, zone) if facts else ""
        for (theme_title, slug, title), cell in zip(columns, cells, strict=True):
            writer.writerow(
                [
                    name,
                    email,
                    theme_title,
                    slug,
                    title,
                    labels.get(cell.status, cell.status),
                    cell.required_done,
                    cell.required_total,
                    cell.percent,
                    _moment(cell.completed_at, zone),
                    last,
                ]
            )
        written += len(cells)
        if written >= batch:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            written = 0
    yield buffer.getvalue()


def progress_csv(
    table: ProgressTable,
    language: str,
    headers: list[str],
    status_labels: Mapping[str, object] | None = None,
    zone: tzinfo = UTC,
) -> str:
    """A table already in memory as one CSV text (see progress_csv_lines)."""
    members = ((member, table.facts.get(member.id), cells) for member, cells in table.rows)
    return "".join(progress_csv_lines(table.paths, members, language, headers, status_labels, zone))


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
