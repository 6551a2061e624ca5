"""iCalendar (RFC 5545) feeds of the annual clock, and the secret tokens that open them.

One VEVENT per action: all-day dates (VALUE=DATE), DTEND exclusive (the day after the last day),
RRULE:FREQ=YEARLY with UNTIL (a DATE, like DTSTART) when the action has a last year. An action
starting on 29 February repeats on the last day of February (BYMONTH=2;BYMONTHDAY=-1), as the
clock does.

Runs over the end of February (all of February, 20 January – 10 March, December – February) are a
day longer in leap years, but RFC 5545 gives every instance of a rule the master's length, and
no rule-only encoding fits: splitting an action into a leap-year and a common-year event needs
rules that pick those years (BYYEARDAY/BYSETPOS tricks, which calendar apps do not support, and
which cannot look at the next year's February for a run over the new year). So the master has the
length most runs have (a common year's) and every run of another length is an override
(RECURRENCE-ID), written up to the last year, or for an open-ended action up to HORIZON (50) years
ahead of the feed's date (or of its first year). The feed is rebuilt on every fetch, so the
horizon moves on with time; past it, only leap-year runs would show a day short.

Calendar apps cannot log in, so the token in the URL is the only credential: only its SHA-256
is stored, a new feed replaces the owner's old one, and the plain token is shown once.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import Counter
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
from campus.network.clock_models import RaciEntry
from campus.network.labels import group_role_label
from campus.network.models import Group

PRODID = "-//Campus//ICT annual clock//EN"
# Years ahead for which the runs of an open-ended action whose length differs from the master's
# (leap years) are written as overrides: no RFC 5545 rule can say "to the end of February".
HORIZON = 50

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


def _party(entry: RaciEntry) -> str | None:
    """ "Group (Role): A", or None for a row whose group is gone (SQLite keeps such rows)."""
    if entry.group is None:
        return None
    name = entry.group.name
    if entry.member_role is not None:
        name = _("%(group)s (%(role)s)", group=name, role=group_role_label(entry.member_role))
    return f"{name}: {entry.letter.value}"


def _description(action: ClockAction, url: str) -> str:
    lines = [action.description.strip()] if action.description.strip() else []
    if action.group is not None:
        lines.append(_("Responsible group: %(group)s", group=action.group.name))
    parties = [party for party in map(_party, action.raci) if party is not None]
    if parties:
        lines.append(_("RACI: %(parties)s", parties=", ".join(parties)))
    lines.append(url)
    return "\n".join(lines)


def _length(action: ClockAction, year: int) -> timedelta:
    start, end = annual.occurrence(action, year)
    return end - start


def _events(action: ClockAction, host: str, url: str, now: datetime) -> list[Event]:
    first_start = annual.occurrence(action, action.first_year)[0]
    # The length most runs have: of four years in a row, at most one differs (the leap year).
    lengths = Counter(
        _length(action, year) for year in range(action.first_year, action.first_year + 4)
    )
    length = lengths.most_common(1)[0][0]
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

    master = event(first_start, first_start + length)
    master.add("rrule", rule)
    events = [master]
    last = action.last_year
    if last is None:
        last = max(now.year, action.first_year) + HORIZON
    for year in range(action.first_year, last + 1):
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
