"""Outgoing mail: SMTP when MAIL_HOST is set, otherwise `.eml` files in MAIL_DIR.

The file fallback keeps development and tests free of a mail server while still producing the
exact message a server would get; the files are readable by the service account only, because
they hold single-use links.
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
from email.message import EmailMessage
from email.utils import format_datetime
from email.utils import make_msgid
from pathlib import Path
from typing import Any


class MailError(Exception):
    """The message could not be handed to the mail server."""


@dataclass(frozen=True)
class MailSettings:
    host: str | None
    port: int
    use_tls: bool
    username: str | None
    password: str | None
    sender: str
    directory: Path

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> MailSettings:
        return cls(
            host=config.get("MAIL_HOST") or None,
            port=int(config.get("MAIL_PORT") or 25),
            use_tls=bool(config.get("MAIL_USE_TLS")),
            username=config.get("MAIL_USERNAME") or None,
            password=config.get("MAIL_PASSWORD") or None,
            sender=str(
                config.get("MAIL_SENDER") or config.get("ISSUER_EMAIL") or "campus@localhost"
            ),
            directory=Path(str(config["MAIL_DIR"])),
        )


def compose(
    settings: MailSettings, to: str, subject: str, body: str, now: datetime
) -> EmailMessage:
    """A plain-text UTF-8 message (header values with line breaks are refused by the policy)."""
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(now.astimezone(UTC))
    message["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2] or "campus")
    message.set_content(body)
    return message


def send(
    settings: MailSettings, to: str, subject: str, body: str, now: datetime | None = None
) -> Path | None:
    """Send one message; returns the file it was written to when no server is configured."""
    now = now or datetime.now(UTC)
    try:
        message = compose(settings, to, subject, body, now)
    except ValueError as error:
        raise MailError(str(error)) from error
    if not settings.host:
        return _write(settings.directory, message, now)
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=15) as server:
            if settings.use_tls:
                server.starttls(context=ssl.create_default_context())
            if settings.username:
                server.login(settings.username, settings.password or "")
            server.send_message(message)
    except (smtplib.SMTPException, OSError) as error:
        raise MailError(f"{type(error).__name__}: {error}") from error
    return None


def _write(directory: Path, message: EmailMessage, now: datetime) -> Path:
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = directory / f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:12]}.eml"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(message.as_bytes())
    return path
