"""Outgoing mail: SMTP when MAIL_HOST is set, otherwise `.eml` files in MAIL_DIR.

The file fallback keeps development and tests free of a mail server while still producing the
exact message a server would get; the files are readable by the service account only, because
they hold single-use links. Messages are plain text, or plain text plus HTML
(multipart/alternative), marked as automatic (Auto-Submitted) so that mail servers do not answer
them with out-of-office replies.
"""

from __future__ import annotations

import os
import smtplib
import ssl
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from email.utils import make_msgid
from email.utils import parseaddr
from pathlib import Path
from typing import Any

IMPLICIT_TLS_PORT = 465  # "submissions": TLS from the first byte, no STARTTLS


class MailError(Exception):
    """The message could not be handed to the mail server."""


@dataclass(frozen=True)
class MailSettings:
    host: str | None
    port: int
    use_tls: bool  # STARTTLS on a plain connection
    use_ssl: bool  # implicit TLS (SMTP_SSL)
    username: str | None
    password: str | None
    sender: str
    directory: Path

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> MailSettings:
        port = int(config.get("MAIL_PORT") or 25)
        return cls(
            host=config.get("MAIL_HOST") or None,
            port=port,
            use_tls=bool(config.get("MAIL_USE_TLS")),
            use_ssl=bool(config.get("MAIL_USE_SSL")) or port == IMPLICIT_TLS_PORT,
            username=config.get("MAIL_USERNAME") or None,
            password=config.get("MAIL_PASSWORD") or None,
            sender=str(
                config.get("MAIL_SENDER") or config.get("ISSUER_EMAIL") or "campus@localhost"
            ),
            directory=Path(str(config["MAIL_DIR"])),
        )


def new_message_id(settings: MailSettings) -> str:
    """A Message-ID in the sender's domain; fixed when a message is queued, so that a retry
    sends the very same message (and a mail client can drop a copy)."""
    return make_msgid(domain=parseaddr(settings.sender)[1].rpartition("@")[2] or "campus")


def compose(
    settings: MailSettings,
    to: str,
    subject: str,
    body: str,
    now: datetime,
    *,
    html: str | None = None,
    locale: str | None = None,
    unsubscribe_url: str | None = None,
    sender_name: str | None = None,
    message_id: str | None = None,
) -> EmailMessage:
    """A UTF-8 message: plain text, plus an HTML alternative when given.

    Header values with line breaks are refused by the policy (ValueError). `sender_name` is the
    From display name unless MAIL_SENDER already has one ("Campus <campus@example.fi>").
    """
    message = EmailMessage()
    message["From"] = _sender(settings.sender, sender_name)
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(now.astimezone(UTC))
    message["Message-ID"] = message_id or new_message_id(settings)
    message["Auto-Submitted"] = "auto-generated"
    if unsubscribe_url:
        # RFC 8058: a mail client may unsubscribe with one POST, without opening a page.
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(body)
    if html:
        message.add_alternative(html, subtype="html")
    if locale:  # after the parts: making a multipart moves every Content-* header into them
        message["Content-Language"] = locale
    return message


def _sender(sender: str, name: str | None) -> str | Address:
    if not name or parseaddr(sender)[0]:
        return sender
    return Address(display_name=name, addr_spec=parseaddr(sender)[1] or sender)


def send(
    settings: MailSettings,
    to: str,
    subject: str,
    body: str,
    now: datetime | None = None,
    *,
    html: str | None = None,
    locale: str | None = None,
    unsubscribe_url: str | None = None,
    sender_name: str | None = None,
    message_id: str | None = None,
    timeout: float = 15.0,
) -> Path | None:
    """Send one message; returns the file it was written to when no server is configured.

    MailError when the message is malformed or the server did not take it (nothing was sent).
    """
    now = now or datetime.now(UTC)
    try:
        message = compose(
            settings,
            to,
            subject,
            body,
            now,
            html=html,
            locale=locale,
            unsubscribe_url=unsubscribe_url,
            sender_name=sender_name,
            message_id=message_id,
        )
    except (ValueError, TypeError) as error:
        raise MailError(str(error)) from error
    if not settings.host:
        return _write(settings.directory, message, now)
    try:
        with _connect(settings, timeout) as server:
            if settings.use_tls and not settings.use_ssl:
                server.starttls(context=tls_context())
            if settings.username:
                server.login(settings.username, settings.password or "")
            server.send_message(message)
    except (smtplib.SMTPException, OSError) as error:
        raise MailError(f"{type(error).__name__}: {error}") from error
    return None


def _connect(settings: MailSettings, timeout: float) -> smtplib.SMTP:
    assert settings.host
    if settings.use_ssl:
        return smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=timeout, context=tls_context()
        )
    return smtplib.SMTP(settings.host, settings.port, timeout=timeout)


def tls_context() -> ssl.SSLContext:
    """Certificates checked against the system's authorities (tests swap in their own CA)."""
    return ssl.create_default_context()


def _write(directory: Path, message: EmailMessage, now: datetime) -> Path:
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = directory / f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:12]}.eml"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(message.as_bytes())
    return path
