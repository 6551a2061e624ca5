"""Conditional GET on the public Open Badges documents, and what their lookups read."""

from __future__ import annotations

import uuid as uuid_module
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from werkzeug.http import http_date
from werkzeug.http import parse_date

from campus.auth.models import User
from campus.badges.awarding import award
from campus.badges.issuers import IssuingContext
from campus.badges.issuers import get_badge
from campus.badges.models import Assertion
from campus.badges.models import AwardSource
from campus.badges.revocation import revoke
from campus.clock import utcnow
from campus.extensions import db

AN_HOUR_AGO = timedelta(hours=1)


@pytest.fixture
def issued(app: Flask, make_user, app_ctx: None) -> Assertion:
    """One badge, issued an hour ago (a settled time: Last-Modified may name it)."""
    learner = db.session.get(User, make_user())
    result = award(
        learner,
        get_badge("reviewed"),
        IssuingContext.from_config(app.config),
        utcnow() - AN_HOUR_AGO,
        AwardSource.REVIEW,
    )
    db.session.commit()
    assert result.assertion is not None
    return result.assertion


def revoked_copies(template: Assertion, count: int, when) -> None:  # type: ignore[no-untyped-def]
    """`count` revoked assertions like `template`, with ~50 KB baked images, straight in."""
    for index in range(count):
        db.session.add(
            Assertion(
                uuid=str(uuid_module.uuid4()),
                badge_class_id=template.badge_class_id,
                user_id=template.user_id,
                active_key=None,
                recipient_salt=template.recipient_salt,
                recipient_hash=template.recipient_hash,
                issued_at=template.issued_at,
                evidence=[],
                source=AwardSource.BULK,
                signing_key_id=template.signing_key_id,
                jws=template.jws,
                baked_png=b"\x89PNG" + b"p" * 50_000,
                baked_svg=b"<svg>" + b"s" * 50_000,
                revoked_at=when + timedelta(seconds=index),
                revocation_reason=f"Reason {index}",
            )
        )
    db.session.commit()


def addresses(assertion: Assertion) -> list[str]:
    return [
        "/ob/issuers/campus",
        "/ob/issuers/campus/revocations",
        f"/ob/keys/{assertion.signing_key.kid}",
        "/ob/badges/reviewed",
        "/ob/badges/reviewed/image.png",
        "/ob/badges/reviewed/image.svg",
        f"/ob/assertions/{assertion.uuid}",
        f"/ob/assertions/{assertion.uuid}.jws",
        f"/badges/a/{assertion.uuid}/badge.png",  # the baked badge a backpack imports
        f"/badges/a/{assertion.uuid}/badge.svg",
    ]


def test_every_document_answers_304_to_its_own_etag(client: FlaskClient, issued: Assertion) -> None:
    for address in addresses(issued):
        first = client.get(address)
        assert first.status_code == 200, address
        etag = first.headers["ETag"]
        assert etag.startswith('"') and not etag.startswith("W/"), address  # strong
        assert client.get(address).headers["ETag"] == etag, address  # stable
        again = client.get(address, headers={"If-None-Match": etag})
        assert again.status_code == 304, address
        assert again.data == b"" and again.headers["ETag"] == etag, address
        assert client.get(address, headers={"If-None-Match": '"other"'}).status_code == 200


def test_last_modified_where_a_time_exists(client: FlaskClient, issued: Assertion) -> None:
    hosted = client.get(f"/ob/assertions/{issued.uuid}")
    assert parse_date(hosted.headers["Last-Modified"]) == issued.issued_at.replace(
        microsecond=0, tzinfo=parse_date(hosted.headers["Last-Modified"]).tzinfo
    )
    key = client.get(f"/ob/keys/{issued.signing_key.kid}")
    assert "Last-Modified" in key.headers
    # No revocation yet: the list has no time of its own.
    assert "Last-Modified" not in client.get("/ob/issuers/campus/revocations").headers
    since = {"If-Modified-Since": hosted.headers["Last-Modified"]}
    assert client.get(f"/ob/assertions/{issued.uuid}", headers=since).status_code == 304
    earlier = {"If-Modified-Since": http_date(issued.issued_at - timedelta(minutes=1))}
    assert client.get(f"/ob/assertions/{issued.uuid}", headers=earlier).status_code == 200


def test_caching_rules_stay_as_they_were(client: FlaskClient, issued: Assertion) -> None:
    assert client.get("/ob/issuers/campus/revocations").headers["Cache-Control"] == "no-cache"
    assert client.get(f"/ob/assertions/{issued.uuid}").headers["Cache-Control"] == "no-cache"
    assert client.get("/ob/badges/reviewed").headers["Cache-Control"] == "public, max-age=60"
    image = client.get("/ob/badges/reviewed/image.png")
    assert image.headers["Cache-Control"] == "public, max-age=3600"


def test_a_revocation_changes_the_validators(client: FlaskClient, issued: Assertion) -> None:
    listing = client.get("/ob/issuers/campus/revocations")
    hosted = client.get(f"/ob/assertions/{issued.uuid}")
    revoked_at = utcnow() - timedelta(minutes=5)
    assert revoke(issued, "Issued in error", revoked_at)
    db.session.commit()

    fresh = client.get(
        "/ob/issuers/campus/revocations", headers={"If-None-Match": listing.headers["ETag"]}
    )
    assert fresh.status_code == 200 and fresh.headers["ETag"] != listing.headers["ETag"]
    assert {"id": f"urn:uuid:{issued.uuid}", "revocationReason": "Issued in error"} in fresh.json[
        "revokedAssertions"
    ]
    assert parse_date(fresh.headers["Last-Modified"]) == revoked_at.replace(microsecond=0)
    # ...and an old If-Modified-Since sees the revocation too.
    since = {"If-Modified-Since": http_date(revoked_at - timedelta(minutes=1))}
    assert client.get("/ob/issuers/campus/revocations", headers=since).status_code == 200

    gone = client.get(
        f"/ob/assertions/{issued.uuid}", headers={"If-None-Match": hosted.headers["ETag"]}
    )
    assert gone.status_code == 410 and gone.json["revoked"] is True
    assert gone.headers["ETag"] != hosted.headers["ETag"]
    # A 410 is never turned into a 304, even for its own ETag.
    same = client.get(
        f"/ob/assertions/{issued.uuid}", headers={"If-None-Match": gone.headers["ETag"]}
    )
    assert same.status_code == 410 and same.json["revoked"] is True


def test_no_last_modified_for_a_change_in_this_very_second(
    client: FlaskClient, issued: Assertion
) -> None:
    """Another revocation within the same second would not move an HTTP date: leave it out."""
    assert revoke(issued, "Just now", utcnow())
    db.session.commit()
    listing = client.get("/ob/issuers/campus/revocations")
    assert "Last-Modified" not in listing.headers and "ETag" in listing.headers


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        seen.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_revocation_list_reads_the_same_statements_whatever_its_length(
    app: Flask, client: FlaskClient, issued: Assertion
) -> None:
    client.get("/ob/issuers/campus")  # the award's own follow-ups (mail) run after a request
    revoked_copies(issued, 1, utcnow() - AN_HOUR_AGO)
    with statements(app) as few:
        small = client.get("/ob/issuers/campus/revocations")
    revoked_copies(issued, 49, utcnow() - AN_HOUR_AGO)
    with statements(app) as many:
        large = client.get("/ob/issuers/campus/revocations")
    assert len(small.json["revokedAssertions"]) == 1 + 1  # and the placeholder
    assert len(large.json["revokedAssertions"]) == 50 + 1
    assert len(few) == len(many)
    assert not any("baked_" in statement or "image_" in statement for statement in many)
    # Unchanged since: the rendered list is reused after one count, still with its ETag.
    with statements(app) as unchanged:
        again = client.get("/ob/issuers/campus/revocations")
    assert again.data == large.data and again.headers["ETag"] == large.headers["ETag"]
    assert len(unchanged) < len(many)
    assert not any("revocation_reason" in statement for statement in unchanged)


def test_json_documents_never_read_the_images(
    app: Flask, client: FlaskClient, issued: Assertion
) -> None:
    kid = issued.signing_key.kid
    client.get("/ob/issuers/campus")  # the award's own follow-ups (mail) run after a request
    for address in [
        f"/ob/assertions/{issued.uuid}",
        f"/ob/assertions/{issued.uuid}.jws",
        "/ob/badges/reviewed",
        f"/ob/keys/{kid}",
        "/ob/issuers/campus",
    ]:
        with statements(app) as seen:
            assert client.get(address).status_code == 200
        assert seen, address
        assert not any("baked_" in s or "image_png" in s for s in seen), (address, seen)
    revoke(issued, "Issued in error", utcnow() - AN_HOUR_AGO)
    address = f"/ob/assertions/{issued.uuid}"
    db.session.commit()
    client.get("/ob/issuers/campus")  # the revocation's follow-ups run after a request
    with statements(app) as seen:
        assert client.get(address).status_code == 410
    assert seen and not any("baked_" in s for s in seen)
