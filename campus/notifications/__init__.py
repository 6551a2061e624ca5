"""Notifications: a list in the campus with an unread count in the header, and mail at once, as
a daily digest or not at all, as each person chooses. Signals from badges and reviews become
notifications (events.py); mails go through the outbox (campus.mailing), after the commit."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask import g
from flask_login import current_user


class UnreadCount:
    """The header's unread count, counted only when a page shows it (one COUNT query)."""

    def _value(self) -> int:
        if "unread_notifications" not in g:
            from campus.notifications.services import unread_count

            g.unread_notifications = unread_count(current_user.id)
        return int(g.unread_notifications)

    def __int__(self) -> int:
        return self._value()

    def __bool__(self) -> bool:
        return self._value() > 0

    def __str__(self) -> str:
        return str(self._value())


def init_app(app: Flask) -> None:
    from campus import mailing  # noqa: F401  (the mail handler the notifications use)
    from campus.notifications import erasure  # noqa: F401  (part of deleting an account)
    from campus.notifications import mails  # noqa: F401  (the handler that renders the mails)
    from campus.notifications import models  # noqa: F401  (the tables)
    from campus.notifications.cli import notifications_cli
    from campus.notifications.events import connect_receivers
    from campus.notifications.views import bp

    app.register_blueprint(bp)
    app.cli.add_command(notifications_cli)
    connect_receivers()

    @app.context_processor
    def unread_notifications() -> dict[str, Any]:
        if current_user and current_user.is_authenticated:
            return {"unread_notifications": UnreadCount()}
        return {"unread_notifications": 0}
