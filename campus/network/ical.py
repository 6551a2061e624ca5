"""iCalendar (RFC 5545) feeds of the annual clock, and the secret tokens that open them.

One VEVENT per action: all-day dates (VALUE=DATE), DTEND exclusive (the day after the last day),
RRULE:FREQ=YEARLY with UNTIL (a DATE, like DTSTART) when the action has a last year. An action
starting on 29 February repeats on the last day of February (BYMONTH=2;BYMONTHDAY=-1), as the
clock does. A run whose length differs from the first one (a range over the end of February in
a leap year) is written as an override (RECURRENCE-ID) for the years up to HORIZON years ahead.

Calendar apps cannot log in, so the token in the URL is the only credential: only its SHA-256
is stored, a new feed replaces the owner's old one, and the plain token is shown once.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import date
from datetime import datetime
from datetime import timedelta

from flask_babel import gettext as _
from icalendar import Calendar
from icalendar import Event

from campus.auth.models import Organisation
from campus.auth.models import Region
from campus.auth.models import User
from campus.extensions import db
from campus.network import annual
from campus.network.access import Scope
from campus.network.access import organisation_scope
from campus.network.access import region_scope
from campus.network.clock_models import CalendarFeed
from campus.network.clock_models import ClockAction
from campus.network.models import Group

PRODID = "-//Campus//ICT annual clock//EN"
HORIZON = 10  # years ahead for which leap-year overrides are written

FeedOwner = Organisation | Region | Group


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _owner_column(owner: FeedOwner) -> dict[str, int]:
    if isinstance(owner, Organisation):
        return {"organisation_id": owner.id}
    if isinstance(owner, Region):
        return {"region_id": owner.id}
    return {"group_id": owner.id}


def existing_feed(owner: FeedOwner) -> CalendarFeed | None:
    ((column, value),) = _owner_column(owner).items()
    return db.session.execute(
        db.select(CalendarFeed).where(getattr(CalendarFeed, column) == value)
    ).scalar_one_or_none()


def create_feed(owner: FeedOwner, user: User | None, now: datetime | None = None) -> str:
    """A new secret feed for the owner (the old one stops working); returns the plain token."""
    old = existing_feed(owner)
    if old is not None:
        db.session.delete(old)
        db.session.flush()
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed(
        token_hash=token_hash(token),
        created_by_id=user.id if user is not None else None,
        **_owner_column(owner),
    )
    if now is not None:
        feed.created_at = now
    db.session.add(feed)
    db.session.flush()
    return token


def feed_for_token(token: str) -> CalendarFeed | None:
    if not token or len(token) > 200:
        return None
    return db.session.get(CalendarFeed, token_hash(token))


def feed_owner(feed: CalendarFeed) -> FeedOwner:
    if feed.organisation_id is not None:
        return db.session.get_one(Organisation, feed.organisation_id)
    if feed.region_id is not None:
        return db.session.get_one(Region, feed.region_id)
    return db.session.get_one(Group, feed.group_id)


def scope_owner(scope: Scope) -> Organisation | Region:
    model = Region if scope.is_region else Organisation
    return db.session.get_one(model, scope.id)


def owner_actions(owner: FeedOwner) -> list[ClockAction]:
    """An organisation's actions and its region's; a region's; a group's (responsible or RACI)."""
    if isinstance(owner, Organisation):
        return [action for action, _regional in annual.visible_actions(organisation_scope(owner))]
    if isinstance(owner, Region):
        return [action for action, _regional in annual.visible_actions(region_scope(owner))]
    return annual.group_actions(owner)


def _description(action: ClockAction, url: str) -> str:
    lines = [action.description.strip()] if action.description.strip() else []
    if action.group is not None:
        lines.append(_("Responsible group: %(group)s", group=action.group.name))
    if action.raci:
        parties = ", ".join(
            f"{entry.group.name}{f' ({entry.member_role.value})' if entry.member_role else ''}"
            f": {entry.letter.value}"
            for entry in action.raci
        )
        lines.append(_("RACI: %(parties)s", parties=parties))
    lines.append(url)
    return "\n".join(lines)


def _events(action: ClockAction, host: str, url: str, now: datetime) -> list[Event]:
    first_start, first_end = annual.occurrence(action, action.first_year)
    length = first_end - first_start
    rule: dict[str, object] = {"freq": "yearly"}
    if action.start_month == 2 and action.start_day == 29:
        rule.update({"bymonth": 2, "bymonthday": -1})
    if action.last_year is not None:
        rule["until"] = annual.occurrence(action, action.last_year)[0]

    def event(start: date, end: date) -> Event:
        item = Event()
        item.add("uid", f"action-{action.id}@{host}")
        item.add("dtstamp", now)
        item.add("dtstart", start)
        item.add("dtend", end + timedelta(days=1))
        item.add("summary", action.title)
        item.add("description", _description(action, url))
        item.add("url", url)
        return item

    master = event(first_start, first_end)
    master.add("rrule", rule)
    events = [master]
    last = action.last_year if action.last_year is not None else now.year + HORIZON
    for year in range(action.first_year + 1, last + 1):
        start, end = annual.occurrence(action, year)
        if end - start != length:
            override = event(start, end)
            override.add("recurrence-id", start)
            events.append(override)
    return events


def calendar_for(
    name: str,
    actions: list[ClockAction],
    host: str,
    action_url: Callable[[ClockAction], str],
    now: datetime,
) -> bytes:
    """The feed as bytes (CRLF lines, folded at 75 octets by the icalendar package)."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    for action in actions:
        for item in _events(action, host, action_url(action), now):
            cal.add_component(item)
    return cal.to_ical()
