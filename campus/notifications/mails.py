"""Notification mails: rendered in the recipient's language, queued in the outbox.

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

from flask import current_app
from flask import has_request_context
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import ngettext

from campus.auth.models import User
from campus.config import DEFAULT_LOCALE
from campus.config import LANGUAGES
from campus.mailing import campus_name
from campus.mailing import queue_mail
from campus.mailing import render_mail
from campus.notifications.messages import WEEKLY_PROGRESS
from campus.notifications.messages import Message
from campus.notifications.messages import describe
from campus.notifications.models import Notification
from campus.notifications.services import mail_address
from campus.notifications.services import unsubscribe_token
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
