"""A real SMTP server on loopback for tests (aiosmtpd in a thread).

Use it in a test module with::

    from smtp_support import smtp_server  # noqa: F401  (the fixture)

    def test_x(app, smtp_server):  # noqa: F811  (the fixture)
        smtp_server.configure(app)          # MAIL_HOST/MAIL_PORT of the app point at it
        ...                                 # something that mails
        [message] = smtp_server.wait_for(1) # email.message.EmailMessage, policy=default

`smtp_server` (a `SmtpServer`, function-scoped, stopped after the test):

- `messages`: every message it took, parsed with line ends "\n"
  (`message.get_body(("plain",)).get_content()`);
  `envelopes`: (MAIL FROM, RCPT TO list) of each, in the same order.
- `port`, `host` ("127.0.0.1"); `configure(app)` sets MAIL_HOST and MAIL_PORT (no TLS).
- `wait_for(count, timeout=5)`: the first `count` messages, once that many have arrived
  (AssertionError after `timeout` seconds).
- Failures: `refusing = True` answers every message "451 try again later" (the client gets
  SMTPDataError); `stop()` closes the port (connection refused) and `start()` opens it again on
  the same port.

For TLS and login, build one yourself: `SmtpServer(starttls=context, credentials=("u", "p"))`
or `SmtpServer(implicit_tls=context)` (a context from `self_signed_tls(tmp_path)`), and use it
as a context manager.
"""

from __future__ import annotations

import datetime
import email
import email.policy
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from aiosmtpd.smtp import LoginPassword
from flask import Flask

HOST = "127.0.0.1"


class SmtpServer:
    """One SMTP server on a free loopback port (see the module docstring)."""

    def __init__(
        self,
        starttls: ssl.SSLContext | None = None,
        implicit_tls: ssl.SSLContext | None = None,
        credentials: tuple[str, str] | None = None,
    ) -> None:
        self.host = HOST
        self.port = _free_port()
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.logins: list[str] = []
        self.refusing = False
        self._starttls = starttls
        self._implicit_tls = implicit_tls
        self._credentials = credentials
        self._controller: Controller | None = None
        self._lock = threading.Lock()

    # --- the aiosmtpd handler -----------------------------------------------------------------

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.refusing:
            return "451 4.3.0 Not now, try again later"
        # As a mail client shows it: the line ends of the SMTP conversation become "\n".
        data = envelope.content.replace(b"\r\n", b"\n")
        message = email.message_from_bytes(data, policy=email.policy.default)
        with self._lock:
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 2.0.0 OK"

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword) and self._credentials == (
            data.login.decode(),
            data.password.decode(),
        ):
            self.logins.append(data.login.decode())
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    # --- running ------------------------------------------------------------------------------

    def start(self) -> None:
        options: dict[str, Any] = {}
        if self._starttls is not None:
            options.update(tls_context=self._starttls, require_starttls=True)
        if self._credentials is not None:
            options.update(authenticator=self._authenticate, auth_required=True)
        self._controller = Controller(
            self,
            hostname=self.host,
            port=self.port,
            server_hostname="localhost",  # no DNS look-up for the greeting
            ssl_context=self._implicit_tls,
            **options,
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def configure(self, app: Flask) -> None:
        app.config.update(MAIL_HOST=self.host, MAIL_PORT=self.port)

    def wait_for(self, count: int, timeout: float = 5) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{len(self.messages)} message(s) arrived within {timeout} s, not {count}"
                )
            time.sleep(0.02)
        return self.messages[:count]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def self_signed_tls(directory: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context that trusts it) for "localhost" and 127.0.0.1."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file = directory / "smtp-cert.pem"
    key_file = directory / "smtp-key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cafile=str(cert_file))
    return server, client


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A plain SMTP server on a free loopback port, running for the test."""
    with SmtpServer() as server:
        yield server
