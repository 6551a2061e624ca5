"""OB 3.0 OpenBadgeCredentials: built from the award, signed eddsa-rdfc-2022 and as VC-JWT,
valid against 1EdTech's JSON Schema, verifiable against the DID document after key rotations;
offline JSON-LD (nothing fetched, nothing silently dropped); the public routes."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft201909Validator
from pyld import jsonld

from campus.auth.models import User
from campus.badges.awarding import award
from campus.badges.issuers import IssuingContext
from campus.badges.issuers import campus_issuer
from campus.badges.issuers import get_badge
from campus.badges.models import Assertion
from campus.badges.models import AwardSource
from campus.badges.ob3 import credential as ob3
from campus.badges.ob3 import dataintegrity
from campus.badges.ob3 import did
from campus.badges.ob3 import keys
from campus.badges.ob3 import multibase
from campus.badges.ob3 import vcjwt
from campus.badges.revocation import revoke
from campus.badges.rotation import rotate_and_resign
from campus.extensions import db
from tests.conftest import BASE_URL
from tests.conftest import now

SCHEMA = json.loads(
    (Path(__file__).parent / "ob3_schema" / "ob_v3p0_achievementcredential_schema.json").read_text()
)
DID = "did:web:campus.test"


def context(app: Flask) -> IssuingContext:
    return IssuingContext.from_config(app.config)


@pytest.fixture
def learner(app: Flask, make_user, app_ctx: None) -> User:
    return db.session.get(User, make_user())


def give(app: Flask, learner: User, slug: str, when=None, evidence=None) -> Assertion:  # noqa: ANN001
    result = award(
        learner, get_badge(slug), context(app), when or now(), AwardSource.REVIEW, evidence
    )
    db.session.commit()
    assert result.assertion is not None
    return result.assertion


def keys_from(did_document: dict[str, Any]):  # noqa: ANN201
    """A key resolver over a served DID document (what an outside verifier has)."""
    methods = {m["id"]: m for m in did_document["verificationMethod"]}

    def public_key_for(method: str) -> Ed25519PublicKey | None:
        found = methods.get(method)
        if found is None or found["type"] != "Multikey":
            return None
        raw = multibase.ed25519_from_multikey(found["publicKeyMultibase"])
        return Ed25519PublicKey.from_public_bytes(raw)

    return public_key_for


def test_a_fresh_credential_says_what_was_awarded(app: Flask, learner: User) -> None:
    evidence = [{"narrative": "Näyttö hyväksytty.", "id": "https://example.org/work"}]
    assertion = give(app, learner, "reviewed", evidence=evidence + [{"id": "not a url"}])
    document = ob3.credential_for(assertion, context(app))
    assert document["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert document["id"] == f"{BASE_URL}/ob/v3/credentials/{assertion.uuid}"
    assert document["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert document["issuer"]["id"] == DID and document["issuer"]["type"] == ["Profile"]
    assert document["validFrom"] == "2026-11-23T12:00:00Z"
    assert document["validUntil"] == "2027-11-23T12:00:00Z"  # valid for 365 days
    [identifier] = document["credentialSubject"]["identifier"]
    assert identifier == {
        "type": "IdentityObject",
        "identityHash": assertion.recipient_hash,
        "identityType": "emailAddress",
        "hashed": True,
        "salt": assertion.recipient_salt,
    }
    achievement = document["credentialSubject"]["achievement"]
    assert achievement["id"] == f"{BASE_URL}/ob/v3/achievements/reviewed"
    assert achievement["name"] == "Arvioitu työ" and achievement["inLanguage"] == "fi"
    assert achievement["criteria"]["narrative"] == "Lähetä näyttö."
    assert achievement["image"]["type"] == "Image"
    assert achievement["related"][0]["id"] == f"{BASE_URL}/ob/v3/achievements/reviewed?lang=en"
    assert document["evidence"] == [
        {"type": ["Evidence"], "id": "https://example.org/work", "narrative": "Näyttö hyväksytty."}
    ]
    status = document["credentialStatus"]
    assert status["type"] == "BitstringStatusListEntry"
    assert status["statusListCredential"] == f"{BASE_URL}/ob/v3/issuers/campus/status/0"
    # An expiring badge can be earned again: a refresh service leads to the newest award.
    assert document["refreshService"]["id"].endswith(f"/{assertion.uuid}/refresh")
    [proof] = document["proof"]
    key = keys.ed25519_key_for(assertion)
    assert proof["verificationMethod"] == f"{DID}#{key.kid}"
    assert proof["created"] == document["validFrom"]
    assert proof["proofValue"].startswith("z")


def test_basics_with_its_digcompedu_alignment(app: Flask, learner: User) -> None:
    document = ob3.credential_for(give(app, learner, "basics"), context(app))
    achievement = document["credentialSubject"]["achievement"]
    assert achievement["alignment"] == [
        {
            "type": ["Alignment"],
            "targetName": "DigCompEdu 1.4",
            "targetUrl": "https://joint-research-centre.ec.europa.eu/digcompedu_en",
            "targetFramework": "DigCompEdu",
            "targetCode": "1.4",
        }
    ]
    assert "validUntil" not in document and "refreshService" in document  # a path badge


@pytest.mark.parametrize("slug", ["basics", "reviewed"])
def test_credentials_validate_against_the_ob3_json_schema(
    app: Flask, learner: User, slug: str
) -> None:
    document = ob3.credential_for(give(app, learner, slug), context(app))
    validator = Draft201909Validator(SCHEMA, format_checker=Draft201909Validator.FORMAT_CHECKER)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
    assert errors == []
    # and every property survives JSON-LD expansion (the proof covers all of it)
    assert dataintegrity.dropped_terms(document) == []
    achievement = ob3.achievement_document(get_badge(slug), context(app), "en")
    assert dataintegrity.dropped_terms(achievement) == []


def test_sign_then_verify_and_what_breaks_it(app: Flask, learner: User) -> None:
    assertion = give(app, learner, "reviewed")
    document = ob3.credential_for(assertion, context(app))
    served = keys_from(did.did_document(campus_issuer(context(app)), BASE_URL))
    assert dataintegrity.verify(document, served)
    # Deterministic: the same bytes again, also without the per-process cache.
    ob3._signed.clear()
    assert ob3.credential_for(assertion, context(app)) == document
    for change in (
        lambda d: d.update(name="Forged"),
        lambda d: d["credentialSubject"]["identifier"][0].update(salt="x"),
        lambda d: d.update(validUntil="2099-01-01T00:00:00Z"),
        lambda d: d["proof"][0].update(created="2026-11-24T12:00:00Z"),
        lambda d: d.pop("credentialStatus"),
    ):
        tampered = copy.deepcopy(document)
        change(tampered)
        assert not dataintegrity.verify(tampered, served)
    # Signed by another key under the same verification method: refused.
    issuer = campus_issuer(context(app))
    keys_dir = Path(app.config["KEYS_DIR"])
    stranger = keys.create_ed25519_key(issuer, keys_dir, None, now())
    method = document["proof"][0]["verificationMethod"]
    forged = dataintegrity.sign(document, stranger, method, now(), keys_dir, None)
    assert forged["proof"][0]["proofValue"] != document["proof"][0]["proofValue"]
    assert not dataintegrity.verify(forged, served)
    # A method the resolver does not know (or an RSA key), another suite: no proof.
    assert not dataintegrity.verify(document, lambda method: None)
    rsa = vcjwt.public_rsa_key(assertion.signing_key)
    assert not dataintegrity.verify(document, lambda method: rsa)
    other_suite = copy.deepcopy(document)
    other_suite["proof"][0]["cryptosuite"] = "ecdsa-rdfc-2019"
    assert not dataintegrity.verify(other_suite, served)
    assert not dataintegrity.verify({k: v for k, v in document.items() if k != "proof"}, served)


def test_rotation_new_awards_use_the_new_key_old_ones_still_verify(
    app: Flask, client: FlaskClient, learner: User
) -> None:
    old = give(app, learner, "basics")
    old_document = ob3.credential_for(old, context(app))
    rotated_at = now() + timedelta(days=1)
    rotate_and_resign(campus_issuer(context(app)), context(app), rotated_at)
    db.session.commit()
    fresh = give(app, learner, "reviewed", when=now() + timedelta(days=2))
    fresh_document = ob3.credential_for(fresh, context(app))
    old_method = old_document["proof"][0]["verificationMethod"]
    fresh_method = fresh_document["proof"][0]["verificationMethod"]
    assert old_method != fresh_method
    assert fresh_method == f"{DID}#{keys.active_ed25519_key(campus_issuer(context(app))).kid}"
    # The old credential is served as before (its key is that of its issue time).
    ob3._signed.clear()
    assert ob3.credential_for(old, context(app)) == old_document
    served = client.get("/.well-known/did.json").json
    assert {old_method, fresh_method} <= set(served["assertionMethod"])
    for document in (old_document, fresh_document):
        assert dataintegrity.verify(document, keys_from(served))
    # The VC-JWT of the old award is re-signed with the new RSA key (as its 2.0 edition).
    token = client.get(f"/ob/v3/credentials/{old.uuid}.jwt").get_data(as_text=True)
    db.session.refresh(old)
    assert jwt.get_unverified_header(token)["kid"] == f"{DID}#{old.signing_key.kid}"


def jwk_for(did_document: dict[str, Any], kid: str) -> jwt.PyJWK:
    [method] = [m for m in did_document["verificationMethod"] if m["id"] == kid]
    assert method["type"] == "JsonWebKey"
    return jwt.PyJWK(method["publicKeyJwk"], algorithm="RS256")


def test_vc_jwt_verifies_with_the_jwk_of_the_did_document(
    app: Flask, client: FlaskClient, learner: User
) -> None:
    assertion = give(app, learner, "reviewed")
    token = ob3.vc_jwt_for(assertion, context(app))
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "RS256", "kid": f"{DID}#{assertion.signing_key.kid}", "typ": "JWT"}
    document = client.get("/.well-known/did.json").json
    key = jwk_for(document, header["kid"])
    claims = jwt.decode(
        token, key.key, algorithms=["RS256"], options={"verify_exp": False, "verify_nbf": False}
    )
    unsigned = ob3.unsigned_credential(assertion, context(app))
    assert claims["iss"] == DID and claims["jti"] == unsigned["id"]
    assert claims["nbf"] == claims["iat"] == int(now().timestamp())
    assert claims["exp"] == int((now() + timedelta(days=365)).timestamp())
    assert "proof" not in claims and "sub" not in claims  # the subject has no id, only a hash
    assert claims["credentialSubject"] == unsigned["credentialSubject"]

    def lookup(kid: str):  # noqa: ANN202
        return jwk_for(document, kid).key if kid.startswith(DID + "#") else None

    assert vcjwt.verify_vc_jwt(token, lookup) == unsigned
    head, body, signature = token.split(".")
    payload = json.loads(jwt.utils.base64url_decode(body))
    payload["name"] = "Forged"
    forged_body = jwt.utils.base64url_encode(json.dumps(payload).encode()).decode()
    assert vcjwt.verify_vc_jwt(f"{head}.{forged_body}.{signature}", lookup) is None
    assert vcjwt.verify_vc_jwt(token, lambda kid: None) is None
    ed25519 = keys.public_key(keys.ed25519_key_for(assertion))
    assert vcjwt.verify_vc_jwt(token, lambda kid: ed25519) is None  # not an RSA key: no
    assert vcjwt.verify_vc_jwt("not a token", lookup) is None
    # Claims that disagree with the credential inside: refused even when signed.
    private = keys.keystore.load(Path(app.config["KEYS_DIR"]), assertion.signing_key.kid, None)
    for lie in ({"nbf": 0}, {"iss": "did:web:elsewhere.test"}, {"jti": "urn:uuid:x"}, {"exp": 1}):
        resigned = jwt.api_jws.PyJWS().encode(
            json.dumps(vcjwt.payload_for(unsigned) | lie).encode(),
            private,
            algorithm="RS256",
            headers={"kid": header["kid"], "typ": "JWT"},
        )
        assert vcjwt.verify_vc_jwt(resigned, lookup) is None, lie


def test_the_loader_never_fetches(app: Flask, learner: User) -> None:
    with pytest.raises(jsonld.JsonLdError):
        dataintegrity.load_document("https://example.org/contexts/evil.jsonld")
    document = ob3.credential_for(give(app, learner, "basics"), context(app))
    served = keys_from(did.did_document(campus_issuer(context(app)), BASE_URL))
    foreign = copy.deepcopy(document)
    foreign["@context"] = [*document["@context"], "https://example.org/contexts/evil.jsonld"]
    with pytest.raises(jsonld.JsonLdError):
        dataintegrity.canonical(foreign)
    assert not dataintegrity.verify(foreign, served)


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.update({"@context": 5}),
        lambda d: d.update({"@context": [*d["@context"], {"name": {"@id": 5}}]}),
        lambda d: d.update(credentialSubject={"@id": 5}),
        lambda d: d.update(name={"@value": [1, 2]}),
        lambda d: d.update(type=[{"a": 1}]),
        lambda d: d.update(proof="x"),
        lambda d: d["proof"][0].update(proofValue="z0OIl"),
    ],
)
def test_hostile_documents_are_no_proof_never_an_error(app: Flask, learner: User, change) -> None:  # noqa: ANN001
    document = ob3.credential_for(give(app, learner, "basics"), context(app))
    served = keys_from(did.did_document(campus_issuer(context(app)), BASE_URL))
    change(document)
    assert dataintegrity.verify(document, served) is False


def test_undefined_terms_and_relative_types_are_caught(app: Flask, learner: User) -> None:
    document = ob3.unsigned_credential(give(app, learner, "basics"), context(app))
    assert dataintegrity.dropped_terms(document) == []
    unknown = dict(document, favouriteColour="blue")
    [problem] = dataintegrity.dropped_terms(unknown)
    assert problem.startswith("1 of ") and problem.endswith("are not defined by the contexts")
    relative = dict(document, refreshService={"id": "https://x.test/", "type": "Unknown"})
    assert dataintegrity.dropped_terms(relative) == ["relative IRI 'Unknown' in @type"]


def test_public_routes(app: Flask, client: FlaskClient, learner: User) -> None:
    assertion = give(app, learner, "reviewed")
    address = f"/ob/v3/credentials/{assertion.uuid}"
    response = client.get(address)
    assert response.status_code == 200 and response.mimetype == "application/vc+ld+json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.json == ob3.credential_for(assertion, context(app))
    assert (
        client.get(address, headers={"If-None-Match": response.headers["ETag"]}).status_code == 304
    )
    as_ld = client.get(address, headers={"Accept": "application/ld+json"})
    assert as_ld.mimetype == "application/ld+json" and as_ld.json == response.json
    token = client.get(f"{address}.jwt")
    assert token.mimetype == "text/plain" and token.get_data(as_text=True).count(".") == 2
    # Revoked: still served, the status list says so.
    revoke(assertion, "Mistake", now())
    db.session.commit()
    assert client.get(address).status_code == 200
    for unknown in (
        "/ob/v3/credentials/00000000-0000-4000-8000-000000000000",
        "/ob/v3/credentials/00000000-0000-4000-8000-000000000000.jwt",
        "/ob/v3/achievements/nothing",
        "/ob/v3/nothing",
    ):
        missing = client.get(unknown)
        assert missing.status_code == 404 and missing.json["error"] == 404, unknown
    # Refresh: the newest award of the same badge, else the credential itself.
    assert client.get(f"{address}/refresh").headers["Location"].endswith(address)
    renewed = give(app, learner, "reviewed", when=now() + timedelta(days=400))
    assert client.get(f"{address}/refresh").headers["Location"] == ob3.credential_url(
        renewed.uuid, BASE_URL
    )


def test_achievement_documents(client: FlaskClient) -> None:
    original = client.get("/ob/v3/achievements/basics")
    assert original.status_code == 200 and original.mimetype == "application/ld+json"
    document = original.json
    assert document["@context"][1].endswith("context-3.0.3.json")
    assert document["id"] == f"{BASE_URL}/ob/v3/achievements/basics"
    assert document["name"] == "Perusteet-merkki" and document["inLanguage"] == "fi"
    english = client.get("/ob/v3/achievements/basics?lang=en").json
    assert english["id"] == f"{BASE_URL}/ob/v3/achievements/basics?lang=en"
    assert english["name"] == "Basics badge" and english["inLanguage"] == "en"
    assert english["related"] == [
        {
            "id": document["id"],
            "type": ["Related"],
            "inLanguage": "fi",
            "version": english["version"],
        }
    ]
    for redirecting in ("fi", "sv", "xx"):
        response = client.get(f"/ob/v3/achievements/basics?lang={redirecting}")
        assert response.status_code == 302
        assert response.headers["Location"] == f"{BASE_URL}/ob/v3/achievements/basics"
