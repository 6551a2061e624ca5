"""Probe every network route: no 500s on junk input, no authorisation holes, no unescaped HTML.

A world of two regions, four organisations and eight users (anonymous included) is seeded; the
sweeps issue GETs and POSTs with real and junk ids and form values and collect every exception,
so a failing test lists all problems at once. Tests named `test_defect_*` pin one found defect.
"""

from __future__ import annotations

import io
import re
import tomllib
import traceback
from collections.abc import Callable
from datetime import UTC
from datetime import datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

from campus.auth.models import Organisation
from campus.auth.models import OrganisationKind
from campus.auth.models import Region
from campus.auth.models import Role
from campus.auth.models import User
from campus.extensions import db
from campus.network import ical
from campus.network import toolkits
from campus.network.access import organisation_scope
from campus.network.clock_models import ClockAction
from campus.network.clock_models import ClockActionDone
from campus.network.clock_models import Raci
from campus.network.clock_models import RaciEntry
from campus.network.models import DevelopmentArea
from campus.network.models import Focus
from campus.network.models import Goal
from campus.network.models import Group
from campus.network.models import GroupKind
from campus.network.models import GroupMembership
from campus.network.models import GroupRole
from campus.network.models import Roadmap
from campus.network.models import Unit
from tests.conftest import PASSWORD

XSS = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'
RAW = ("<script>alert(1)</script>", "<img src=x onerror")
NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
YEAR = datetime.now(UTC).year
USERS = ("anon", "admin", "admin_a", "admin_b", "regdev", "learner", "chair", "outsider")
PUBLIC = {"network_clock.feed", "network_roadmaps.shared"}
PEOPLE = {  # who: (email, roles, organisation key)
    "admin": ("admin@x.fi", {Role.ADMIN}, "a"), "admin_a": ("admin@a.fi", {Role.ORG_ADMIN}, "a"),
    "admin_b": ("admin@b.fi", {Role.ORG_ADMIN}, "b"), "learner": ("l@a.fi", {Role.LEARNER}, "a"),
    "regdev": ("dev@r1.fi", {Role.REGIONAL_DEVELOPER}, "a_mun"), "chair": ("chair@a.fi", set(), "a"),
    "outsider": ("out@x.fi", set(), "out"),
}  # fmt: skip
TABLES = (
    "region organisation unit network_group group_membership kickoff_kit group_kickoff roadmap "
    "goal goal_status_change clock_action raci_entry clock_action_done calendar_feed toolkit"
).split()


@pytest.fixture
def world(app: Flask, make_org: Callable[..., int], make_user: Callable[..., int]) -> dict:
    orgs = {key: make_org(name) for key, name in (("a", "Alpha"), ("a_mun", "Alpha Town"))}
    orgs |= {key: make_org(name) for key, name in (("b", "Beta"), ("b_prov", "Beta College"))}
    orgs["out"] = make_org("Elsewhere")
    w: dict = {f"org_{k}": v for k, v in orgs.items()}
    w["users"] = {who: make_user(e, roles, orgs[o]) for who, (e, roles, o) in PEOPLE.items()}
    with app.app_context():
        r1, r2 = Region(slug="r1", name="Region One"), Region(slug="r2", name="Region Two")
        db.session.add_all([r1, r2])
        db.session.flush()
        provider, municipality = OrganisationKind.EDUCATION_PROVIDER, OrganisationKind.MUNICIPALITY
        for key, region, kind in (("a", r1, provider), ("a_mun", r1, municipality),
                                  ("b", r2, municipality), ("b_prov", r2, provider)):  # fmt: skip
            org = db.session.get_one(Organisation, orgs[key])
            org.region_id, org.kind = region.id, kind
        digi = Group(kind=GroupKind.DIGI, name=f"Digi {XSS}", organisation_id=orgs["a"])
        digi_b = Group(kind=GroupKind.DIGI, name="Beta digi", organisation_id=orgs["b"])
        regional = Group(kind=GroupKind.REGIONAL, name="Regional ICT", region_id=r1.id)
        db.session.add_all([digi, digi_b, regional, Unit(organisation_id=orgs["a"], name="U1")])
        db.session.flush()
        chair_member = GroupMembership(group_id=digi.id, user_id=w["users"]["chair"],
                                       role=GroupRole.CHAIR, organisation_id=orgs["a"])  # fmt: skip
        db.session.add(chair_member)
        owners = {"a": ("organisation_id", orgs["a"]), "b": ("organisation_id", orgs["b"])}
        owners |= {"r1": ("region_id", r1.id), "r2": ("region_id", r2.id)}
        roadmaps = {
            key: Roadmap(title=f"Map {key}", first_year=2025, last_year=2028, **{column: value})
            for key, (column, value) in owners.items()
        }
        db.session.add_all(roadmaps.values())
        db.session.flush()
        regional_goal = Goal(
            roadmap_id=roadmaps["r1"].id, area=DevelopmentArea.COMPETENCE, focus=Focus.LEARNING,
            title="Regional goal",
        )  # fmt: skip
        goal = Goal(
            roadmap_id=roadmaps["a"].id, area=DevelopmentArea.COMPETENCE, focus=Focus.LEARNING,
            title=f"Goal {XSS}", group_id=digi.id,
        )  # fmt: skip
        db.session.add_all([regional_goal, goal])
        db.session.flush()
        action = ClockAction(
            organisation_id=orgs["a"], title=f"Act {XSS}", start_month=3, end_month=4,
            first_year=2024, group_id=digi.id, goal_id=goal.id,
        )  # fmt: skip
        action_b = ClockAction(
            organisation_id=orgs["b"], title="Beta act", start_month=3, end_month=4,
            first_year=2024, group_id=digi_b.id,
        )  # fmt: skip
        db.session.add_all([action, action_b])
        db.session.flush()
        db.session.add(RaciEntry(action_id=action.id, group_id=digi.id, letter=Raci.ACCOUNTABLE))
        db.session.add(ClockActionDone(action_id=action.id, year=2025))
        admin_a = db.session.get_one(User, w["users"]["admin_a"])
        a_scope = organisation_scope(db.session.get_one(Organisation, orgs["a"]))
        kit = toolkits.publish(
            a_scope, roadmaps["a"], f"Kit {XSS}", "kit-a", "", "en", admin_a, NOW
        )
        w["token"] = ical.create_feed(db.session.get_one(Organisation, orgs["a"]), admin_a, NOW)
        db.session.commit()
        w |= {
            "r1": r1.id, "r2": r2.id, "digi": digi.id, "digi_b": digi_b.id, "member": chair_member.id,
            "unit": db.session.execute(db.select(Unit.id)).scalar_one(), "slug": kit.slug,
            "goal": goal.id, "regional_goal": regional_goal.id, "action": action.id,
            "action_b": action_b.id, "roadmaps": {k: r.id for k, r in roadmaps.items()},
        }  # fmt: skip
    return w


@pytest.fixture
def clients(app: Flask, world: dict) -> dict[str, FlaskClient]:
    result = {}
    for name in USERS:
        client = app.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        if name != "anon":
            response = client.post(
                "/auth/login", data={"email": PEOPLE[name][0], "password": PASSWORD}
            )
            assert response.status_code == 302, name
        result[name] = client
    return result


def snapshot(app: Flask) -> dict[str, list]:
    with app.app_context():
        tables = {t.name: t for t in db.metadata.sorted_tables if t.name in TABLES}
        return {
            name: sorted(map(repr, db.session.execute(tables[name].select()).all()))
            for name in TABLES
        }


def real_values(w: dict, region: bool = False) -> dict[str, object]:
    return {
        "kind": "region" if region else "organisation",
        "scope_id": w["r1"] if region else w["org_a"],
        "action_id": w["action"], "goal_id": w["goal"], "group_id": w["digi"],
        "member_id": w["member"], "organisation_id": w["org_a"], "unit_id": w["unit"],
        "region_id": w["r1"], "roadmap_id": w["roadmaps"]["a"], "token": w["token"],
        "slug": w["slug"],
    }  # fmt: skip


def fill(rule: str, values: dict[str, object]) -> str:
    return re.sub(r"<(?:[^:>]+:)?([a-z_]+)>", lambda m: str(values[m[1]]), rule)


def network_rules(app: Flask, method: str) -> list:
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("network")]
    rules = [r for r in rules if method in r.methods]
    # destructive routes last, so the others still find their rows
    return sorted(rules, key=lambda r: (bool(re.search("delete|remove", r.rule)), r.rule))


def call(client: FlaskClient, method: str, url: str, problems: list[str], who: str, **kw):  # type: ignore[no-untyped-def]
    try:
        response = client.open(url, method=method, **kw)
    except Exception:  # the app re-raises unexpected errors in tests: that is a 500
        tail = traceback.format_exc().strip().splitlines()[-3:]
        data = kw.get("data")
        shown = {k: (str(v)[:30]) for k, v in (data or {}).items()}
        problems.append(f"500 {method} {url[:120]} as {who} data={shown}: {' | '.join(tail)}")
        return None
    if response.status_code >= 500:
        problems.append(f"{response.status_code} {method} {url[:120]} as {who}")
    elif response.mimetype == "text/html" and any(raw in response.text for raw in RAW):
        problems.append(f"unescaped HTML on {method} {url[:120]} as {who}")
    return response


FIELDS = (
    "title name mandate description note summary slug starting_point target_state indicators "
    "paths badges email responsibilities questions tasks parties"
).split()
CHOICES = "start_month end_month group goal status regional_goal direction action area focus"
CHOICES += " measure kind role organisation region roadmap language target theme"
NUMBERS = ("start_day", "end_day", "first_year", "last_year", "year")


def payload(variant: str) -> MultiDict:
    text = {
        "long": "x" * 100_000, "nul": "a\x00b", "lines": "\n".join(["line"] * 3000),
        "enum": "bogus", "digits": "²", "huge": "9" * 5000, "bigint": "99999999999999999999",
        "negative": "-1",
    }.get(variant, "")  # fmt: skip
    data = MultiDict({name: text for name in (*FIELDS, *CHOICES.split(), *NUMBERS)})
    data["target"] = f"organisation:{text}" if variant in ("digits", "bigint") else text
    if variant == "dates":
        data = MultiDict({"title": "April", "start_month": "4", "start_day": "31"})
        data.update({"end_month": "13", "end_day": "0", "first_year": "99999", "year": "0"})
    if variant == "duplicates":
        data = MultiDict([("title", "one"), ("title", "two"), ("year", str(YEAR))])
        data.update({"year": "abc", "status": "achieved", "action": "on"})
        data.update({"action": "off", "direction": "up", "direction": "down"})  # noqa: F601
    if variant == "enum":  # answers of the kick-off, letters of the RACI matrix
        data.update({"answer-0": "a", "cell-0-0": "Z", f"party_{1}_all": "Q"})
    return data


VARIANTS = ("empty", "long", "nul", "lines", "enum", "digits", "huge", "bigint", "dates")
VARIANTS += ("duplicates",)


def test_get_sweep_every_user_real_ids(app: Flask, world: dict, clients: dict) -> None:
    problems: list[str] = []
    for rule in network_rules(app, "GET"):
        for region in (False, True) if "kind" in rule.arguments else (False,):
            url = fill(rule.rule, real_values(world, region))
            for who in USERS:
                response = call(clients[who], "GET", url, problems, who)
                if response is None:
                    continue
                code = response.status_code
                if who == "anon" and rule.endpoint not in PUBLIC:
                    ok = code in (401, 403, 404) or (
                        code == 302 and "/auth/login" in response.location
                    )
                    if not ok:
                        problems.append(f"anon got {code} on {url}")
                a_bound = not rule.endpoint.startswith(
                    ("network.", "network_toolkits.", "network_regions.regions")
                )
                if who in ("admin_b", "outsider") and a_bound and rule.endpoint not in PUBLIC:
                    if code not in (403, 404):
                        problems.append(f"{who} read {url}: {code}")
    listing = clients["outsider"].get("/network/regions/").text  # filtered to what they read
    assert "Region One" not in listing and "Region Two" not in listing
    assert problems == [], "\n".join(problems)


JUNK_IDS = ("99999999999999999999", "0", "-1", "1e3")


def test_get_sweep_junk_ids_and_queries(app: Flask, world: dict, clients: dict) -> None:
    problems: list[str] = []
    admin = clients["admin"]
    for rule in network_rules(app, "GET"):
        for name in rule.arguments:
            for junk in (*JUNK_IDS, "school", "a" * 2000, "..%2F..", "%00"):
                values = real_values(world) | {name: junk}
                response = call(admin, "GET", fill(rule.rule, values), problems, "admin")
                if response is not None and response.status_code not in (400, 404, 302):
                    problems.append(
                        f"junk {name}={junk[:20]} on {rule.rule}: {response.status_code}"
                    )
        url = fill(rule.rule, real_values(world))
        for query in ("year=²", f"year={'9' * 5000}", "year=-1", "year=99999", "view=bogus"):
            call(admin, "GET", f"{url}?{query}&year=2026", problems, "admin")
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("who", ["anon", "outsider", "admin_b", "learner"])
def test_post_sweep_without_rights_changes_nothing(
    app: Flask, world: dict, clients: dict, who: str
) -> None:
    problems: list[str] = []
    for rule in network_rules(app, "POST"):
        url = fill(rule.rule, real_values(world))
        for variant in ("enum", "empty"):
            before = snapshot(app)
            data = payload(variant)
            data["target"] = f"organisation:{world['org_a']}"
            data["year"] = str(YEAR)
            response = call(clients[who], "POST", url, problems, who, data=data)
            if response is None:
                continue
            code = response.status_code
            expected = (302, 401, 403, 404) if who == "anon" else (403, 404)
            if who == "admin_b" and rule.endpoint == "network_toolkits.import_template":
                expected = (422,)  # importing is open to anyone who edits a scope; no file here
            if code not in expected or (code == 302 and "/auth/login" not in response.location):
                problems.append(f"{who} POST {url} ({variant}): {code}")
            if snapshot(app) != before:
                problems.append(f"{who} POST {url} ({variant}) changed the database")
    assert problems == [], "\n".join(problems)


def test_post_sweep_junk_as_admin_never_500(app: Flask, world: dict, clients: dict) -> None:
    problems: list[str] = []
    for rule in network_rules(app, "POST"):
        url = fill(rule.rule, real_values(world))
        for variant in VARIANTS:
            call(clients["admin"], "POST", url, problems, "admin", data=payload(variant))
    assert problems == [], "\n".join(problems)


# ----------------------------------------------------------------- authorisation matrix


def test_chair_marks_done_but_cannot_delete_or_edit_roadmap(
    app: Flask, world: dict, clients: dict
) -> None:
    chair, action = clients["chair"], world["action"]
    response = chair.post(f"/network/clock/actions/{action}/done", data={"year": "2026"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(ClockActionDone, (action, 2026)) is not None
    before = snapshot(app)
    assert chair.post(f"/network/clock/actions/{action}/delete").status_code == 403
    roadmap = world["roadmaps"]["a"]
    edit = {"title": "Hijacked", "first_year": "2025", "last_year": "2028"}
    assert chair.post(f"/network/roadmaps/{roadmap}/edit", data=edit).status_code == 403
    new_goal = {"area": "competence", "focus": "learning", "title": "Chair goal"}
    assert chair.post(f"/network/roadmaps/{roadmap}/goals/new", data=new_goal).status_code == 403
    status = {"status": "achieved"}
    assert chair.post(f"/network/goals/{world['goal']}/status", data=status).status_code == 403
    # another organisation's action is not the chair's
    done_b = chair.post(f"/network/clock/actions/{world['action_b']}/done", data={"year": "2026"})
    assert done_b.status_code == 403
    assert snapshot(app) == before


def test_org_b_admin_and_regional_developer_bounds(app: Flask, world: dict, clients: dict) -> None:
    edit = {"title": "Edited", "first_year": "2025", "last_year": "2028"}
    roadmaps = world["roadmaps"]
    before = snapshot(app)
    admin_b = clients["admin_b"]
    assert admin_b.post(f"/network/roadmaps/{roadmaps['a']}/edit", data=edit).status_code == 403
    assert admin_b.post(f"/network/roadmaps/{roadmaps['r1']}/edit", data=edit).status_code == 403
    regdev = clients["regdev"]
    assert regdev.post(f"/network/roadmaps/{roadmaps['r2']}/edit", data=edit).status_code == 403
    assert regdev.post(f"/network/roadmaps/{roadmaps['a']}/edit", data=edit).status_code == 403
    assert snapshot(app) == before
    assert regdev.post(f"/network/roadmaps/{roadmaps['r1']}/edit", data=edit).status_code == 302
    assert admin_b.post(f"/network/roadmaps/{roadmaps['b']}/edit", data=edit).status_code == 302
    with app.app_context():
        assert db.session.get_one(Roadmap, roadmaps["r1"]).title == "Edited"
        assert db.session.get_one(Roadmap, roadmaps["a"]).title == "Map a"


def test_learner_reads_but_cannot_post(app: Flask, world: dict, clients: dict) -> None:
    learner, org_a = clients["learner"], world["org_a"]
    assert learner.get(f"/network/roadmaps/{world['roadmaps']['a']}").status_code == 200
    assert learner.get(f"/network/organisation/{org_a}/clock").status_code == 200
    assert learner.get(f"/network/organisation/{org_a}/clock?view=months").status_code == 200
    before = snapshot(app)
    new_action = {"title": "L", "start_month": "5", "end_month": "5", "first_year": "2026"}
    assert learner.post(f"/network/organisation/{org_a}/clock", data=new_action).status_code == 403
    posted = learner.post(f"/network/organisation/{org_a}/roadmaps", data={"title": "L"})
    assert posted.status_code == 403
    done = learner.post(f"/network/clock/actions/{world['action']}/done", data={"year": "2026"})
    assert done.status_code == 403
    assert snapshot(app) == before


def test_shared_roadmap_only_with_sharing_on_and_feed_token(
    app: Flask, world: dict, clients: dict
) -> None:
    roadmap, anon = world["roadmaps"]["a"], clients["anon"]
    assert anon.get("/network/shared/roadmaps/nothing").status_code == 404
    assert clients["admin_a"].post(f"/network/roadmaps/{roadmap}/sharing", data={"action": "on"})
    with app.app_context():
        token = db.session.get_one(Roadmap, roadmap).share_token
    assert token
    page = anon.get(f"/network/shared/roadmaps/{token}")
    assert page.status_code == 200 and "&lt;script&gt;" in page.text
    assert not any(raw in page.text for raw in RAW)
    clients["admin_a"].post(f"/network/roadmaps/{roadmap}/sharing", data={"action": "off"})
    assert anon.get(f"/network/shared/roadmaps/{token}").status_code == 404
    assert anon.get(f"/network/calendar/{world['token']}x.ics").status_code == 404
    assert anon.get("/network/calendar/.ics").status_code == 404
    assert anon.get(f"/network/calendar/{world['token']}.ics").status_code == 200


# -------------------------------------------------------------------------------- XSS


def test_payload_escaped_on_pages_plain_in_ical_and_toml_round_trips(
    app: Flask, world: dict, clients: dict
) -> None:
    admin, org_a = clients["admin"], world["org_a"]
    a = f"/network/organisation/{org_a}"
    for url in (f"{a}/roadmaps", f"{a}/dashboard", f"{a}/publish", "/network/"):  # no titles
        page = admin.get(url)
        assert page.status_code == 200 and not any(raw in page.text for raw in RAW), url
    pages = [f"{a}/clock", f"{a}/clock?view=months", f"{a}/clock?view=years", f"{a}/groups"]
    pages += [f"/network/roadmaps/{world['roadmaps']['a']}", f"/network/goals/{world['goal']}"]
    pages += [f"/network/groups/{world['digi']}", f"/network/groups/{world['digi']}/clock"]
    pages += [f"/network/clock/actions/{world['action']}", f"/network/templates/{world['slug']}"]
    pages += ["/network/templates/"]
    missing = []
    for url in pages:
        html = admin.get(url).text
        assert not any(raw in html for raw in RAW), url
        if "&lt;script&gt;alert(1)&lt;/script&gt;" not in html:
            missing.append(url)
    assert missing == [], missing
    svg = admin.get(f"/network/organisation/{org_a}/clock").text
    assert "<svg" in svg and "Act &lt;script&gt;" in svg
    feed = clients["anon"].get(f"/network/calendar/{world['token']}.ics")
    assert feed.mimetype == "text/calendar"
    assert f"Act {XSS}" in feed.text.replace("\r\n ", "").replace("\\", "")
    assert "&lt;" not in feed.text
    toml_text = admin.get(f"/network/templates/{world['slug']}.toml").text
    body = tomllib.loads(toml_text)
    assert body["title"] == f"Kit {XSS}"
    assert [g["title"] for g in body["roadmap"]["goals"]] == [f"Goal {XSS}"]
    assert body["clock"]["actions"][0]["title"] == f"Act {XSS}"
    changed = toml_text.replace('slug = "kit-a"', 'slug = "kit-a-copy"')
    upload = {"file": (io.BytesIO(changed.encode()), "kit.toml")}
    response = admin.post("/network/templates/import", data=upload)
    assert response.status_code == 302, response.text[:500]
    reimported = tomllib.loads(admin.get("/network/templates/kit-a-copy.toml").text)
    assert reimported | {"slug": "kit-a"} == body


# -------------------------------------------------------------------------------- CSRF


def test_csrf_token_required_on_network_forms(app: Flask, world: dict, clients: dict) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    admin, org_a = clients["admin"], world["org_a"]
    before = snapshot(app)
    posts = [
        (f"/network/organisation/{org_a}/roadmaps", {"title": "X", "first_year": "2025"}),
        (f"/network/clock/actions/{world['action']}/done", {"year": "2026"}),
        (f"/network/clock/actions/{world['action']}/delete", {}),
        (f"/network/groups/{world['digi']}/edit", {"name": "X"}),
        (f"/network/roadmaps/{world['roadmaps']['a']}/sharing", {"action": "on"}),
        (f"/network/templates/{world['slug']}/delete", {}),
        ("/network/regions/", {"name": "New region"}),
    ]
    for url, data in posts:
        assert admin.post(url, data=data).status_code == 400, url
    assert snapshot(app) == before


def test_ids_of_other_objects_in_forms_and_urls_are_refused(
    app: Flask, world: dict, clients: dict
) -> None:
    with app.app_context():
        other = Goal(
            roadmap_id=world["roadmaps"]["r2"], area=DevelopmentArea.CONTENT, focus=Focus.TRUST,
            title="Region two goal",
        )  # fmt: skip
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    before = snapshot(app)
    admin_a, admin_b = clients["admin_a"], clients["admin_b"]
    serves = admin_a.post(
        f"/network/goals/{world['goal']}/serves", data={"regional_goal": other_id}
    )
    assert serves.status_code == 400
    member = f"/network/groups/{world['digi_b']}/members/{world['member']}"
    assert admin_b.post(member, data={"role": "member"}).status_code == 404
    assert admin_b.post(member + "/remove").status_code == 404
    unit = f"/network/organisations/{world['org_b']}/units/{world['unit']}"
    assert admin_b.post(unit + "/rename", data={"name": "Mine"}).status_code == 404
    other_goal = {"title": "T", "start_month": "1", "end_month": "2", "first_year": "2026"}
    other_goal["goal"] = str(world["goal"])
    created = admin_b.post(f"/network/organisation/{world['org_b']}/clock", data=other_goal)
    assert created.status_code == 400
    copy = {"target": f"organisation:{world['org_a']}", "first_year": "2026"}
    assert admin_b.post(f"/network/templates/{world['slug']}/copy", data=copy).status_code == 403
    assert snapshot(app) == before


# ------------------------------------ defects the sweeps found (500s, now clear 4xx answers)


def test_clock_year_of_5000_digits_is_400(world: dict, clients: dict) -> None:
    org_clock, group_clock = f"organisation/{world['org_a']}", f"groups/{world['digi']}"
    for url in (f"/network/{org_clock}/clock", f"/network/{group_clock}/clock"):
        assert clients["admin"].get(f"{url}?year={'9' * 5000}").status_code == 400


def test_dashboard_year_superscript_or_5000_digits_is_400(world: dict, clients: dict) -> None:
    for year in ("²", "9" * 5000):
        url = f"/network/organisation/{world['org_a']}/dashboard?year={year}"
        assert clients["admin"].get(url).status_code == 400


def test_done_without_year_is_400(world: dict, clients: dict) -> None:
    for route in ("done", "not-done"):  # "0" and "abc" answer 400; an empty year did raise
        url = f"/network/clock/actions/{world['action']}/{route}"
        assert clients["admin_a"].post(url, data={"year": ""}).status_code == 400


@pytest.mark.parametrize("scope_id", ["²", "99999999999999999999"])
def test_template_copy_target_odd_id_is_4xx(world: dict, clients: dict, scope_id: str) -> None:
    data = {"target": f"organisation:{scope_id}", "first_year": "2026"}
    response = clients["admin"].post(f"/network/templates/{world['slug']}/copy", data=data)
    assert response.status_code in (400, 404)
