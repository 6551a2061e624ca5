"""The campus verifier accepts OB 3.0: Data Integrity JSON, VC-JWT and baked images; it checks
proof, issuer, key, status list, expiry and recipient from its own database, fetching nothing."""

from __future__ import annotations

import base64
import copy
import io
import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient

from campus.auth.models import User
from campus.badges import ob2
from campus.badges import verify
from campus.badges.awarding import award
from campus.badges.issuers import IssuingContext
from campus.badges.issuers import get_badge
from campus.badges.issuers import organisation_issuer
from campus.badges.models import Assertion
from campus.badges.models import AwardSource
from campus.badges.models import SigningKey
from campus.badges.ob3 import baking as ob3_baking
from campus.badges.ob3 import credential as ob3_credential
from campus.badges.ob3 import dataintegrity
from campus.badges.ob3 import did
from campus.badges.ob3 import keys
from campus.badges.revocation import revoke
from campus.extensions import db
from tests.conftest import BASE_URL
from tests.conftest import now

URLS = ob2.Urls(BASE_URL)
EMAIL = "learner@example.org"


def context(app: Flask) -> IssuingContext:
    return IssuingContext.from_config(app.config)


@pytest.fixture
def assertion(app: Flask, make_user, app_ctx: None) -> Assertion:
    user = db.session.get(User, make_user(EMAIL))
    result = award(user, get_badge("reviewed"), context(app), now(), AwardSource.REVIEW)
    db.session.commit()
    assert result.assertion is not None
    return result.assertion


@pytest.fixture
def credential(app: Flask, assertion: Assertion) -> dict[str, Any]:
    document = ob3_credential.credential_for(assertion, context(app))
    db.session.commit()
    return document


def check(result: verify.Verification, label: str) -> verify.Check:
    [found] = [c for c in result.checks if c.label == label]
    return found


def failed(result: verify.Verification) -> verify.Check:
    assert not result.valid
    return next(c for c in result.checks if not c.passed)


def resign(app: Flask, document: dict[str, Any], key: SigningKey, method: str) -> dict[str, Any]:
    unsigned = {k: v for k, v in document.items() if k != "proof"}
    keys_dir = Path(app.config["KEYS_DIR"])
    return dataintegrity.sign(unsigned, key, method, now(), keys_dir, None)


# --- what verifies --------------------------------------------------------------------------


def test_a_fresh_credential_verifies(app: Flask, assertion: Assertion, credential: dict) -> None:
    result = verify.verify_text(json.dumps(credential), URLS, now(), EMAIL)
    assert result.valid, result.checks
    assert result.standard == "3.0" and result.assertion.uuid == assertion.uuid
    assert result.recipient == (EMAIL, True)
    labels = [c.label for c in result.checks]
    for label in (
        "It is an Open Badges 3.0 credential",
        "It was issued by this campus",
        "It was signed with a key of this campus",
        "The key belongs to the badge's issuer",
        "The signature is valid",
        "It is a badge this campus issued",
        "The badge has not been revoked",
        "The badge has not expired",
        f"It was issued to {EMAIL}",
    ):
        assert label in labels
    other = verify.verify_text(json.dumps(credential), URLS, now(), "someone@else.org")
    assert failed(other).detail == "The badge was issued to a different e-mail address."


def test_a_vc_jwt_verifies(app: Flask, assertion: Assertion) -> None:
    token = ob3_credential.vc_jwt_for(assertion, context(app))
    result = verify.verify_text(token, URLS, now(), EMAIL)
    assert result.valid, result.checks
    assert result.standard == "3.0" and result.assertion.uuid == assertion.uuid
    header, body, signature = token.split(".")
    claims = json.loads(jwt.utils.base64url_decode(body))
    inner = claims.get("vc", claims)
    inner["validUntil"] = "2099-01-01T00:00:00Z"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    tampered = verify.verify_text(f"{header}.{forged}.{signature}", URLS, now())
    assert failed(tampered).label == "The signature is valid"
    assert failed(tampered).detail == "The badge was changed after it was signed."
    # The same claims under another algorithm (HS256, with anything as the secret): refused.
    hs = jwt.api_jws.PyJWS().encode(
        json.dumps(claims).encode(),
        "x" * 32,
        algorithm="HS256",
        headers={"kid": jwt.get_unverified_header(token)["kid"]},
    )
    assert not verify.verify_text(hs, URLS, now()).valid


def test_baked_images_verify(app: Flask, assertion: Assertion, credential: dict) -> None:
    badge = assertion.badge_class
    token = ob3_credential.vc_jwt_for(assertion, context(app))
    for fmt, image in (("png", badge.image_png), ("svg", badge.image_svg)):
        for carried in (credential, token):
            baked = ob3_baking.bake_credential(image, fmt, carried)
            result = verify.verify_image(baked, URLS, now(), EMAIL)
            assert result.valid and result.standard == "3.0", (fmt, result.checks)
    # 2.0 images still verify as 2.0
    assert verify.verify_image(assertion.baked_png, URLS, now()).standard == "2.0"


def test_the_credential_address_is_accepted(assertion: Assertion) -> None:
    result = verify.verify_text(f"{BASE_URL}/ob/v3/credentials/{assertion.uuid}", URLS, now())
    assert result.valid, result.checks


def test_a_credential_verifies_after_key_rotation(
    app: Flask, assertion: Assertion, credential: dict
) -> None:
    issuer = assertion.badge_class.issuer
    later = now() + timedelta(days=1)
    keys.rotate_ed25519_key(issuer, Path(app.config["KEYS_DIR"]), None, later)
    db.session.commit()
    result = verify.verify_text(json.dumps(credential), URLS, later)
    assert result.valid, result.checks


# --- what fails -----------------------------------------------------------------------------


def test_a_tampered_credential_fails(credential: dict) -> None:
    tampered = copy.deepcopy(credential)
    tampered["credentialSubject"]["achievement"]["name"] = "Something grander"
    result = verify.verify_text(json.dumps(tampered), URLS, now())
    assert failed(result).label == "The signature is valid"
    assert failed(result).detail == "The badge was changed after it was signed."


def test_another_key_fails(app: Flask, make_org, assertion: Assertion, credential: dict) -> None:
    campus = assertion.badge_class.issuer
    keys_dir = Path(app.config["KEYS_DIR"])
    genuine = credential["proof"][0]["verificationMethod"]
    # A key nobody published here (named under the campus's DID): unknown.
    stranger = SigningKey(kid="f" * 8, issuer_id=campus.id, algorithm="Ed25519", public_pem="")
    stranger.public_pem = keys.keystore.generate_ed25519(keys_dir, stranger.kid, None)
    unknown = resign(app, credential, stranger, f"{did.issuer_did(campus, BASE_URL)}#nobody")
    result = verify.verify_text(json.dumps(unknown), URLS, now())
    assert failed(result).label == "It was signed with a key of this campus"
    # Signed by another private key, naming the campus's genuine key: the signature fails.
    stolen_name = resign(app, credential, stranger, genuine)
    assert failed(verify.verify_text(json.dumps(stolen_name), URLS, now())).label == (
        "The signature is valid"
    )
    # A key of another issuer of this campus: it does not belong to the badge's issuer.
    make_org("Omnia", slug="omnia")
    omnia = organisation_issuer("omnia", context(app))
    theirs = keys.create_ed25519_key(omnia, keys_dir, None, now())
    db.session.commit()
    borrowed = resign(app, credential, theirs, did.verification_method(omnia, theirs, BASE_URL))
    result = verify.verify_text(json.dumps(borrowed), URLS, now())
    assert failed(result).label == "The key belongs to the badge's issuer"


def test_a_revoked_credential_fails(assertion: Assertion, credential: dict) -> None:
    revoke(assertion, "Issued in error", now())
    db.session.commit()
    result = verify.verify_text(json.dumps(credential), URLS, now())
    assert failed(result).label == "The badge has not been revoked"
    assert failed(result).detail == "Revoked: Issued in error"


def test_an_expired_credential_fails(credential: dict) -> None:
    assert credential["validUntil"]  # "reviewed" is valid for 365 days
    result = verify.verify_text(json.dumps(credential), URLS, now() + timedelta(days=400))
    assert failed(result).label == "The badge has not expired"
    assert failed(result).detail.startswith("Expired on ")


def test_a_foreign_issuer_fails(app: Flask, credential: dict) -> None:
    foreign = copy.deepcopy(credential)
    if isinstance(foreign["issuer"], dict):
        foreign["issuer"]["id"] = "did:web:evil.example"
    else:
        foreign["issuer"] = "did:web:evil.example"
    result = verify.verify_text(json.dumps(foreign), URLS, now())
    assert failed(result).label == "It was issued by this campus"
    assert "not issued by this campus" in failed(result).detail


def test_a_signed_forgery_of_a_real_award_fails(
    app: Flask, assertion: Assertion, credential: dict
) -> None:
    """Even the issuer's own (say, leaked retired) key cannot state another recipient."""
    forged = copy.deepcopy(credential)
    forged["credentialSubject"]["identifier"][0]["identityHash"] = ob2.recipient_hash(
        "thief@example.org", assertion.recipient_salt
    )
    key = keys.ed25519_key_for(assertion)
    signed = resign(app, forged, key, credential["proof"][0]["verificationMethod"])
    result = verify.verify_text(json.dumps(signed), URLS, now(), "thief@example.org")
    assert failed(result).label == "It is a badge this campus issued"


# --- the page -------------------------------------------------------------------------------


def test_verify_page_shows_a_credential(
    app: Flask, client: FlaskClient, assertion: Assertion, credential: dict
) -> None:
    ok = client.post("/badges/verify", data={"text": json.dumps(credential), "email": EMAIL})
    page = ok.get_data(as_text=True)
    assert ok.status_code == 200 and "The badge is valid" in page
    assert "Open Badges 3.0 credential" in page
    token = ob3_credential.vc_jwt_for(assertion, context(app))
    assert client.post("/badges/verify", data={"text": token}).status_code == 200
    baked = ob3_baking.bake_credential(assertion.badge_class.image_png, "png", credential)
    upload = client.post(
        "/badges/verify",
        data={"image": (io.BytesIO(baked), "b.png")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 200 and "The badge is valid" in upload.get_data(as_text=True)
    revoke(assertion, "Issued in error", now())
    db.session.commit()
    revoked = client.post("/badges/verify", data={"text": json.dumps(credential)})
    assert revoked.status_code == 422 and "Revoked: Issued in error" in revoked.get_data(
        as_text=True
    )


VC = "https://www.w3.org/ns/credentials/v2"
SHAPE = {"@context": [VC], "type": ["VerifiableCredential", "OpenBadgeCredential"]}


MALFORMED = [
    "{not json",
    '{"a": 1,}',
    "[1, 2, 3]",
    "[" * 5000 + "]" * 5000,
    '{"@context": "https://w3id.org/openbadges/v2", "type": "Assertion"}',
    json.dumps({**SHAPE, "issuer": ["did:web:campus.test"]}),
    json.dumps({**SHAPE, "issuer": {"id": 5}, "proof": "x"}),
    json.dumps({**SHAPE, "issuer": "did:web:campus.test", "proof": 5}),
    json.dumps({**SHAPE, "issuer": "did:web:campus.test", "proof": {"verificationMethod": ["x"]}}),
    json.dumps(
        {
            **SHAPE,
            "issuer": "did:web:campus.test",
            "proof": {"verificationMethod": "did:web:campus.test#nope"},
        }
    ),
    json.dumps({**SHAPE, "issuer": "did:web:campus.test:ob:v3:issuers:x#y"}),
    json.dumps({"vc": SHAPE}),
]


def test_malformed_input_gets_a_clear_answer(app: Flask, client: FlaskClient) -> None:
    for text in MALFORMED:
        response = client.post("/badges/verify", data={"text": text, "email": EMAIL})
        assert response.status_code == 422, text
        page = response.get_data(as_text=True)
        assert "The badge is not valid" in page
        assert (
            "This is not valid JSON" in page
            or "nested too deeply" in page
            or "not an Open Badges 3.0 credential" in page
            or "This is Open Badges 2.0 JSON" in page
            or "not issued by this campus" in page
            or "not one this campus published" in page
        ), text


def test_malformed_vc_jwts_get_a_clear_answer(app: Flask, client: FlaskClient) -> None:
    for claims in (
        {"vc": {**SHAPE, "issuer": "did:web:campus.test"}},
        {**SHAPE, "issuer": "did:web:campus.test"},
        {**SHAPE, "issuer": "did:web:evil.example"},
    ):
        token = jwt.api_jws.PyJWS().encode(
            json.dumps(claims).encode(), "x" * 32, algorithm="HS256", headers={"kid": "a#b"}
        )
        response = client.post("/badges/verify", data={"text": token})
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        assert "not one this campus published" in page or "not issued by this campus" in page


def _look_alikes(depth: int, width: int) -> list[dict[str, Any]]:
    """Blank nodes that look alike all the way down: RDFC-1.0 is exponential on them."""
    child = {"type": "VerifiableCredential"}
    for _level in range(depth):
        child = {"type": "VerifiableCredential", "credentialSubject": [child] * width}
    return [child] * width


HOSTILE = [
    {"evidence": _look_alikes(2, 4)},  # a tree: 6 s in pyld
    {
        "evidence": [  # a 7-clique of explicit blank nodes: 40 s in pyld
            {
                "id": f"_:n{i}",
                "type": "VerifiableCredential",
                "credentialSubject": [{"id": f"_:n{j}"} for j in range(7) if j != i],
            }
            for i in range(7)
        ]
    },
    {"@context": [VC, {"x": "http://example.org/x"}]},  # an inline context
    {"evidence": [{"@list": [1, 2]}]},
]


def test_hostile_graphs_are_not_canonicalised(credential: dict) -> None:
    """Anyone may name the campus's issuer and key (both public): a document built to make
    canonicalisation explode is refused at once, before pyld sees it."""
    for extra in HOSTILE:
        hostile = {**credential, **extra}
        started = time.monotonic()
        result = verify.verify_text(json.dumps(hostile), URLS, now())
        assert time.monotonic() - started < 2
        assert failed(result).label == "The signature is valid"
        assert "not shaped like the campus's credentials" in failed(result).detail


def test_evidence_and_alignment_pass_the_shape_guard(app: Flask, make_user, app_ctx: None) -> None:
    user = db.session.get(User, make_user("walker@example.org"))
    evidence = [{"narrative": "Same words."}, {"narrative": "Same words."}, {"narrative": "Other"}]
    result = award(user, get_badge("basics"), context(app), now(), AwardSource.BULK, evidence)
    document = ob3_credential.credential_for(result.assertion, context(app))
    assert len(document["evidence"]) == 3
    assert document["credentialSubject"]["achievement"].get("alignment")
    assert verify.verify_text(json.dumps(document), URLS, now()).valid
