"""Public Open Badges documents, in process: the revocation list, a hosted assertion and their
conditional GETs (304), against a bare Flask hello app in the same run (the issue 16 target:
at least half of hello).

Assertions are written straight into the table with baked images of a realistic size (~55 KB a
row), so that a lookup that loads them shows. The index on `assertion (badge_class_id, revoked_at)` the
revocation list needs is created here unless the models already give it (`--no-index` measures without).

Usage: `.venv/bin/python bench/ob_documents.py [--assertions 2000] [--revoked 200] [--no-index]`.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid as uuid_module
from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from sqlalchemy import insert  # noqa: E402
from sqlalchemy import text  # noqa: E402

from campus import create_app  # noqa: E402
from campus.auth.models import Organisation  # noqa: E402
from campus.auth.models import User  # noqa: E402
from campus.badges import awarding  # noqa: E402
from campus.badges import issuers  # noqa: E402
from campus.badges.files import load_badges  # noqa: E402
from campus.badges.models import Assertion  # noqa: E402
from campus.badges.models import AwardSource  # noqa: E402
from campus.config import REPO_ROOT  # noqa: E402
from campus.extensions import db  # noqa: E402
from campus.paths.content import load_tree  # noqa: E402
from campus.paths.sync import sync_tree  # noqa: E402

PNG_BYTES = 40_000  # a baked 256 px PNG with its JWS
SVG_BYTES = 15_000


def hello_app() -> Flask:
    app = Flask("hello")

    @app.get("/")
    def hello() -> str:
        return "hello"

    return app


def rate(client: FlaskClient, address: str, status: int, headers: dict[str, str]) -> float:
    """Requests a second over about a second of repeated GETs (at least 5)."""
    count, start = 0, time.perf_counter()
    while True:
        response = client.get(address, headers=headers)
        assert response.status_code == status, (address, response.status_code)
        count += 1
        elapsed = time.perf_counter() - start
        if elapsed >= 1.0 and count >= 5:
            return count / elapsed


def fill(count: int, revoked: int, template: Assertion, now: datetime) -> None:
    """`count` assertions like `template` (the first `revoked` of them revoked), in batches."""
    png = os.urandom(PNG_BYTES)
    svg = os.urandom(SVG_BYTES)
    batch: list[dict[str, object]] = []
    for index in range(count):
        is_revoked = index < revoked
        batch.append(
            {
                "uuid": str(uuid_module.uuid4()),
                "badge_class_id": template.badge_class_id,
                "user_id": template.user_id,
                "active_key": None,
                "recipient_salt": template.recipient_salt,
                "recipient_hash": template.recipient_hash,
                "issued_at": now - timedelta(days=30),
                "evidence": [],
                "source": AwardSource.BULK,
                "signing_key_id": template.signing_key_id,
                "jws": template.jws,
                "baked_png": png,
                "baked_svg": svg,
                "revoked_at": now - timedelta(days=1, seconds=index) if is_revoked else None,
                "revocation_reason": f"Issued in error ({index})" if is_revoked else None,
            }
        )
        if len(batch) == 500:
            db.session.execute(insert(Assertion), batch)
            batch = []
    if batch:
        db.session.execute(insert(Assertion), batch)
    db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--assertions", type=int, default=2000, help="assertions in the table")
    parser.add_argument("--revoked", type=int, default=200, help="how many of them are revoked")
    parser.add_argument(
        "--no-index", action="store_true", help="without the (badge_class_id, revoked_at) index"
    )
    args = parser.parse_args()
    total = max(args.assertions, args.revoked)
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "SECRET_KEY": "bench",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite",
                "KEYS_DIR": f"{tmp}/keys",
                "MAIL_DIR": f"{tmp}/mail",
                "BASE_URL": "https://campus.example",
            }
        )
        started = time.perf_counter()
        with app.app_context():
            db.create_all()
            tree = load_tree(REPO_ROOT / "content")
            report = sync_tree(tree, now)
            context = issuers.IssuingContext.from_config(app.config)
            issuers.sync_badges(load_badges(REPO_ROOT / "badges", tree), context, report)
            org = Organisation(slug="bench", name="Bench")
            user = User(
                email="u@bench.fi",
                name="U",
                password_hash="x",
                organisation=org,
                email_verified_at=now,
            )
            db.session.add(user)
            db.session.commit()
            badge = issuers.get_badge("tutoring-work")
            valid = awarding.award(user, badge, context, now - timedelta(days=2), AwardSource.BULK)
            assert valid.assertion is not None
            db.session.commit()
            fill(total, args.revoked, valid.assertion, now)
            if not args.no_index:
                # What the migration adds (see the report); IF NOT EXISTS if the models have it.
                db.session.execute(
                    text(
                        "CREATE INDEX IF NOT EXISTS ix_assertion_badge_class_id_revoked_at "
                        "ON assertion (badge_class_id, revoked_at)"
                    )
                )
                db.session.commit()
            uuid = valid.assertion.uuid
            issuer_slug = badge.issuer.slug
        print(
            f"Open Badges documents — SQLite file, {total} assertions (~55 KB each), "
            f"{args.revoked} revoked, index on (badge_class_id, revoked_at): {not args.no_index}; "
            f"set up in {time.perf_counter() - started:.1f} s, Python {sys.version.split()[0]}"
        )

        client = app.test_client()
        client.get(f"/ob/issuers/{issuer_slug}")  # the award's follow-ups run after a request
        revocations = f"/ob/issuers/{issuer_slug}/revocations"
        hosted = f"/ob/assertions/{uuid}"
        etag_of: Callable[[str], dict[str, str]] = lambda address: {  # noqa: E731
            "If-None-Match": client.get(address).headers["ETag"]
        }
        hello = rate(hello_app().test_client(), "/", 200, {})
        rows = [
            ("bare Flask hello (ceiling)", hello),
            (
                "campus floor: /ob/nothing (JSON 404, no query)",
                rate(client, "/ob/nothing", 404, {}),
            ),
            ("revocation list", rate(client, revocations, 200, {})),
            (
                "revocation list, If-None-Match (304)",
                rate(client, revocations, 304, etag_of(revocations)),
            ),
            ("hosted assertion JSON", rate(client, hosted, 200, {})),
            ("hosted assertion, If-None-Match (304)", rate(client, hosted, 304, etag_of(hosted))),
            ("signed assertion (.jws)", rate(client, hosted + ".jws", 200, {})),
            ("badge class JSON", rate(client, f"/ob/badges/{badge.slug}", 200, {})),
            ("issuer JSON", rate(client, f"/ob/issuers/{issuer_slug}", 200, {})),
        ]
        print(f"{'request':<48} {'req/s':>9} {'of hello':>9}")
        for label, value in rows:
            print(f"{label:<48} {value:9.0f} {100 * value / hello:8.0f} %")


if __name__ == "__main__":
    main()
