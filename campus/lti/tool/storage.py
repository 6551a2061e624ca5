"""LTI platform storage: launches where the browser blocks every cookie inside the LMS frame.

1EdTech "LTI Client Side postMessages" and "LTI postMessage Storage" (Canvas sends
`lti_storage_target`). At login initiation the campus keeps the OIDC state in the LMS's own
storage (a frame of the LMS, reached by postMessage) instead of a cookie; at launch a page of
ours reads it back from there and posts it with a one-time token. The id_token itself is
checked on the server as always (signature, nonce, deployment); only the browser-binding check
of `state` moves from the cookie to the platform's storage.

Where each value lives: `tool-storage-state:<state>` (which frame and nonce a state was issued
for, 5 minutes) and `tool-storage-pending:<sha256 of token>` (a validated launch waiting for
the browser's confirmation, 5 minutes, used once) are rows of LtiStoreEntry.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta

from flask_babel import gettext as _

from campus.clock import aware
from campus.extensions import db
from campus.lti.errors import LtiError
from campus.lti.models import LtiStoreEntry

STORAGE_SECONDS = 300
# A frame name ("_parent", Canvas's "post_message_forwarding"): never markup, never a URL.
TARGET_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
STATE_KEY = "campus_state_"  # the keys the campus puts into the platform's storage
NONCE_KEY = "campus_nonce_"


@dataclass(frozen=True)
class StoredState:
    """What the campus remembers of a state it asked the platform to keep."""

    state: str
    target: str
    origin: str
    nonce: str

    @property
    def state_key(self) -> str:
        return STATE_KEY + self.state

    @property
    def nonce_key(self) -> str:
        return NONCE_KEY + self.nonce


def storage_target(value: str | None) -> str | None:
    """The platform's storage frame named in a request, or None (absent or not a frame name)."""
    if value and TARGET_PATTERN.fullmatch(value):
        return value
    return None


def _entry(key: str, now: datetime) -> LtiStoreEntry | None:
    entry = db.session.get(LtiStoreEntry, key)
    if entry is None or aware(entry.expires_at) < now:
        return None
    return entry


def remember_state(stored: StoredState, now: datetime) -> None:
    """Note that `stored.state` went to the platform's storage (at login initiation)."""
    db.session.add(
        LtiStoreEntry(
            key=f"tool-storage-state:{stored.state}"[:300],
            value={"target": stored.target, "origin": stored.origin, "nonce": stored.nonce},
            expires_at=now + timedelta(seconds=STORAGE_SECONDS),
        )
    )
    db.session.flush()


def stored_state(state: str | None, now: datetime) -> StoredState | None:
    """The storage-flow record of `state`, or None (a cookie-flow state or an expired one)."""
    if not state or len(state) > 200:
        return None
    entry = _entry(f"tool-storage-state:{state}", now)
    if entry is None or not isinstance(entry.value, dict):
        return None
    value = entry.value
    return StoredState(state, value["target"], value["origin"], value["nonce"])


def _pending_key(token: str) -> str:
    return "tool-storage-pending:" + hashlib.sha256(token.encode()).hexdigest()


def open_pending(launch_id: str, stored: StoredState, now: datetime) -> str:
    """Park a validated launch until the browser shows it holds the state; returns the token."""
    token = secrets.token_urlsafe(32)
    db.session.add(
        LtiStoreEntry(
            key=_pending_key(token),
            value={"launch_id": launch_id, "state": stored.state},
            expires_at=now + timedelta(seconds=STORAGE_SECONDS),
        )
    )
    db.session.flush()
    return token


def take_pending(token: str, state_from_platform: str, now: datetime) -> str:
    """The launch id parked under `token`, once, if the platform's storage returned its state.

    The row is deleted on every attempt, right or wrong: a token is never tried twice."""
    if not token or len(token) > 100:
        raise LtiError(_("This launch has expired. Open the activity again in your course."))
    entry = db.session.get(LtiStoreEntry, _pending_key(token))
    if entry is None or aware(entry.expires_at) < now:
        raise LtiError(_("This launch has expired. Open the activity again in your course."))
    value = dict(entry.value)
    db.session.delete(entry)
    db.session.flush()
    expected, given = (
        str(value["state"]).encode(),
        (state_from_platform or "").encode("utf-8", "replace"),
    )
    if not hmac.compare_digest(expected, given):
        raise LtiError(_("Your learning platform could not confirm this launch."))
    return str(value["launch_id"])
