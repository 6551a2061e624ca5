"""A real, certified OpenID Provider for the SSO tests: panva/oidc-provider from the npm registry
(pinned in tests/oidc/package-lock.json), started from tests/oidc/provider.mjs on loopback.

The campus runs in the Flask test client (its outbound calls to the provider are real HTTP);
the provider side of the browser is a `requests` session. `TokenProxy` sits in front of the
provider's token endpoint for the refusal tests: it swaps in a real ID token obtained for
another client, or holds a real answer until its ID token has expired, so that what the campus
checks is always a token the provider signed.

Locally the tests are skipped when Node.js is missing; in CI (CI=true) that is a failure.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlencode
from urllib.parse import urljoin
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

from tests.conftest import BASE_URL

OIDC_DIR = Path(__file__).parent / "oidc"
CAMPUS_CLIENT = ("campus", "campus-client-secret")
SHORT_CLIENT = ("campus-short", "campus-short-secret")
OTHER_CLIENT = ("other-app", "other-app-secret")
OTHER_REDIRECT = "https://other.test/callback"


MIN_NODE = (20, 19)  # oidc-provider 9 (crypto.hash, jose 6); tests/oidc/package.json engines


def _node_version(node: str) -> tuple[int, ...]:
    text = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=10).stdout
    return tuple(int(part) for part in text.strip().lstrip("v").split(".")[:2] if part.isdigit())


def _require_node() -> str:
    node = shutil.which("node")
    problem = None
    if node is None or shutil.which("npm") is None:
        problem = "Node.js and npm are not installed"
    elif _node_version(node) < MIN_NODE:
        problem = f"Node.js {'.'.join(map(str, MIN_NODE))} or newer is needed"
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"{problem} in CI (the SSO tests run a real OpenID Provider)")
        pytest.skip(f"{problem} (the SSO tests run a real OpenID Provider)")
    assert node is not None
    if not (OIDC_DIR / "node_modules" / "oidc-provider").exists():
        subprocess.run(
            ["npm", "ci", "--silent", "--no-audit", "--no-fund", "--prefix", str(OIDC_DIR)],
            check=True,
            timeout=300,
        )
    return node


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class OidcPeer:
    """The running provider: its issuer, and the browser's side of a login there."""

    issuer: str
    process: subprocess.Popen[str]

    def browser(self) -> requests.Session:
        session = requests.Session()
        session.trust_env = False
        return session

    def authorize(self, browser: requests.Session, url: str, account: str) -> str:
        """Follow an authorization request at the provider, logging `account` in when it asks;
        the address the provider sends the browser back to (not fetched)."""
        for _ in range(12):
            answer = browser.get(url, allow_redirects=False, timeout=10)
            if answer.status_code == 200 and "/interaction/" in url:
                answer = browser.post(url, data={"account": account}, allow_redirects=False)
            assert answer.status_code in (302, 303), (answer.status_code, answer.text[:500])
            url = urljoin(url, answer.headers["Location"])
            if not url.startswith(self.issuer):
                return url
        raise AssertionError("too many redirects at the provider")

    def code_for(
        self,
        browser: requests.Session,
        account: str,
        client_id: str,
        redirect_uri: str,
        nonce: str,
    ) -> tuple[str, str]:
        """(code, PKCE verifier) of a login of `account` at `client_id` with `nonce`."""
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        query = {
            "client_id": client_id,
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "scope": "openid email profile",
            "state": secrets.token_urlsafe(8),
            "nonce": nonce,
            "code_challenge": challenge.rstrip(b"=").decode(),
            "code_challenge_method": "S256",
        }
        back = self.authorize(browser, f"{self.issuer}/auth?{urlencode(query)}", account)
        return parse_qs(urlsplit(back).query)["code"][0], verifier

    def tokens(
        self, client: tuple[str, str], code: str, redirect_uri: str, verifier: str
    ) -> dict[str, Any]:
        answer = requests.post(
            f"{self.issuer}/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
            },
            auth=client,
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        return answer.json()


_running: list[OidcPeer] = []


def _start_provider() -> OidcPeer:
    node = _require_node()
    port = _free_port()
    process = subprocess.Popen(
        [node, str(OIDC_DIR / "provider.mjs"), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    peer = OidcPeer(f"http://127.0.0.1:{port}", process)
    deadline = time.monotonic() + 20
    while True:
        try:
            if requests.get(f"{peer.issuer}/.well-known/openid-configuration", timeout=1).ok:
                return peer
        except requests.ConnectionError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            _stop_provider(peer)
            raise RuntimeError("the OpenID Provider did not start (node tests/oidc/provider.mjs)")
        time.sleep(0.1)


def _stop_provider(peer: OidcPeer) -> None:
    peer.process.terminate()
    try:
        peer.process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        peer.process.kill()
        peer.process.wait(timeout=5)


@pytest.fixture(scope="session", name="oidc_peer")
def oidc_peer_fixture(request: pytest.FixtureRequest) -> OidcPeer:
    """The provider, started once per test run however many modules import this fixture
    (each import is a fixture of its own to pytest; the process is shared)."""
    if not _running:
        _running.append(_start_provider())
        request.config.add_cleanup(lambda: _stop_provider(_running.pop()))
    return _running[0]


@dataclass
class TokenProxy:
    """Discovery and token endpoint in front of the provider (everything else is the
    provider's own): `replacement` swaps the ID token, `delay` holds the answer."""

    issuer: str
    replacement: str | None = None
    delay: float = 0.0
    seen: list[dict[str, Any]] = field(default_factory=list)
    base: str = ""

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if request.path == "/.well-known/openid-configuration":
            document = requests.get(f"{self.issuer}{request.path}", timeout=5).json()
            document["token_endpoint"] = f"{self.base}/token"
            return json_response(document)(environ, start_response)
        if request.path == "/token" and request.method == "POST":
            answer = requests.post(
                f"{self.issuer}/token",
                data=request.get_data(),
                headers={
                    "Authorization": request.headers.get("Authorization", ""),
                    "Content-Type": request.headers.get("Content-Type", ""),
                },
                timeout=10,
            )
            body = answer.json()
            self.seen.append(dict(body))
            if answer.ok and self.replacement:
                body["id_token"] = self.replacement
            if self.delay:
                time.sleep(self.delay)
            return json_response(body, answer.status_code)(environ, start_response)
        return Response("not here", 404)(environ, start_response)


def json_response(document: Any, status: int = 200) -> Response:
    return Response(json.dumps(document), status, mimetype="application/json")


@pytest.fixture(name="token_proxy")
def token_proxy_fixture(oidc_peer: OidcPeer) -> Iterator[TokenProxy]:
    proxy = TokenProxy(oidc_peer.issuer)
    server = make_server("127.0.0.1", 0, proxy, threaded=True)
    proxy.base = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        server.shutdown()
        thread.join(timeout=5)


def enable_sso(app: Flask) -> None:
    """The SSO package on the test app (until campus.auth registers it) and its tables."""
    from campus.auth import sso
    from campus.auth.sso import client
    from campus.extensions import db

    if "sso" not in app.blueprints:
        sso.init_app(app)
    app.config.update(SSO_ALLOW_PRIVATE_ADDRESSES=True, SSO_CLOCK_LEEWAY=0)
    with app.app_context():
        db.create_all()
    client.forget_cached()


def add_provider(
    app: Flask,
    organisation_id: int,
    issuer: str,
    slug: str = "oidc",
    client: tuple[str, str] = CAMPUS_CLIENT,
    **settings: Any,
) -> int:
    """An enabled provider (settings: OidcProvider columns); returns its id."""
    from campus.auth.sso.models import OidcProvider
    from campus.extensions import db

    with app.app_context():
        provider = OidcProvider(
            slug=slug,
            name=settings.pop("name", f"Test IdP {slug}"),
            issuer=issuer,
            client_id=client[0],
            client_secret=client[1],
            scopes=settings.pop("scopes", "openid email profile campus"),
            organisation_id=organisation_id,
            name_claim="name",
            email_claim="email",
            organisation_map=settings.pop("organisation_map", {}),
            role_map=settings.pop("role_map", {}),
            allowed_domains=settings.pop("allowed_domains", []),
            **settings,
        )
        db.session.add(provider)
        db.session.commit()
        return provider.id


def start_login(client: FlaskClient, slug: str = "oidc", next_url: str | None = None) -> str:
    """The campus's authorization request (the address it sends the browser to)."""
    query = f"?{urlencode({'next': next_url})}" if next_url else ""
    answer = client.get(f"/auth/sso/{slug}/login{query}")
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return answer.headers["Location"]


def back_to_campus(client: FlaskClient, url: str):  # type: ignore[no-untyped-def]
    """Give the provider's redirect (an address on BASE_URL) to the campus."""
    assert url.startswith(BASE_URL), url
    return client.get(url[len(BASE_URL) :])


def sso_login(
    client: FlaskClient,
    peer: OidcPeer,
    account: str,
    slug: str = "oidc",
    browser: requests.Session | None = None,
):  # type: ignore[no-untyped-def]
    """A whole login: campus → provider (log in `account`) → campus callback; its answer."""
    url = start_login(client, slug)
    return back_to_campus(client, peer.authorize(browser or peer.browser(), url, account))


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}
