"""Notifying people: a row for the in-campus list, and a mail at once when they chose that.

Services write in the caller's transaction and never commit; mails go through the outbox
(campus.mailing.queue_mail), so they leave only if the transaction commits, are retried while
the mail server is down, and are sent once.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from itsdangerous import BadData
from itsdangerous import URLSafeSerializer
from sqlalchemy import bindparam
from sqlalchemy import update
from sqlalchemy.orm import defer
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.util import identity_key

from campus.auth.models import Organisation
from campus.auth.models import User
from campus.badges.models import Assertion
from campus.badges.models import BadgeClass
from campus.badges.transaction_cache import in_transaction
from campus.extensions import db
from campus.insert_once import insert_once
from campus.notifications.models import Delivery
from campus.notifications.models import Notification
from campus.notifications.models import NotificationSetting
from campus.paths.models import LearningPath
from campus.paths.models import Module

PER_PAGE = 50
UNSUBSCRIBE_SALT = "campus-notifications-unsubscribe"
LMS_MADE_DOMAIN = "@lti.invalid"  # campus.lti.tool.provisioning.SYNTHETIC_DOMAIN: no mailbox


# --- preferences ----------------------------------------------------------------------------


def setting_for(user_id: int) -> NotificationSetting:
    """The person's row, or the defaults (not added to the session) when they chose nothing."""
    found = db.session.get(NotificationSetting, user_id)
    if found is not None:
        return found
    return NotificationSetting(
        user_id=user_id, delivery=Delivery.IMMEDIATE, weekly_org_digest=False
    )


CHOICES = "campus.notification_choices"  # the transaction's {user_id: delivery}, once read
PREFETCH_AFTER = 10


def delivery_of(user_id: int) -> Delivery:
    """How the person wants mail. A bulk award asks about thousands of people in one
    transaction: after a few, every non-default choice is read at once (a few rows) and the
    rest of the transaction asks that instead of one query per person."""
    held = in_transaction(CHOICES)
    choices = held.get("choices")
    if choices is None:
        held["lookups"] = held.get("lookups", 0) + 1
        if held["lookups"] <= PREFETCH_AFTER:
            return setting_for(user_id).delivery
        rows = db.session.execute(
            db.select(NotificationSetting.user_id, NotificationSetting.delivery).where(
                NotificationSetting.delivery != Delivery.IMMEDIATE
            )
        )
        choices = held["choices"] = {row_user: Delivery(value) for row_user, value in rows}
    return choices.get(user_id, Delivery.IMMEDIATE)


def save_setting(
    user_id: int, delivery: Delivery, weekly_org_digest: bool, now: datetime
) -> NotificationSetting:
    found = db.session.get(NotificationSetting, user_id)
    if found is None:
        found = NotificationSetting(user_id=user_id)
        db.session.add(found)
    found.delivery = Delivery(delivery)
    found.weekly_org_digest = bool(weekly_org_digest)
    found.updated_at = now
    db.session.flush()
    if (choices := in_transaction(CHOICES).get("choices")) is not None:
        choices[user_id] = found.delivery
    return found


def mail_address(user: User) -> str | None:
    """Where this person's notifications may go: a confirmed address of an active account."""
    if not user.is_active_account or user.deleted_at is not None:
        return None
    if user.email.endswith(LMS_MADE_DOMAIN):  # an LMS-made account: its confirmed badge address
        return user.badge_email or None
    return user.email if user.email_verified else None


# --- notifying ------------------------------------------------------------------------------


def notify(
    user_id: int,
    kind: str,
    params: dict[str, Any],
    now: datetime,
    *,
    once_key: str | None = None,
    digest_only: bool = False,
    in_app_only: bool = False,
    mail_now: bool = False,
) -> Notification | None:
    """Tell `user_id` about something; mail it now if they chose mail at once (or `mail_now`).

    With `once_key`, a second notice of the same kind and key for the same person is not
    written (None is returned): scans may run any number of times.
    """
    values: dict[str, Any] = {
        "user_id": user_id,
        "kind": kind,
        "params": params,
        "once_key": once_key,
        "created_at": now,
        "digest_only": digest_only,
        "in_app_only": in_app_only,
    }
    wants_mail = mail_now or (
        not digest_only and not in_app_only and delivery_of(user_id) == Delivery.IMMEDIATE
    )
    if once_key is not None:
        notification = insert_once(Notification, **values)
        if notification is None:
            return None
        if wants_mail:
            send_now(notification, now)
        return notification
    address = _address_of(user_id) if wants_mail else None
    notification = Notification(**values, emailed_at=now if address else None)
    db.session.add(notification)
    db.session.flush()  # its id, for the mail
    if address is not None:
        _defer_mail(notification, address, now)
    return notification


def _address_of(user_id: int) -> str | None:
    user = db.session.get(User, user_id)
    return mail_address(user) if user is not None else None


def _defer_mail(notification: Notification, address: str, now: datetime) -> None:
    from campus.notifications.mails import defer_mail

    defer_mail(notification, address, now)


def send_now(notification: Notification, now: datetime) -> bool:
    """Queue `notification` as its own mail (once); False when the person has no address.

    The mail is rendered after the commit (campus.notifications.mails.defer_mail).
    """
    if notification.emailed_at is not None:
        return False
    address = _address_of(notification.user_id)
    if address is None:
        return False
    notification.emailed_at = now
    _defer_mail(notification, address, now)
    return True


def bump_once(
    user_id: int, kind: str, once_key: str, params: dict[str, Any], now: datetime, **flags: bool
) -> Notification | None:
    """Like `notify` with `once_key`, but a repeat counts up `params["count"]` on the first
    notice instead of writing (or mailing) a second one. Returns the new notice, or None."""
    created = notify(user_id, kind, {**params, "count": 1}, now, once_key=once_key, **flags)
    if created is not None:
        return created
    existing = db.session.execute(
        db.select(Notification).where(
            Notification.user_id == user_id,
            Notification.kind == kind,
            Notification.once_key == once_key,
        )
    ).scalar_one()
    count = int(existing.params.get("count") or 1) + 1
    existing.params = {**existing.params, **params, "count": count}
    existing.read_at = None  # news again
    return None


# --- the list -------------------------------------------------------------------------------


@functools.cache
def _unread_statement():  # type: ignore[no-untyped-def]
    """Built once: SQLAlchemy's statement building cost more than the query itself."""
    return (
        db.select(db.func.count())
        .select_from(Notification)
        .where(Notification.user_id == bindparam("user_id"), Notification.read_at.is_(None))
    )


def unread_count(user_id: int) -> int:
    """One COUNT over the (user_id, read_at) index: cheap enough for every page's header."""
    return db.session.execute(_unread_statement(), {"user_id": user_id}).scalar_one()


def notifications_of(user_id: int, page: int = 1) -> tuple[list[Notification], int]:
    """One page of the person's notifications, unread first, newest first; and the total."""
    total = db.session.execute(
        db.select(db.func.count()).select_from(Notification).where(Notification.user_id == user_id)
    ).scalar_one()
    rows = db.session.execute(
        db.select(Notification)
        .where(Notification.user_id == user_id)
        .order_by(
            Notification.read_at.is_(None).desc(),
            Notification.created_at.desc(),
            Notification.id.desc(),
        )
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    ).scalars()
    found = NoticePage(rows)
    found.records = _load_named_records(found)
    return found, total


class NoticePage(list[Notification]):
    """A page of notices that holds the records they name: the session keeps only weak
    references, so without this they could be dropped before the messages are written."""

    records: list[Any]


def _load_named_records(rows: list[Notification]) -> list[Any]:
    """Load the records a page of notices names (badges, modules, paths, people …) in one query
    per kind: the messages (session.get) then find them in the session, not one query each."""
    named: list[tuple[str, Any, tuple[Any, ...]]] = [
        ("badge_class_id", BadgeClass, (defer(BadgeClass.image_png), defer(BadgeClass.image_svg))),
        (
            "assertion_id",
            Assertion,
            (defer(Assertion.baked_png), defer(Assertion.baked_svg), defer(Assertion.jws)),
        ),
        (
            "module_id",
            Module,
            (defer(Module.body_html), defer(Module.settings), selectinload(Module.path)),
        ),
        ("path_id", LearningPath, ()),
        ("learner_id", User, ()),
        ("organisation_id", Organisation, ()),
    ]
    records: list[Any] = []
    for key, model, options in named:
        ids = {row.params.get(key) for row in rows if isinstance(row.params, dict)}
        ids = {  # as messages._get reads them; the signed-in person is already loaded
            ident
            for ident in ids
            if isinstance(ident, int) and identity_key(model, ident) not in db.session.identity_map
        }
        if ids:
            query = db.select(model).where(model.id.in_(ids)).options(*options)
            records.extend(db.session.execute(query).scalars())
    return records


def mark_read(user_id: int, notification_id: int, now: datetime) -> bool:
    """Mark one of the person's own notifications read; False when it is not theirs or gone."""
    return bool(
        db.session.execute(
            update(Notification)
            .where(
                Notification.id == notification_id,
                Notification.user_id == user_id,
                Notification.read_at.is_(None),
            )
            .values(read_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
    )


def mark_all_read(user_id: int, now: datetime) -> int:
    return db.session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount


# --- unsubscribing without logging in ------------------------------------------------------


def unsubscribe_token(secret: str, user_id: int) -> str:
    """A signed, lasting token naming the person (mail links must keep working for years)."""
    return str(URLSafeSerializer(secret, salt=UNSUBSCRIBE_SALT).dumps({"u": user_id}))


def user_for_unsubscribe_token(secret: str, token: str) -> User | None:
    if not token or len(token) > 200:
        return None
    try:
        data = URLSafeSerializer(secret, salt=UNSUBSCRIBE_SALT).loads(token)
    except BadData:
        return None
    user_id = data.get("u") if isinstance(data, dict) else None
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        return None
    user = db.session.get(User, user_id)
    return user if user is not None and user.deleted_at is None else None


def unsubscribe(user_id: int, now: datetime) -> NotificationSetting:
    """No more notification mail of any kind (the list in the campus stays)."""
    return save_setting(user_id, Delivery.OFF, False, now)
