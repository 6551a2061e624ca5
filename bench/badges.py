"""Open Badges benchmark: signing alone (the ceiling), signed-assertion issuing (sign + bake +
store), baked-PNG serving, a bulk award of 10,000 badges in one transaction, and rendering the
mails of its notices afterwards (the outbox does that after the commit).

Usage: `make bench-badges` or `.venv/bin/python bench/badges.py [--bulk 10000] [--issue 300]`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from campus import create_app  # noqa: E402
from campus.auth.models import Organisation  # noqa: E402
from campus.auth.models import User  # noqa: E402
from campus.badges import awarding  # noqa: E402
from campus.badges import bulk  # noqa: E402
from campus.badges import issuers  # noqa: E402
from campus.badges import ob2  # noqa: E402
from campus.badges import signing  # noqa: E402
from campus.badges.files import load_badges  # noqa: E402
from campus.badges.models import AwardSource  # noqa: E402
from campus.config import REPO_ROOT  # noqa: E402
from campus.extensions import db  # noqa: E402
from campus.mailing import MAIL_SEND  # noqa: E402
from campus.notifications.mails import NOTIFICATION_MAIL  # noqa: E402
from campus.outbox.models import OutboxItem  # noqa: E402
from campus.outbox.services import run_item  # noqa: E402
from campus.paths.content import load_tree  # noqa: E402
from campus.paths.sync import sync_tree  # noqa: E402


def report(label: str, count: int, seconds: float) -> float:
    rate = count / seconds
    print(f"{label:<58} {rate:9.0f} /s   ({count} in {seconds:.2f} s)")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--issue", type=int, default=300, help="single awards, each committed")
    parser.add_argument("--serve", type=int, default=1000, help="baked PNG downloads")
    parser.add_argument("--bulk", type=int, default=10_000, help="bulk award size")
    parser.add_argument("--render", type=int, default=200, help="bulk notices' mails rendered")
    args = parser.parse_args()
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "SECRET_KEY": "bench",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite",
                "KEYS_DIR": f"{tmp}/keys",
                "BASE_URL": "https://campus.example",
            }
        )
        with app.app_context():
            db.create_all()
            tree = load_tree(REPO_ROOT / "content")
            sync_report = sync_tree(tree, now)
            context = issuers.IssuingContext.from_config(app.config)
            issuers.sync_badges(load_badges(REPO_ROOT / "badges", tree), context, sync_report)
            org = Organisation(slug="bench", name="Bench")
            users = [
                User(
                    email=f"u{i}@bench.fi",
                    name=f"U{i}",
                    password_hash="x",
                    organisation=org,
                    email_verified_at=now,  # badges go to confirmed addresses only
                )
                for i in range(args.issue + args.bulk)
            ]
            db.session.add_all(users)
            db.session.commit()
            user_ids = [user.id for user in users]
            db.session.remove()  # like a request, each award below starts from a fresh session
            print(f"Open Badges benchmark — SQLite file, Python {sys.version.split()[0]}")
            badge = issuers.get_badge("tutoring-work")
            badge_id = badge.id
            key = signing.key_for_signing(badge.issuer, context.keys_dir, None, now)
            payload = ob2.assertion_document(
                context.urls,
                uuid="00000000-0000-4000-8000-000000000001",
                badge_slug=badge.slug,
                identity=ob2.recipient_hash("a@b.fi", "salt"),
                salt="salt",
                issued_at=now,
                expires_at=None,
                evidence=[],
                key_id=key.kid,
            )
            start = time.perf_counter()
            for _ in range(args.issue):
                signing.sign_assertion(payload, key, context.keys_dir, None)
            ceiling = report(
                "RS256 signing alone (ceiling)", args.issue, time.perf_counter() - start
            )

            start = time.perf_counter()
            for user_id in user_ids[: args.issue]:
                awarding.award(
                    db.session.get(User, user_id),
                    db.session.get(type(badge), badge_id),
                    context,
                    now,
                    AwardSource.BULK,
                )
                db.session.commit()
                db.session.remove()
            issued = report(
                "award: sign + bake PNG and SVG + store + commit",
                args.issue,
                time.perf_counter() - start,
            )
            print(
                f"{'  issuing as a share of the signing ceiling':<58} {100 * issued / ceiling:9.0f} %"
            )
            some = awarding.all_assertions(db.session.get(User, user_ids[0]))[0].uuid

        client = app.test_client()
        start = time.perf_counter()
        for _ in range(args.serve):
            response = client.get(f"/badges/a/{some}/badge.png")
            assert response.status_code == 200
        report("GET baked PNG", args.serve, time.perf_counter() - start)

        with app.app_context():
            badge = issuers.get_badge("regional-development-work")
            csv_text = "email,narrative\n" + "".join(
                f"u{i}@bench.fi,Development work in the regional digi group\n"
                for i in range(args.issue, args.issue + args.bulk)
            )
            start = time.perf_counter()
            rows = bulk.parse_bulk_csv(csv_text, badge)
            preview = time.perf_counter() - start
            print(f"{'bulk preview of ' + str(args.bulk) + ' rows':<58} {preview:9.2f} s")
            start = time.perf_counter()
            count = bulk.apply_bulk_award(
                rows, badge, issuers.IssuingContext.from_config(app.config), now
            ).awarded
            db.session.commit()
            report(
                f"bulk award of {args.bulk} (one transaction)", count, time.perf_counter() - start
            )
            assert count == args.bulk, count

            # The notices' mails are rendered after the commit, by the outbox (not sent here).
            items = db.session.execute(
                db.select(OutboxItem.id)
                .where(OutboxItem.kind == NOTIFICATION_MAIL)
                .order_by(OutboxItem.id)
                .limit(args.render)
            ).scalars()
            start = time.perf_counter()
            for item_id in list(items):
                run_item(item_id, now, 5.0)
            seconds = time.perf_counter() - start
            rendered = db.session.execute(
                db.select(db.func.count()).where(OutboxItem.kind == MAIL_SEND)
            ).scalar_one()
            report("afterwards: render + queue a notice's mail (outbox)", rendered, seconds)


if __name__ == "__main__":
    main()
