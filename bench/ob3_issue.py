"""Issuing an OB 3.0 credential (build from the award + RDF canonicalisation + Ed25519 sign,
eddsa-rdfc-2022) per second, against raw Ed25519 signing of 32 bytes in the same run
(issue 14 target: at least 25 % of raw signing).

The two are measured interleaved, round after round, so that both see the same machine state;
the per-process credential cache is bypassed: each call builds and signs the credential of
another award (50 learners, two badges, in turn). `--pyld`
measures the generic path alone (pyld's expansion and URDNA2015 for every document).

Usage: `.venv/bin/python bench/ob3_issue.py [--rounds 5] [--seconds 1.0] [--learners 50]
[--pyld] [--profile]`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

# Import the campus from the repository root.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from campus import create_app  # noqa: E402
from campus.auth.models import Organisation  # noqa: E402
from campus.auth.models import User  # noqa: E402
from campus.badges import awarding  # noqa: E402
from campus.badges import issuers  # noqa: E402
from campus.badges.files import load_badges  # noqa: E402
from campus.badges.models import AwardSource  # noqa: E402
from campus.badges.ob3 import credential  # noqa: E402
from campus.badges.ob3 import dataintegrity  # noqa: E402
from campus.badges.ob3 import did  # noqa: E402
from campus.badges.ob3 import keys  # noqa: E402
from campus.clock import utcnow  # noqa: E402
from campus.config import REPO_ROOT  # noqa: E402
from campus.extensions import db  # noqa: E402
from campus.paths.content import load_tree  # noqa: E402
from campus.paths.sync import sync_tree  # noqa: E402

TESTS = REPO_ROOT / "tests" / "data"


def rate(operation: Callable[[], object], seconds: float) -> float:
    """Operations a second over about `seconds` of repetition (at least 3)."""
    count, start = 0, time.perf_counter()
    while True:
        operation()
        count += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds and count >= 3:
            return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--learners", type=int, default=50, help="awards issued in turn")
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--pyld", action="store_true", help="generic pyld canonicalisation only")
    parser.add_argument("--profile", action="store_true", help="pyinstrument the issuing loop")
    args = parser.parse_args()
    if args.pyld:
        dataintegrity.FAST_CANONICAL = False
    scratch = Path(tempfile.mkdtemp(prefix="ob3-bench-"))
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "CONTENT_DIR": str(TESTS / "content"),
            "BADGES_DIR": str(TESTS / "badges"),
            "UPLOAD_DIR": str(scratch / "uploads"),
            "MAIL_DIR": str(scratch / "mail"),
            "KEYS_DIR": str(scratch / "keys"),
            "BASE_URL": "https://campus.example.fi",
        }
    )
    with app.app_context():
        db.create_all()
        tree = load_tree(TESTS / "content")
        report = sync_tree(tree, utcnow())
        context = issuers.IssuingContext.from_config(app.config)
        issuers.sync_badges(load_badges(TESTS / "badges", tree), context, report)
        organisation = Organisation(name="Bench College", slug="bench")
        db.session.add(organisation)
        db.session.flush()
        awards = []
        for index in range(args.learners):
            user = User(
                email=f"learner{index}@example.org",
                name=f"Learner {index}",
                password_hash="x",
                organisation_id=organisation.id,
                email_verified_at=utcnow(),
            )
            db.session.add(user)
            db.session.flush()
            evidence = [{"narrative": f"Näyttö {index}: ohjattu harjoittelu, hyväksytty."}]
            slug = ("reviewed", "basics")[index % 2]
            result = awarding.award(
                user, issuers.get_badge(slug), context, utcnow(), AwardSource.REVIEW, evidence
            )
            assert result.assertion is not None
            awards.append(result.assertion)
        db.session.commit()
        for assertion in awards:  # what a request has loaded before it signs
            assertion.badge_class.issuer  # noqa: B018
        key = keys.ed25519_key_for(awards[0])
        method = did.verification_method(awards[0].badge_class.issuer, key, context.urls.base)
        turn = iter(range(10**12))

        def issue() -> dict:
            """Another learner's credential each time (no document is built twice in a row)."""
            assertion = awards[next(turn) % len(awards)]
            unsigned = credential.unsigned_credential(assertion, context)
            return dataintegrity.sign(
                unsigned, key, method, assertion.issued_at, context.keys_dir, context.passphrase
            )

        raw_key = Ed25519PrivateKey.generate()
        message = bytes(range(32))

        def raw_sign() -> bytes:
            return raw_key.sign(message)

        issued = issue()
        public = keys.public_key(key)
        assert dataintegrity.verify(issued, lambda vm: public if vm == method else None)
        if args.profile:
            from pyinstrument import Profiler

            with Profiler(interval=0.0002) as profiler:
                rate(issue, args.seconds * 3)
            profiler.print(show_all=False)
        issue_rates, raw_rates = [], []
        for _ in range(args.rounds):
            issue_rates.append(rate(issue, args.seconds))
            raw_rates.append(rate(raw_sign, args.seconds))
    issuing, raw = statistics.median(issue_rates), statistics.median(raw_rates)
    mode = "generic pyld" if args.pyld else "compiled shapes, pyld fallback"
    print(f"OB 3.0 issue vs raw Ed25519 signing ({args.rounds} interleaved rounds, median; {mode})")
    print(f"{'operation':<44}{'per second':>12}{'µs each':>10}")
    print(
        f"{'issue credential (build+canonicalise+sign)':<44}{issuing:>12,.0f}{1e6 / issuing:>10,.0f}"
    )
    print(f"{'raw Ed25519 sign, 32 bytes':<44}{raw:>12,.0f}{1e6 / raw:>10,.1f}")
    print(f"{'ratio (target >= 25 %)':<44}{issuing / raw:>12.1%}")


if __name__ == "__main__":
    main()
