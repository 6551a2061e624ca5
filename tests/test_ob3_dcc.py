"""An independent verifier from another ecosystem: the Digital Credentials Consortium's
JavaScript libraries (@digitalcredentials/vc, eddsa-rdfc-2022 cryptosuite, Bitstring Status
List; pinned in tests/ob3/package-lock.json) check the campus's OB 3.0 credentials offline.

They resolve the issuer's did:web and the status list only from what the campus serves (handed
over by tests/ob3_support.py), so a credential verifies only if the campus's DID documents, keys,
proofs and status lists are right by someone else's reading of the standards.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.ob3_support import DccVerifier
from tests.ob3_support import award_basics
from tests.ob3_support import did_web_url
from tests.ob3_support import fetch_json
from tests.ob3_support import proofs_of


@pytest.fixture(scope="module")
def dcc() -> Iterator[DccVerifier]:
    """One Node process for the module (skipped without Node.js locally, failed in CI)."""
    verifier = DccVerifier()
    yield verifier
    verifier.close()


def credential_of(client: FlaskClient, uuid: str) -> dict[str, Any]:
    """The JSON download a learner would import into a wallet."""
    answer = client.get(f"/badges/a/{uuid}/ob3.json")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json(force=True)


def method_of(credential: dict[str, Any]) -> str:
    (proof,) = proofs_of(credential)
    return proof["verificationMethod"]


def assert_verified(result: dict[str, Any]) -> None:
    assert result["verified"] is True, result["errors"]
    assert result["signature"] is True and result["status"] is True
    assert {entry["id"] for entry in result["log"] if entry["valid"]} >= {
        "valid_signature",
        "issuer_did_resolves",
        "revocation_status",
        "expiration",
    }


def assert_bad_signature(result: dict[str, Any]) -> None:
    assert result["verified"] is False and result["signature"] is False, result
    assert "Error: Invalid signature." in result["errors"], result["errors"]


def org_award(app: Flask, make_user, make_org) -> str:
    """An award of the test badge "reviewed" issued by an organisation in its own name."""
    from campus.auth.models import User
    from campus.badges.awarding import award
    from campus.badges.issuers import IssuingContext
    from campus.badges.issuers import get_badge
    from campus.badges.issuers import organisation_issuer
    from campus.badges.models import AwardSource
    from campus.extensions import db
    from tests.conftest import now

    make_org("Other College", "other")
    user_id = make_user("other.learner@example.org")
    with app.app_context():
        context = IssuingContext.from_config(app.config)
        badge = get_badge("reviewed")
        badge.issuer = organisation_issuer("other", context)
        result = award(db.session.get(User, user_id), badge, context, now(), AwardSource.REVIEW)
        assert result.assertion is not None
        db.session.commit()
        return result.assertion.uuid


def test_a_fresh_award_verifies_as_json_and_baked(
    app: Flask, client: FlaskClient, make_user, make_org, dcc: DccVerifier
) -> None:
    from campus.badges.ob3.baking import unbake_credential

    uuid = award_basics(app, make_user)
    credential = credential_of(client, uuid)
    assert credential["issuer"]["id"] == "did:web:campus.test"
    assert method_of(credential).startswith("did:web:campus.test#")
    baked = unbake_credential(client.get(f"/badges/a/{uuid}/ob3.png").data)
    hosted = fetch_json(client, credential["id"])  # the credential's own address serves it
    org_credential = credential_of(client, org_award(app, make_user, make_org))
    assert org_credential["issuer"]["id"] == "did:web:campus.test:ob:v3:issuers:org-other"
    assert did_web_url(org_credential["issuer"]["id"]) == (
        "https://campus.test/ob/v3/issuers/org-other/did.json"
    )

    results = dcc.verify(client, [credential, baked, hosted, org_credential])

    for result in results:
        assert_verified(result)


def test_credentials_issued_before_and_after_a_key_rotation_both_verify(
    app: Flask, client: FlaskClient, make_user, dcc: DccVerifier
) -> None:
    from campus.clock import utcnow
    from campus.extensions import db

    before_uuid = award_basics(app, make_user)
    saved = credential_of(client, before_uuid)  # the copy in a learner's wallet

    rotated = app.test_cli_runner().invoke(args=["badges", "rotate-key"])
    assert rotated.exit_code == 0, rotated.output

    # A badge earned after the rotation (issued now, so that it is already valid)
    from campus.auth.models import User
    from campus.badges.awarding import award
    from campus.badges.issuers import IssuingContext
    from campus.badges.issuers import get_badge
    from campus.badges.models import AwardSource

    user_id = make_user("later@example.org")
    with app.app_context():
        result = award(
            db.session.get(User, user_id),
            get_badge("basics"),
            IssuingContext.from_config(app.config),
            utcnow(),
            AwardSource.PATH,
        )
        assert result.assertion is not None
        db.session.commit()
        after_uuid = result.assertion.uuid
    after = credential_of(client, after_uuid)

    assert method_of(after) != method_of(saved)  # the new key signs new credentials
    assert credential_of(client, before_uuid) == saved  # and old ones stay as they were
    did_document = fetch_json(client, did_web_url(saved["issuer"]["id"]))
    multikeys = [m["id"] for m in did_document["verificationMethod"] if m["type"] == "Multikey"]
    assert {method_of(saved), method_of(after)} <= set(multikeys)
    assert {method_of(saved), method_of(after)} <= set(did_document["assertionMethod"])

    for result in dcc.verify(client, [saved, after]):
        assert_verified(result)


def test_any_tampering_breaks_the_proof(
    app: Flask, client: FlaskClient, make_user, dcc: DccVerifier
) -> None:
    credential = credential_of(client, award_basics(app, make_user))
    renamed = copy.deepcopy(credential)
    renamed["credentialSubject"]["achievement"]["name"] = "Expert badge"
    other_recipient = copy.deepcopy(credential)
    other_recipient["credentialSubject"]["identifier"][0]["identityHash"] = "sha256$" + "0" * 64
    extended = copy.deepcopy(credential)
    extended["validUntil"] = "2099-01-01T00:00:00Z"
    backdated = copy.deepcopy(credential)
    backdated["validFrom"] = "2020-01-01T00:00:00Z"
    unrevocable = copy.deepcopy(credential)
    del unrevocable["credentialStatus"]

    results = dcc.verify(
        client, [credential, renamed, other_recipient, extended, backdated, unrevocable]
    )

    assert_verified(results[0])
    for result in results[1:]:
        assert_bad_signature(result)


def test_a_signature_by_another_key_is_refused(
    app: Flask, client: FlaskClient, make_user, make_org, dcc: DccVerifier
) -> None:
    from campus.badges.issuers import IssuingContext
    from campus.badges.models import Issuer
    from campus.badges.ob3 import dataintegrity
    from campus.badges.ob3.did import verification_method
    from campus.badges.ob3.keys import ed25519_key_for_signing
    from campus.badges.revocation import find_assertion
    from campus.extensions import db
    from tests.conftest import now

    credential = credential_of(client, award_basics(app, make_user))
    other = credential_of(client, org_award(app, make_user, make_org))
    unsigned = {key: value for key, value in credential.items() if key != "proof"}
    with app.app_context():
        context = IssuingContext.from_config(app.config)
        foreign = db.session.execute(
            db.select(Issuer).where(Issuer.slug == "org-other")
        ).scalar_one()
        foreign_key = ed25519_key_for_signing(foreign, context.keys_dir, context.passphrase, now())
        foreign_method = verification_method(foreign, foreign_key, context.urls.base)
        db.session.commit()

        def signed(method: str) -> dict[str, Any]:
            return dataintegrity.sign(
                unsigned, foreign_key, method, now(), context.keys_dir, context.passphrase
            )

        # the other issuer's key, named honestly: a valid signature by the wrong controller
        by_other_issuer = signed(foreign_method)
        # the other issuer's key, claiming to be the campus's
        impostor = signed(method_of(credential))
        # the campus's own key through the same procedure: proves the refusals are the key's
        assertion = find_assertion(credential["id"].rsplit("/", 1)[1])
        from campus.badges.ob3.credential import signing_key

        own_key = signing_key(assertion, context)
        resigned = dataintegrity.sign(
            unsigned,
            own_key,
            method_of(credential),
            assertion.issued_at,
            context.keys_dir,
            context.passphrase,
        )
    swapped = copy.deepcopy(credential)
    swapped["proof"] = copy.deepcopy(other["proof"])  # another issuer's proof pasted in
    assert resigned == credential  # deterministic: the same bytes

    results = dcc.verify(client, [resigned, by_other_issuer, impostor, swapped])

    assert_verified(results[0])
    assert results[1]["verified"] is False
    assert (
        "Error: Credential issuer must match the verification method controller."
        in results[1]["errors"]
    ), results[1]["errors"]
    assert_bad_signature(results[2])
    assert_bad_signature(results[3])


def test_a_revoked_credential_fails_its_status_check(
    app: Flask, client: FlaskClient, make_user, dcc: DccVerifier
) -> None:
    from campus.badges.revocation import find_assertion
    from campus.badges.revocation import revoke
    from campus.extensions import db
    from tests.conftest import now

    revoked_uuid = award_basics(app, make_user)
    kept_uuid = award_basics(app, make_user, "kept@example.org")
    revoked, kept = credential_of(client, revoked_uuid), credential_of(client, kept_uuid)
    assert (
        revoked["credentialStatus"]["statusListCredential"]
        == kept["credentialStatus"]["statusListCredential"]
    )
    assert dcc.verify(client, [revoked])[0]["verified"] is True  # before the revocation

    with app.app_context():
        assert revoke(find_assertion(revoked_uuid), "Issued by mistake", now())
        db.session.commit()

    results = dcc.verify(client, [revoked, kept])

    assert results[0]["verified"] is False
    assert results[0]["signature"] is True and results[0]["status"] is False
    assert any(e.startswith("StatusError") for e in results[0]["errors"]), results[0]["errors"]
    assert_verified(results[1])  # its neighbour in the same list is still good
