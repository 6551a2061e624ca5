"""The ICT annual clock: dates over the new year, RACI, done per year, views and who may edit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from datetime import date
from datetime import datetime

import pytest
from flask import Flask

from campus.auth.models import Organisation
from campus.auth.models import Region
from campus.auth.models import Role
from campus.extensions import db
from campus.network import annual
from campus.network.access import organisation_scope
from campus.network.access import region_scope
from campus.network.clock_models import ClockAction
from campus.network.clock_models import ClockActionDone
from campus.network.models import Group
from campus.network.models import GroupKind
from campus.network.models import GroupMembership
from campus.network.models import GroupRole

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def app(app: Flask) -> Flask:
    if "network_clock" not in app.blueprints:
        from campus.network.views_clock import bp

        app.register_blueprint(bp)
    return app


@pytest.fixture
def world(app: Flask, make_org: Callable[..., int], make_user: Callable[..., int]) -> dict:
    """A region with two municipalities; each has a digi group with a chair; one org admin."""
    org_a, org_b = make_org("Alpha"), make_org("Beta")
    ids = {
        "org_a": org_a,
        "org_b": org_b,
        "admin_a": make_user("admin@a.fi", {Role.ORG_ADMIN}, org_a),
        "chair_a": make_user("chair@a.fi", set(), org_a),
        "chair_b": make_user("chair@b.fi", set(), org_b),
        "learner_a": make_user("learner@a.fi", set(), org_a),
    }
    with app.app_context():
        region = Region(slug="seutu", name="Seutu")
        db.session.add(region)
        db.session.flush()
        for org_id in (org_a, org_b):
            db.session.get_one(Organisation, org_id).region_id = region.id
        digi_a = Group(kind=GroupKind.DIGI, name="Alpha digi", organisation_id=org_a)
        digi_b = Group(kind=GroupKind.DIGI, name="Beta digi", organisation_id=org_b)
        regional = Group(kind=GroupKind.REGIONAL, name="Regional ICT", region_id=region.id)
        db.session.add_all([digi_a, digi_b, regional])
        db.session.flush()
        db.session.add_all(
            [
                GroupMembership(
                    group_id=digi_a.id,
                    user_id=ids["chair_a"],
                    role=GroupRole.CHAIR,
                    organisation_id=org_a,
                ),
                GroupMembership(
                    group_id=digi_b.id,
                    user_id=ids["chair_b"],
                    role=GroupRole.CHAIR,
                    organisation_id=org_b,
                ),
            ]
        )
        action = ClockAction(
            organisation_id=org_a,
            title="Device onboarding",
            start_month=8,
            end_month=8,
            first_year=2024,
            group_id=digi_a.id,
        )
        db.session.add(action)
        db.session.commit()
        ids |= {
            "region": region.id,
            "digi_a": digi_a.id,
            "digi_b": digi_b.id,
            "regional": regional.id,
            "action": action.id,
        }
    return ids


def _action(**values: object) -> ClockAction:
    defaults: dict[str, object] = {"title": "x", "organisation_id": 1, "first_year": 2024}
    return ClockAction(**(defaults | values))


# --- Dates ------------------------------------------------------------------------------------


def test_a_run_over_the_new_year_ends_in_the_next_year() -> None:
    action = _action(start_month=12, start_day=10, end_month=1, end_day=20)
    assert annual.wraps(action)
    assert annual.occurrence(action, 2025) == (date(2025, 12, 10), date(2026, 1, 20))


def test_no_day_is_the_whole_month_and_29_february_is_the_28th_in_common_years() -> None:
    february = _action(start_month=2, end_month=2)
    assert annual.occurrence(february, 2024) == (date(2024, 2, 1), date(2024, 2, 29))
    assert annual.occurrence(february, 2025) == (date(2025, 2, 1), date(2025, 2, 28))
    leap_day = _action(start_month=2, start_day=29, end_month=3, end_day=5)
    assert annual.occurrence(leap_day, 2024)[0] == date(2024, 2, 29)
    assert annual.occurrence(leap_day, 2025) == (date(2025, 2, 28), date(2025, 3, 5))
    spring = _action(start_month=3, end_month=5)
    assert annual.occurrence(spring, 2026) == (date(2026, 3, 1), date(2026, 5, 31))
    assert not annual.wraps(spring)


def test_dates_that_cannot_exist_are_refused(app_ctx: None, world: dict) -> None:
    scope = organisation_scope(db.session.get_one(Organisation, world["org_a"]))
    ok = annual.ActionData(title="Leap", start_month=2, start_day=29, end_month=3, first_year=2025)
    assert annual.create_action(scope, ok).start_day == 29
    for bad in (
        annual.ActionData(title="x", start_month=2, start_day=30, end_month=3, first_year=2025),
        annual.ActionData(title="x", start_month=4, end_month=4, end_day=31, first_year=2025),
        annual.ActionData(title="x", start_month=13, end_month=1, first_year=2025),
        annual.ActionData(title="x", start_month=1, end_month=2, first_year=2025, last_year=2024),
        annual.ActionData(title="x", start_month=1, end_month=2, first_year=2025, group_id=-1),
        annual.ActionData(
            title="x", start_month=1, end_month=2, first_year=2025, path_slugs=["no-such-path"]
        ),
        annual.ActionData(
            title="x", start_month=1, end_month=2, first_year=2025, group_id=world["digi_b"]
        ),
    ):
        with pytest.raises(annual.ClockError):
            annual.create_action(scope, bad)


def test_the_year_view_shows_a_december_january_run_in_both_years(
    app_ctx: None, world: dict
) -> None:
    scope = organisation_scope(db.session.get_one(Organisation, world["org_a"]))
    data = annual.ActionData(
        title="Winter planning", start_month=12, start_day=10, end_month=1, end_day=20,
        first_year=2025,
    )  # fmt: skip
    action = annual.create_action(scope, data)
    mine = [(action, False)]

    runs_2025 = annual.runs_in_view(mine, 2025)
    assert [(run.year, run.start, run.end) for run in runs_2025] == [
        (2025, date(2025, 12, 10), date(2026, 1, 20))
    ]
    runs_2026 = annual.runs_in_view(mine, 2026)
    assert [run.year for run in runs_2026] == [2025, 2026]
    months = dict(annual.month_list(runs_2026, 2026))
    assert [run.year for run in months[1]] == [2025]  # January: last year's run ends
    assert [run.year for run in months[12]] == [2026]  # December: this year's starts
    assert months[6] == []
    assert dict(annual.month_list(runs_2025, 2025))[1] == []  # no run started in 2024

    in_2024 = [a.title for a, _regional in annual.actions_in_year(scope, 2024)]
    assert in_2024 == ["Device onboarding"]


def test_an_organisation_sees_its_regions_actions_as_regional(app_ctx: None, world: dict) -> None:
    region = db.session.get_one(Region, world["region"])
    regional = annual.create_action(
        region_scope(region),
        annual.ActionData(title="Regional round", start_month=10, end_month=10, first_year=2025),
    )
    with pytest.raises(annual.RaciError):  # a region's action cannot name a municipality's group
        annual.set_raci(regional, [(world["digi_a"], None, "A")])
    annual.set_raci(regional, [(world["regional"], GroupRole.CHAIR, "A")])
    org_scope = organisation_scope(db.session.get_one(Organisation, world["org_a"]))
    listed = {a.title: regional for a, regional in annual.actions_in_year(org_scope, 2026)}
    assert listed == {"Device onboarding": False, "Regional round": True}
    other = organisation_scope(db.session.get_one(Organisation, world["org_b"]))
    assert [a.title for a, _r in annual.actions_in_year(other, 2026)] == ["Regional round"]
    assert [a.title for a, _r in annual.actions_in_year(region_scope(region), 2026)] == [
        "Regional round"
    ]


# --- RACI, done, year on year -----------------------------------------------------------------


def test_raci_needs_exactly_one_accountable(app_ctx: None, world: dict) -> None:
    action = db.session.get_one(ClockAction, world["action"])
    digi, regional = world["digi_a"], world["regional"]

    with pytest.raises(annual.RaciError, match="Exactly one party is Accountable"):
        annual.set_raci(action, [(digi, None, "R")])
    with pytest.raises(annual.RaciError, match="has 2"):
        annual.set_raci(action, [(digi, None, "A"), (regional, None, "A")])
    with pytest.raises(annual.RaciError):
        annual.set_raci(action, [(world["digi_b"], None, "A")])  # another org's group
    with pytest.raises(annual.RaciError):
        annual.set_raci(action, [(digi, None, "A"), (digi, None, "R")])
    with pytest.raises(annual.RaciError):
        annual.set_raci(action, [(digi, GroupRole.LEAD, "A")])  # no leads in a digi group

    annual.set_raci(
        action,
        [(digi, GroupRole.CHAIR, "A"), (digi, None, "R"), (regional, None, "I")],
    )
    db.session.commit()
    letters = {(e.group_id, e.member_role, e.letter.value) for e in action.raci}
    assert letters == {(digi, GroupRole.CHAIR, "A"), (digi, None, "R"), (regional, None, "I")}
    annual.set_raci(action, [(regional, None, "A")])  # replacing works
    db.session.commit()
    assert [(e.group_id, e.letter.value) for e in action.raci] == [(regional, "A")]


def test_done_is_kept_per_year(app_ctx: None, world: dict) -> None:
    action = db.session.get_one(ClockAction, world["action"])
    annual.mark_done(action, 2024, None, "went well", NOW)
    annual.mark_done(action, 2025, None, "", NOW)
    annual.mark_not_done(action, 2025)
    db.session.commit()
    assert annual.done_years(action) == {2024}
    assert db.session.get_one(ClockActionDone, (action.id, 2024)).note == "went well"
    with pytest.raises(annual.ClockError):
        annual.mark_done(action, 2023, None, "", NOW)  # before the first year

    today = date(2026, 8, 10)
    assert annual.status(action, 2024, today) == annual.DONE
    assert annual.status(action, 2025, today) == annual.NOT_DONE
    assert annual.status(action, 2026, today) == annual.IN_PROGRESS
    assert annual.status(action, 2027, today) == annual.UPCOMING
    assert annual.status(action, 2023, today) == annual.NOT_DUE

    scope = organisation_scope(db.session.get_one(Organisation, world["org_a"]))
    rows = annual.year_on_year(scope, [2023, 2024, 2025, 2026], today)
    assert [(a.title, statuses) for a, _regional, statuses in rows] == [
        ("Device onboarding", ["not_due", "done", "not_done", "in_progress"])
    ]


# --- Pages and who may do what ----------------------------------------------------------------


def test_chairs_and_readers(client, auth, world: dict, app: Flask) -> None:  # type: ignore[no-untyped-def]
    action_id, org_a = world["action"], world["org_a"]
    done_url = f"/network/clock/actions/{action_id}/done"

    auth.login("chair@b.fi")  # chair of another organisation's group
    assert client.post(done_url, data={"year": 2025}).status_code == 403
    assert client.get(f"/network/organisation/{org_a}/clock").status_code == 403
    auth.logout()

    auth.login("learner@a.fi")  # reads, cannot edit
    page = client.get(f"/network/organisation/{org_a}/clock")
    assert page.status_code == 200
    assert "Device onboarding" in page.text
    assert 'id="add-action"' not in page.text
    assert client.post(done_url, data={"year": 2025}).status_code == 403
    new = {"title": "Mine", "start_month": 1, "end_month": 1, "first_year": 2026}
    assert client.post(f"/network/organisation/{org_a}/clock", data=new).status_code == 403
    assert client.get(f"/network/clock/actions/{action_id}").status_code == 200
    auth.logout()

    auth.login("chair@a.fi")  # chair of the responsible group
    response = client.post(done_url, data={"year": 2025, "note": "All devices out"})
    assert response.status_code == 302
    assert "Edit the action" in client.get(f"/network/clock/actions/{action_id}").text
    assert client.post(f"/network/organisation/{org_a}/clock", data=new).status_code == 403
    with app.app_context():
        assert annual.done_years(db.session.get_one(ClockAction, action_id)) == {2025}


def test_an_org_admin_adds_an_action_and_bad_input_is_a_4xx(
    client, auth, world: dict, app: Flask
) -> None:  # type: ignore[no-untyped-def]
    org_a = world["org_a"]
    auth.login("admin@a.fi")
    url = f"/network/organisation/{org_a}/clock"
    bad = {"title": "Spring review", "start_month": 13, "end_month": 5, "first_year": 2026}
    response = client.post(url, data=bad)
    assert response.status_code == 400
    assert "Not a valid choice" in response.text
    bad_day = bad | {"start_month": 2, "start_day": 30}
    response = client.post(url, data=bad_day)
    assert response.status_code == 400
    assert "does not exist" in response.text

    good = bad | {"start_month": 4, "group": world["digi_a"], "goal": 0}
    response = client.post(url, data=good)
    assert response.status_code == 302
    with app.app_context():
        action = db.session.execute(
            db.select(ClockAction).where(ClockAction.title == "Spring review")
        ).scalar_one()
        assert (action.start_month, action.end_month, action.group_id) == (4, 5, world["digi_a"])
    for view in ("circle", "months", "years"):
        page = client.get(url, query_string={"view": view, "year": 2026})
        assert page.status_code == 200, view
        assert "Spring review" in page.text
    assert client.get(url, query_string={"year": "20x6"}).status_code == 400
    assert client.get(url, query_string={"view": "pie"}).status_code == 400

    raci = f"/network/clock/actions/{action.id}/raci"
    two = {f"party_{world['digi_a']}_all": "A", f"party_{world['regional']}_all": "A"}
    response = client.post(raci, data=two)
    assert response.status_code == 400
    assert "Exactly one party is Accountable" in response.text
    one = {f"party_{world['digi_a']}_chair": "A", f"party_{world['regional']}_all": "I"}
    assert client.post(raci, data=one).status_code == 302
    page = client.get(f"/network/clock/actions/{action.id}").text
    assert "Alpha digi: Chair" in page and "Regional ICT" in page

    assert client.get(f"/network/groups/{world['digi_a']}/clock").status_code == 200
    assert client.post(f"/network/clock/actions/{action.id}/delete").status_code == 302
    with app.app_context():
        assert db.session.get(ClockAction, action.id) is None


@pytest.mark.parametrize(
    ("language", "january", "short"), [("fi", "Tammikuu", "Tammi"), ("sv", "Januari", "Jan.")]
)
def test_month_names_follow_the_language(
    client, auth, world: dict, language: str, january: str, short: str
) -> None:  # type: ignore[no-untyped-def]
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    auth.login("learner@a.fi")
    page = client.get(f"/network/organisation/{world['org_a']}/clock", query_string={"year": 2026})
    assert page.status_code == 200
    assert f">{january}</h3>" in page.text  # the month list
    assert f">{short}</text>" in page.text  # the circle


def test_editing_an_action_and_bad_years(client, auth, world: dict, app: Flask) -> None:  # type: ignore[no-untyped-def]
    auth.login("chair@a.fi")  # the responsible group's chair edits the action
    url = f"/network/clock/actions/{world['action']}"
    edit = {"title": "Device onboarding", "start_month": 8, "start_day": 10, "end_month": 9}
    response = client.post(url, data=edit | {"first_year": 2024, "last_year": 2023})
    assert response.status_code == 400
    assert "The last year cannot come before the first year." in response.text
    assert (
        client.post(url, data=edit | {"first_year": 2024, "group": world["digi_a"]}).status_code
        == 302
    )
    response = client.post(f"{url}/done", data={"year": 2020})
    assert response.status_code == 400
    assert "no run in 2020" in response.text
    assert client.post(f"{url}/done", data={"year": "soon"}).status_code == 400
    assert client.post(f"{url}/delete").status_code == 403  # deleting is for the scope's editors
    with app.app_context():
        action = db.session.get_one(ClockAction, world["action"])
        assert (action.start_day, action.end_month, action.last_year) == (10, 9, None)
        assert annual.done_years(action) == set()


def test_years_outside_the_networks_years_are_refused(
    client, auth, world: dict, app: Flask
) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        scope = organisation_scope(db.session.get_one(Organisation, world["org_a"]))
        old = annual.ActionData(title="Old", start_month=1, end_month=1, first_year=1950)
        with pytest.raises(annual.ClockError, match="Give a year between 2000 and 2100."):
            annual.create_action(scope, old)
        assert annual.accountable_count(["A", "", "R", annual.Raci.ACCOUNTABLE]) == 2
    auth.login("admin@a.fi")
    url = f"/network/organisation/{world['org_a']}/clock"
    response = client.post(url, data={"title": "Old", "start_month": 1, "end_month": 1,
                                      "first_year": 1950})  # fmt: skip
    assert response.status_code == 400
    assert "Give a year between 2000 and 2100." in response.text
    page = client.get(url, query_string={"year": 2000}).text
    assert 'min="2000" max="2100"' in page and "Previous year" not in page
    assert client.get(url, query_string={"year": 1999}).status_code == 400


def test_a_refused_done_form_says_why(client, auth, world: dict, app: Flask) -> None:  # type: ignore[no-untyped-def]
    auth.login("admin@a.fi")
    url = f"/network/clock/actions/{world['action']}"
    long_note = client.post(f"{url}/done", data={"year": 2025, "note": "x" * 1001})
    assert long_note.status_code == 400
    assert "1000 characters" in long_note.text and "Check the year" not in long_note.text
    app.config.update(WTF_CSRF_ENABLED=True, WTF_CSRF_CHECK_DEFAULT=False)  # the form checks it
    for path in ("done", "not-done"):
        response = client.post(f"{url}/{path}", data={"year": 2025})
        assert response.status_code == 400
        assert "The form could not be accepted; reload the page and try again." in response.text
    page = client.get(url).text
    assert "A – Accountable" in page and "R · Responsible" not in page  # labels.raci_choices
