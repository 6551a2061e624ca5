"""Outbound HTTP to addresses that someone typed in or that a remote document named.

An administrator confirms an LMS's Dynamic Registration address, a tool or LMS names its key set
and token URLs: the campus then fetches those server-side. Without care that is a server-side
request forgery tool (cloud metadata at 169.254.169.254, admin consoles on 127.0.0.1, the
intranet), so every such fetch goes through `GuardedSession`:

- only http and https; no proxy from the environment (the check must see the real destination);
- the address is checked **at connection time, on the socket we actually connect**: the
  connection class resolves the host once, drops every non-public address, connects to one of
  the checked IPs and verifies `getpeername()` before a byte is sent. Checking the name first and
  letting the library resolve it again would race with DNS rebinding (a record that is public
  for the check and 127.0.0.1 for the connection). Host header, TLS SNI and certificate checks
  still use the host name, because only the socket is made here;
- no redirects (a 3xx is returned as it is and `fetch_json` treats it as a failure);
- connect and read timeouts, a body cap checked while streaming, and a hard overall deadline:
  a read timeout is per read, so a server that trickles its status line or headers a byte at a
  time would never trip it; at `total_seconds` a watchdog shuts the request's sockets down.

Private, loopback, link-local, multicast, reserved and unspecified addresses (and IPv6 forms
that embed them) are refused unless `LTI_ALLOW_PRIVATE_ADDRESSES` is on: a lab, or an LMS on the
institution's intranet.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import threading
import time
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection
from urllib3.connection import HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool
from urllib3.connectionpool import HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError
from urllib3.exceptions import NameResolutionError
from urllib3.exceptions import NewConnectionError
from urllib3.util.connection import create_connection

CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 5.0
TOTAL_SECONDS = 15.0
MAX_BYTES = 1024 * 1024
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class OutboundError(requests.exceptions.RequestException):
    """A refused or failed outbound request. The text is detail for the log, never for users."""


class BlockedAddress(Exception):
    """Raised inside the connection. Not an OSError on purpose: urllib3 neither retries nor
    rewraps it, and `GuardedSession` turns it into an OutboundError."""


@dataclass(frozen=True)
class OutboundPolicy:
    allow_private: bool = False
    connect_timeout: float = CONNECT_TIMEOUT
    read_timeout: float = READ_TIMEOUT
    total_seconds: float = TOTAL_SECONDS
    max_bytes: int = MAX_BYTES

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> OutboundPolicy:
        return cls(allow_private=bool(config.get("LTI_ALLOW_PRIVATE_ADDRESSES", False)))


def is_public_address(address: str) -> bool:
    """True for a globally routable unicast address; anything unparsable is not public."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None and not is_public_address(str(embedded)):
            return False
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def check_url(url: str) -> None:
    """Refuse what is not a plain http(s) URL with a host before anything is sent."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise OutboundError(f"unusable URL: {error}") from error
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OutboundError("only http and https addresses with a host are fetched")
    if port == 0:
        raise OutboundError("port 0 is not a destination")


# The sockets the current GuardedSession request opened (set around each request, same thread).
_request_sockets: ContextVar[list[socket.socket] | None] = ContextVar(
    "outbound_request_sockets", default=None
)


def _tracked(sock: socket.socket) -> socket.socket:
    sockets = _request_sockets.get()
    if sockets is not None:
        sockets.append(sock)
    return sock


class _Watchdog:
    """Shuts the given sockets down at the deadline: a blocked read then ends at once."""

    def __init__(self, sockets: list[socket.socket], seconds: float) -> None:
        self.sockets = sockets
        self.fired = False
        self._timer = threading.Timer(max(seconds, 0.0), self._fire)
        self._timer.daemon = True

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()

    def _fire(self) -> None:
        self.fired = True
        for sock in list(self.sockets):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _TrackedConnectionMixin:
    """urllib3's own connection (private addresses allowed), with the watchdog's bookkeeping."""

    def _new_conn(self) -> socket.socket:
        return _tracked(super()._new_conn())  # type: ignore[misc]


class _GuardedConnectionMixin:
    """Replaces urllib3's `_new_conn`: resolve once, keep public addresses, connect to one of
    them, verify the peer. Everything else (Host, SNI, certificates) stays urllib3's."""

    host: str
    port: int
    timeout: Any
    source_address: Any
    socket_options: Any
    _dns_host: str

    def _new_conn(self) -> socket.socket:
        try:
            infos = socket.getaddrinfo(self._dns_host, self.port, type=socket.SOCK_STREAM)
        except socket.gaierror as error:
            raise NameResolutionError(self.host, self, error) from error  # type: ignore[arg-type]
        candidates = list(dict.fromkeys(info[4][0] for info in infos))
        allowed = [address for address in candidates if is_public_address(address)]
        if not allowed:
            raise BlockedAddress(f"{self.host} resolves to non-public addresses only")
        last_error: OSError | None = None
        for address in allowed:
            try:
                sock = create_connection(
                    (address, self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except TimeoutError as error:
                raise ConnectTimeoutError(self, f"connection to {self.host} timed out") from error  # type: ignore[arg-type]
            except OSError as error:
                last_error = error
                continue
            peer = sock.getpeername()[0]
            if not is_public_address(peer):  # defence in depth: what we reached, not what we asked
                sock.close()
                raise BlockedAddress(f"{self.host} connected to a non-public address")
            return _tracked(sock)
        raise NewConnectionError(self, f"failed to connect: {last_error}")  # type: ignore[arg-type]


class _GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class _TrackedHTTPConnection(_TrackedConnectionMixin, HTTPConnection):
    pass


class _TrackedHTTPSConnection(_TrackedConnectionMixin, HTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _TrackedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _TrackedHTTPConnection


class _TrackedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _TrackedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = (
            {"http": _TrackedHTTPPool, "https": _TrackedHTTPSPool}
            if self.allow_private
            else {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}
        )


class GuardedSession(requests.Session):
    """A requests session that libraries (pylti1p3) can use as they are: every request goes
    out under the policy, whatever arguments the caller passes. Responses come back read
    (at most `max_bytes`), with no redirect followed."""

    def __init__(self, policy: OutboundPolicy) -> None:
        super().__init__()
        self.policy = policy
        self.trust_env = False  # no HTTP(S)_PROXY: the address check must see the destination
        self.max_redirects = 0
        self._sockets: list[socket.socket] = []
        adapter = _GuardedAdapter(policy.allow_private)
        self.mount("http://", adapter)
        self.mount("https://", adapter)

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        url = url.decode() if isinstance(url, bytes) else url
        check_url(url)
        kwargs.update(
            allow_redirects=False,
            stream=True,
            timeout=(self.policy.connect_timeout, self.policy.read_timeout),
        )
        token = _request_sockets.set(self._sockets)
        try:
            with _Watchdog(self._sockets, self.policy.total_seconds) as watchdog:
                try:
                    response = super().request(method, url, *args, **kwargs)
                    try:
                        _read_capped(response, self.policy)
                    finally:
                        response.close()
                except BlockedAddress as error:
                    raise OutboundError(str(error)) from error
                except (requests.RequestException, OSError) as error:
                    if watchdog.fired:
                        raise OutboundError(self._late()) from error
                    raise
            if watchdog.fired:  # cut mid-answer: what was read may look complete, it is not
                raise OutboundError(self._late())
        finally:
            _request_sockets.reset(token)
        return response

    def _late(self) -> str:
        return f"no complete answer within {self.policy.total_seconds:g} s"


def _read_capped(response: requests.Response, policy: OutboundPolicy) -> None:
    """Read the body into the response, refusing more than `max_bytes` (after decompression)
    or a trickle that outlasts the overall deadline (the read timeout is per read)."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > policy.max_bytes:
        raise OutboundError(f"response of {declared} bytes is over the limit")
    deadline = time.monotonic() + policy.total_seconds
    body = bytearray()
    for chunk in response.iter_content(64 * 1024):
        body += chunk
        if len(body) > policy.max_bytes:
            raise OutboundError("response is over the size limit")
        if time.monotonic() > deadline:
            raise OutboundError("response took too long")
    response._content = bytes(body)  # what `.content`/`.json()` read once the stream is consumed


def fetch_json(
    method: str,
    url: str,
    policy: OutboundPolicy,
    *,
    json_body: Any = None,
    headers: Mapping[str, str] | None = None,
) -> Any:
    """One guarded request whose 2xx answer must be JSON; anything else is an OutboundError."""
    try:
        with GuardedSession(policy) as session:
            response = session.request(method, url, json=json_body, headers=dict(headers or {}))
    except OutboundError:
        raise
    except requests.RequestException as error:  # refused, timed out, TLS, reset…
        raise OutboundError(f"{type(error).__name__}: {error}") from error
    if 300 <= response.status_code < 400:
        raise OutboundError(f"HTTP {response.status_code} redirect not followed")
    if not 200 <= response.status_code < 300:
        raise OutboundError(f"HTTP {response.status_code}")
    try:
        return json.loads(response.content)
    except (ValueError, RecursionError) as error:
        raise OutboundError("the answer is not JSON") from error


def loggable(url: str) -> str:
    """The URL without query, fragment or user info, for logs (tokens travel in queries)."""
    try:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}{parts.path}"
    except ValueError:
        return "<unparsable URL>"
