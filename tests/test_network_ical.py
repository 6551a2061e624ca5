"""The annual clock's iCalendar feeds (read back by two parsers) and the circle's SVG."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta

import icalendar
import pytest
import vobject
from flask import Flask
from sqlalchemy import event as sa_event

from campus.auth.models import Organisation
from campus.auth.models import Role
from campus.extensions import db
from campus.network import annual
from campus.network import ical
from campus.network.clock_models import ClockAction
from campus.network.clock_models import ClockActionDone
from campus.network.clock_models import Raci
from campus.network.clock_models import RaciEntry
from campus.network.clock_svg import clock_svg
from campus.network.models import Group
from campus.network.models import GroupKind
from campus.network.models import GroupRole

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def app(app: Flask) -> Flask:
    if "network_clock" not in app.blueprints:
        from campus.network.views_clock import bp

        app.register_blueprint(bp)
    return app


@pytest.fixture
def clock(app: Flask, make_org: Callable[..., int], make_user: Callable[..., int]) -> dict:
    org = make_org("Alpha")
    make_user("admin@a.fi", {Role.ORG_ADMIN}, org)
    with app.app_context():
        digi = Group(kind=GroupKind.DIGI, name="Alpha digi", organisation_id=org)
        tutors = Group(kind=GroupKind.TUTORS, name="Alpha tutors", organisation_id=org)
        db.session.add_all([digi, tutors])
        db.session.flush()
        rows = {
            "winter": ClockAction(
                organisation_id=org,
                title="Winter planning",
                description="Plan the spring; book rooms, too.",
                start_month=12,
                start_day=10,
                end_month=1,
                end_day=20,
                first_year=2025,
                group_id=digi.id,
            ),
            "onboarding": ClockAction(
                organisation_id=org,
                title="Device onboarding",
                start_month=8,
                end_month=8,
                first_year=2024,
                last_year=2025,
            ),
            "february": ClockAction(
                organisation_id=org, title="February", start_month=2, end_month=2, first_year=2023
            ),
        }
        db.session.add_all(rows.values())
        db.session.flush()
        annual.set_raci(
            rows["onboarding"],
            [(tutors.id, None, "A"), (digi.id, None, "I")],
        )
        db.session.commit()
        return {"org": org, "digi": digi.id, "tutors": tutors.id} | {
            name: row.id for name, row in rows.items()
        }


def _token(app: Flask, model: type, owner_id: int) -> str:
    with app.app_context():
        token = ical.create_feed(db.session.get_one(model, owner_id), None)
        db.session.commit()
        return token


def _starts(component, until: date) -> list[date]:  # type: ignore[no-untyped-def]
    rules = component.getrruleset(addRDate=True)
    return [moment.date() for moment in rules if moment.date() <= until]


def test_the_feed_parses_and_recurs_right(client, app: Flask, clock: dict) -> None:  # type: ignore[no-untyped-def]
    token = _token(app, Organisation, clock["org"])
    response = client.get(f"/network/calendar/{token}.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Cache-Control"] == "private, max-age=300"
    body = response.data
    assert b"\r\n" in body and b"RRULE:FREQ=YEARLY" in body

    parsed = icalendar.Calendar.from_ical(body)
    assert str(parsed["VERSION"]) == "2.0" and str(parsed["PRODID"])
    assert str(parsed["X-WR-CALNAME"]) == "Annual clock: Alpha"
    events = {str(e["UID"]): e for e in parsed.walk("VEVENT") if "RECURRENCE-ID" not in e}
    winter = events[f"action-{clock['winter']}@campus.test"]
    assert winter["DTSTART"].dt == date(2025, 12, 10)
    assert winter["DTEND"].dt == date(2026, 1, 21)  # exclusive: the day after 20 January
    assert winter["DTSTART"].params.get("VALUE") == "DATE"
    assert winter["URL"] == f"https://campus.test/network/clock/actions/{clock['winter']}"
    assert "Responsible group: Alpha digi" in str(winter["DESCRIPTION"])
    onboarding = events[f"action-{clock['onboarding']}@campus.test"]
    assert onboarding["RRULE"]["UNTIL"] == [date(2025, 8, 1)]  # a DATE, like DTSTART
    assert "RACI: Alpha tutors: A, Alpha digi: I" in str(onboarding["DESCRIPTION"])

    second = vobject.readOne(body.decode())
    by_uid: dict[str, list] = {}
    for event in second.vevent_list:
        by_uid.setdefault(event.uid.value, []).append(event)
    [winter2] = by_uid[f"action-{clock['winter']}@campus.test"]
    assert _starts(winter2, date(2027, 12, 31)) == [
        date(2025, 12, 10),
        date(2026, 12, 10),
        date(2027, 12, 10),
    ]
    assert winter2.dtend.value - winter2.dtstart.value == timedelta(days=42)
    [onboarding2] = by_uid[f"action-{clock['onboarding']}@campus.test"]
    assert _starts(onboarding2, date(2027, 12, 31)) == [date(2024, 8, 1), date(2025, 8, 1)]
    assert onboarding2.dtend.value == date(2024, 9, 1)

    # February is 28 days long, and 29 in leap years: those runs are overrides of the rule.
    february = by_uid[f"action-{clock['february']}@campus.test"]
    master = next(e for e in february if not hasattr(e, "recurrence_id"))
    assert _starts(master, date(2026, 12, 31)) == [date(y, 2, 1) for y in range(2023, 2027)]
    assert master.dtend.value == date(2023, 3, 1)
    leap = {e.recurrence_id.value: e.dtend.value for e in february if hasattr(e, "recurrence_id")}
    assert leap[date(2024, 2, 1)] == date(2024, 3, 1)  # 1–29 February 2024
    assert date(2025, 2, 1) not in leap


def test_unknown_and_replaced_tokens_are_404(client, app: Flask, clock: dict) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/network/calendar/nope.ics").status_code == 404
    old = _token(app, Organisation, clock["org"])
    new = _token(app, Organisation, clock["org"])
    assert client.get(f"/network/calendar/{old}.ics").status_code == 404
    assert client.get(f"/network/calendar/{new}.ics").status_code == 200


def test_a_groups_feed_has_its_actions(client, app: Flask, clock: dict) -> None:  # type: ignore[no-untyped-def]
    token = _token(app, Group, clock["tutors"])  # accountable for onboarding only
    parsed = icalendar.Calendar.from_ical(client.get(f"/network/calendar/{token}.ics").data)
    assert [str(e["SUMMARY"]) for e in parsed.walk("VEVENT")] == ["Device onboarding"]


def test_an_editor_creates_the_feed_address(client, auth, app: Flask, clock: dict) -> None:  # type: ignore[no-untyped-def]
    auth.login("admin@a.fi")
    url = f"/network/organisation/{clock['org']}/clock/feed"
    page = client.post(url, follow_redirects=True).text
    match = re.search(r"https://campus\.test/network/calendar/([\w-]+)\.ics", page)
    assert match, "the address is shown once"
    auth.logout()
    assert client.get(f"/network/calendar/{match[1]}.ics").status_code == 200


def test_the_circle_is_accessible_svg(app: Flask, clock: dict) -> None:
    with app.test_request_context(headers={"Accept-Language": "en"}):
        scope = ical.organisation_scope(db.session.get_one(Organisation, clock["org"]))
        runs = annual.runs_in_view(annual.visible_actions(scope), 2026)
        markup = clock_svg(
            runs,
            2026,
            date(2026, 3, 15),
            title="Annual clock 2026",
            action_url=lambda action: f"/actions/{action.id}",
            status_of=lambda run: annual.status(run.action, run.year, date(2026, 3, 15)),
        )
    root = ET.fromstring(str(markup))  # well-formed XML
    assert root.get("role") == "group"  # not "img": its links would be presentational
    title_id, desc_id = root.get("aria-labelledby", "").split()
    assert root.find(f"{SVG}title").get("id") == title_id
    assert root.find(f"{SVG}title").text == "Annual clock 2026"
    assert root.find(f"{SVG}desc").get("id") == desc_id
    assert "; 2 actions are arcs over their dates" in root.find(f"{SVG}desc").text  # ngettext
    links = root.findall(f"{SVG}a")
    assert sorted(link.get("href") for link in links) == sorted(
        f"/actions/{clock[name]}" for name in ("winter", "february")
    )  # onboarding's last year was 2025
    winter = next(link for link in links if link.get("href") == f"/actions/{clock['winter']}")
    assert len(winter.findall(f"{SVG}path")) == 2  # January's end and December's start
    assert winter.get("aria-label").startswith("Winter planning: ")
    assert winter.find(f"{SVG}title").text == winter.get("aria-label")
    assert "style" not in str(markup)
    assert root.find(f"{SVG}line").get("class") == "clock-today"


def test_a_leap_february_recurs_right_for_thirty_years(app: Flask) -> None:
    """All of February from 2024 (a leap year), open-ended: 28 or 29 days every year."""
    action = ClockAction(
        id=7, title="Feb", description="", start_month=2, end_month=2, first_year=2024
    )
    with app.test_request_context():
        body = ical.calendar_for(
            "x", [action], "h", lambda a: "u", datetime(2026, 3, 1, tzinfo=UTC)
        )
    events = vobject.readOne(body.decode()).vevent_list
    master = next(e for e in events if not hasattr(e, "recurrence_id"))
    ends = {e.recurrence_id.value: e.dtend.value for e in events if hasattr(e, "recurrence_id")}
    length = master.dtend.value - master.dtstart.value
    runs = [
        (start, ends.get(start, start + length)) for start in _starts(master, date(2053, 12, 31))
    ]
    assert runs == [(date(y, 2, 1), date(y, 3, 1)) for y in range(2024, 2054)]  # DTEND exclusive


@pytest.mark.sqlite_only  # a group id that is gone: only SQLite (foreign keys off) can hold one
def test_roles_are_labelled_and_a_gone_group_is_skipped(
    client, auth, app: Flask, clock: dict
) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        action = db.session.get_one(ClockAction, clock["onboarding"])
        action.raci.append(RaciEntry(group_id=clock["digi"], member_role=GroupRole.CHAIR,
                                     letter=Raci.CONSULTED))  # fmt: skip
        action.raci.append(RaciEntry(group_id=99999, letter=Raci.INFORMED))  # no FKs on SQLite
        db.session.commit()
    token = _token(app, Organisation, clock["org"])
    response = client.get(f"/network/calendar/{token}.ics")
    assert response.status_code == 200
    events = icalendar.Calendar.from_ical(response.data).walk("VEVENT")
    [text] = [str(e["DESCRIPTION"]) for e in events if e["SUMMARY"] == "Device onboarding"]
    assert "RACI: Alpha tutors: A, Alpha digi: I, Alpha digi (Chair): C" in text
    auth.login("admin@a.fi")
    assert client.get(f"/network/clock/actions/{clock['onboarding']}").status_code == 200


@pytest.mark.parametrize("page", ["clock", "feed"])
def test_queries_do_not_grow_with_the_actions(client, auth, app: Flask, clock: dict, page) -> None:  # type: ignore[no-untyped-def]
    auth.login("admin@a.fi")
    token = _token(app, Organisation, clock["org"])
    url = {"clock": f"/network/organisation/{clock['org']}/clock",
           "feed": f"/network/calendar/{token}.ics"}[page]  # fmt: skip

    def add_and_count(n: int) -> int:
        with app.app_context():
            for i in range(n):
                action = ClockAction(organisation_id=clock["org"], title=f"A{i}", start_month=3,
                                     end_month=4, first_year=2024, group_id=clock["digi"])  # fmt: skip
                action.raci.append(RaciEntry(group_id=clock["tutors"], letter=Raci.ACCOUNTABLE))
                action.done.append(ClockActionDone(year=2024))
                db.session.add(action)
            db.session.commit()
            queries: list[str] = []
            listener = lambda *args: queries.append(args[2])  # noqa: E731
            sa_event.listen(db.engine, "before_cursor_execute", listener)
            try:
                for view in ("circle", "months", "years") if page == "clock" else ("",):
                    assert (
                        client.get(url, query_string={"view": view} if view else {}).status_code
                        == 200
                    )
            finally:
                sa_event.remove(db.engine, "before_cursor_execute", listener)
            return len(queries)

    assert add_and_count(3) == add_and_count(27)  # 3 actions, then 30
