"""OB 3.0 issuer identity: did:web for every BASE_URL shape, the DID documents (every key, Multikey
and JsonWebKey), Ed25519 keys beside the RSA ones without entering the 2.0 documents."""

from __future__ import annotations

import os
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.hazmat.primitives.serialization import PublicFormat
from flask import Flask
from flask.testing import FlaskClient

from campus import create_app
from campus.auth.models import User
from campus.badges import signing
from campus.badges.awarding import award
from campus.badges.issuers import IssuingContext
from campus.badges.issuers import campus_issuer
from campus.badges.issuers import get_badge
from campus.badges.issuers import organisation_issuer
from campus.badges.models import AwardSource
from campus.badges.models import SigningKey
from campus.badges.ob3 import did
from campus.badges.ob3 import keys
from campus.badges.ob3 import multibase
from campus.extensions import db
from tests.conftest import BASE_URL
from tests.conftest import TEST_BADGES
from tests.conftest import TEST_CONTENT
from tests.conftest import load_test_content
from tests.conftest import now


def context(app: Flask) -> IssuingContext:
    return IssuingContext.from_config(app.config)


@pytest.fixture
def learner(app: Flask, make_user, app_ctx: None) -> User:
    return db.session.get(User, make_user())


def awarded(app: Flask, learner: User) -> None:
    award(learner, get_badge("reviewed"), context(app), now(), AwardSource.REVIEW)
    db.session.commit()


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("https://campus.test", "did:web:campus.test"),
        ("https://Campus.Example.FI", "did:web:campus.example.fi"),
        ("http://127.0.0.1:5000", "did:web:127.0.0.1%3A5000"),
        ("https://example.org/osaamiskampus", "did:web:example.org:osaamiskampus"),
        ("https://example.org:8443/a/b", "did:web:example.org%3A8443:a:b"),
    ],
)
def test_did_web_follows_host_port_and_path(base_url: str, expected: str) -> None:
    assert did.campus_did(base_url) == expected
    assert did.did_for_slug("campus", base_url) == expected
    organisation = did.did_for_slug("org-omnia", base_url)
    assert organisation == f"{expected}:ob:v3:issuers:org-omnia"
    assert did.slug_for_did(expected, base_url) == "campus"
    assert did.slug_for_did(organisation, base_url) == "org-omnia"


def test_only_our_own_dids_name_an_issuer() -> None:
    for foreign in (
        "did:web:elsewhere.test",
        "did:web:campus.test:ob:v3:issuers:",
        "did:web:campus.test:ob:v3:issuers:a:b",
        "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
    ):
        assert did.slug_for_did(foreign, BASE_URL) is None


def test_base58btc_and_multikey_round_trip() -> None:
    assert multibase.b58encode(b"hello world") == "StV1DL6CwTryKyV"
    assert multibase.b58decode("StV1DL6CwTryKyV") == b"hello world"
    assert multibase.b58encode(b"\0\0\x01") == "112"
    assert multibase.b58decode("112") == b"\0\0\x01"
    assert multibase.decode(multibase.encode(b"")) == b""
    raw = bytes(range(32))
    key = multibase.ed25519_multikey(raw)
    assert key.startswith("z6Mk") and multibase.ed25519_from_multikey(key) == raw
    with pytest.raises(ValueError):
        multibase.b58decode("0OIl")
    with pytest.raises(ValueError):
        multibase.ed25519_from_multikey(multibase.encode(b"\x12\x00" + raw))


def test_the_first_award_gives_the_issuer_an_ed25519_key(app: Flask, learner: User) -> None:
    awarded(app, learner)
    issuer = campus_issuer(context(app))
    [rsa] = [k for k in issuer.keys if k.algorithm == "RS256"]
    [ed25519] = keys.ed25519_keys(issuer)
    assert ed25519.algorithm == "Ed25519" and ed25519.created_at == rsa.created_at
    private = Path(app.config["KEYS_DIR"]) / f"{ed25519.kid}.pem"
    assert stat.S_IMODE(os.stat(private).st_mode) == 0o600
    assert "PRIVATE" not in ed25519.public_pem
    loaded = keys.load_ed25519_private(ed25519, Path(app.config["KEYS_DIR"]), None)
    raw = loaded.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert multibase.ed25519_from_multikey(keys.public_multibase(ed25519)) == raw
    # The 2.0 signer never picks the Ed25519 key, even though it is the newest.
    assert signing.active_key(issuer).kid == rsa.kid
    # A second award keeps the same key.
    award(learner, get_badge("basics"), context(app), now(), AwardSource.BULK)
    assert [k.kid for k in keys.ed25519_keys(issuer)] == [ed25519.kid]


def test_ed25519_keys_stay_out_of_the_2_0_documents(
    app: Flask, client: FlaskClient, learner: User
) -> None:
    awarded(app, learner)
    issuer = campus_issuer(context(app))
    [ed25519] = keys.ed25519_keys(issuer)
    rsa = signing.active_key(issuer)
    assert client.get(f"/ob/keys/{ed25519.kid}").status_code == 404
    assert client.get(f"/ob/keys/{rsa.kid}").status_code == 200
    assert client.get("/ob/issuers/campus").json["publicKey"] == f"{BASE_URL}/ob/keys/{rsa.kid}"


def test_the_campus_did_document_lists_every_key(
    app: Flask, client: FlaskClient, learner: User
) -> None:
    awarded(app, learner)
    issuer = campus_issuer(context(app))
    keys.rotate_ed25519_key(issuer, Path(app.config["KEYS_DIR"]), None, now())
    db.session.commit()
    response = client.get("/.well-known/did.json")
    assert response.status_code == 200
    assert response.mimetype == "application/did+json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    document = response.json
    assert document["id"] == "did:web:campus.test"
    assert document["@context"][0] == "https://www.w3.org/ns/did/v1"
    assert document["alsoKnownAs"] == [f"{BASE_URL}/ob/issuers/campus"]
    methods = {m["id"]: m for m in document["verificationMethod"]}
    assert set(document["assertionMethod"]) == set(methods)
    stored = {f"did:web:campus.test#{k.kid}": k for k in issuer.keys}
    assert set(methods) == set(stored) and len(stored) == 3  # RSA, retired Ed25519, new Ed25519
    for method_id, method in methods.items():
        key = stored[method_id]
        assert method["controller"] == "did:web:campus.test"
        if key.algorithm == "Ed25519":
            assert method["type"] == "Multikey"
            assert method["publicKeyMultibase"] == keys.public_multibase(key)
            assert method["publicKeyMultibase"].startswith("z6Mk")
        else:
            assert method["type"] == "JsonWebKey"
            jwk = method["publicKeyJwk"]
            assert jwk["kty"] == "RSA" and jwk["e"] == "AQAB"
            assert not {"d", "p", "q", "dp", "dq", "qi"} & set(jwk)
    again = client.get("/.well-known/did.json", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    # BASE_URL has no path: /did.json is not this DID's document.
    assert client.get("/did.json").status_code == 404
    assert client.get("/ob/v3/issuers/campus/did.json").status_code == 404


def test_a_base_url_with_a_path_serves_did_json(tmp_path: Path) -> None:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "CONTENT_DIR": str(TEST_CONTENT),
            "BADGES_DIR": str(TEST_BADGES),
            "UPLOAD_DIR": str(tmp_path / "uploads"),
            "MAIL_DIR": str(tmp_path / "mail"),
            "KEYS_DIR": str(tmp_path / "keys"),
            "BASE_URL": "https://example.org:8443/osaamiskampus",
        }
    )
    with app.app_context():
        db.create_all()
        load_test_content(app)
        db.session.commit()
    document = app.test_client().get("/did.json").json
    assert document["id"] == "did:web:example.org%3A8443:osaamiskampus"
    assert document["verificationMethod"] == []


def test_an_organisation_issuer_has_its_own_did(
    app: Flask, client: FlaskClient, make_org, app_ctx: None
) -> None:
    make_org("Omnia", slug="omnia")
    omnia = organisation_issuer("omnia", context(app))
    key = keys.ed25519_key_for_signing(omnia, Path(app.config["KEYS_DIR"]), None, now())
    campus_key = keys.ed25519_key_for_signing(
        campus_issuer(context(app)), Path(app.config["KEYS_DIR"]), None, now()
    )
    db.session.commit()
    expected = "did:web:campus.test:ob:v3:issuers:org-omnia"
    assert did.issuer_did(omnia, BASE_URL) == expected
    document = client.get("/ob/v3/issuers/org-omnia/did.json").json
    assert document["id"] == expected
    assert [m["id"] for m in document["verificationMethod"]] == [f"{expected}#{key.kid}"]
    assert client.get("/ob/v3/issuers/nobody/did.json").json["error"] == 404
    # A key is found only under its own issuer's DID.
    assert did.key_for_verification_method(f"{expected}#{key.kid}", BASE_URL).kid == key.kid
    assert did.key_for_verification_method(f"did:web:campus.test#{key.kid}", BASE_URL) is None
    assert did.key_for_verification_method(f"{expected}#{campus_key.kid}", BASE_URL) is None
    assert did.key_for_verification_method(f"{expected}#unknown", BASE_URL) is None
    assert did.key_for_verification_method(f"did:web:elsewhere.test#{key.kid}", BASE_URL) is None
    assert did.key_for_verification_method(expected, BASE_URL) is None


def test_the_newest_key_of_the_issue_time_signs(app: Flask, app_ctx: None) -> None:
    issuer = campus_issuer(context(app))
    keys_dir = Path(app.config["KEYS_DIR"])
    first = keys.create_ed25519_key(issuer, keys_dir, None, now())
    second = keys.rotate_ed25519_key(issuer, keys_dir, None, now() + timedelta(days=7))
    listed = keys.ed25519_keys(issuer)
    assert [k.kid for k in listed] == [first.kid, second.kid]
    assert keys.key_at(listed, now()).kid == first.kid
    assert keys.key_at(listed, now().replace(year=2020)).kid == first.kid  # before any: oldest
    assert keys.key_at(listed, now() + timedelta(days=6)).kid == first.kid
    assert keys.key_at(listed, now() + timedelta(days=7)).kid == second.kid
    assert keys.active_ed25519_key(issuer).kid == second.kid
    assert db.session.get(SigningKey, first.id).retired_at is not None


def test_rotate_key_rotates_the_ed25519_key_too(
    app: Flask, client: FlaskClient, learner: User
) -> None:
    awarded(app, learner)
    issuer = campus_issuer(context(app))
    [before] = keys.ed25519_keys(issuer)
    result = app.test_cli_runner().invoke(args=["badges", "rotate-key"])
    assert result.exit_code == 0, result.output
    assert "1 badge(s) re-signed; 1 earlier key(s) stay published" in result.output
    db.session.expire_all()
    old, new = keys.ed25519_keys(issuer)
    assert old.kid == before.kid and old.retired_at is not None and new.retired_at is None
    assert f"New OB 3.0 (Ed25519) key {new.kid}" in result.output
    listed = client.get("/.well-known/did.json").json["assertionMethod"]
    assert {f"did:web:campus.test#{old.kid}", f"did:web:campus.test#{new.kid}"} <= set(listed)
