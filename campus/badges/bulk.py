"""Bulk award from a CSV of `email,narrative` rows: a preview first, then one transaction."""

from __future__ import annotations

import csv
import enum
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _

from campus.auth.models import User
from campus.auth.services import normalise_email
from campus.badges.awarding import award
from campus.badges.issuers import BadgeError
from campus.badges.issuers import IssuingContext
from campus.badges.models import Assertion
from campus.badges.models import AwardSource
from campus.badges.models import BadgeClass
from campus.extensions import db

MAX_BULK_ROWS = 20_000
HEADER_WORDS = {"email", "e-mail", "sähköposti", "e-post"}


class BulkStatus(enum.StrEnum):
    """What the preview says will happen to one row."""

    AWARD = "award"
    HOLDS = "holds"
    NO_ACCOUNT = "no_account"
    INVALID = "invalid"


@dataclass(frozen=True)
class BulkRow:
    line: int
    email: str
    narrative: str
    user: User | None
    status: BulkStatus


def parse_bulk_csv(text: str, badge: BadgeClass) -> list[BulkRow]:
    """Read `email,narrative` rows (a header row is allowed) and say what would happen to each."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    parsed = []
    for number, record in enumerate(reader, start=1):
        if not record or not any(cell.strip() for cell in record):
            continue
        if number == 1 and record[0].strip().lower() in HEADER_WORDS:
            continue
        parsed.append(
            (number, normalise_email(record[0]), (record[1] if len(record) > 1 else "").strip())
        )
        if len(parsed) > MAX_BULK_ROWS:
            raise BadgeError(_("At most %(count)d rows at a time.", count=MAX_BULK_ROWS))
    emails = {email for _n, email, _t in parsed}
    users = {
        u.email: u
        for chunk in _chunks(sorted(emails), 500)
        for u in db.session.execute(db.select(User).where(User.email.in_(chunk))).scalars()
    }
    holders = set(
        db.session.execute(
            db.select(Assertion.user_id).where(
                Assertion.badge_class_id == badge.id, Assertion.active_key.is_not(None)
            )
        ).scalars()
    )
    rows: list[BulkRow] = []
    seen: set[str] = set()
    for number, email, narrative in parsed:
        user = users.get(email)
        if "@" not in email or email in seen:
            status = BulkStatus.INVALID
        elif user is None:
            status = BulkStatus.NO_ACCOUNT
        elif user.id in holders:
            status = BulkStatus.HOLDS
        else:
            status = BulkStatus.AWARD
        seen.add(email)
        rows.append(BulkRow(number, email, narrative, user, status))
    return rows


def count_by_status(rows: list[BulkRow]) -> dict[BulkStatus, int]:
    return {status: sum(1 for r in rows if r.status == status) for status in BulkStatus}


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def apply_bulk_award(
    rows: list[BulkRow], badge: BadgeClass, context: IssuingContext, now: datetime
) -> int:
    """Award every row marked AWARD; all in the caller's one transaction."""
    count = 0
    for row in rows:
        if row.status != BulkStatus.AWARD or row.user is None:
            continue
        evidence = [{"narrative": row.narrative}] if row.narrative else []
        if award(row.user, badge, context, now, AwardSource.BULK, evidence).created:
            count += 1
    return count
