"""Revocation: a revoked badge fails every verifier, and the issuer's list says why."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select
from sqlalchemy import bindparam
from sqlalchemy.orm import defer
from sqlalchemy.orm import joinedload
from sqlalchemy.orm import load_only

from campus.badges.issuers import BadgeError
from campus.badges.models import Assertion
from campus.badges.models import BadgeClass
from campus.badges.models import Issuer
from campus.extensions import db
from campus.signals import badge_revoked


def find_assertion(assertion_uuid: str) -> Assertion | None:
    return db.session.execute(
        db.select(Assertion).where(Assertion.uuid == assertion_uuid)
    ).scalar_one_or_none()


def find_assertions(uuids: list[str]) -> tuple[list[Assertion], list[str]]:
    """The listed assertions (each once, in order) and the ids that name none; for confirming."""
    wanted = list(dict.fromkeys(u.strip() for u in uuids if u.strip()))
    found = {
        a.uuid: a
        for chunk in (wanted[i : i + 500] for i in range(0, len(wanted), 500))
        for a in db.session.execute(db.select(Assertion).where(Assertion.uuid.in_(chunk))).scalars()
    }
    return [found[u] for u in wanted if u in found], [u for u in wanted if u not in found]


def revoke(assertion: Assertion, reason: str, now: datetime) -> bool:
    """Revoke with a reason; False when it was revoked already (the first reason stands)."""
    reason = reason.strip()
    if not reason:
        raise BadgeError(_("Give a reason for the revocation."))
    if assertion.revoked_at is not None:
        return False
    assertion.revoked_at = now
    assertion.revocation_reason = reason[:500]
    assertion.active_key = None
    db.session.flush()
    badge_revoked.send(assertion)
    return True


def revoke_many(uuids: list[str], reason: str, now: datetime) -> tuple[int, list[str]]:
    """Revoke every listed assertion; returns (revoked count, unknown ids). Nothing on error."""
    unknown = []
    revoked = 0
    for assertion_uuid in dict.fromkeys(u.strip() for u in uuids if u.strip()):
        assertion = find_assertion(assertion_uuid)
        if assertion is None:
            unknown.append(assertion_uuid)
        elif revoke(assertion, reason, now):
            revoked += 1
    return revoked, unknown


def revoked_for_issuer(issuer: Issuer) -> list[tuple[str, str]]:
    """(uuid, reason) of the issuer's revoked assertions, oldest revocation first."""
    return revocation_list(issuer.id)[0]


def revocation_list(issuer_id: int) -> tuple[list[tuple[str, str]], datetime | None]:
    """The issuer's revocations as (uuid, reason), oldest first, and the latest revocation time.

    Every verifier of every signed badge fetches this: it reads three columns, never an
    assertion row with its baked images.
    """
    rows = db.session.execute(
        db.select(Assertion.uuid, Assertion.revocation_reason, Assertion.revoked_at)
        .join(BadgeClass, BadgeClass.id == Assertion.badge_class_id)
        .where(BadgeClass.issuer_id == issuer_id, Assertion.revoked_at.is_not(None))
        .order_by(Assertion.revoked_at, Assertion.id)
    ).all()
    latest = max((row.revoked_at for row in rows), default=None)
    return [(row.uuid, row.revocation_reason or "") for row in rows], latest


def revocation_version(issuer_id: int) -> tuple[int, datetime | None]:
    """How many revocations the issuer has and the latest one's time: revocations are only ever
    added (never undone, their reason never changes), so this names the list's content. With an
    index on `revoked_at` it reads no assertion row past its first columns."""
    count, latest = db.session.execute(
        db.select(db.func.count(Assertion.id), db.func.max(Assertion.revoked_at))
        .join(BadgeClass, BadgeClass.id == Assertion.badge_class_id)
        .where(BadgeClass.issuer_id == issuer_id, Assertion.revoked_at.is_not(None))
    ).one()
    return count, latest


def find_assertion_without_images(assertion_uuid: str) -> Assertion | None:
    """An assertion without its baked images (~50 KB each), for the JSON documents and
    verification; reading `baked_png`/`baked_svg` afterwards still works (one more query)."""
    return db.session.execute(
        db.select(Assertion)
        .options(
            defer(Assertion.baked_png),
            defer(Assertion.baked_svg),
            # its badge class comes along in the same query, without the artwork
            joinedload(Assertion.badge_class)
            .defer(BadgeClass.image_png)
            .defer(BadgeClass.image_svg),
        )
        .where(Assertion.uuid == assertion_uuid)
    ).scalar_one_or_none()


def find_assertion_with_image(assertion_uuid: str, fmt: str) -> Assertion | None:
    """An assertion with only the baked image it serves ("png" or "svg") and its badge class's
    slug, in one query: the download reads nothing else in the usual case (the original
    language). Other columns (the JWS, the artwork for another language) load when read."""
    statement = _WITH_IMAGE["png" if fmt == "png" else "svg"]
    return db.session.execute(statement, {"uuid": assertion_uuid}).scalar_one_or_none()


def _with_image(image: Any) -> Select:
    """Built once: composing the loader options cost more than running the query."""
    return (
        db.select(Assertion)
        .options(
            load_only(
                Assertion.uuid,
                Assertion.badge_class_id,
                Assertion.issued_at,
                Assertion.revoked_at,
                image,
            ),
            joinedload(Assertion.badge_class).load_only(BadgeClass.slug),
        )
        .where(Assertion.uuid == bindparam("uuid"))
    )


_WITH_IMAGE = {"png": _with_image(Assertion.baked_png), "svg": _with_image(Assertion.baked_svg)}


def revoked_in_range(
    issuer_id: int, first_id: int, end_id: int
) -> tuple[list[int], datetime | None]:
    """Ids of the issuer's revoked assertions with first_id <= id < end_id (one Bitstring Status
    List) and the latest revocation time among them: three columns from the index, no images."""
    rows = db.session.execute(
        _revoked_in_range(
            db.select(Assertion.id, Assertion.revoked_at), issuer_id, first_id, end_id
        ).order_by(Assertion.id)
    ).all()
    return [row.id for row in rows], max((row.revoked_at for row in rows), default=None)


def range_revocation_version(
    issuer_id: int, first_id: int, end_id: int
) -> tuple[int, datetime | None]:
    """`revocation_version` for one id range: names a status list's content in one aggregate."""
    columns = db.select(db.func.count(Assertion.id), db.func.max(Assertion.revoked_at))
    count, latest = db.session.execute(
        _revoked_in_range(columns, issuer_id, first_id, end_id)
    ).one()
    return count, latest


def _revoked_in_range(statement: Select, issuer_id: int, first_id: int, end_id: int) -> Select:
    return statement.join(BadgeClass, BadgeClass.id == Assertion.badge_class_id).where(
        BadgeClass.issuer_id == issuer_id,
        Assertion.revoked_at.is_not(None),
        Assertion.id >= first_id,
        Assertion.id < end_id,
    )
