"""The public Open Badges documents each process keeps: never stale, on any process.

Two apps on one database file stand for two gunicorn workers (or two hosts): a revocation
made through one is in the other's revocation list and hosted assertion at once.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import openbadges_bakery
import pytest
from flask import Flask

from campus import create_app
from campus.auth.models import Organisation
from campus.auth.models import User
from campus.badges import fast_baking
from campus.badges import signing
from campus.badges.awarding import award
from campus.badges.baking import bake
from campus.badges.baking import unbake
from campus.badges.document_cache import DOCUMENTS
from campus.badges.document_cache import REVOCATIONS
from campus.badges.document_cache import revisions
from campus.badges.issuers import IssuingContext
from campus.badges.issuers import get_badge
from campus.badges.models import Assertion
from campus.badges.models import AwardSource
from campus.badges.revocation import find_assertion
from campus.badges.revocation import revoke
from campus.extensions import db
from tests.conftest import _app_config
from tests.conftest import _per_test_dirs
from tests.conftest import load_test_content
from tests.conftest import now
from tests.database_reset import SUITE_DATABASE_URL

JWS = "eyJhbGciOiJSUzI1NiJ9.eyJpZCI6InVybjp1dWlkOjEifQ.c2lnbmF0dXJl-_"


@pytest.fixture
def two_apps(tmp_path: Path) -> Iterator[tuple[Flask, Flask]]:
    if SUITE_DATABASE_URL:
        pytest.skip("two apps on one SQLite file")
    config = {
        **_app_config(),
        **_per_test_dirs(tmp_path),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'shared.sqlite'}",
    }
    first = create_app(config)
    with first.app_context():
        db.create_all()
        load_test_content(first)
        db.session.commit()
    second = create_app(config)
    yield first, second
    for app in (first, second):
        with app.app_context():
            db.engine.dispose()


def _award(app: Flask, email: str) -> str:
    with app.app_context():
        org = db.session.execute(db.select(Organisation)).scalars().first()
        if org is None:
            org = Organisation(name="College", slug="college")
        learner = User(
            email=email,
            name="Learner",
            password_hash="x",
            organisation=org,
            email_verified_at=now(),
        )
        db.session.add(learner)
        db.session.flush()
        result = award(
            learner,
            get_badge("reviewed"),
            IssuingContext.from_config(app.config),
            now() - timedelta(hours=1),
            AwardSource.REVIEW,
        )
        db.session.commit()
        assert result.assertion is not None
        return result.assertion.uuid


def _revoke(app: Flask, uuid: str, reason: str) -> None:
    with app.app_context():
        found = find_assertion(uuid)
        assert found is not None
        assert revoke(found, reason, now())
        db.session.commit()


def test_a_revocation_through_one_app_shows_in_the_other_at_once(
    two_apps: tuple[Flask, Flask],
) -> None:
    first, second = two_apps
    uuid = _award(first, "one@example.org")
    other = _award(first, "two@example.org")
    readers = [first.test_client(), second.test_client()]
    before = [reader.get("/ob/issuers/campus/revocations") for reader in readers]
    hosted = [reader.get(f"/ob/assertions/{uuid}") for reader in readers]
    assert {response.status_code for response in before + hosted} == {200}
    # Both processes keep the same bytes: the same strong ETag, and a 304 for it.
    assert before[0].headers["ETag"] == before[1].headers["ETag"]
    for reader, listing in zip(readers, before, strict=True):
        again = reader.get(
            "/ob/issuers/campus/revocations", headers={"If-None-Match": listing.headers["ETag"]}
        )
        assert again.status_code == 304 and again.data == b""

    _revoke(first, uuid, "Issued in error")

    for reader, listing, document in zip(readers, before, hosted, strict=True):
        fresh = reader.get(
            "/ob/issuers/campus/revocations", headers={"If-None-Match": listing.headers["ETag"]}
        )
        assert fresh.status_code == 200 and fresh.headers["ETag"] != listing.headers["ETag"]
        ids = [entry["id"] for entry in fresh.json["revokedAssertions"]]
        assert f"urn:uuid:{uuid}" in ids and f"urn:uuid:{other}" not in ids
        gone = reader.get(
            f"/ob/assertions/{uuid}", headers={"If-None-Match": document.headers["ETag"]}
        )
        assert gone.status_code == 410 and gone.json["revoked"] is True
        assert gone.headers["ETag"] != document.headers["ETag"]
        # The other award is untouched: its own ETag still gets a 304.
        kept = reader.get(f"/ob/assertions/{other}")
        assert (
            reader.get(
                f"/ob/assertions/{other}", headers={"If-None-Match": kept.headers["ETag"]}
            ).status_code
            == 304
        )

    # The second app revokes: the first app's kept list moves too.
    listing = readers[0].get("/ob/issuers/campus/revocations")
    _revoke(second, other, "Also in error")
    latest = readers[0].get("/ob/issuers/campus/revocations")
    assert latest.headers["ETag"] != listing.headers["ETag"]
    assert f"urn:uuid:{other}" in [e["id"] for e in latest.json["revokedAssertions"]]
    assert readers[0].get(f"/ob/assertions/{other}").status_code == 410


def test_a_changed_badge_class_changes_its_document_in_every_app(
    two_apps: tuple[Flask, Flask],
) -> None:
    first, second = two_apps
    reader = second.test_client()
    before = reader.get("/ob/badges/reviewed")
    assert before.status_code == 200
    with first.app_context():
        badge = get_badge("reviewed")
        assert badge is not None
        badge.name = {**badge.name, "fi": "Uusi nimi"}
        db.session.commit()
    after = reader.get("/ob/badges/reviewed", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.json["name"] == "Uusi nimi"
    assert after.headers["ETag"] != before.headers["ETag"]


def test_revisions_move_with_what_the_documents_show(two_apps: tuple[Flask, Flask]) -> None:
    first, _second = two_apps
    with first.app_context():
        documents, revocations = revisions()
    uuid = _award(first, "three@example.org")  # an award changes no issuer-wide document
    with first.app_context():
        assert revisions()[1] == revocations
    _revoke(first, uuid, "Issued in error")
    with first.app_context():
        assert revisions()[1] == revocations + 1
        signing.rotate_key(
            get_badge("reviewed").issuer,
            Path(first.config["KEYS_DIR"]),
            None,
            now(),
        )
        db.session.commit()
        assert revisions()[0] > documents
        # Revoked rows added straight in (imports, scripts using the ORM) move it as well.
        template = db.session.execute(db.select(Assertion)).scalars().first()
        db.session.add(
            Assertion(
                uuid="00000000-0000-4000-8000-00000000abcd",
                badge_class_id=template.badge_class_id,
                user_id=template.user_id,
                recipient_salt="s",
                recipient_hash="h",
                issued_at=now(),
                evidence=[],
                source=AwardSource.BULK,
                signing_key_id=template.signing_key_id,
                jws=template.jws,
                baked_png=b"",
                baked_svg=b"",
                revoked_at=now(),
                revocation_reason="imported",
            )
        )
        db.session.commit()
        assert revisions()[1] == revocations + 2
    assert {DOCUMENTS, REVOCATIONS} == {"documents", "revocations"}


def test_fast_baking_writes_what_the_library_writes(app: Flask, app_ctx: None) -> None:
    badge = get_badge("reviewed")
    for image in (badge.image_png, badge.image_svg):
        library = openbadges_bakery.bake(io.BytesIO(image), JWS, io.BytesIO()).getvalue()
        baked = bake(image, JWS)
        assert baked == library
        assert unbake(baked) == JWS
        # Baking a baked image again replaces its badge (the library drops the old chunk too).
        if image.startswith(fast_baking.PNG_SIGNATURE):
            assert bake(baked, JWS.replace("c2ln", "b3Ro")) == bake(
                image, JWS.replace("c2ln", "b3Ro")
            )
    # The fast path refuses what it does not bake by replacement: the library does it.
    with pytest.raises(fast_baking.NotBakeable):
        fast_baking.bake_svg(badge.image_svg, "https://campus.test/ob/assertions/1")
    with pytest.raises(fast_baking.NotBakeable):
        fast_baking.bake_png(badge.image_png[:-20], JWS)  # cut short: no IEND


def test_signing_keys_are_asked_once_a_transaction_and_follow_a_rotation(
    app: Flask, app_ctx: None
) -> None:
    issuer = get_badge("reviewed").issuer
    keys_dir = Path(app.config["KEYS_DIR"])
    first = signing.key_for_signing(issuer, keys_dir, None, now())
    assert signing.key_for_signing(issuer, keys_dir, None, now()) is first
    rotated = signing.rotate_key(issuer, keys_dir, None, now())
    assert rotated.kid != first.kid
    assert signing.key_for_signing(issuer, keys_dir, None, now()) is rotated
    db.session.commit()
    assert signing.key_for_signing(issuer, keys_dir, None, now()).kid == rotated.kid


def test_the_kept_baked_download_is_the_stored_image_and_a_revocation_ends_it(
    two_apps: tuple[Flask, Flask],
) -> None:
    """campus.badges.downloads (what /badges/a/<uuid>/badge.png answers with)."""
    from werkzeug.exceptions import Gone

    from campus.badges.downloads import baked_download

    first, second = two_apps
    uuid = _award(first, "four@example.org")
    with first.app_context():
        stored = find_assertion(uuid).baked_png
    with second.test_request_context():
        served = baked_download(uuid, "png", "fi")
        assert served.status_code == 200 and served.get_data() == stored
        assert served.headers["Content-Disposition"].startswith('attachment; filename="reviewed-')
        etag = served.headers["ETag"]
        assert baked_download(uuid, "png", "fi").headers["ETag"] == etag  # kept
    with second.test_request_context(headers={"If-None-Match": etag}):
        assert baked_download(uuid, "png", "fi").status_code == 304
    _revoke(first, uuid, "Issued in error")
    with second.test_request_context(), pytest.raises(Gone):
        baked_download(uuid, "png", "fi")


def test_a_database_without_the_stamp_table_still_serves_fresh_documents(
    two_apps: tuple[Flask, Flask],
) -> None:
    """Before the migration runs: nothing is kept, nothing is stale, nothing fails."""
    first, second = two_apps
    uuid = _award(first, "five@example.org")
    with first.app_context():
        db.session.execute(db.text("DROP TABLE ob_document_stamp"))
        db.session.commit()
        db.session.execute(  # straight in: no stamp to move any more
            db.update(Assertion)
            .where(Assertion.uuid == uuid)
            .values(revoked_at=now(), revocation_reason="Issued in error")
        )
        db.session.commit()
    reader = second.test_client()
    listing = reader.get("/ob/issuers/campus/revocations")
    assert listing.status_code == 200
    assert f"urn:uuid:{uuid}" in [e["id"] for e in listing.json["revokedAssertions"]]
    assert reader.get("/ob/badges/reviewed").status_code == 200
