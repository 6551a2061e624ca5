"""Probes of the LTI tool side's identity handling (issue 8), against the live campus and LMS of
test_tool: forwarded continuation links, linking without confirmation, linked identities, badge
addresses of LMS-made accounts, course roles, and the mail service.
"""

from __future__ import annotations

import re
import stat
import threading
import warnings
from datetime import UTC
from datetime import datetime
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest
import requests

from campus import mail
from campus.auth.login import record_failure
from campus.auth.models import LoginFailure
from campus.auth.models import Role
from campus.auth.models import User
from campus.badges.awarding import award
from campus.badges.issuers import IssuingContext
from campus.badges.issuers import get_badge
from campus.badges.models import Assertion
from campus.badges.models import AwardSource
from campus.extensions import db
from campus.lti.errors import LtiError
from campus.lti.models import LtiGradeTarget
from campus.lti.models import LtiIdentity
from campus.lti.models import LtiLoginToken
from campus.lti.tool.identity import is_own_origin
from tests.conftest import PASSWORD
from tests.lti import test_tool as tool_tests

World = tool_tests.World
world = tool_tests.world  # the same live campus + independent LMS pair
launch = tool_tests.launch

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
LIS = "http://purl.imsglobal.org/vocab/lis/v2/membership#"


def english_browser() -> requests.Session:
    """A browser that prefers English, so assertions can read the English source strings."""
    browser = requests.Session()
    browser.headers["Accept-Language"] = "en"
    return browser


def csrf(page: str) -> str:
    return CSRF.search(page)[1]


def continuation_token(landing: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', landing)[1]


def logged_in(world: World, browser: requests.Session) -> bool:
    return browser.get(f"{world.campus}/dashboard", allow_redirects=False).status_code == 200


def log_in(world: World, email: str) -> requests.Session:
    browser = english_browser()
    page = browser.get(f"{world.campus}/auth/login").text
    answer = browser.post(
        f"{world.campus}/auth/login",
        data={"email": email, "password": PASSWORD, "csrf_token": csrf(page)},
    )
    assert answer.status_code == 200 and logged_in(world, browser), answer.text[:300]
    return browser


def user_for(world: World, sub: str) -> int:
    with world.app.app_context():
        return db.session.execute(
            db.select(LtiIdentity.user_id).where(LtiIdentity.sub == sub)
        ).scalar_one()


def user_id(world: World, email: str) -> int:
    with world.app.app_context():
        return db.session.execute(db.select(User.id).where(User.email == email)).scalar_one()


# --- 1. the one-time continuation link ---------------------------------------------------------


@pytest.mark.parametrize(
    ("origin", "fetch_site", "own"),
    [
        ("https://campus.test", None, True),
        ("https://CAMPUS.test:443", None, True),
        ("https://campus.test", "cross-site", True),  # Origin decides when present
        (None, "same-origin", True),
        ("http://campus.test", None, False),
        ("https://campus.test:8443", None, False),
        ("https://evil.example", "same-origin", False),
        ("null", None, False),
        ("https://campus.test:99999", None, False),
        (None, "cross-site", False),
        (None, "none", False),  # typed or pasted into the address bar
        (None, None, False),
        ("https://[::1", None, False),  # not a URL at all
    ],
)
def test_only_the_campus_own_pages_may_post_a_continuation(
    origin: str | None, fetch_site: str | None, own: bool
) -> None:
    assert is_own_origin(origin, fetch_site, "https://campus.test") is own


def test_a_forwarded_continuation_link_logs_nobody_in(world: World) -> None:
    """The attacker launches from an LMS and sends the victim his one-time token."""
    token = continuation_token(launch(world, english_browser(), user="mallory").text)
    url = f"{world.campus}/lti/tool/continue"
    victim = english_browser()
    for attempt in (
        lambda: victim.get(f"{url}/{token}"),  # the link as it used to be
        lambda: victim.get(url, params={"token": token}),
        lambda: victim.post(url, data={"token": token}),  # no Origin at all
        lambda: victim.post(url, data={"token": token}, headers={"Origin": "https://evil.test"}),
        lambda: victim.post(url, data={"token": token}, headers={"Origin": "null"}),
        lambda: victim.post(url, data={"token": token}, headers={"Sec-Fetch-Site": "cross-site"}),
    ):
        answer = attempt()
        assert answer.status_code == 403 and "course" in answer.text, answer.status_code
        assert not logged_in(world, victim)
    # Refusals do not spend the token: the launch's own page can still use it, once.
    own_page = {"Origin": world.campus}
    opened = english_browser().post(url, data={"token": token}, headers=own_page)
    assert opened.status_code == 200 and opened.url.endswith("/paths/basics/welcome")
    assert english_browser().post(url, data={"token": token}, headers=own_page).status_code == 410
    no_origin_but_same_site = english_browser()
    token = continuation_token(launch(world, english_browser(), user="mallory").text)
    answer = no_origin_but_same_site.post(
        url, data={"token": token}, headers={"Sec-Fetch-Site": "same-origin"}
    )
    assert answer.status_code == 200 and logged_in(world, no_origin_but_same_site)


def _link(world: World, browser: requests.Session, **fields: str) -> requests.Response:
    page = browser.get(f"{world.campus}/lti/tool/link").text
    return browser.post(
        f"{world.campus}/lti/tool/link",
        data={"csrf_token": csrf(page), "email": "existing@school.fi", **fields},
    )


def test_the_link_page_shows_the_lms_identity_and_needs_a_confirmation(world: World) -> None:
    browser = english_browser()
    launch(world, browser)
    page = browser.get(f"{world.campus}/lti/tool/link")
    assert page.status_code == 200
    shown = page.text[page.text.index('id="lms-identity"') :]
    assert "Test LMS" in shown and "Tiina Teacher" in shown and "teacher@school.fi" in shown
    for unconfirmed in ({}, {"confirm": ""}, {"confirm": "no"}):
        answer = _link(world, browser, password=PASSWORD, **unconfirmed)
        assert answer.status_code == 400 and "Confirm that this LMS identity" in answer.text
    existing = user_id(world, "existing@school.fi")
    assert user_for(world, "lms-user-1") != existing  # nothing moved
    with world.app.app_context():  # and no password was even checked
        assert db.session.execute(db.select(db.func.count(LoginFailure.id))).scalar() == 0
    assert _link(world, browser, password=PASSWORD, confirm="yes").status_code == 200
    assert user_for(world, "lms-user-1") == existing


def test_linking_goes_through_the_login_throttle(world: World) -> None:
    browser = english_browser()
    launch(world, browser)
    assert _link(world, browser, password="wrong", confirm="yes").status_code == 401
    with world.app.app_context():
        failures = db.select(db.func.count(LoginFailure.id)).where(
            LoginFailure.email == "existing@school.fi"
        )
        assert db.session.execute(failures).scalar() == 1  # recorded like a failed login
        for _ in range(9):
            record_failure("existing@school.fi", "127.0.0.1", datetime.now(UTC))
        db.session.commit()
    answer = _link(world, browser, password=PASSWORD, confirm="yes")
    assert answer.status_code == 429 and "Too many failed attempts" in answer.text
    assert int(answer.headers["Retry-After"]) >= 1
    assert user_for(world, "lms-user-1") != user_id(world, "existing@school.fi")


def test_a_removed_identity_gets_a_fresh_account_at_its_next_launch(world: World) -> None:
    browser = english_browser()
    launch(world, browser)
    provisional = user_for(world, "lms-user-1")
    assert _link(world, browser, password=PASSWORD, confirm="yes").status_code == 200
    existing = user_id(world, "existing@school.fi")
    launch(world, english_browser())  # a result target of the linked identity
    owner = log_in(world, "existing@school.fi")
    page = owner.get(f"{world.campus}/auth/account").text
    assert "/lti/tool/identities" in page
    listing = owner.get(f"{world.campus}/lti/tool/identities").text
    assert "Test LMS" in listing and "lms-user-1" in listing and "teacher@school.fi" in listing
    remove = re.search(r'action="(/lti/tool/identities/\d+/remove)"', listing)[1]
    # Another account cannot remove it, nor can the owner remove it without the form's token.
    stranger = english_browser()
    launch(world, stranger, user="lms-user-2")
    stranger_page = stranger.get(f"{world.campus}/lti/tool/identities").text
    assert "lms-user-1" not in stranger_page and "/remove" not in stranger_page
    refused = stranger.post(f"{world.campus}{remove}", data={"csrf_token": csrf(stranger_page)})
    assert refused.status_code == 404
    own = stranger.post(
        f"{world.campus}/lti/tool/identities/{_identity_id(world, 'lms-user-2')}/remove",
        data={"csrf_token": csrf(stranger_page)},
    )
    assert own.status_code == 409  # an LMS-made account would be locked out
    assert owner.post(f"{world.campus}{remove}").status_code == 400
    assert user_for(world, "lms-user-1") == existing
    done = owner.post(f"{world.campus}{remove}", data={"csrf_token": csrf(listing)})
    assert done.status_code == 200 and "lms-user-1" not in done.text
    with world.app.app_context():
        assert (
            db.session.execute(
                db.select(db.func.count(LtiGradeTarget.id)).where(
                    LtiGradeTarget.user_id == existing
                )
            ).scalar()
            == 0
        )  # results no longer go to that LMS
    again = english_browser()
    launch(world, again)
    fresh = user_for(world, "lms-user-1")
    assert fresh not in (existing, provisional)
    with world.app.app_context():
        assert db.session.get(User, fresh).email.endswith("@lti.invalid")
    assert "Existing" not in again.get(f"{world.campus}/auth/account").text


def _identity_id(world: World, sub: str) -> int:
    with world.app.app_context():
        return db.session.execute(
            db.select(LtiIdentity.id).where(LtiIdentity.sub == sub)
        ).scalar_one()


# --- 2. the badge address of an LMS-made account -----------------------------------------------


def _mail_dir(world: World) -> Path:
    return Path(world.app.config["MAIL_DIR"])


def _messages(world: World) -> set[Path]:
    return set(_mail_dir(world).glob("*.eml")) if _mail_dir(world).exists() else set()


def claim(world: World, browser: requests.Session, address: str) -> requests.Response:
    page = browser.get(f"{world.campus}/lti/tool/claim")  # a 403 page has a token too (log out)
    return browser.post(
        f"{world.campus}/lti/tool/claim", data={"csrf_token": csrf(page.text), "email": address}
    )


def claim_link(world: World, browser: requests.Session, address: str) -> str:
    before = _messages(world)
    answer = claim(world, browser, address)
    assert answer.status_code == 200 and "Check your e-mail" in answer.text, answer.text[:300]
    assert "no mail server configured" in answer.text
    [new] = _messages(world) - before
    assert stat.S_IMODE(new.stat().st_mode) == 0o600
    message = message_from_bytes(new.read_bytes(), policy=default)
    assert message["To"] == address.lower() and message.get_content_type() == "text/plain"
    return re.search(r"^http\S+/lti/tool/claim/confirm/\S+$", message.get_content(), re.M)[0]


def follow(browser: requests.Session, link: str) -> requests.Response:
    """Open the link and press its confirmation button."""
    page = browser.get(link)
    if page.status_code != 200:
        return page
    token = re.search(r'name="token" value="([^"]+)"', page.text)[1]
    base = link.split("/lti/")[0]
    return browser.post(
        f"{base}/lti/tool/claim/confirm", data={"csrf_token": csrf(page.text), "token": token}
    )


def _without_lms_email(world: World, sub: str) -> tuple[requests.Session, int]:
    world.lms_app.settings["email"] = ""
    browser = english_browser()
    launch(world, browser, user=sub)
    learner = user_for(world, sub)
    with world.app.app_context():
        award(
            db.session.get(User, learner),
            get_badge("reviewed"),
            IssuingContext.from_config(world.app.config),
            datetime.now(UTC),
            AwardSource.REVIEW,
        )
        db.session.commit()
    return browser, learner


def _assertions(world: World, learner: int) -> list[tuple[bool, str, str]]:
    """(active, recipient hash, salt) of each assertion of `learner`, oldest first."""
    with world.app.app_context():
        return [
            (a.revoked_at is None, a.recipient_hash, a.recipient_salt)
            for a in db.session.execute(
                db.select(Assertion).where(Assertion.user_id == learner).order_by(Assertion.id)
            ).scalars()
        ]


def test_only_lms_made_accounts_without_an_lms_email_may_claim(world: World) -> None:
    campus_account = log_in(world, "existing@school.fi")
    assert campus_account.get(f"{world.campus}/lti/tool/claim").status_code == 403
    assert claim(world, campus_account, "thief@evil.test").status_code == 403
    with_email = english_browser()
    launch(world, with_email)  # this LMS sends teacher@school.fi
    assert with_email.get(f"{world.campus}/lti/tool/claim").status_code == 403
    assert claim(world, with_email, "thief@evil.test").status_code == 403
    assert _messages(world) == set()


def test_a_claimed_address_counts_only_once_its_link_is_followed(world: World) -> None:
    from campus.badges import ob2

    browser, learner = _without_lms_email(world, "lms-user-2")
    assert claim(world, browser, "not an address").status_code == 400
    link = claim_link(world, browser, "me@home.fi")
    # Issue 12: badges go to confirmed addresses only, so the award waits (a held claim).
    assert _assertions(world, learner) == []
    with world.app.app_context():
        assert db.session.get(User, learner).badge_email is None
    # Not logged in, or logged in as someone else: refused, nothing changes.
    assert english_browser().get(link).status_code == 401
    other, _other_id = _without_lms_email(world, "lms-user-3")
    assert follow(other, link).status_code == 403
    token = link.rsplit("/", 1)[1]
    page = other.get(f"{world.campus}/lti/tool/claim").text
    forced = other.post(
        f"{world.campus}/lti/tool/claim/confirm", data={"csrf_token": csrf(page), "token": token}
    )
    assert forced.status_code == 403
    tampered = follow(browser, link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB"))
    assert tampered.status_code == 400
    assert _assertions(world, learner) == []
    # The learner follows it: the held badge is issued to the address.
    done = follow(browser, link)
    assert done.status_code == 200 and "me@home.fi" in done.text
    [new] = _assertions(world, learner)
    assert new[0] and new[1] == ob2.recipient_hash("me@home.fi", new[2])
    # Following it again changes nothing.
    assert follow(browser, link).status_code == 410
    assert len(_assertions(world, learner)) == 1
    with world.app.app_context():
        assert db.session.get(User, learner).badge_email == "me@home.fi"


def test_repeated_claims_of_one_address_reissue_once_and_mail_a_bounded_number(
    world: World,
) -> None:
    browser, learner = _without_lms_email(world, "lms-user-2")
    links = [claim_link(world, browser, "Me@Home.fi") for _ in range(3)]
    before = _messages(world)
    refused = claim(world, browser, "someone.else@example.org")
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "3600"
    assert _messages(world) == before  # the campus is no mail relay
    answers = [follow(browser, link).status_code for link in links]
    assert answers == [200, 410, 410]
    states = _assertions(world, learner)  # the held badge, issued once (issue 12)
    assert len(states) == 1 and sum(active for active, _h, _s in states) == 1


def test_the_claim_mail_carries_no_words_from_the_lms(world: World) -> None:
    browser, _learner = _without_lms_email(world, "lms-user-3")
    before = _messages(world)
    claim_link(world, browser, "me3@home.fi")
    [new] = _messages(world) - before
    body = message_from_bytes(new.read_bytes(), policy=default).get_content()
    with world.app.app_context():
        name = db.session.get(User, user_for(world, "lms-user-3")).name
    assert name not in body


# --- 3. course roles ------------------------------------------------------------------------------


def test_a_course_instructor_gets_no_campus_role(world: World) -> None:
    roles = {"https://purl.imsglobal.org/spec/lti/claim/roles": [f"{LIS}Instructor"]}
    for _ in range(2):  # the first launch makes the account, the second finds it
        browser = english_browser()
        action, fields = tool_tests.start(world, browser, user="lms-teacher")
        answer = browser.post(action, data=tool_tests._resign(world, fields, **roles))
        assert answer.status_code == 200, answer.text[:300]
        assert browser.get(f"{world.campus}/badges/reviews").status_code == 403
    with world.app.app_context():
        teacher = db.session.get(User, user_for(world, "lms-teacher"))
        assert teacher.roles == {Role.LEARNER}


# --- the mail service -------------------------------------------------------------------------------


def _settings(tmp_path: Path, host: str | None = None, port: int = 25) -> mail.MailSettings:
    return mail.MailSettings.from_config(
        {"MAIL_HOST": host, "MAIL_PORT": port, "MAIL_DIR": str(tmp_path / "mail")}
    )


def test_without_a_mail_server_messages_are_private_files(tmp_path: Path) -> None:
    saved = mail.send(_settings(tmp_path), "me@home.fi", "Hei", "Linkki: https://x.test/å\n")
    assert saved is not None and saved.parent == tmp_path / "mail"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert stat.S_IMODE(saved.parent.stat().st_mode) == 0o700
    message = message_from_bytes(saved.read_bytes(), policy=default)
    assert message["From"] == "campus@localhost" and message["Subject"] == "Hei"
    assert message.get_content() == "Linkki: https://x.test/å\n"
    with pytest.raises(mail.MailError):
        mail.send(_settings(tmp_path), "me@home.fi\nBcc: all@x.test", "Hei", "x")


def test_mail_goes_through_an_smtp_server(tmp_path: Path) -> None:
    """A real SMTP conversation with the stdlib's (deprecated, 3.11 only) smtpd server."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        smtpd = pytest.importorskip("smtpd")
        asyncore = pytest.importorskip("asyncore")
    received: list[tuple[str, list[str], bytes]] = []

    class Server(smtpd.SMTPServer):  # type: ignore[misc, name-defined]
        def process_message(self, peer, mailfrom, rcpttos, data, **kwargs):  # type: ignore[no-untyped-def]
            received.append((mailfrom, rcpttos, data))

    sockets: dict[int, object] = {}
    server = Server(("127.0.0.1", 0), None, decode_data=False, map=sockets)
    port = server.socket.getsockname()[1]
    loop = threading.Thread(
        target=asyncore.loop, kwargs={"timeout": 0.05, "map": sockets}, daemon=True
    )
    loop.start()
    try:
        saved = mail.send(
            _settings(tmp_path, "127.0.0.1", port), "me@home.fi", "Vahvista", "Linkki å\n"
        )
    finally:
        server.close()
        for channel in list(sockets.values()):
            channel.close()  # type: ignore[attr-defined]
        loop.join(timeout=5)
    assert saved is None and not (tmp_path / "mail").exists()
    [(sender, recipients, data)] = received
    assert sender == "campus@localhost" and recipients == ["me@home.fi"]
    message = message_from_bytes(data, policy=default)
    assert message["Subject"] == "Vahvista" and message.get_content().strip() == "Linkki å"
    with pytest.raises(mail.MailError):  # the server is gone now
        mail.send(_settings(tmp_path, "127.0.0.1", port), "me@home.fi", "x", "y")


def test_a_continuation_token_is_spent_once_even_when_read_twice(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two posts that both read the token before either spends it: only one logs in."""
    from campus.lti.tool import identity as identity_service

    token = continuation_token(launch(world, english_browser(), user="lms-race").text)
    now = datetime.now(UTC)
    with world.app.app_context():
        key = identity_service._token_hash(token)
        row = db.session.get(LtiLoginToken, key)
        stale = LtiLoginToken(  # what the second request read before the first one wrote
            token_hash=key,
            user_id=row.user_id,
            target_url=row.target_url,
            expires_at=row.expires_at,
            used_at=None,
        )
        db.session.expunge(row)
        assert identity_service.use_login_token(token, now)[0] is not None
        real_get = db.session.get
        monkeypatch.setattr(
            db.session,
            "get",
            lambda model, ident: stale if model is LtiLoginToken else real_get(model, ident),
        )
        with pytest.raises(LtiError) as refused:
            identity_service.use_login_token(token, now)
        assert refused.value.status == 410
