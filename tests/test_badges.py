"""Open Badges: files, event-driven awarding, signing, baking, hosting, revocation, review, bulk."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from datetime import timedelta
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from flask import Flask
from flask.testing import FlaskClient

from campus.auth.models import Role
from campus.auth.models import User
from campus.badges import ob2
from campus.badges import signing
from campus.badges import verify
from campus.badges.applications import accept_application
from campus.badges.applications import apply_for_badge
from campus.badges.awarding import award
from campus.badges.awarding import reissue_to_current_email
from campus.badges.awarding import status_of
from campus.badges.baking import unbake
from campus.badges.checklist import checklist
from campus.badges.files import load_badges
from campus.badges.issuers import BadgeError
from campus.badges.issuers import IssuingContext
from campus.badges.issuers import get_badge
from campus.badges.issuers import sync_badges
from campus.badges.models import Assertion
from campus.badges.models import AwardSource
from campus.badges.models import BadgeApplication
from campus.badges.models import SigningKey
from campus.badges.revocation import revoke
from campus.badges.revocation import revoke_many
from campus.extensions import db
from campus.outbox import services as outbox
from campus.paths import services as paths
from campus.paths.content import load_tree
from campus.paths.kinds.evidence import submit_evidence
from campus.paths.kinds.quiz import submit_quiz
from campus.paths.kinds.read import mark_read
from campus.paths.kinds.reflection import submit_reflection
from campus.paths.models import PathCompletion
from campus.paths.uploads import UploadRules
from campus.review.services import review_module_evidence
from tests.conftest import BASE_URL
from tests.conftest import PASSWORD
from tests.conftest import TEST_BADGES
from tests.conftest import TEST_CONTENT
from tests.conftest import now

RIGHT = {"q1": ["b"], "q2": ["a", "c"], "q3": ["a"]}
URLS = ob2.Urls(BASE_URL)


def context(app: Flask) -> IssuingContext:
    return IssuingContext.from_config(app.config)


def complete_basics(user: User) -> paths.CompletionResult:
    """Complete the path and commit; its badge follows through the outbox, as after a request."""
    path = paths.get_path("basics")
    mark_read(user, paths.get_module(path, "welcome"), now())
    submit_quiz(user, paths.get_module(path, "check-quiz"), RIGHT, now())
    _answer, result = submit_reflection(
        user,
        paths.get_module(path, "my-thoughts"),
        "Reflection long enough to count here, really.",
        now(),
    )
    db.session.commit()
    outbox.run_committed(now())
    return result


@pytest.fixture
def learner(app: Flask, make_user, app_ctx: None) -> User:
    return db.session.get(User, make_user())


def assertions_of(user: User) -> list[Assertion]:
    return list(
        db.session.execute(db.select(Assertion).where(Assertion.user_id == user.id)).scalars()
    )


# --- badge files -------------------------------------------------------------------------------


def test_badge_files_load_and_cross_check_paths(tmp_path: Path) -> None:
    tree = load_badges(TEST_BADGES, load_tree(TEST_CONTENT))
    assert tree.problems == []
    assert {b.slug: b.award for b in tree.badges} == {
        "basics": "path:basics",
        "reviewed": "review",
        "both": "milestone",
    }
    badges = tmp_path / "badges"
    shutil.copytree(TEST_BADGES, badges)
    (badges / "both/badge.toml").write_text(
        (badges / "both/badge.toml").read_text().replace('"reviewed"]', '"ghost"]')
    )
    (badges / "basics/badge.toml").write_text(
        (badges / "basics/badge.toml").read_text().replace("path:basics", "path:advanced")
    )
    (badges / "evil").mkdir()
    (badges / "evil/badge.toml").write_text((badges / "reviewed/badge.toml").read_text())
    (badges / "evil/image.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>'
    )
    problems = sorted(str(p) for p in load_badges(badges, load_tree(TEST_CONTENT)).problems)
    assert problems == [
        'badges/basics/badge.toml:5: path `advanced` does not name this badge (set badge = "basics" in its path.toml)',
        "badges/both/badge.toml:6: member badge `ghost` does not exist",
        "badges/evil/image.svg:1: SVG artwork must not contain scripts or event handlers",
    ]


def test_sync_draws_artwork_and_is_idempotent(app: Flask, app_ctx: None) -> None:
    basics = get_badge("basics")
    assert basics.image_png.startswith(b"\x89PNG")  # drawn by the campus
    assert basics.colour == "#0b5fa5"  # no colour of its own: its path's theme colour
    assert b"<svg" in basics.image_svg[:200]
    assert get_badge("reviewed").image_png == (TEST_BADGES / "reviewed/image.png").read_bytes()
    from campus.paths.sync import SyncReport

    report = SyncReport()
    sync_badges(load_badges(TEST_BADGES, load_tree(TEST_CONTENT)), context(app), report)
    assert not report.changed


# --- awarding ----------------------------------------------------------------------------------


def test_completing_a_path_awards_its_signed_badge_at_once(app: Flask, learner: User) -> None:
    complete_basics(learner)
    db.session.commit()
    [assertion] = assertions_of(learner)
    assert assertion.badge_class.slug == "basics" and assertion.source == "path"
    key = db.session.execute(
        db.select(SigningKey).where(SigningKey.algorithm == "RS256")
    ).scalar_one()
    decoded = jwt.api_jws.PyJWS().decode(
        assertion.jws, load_pem_public_key(key.public_pem.encode()), algorithms=["RS256"]
    )
    payload = json.loads(decoded)
    assert payload["id"] == f"urn:uuid:{assertion.uuid}"
    assert payload["verification"] == {
        "type": "SignedBadge",
        "creator": f"{BASE_URL}/ob/keys/{key.kid}",
    }
    assert payload["badge"] == f"{BASE_URL}/ob/badges/basics"
    assert payload["recipient"]["identity"] == ob2.recipient_hash(
        "learner@example.org", payload["recipient"]["salt"]
    )
    assert "learner@example.org" not in assertion.jws and "learner" not in json.dumps(payload)
    assert payload["evidence"][0]["narrative"].startswith('Completed the path "Basics"')
    assert unbake(assertion.baked_png) == assertion.jws
    assert unbake(assertion.baked_svg) == assertion.jws


def test_awarding_twice_gives_one_assertion(app: Flask, learner: User) -> None:
    badge = get_badge("basics")
    first = award(learner, badge, context(app), now(), AwardSource.BULK)
    second = award(learner, badge, context(app), now(), AwardSource.BULK)
    assert first.created and not second.created and first.assertion.id == second.assertion.id
    assert len(assertions_of(learner)) == 1


def test_failed_baking_leaves_nothing_behind(app: Flask, learner: User, monkeypatch) -> None:
    """A failure while signing or baking raises before any row exists (the outbox retries it:
    tests/test_outbox.py)."""
    from campus.badges import awarding
    from campus.badges.baking import BakingError

    def broken_bake(image: bytes, payload: str) -> bytes:
        raise BakingError("disk full")

    monkeypatch.setattr(awarding, "bake", broken_bake)
    with pytest.raises(BakingError):
        award(learner, get_badge("basics"), context(app), now(), AwardSource.BULK)
    db.session.flush()
    assert db.session.execute(db.select(Assertion)).first() is None


def test_milestone_is_awarded_when_its_members_are_held(app: Flask, learner: User) -> None:
    award(learner, get_badge("reviewed"), context(app), now(), AwardSource.REVIEW)
    assert [a.badge_class.slug for a in assertions_of(learner)] == ["reviewed"]
    complete_basics(learner)
    assert sorted(a.badge_class.slug for a in assertions_of(learner)) == [
        "basics",
        "both",
        "reviewed",
    ]


def test_checklist_answers_why_not_yet(app: Flask, learner: User) -> None:
    items = checklist(learner, get_badge("basics"), now(), "en")
    assert [(i.label, i.done) for i in items] == [
        ("Welcome", False),
        ("Check", False),
        ("Reflection", False),
        ("Extra reading", False),
    ]
    assert items[3].note == "optional"
    mark_read(learner, paths.get_module(paths.get_path("basics"), "welcome"), now())
    milestone = checklist(learner, get_badge("both"), now(), "en")
    assert [(i.label, i.done) for i in milestone] == [
        ("Basics badge", False),
        ("Reviewed work", False),
    ]
    assert checklist(learner, get_badge("basics"), now(), "en")[0].done


# --- public documents --------------------------------------------------------------------------


def test_public_documents(app: Flask, client: FlaskClient, learner: User) -> None:
    complete_basics(learner)
    db.session.commit()
    [assertion] = assertions_of(learner)
    issuer = client.get("/ob/issuers/campus")
    assert issuer.status_code == 200 and issuer.mimetype == "application/ld+json"
    # One key, not a list: the 1EdTech validator allows a single value (campus.badges.rotation).
    assert issuer.json["publicKey"] == f"{BASE_URL}/ob/keys/{assertion.signing_key.kid}"
    assert issuer.json["revocationList"] == f"{BASE_URL}/ob/issuers/campus/revocations"
    key = client.get(f"/ob/keys/{assertion.signing_key.kid}").json
    assert key["owner"] == f"{BASE_URL}/ob/issuers/campus" and "PRIVATE" not in key["publicKeyPem"]
    badge = client.get("/ob/badges/basics").json
    assert badge["name"] == "Perusteet-merkki" and badge["@language"] == "fi"
    assert client.get("/ob/badges/basics?lang=en").json["name"] == "Basics badge"
    assert badge["alignment"][0]["targetFramework"] == "DigCompEdu"
    assert client.get("/ob/badges/basics/image.png").data.startswith(b"\x89PNG")
    hosted = client.get(f"/ob/assertions/{assertion.uuid}").json
    assert hosted["id"] == f"{BASE_URL}/ob/assertions/{assertion.uuid}"
    assert hosted["verification"] == {"type": "HostedBadge"}
    assert (
        client.get(f"/ob/assertions/{assertion.uuid}.jws").get_data(as_text=True) == assertion.jws
    )
    png = client.get(f"/badges/a/{assertion.uuid}/badge.png")
    assert png.mimetype == "image/png" and unbake(png.data) == assertion.jws
    svg = client.get(f"/badges/a/{assertion.uuid}/badge.svg")
    assert svg.mimetype == "image/svg+xml" and unbake(svg.data) == assertion.jws
    page = client.get(f"/badges/a/{assertion.uuid}").get_data(as_text=True)
    assert "Valid" in page and "linkedin.com" in page
    assert client.get("/ob/assertions/00000000-0000-4000-8000-000000000001").status_code == 404


def test_private_keys_stay_in_files(app: Flask, learner: User, tmp_path: Path) -> None:
    complete_basics(learner)
    key = db.session.execute(
        db.select(SigningKey).where(SigningKey.algorithm == "RS256")
    ).scalar_one()
    key_file = Path(app.config["KEYS_DIR"]) / f"{key.kid}.pem"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert b"PRIVATE KEY" in key_file.read_bytes() and "PRIVATE" not in key.public_pem
    encrypted = signing.create_key(key.issuer, tmp_path / "k", "a passphrase", now())
    assert b"ENCRYPTED PRIVATE KEY" in (tmp_path / "k" / f"{encrypted.kid}.pem").read_bytes()
    with pytest.raises(signing.KeyUnavailable):
        signing.load_private_key(encrypted, tmp_path / "k", "wrong passphrase")


# --- revocation, expiry, verification ------------------------------------------------------------


def test_revocation_is_visible_everywhere(app: Flask, client: FlaskClient, learner: User) -> None:
    complete_basics(learner)
    db.session.commit()
    [assertion] = assertions_of(learner)
    assert revoke(assertion, "Issued in error", now())
    assert not revoke(assertion, "again", now())
    db.session.commit()
    hosted = client.get(f"/ob/assertions/{assertion.uuid}")
    assert hosted.status_code == 410 and hosted.json["revoked"] is True
    assert hosted.headers["Cache-Control"] == "no-cache"
    assert client.get("/ob/issuers/campus/revocations").headers["Cache-Control"] == "no-cache"
    revocations = client.get("/ob/issuers/campus/revocations").json["revokedAssertions"]
    assert revocations[0] == {
        "id": f"urn:uuid:{assertion.uuid}",
        "revocationReason": "Issued in error",
    }
    assert len(revocations) == 2  # never a single entry (the official validator's bug)
    assert "Revoked" in client.get(f"/badges/a/{assertion.uuid}").get_data(as_text=True)
    result = verify.verify_text(assertion.jws, URLS, now())
    assert not result.valid and "Issued in error" in result.checks[-2].detail
    # A revoked badge can be earned again: the old assertion stays revoked.
    again = award(learner, get_badge("basics"), context(app), now(), AwardSource.BULK)
    assert again.created and again.assertion.uuid != assertion.uuid


def test_own_verifier(app: Flask, learner: User) -> None:
    award(learner, get_badge("reviewed"), context(app), now(), AwardSource.REVIEW)
    db.session.commit()
    [assertion] = assertions_of(learner)
    good = verify.verify_image(assertion.baked_png, URLS, now(), "Learner@Example.org")
    assert good.valid, good.checks
    assert verify.verify_image(assertion.baked_svg, URLS, now()).valid
    assert verify.verify_text(f"{BASE_URL}/ob/assertions/{assertion.uuid}", URLS, now()).valid
    assert not verify.verify_text(assertion.jws, URLS, now(), "someone@else.org").valid
    later = now() + timedelta(days=400)
    expired = verify.verify_text(assertion.jws, URLS, later)
    assert not expired.valid and expired.checks[-1].label == "The badge has not expired"
    header, body, signature = assertion.jws.split(".")
    payload = json.loads(jwt.utils.base64url_decode(body))
    payload["recipient"]["identity"] = ob2.recipient_hash(
        "thief@example.org", payload["recipient"]["salt"]
    )
    forged_body = jwt.utils.base64url_encode(json.dumps(payload).encode()).decode()
    tampered = verify.verify_text(f"{header}.{forged_body}.{signature}", URLS, now())
    assert not tampered.valid and tampered.checks[-1].label == "The signature is valid"
    foreign = verify.verify_text(
        "https://evil.example/ob/assertions/" + assertion.uuid, URLS, now()
    )
    assert not foreign.valid and "not fetched" in foreign.checks[0].detail
    assert not verify.verify_image(b"\x89PNG\r\n\x1a\nnothing", URLS, now()).valid


def test_key_rotation_keeps_old_badges_verifiable(
    app: Flask, client: FlaskClient, learner: User
) -> None:
    complete_basics(learner)
    [old] = assertions_of(learner)
    old_key, old_jws, old_png = old.signing_key, old.jws, old.baked_png
    result = app.test_cli_runner().invoke(args=["badges", "rotate-key"])
    assert result.exit_code == 0, result.output
    assert "1 badge(s) re-signed; 1 earlier key(s) stay published" in result.output
    db.session.expire_all()
    [stored] = assertions_of(learner)
    new_kid = stored.signing_key.kid
    assert new_kid != old_key.kid and stored.uuid == old.uuid
    # The profile names the signing key alone; the retired one stays published, owned.
    assert client.get("/ob/issuers/campus").json["publicKey"] == f"{BASE_URL}/ob/keys/{new_kid}"
    retired = client.get(f"/ob/keys/{old_key.kid}").json
    assert retired["owner"] == f"{BASE_URL}/ob/issuers/campus"
    # What the campus serves is re-signed with the new key, same recipient and dates.
    assert stored.jws != old_jws and jwt.get_unverified_header(stored.jws)["kid"] == new_kid
    assert unbake(stored.baked_png) == stored.jws == unbake(stored.baked_svg)
    for edition in (stored.jws, stored.baked_png, stored.baked_svg):
        check = (verify.verify_text if isinstance(edition, str) else verify.verify_image)(
            edition, URLS, now(), "learner@example.org"
        )
        assert check.valid and "earlier key" not in str(check.checks), check.checks
    # A copy saved before the rotation still verifies here, with a note.
    for copy in (
        verify.verify_text(old_jws, URLS, now()),
        verify.verify_image(old_png, URLS, now()),
    ):
        assert copy.valid, copy.checks
        assert "earlier key" in " ".join(c.label for c in copy.checks)
    # A retired key (even a leaked one) cannot sign anything the campus did not issue.
    payload = json.loads(jwt.utils.base64url_decode(old_jws.split(".")[1]))
    payload["recipient"]["identity"] = ob2.recipient_hash(
        "thief@example.org", payload["recipient"]["salt"]
    )
    forged = signing.sign_assertion(payload, old_key, Path(app.config["KEYS_DIR"]), None)
    forgery = verify.verify_text(forged, URLS, now())
    assert not forgery.valid and forgery.checks[-1].label == "The key belongs to the badge's issuer"
    fresh = award(learner, get_badge("reviewed"), context(app), now(), AwardSource.REVIEW)
    assert fresh.assertion.signing_key.kid == new_kid


def test_rotation_keeps_a_revoked_badge_revoked(app: Flask, learner: User) -> None:
    complete_basics(learner)
    [assertion] = assertions_of(learner)
    revoke(assertion, "Issued in error", now())
    db.session.commit()
    assert app.test_cli_runner().invoke(args=["badges", "rotate-key"]).exit_code == 0
    db.session.expire_all()
    [assertion] = assertions_of(learner)
    result = verify.verify_text(assertion.jws, URLS, now())
    assert not result.valid and result.checks[-2].label == "The badge has not been revoked"


def test_verify_page(app: Flask, client: FlaskClient, learner: User) -> None:
    complete_basics(learner)
    db.session.commit()
    [assertion] = assertions_of(learner)
    ok = client.post(
        "/badges/verify",
        data={"image": (io.BytesIO(assertion.baked_png), "b.png")},
        content_type="multipart/form-data",
    )
    assert ok.status_code == 200 and "The badge is valid" in ok.get_data(as_text=True)
    bad = client.post("/badges/verify", data={"text": assertion.jws[:-4] + "AAAA"})
    assert bad.status_code == 422 and "The badge was changed after it was signed." in bad.get_data(
        as_text=True
    )
    assert client.post("/badges/verify", data={}).status_code == 400


def test_the_address_is_hashed_as_typed(app: Flask, learner: User) -> None:
    """OB 2.0 verifiers hash the address exactly as given; so does the campus now."""
    learner.badge_email = "Alice@Example.org"
    assertion = award(
        learner, get_badge("reviewed"), context(app), now(), AwardSource.BULK
    ).assertion
    salt = assertion.recipient_salt
    typed = "sha256$" + hashlib.sha256(("Alice@Example.org" + salt).encode()).hexdigest()
    assert assertion.recipient_hash == typed
    assert verify.verify_text(assertion.jws, URLS, now(), "Alice@Example.org").valid
    assert not verify.verify_text(assertion.jws, URLS, now(), "alice@example.org").valid


def test_badges_hashed_lower_cased_before_still_verify(
    app: Flask, learner: User, monkeypatch
) -> None:
    """Earlier campus badges hashed the address lower-cased: accepted, and not re-issued."""

    def lower_cased(email: str, salt: str) -> str:
        return "sha256$" + hashlib.sha256((email.strip().lower() + salt).encode()).hexdigest()

    learner.badge_email = "Alice@Example.org"
    with monkeypatch.context() as patch:
        patch.setattr(ob2, "recipient_hash", lower_cased)
        old = award(learner, get_badge("reviewed"), context(app), now(), AwardSource.BULK)
    db.session.commit()
    exact = verify.verify_text(old.assertion.jws, URLS, now(), "alice@example.org")
    assert exact.valid and exact.checks[-1].detail == ""
    typed = verify.verify_text(old.assertion.jws, URLS, now(), "Alice@Example.org")
    assert typed.valid and "exactly as alice@example.org" in typed.checks[-1].detail
    assert reissue_to_current_email(learner, context(app), now()) == 0


def _unsigned_jws(payload: object) -> str:
    body = payload if isinstance(payload, str) else json.dumps(payload)
    return jwt.api_jws.PyJWS().encode(body.encode(), "not-a-campus-key-" * 4, algorithm="HS256")


@pytest.mark.parametrize(
    "payload",
    [
        {"verification": "https://campus.test/ob/keys/x"},
        {"verification": ["SignedBadge", {"creator": 1}]},
        {"verification": 42},
        {"verification": None},
        {"verification": {"creator": {"id": ["nested", {"garbage": None}]}}},
        {"verification": {"creator": None}, "recipient": "x", "expires": 7, "id": []},
        ["not", "an", "object"],
        "null",
        "[" * 5000 + "]" * 5000,
        "not json at all",
    ],
)
def test_verify_page_explains_malformed_badges(
    app: Flask, client: FlaskClient, payload: object
) -> None:
    """Public and reachable without logging in: a pasted JWS is anyone's JSON, never a 500."""
    if isinstance(payload, dict):
        payload = {"@context": ob2.CONTEXT, "type": "Assertion", **payload}
    response = client.post(
        "/badges/verify",
        data={"text": _unsigned_jws(payload), "email": "learner@example.org"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "The badge is not valid" in page
    assert (
        "not one this campus published" in page
        or "not a valid signed badge" in page
        or "not an assertion" in page
    )


# --- reviews ---------------------------------------------------------------------------------


def test_review_badge_application_flow(app: Flask, make_user) -> None:
    learner_id = make_user("tutor@example.org", {Role.TUTOR_TEACHER})
    make_user("reviewer@example.org", {Role.REVIEWER})
    learner, reviewer = app.test_client(), app.test_client()
    for c, email in ((learner, "tutor@example.org"), (reviewer, "reviewer@example.org")):
        c.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        c.post("/auth/login", data={"email": email, "password": PASSWORD})
    assert learner.get("/badges/reviews").status_code == 403
    page = learner.get("/badges/reviewed").get_data(as_text=True)
    assert "Why don't I have it yet?" in page and "Apply with evidence" in page
    sent = learner.post(
        "/badges/reviewed",
        data={
            "narrative": "Three workshops for my colleagues, with feedback.",
            "link": "https://example.org/report",
        },
    )
    assert sent.status_code == 302
    again = learner.post(
        "/badges/reviewed",
        data={
            "narrative": "Three workshops for my colleagues, with feedback.",
            "link": "https://example.org/report",
        },
    )
    assert "still waiting for review" in again.get_data(as_text=True)
    with app.app_context():
        application_id = db.session.execute(db.select(BadgeApplication.id)).scalar_one()
    queue = reviewer.get("/badges/reviews").get_data(as_text=True)
    assert "Three workshops" in queue
    returned = reviewer.post(
        f"/badges/reviews/applications/{application_id}", data={"send_back": "1", "feedback": ""}
    )
    assert returned.status_code == 302  # empty feedback is refused with a message
    with app.app_context():
        assert db.session.get(BadgeApplication, application_id).status == "submitted"
    reviewer.post(
        f"/badges/reviews/applications/{application_id}",
        data={"accept": "1", "feedback": "Well done."},
    )
    with app.app_context():
        application = db.session.get(BadgeApplication, application_id)
        assert application.status == "accepted" and application.assertion_id is not None
        assertion = db.session.get(Assertion, application.assertion_id)
        assert assertion.user_id == learner_id and assertion.source == "review"
        assert assertion.evidence == [
            {
                "narrative": "Three workshops for my colleagues, with feedback.",
                "id": "https://example.org/report",
            }
        ]
        assert assertion.expires_at is not None
    assert "You hold this badge" in learner.get("/badges/reviewed").get_data(as_text=True)


def test_reviewer_cannot_review_own_evidence(app: Flask, make_user) -> None:
    with app.app_context():
        user = db.session.get(User, make_user("both@example.org", {Role.REVIEWER}))
        application = apply_for_badge(
            user,
            get_badge("reviewed"),
            "My own work, described well.",
            "https://example.org",
            None,
            UploadRules(Path("/nonexistent"), ("pdf",), 10),
            now(),
        )
        with pytest.raises(BadgeError, match="your own evidence"):
            accept_application(application, user, "", context(app), now())


@pytest.mark.parametrize(
    ("narrative", "link", "message"),
    [
        ("Too short.", "https://example.org", "at least 20 characters"),
        ("Long enough narrative for the badge.", None, "a link or a file"),
        ("Long enough narrative for the badge.", "example.org/work", "full web address"),
        # Module evidence's limits hold here too: the column takes 2000 characters.
        ("Long enough narrative for the badge.", "https://example.org/" + "a" * 2000, "too long"),
        ("x" * 10_001, "https://example.org", "at most 10000 characters"),
    ],
)
def test_badge_applications_follow_the_module_evidence_rules(
    app: Flask, make_user, narrative: str, link: str | None, message: str
) -> None:
    with app.app_context():
        user = db.session.get(User, make_user())
        with pytest.raises(BadgeError, match=message):
            apply_for_badge(
                user,
                get_badge("reviewed"),
                narrative,
                link,
                None,
                UploadRules(Path("/nonexistent"), ("pdf",), 10),
                now(),
            )
        assert db.session.execute(db.select(BadgeApplication)).first() is None


def test_accepted_module_evidence_completes_the_module(app: Flask, make_user) -> None:
    with app.app_context():
        learner = db.session.get(User, make_user("t@example.org"))
        reviewer = db.session.get(User, make_user("r@example.org", {Role.REVIEWER}))
        db.session.add(
            PathCompletion(
                user_id=learner.id, path_id=paths.get_path("basics").id, completed_at=now()
            )
        )
        module = paths.get_module(paths.get_path("advanced"), "show-your-work")
        submission = submit_evidence(
            learner,
            module,
            "My plan, my workshop and feedback.",
            "https://example.org/x",
            None,
            UploadRules(Path("/nonexistent"), ("pdf",), 10),
            now(),
        )
        result = review_module_evidence(submission, reviewer, True, "Good", now())
        assert result.created and result.completion.source == "review"
        assert submission.status == "accepted"


# --- admin: bulk award and revoke ------------------------------------------------------------------


def test_bulk_award_with_preview(app: Flask, make_user, make_org) -> None:
    make_user("root@campus.fi", {Role.ADMIN})
    holder = make_user("holder@example.org")
    make_user("new@example.org")
    with app.app_context():
        award(
            db.session.get(User, holder),
            get_badge("reviewed"),
            context(app),
            now(),
            AwardSource.BULK,
        )
        db.session.commit()
    client = app.test_client()
    client.post("/auth/login", data={"email": "root@campus.fi", "password": PASSWORD})
    csv_text = "email,narrative\nNEW@example.org,Led the spring workshops\nholder@example.org,x\nnobody@example.org,y\nnot-an-email,z\nnew@example.org,dup\n"
    preview = client.post(
        "/badges/admin/reviewed/bulk-award",
        data={"csv_file": (io.BytesIO(csv_text.encode()), "a.csv"), "preview": "1"},
        content_type="multipart/form-data",
        headers={"Accept-Language": "en"},
    )
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "<strong>1</strong> will be awarded" in page
    with app.app_context():
        assert (
            db.session.execute(db.select(db.func.count()).select_from(Assertion)).scalar() == 1
        )  # preview awards nothing
    confirmed = client.post(
        "/badges/admin/reviewed/bulk-award", data={"csv_text": csv_text, "confirm": "1"}
    )
    assert confirmed.status_code == 302
    with app.app_context():
        new = db.session.execute(
            db.select(Assertion).join(User).where(User.email == "new@example.org")
        ).scalar_one()
        assert new.evidence == [{"narrative": "Led the spring workshops"}] and new.source == "bulk"


def test_bulk_revoke_is_all_or_nothing(app: Flask, learner: User) -> None:
    a = award(learner, get_badge("reviewed"), context(app), now(), AwardSource.BULK).assertion
    b = award(learner, get_badge("basics"), context(app), now(), AwardSource.BULK).assertion
    db.session.commit()
    count, unknown = revoke_many([a.uuid, "nope"], "Wrong list", now())
    assert unknown == ["nope"]
    db.session.rollback()
    assert db.session.get(Assertion, a.id).revoked_at is None
    count, unknown = revoke_many([a.uuid, b.uuid], "Wrong list", now())
    assert (count, unknown) == (2, [])


def test_badge_admin_pages_need_admin(app: Flask, client: FlaskClient, auth, make_user) -> None:
    make_user()
    auth.login()
    assert client.get("/badges/admin/basics").status_code == 403
    assert client.get("/badges/admin/revoke").status_code == 403
    assert (
        client.post("/badges/admin/basics/bulk-award", data={"csv_text": "a@b.c"}).status_code
        == 403
    )
    assert client.get("/badges/").status_code == 200
    assert client.get("/badges/backpack").status_code == 200


def test_an_organisation_can_issue_in_its_own_name(
    app: Flask, client: FlaskClient, make_user, make_org, tmp_path: Path
) -> None:
    badges = tmp_path / "badges"
    shutil.copytree(TEST_BADGES, badges)
    manifest = badges / "reviewed/badge.toml"
    manifest.write_text(
        manifest.read_text().replace('award = "review"', 'award = "review"\nissuer = "org:omnia"')
    )
    runner = app.test_cli_runner()
    missing = runner.invoke(args=["content", "sync", "--badges-dir", str(badges)])
    assert missing.exit_code == 1
    assert "badges/reviewed/badge.toml: organisation `omnia` does not exist" in missing.output
    with app.app_context():
        assert get_badge("reviewed").issuer.slug == "campus"  # nothing changed
    make_org("Omnia", slug="omnia")
    synced = runner.invoke(args=["content", "sync", "--badges-dir", str(badges)])
    assert synced.exit_code == 0, synced.output
    user_id = make_user("x@example.org")
    with app.app_context():
        badge = get_badge("reviewed")
        assert (badge.issuer.slug, badge.issuer.name) == ("org-omnia", "Omnia")
        result = award(
            db.session.get(User, user_id), badge, context(app), now(), AwardSource.REVIEW
        )
        db.session.commit()
        assertion = result.assertion
        assert assertion.signing_key.issuer.slug == "org-omnia"
        assert verify.verify_text(assertion.jws, URLS, now()).valid
        revoke(assertion, "Mistake", now())
        db.session.commit()
        uuid, kid = assertion.uuid, assertion.signing_key.kid
    issuer = client.get("/ob/issuers/org-omnia").json
    assert issuer["name"] == "Omnia" and issuer["publicKey"] == f"{BASE_URL}/ob/keys/{kid}"
    assert client.get("/ob/badges/reviewed").json["issuer"] == f"{BASE_URL}/ob/issuers/org-omnia"
    revoked_ids = [
        e["id"] for e in client.get("/ob/issuers/org-omnia/revocations").json["revokedAssertions"]
    ]
    assert f"urn:uuid:{uuid}" in revoked_ids
    assert f"urn:uuid:{uuid}" not in [
        e["id"] for e in client.get("/ob/issuers/campus/revocations").json["revokedAssertions"]
    ]


def test_an_expired_badge_can_be_earned_again(app: Flask, learner: User) -> None:
    badge = get_badge("reviewed")  # valid for 365 days
    first = award(learner, badge, context(app), now(), AwardSource.REVIEW).assertion
    same = award(learner, badge, context(app), now() + timedelta(days=364), AwardSource.REVIEW)
    assert not same.created
    renewed = award(learner, badge, context(app), now() + timedelta(days=400), AwardSource.REVIEW)
    assert renewed.created and renewed.assertion.id != first.id
    assert status_of(first, now() + timedelta(days=400)) == "expired"
    assert status_of(renewed.assertion, now() + timedelta(days=400)) == "valid"
    assert len(assertions_of(learner)) == 2


def test_reviewers_review_only_their_own_organisation(app: Flask, make_user, make_org) -> None:
    home, other = make_org("Home"), make_org("Other")
    learner_id = make_user("l@home.fi", organisation_id=home)
    make_user("rev@other.fi", {Role.REVIEWER}, organisation_id=other)
    make_user("rev@home.fi", {Role.REVIEWER}, organisation_id=home)
    with app.app_context():
        application = apply_for_badge(
            db.session.get(User, learner_id),
            get_badge("reviewed"),
            "Evidence of three workshops.",
            "https://example.org",
            None,
            UploadRules(Path("/nonexistent"), ("pdf",), 10),
            now(),
        )
        db.session.commit()
        application_id = application.id
    outsider, insider = app.test_client(), app.test_client()
    outsider.post("/auth/login", data={"email": "rev@other.fi", "password": PASSWORD})
    insider.post("/auth/login", data={"email": "rev@home.fi", "password": PASSWORD})
    assert "Evidence of three workshops" not in outsider.get("/badges/reviews").get_data(
        as_text=True
    )
    outsider.post(f"/badges/reviews/applications/{application_id}", data={"accept": "1"})
    with app.app_context():
        assert db.session.get(BadgeApplication, application_id).status == "submitted"
    assert "Evidence of three workshops" in insider.get("/badges/reviews").get_data(as_text=True)
    insider.post(f"/badges/reviews/applications/{application_id}", data={"accept": "1"})
    with app.app_context():
        assert db.session.get(BadgeApplication, application_id).status == "accepted"


def test_drawn_artwork_has_finnish_letters() -> None:
    """Pillow's built-in font draws å/ä/ö as boxes; the badge font must have them."""
    from campus.badges import artwork

    font = artwork.badge_font(28)
    if not hasattr(font, "path"):
        pytest.skip(
            "no TrueType font with Finnish letters on this machine (apt-get install fonts-dejavu-core)"
        )
    missing = font.getmask("\uffff").getbbox()  # a code point no font has: the "missing" box
    for letter in "äöåÄÖÅ–":
        assert font.getmask(letter).getbbox() != missing, letter
