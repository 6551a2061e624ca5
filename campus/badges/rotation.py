"""Key rotation that every verifier survives.

The 1EdTech validator (openbadges 1.1.2) accepts one `publicKey` in an issuer profile only
(openbadges-validator-core issue #260), and it accepts a signed badge only when its key is
that one. So the profile names the current key alone, and a rotation re-signs and re-bakes
every stored assertion of the issuer with the new key (same id, recipient, dates, evidence):
what the campus serves stays valid everywhere. Retired keys stay published with `owner` set
to the issuer, and the campus verifier still accepts copies saved before the rotation when
they state exactly what was issued (see verify._issued_assertion).

The issuer's Ed25519 key (OB 3.0) rotates with it. Nothing is re-signed for that: a credential
is signed on demand with the Ed25519 key of its issue time, and the DID document keeps listing
the retired key, so credentials saved before the rotation verify everywhere.
"""

from __future__ import annotations

from datetime import datetime

from campus.badges import signing
from campus.badges.awarding import sign_and_bake
from campus.badges.issuers import IssuingContext
from campus.badges.models import Assertion
from campus.badges.models import BadgeClass
from campus.badges.models import Issuer
from campus.badges.models import SigningKey
from campus.badges.ob3 import keys as ob3_keys
from campus.extensions import db

BATCH = 200


def rotate_and_resign(
    issuer: Issuer, context: IssuingContext, now: datetime
) -> tuple[SigningKey, int]:
    """Start signing with new keys (RSA and Ed25519) and re-sign the stored 2.0 editions;
    returns (the new RSA key, re-signed)."""
    key = signing.rotate_key(issuer, context.keys_dir, context.passphrase, now)
    ob3_keys.rotate_ed25519_key(issuer, context.keys_dir, context.passphrase, now)
    ids = list(
        db.session.execute(
            db.select(Assertion.id)
            .join(BadgeClass)
            .where(BadgeClass.issuer_id == issuer.id)
            .order_by(Assertion.id)
        ).scalars()
    )
    for start in range(0, len(ids), BATCH):
        batch = db.session.execute(
            db.select(Assertion).where(Assertion.id.in_(ids[start : start + BATCH]))
        ).scalars()
        for assertion in batch:
            sign_and_bake(assertion, key, context)
        db.session.flush()
    return key, len(ids)
