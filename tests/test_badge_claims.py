"""Badges go to verified addresses only: held awards, claims for people without an account, the
admin's single award and the bulk award's claims (issue 12)."""

from __future__ import annotations

import io
from collections.abc import Callable
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from campus.auth.models import Role
from campus.auth.models import User
from campus.badges.applications import accept_application
from campus.badges.applications import apply_for_badge
from campus.badges.awarding import award
from campus.badges.claim_models import BadgeClaim
from campus.badges.claims import award_to_address
from campus.badges.claims import issue_waiting_badges
from campus.badges.issuers import BadgeError
from campus.badges.issuers import IssuingContext
from campus.badges.issuers import get_badge
from campus.badges.models import Assertion
from campus.badges.models import AwardSource
from campus.extensions import db
from campus.mailing import MAIL_SEND
from campus.outbox import services as outbox
from campus.outbox.models import OutboxItem
from campus.paths import services as paths
from campus.paths.kinds.quiz import submit_quiz
from campus.paths.kinds.read import mark_read
from campus.paths.kinds.reflection import submit_reflection
from campus.paths.uploads import UploadRules
from tests.conftest import PASSWORD
from tests.conftest import now
from tests.test_badges import RIGHT

ADMIN = "root@campus.fi"


def context(app: Flask) -> IssuingContext:
    return IssuingContext.from_config(app.config)


def unverified(make_user: Callable[..., int], email: str = "learner@example.org") -> int:
    user_id = make_user(email)
    user = db.session.get(User, user_id)
    user.email_verified_at = None
    db.session.commit()
    return user_id


def slugs(user_id: int) -> list[str]:
    return sorted(
        a.badge_class.slug
        for a in db.session.execute(db.select(Assertion).where(Assertion.user_id == user_id))
        .scalars()
        .all()
    )


def claims() -> list[BadgeClaim]:
    return list(db.session.execute(db.select(BadgeClaim).order_by(BadgeClaim.id)).scalars())


def no_notification_mail(app: Flask, *user_ids: int) -> None:
    """Holders hear of awards by mail (campus.notifications); these tests count claim mails."""
    from campus.notifications.models import Delivery
    from campus.notifications.services import save_setting

    with app.app_context():
        for user_id in user_ids:
            save_setting(user_id, Delivery.OFF, False, now())
        db.session.commit()


def claim_mails() -> list[dict]:
    return [
        item.payload
        for item in db.session.execute(
            db.select(OutboxItem).where(OutboxItem.kind == MAIL_SEND).order_by(OutboxItem.id)
        ).scalars()
    ]


def delivered(app: Flask) -> list[EmailMessage]:
    """The messages written to MAIL_DIR (the outbox keeps only `to` and `subject` once sent)."""
    folder = Path(app.config["MAIL_DIR"])
    return [
        message_from_bytes(path.read_bytes(), policy=default)  # type: ignore[misc]
        for path in sorted(folder.glob("*.eml"))
    ]


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    return text.get_content(), html.get_content() if html is not None else ""


@pytest.fixture(autouse=True)
def mail_dir(app: Flask, tmp_path: Path) -> None:
    app.config["MAIL_DIR"] = str(tmp_path / "mail")


def login(client: FlaskClient, email: str) -> None:
    assert client.post("/auth/login", data={"email": email, "password": PASSWORD}).status_code in (
        200,
        302,
    )


@pytest.fixture
def admin(app: Flask, client: FlaskClient, make_user) -> FlaskClient:
    make_user(ADMIN, {Role.ADMIN})
    login(client, ADMIN)
    return client


# --- held awards -------------------------------------------------------------------------------


def test_an_unverified_learner_is_told_why_and_gets_the_badge_once_verified(
    app: Flask, client: FlaskClient, make_user, app_ctx: None
) -> None:
    learner_id = unverified(make_user)
    learner = db.session.get(User, learner_id)
    # A review badge is held too, so that the path badge completes the milestone on issue.
    held = award(learner, get_badge("reviewed"), context(app), now(), AwardSource.REVIEW)
    assert held.held and held.assertion is None and not held.created
    db.session.commit()

    path = paths.get_path("basics")
    mark_read(learner, paths.get_module(path, "welcome"), now())
    submit_quiz(learner, paths.get_module(path, "check-quiz"), RIGHT, now())
    submit_reflection(
        learner,
        paths.get_module(path, "my-thoughts"),
        "Reflection long enough to count here, really.",
        now(),
    )
    db.session.commit()
    [announcement] = outbox.run_committed(now())
    assert "Confirm your e-mail address to receive the badge" in announcement.message
    assert "Basics" in announcement.message
    db.session.commit()
    assert slugs(learner_id) == []
    assert sorted(c.badge_class.slug for c in claims()) == ["basics", "reviewed"]
    assert all(c.user_id == learner_id and c.is_open for c in claims())

    login(client, "learner@example.org")
    backpack = client.get("/badges/backpack").get_data(as_text=True)
    assert "2 badges wait until you confirm your e-mail address" in backpack
    detail = client.get("/badges/basics").get_data(as_text=True)
    assert "waits until you confirm your e-mail address" in detail

    assert issue_waiting_badges(learner, context(app), now()) == []  # still unverified
    learner.email_verified_at = now()
    issued = issue_waiting_badges(learner, context(app), now())
    assert sorted(a.badge_class.slug for a in issued) == ["basics", "both", "reviewed"]
    db.session.commit()
    assert slugs(learner_id) == ["basics", "both", "reviewed"]
    assert issue_waiting_badges(learner, context(app), now()) == []  # each exactly once
    assert slugs(learner_id) == ["basics", "both", "reviewed"]
    assert all(not c.is_open and c.issued_assertion_id is not None for c in claims())
    assert "wait until you confirm" not in client.get("/badges/backpack").get_data(as_text=True)


def test_an_accepted_application_of_an_unverified_learner_waits(
    app: Flask, make_user, app_ctx: None
) -> None:
    learner_id = unverified(make_user, "tutor@example.org")
    reviewer = db.session.get(User, make_user("reviewer@example.org", {Role.REVIEWER}))
    learner = db.session.get(User, learner_id)
    application = apply_for_badge(
        learner,
        get_badge("reviewed"),
        "Three workshops for my colleagues, with feedback.",
        "https://example.org/report",
        None,
        UploadRules.from_config(app.config),
        now(),
    )
    result = accept_application(application, reviewer, "Good", context(app), now())
    assert result.held and application.status == "accepted" and application.assertion_id is None
    [claim] = claims()
    assert claim.source == "review" and claim.evidence[0]["narrative"].startswith("Three")


# --- the admin's single award ------------------------------------------------------------------


def test_award_to_an_unknown_address_mails_a_claim_issued_on_registration(
    app: Flask, admin: FlaskClient, make_user
) -> None:
    answer = admin.post(
        "/badges/admin/reviewed/award-one",
        data={"email": " New.Person@Example.org ", "narrative": "Ran the spring workshops"},
        follow_redirects=True,
    )
    assert answer.status_code == 200
    assert "has no confirmed account yet" in answer.get_data(as_text=True)
    with app.app_context():
        [claim] = claims()
        assert claim.email == "new.person@example.org" and claim.user_id is None
        assert claim.claim_mail_sent_at is not None and claim.created_by_id is not None
        [mail] = claim_mails()
        assert mail["to"] == "new.person@example.org"
        assert mail["subject"] == "You have been awarded the badge “Reviewed work”"
    [message] = delivered(app)
    text, html = parts(message)
    assert message["To"] == "new.person@example.org"
    assert "https://campus.test/auth/register?email=new.person@example.org" in text
    assert "Ran the spring workshops" in text and "Create an account" in html
    assert "extends" not in html and html.count("<h1") == 1
    with app.app_context():
        assert db.session.execute(db.select(Assertion)).first() is None
    page = admin.get("/badges/admin/reviewed").get_data(as_text=True)
    assert "1 award waits for a confirmed e-mail address" in page
    assert "new.person@example.org" in page

    # The person registers with that address (unverified first), then verifies it.
    with app.app_context():
        person_id = unverified(make_user, "new.person@example.org")
        person = db.session.get(User, person_id)
        assert issue_waiting_badges(person, context(app), now()) == []
        person.email_verified_at = now()
        [assertion] = issue_waiting_badges(person, context(app), now())
        db.session.commit()
        assert assertion.badge_class.slug == "reviewed" and assertion.source == "bulk"
        assert assertion.evidence == [{"narrative": "Ran the spring workshops"}]
        assert claims()[0].issued_assertion_id == assertion.id
        assert issue_waiting_badges(person, context(app), now()) == []
    assert "waits for a confirmed" not in admin.get("/badges/admin/reviewed").get_data(as_text=True)


def test_award_to_a_verified_account_is_immediate(
    app: Flask, admin: FlaskClient, make_user
) -> None:
    person_id = make_user("known@example.org")
    no_notification_mail(app, person_id)
    answer = admin.post(
        "/badges/admin/reviewed/award-one",
        data={"email": "Known@example.org", "narrative": ""},
        follow_redirects=True,
    )
    assert "The badge was awarded to Known@example.org." in answer.get_data(as_text=True)
    again = admin.post(
        "/badges/admin/reviewed/award-one",
        data={"email": "known@example.org"},
        follow_redirects=True,
    )
    assert "holds this badge already" in again.get_data(as_text=True)
    with app.app_context():
        assert slugs(person_id) == ["reviewed"] and claims() == [] and claim_mails() == []


def test_award_to_an_unverified_account_holds_and_mails_once(
    app: Flask, admin: FlaskClient, make_user
) -> None:
    with app.app_context():
        person_id = unverified(make_user, "slow@example.org")
    for _ in range(2):
        admin.post("/badges/admin/reviewed/award-one", data={"email": "slow@example.org"})
    with app.app_context():
        [claim] = claims()
        assert claim.user_id == person_id
        [mail] = claim_mails()  # never two mails for the same open claim
    [message] = delivered(app)
    text, _html = parts(message)
    assert "Log in and confirm this e-mail address" in text and "/auth/register" not in text


def test_the_single_award_form_checks_its_input(app: Flask, admin: FlaskClient) -> None:
    bad = admin.post("/badges/admin/reviewed/award-one", data={"email": "not-an-address"})
    assert bad.status_code == 400 and "Award to one person" in bad.get_data(as_text=True)
    assert admin.post("/badges/admin/nope/award-one", data={"email": "a@b.fi"}).status_code == 404
    with app.app_context():
        assert claims() == [] and claim_mails() == []


def test_a_failed_award_changes_nothing(app: Flask, make_user, monkeypatch) -> None:
    from campus.badges import awarding
    from campus.badges.baking import BakingError

    def broken_bake(image: bytes, payload: str) -> bytes:
        raise BakingError("disk full")

    def award_one(email: str) -> None:
        award_to_address(
            email, get_badge("reviewed"), context(app), now(), AwardSource.BULK, [], None, "fi"
        )

    make_user("ok@example.org")
    with app.test_request_context(headers={"Accept-Language": "en"}):
        basics = get_badge("basics")
        basics.is_retired = True
        with pytest.raises(BadgeError, match="no longer awarded"):
            award_to_address(
                "x@example.org", basics, context(app), now(), AwardSource.BULK, [], None, None
            )
        db.session.rollback()
        assert claims() == [] and claim_mails() == []

        award_one("later@example.org")  # a claim and its mail
        db.session.commit()
        monkeypatch.setattr(awarding, "bake", broken_bake)
        with pytest.raises(BakingError):
            award_one("ok@example.org")  # a verified account: signing fails
        db.session.rollback()
        person = db.session.execute(
            db.select(User).where(User.email == "ok@example.org")
        ).scalar_one()
        person.email = "later@example.org"  # now reads the claim's address: issuing fails
        with pytest.raises(BakingError):
            issue_waiting_badges(person, context(app), now())
        db.session.rollback()
        [claim] = claims()
        assert claim.is_open and claim.open_key is not None and claim.user_id is None
        assert db.session.execute(db.select(Assertion)).first() is None
        assert len(claim_mails()) == 1  # the claim's own, from before


# --- bulk ------------------------------------------------------------------------------------


def test_bulk_award_makes_claims_for_unknown_and_unverified_addresses(
    app: Flask, admin: FlaskClient, make_user
) -> None:
    no_notification_mail(app, make_user("member@example.org"))
    with app.app_context():
        unverified(make_user, "quiet@example.org")
    csv_text = (
        "email,narrative\nmember@example.org,a\nquiet@example.org,b\n"
        "nobody@example.org,c\nOther@example.org,d\nbroken,e\n"
    )
    preview = admin.post(
        "/badges/admin/reviewed/bulk-award",
        data={"csv_file": (io.BytesIO(csv_text.encode()), "a.csv"), "preview": "1"},
        content_type="multipart/form-data",
    )
    page = preview.get_data(as_text=True)
    assert "<strong>1</strong> will be awarded" in page
    assert "<strong>2</strong> people have no account: they get a message" in page
    assert "<strong>1</strong> person has not confirmed their e-mail address" in page
    assert "<strong>0</strong> people were already sent this badge to claim" in page
    with app.app_context():
        assert claims() == [] and claim_mails() == []  # a preview changes nothing
    done = admin.post(
        "/badges/admin/reviewed/bulk-award",
        data={"csv_text": csv_text, "confirm": "1"},
        follow_redirects=True,
    )
    text = done.get_data(as_text=True)
    assert "1 badge was awarded." in text
    assert "3 people were sent a message" in text
    with app.app_context():
        assert sorted(c.email for c in claims()) == [
            "nobody@example.org",
            "other@example.org",
            "quiet@example.org",
        ]
        assert sorted(m["to"] for m in claim_mails()) == [
            "nobody@example.org",
            "other@example.org",
            "quiet@example.org",
        ]
    # The same list again: the claims wait already, so no second mail.
    again = admin.post(
        "/badges/admin/reviewed/bulk-award",
        data={"csv_file": (io.BytesIO(csv_text.encode()), "a.csv"), "preview": "1"},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "<strong>3</strong> people were already sent this badge to claim" in again
    admin.post("/badges/admin/reviewed/bulk-award", data={"csv_text": csv_text, "confirm": "1"})
    with app.app_context():
        assert len(claims()) == 3 and len(claim_mails()) == 3


# --- access and cancelling ---------------------------------------------------------------------


def test_only_admins_award_and_cancel(app: Flask, client: FlaskClient, auth, make_user) -> None:
    with app.test_request_context():
        award_to_address(
            "x@example.org",
            get_badge("reviewed"),
            context(app),
            now(),
            AwardSource.BULK,
            [],
            None,
            None,
        )
        db.session.commit()
        claim_id = claims()[0].id
    make_user("learner@example.org", {Role.REVIEWER, Role.ORG_ADMIN})
    auth.login()
    assert (
        client.post("/badges/admin/reviewed/award-one", data={"email": "y@example.org"}).status_code
        == 403
    )
    assert client.post(f"/badges/admin/claims/{claim_id}/cancel").status_code == 403
    with app.app_context():
        assert len(claims()) == 1 and claims()[0].is_open


def test_cancelling_a_claim_stops_its_issue(app: Flask, admin: FlaskClient, make_user) -> None:
    admin.post("/badges/admin/reviewed/award-one", data={"email": "gone@example.org"})
    with app.app_context():
        claim_id = claims()[0].id
    assert "Cancel the claim" in admin.get("/badges/admin/reviewed").get_data(as_text=True)
    done = admin.post(f"/badges/admin/claims/{claim_id}/cancel", follow_redirects=True)
    assert "The claim was cancelled" in done.get_data(as_text=True)
    assert "gone@example.org" not in done.get_data(as_text=True)
    again = admin.post(f"/badges/admin/claims/{claim_id}/cancel", follow_redirects=True)
    assert "no longer open" in again.get_data(as_text=True)
    assert admin.post("/badges/admin/claims/999/cancel").status_code == 404
    with app.app_context():
        person = db.session.get(User, make_user("gone@example.org"))
        assert issue_waiting_badges(person, context(app), now()) == []
        assert slugs(person.id) == [] and claims()[0].cancelled_at is not None
    # A new award after a cancel opens a new claim (and mails again).
    admin.post("/badges/admin/reviewed/award-one", data={"email": "other@example.org"})
    with app.app_context():
        assert [c.is_open for c in claims()] == [False, True]
