"""Scheduled notifications: the daily digest, badges about to expire, organisations' weeks.

Each is safe to run again: a digest takes its notifications with one conditional UPDATE (a
second run, or a concurrent one, finds none left), and "once per thing" notices carry a unique
`once_key` (an expiring assertion, an organisation's week).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta

from sqlalchemy import update

from campus.auth.models import Organisation
from campus.auth.models import Role
from campus.auth.models import User
from campus.auth.models import UserRole
from campus.badges.models import Assertion
from campus.badges.models import BadgeClass
from campus.clock import aware
from campus.extensions import db
from campus.manage.progress import last_activity_subquery
from campus.notifications import services
from campus.notifications.mails import queue_digest_mail
from campus.notifications.messages import BADGE_EXPIRING
from campus.notifications.messages import WEEKLY_PROGRESS
from campus.notifications.messages import day_param
from campus.notifications.models import Delivery
from campus.notifications.models import Notification
from campus.notifications.models import NotificationSetting
from campus.paths.models import Completion
from campus.paths.models import PathCompletion

EXPIRY_NOTICE = timedelta(days=30)
WEEK = timedelta(days=7)
# At most one digest a day per person, even if cron runs the command twice (or late, then on time).
DIGEST_GAP = timedelta(hours=20)


# --- daily digest ---------------------------------------------------------------------------


def _waiting_for_digest():  # type: ignore[no-untyped-def]
    """Unread notices that no mail has carried yet and that may be mailed."""
    return (
        Notification.emailed_at.is_(None),
        Notification.digest_sent_at.is_(None),
        Notification.read_at.is_(None),
        Notification.in_app_only.is_(False),
    )


def send_daily_digests(now: datetime) -> int:
    """One mail per person with notices waiting (unless they turned mail off, or had a digest
    in the last DIGEST_GAP); returns how many.

    People who chose mail at once get a digest only of digest-only notices (reviewers' queues)
    and of what reached no mail before (e.g. from while their mail was off).
    """
    off = db.select(NotificationSetting.user_id).where(NotificationSetting.delivery == Delivery.OFF)
    had_one = db.select(Notification.user_id).where(Notification.digest_sent_at > now - DIGEST_GAP)
    user_ids = list(
        db.session.execute(
            db.select(Notification.user_id)
            .where(
                *_waiting_for_digest(),
                Notification.user_id.not_in(off),
                Notification.user_id.not_in(had_one),
            )
            .distinct()
            .order_by(Notification.user_id)
        ).scalars()
    )
    sent = 0
    for user_id in user_ids:
        user = db.session.get(User, user_id)
        if user is None or services.mail_address(user) is None:
            continue
        taken = list(
            db.session.execute(
                update(Notification)
                .where(Notification.user_id == user_id, *_waiting_for_digest())
                .values(digest_sent_at=now)
                .returning(Notification.id)
                .execution_options(synchronize_session=False)
            ).scalars()
        )
        if not taken:
            continue  # a concurrent run took them
        notices = list(
            db.session.execute(db.select(Notification).where(Notification.id.in_(taken))).scalars()
        )
        queue_digest_mail(user, notices, now)
        sent += 1
    return sent


# --- badges about to expire -----------------------------------------------------------------


def notify_expiring_badges(now: datetime, within: timedelta = EXPIRY_NOTICE) -> int:
    """Tell holders of valid badges that expire within `within`, once per assertion."""
    rows = db.session.execute(
        db.select(Assertion, BadgeClass.path_id)
        .join(BadgeClass, BadgeClass.id == Assertion.badge_class_id)
        .join(User, User.id == Assertion.user_id)
        .where(
            Assertion.revoked_at.is_(None),
            Assertion.active_key.is_not(None),
            Assertion.expires_at.is_not(None),
            Assertion.expires_at > now,
            Assertion.expires_at <= now + within,
            User.is_active_account.is_(True),
            User.deleted_at.is_(None),
        )
        .order_by(Assertion.id)
    ).all()
    count = 0
    for assertion, path_id in rows:
        expires = aware(assertion.expires_at)
        params = {
            "assertion_id": assertion.id,
            "badge_class_id": assertion.badge_class_id,
            "path_id": path_id,
            "expires": day_param(expires),
        }
        created = services.notify(
            assertion.user_id, BADGE_EXPIRING, params, now, once_key=f"assertion:{assertion.id}"
        )
        count += created is not None
    return count


# --- organisation admins' week --------------------------------------------------------------


@dataclass(frozen=True)
class WeekCounts:
    paths: int
    modules: int
    badges: int
    active: int


def week_counts(organisation: Organisation, start: datetime, end: datetime) -> WeekCounts:
    """What the organisation's members did in [start, end)."""
    members = db.select(User.id).where(User.organisation_id == organisation.id).scalar_subquery()

    def count(model, moment) -> int:  # type: ignore[no-untyped-def]
        return db.session.execute(
            db.select(db.func.count())
            .select_from(model)
            .where(model.user_id.in_(members), moment >= start, moment < end)
        ).scalar_one()

    badges = db.session.execute(
        db.select(db.func.count())
        .select_from(Assertion)
        .where(
            Assertion.user_id.in_(members),
            Assertion.issued_at >= start,
            Assertion.issued_at < end,
            Assertion.revoked_at.is_(None),
        )
    ).scalar_one()
    last = last_activity_subquery(organisation)
    active = db.session.execute(
        db.select(db.func.count()).select_from(last).where(last.c.last >= start)
    ).scalar_one()
    return WeekCounts(
        paths=count(PathCompletion, PathCompletion.completed_at),
        modules=count(Completion, Completion.completed_at),
        badges=badges,
        active=active,
    )


def send_weekly_digests(now: datetime) -> int:
    """The last seven days of their organisation to each organisation admin who asked for it,
    once per ISO week (a second run in the same week sends nothing)."""
    admins = db.session.execute(
        db.select(User)
        .join(NotificationSetting, NotificationSetting.user_id == User.id)
        .join(UserRole, UserRole.user_id == User.id)
        .where(
            NotificationSetting.weekly_org_digest.is_(True),
            UserRole.role.in_([Role.ORG_ADMIN, Role.ADMIN]),
        )
        .distinct()
        .order_by(User.id)
    ).scalars()
    year, week, _day = now.isocalendar()
    start = now - WEEK
    per_organisation: dict[int, WeekCounts] = {}
    sent = 0
    for admin in admins:
        if services.mail_address(admin) is None:
            continue
        organisation = admin.organisation
        if organisation.id not in per_organisation:
            per_organisation[organisation.id] = week_counts(organisation, start, now)
        counts = per_organisation[organisation.id]
        params = {
            "organisation_id": organisation.id,
            "start": day_param(start),
            "end": day_param(now),
            "paths": counts.paths,
            "modules": counts.modules,
            "badges": counts.badges,
            "active": counts.active,
        }
        created = services.notify(
            admin.id,
            WEEKLY_PROGRESS,
            params,
            now,
            once_key=f"{year}-W{week:02d}:{organisation.id}",
            mail_now=True,  # its own opt-in: mailed whatever the daily choice
        )
        sent += created is not None
    return sent
