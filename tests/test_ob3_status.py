"""OB 3.0 revocation: Bitstring Status List v1.0, computed from the 2.0 revocation column."""

from __future__ import annotations

import base64
import gzip
import json
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from campus.auth.models import User
from campus.badges import ob2
from campus.badges.awarding import award
from campus.badges.issuers import IssuingContext
from campus.badges.issuers import get_badge
from campus.badges.models import Assertion
from campus.badges.models import AwardSource
from campus.badges.ob3 import status
from campus.badges.revocation import revocation_list
from campus.badges.revocation import revoke
from campus.extensions import db
from tests.conftest import BASE_URL
from tests.conftest import now

# Encoded by this module and decoded by @digitalcredentials/vc-bitstring-status-list's
# decodeList, which reported bits 0, 9 and 131071 set: the bit order other verifiers use.
DCC_VECTOR = "uH4sIAAAAAAACA-3BMQEAAAgDINfMaEY3xh7gdgAAAAAAAAAAAAAAAAAAAICuPKgSuh0AQAAA"


def context(app: Flask) -> IssuingContext:
    return IssuingContext.from_config(app.config)


@pytest.fixture
def learner(app: Flask, make_user, app_ctx: None) -> User:
    return db.session.get(User, make_user())


def awarded(app: Flask, user: User, slug: str = "reviewed") -> Assertion:
    result = award(user, get_badge(slug), context(app), now(), AwardSource.REVIEW)
    assert result.assertion is not None
    return result.assertion


def set_bits(encoded: str) -> list[int]:
    bits = status.decode_list(encoded)
    return [i for i in range(len(bits) * 8) if bits[i // 8] & (0x80 >> (i % 8))]


# --- the bitstring -------------------------------------------------------------------------


def test_bitstring_encoding_follows_the_spec() -> None:
    assert set_bits(DCC_VECTOR) == [0, 9, 131071]
    encoded = status.encode_list([0, 9, 131071])
    assert encoded.startswith("u") and "=" not in encoded
    assert set_bits(encoded) == [0, 9, 131071]
    raw = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    assert len(raw) * 8 == 131_072 == status.LIST_SIZE  # the spec's minimum size
    assert raw[0] == 0x80 and raw[1] == 0x40 and raw[-1] == 0x01  # index 0: left-most bit
    assert status.encode_list([5]) == status.encode_list([5])  # deterministic (mtime 0)
    assert set_bits(status.encode_list([])) == []


@pytest.mark.parametrize(
    "encoded",
    [
        None,
        "",
        "zNotBase64url",  # base58 multibase is not what the spec asks
        "u!!!!",
        "u" + base64.urlsafe_b64encode(b"not gzip").decode(),
        # a gzip bomb: far more than a list, refused before it is inflated
        "u" + base64.urlsafe_b64encode(gzip.compress(bytes(64 * 1024 * 1024))).decode(),
    ],
)
def test_a_broken_list_is_refused(encoded: object) -> None:
    with pytest.raises(ValueError):
        status.is_revoked_in_list({"credentialSubject": {"encodedList": encoded}}, 0)


def test_index_outside_the_list_is_refused() -> None:
    document = {"credentialSubject": {"encodedList": status.encode_list([3])}}
    assert status.is_revoked_in_list(document, 3)
    assert not status.is_revoked_in_list(document, 4)
    for index in (-1, status.LIST_SIZE):
        with pytest.raises(ValueError):
            status.is_revoked_in_list(document, index)
    with pytest.raises(ValueError):
        status.is_revoked_in_list(["not", "a", "list"], 0)  # type: ignore[arg-type]


def test_list_urls_parse_only_our_own() -> None:
    url = status.list_url(BASE_URL, "org-x", 3)
    assert url == f"{BASE_URL}/ob/v3/issuers/org-x/status/3"
    assert status.parse_list_url(url, BASE_URL) == ("org-x", 3)
    assert status.parse_list_url("https://evil.example/ob/v3/issuers/x/status/0", BASE_URL) is None
    assert status.parse_list_url(url + "/../1", BASE_URL) is None
    assert status.position(131_072 * 2 + 7) == (2, 7)


# --- lists from the database ----------------------------------------------------------------


def test_entry_names_the_list_and_index(app: Flask, learner: User) -> None:
    assertion = awarded(app, learner)
    url = f"{BASE_URL}/ob/v3/issuers/campus/status/0"
    assert status.status_entry(assertion, BASE_URL) == {
        "id": f"{url}#{assertion.id}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": str(assertion.id),
        "statusListCredential": url,
    }


def test_revocation_sets_the_bit_in_the_same_transaction(
    app: Flask, client: FlaskClient, learner: User
) -> None:
    kept = awarded(app, learner, "basics")
    revoked = awarded(app, learner, "reviewed")
    issuer = revoked.badge_class.issuer
    db.session.commit()
    assert not status.revoked_in_list(issuer, 0, revoked.id)
    assert revoke(revoked, "Issued in error", now() + timedelta(hours=1))
    # Not yet committed: the list already shows it, exactly as the 2.0 list does.
    assert status.revoked_in_list(issuer, 0, revoked.id)
    assert not status.revoked_in_list(issuer, 0, kept.id)
    assert revocation_list(issuer.id)[0] == [(revoked.uuid, "Issued in error")]
    document = status.status_list_document(issuer, 0, "did:web:campus.test", BASE_URL)
    assert set_bits(document["credentialSubject"]["encodedList"]) == [revoked.id]
    assert document["validFrom"] == "2026-11-23T13:00:00Z"  # the latest revocation
    # Rolled back: the bit is clear again, and the list's time is the issuer's creation again.
    db.session.rollback()
    assert not status.revoked_in_list(issuer, 0, revoked.id)
    assert revocation_list(issuer.id)[0] == []
    assert status.list_version(issuer, 0) == (0, None)
    served = json.loads(client.get("/ob/v3/issuers/campus/status/0").get_data())
    assert set_bits(served["credentialSubject"]["encodedList"]) == []


def test_lists_split_assertion_ids_by_range(app: Flask, learner: User) -> None:
    first = awarded(app, learner)
    far = Assertion(
        id=status.LIST_SIZE + 5,
        uuid="00000000-0000-4000-8000-000000000005",
        badge_class_id=first.badge_class_id,
        user_id=learner.id,
        recipient_salt=first.recipient_salt,
        recipient_hash=first.recipient_hash,
        issued_at=now(),
        evidence=[],
        source=AwardSource.BULK,
        signing_key_id=first.signing_key_id,
        jws=first.jws,
        baked_png=b"",
        baked_svg=b"",
        revoked_at=now(),
        revocation_reason="test",
    )
    db.session.add(far)
    db.session.flush()
    issuer = first.badge_class.issuer
    assert status.list_exists(issuer, 0) and status.list_exists(issuer, 1)
    assert not status.list_exists(issuer, 2)
    assert status.revoked_in_list(issuer, 1, 5) and not status.revoked_in_list(issuer, 0, 5)
    assert status.list_version(issuer, 0) == (0, None)
    assert status.list_version(issuer, 1)[0] == 1
    assert status.status_entry(far, BASE_URL)["statusListCredential"].endswith("/status/1")


# --- the route ------------------------------------------------------------------------------


def test_unknown_lists_are_json_404s(app: Flask, client: FlaskClient) -> None:
    for path in ("/ob/v3/issuers/nobody/status/0", "/ob/v3/issuers/campus/status/0"):
        response = client.get(path)  # no award yet: the campus has no list 0 either
        assert response.status_code == 404
        assert response.is_json and response.json["error"] == 404
        assert response.headers["Access-Control-Allow-Origin"] == "*"


def _verified(document: dict) -> bool:
    from campus.badges.ob3 import dataintegrity
    from campus.badges.ob3 import did
    from campus.badges.ob3 import keys

    def public_key_for(method: str):
        key = did.key_for_verification_method(method, BASE_URL)
        return keys.public_key(key) if key is not None else None

    return dataintegrity.verify(document, public_key_for)


def test_the_list_credential_is_signed_and_follows_revocations(
    app: Flask, client: FlaskClient, learner: User
) -> None:
    from campus.badges.ob3 import dataintegrity

    assertion = awarded(app, learner)
    db.session.commit()
    url = f"{BASE_URL}/ob/v3/issuers/campus/status/0"
    response = client.get("/ob/v3/issuers/campus/status/0")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    document = json.loads(response.get_data())
    assert document["id"] == url and document["issuer"] == "did:web:campus.test"
    assert document["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    subject = document["credentialSubject"]
    assert (subject["id"], subject["type"], subject["statusPurpose"]) == (
        f"{url}#list",
        "BitstringStatusList",
        "revocation",
    )
    assert set_bits(subject["encodedList"]) == []
    issuer = assertion.badge_class.issuer
    created = ob2.iso(issuer.created_at)
    assert document["validFrom"] == created == document["proof"][0]["created"]
    assert _verified(document) and dataintegrity.dropped_terms(document) == []
    # Revalidation is an empty 304 while nothing changes.
    again = client.get(url, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""
    # A revocation shows at once: new bit, new time, new signature, new ETag.
    revoke(assertion, "Issued in error", now() + timedelta(hours=1))
    db.session.commit()
    after = client.get(url, headers={"If-None-Match": response.headers["ETag"]})
    assert after.status_code == 200
    revoked = json.loads(after.get_data())
    assert status.is_revoked_in_list(revoked, assertion.id)
    assert set_bits(revoked["credentialSubject"]["encodedList"]) == [assertion.id]
    assert revoked["validFrom"] == "2026-11-23T13:00:00Z" == revoked["proof"][0]["created"]
    assert _verified(revoked)
    tampered = json.loads(after.get_data())
    tampered["credentialSubject"]["encodedList"] = subject["encodedList"]
    assert not _verified(tampered)  # nobody can clear a bit
    # The 2.0 list says the same.
    revocations = client.get("/ob/issuers/campus/revocations").json["revokedAssertions"]
    assert revocations[0]["id"] == f"urn:uuid:{assertion.uuid}"


def test_the_list_is_deterministic(app: Flask, client: FlaskClient, learner: User) -> None:
    """Same content and key, same bytes: another host (or this one, uncached) agrees."""
    assertion = awarded(app, learner)
    revoke(assertion, "Issued in error", now())
    db.session.commit()
    first = client.get("/ob/v3/issuers/campus/status/0").get_data()
    status._signed.clear()
    assert client.get("/ob/v3/issuers/campus/status/0").get_data() == first


def test_a_key_rotation_re_signs_the_list(app: Flask, client: FlaskClient, learner: User) -> None:
    from pathlib import Path

    from campus.badges.ob3 import keys

    assertion = awarded(app, learner)
    db.session.commit()
    url = "/ob/v3/issuers/campus/status/0"
    before = json.loads(client.get(url).get_data())
    issuer = assertion.badge_class.issuer
    new = keys.rotate_ed25519_key(issuer, Path(app.config["KEYS_DIR"]), None, now())
    db.session.commit()
    after = json.loads(client.get(url).get_data())
    assert after["proof"][0]["verificationMethod"] == f"did:web:campus.test#{new.kid}"
    assert before["proof"][0]["verificationMethod"] != after["proof"][0]["verificationMethod"]
    assert _verified(after) and _verified(before)  # the retired key still verifies
