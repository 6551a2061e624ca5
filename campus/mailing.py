"""Messages to people: rendered in the recipient's language, sent through the outbox.

`render_mail` turns `templates/mail/<name>.txt` and `.html` into the two parts of one message in
the recipient's locale; `queue_mail` writes it to the outbox in the caller's transaction, so it
goes only if that commits, is retried while the mail server is down, and is never sent twice
(an item is done once the server took it, and then keeps only its address and subject: the
links in it were single-use). campus.mail does the SMTP or `.eml` delivery.

HTML templates extend `mail/_layout.html` (campus name, `lang`, footer); plain-text ones may
end with `{% include "mail/_footer.txt" %}`. A notification passes the same `unsubscribe_url`
to `render_mail` (the footer links it) and to `queue_mail` (the List-Unsubscribe header).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from flask import current_app
from flask import render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from campus import mail
from campus.badges.issuers import issuer_names
from campus.clock import utcnow
from campus.i18n import pick
from campus.outbox.models import OutboxItem
from campus.outbox.services import enqueue
from campus.outbox.services import handler

MAIL_SEND = "mail.send"
_HTML_LANG = re.compile(r"<html\b[^>]*\blang=\"([A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*)\"")


def campus_name(locale: str | None) -> str:
    """The campus's name in `locale`, as on its badges (ISSUER_NAME, ISSUER_NAMES)."""
    return pick(issuer_names(current_app.config), locale)


def render_mail(template: str, locale: str | None, **context: Any) -> tuple[str, str]:
    """(plain text, HTML) of `mail/<template>` in `locale` (the campus default when None)."""
    locale = locale or current_app.config.get("BABEL_DEFAULT_LOCALE", "fi")
    context.setdefault("campus_name", campus_name(locale))
    context.setdefault("unsubscribe_url", None)
    with force_locale(locale):
        text = render_template(f"mail/{template}.txt", locale=locale, **context)
        html = render_template(f"mail/{template}.html", locale=locale, **context)
    return text, html


def queue_mail(
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    unsubscribe_url: str | None = None,
    now: datetime | None = None,
    user_id: int | None = None,
    locale: str | None = None,
) -> OutboxItem:
    """Send after the caller's transaction commits (retried by `flask outbox run` on failure).

    `locale` (Content-Language, the sender's name) defaults to the `lang` of the HTML part.
    """
    moment = now or utcnow()
    locale = locale or _html_language(html)
    settings = mail.MailSettings.from_config(current_app.config)
    return enqueue(
        MAIL_SEND,
        {
            "to": to,
            "subject": str(subject),
            "text": text,
            "html": html,
            "unsubscribe_url": unsubscribe_url,
            "locale": locale,
            # Fixed now, so that every attempt sends the very same message.
            "message_id": mail.new_message_id(settings),
            "date": moment.isoformat(),
        },
        moment,
        user_id=user_id,
    )


def _html_language(html: str | None) -> str | None:
    found = _HTML_LANG.search(html or "")
    return found[1] if found else None


@handler(MAIL_SEND, remote=True, label=_l("E-mail"), keep_when_done=("to", "subject"))
def _send(payload: dict[str, Any], now: datetime, timeout: float) -> None:
    """Hand the message to the server; MailError (a retry later) unless it took it."""
    locale = payload.get("locale")
    mail.send(
        mail.MailSettings.from_config(current_app.config),
        payload["to"],
        payload["subject"],
        payload["text"],
        now=datetime.fromisoformat(payload["date"]) if payload.get("date") else now,
        html=payload.get("html"),
        locale=locale,
        unsubscribe_url=payload.get("unsubscribe_url"),
        sender_name=campus_name(locale),
        message_id=payload.get("message_id"),
        timeout=timeout,
    )
