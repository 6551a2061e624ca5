"""Which person an LMS launch stands for, and what may be done with that identity.

An LMS vouches only for (platform, sub), and any registered LMS can make up any user. So every
step that turns a launch into a session, joins its identity to a campus account or changes where
that account's badges go has one rule here:

- the one-time continuation opens a launch in a new window only when posted from the campus's
  own landing page (Origin check): a link forwarded by mail or chat logs nobody in;
- linking moves an identity to an account whose password was just checked, after its owner saw
  and confirmed which LMS identity it is; owners can list and remove linked identities later;
- an LMS-made account whose LMS sent no e-mail sets its badge address by following a signed link
  sent there, bound to the account, the address and the current badge address (so: once).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from email_validator import EmailNotValidError
from email_validator import validate_email
from flask_babel import gettext as _
from itsdangerous import BadSignature
from itsdangerous import SignatureExpired
from itsdangerous import URLSafeTimedSerializer

from campus.auth.models import User
from campus.badges.awarding import reissue_to_current_email
from campus.badges.issuers import IssuingContext
from campus.clock import aware_or_none
from campus.extensions import db
from campus.lti.errors import LtiError
from campus.lti.models import LtiGradeTarget
from campus.lti.models import LtiIdentity
from campus.lti.models import LtiLoginToken
from campus.lti.models import LtiPlatform
from campus.lti.models import LtiStoreEntry
from campus.lti.tool.provisioning import is_synthetic
from campus.paths import services as path_services
from campus.paths.models import Completion
from campus.paths.models import CompletionSource
from campus.paths.models import Enrollment
from campus.paths.models import Module
from campus.paths.models import PathCompletion

CONTINUE_FOR = timedelta(minutes=5)
CLAIM_SALT = "campus.lti.badge-address-claim"
CLAIM_MAX_AGE = 3600  # seconds


# --- continuing a launch in a new window -------------------------------------------------------


def _origin_of(url: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts.scheme, parts.hostname.lower(), port or (443 if parts.scheme == "https" else 80)


def is_own_origin(origin: str | None, fetch_site: str | None, base_url: str) -> bool:
    """Whether a POST came from a page of this campus (the landing page's form).

    Browsers send `Origin` with every POST; a form on another site names that site, and a link
    followed from mail or chat is a GET (refused before this). `Sec-Fetch-Site` is the fallback
    for a browser that sends no Origin.
    """
    if origin:
        own = _origin_of(base_url)
        return own is not None and _origin_of(origin) == own
    return fetch_site == "same-origin"


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_login_token(user: User, target_url: str, now: datetime) -> str:
    token = secrets.token_urlsafe(32)
    db.session.add(
        LtiLoginToken(
            token_hash=_token_hash(token),
            user_id=user.id,
            target_url=target_url,
            expires_at=now + CONTINUE_FOR,
        )
    )
    db.session.flush()
    return token


def use_login_token(token: str, now: datetime) -> tuple[User, str]:
    """The user and page of a continuation token, which is spent by this call."""
    entry = db.session.get(LtiLoginToken, _token_hash(token)) if token else None
    expires = aware_or_none(entry.expires_at) if entry else None
    user = db.session.get(User, entry.user_id) if entry else None
    if (
        entry is None
        or entry.used_at is not None
        or expires is None
        or expires < now
        or user is None
        or not user.is_active_account
    ):
        raise LtiError(
            _("This link has expired or was used already. Launch again from your course."), 410
        )
    # Spent in one statement: of two concurrent posts of the same token only one gets a row.
    spent = db.session.execute(
        db.update(LtiLoginToken)
        .where(LtiLoginToken.token_hash == entry.token_hash, LtiLoginToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:
        raise LtiError(
            _("This link has expired or was used already. Launch again from your course."), 410
        )
    return user, entry.target_url


# --- linked identities ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkedIdentity:
    id: int
    platform: str
    sub: str
    email: str | None  # as the LMS last sent it
    linked_at: datetime


def identities_of(user: User) -> list[LinkedIdentity]:
    rows = db.session.execute(
        db.select(LtiIdentity, LtiPlatform.name)
        .join(LtiPlatform, LtiPlatform.id == LtiIdentity.platform_id)
        .where(LtiIdentity.user_id == user.id)
        .order_by(LtiIdentity.created_at, LtiIdentity.id)
    ).all()
    return [
        LinkedIdentity(identity.id, name, identity.sub, identity.email, identity.created_at)
        for identity, name in rows
    ]


def link_identity(provisional: User, account: User, now: datetime) -> int:
    """Move the LMS identity to `account` (whose login was just checked) and carry progress over.

    The identity's `created_at` becomes the moment of linking: it dates the binding the owner
    sees on the identities page. Returns the number of completions carried over.
    """
    if provisional.id == account.id:
        return 0
    if not is_synthetic(provisional):
        raise LtiError(_("Only an account made by a course launch can be linked."), 409)
    moved = 0
    for identity in db.session.execute(
        db.select(LtiIdentity).where(LtiIdentity.user_id == provisional.id)
    ).scalars():
        identity.user_id = account.id
        identity.created_at = now
    for target in db.session.execute(
        db.select(LtiGradeTarget).where(LtiGradeTarget.user_id == provisional.id)
    ).scalars():
        target.user_id = account.id
    for enrollment in db.session.execute(
        db.select(Enrollment).where(Enrollment.user_id == provisional.id)
    ).scalars():
        if path_services.find_enrollment(account, enrollment.path) is None:
            db.session.add(
                Enrollment(
                    user_id=account.id,
                    path_id=enrollment.path_id,
                    enrolled_at=enrollment.enrolled_at,
                )
            )
    for completion in db.session.execute(
        db.select(Completion).where(Completion.user_id == provisional.id)
    ).scalars():
        module = db.session.get(Module, completion.module_id)
        assert module is not None
        result = path_services.complete_module(
            account,
            module,
            CompletionSource(completion.source),
            completion.completed_at,
            score=completion.score,
        )
        moved += int(result.created)
    for done in db.session.execute(
        db.select(PathCompletion).where(PathCompletion.user_id == provisional.id)
    ).scalars():
        db.session.delete(done)
    provisional.is_active_account = False
    db.session.flush()
    return moved


def remove_identity(user: User, identity_id: int) -> None:
    """Unlink one LMS identity from `user`: its next launch makes a new LMS-made account, and
    results stop flowing to that LMS."""
    identity = db.session.get(LtiIdentity, identity_id)
    if identity is None or identity.user_id != user.id:
        raise LtiError(_("This LMS identity is not linked to your account."), 404)
    if is_synthetic(user):
        # The account exists only through this identity; removing it would lock its owner out.
        raise LtiError(_("This account was made by your course and needs its LMS identity."), 409)
    targets = db.select(LtiGradeTarget.id).where(
        LtiGradeTarget.user_id == user.id,
        LtiGradeTarget.platform_id == identity.platform_id,
        LtiGradeTarget.sub == identity.sub,
    )
    # Results still waiting in the outbox for these targets are dropped when they run.
    db.session.execute(
        db.delete(LtiGradeTarget).where(LtiGradeTarget.id.in_(targets.scalar_subquery()))
    )
    db.session.delete(identity)
    db.session.flush()


# --- the badge address of an LMS-made account --------------------------------------------------


def may_claim(user: User) -> bool:
    """Only an account made by a launch, and only when no LMS sent its e-mail, names its own
    badge address; every other account's badges go to an address someone vouched for."""
    if not is_synthetic(user):
        return False
    sent = db.session.execute(
        db.select(LtiIdentity.id)
        .where(LtiIdentity.user_id == user.id, LtiIdentity.email.is_not(None))
        .limit(1)
    ).first()
    return sent is None


def claim_address(text: str) -> str:
    """The address as badges hash it (lower-case), or LtiError(400)."""
    address = text.strip()
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError as error:
        raise LtiError(_("Give a valid e-mail address."), 400) from error
    if len(address) > 254:
        raise LtiError(_("Give a valid e-mail address."), 400)
    return address.lower()


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=CLAIM_SALT)


def claim_token(secret_key: str, user: User, address: str) -> str:
    return _serializer(secret_key).dumps(
        {"user": user.id, "address": address, "was": user.badge_email or ""}
    )


def read_claim(secret_key: str, token: str, user: User) -> str:
    """The address a claim link confirms for `user`, or LtiError when it may not be used."""
    try:
        data: Any = _serializer(secret_key).loads(token, max_age=CLAIM_MAX_AGE)
    except SignatureExpired as error:
        raise LtiError(_("This link has expired. Ask for a new one."), 410) from error
    except BadSignature as error:
        raise LtiError(_("This link is not valid."), 400) from error
    if not isinstance(data, dict) or not isinstance(data.get("address"), str):
        raise LtiError(_("This link is not valid."), 400)
    if data.get("user") != user.id or not may_claim(user):
        raise LtiError(_("This link was sent for another account."), 403)
    if data.get("was") != (user.badge_email or "") or data["address"] == user.badge_email:
        raise LtiError(_("This link was used already. Ask for a new one if needed."), 410)
    return str(data["address"])


def apply_claim(user: User, address: str, context: IssuingContext, now: datetime) -> int:
    """Make badges out to the confirmed `address`; re-issues held badges (returns how many)."""
    if user.badge_email == address:
        return 0
    user.badge_email = address
    return reissue_to_current_email(user, context, now)


CLAIM_MAILS_PER_HOUR = 3


def claim_mail_allowed(user: User, now: datetime) -> bool:
    """Count one confirmation mail for `user`, or False past the hourly bound.

    Without a bound an LMS-made account could make the campus mail any address at will.
    """
    key = f"claim-mails:{user.id}"
    entry = db.session.get(LtiStoreEntry, key) or LtiStoreEntry(key=key, value={"sent": []})
    since = now - timedelta(hours=1)
    sent = [stamp for stamp in entry.value.get("sent", []) if datetime.fromisoformat(stamp) > since]
    if len(sent) >= CLAIM_MAILS_PER_HOUR:
        return False
    entry.value = {"sent": [*sent, now.isoformat()]}
    entry.expires_at = now + timedelta(hours=1)
    db.session.add(entry)
    return True


def claim_message(address: str, link: str) -> tuple[str, str]:
    """Subject and plain-text body, in the current request's language.

    Nothing in it comes from the LMS or the learner except the address: the campus must not
    carry someone else's words to an inbox.
    """
    subject = _("Confirm the address for your campus badges")
    body = "\n\n".join(
        [
            _("Hello,"),
            _(
                "someone asked the campus to make your badges out to %(address)s. "
                "If that was you, open this link in the browser where you use the campus "
                "(within one hour):",
                address=address,
            ),
            link,
            _("If it was not you, ignore this message: nothing changes."),
        ]
    )
    return subject, body + "\n"
