"""The Digital Credentials Consortium's verifier (npm, pinned in tests/ob3/package-lock.json) run
from tests/ob3/verify.mjs on a batch of campus OB 3.0 credentials, fully offline.

Everything the verifier may read besides the npm JSON-LD contexts, the issuers' DID documents
and the status list credentials, is fetched here from the campus test client and handed over in
the job; the script resolves did:web itself (so a wrong DID-to-URL mapping fails the test) and
refuses every other address.

Locally the tests are skipped when Node.js is missing; in CI (CI=true) that is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import unquote
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import BASE_URL
from tests.conftest import now

OB3_DIR = Path(__file__).parent / "ob3"
VERIFY_SCRIPT = OB3_DIR / "verify.mjs"
MIN_NODE = (20, 0)


def _node_version(node: str) -> tuple[int, ...]:
    text = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=10).stdout
    return tuple(int(part) for part in text.strip().lstrip("v").split(".")[:2] if part.isdigit())


def require_node() -> str:
    """The `node` binary with the verifier's packages installed (`npm ci` once when missing)."""
    node = shutil.which("node")
    problem = None
    if node is None or shutil.which("npm") is None:
        problem = "Node.js and npm are not installed"
    elif _node_version(node) < MIN_NODE:
        problem = f"Node.js {'.'.join(map(str, MIN_NODE))} or newer is needed"
    if problem:
        reason = f"{problem} (the OB 3.0 tests run the DCC verifier from npm)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} in CI")
        pytest.skip(reason)
    assert node is not None
    if not (OB3_DIR / "node_modules" / "@digitalcredentials" / "vc").exists():
        subprocess.run(
            ["npm", "ci", "--silent", "--no-audit", "--no-fund", "--prefix", str(OB3_DIR)],
            check=True,
            timeout=300,
        )
    return node


def did_web_url(did: str) -> str:
    """The https URL of a did:web DID's document (did:web spec, "Read (Resolve)")."""
    assert did.startswith("did:web:"), did
    host, *path = (unquote(part) for part in did.removeprefix("did:web:").split(":"))
    return (
        f"https://{host}/{'/'.join(path)}/did.json"
        if path
        else f"https://{host}/.well-known/did.json"
    )


def fetch_json(client: FlaskClient, url: str) -> Any:
    """A public campus document by its absolute URL, through the test client."""
    assert url.startswith(BASE_URL + "/"), f"{url} is not the campus's"
    parts = urlsplit(url)
    answer = client.get(parts.path + (f"?{parts.query}" if parts.query else ""))
    assert answer.status_code == 200, (url, answer.status_code, answer.get_data(as_text=True))
    return json.loads(answer.get_data(as_text=True))


def _issuer_id(credential: dict[str, Any]) -> str:
    issuer = credential.get("issuer")
    return issuer.get("id", "") if isinstance(issuer, dict) else str(issuer or "")


def proofs_of(credential: dict[str, Any]) -> list[dict[str, Any]]:
    proof = credential.get("proof")
    return proof if isinstance(proof, list) else [proof] if isinstance(proof, dict) else []


def documents_for(client: FlaskClient, credentials: list[dict[str, Any]]) -> dict[str, Any]:
    """The issuers' DID documents and the status list credentials the batch refers to."""
    documents: dict[str, Any] = {}
    for credential in credentials:
        issuer = _issuer_id(credential)
        methods = [str(p.get("verificationMethod", "")) for p in proofs_of(credential)]
        dids = {
            d for d in (issuer, *(m.split("#")[0] for m in methods)) if d.startswith("did:web:")
        }
        urls = {did_web_url(d) for d in dids}
        status = credential.get("credentialStatus")
        for entry in status if isinstance(status, list) else [status] if status else []:
            urls.add(entry["statusListCredential"])
        for url in urls - documents.keys():
            if url.startswith(BASE_URL + "/"):
                documents[url] = fetch_json(client, url)
    return documents


class DccVerifier:
    """One Node process (verify.mjs --lines) for a whole test module: a job per line."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [require_node(), str(VERIFY_SCRIPT), "--lines"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=OB3_DIR,
        )

    def verify(
        self,
        client: FlaskClient,
        credentials: list[dict[str, Any]],
        documents: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """A result per credential ({"verified", "signature", "status", "errors", "log"}), all
        checked against the documents the campus serves now (or `documents`)."""
        job = {
            "credentials": credentials,
            "documents": documents if documents is not None else documents_for(client, credentials),
        }
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(job) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            stderr = self.process.stderr.read() if self.process.stderr else ""
            raise AssertionError(f"the DCC verifier stopped: {stderr}")
        answer = json.loads(line)
        assert answer["refused"] == [], f"the verifier wanted more: {answer['refused']}"
        assert len(answer["results"]) == len(credentials)
        return answer["results"]

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


def award_basics(app: Flask, make_user, email: str = "learner@example.org") -> str:
    """A fresh award of the test badge "basics" to a new learner; returns its uuid."""
    from campus.auth.models import User
    from campus.badges.awarding import award
    from campus.badges.issuers import IssuingContext
    from campus.badges.issuers import get_badge
    from campus.badges.models import AwardSource
    from campus.extensions import db

    user_id = make_user(email)
    with app.app_context():
        user = db.session.get(User, user_id)
        result = award(
            user,
            get_badge("basics"),
            IssuingContext.from_config(app.config),
            now(),
            AwardSource.PATH,
        )
        assert result.assertion is not None
        db.session.commit()
        return result.assertion.uuid
