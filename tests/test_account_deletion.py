"""Deleting one's own account (`/auth/account/delete`): personal data goes, anonymous counts stay,
badges stay verifiable or are revoked as the person chooses."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import PASSWORD
from conftest import now
from flask import Flask
from flask import current_app
from flask.testing import FlaskClient

from campus.assessments.models import PlanItem
from campus.auth import deletion
from campus.auth import reset
from campus.auth.models import LoginFailure
from campus.auth.models import LoginSession
from campus.auth.models import PasswordResetRequest
from campus.auth.models import Role
from campus.auth.models import User
from campus.auth.services import authenticate
from campus.auth.services import find_user_by_email
from campus.badges.awarding import award
from campus.badges.issuers import IssuingContext
from campus.badges.issuers import get_badge
from campus.badges.models import ApplicationStatus
from campus.badges.models import Assertion
from campus.badges.models import AwardSource
from campus.badges.models import BadgeApplication
from campus.extensions import db
from campus.lti.models import LtiGradeTarget
from campus.lti.models import LtiIdentity
from campus.lti.models import LtiPlatform
from campus.network.models import Group
from campus.network.models import GroupKind
from campus.network.models import GroupMembership
from campus.outbox.models import OutboxItem
from campus.paths import services as paths
from campus.paths.models import Completion
from campus.paths.models import CompletionSource
from campus.paths.models import EvidenceStatus
from campus.paths.models import EvidenceSubmission
from campus.paths.models import ReflectionAnswer

URL = "/auth/account/delete"
ME = "me@example.org"
OTHER = "other@example.org"


def keep_or_revoke(choice: str, password: str = PASSWORD, **extra: str) -> dict[str, str]:
    return {"badges": choice, "password": password, "confirm": "y", **extra}


def _upload(app: Flask, name: str) -> str:
    folder = Path(app.config["UPLOAD_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(b"%PDF-1.4 " + name.encode())
    return name


def give_rows(app: Flask, user_id: int, tag: str) -> None:
    """One of each personal row, and a badge, for `user_id` (`tag` marks texts and files)."""
    with app.app_context():
        user = db.session.get(User, user_id)
        path = paths.get_path("basics")
        module = paths.get_module(path, "my-thoughts")
        moment = now()
        db.session.add_all(
            [
                ReflectionAnswer(
                    user_id=user_id,
                    module_id=module.id,
                    text=f"thoughts {tag}",
                    submitted_at=moment,
                ),
                Completion(
                    user_id=user_id,
                    module_id=module.id,
                    completed_at=moment,
                    source=CompletionSource.SELF,
                ),
                EvidenceSubmission(
                    user_id=user_id,
                    module_id=module.id,
                    description=f"reviewed evidence {tag}",
                    link_url=f"https://example.org/{tag}",
                    file_name="plan.pdf",
                    stored_name=_upload(app, f"{tag}-reviewed.pdf"),
                    file_size=20,
                    status=EvidenceStatus.ACCEPTED,
                    submitted_at=moment,
                    reviewed_at=moment,
                    feedback=f"well done {tag}",
                ),
                EvidenceSubmission(
                    user_id=user_id,
                    module_id=module.id,
                    description=f"waiting evidence {tag}",
                    file_name="draft.pdf",
                    stored_name=_upload(app, f"{tag}-waiting.pdf"),
                    file_size=20,
                    submitted_at=moment,
                ),
                BadgeApplication(
                    user_id=user_id,
                    badge_class_id=get_badge("basics").id,
                    narrative=f"my narrative {tag}",
                    status=ApplicationStatus.RETURNED,
                    submitted_at=moment,
                    reviewed_at=moment,
                    feedback=f"try again {tag}",
                ),
                PlanItem(user_id=user_id, path_id=path.id, reason=f"plan {tag}"),
                LoginFailure(email=user.email, remote_addr="192.0.2.1", failed_at=moment),
                PasswordResetRequest(
                    email=user.email, remote_addr="192.0.2.1", requested_at=moment
                ),
                OutboxItem(kind="mail.send", payload={"to": user.email, "text": tag}),
                OutboxItem(kind="badges.path-award", payload={}, user_id=user_id),
            ]
        )
        group = Group(kind=GroupKind.DIGI, name=f"Digi {tag}", organisation_id=user.organisation_id)
        platform = LtiPlatform(
            name=f"Moodle {tag}",
            issuer=f"https://lms-{tag}.example",
            client_id="client",
            auth_login_url="https://lms.example/login",
            auth_token_url="https://lms.example/token",
            deployment_ids=["1"],
            organisation_id=user.organisation_id,
        )
        db.session.add_all([group, platform])
        db.session.flush()
        db.session.add_all(
            [
                GroupMembership(
                    group_id=group.id,
                    user_id=user_id,
                    organisation_id=user.organisation_id,
                    responsibilities=f"chairs {tag}",
                ),
                LtiIdentity(platform_id=platform.id, sub=f"sub-{tag}", user_id=user_id),
                LtiGradeTarget(
                    platform_id=platform.id, user_id=user_id, target="t", sub=f"sub-{tag}", ags={}
                ),
            ]
        )
        award(
            user,
            get_badge("basics"),
            IssuingContext.from_config(app.config),
            now(),
            AwardSource.BULK,
        )
        db.session.commit()


def count(model: type, *conditions: object) -> int:
    return db.session.execute(
        db.select(db.func.count()).select_from(model).where(*conditions)
    ).scalar_one()


@pytest.fixture
def people(app: Flask, make_user: Callable[..., int]) -> tuple[int, int]:
    me = make_user(ME, name="Maija Meikäläinen")
    other = make_user(OTHER, name="Olli Other")
    give_rows(app, me, "mine")
    give_rows(app, other, "theirs")
    with app.app_context():
        user = db.session.get(User, me)
        user.badge_email, user.locale = "maija@home.example", "en"
        db.session.commit()
    return me, other


def test_visitors_are_sent_to_log_in(client: FlaskClient) -> None:
    response = client.get(URL)
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_the_page_explains_and_links_the_data_download(client: FlaskClient, auth, people) -> None:  # type: ignore[no-untyped-def]
    auth.login(ME)
    page = client.get(URL)
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert text.count("<h1") == 1 and "Delete your account" in text
    assert 'href="/auth/account/data.zip"' in text
    assert "You have 1 valid badge." in text
    assert "Keep my badges verifiable" in text and "Revoke my badges" in text
    assert 'type="password"' in text and 'type="checkbox"' in text


def test_deleting_keeps_counts_and_verifiable_badges_and_erases_the_rest(
    app: Flask, client: FlaskClient, auth, people
) -> None:  # type: ignore[no-untyped-def]
    me, other = people
    auth.login(ME)
    elsewhere = app.test_client()  # a second browser of the same person
    assert (
        elsewhere.post("/auth/login", data={"email": ME, "password": PASSWORD}).status_code == 302
    )
    upload_dir = Path(app.config["UPLOAD_DIR"])

    response = client.post(URL, data=keep_or_revoke("keep"), headers={"Accept-Language": "en"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/")
    assert client.get("/dashboard").status_code == 302  # this browser is logged out …
    assert elsewhere.get("/dashboard").status_code == 302  # … and every other one

    with app.app_context():
        user = db.session.get(User, me)
        assert user.name == deletion.DELETED_NAME == "Deleted account"
        assert user.email == f"deleted-{me}@invalid"
        assert user.password_hash == deletion.UNUSABLE_PASSWORD
        assert (user.badge_email, user.locale, user.email_verified_at) == (None, None, None)
        assert user.is_active_account is False and user.deleted_at is not None
        assert user.roles == {Role.LEARNER} and user.role_rows == []
        mine = User.id == me
        assert count(LoginSession, LoginSession.user_id == me) == 0
        assert count(ReflectionAnswer, ReflectionAnswer.user_id == me) == 0
        assert count(PlanItem, PlanItem.user_id == me) == 0
        assert count(GroupMembership, GroupMembership.user_id == me) == 0
        assert count(LtiIdentity, LtiIdentity.user_id == me) == 0
        assert count(LtiGradeTarget, LtiGradeTarget.user_id == me) == 0
        assert count(LoginFailure, LoginFailure.email == ME) == 0
        assert count(PasswordResetRequest, PasswordResetRequest.email == ME) == 0
        assert count(OutboxItem, OutboxItem.user_id == me) == 0
        remaining = db.session.execute(db.select(OutboxItem).order_by(OutboxItem.id)).scalars()
        assert [(item.user_id, item.payload.get("to")) for item in remaining] == [
            (None, OTHER),
            (other, None),
            (other, OTHER),  # their "you earned a badge" notification
        ]
        # The reviewed evidence stays as a count, without its content; the waiting one goes.
        (evidence,) = db.session.execute(
            db.select(EvidenceSubmission).where(EvidenceSubmission.user_id == me)
        ).scalars()
        assert evidence.status == EvidenceStatus.ACCEPTED and evidence.reviewed_at is not None
        assert (evidence.description, evidence.link_url, evidence.feedback) == ("", None, None)
        assert (evidence.file_name, evidence.stored_name, evidence.file_size) == (None, None, None)
        (application,) = db.session.execute(
            db.select(BadgeApplication).where(BadgeApplication.user_id == me)
        ).scalars()
        assert (application.narrative, application.feedback) == ("", None)
        # Counts stay: the completion, and the badge, still valid at its hosted address.
        assert count(Completion, Completion.user_id == me) == 1
        (assertion,) = db.session.execute(
            db.select(Assertion).where(Assertion.user_id == me)
        ).scalars()
        assert assertion.revoked_at is None
        assert count(User, mine) == 1
    assert not (upload_dir / "mine-reviewed.pdf").exists()
    assert not (upload_dir / "mine-waiting.pdf").exists()
    assert client.get(f"/ob/assertions/{assertion.uuid}").status_code == 200

    # Nothing of the other person changed.
    with app.app_context():
        them = db.session.get(User, other)
        assert them.name == "Olli Other" and them.deleted_at is None
        assert count(ReflectionAnswer, ReflectionAnswer.user_id == other) == 1
        assert count(EvidenceSubmission, EvidenceSubmission.user_id == other) == 2
        assert count(LtiIdentity, LtiIdentity.user_id == other) == 1
        assert count(LoginFailure, LoginFailure.email == OTHER) == 1
    assert (upload_dir / "theirs-reviewed.pdf").exists()
    assert (upload_dir / "theirs-waiting.pdf").exists()


def test_revoking_revokes_every_valid_badge_with_the_reason(
    app: Flask, client: FlaskClient, auth, people
) -> None:  # type: ignore[no-untyped-def]
    me, other = people
    auth.login(ME)
    assert client.post(URL, data=keep_or_revoke("revoke")).status_code == 302
    with app.app_context():
        (mine,) = db.session.execute(db.select(Assertion).where(Assertion.user_id == me)).scalars()
        assert mine.revoked_at is not None and mine.revocation_reason == "Account deleted"
        (theirs,) = db.session.execute(
            db.select(Assertion).where(Assertion.user_id == other)
        ).scalars()
        assert theirs.revoked_at is None
    assert client.get(f"/ob/assertions/{mine.uuid}").status_code == 410


def test_a_deleted_account_cannot_log_in_reset_or_be_found_and_the_address_is_free(
    app: Flask, client: FlaskClient, auth, people
) -> None:  # type: ignore[no-untyped-def]
    me, _other = people
    auth.login(ME)
    client.post(URL, data=keep_or_revoke("keep"))
    assert auth.login(ME).status_code == 401
    assert auth.login(f"deleted-{me}@invalid").status_code == 401
    with app.app_context():
        assert find_user_by_email(ME) is None
        assert authenticate(f"deleted-{me}@invalid", PASSWORD) is None
        assert authenticate(f"deleted-{me}@invalid", deletion.UNUSABLE_PASSWORD) is None
        assert reset.request_reset(f"deleted-{me}@invalid", "192.0.2.9", now()) is None
        assert reset.request_reset(ME, "192.0.2.9", now()) is None
        db.session.rollback()
    registered = client.post(
        "/auth/register",
        data={
            "name": "Maija Again",
            "email": ME,
            "organisation": "1",
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
    )
    assert registered.status_code == 302
    with app.app_context():
        again = find_user_by_email(ME)
        assert again is not None and again.id != me and again.deleted_at is None
    assert auth.login(ME).status_code == 302


def test_admins_see_deleted_account_in_the_user_list(
    app: Flask, client: FlaskClient, auth, people, make_user
) -> None:  # type: ignore[no-untyped-def]
    make_user("admin@example.org", roles={Role.ADMIN})
    auth.login(ME)
    client.post(URL, data=keep_or_revoke("keep"))
    auth.login("admin@example.org")
    listing = client.get("/manage/users").get_data(as_text=True)
    assert "Deleted account" in listing and "Maija" not in listing and ME not in listing


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (keep_or_revoke("keep", password="wrong password"), "The current password is not correct."),
        ({"badges": "keep", "password": PASSWORD}, "Tick the box to confirm the deletion."),
        ({"password": PASSWORD, "confirm": "y"}, "Choose what happens to your badges."),
        ({"badges": "burn", "password": PASSWORD, "confirm": "y"}, "Not a valid choice"),
    ],
)
def test_nothing_is_deleted_without_password_confirmation_and_choice(
    app: Flask, client: FlaskClient, auth, people, data, message
) -> None:  # type: ignore[no-untyped-def]
    me, _other = people
    auth.login(ME)
    response = client.post(URL, data=data)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    with app.app_context():
        user = db.session.get(User, me)
        assert user.deleted_at is None and user.email == ME
        assert count(ReflectionAnswer, ReflectionAnswer.user_id == me) == 1
    assert client.get("/dashboard").status_code == 200


def test_the_last_campus_admin_cannot_delete_their_account(
    app: Flask, client: FlaskClient, auth, make_user
) -> None:  # type: ignore[no-untyped-def]
    admin = make_user("admin@example.org", roles={Role.ADMIN})
    retired = make_user("retired@example.org", roles={Role.ADMIN})
    with app.app_context():  # an inactive admin does not count
        db.session.get(User, retired).is_active_account = False
        db.session.commit()
    auth.login("admin@example.org")
    page = client.get(URL).get_data(as_text=True)
    assert "only administrator of the campus" in page and 'type="password"' not in page
    refused = client.post(URL, data=keep_or_revoke("keep"))
    assert refused.status_code == 409
    assert "Make someone else an administrator first" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, admin).deleted_at is None
        with pytest.raises(deletion.DeletionRefused):
            deletion.delete_account(db.session.get(User, admin), True, now())
    make_user("second@example.org", roles={Role.ADMIN})
    assert client.post(URL, data=keep_or_revoke("keep")).status_code == 302
    with app.app_context():
        assert db.session.get(User, admin).deleted_at is not None


def test_an_account_without_a_password_confirms_with_its_address(
    app: Flask, client: FlaskClient, auth, make_user
) -> None:  # type: ignore[no-untyped-def]
    """SSO-only accounts ("!" hash) type their address instead of a password."""
    user_id = make_user("sso@example.org")
    auth.login("sso@example.org")  # as the provider's login would have done
    with app.app_context():
        db.session.get(User, user_id).password_hash = "!sso"
        db.session.commit()
    page = client.get(URL).get_data(as_text=True)
    assert 'type="password"' not in page and "Type sso@example.org to confirm." in page
    typo = client.post(URL, data={"badges": "keep", "email": "ss0@example.org", "confirm": "y"})
    assert typo.status_code == 400
    assert "not the address of this account" in typo.get_data(as_text=True)
    done = client.post(URL, data={"badges": "keep", "email": " SSO@example.org", "confirm": "y"})
    assert done.status_code == 302
    with app.app_context():
        assert db.session.get(User, user_id).deleted_at is not None
        assert count(LoginFailure) == 0  # no password was checked


@pytest.fixture
def extra_eraser() -> Iterator[list[deletion.Erasure]]:
    seen: list[deletion.Erasure] = []

    @deletion.erases("test-capability")
    def _erase(erasure: deletion.Erasure) -> None:
        seen.append(erasure)

    yield seen
    deletion._erasers.pop("test-capability")


def test_a_capability_registers_what_it_erases(app_ctx, make_user, extra_eraser) -> None:  # type: ignore[no-untyped-def]
    user = db.session.get(User, make_user(ME))
    user.badge_email = "Maija@Home.example"
    order = deletion.registered_erasers()
    # A capability's eraser runs before the core ones (its rows may point at theirs), and the
    # outbox is emptied last.
    assert order.index("test-capability") < order.index("paths") and order[-1] == "outbox"
    result = deletion.delete_account(user, keep_badges=False, now=now())
    (erasure,) = extra_eraser
    # The eraser sees the account before it was anonymised, with both of its addresses.
    assert erasure.user is user and erasure.keep_badges is False
    assert erasure.emails == {ME, "maija@home.example"}
    assert erasure.now == now() and result.files == [] and result.revoked == 0
    with pytest.raises(deletion.DeletionRefused):  # deleted once only
        deletion.delete_account(user, keep_badges=True, now=now() + timedelta(seconds=1))


def test_an_admin_cannot_give_a_deleted_account_its_roles_back(  # type: ignore[no-untyped-def]
    app, client, make_user, auth
) -> None:
    gone = make_user("gone@example.org")
    make_user("root@example.org", roles={Role.ADMIN})
    with app.app_context():
        deletion.delete_account(db.session.get(User, gone), keep_badges=True, now=now())
        db.session.commit()
    auth.login("root@example.org")
    response = client.post(f"/manage/users/{gone}", data={"roles": ["admin"]})
    assert response.status_code == 409
    assert "This account has been deleted." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, gone).roles == {Role.LEARNER}


def test_a_pending_address_change_goes_with_the_account(app_ctx, make_user) -> None:  # type: ignore[no-untyped-def]
    from campus.auth.verification_models import EmailChange
    from campus.auth.verification_models import VerificationRequest

    user_id = make_user("moving@example.org")
    db.session.add(EmailChange(user_id=user_id, new_email="new@example.org", requested_at=now()))
    db.session.add(VerificationRequest(user_id=user_id, requested_at=now()))
    db.session.flush()
    deletion.delete_account(db.session.get(User, user_id), keep_badges=True, now=now())
    assert db.session.get(EmailChange, user_id) is None
    assert db.session.execute(db.select(VerificationRequest)).first() is None


def test_badge_claims_for_the_account_or_its_address_go_with_it(app_ctx, make_user) -> None:  # type: ignore[no-untyped-def]
    from campus.badges.claim_models import BadgeClaim
    from campus.badges.claims import held_claims

    user_id = make_user("claimed@example.org")
    user = db.session.get(User, user_id)
    user.email_verified_at = None
    badge = get_badge("basics")
    award(user, badge, IssuingContext.from_config(current_app.config), now(), AwardSource.PATH)
    assert held_claims(user)
    deletion.delete_account(user, keep_badges=True, now=now())
    assert db.session.execute(db.select(BadgeClaim)).first() is None
