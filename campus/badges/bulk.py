"""Bulk award from a CSV of `email,narrative` rows: a preview first, then one transaction.

Rows for verified accounts are awarded; the others become claims (campus.badges.claims) that
wait for the address to be verified, with a claim mail that says how to receive the badge.
"""

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
from campus.badges.awarding import recipient_verified
from campus.badges.claims import award_to_recipient
from campus.badges.claims import pending_claims
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
    UNVERIFIED = "unverified"  # an account that has not confirmed its address: held + claim mail
    NO_ACCOUNT = "no_account"  # a claim and a claim mail: issued when they verify the address
    WAITING = "waiting"  # an open claim for this badge and address exists already
    INVALID = "invalid"


@dataclass(frozen=True)
class BulkOutcome:
    awarded: int
    claimed: int


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
    waiting = {claim.email for claim in pending_claims(badge, limit=None)}
    rows: list[BulkRow] = []
    seen: set[str] = set()
    for number, email, narrative in parsed:
        user = users.get(email)
        if "@" not in email or len(email) > 254 or email in seen:
            status = BulkStatus.INVALID
        elif user is not None and user.id in holders:
            status = BulkStatus.HOLDS
        elif email in waiting:
            status = BulkStatus.WAITING
        elif user is None:
            status = BulkStatus.NO_ACCOUNT
        elif not recipient_verified(user):
            status = BulkStatus.UNVERIFIED
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
    rows: list[BulkRow],
    badge: BadgeClass,
    context: IssuingContext,
    now: datetime,
    created_by: User | None = None,
    locale: str | None = None,
) -> BulkOutcome:
    """Award every AWARD row and open a claim (with its mail) for every UNVERIFIED and
    NO_ACCOUNT row; all in the caller's one transaction."""
    awarded = claimed = 0
    for row in rows:
        if row.status not in ACTED_ON:
            continue
        evidence = [{"narrative": row.narrative}] if row.narrative else []
        result = award_to_recipient(
            row.email, row.user, badge, context, now, AwardSource.BULK, evidence, created_by, locale
        )
        if result.created:
            awarded += 1
        elif result.held:
            claimed += 1
    return BulkOutcome(awarded, claimed)


ACTED_ON = {BulkStatus.AWARD, BulkStatus.UNVERIFIED, BulkStatus.NO_ACCOUNT}
