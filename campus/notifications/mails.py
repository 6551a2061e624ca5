"""Notification mails: rendered in the recipient's language, queued in the outbox.

A notice is rendered only after the transaction that wrote it has committed: `defer_mail`
writes a small outbox item naming the notice, and its handler renders the mail and queues it
(`mail.send`, in the handler's own transaction). Awarding 10,000 badges at once then writes
10,000 small rows instead of rendering 20,000 templates while the award waits; and a notice
erased with its account before its turn is simply not mailed.

Every mail carries the person's unsubscribe link (in the footer and as List-Unsubscribe, for
one-click unsubscribing) and a link to their notification settings. Addresses in mail are
absolute, on BASE_URL; work that runs outside a request (cron, the outbox) borrows a request
context for building them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextlib import nullcontext
from datetime import datetime
from typing import Any

from flask import current_app
from flask import has_request_context
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from campus.auth.models import User
from campus.config import DEFAULT_LOCALE
from campus.config import LANGUAGES
from campus.extensions import db
from campus.mailing import campus_name
from campus.mailing import queue_mail
from campus.mailing import render_mail
from campus.notifications.messages import WEEKLY_PROGRESS
from campus.notifications.messages import Message
from campus.notifications.messages import describe
from campus.notifications.models import Notification
from campus.notifications.services import mail_address
from campus.notifications.services import unsubscribe_token
from campus.outbox.models import OutboxItem
from campus.outbox.services import enqueue
from campus.outbox.services import handler
from campus.routing import external_url

DIGEST_MAX_ITEMS = 30  # more are counted and left to the list in the campus


def recipient_locale(user: User) -> str:
    """The language the person chose in the campus, else the campus default."""
    if user.locale in LANGUAGES:
        return str(user.locale)
    return str(current_app.config.get("BABEL_DEFAULT_LOCALE") or DEFAULT_LOCALE)


@contextmanager
def url_context() -> Iterator[None]:
    """`url_for` needs a request; cron and outbox runs have none."""
    with nullcontext() if has_request_context() else current_app.test_request_context():
        yield


def _links(user: User) -> dict[str, str]:
    token = unsubscribe_token(current_app.config["SECRET_KEY"], user.id)
    return {
        "unsubscribe_url": external_url("notifications.unsubscribe", token=token),
        "settings_url": external_url("notifications.settings"),
        "list_url": external_url("notifications.index"),
    }


def _absolute(message: Message) -> str | None:
    return message.url(external=True)


NOTIFICATION_MAIL = "notification.mail"


def defer_mail(notification: Notification, address: str, now: datetime) -> OutboxItem:
    """Mail `notification` once the caller's transaction commits (rendered then, not now).

    The address is only for erasing an account's queued mails (campus.auth.deletion): the mail
    goes to the person's confirmed address at sending time.
    """
    payload = {"notification_id": notification.id, "to": address}
    return enqueue(NOTIFICATION_MAIL, payload, now, user_id=notification.user_id)


# remote: rendering many shares the inline time budget; the rest waits for the outbox runner.
@handler(
    NOTIFICATION_MAIL,
    remote=True,
    label=_l("Notification e-mail"),
    keep_when_done=("notification_id",),
)
def _render_deferred(payload: dict[str, Any], now: datetime, timeout: float) -> None:
    """Render a committed notice in the recipient's language as it is now and queue the mail.

    The queued mail commits with this item's "done": a notice is mailed exactly once. A notice
    or account erased meanwhile, or an address no longer confirmed, gets no mail.
    """
    notification = db.session.get(Notification, payload.get("notification_id"))
    if notification is None:
        return
    user = db.session.get(User, notification.user_id)
    if user is None or mail_address(user) is None:
        return
    queue_notification_mail(user, notification, now)


def queue_notification_mail(user: User, notification: Notification, now: datetime) -> None:
    """One notification as one mail (the weekly progress has its own layout)."""
    address = mail_address(user)
    assert address is not None
    locale = recipient_locale(user)
    template = "digest_weekly" if notification.kind == WEEKLY_PROGRESS else "notification"
    with url_context(), force_locale(locale):
        message = describe(notification.kind, notification.params)
        links = _links(user)
        text, html = render_mail(
            template,
            locale,
            name=user.name,
            message=message,
            link=_absolute(message),
            campus_name=campus_name(locale),
            **links,
        )
    queue_mail(
        address,
        message.title,
        text,
        html,
        unsubscribe_url=links["unsubscribe_url"],
        now=now,
        user_id=user.id,
        locale=locale,
    )


def queue_digest_mail(user: User, notifications: list[Notification], now: datetime) -> None:
    """Several notifications in one mail, newest first, at most DIGEST_MAX_ITEMS of them."""
    address = mail_address(user)
    assert address is not None
    locale = recipient_locale(user)
    shown = sorted(notifications, key=lambda n: (n.created_at, n.id), reverse=True)
    with url_context(), force_locale(locale):
        items = []
        for notification in shown[:DIGEST_MAX_ITEMS]:
            message = describe(notification.kind, notification.params)
            items.append((message, _absolute(message)))
        name = campus_name(locale)
        subject = ngettext(
            "%(num)d new notification from %(campus)s",
            "%(num)d new notifications from %(campus)s",
            len(notifications),
            campus=name,
        )
        links = _links(user)
        text, html = render_mail(
            "digest",
            locale,
            name=user.name,
            subject=subject,
            intro=_("Here is what happened since your last summary."),
            items=items,
            more=max(0, len(shown) - DIGEST_MAX_ITEMS),
            campus_name=name,
            **links,
        )
    queue_mail(
        address,
        subject,
        text,
        html,
        unsubscribe_url=links["unsubscribe_url"],
        now=now,
        user_id=user.id,
        locale=locale,
    )
