"""Revocation for OB 3.0: W3C Bitstring Status List v1.0, computed from `Assertion.revoked_at`.

Nothing is stored: a list is built from the same column the 2.0 revocation list reads, so a
revocation shows in both in the same transaction. List n of an issuer covers assertion ids
n * LIST_SIZE .. (n + 1) * LIST_SIZE - 1; the bit of assertion id i is i % LIST_SIZE.
The list credential is deterministic (its time is the latest revocation in it, else the
issuer's creation), so every host serves the same bytes.
"""

from __future__ import annotations

import base64
import binascii
import copy
import gzip
import re
import zlib
from collections import OrderedDict
from datetime import datetime
from typing import TYPE_CHECKING
from typing import Any

from campus.badges import ob2
from campus.badges.models import Assertion
from campus.badges.models import BadgeClass
from campus.badges.models import Issuer
from campus.badges.revocation import range_revocation_version
from campus.badges.revocation import revoked_in_range
from campus.clock import aware
from campus.extensions import db

if TYPE_CHECKING:
    from campus.badges.issuers import IssuingContext

VC_V2 = "https://www.w3.org/ns/credentials/v2"
LIST_SIZE = 131_072  # bits: the spec's minimum, so that one list hides who was revoked
PURPOSE = "revocation"
# A decoded list larger than this is refused (a pasted document could be a gzip bomb).
MAX_LIST_BYTES = 16 * LIST_SIZE // 8
_CACHE_SIZE = 256
_signed: OrderedDict[tuple[Any, ...], dict[str, Any]] = OrderedDict()


def list_url(base_url: str, issuer_slug: str, n: int) -> str:
    return f"{base_url}/ob/v3/issuers/{issuer_slug}/status/{n}"


def position(assertion_id: int) -> tuple[int, int]:
    """(list number, index in that list) of an assertion id."""
    return divmod(assertion_id, LIST_SIZE)


def parse_list_url(url: str, base_url: str) -> tuple[str, int] | None:
    """(issuer slug, list number) of one of this campus's list addresses, else None."""
    found = re.fullmatch(re.escape(base_url) + r"/ob/v3/issuers/([a-z0-9-]+)/status/(\d{1,9})", url)
    return (found[1], int(found[2])) if found else None


def status_entry(assertion: Assertion, base_url: str) -> dict[str, Any]:
    """The credential's `credentialStatus` (a BitstringStatusListEntry)."""
    n, index = position(assertion.id)
    url = list_url(base_url, assertion.badge_class.issuer.slug, n)
    return {
        "id": f"{url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": PURPOSE,
        "statusListIndex": str(index),
        "statusListCredential": url,
    }


# --- the bitstring -------------------------------------------------------------------------


def encode_list(indices: list[int], size: int = LIST_SIZE) -> str:
    """Multibase base64url (no padding, prefix "u") of the GZIP of the bitstring; index 0 is the
    left-most (most significant) bit of the first byte. mtime=0 keeps the bytes deterministic."""
    bits = bytearray(size // 8)
    for index in indices:
        bits[index // 8] |= 0x80 >> (index % 8)
    packed = gzip.compress(bytes(bits), compresslevel=9, mtime=0)
    return "u" + base64.urlsafe_b64encode(packed).decode("ascii").rstrip("=")


def decode_list(encoded: str) -> bytes:
    """The bitstring of an `encodedList`; ValueError when it is not one (or is oversized)."""
    if not isinstance(encoded, str) or not encoded.startswith("u"):
        raise ValueError("encodedList must be a multibase base64url string (prefix u)")
    body = encoded[1:]
    try:
        packed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # gzip framing
        bits = inflater.decompress(packed, MAX_LIST_BYTES + 1)
    except (binascii.Error, zlib.error) as error:
        raise ValueError("encodedList is not base64url GZIP data") from error
    if len(bits) > MAX_LIST_BYTES:
        raise ValueError("encodedList is too large")
    return bits


def is_revoked_in_list(document: dict[str, Any], index: int) -> bool:
    """Is bit `index` set in a BitstringStatusListCredential (or its credentialSubject)?

    ValueError when the document is no status list or the index lies outside it."""
    subject = document.get("credentialSubject", document) if isinstance(document, dict) else None
    if not isinstance(subject, dict):
        raise ValueError("no BitstringStatusList")
    bits = decode_list(subject.get("encodedList"))  # type: ignore[arg-type]
    if not 0 <= index < len(bits) * 8:
        raise ValueError("statusListIndex lies outside the list")
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


# --- lists from the database --------------------------------------------------------------


def list_exists(issuer: Issuer, n: int) -> bool:
    """List n exists while the issuer has an assertion with an id in it or past it."""
    highest = db.session.execute(
        db.select(db.func.max(Assertion.id))
        .join(BadgeClass, BadgeClass.id == Assertion.badge_class_id)
        .where(BadgeClass.issuer_id == issuer.id)
    ).scalar_one()
    return highest is not None and n <= highest // LIST_SIZE


def list_version(issuer: Issuer, n: int) -> tuple[int, datetime | None]:
    """(revocations in list n, latest of them): one aggregate, names the list's content."""
    return range_revocation_version(issuer.id, n * LIST_SIZE, (n + 1) * LIST_SIZE)


def list_moment(issuer: Issuer, latest: datetime | None) -> datetime:
    """validFrom and proof time: the latest revocation in the list, else the issuer's creation."""
    return aware(latest or issuer.created_at)


def status_list_document(issuer: Issuer, n: int, issuer_id: str, base_url: str) -> dict[str, Any]:
    """The unsigned list credential of issuer's list n (`issuer_id`: the issuer's DID)."""
    revoked, latest = revoked_in_range(issuer.id, n * LIST_SIZE, (n + 1) * LIST_SIZE)
    url = list_url(base_url, issuer.slug, n)
    return {
        "@context": [VC_V2],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_id,
        "validFrom": ob2.iso(list_moment(issuer, latest)),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": PURPOSE,
            "encodedList": encode_list([i - n * LIST_SIZE for i in revoked]),
        },
    }


def revoked_in_list(issuer: Issuer, n: int, index: int) -> bool:
    """What the list credential says of one index, read from the database (for our verifier:
    it needs no key and signs nothing)."""
    revoked, _latest = revoked_in_range(issuer.id, n * LIST_SIZE, (n + 1) * LIST_SIZE)
    encoded = encode_list([i - n * LIST_SIZE for i in revoked])
    return is_revoked_in_list({"credentialSubject": {"encodedList": encoded}}, index)


def status_list_credential(
    issuer: Issuer, n: int, context: IssuingContext, now: datetime | None = None
) -> dict[str, Any]:
    """Issuer's list n, signed eddsa-rdfc-2022 with its active Ed25519 key (created on demand:
    the caller commits). Cached per process on what names its content."""
    from campus.badges.ob3 import dataintegrity
    from campus.badges.ob3 import did
    from campus.badges.ob3 import keys
    from campus.clock import utcnow

    base = context.urls.base
    key = keys.ed25519_key_for_signing(
        issuer, context.keys_dir, context.passphrase, now or utcnow()
    )
    count, latest = list_version(issuer, n)
    version = (issuer.id, issuer.slug, n, base, count, latest, key.kid)
    cached = _signed.get(version)
    if cached is not None:
        _signed.move_to_end(version)
        return copy.deepcopy(cached)
    document = status_list_document(issuer, n, did.issuer_did(issuer, base), base)
    signed = dataintegrity.sign(
        document,
        key,
        did.verification_method(issuer, key, base),
        list_moment(issuer, latest),
        context.keys_dir,
        context.passphrase,
    )
    _signed[version] = signed
    while len(_signed) > _CACHE_SIZE:
        _signed.popitem(last=False)
    return copy.deepcopy(signed)
