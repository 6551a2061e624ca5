"""Development network benchmark through gunicorn and wrk: what the network's pages cost at scale.

The demo network (`flask network demo`) is scaled up with bulk rows: `--organisations` extra
organisations in the demo region, each with 30 people (some with path completions and badges),
a digi group of 5 (its chair also in the regional group, except every fifth: a structure flag),
a roadmap of 12 goals (every third serving a regional goal) and 15 annual-clock actions with RACI
(one A) and done marks for the last three years. Organisation pages are those of the first bulk
organisation (15 actions of its own plus the region's); the region clock shows the region's own
actions, as the product does. Logged in as the demo account (an admin); the iCal feed of the
region is read without a login, through a token made by `campus.network.ical.create_feed`.

As in bench/security.py, a bare Flask "hello" (bench/hello.py) and the campus run side by side
under gunicorn -w 2, and wrk -t1 -c4 drives them in interleaved rounds. Reported per scenario:
the median rate as a share of the hello ceiling of the same round, and the p95 latency. Then,
in-process, the SQL queries of each page (second request, with a "before_cursor_execute"
counter) at `--organisations` and at 5 organisations: a count that grows with organisations is
flagged. With pyinstrument installed (`.venv/bin/pip install pyinstrument`, not a project
dependency), the slowest page is profiled and its top functions by own time printed.

Usage: `.venv/bin/python bench/network.py [--seconds 5] [--rounds 3] [--organisations 40]`
(needs `wrk`: `apt-get install wrk`). No targets: it reports what it measures.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.security import BIN  # noqa: E402
from bench.security import LUA_REPORT  # noqa: E402
from bench.security import cookie_header  # noqa: E402
from bench.security import csrf_session  # noqa: E402
from bench.security import free_port  # noqa: E402
from bench.security import gunicorn  # noqa: E402
from bench.security import wait_until_up  # noqa: E402
from bench.security import wrk  # noqa: E402

PASSWORD = "bench password 123"
SMALL = 5  # the second column of the query counts
PEOPLE = 30  # per bulk organisation
GOALS = 12
ACTIONS = 15
HELLO = "bare Flask hello (ceiling)"
# Pages that list the region's organisations (their query count may grow with them).
LISTS_ORGANISATIONS = {"network hub", "regional dashboard", "region page (structure flags)"}


def campus_env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        CAMPUS_DATABASE_URL=f"sqlite:///{tmp / 'bench.sqlite'}",
        CAMPUS_SECRET_KEY="bench-secret",
        CAMPUS_KEYS_DIR=str(tmp / "keys"),
        CAMPUS_KEY_PASSPHRASE="bench-passphrase",
        CAMPUS_BASE_URL="http://127.0.0.1",
    )
    return env


def prepare_demo(env: dict[str, str]) -> None:
    flask = [str(BIN / "flask"), "--app", "campus"]
    for command in (
        ["db", "upgrade"],
        ["content", "sync"],
        ["auth", "demo"],
        ["assessments", "demo"],
        ["network", "demo"],
    ):
        done = subprocess.run(flask + command, cwd=ROOT, env=env, capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"flask {' '.join(command)} failed:\n{done.stderr}")


def app_for(env: dict[str, str]):  # type: ignore[no-untyped-def]
    from campus import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": env["CAMPUS_DATABASE_URL"],
            "SECRET_KEY": env["CAMPUS_SECRET_KEY"],
            "KEYS_DIR": env["CAMPUS_KEYS_DIR"],
            "KEY_PASSPHRASE": env["CAMPUS_KEY_PASSPHRASE"],
            "BASE_URL": env["CAMPUS_BASE_URL"],
        }
    )


def scale_up(organisations: int, now: datetime) -> dict[str, Any]:
    """Bulk rows in the demo region (in an app context); the caller commits. Returns the ids."""
    from campus.assessments.demo import DEMO_REGION_SLUG
    from campus.auth.models import Organisation
    from campus.auth.models import OrganisationKind
    from campus.auth.models import Region
    from campus.auth.models import User
    from campus.auth.services import DEMO_EMAIL
    from campus.auth.services import DEMO_ORGANISATION_SLUG
    from campus.auth.services import hash_password
    from campus.badges.models import Assertion
    from campus.badges.models import AwardSource
    from campus.badges.models import BadgeClass
    from campus.badges.models import Issuer
    from campus.badges.models import SigningKey
    from campus.extensions import db
    from campus.network import ical
    from campus.network.clock_models import ClockAction
    from campus.network.clock_models import ClockActionDone
    from campus.network.clock_models import Raci
    from campus.network.clock_models import RaciEntry
    from campus.network.models import DevelopmentArea
    from campus.network.models import Focus
    from campus.network.models import Goal
    from campus.network.models import GoalStatus
    from campus.network.models import GoalStatusChange
    from campus.network.models import Group
    from campus.network.models import GroupKind
    from campus.network.models import GroupMembership
    from campus.network.models import GroupRole
    from campus.network.models import Roadmap
    from campus.paths.models import LearningPath
    from campus.paths.models import PathCompletion

    def one(model: Any, *where: Any) -> Any:
        return db.session.execute(db.select(model).where(*where)).scalars().first()

    demo = one(User, User.email == DEMO_EMAIL)
    demo.password_hash = hash_password(PASSWORD)
    region = one(Region, Region.slug == DEMO_REGION_SLUG)
    college = one(Organisation, Organisation.slug == DEMO_ORGANISATION_SLUG)
    region_roadmap = one(Roadmap, Roadmap.region_id == region.id)
    regional_goals = sorted(region_roadmap.goals, key=lambda g: (g.position, g.id))
    regional_group = one(Group, Group.region_id == region.id, Group.kind == GroupKind.REGIONAL)
    paths = list(db.session.execute(db.select(LearningPath.id)).scalars())
    badges = list(db.session.execute(db.select(BadgeClass.id)).scalars())
    key = db.session.execute(db.select(SigningKey)).scalars().first()
    issuer = db.session.execute(db.select(Issuer)).scalars().first()
    if key is None and issuer is not None:
        key = SigningKey(kid="bench-key", issuer_id=issuer.id, public_pem="bench")
        db.session.add(key)
        db.session.flush()
    areas, foci, statuses = list(DevelopmentArea), list(Focus), list(GoalStatus)
    year = now.year
    first = None
    for number in range(1, organisations + 1):
        organisation = Organisation(
            slug=f"bench-{number:03d}",
            name=f"Bench-kunta {number:03d}",
            kind=OrganisationKind.MUNICIPALITY if number % 2 else OrganisationKind.OTHER,
            region_id=region.id,
        )
        db.session.add(organisation)
        db.session.flush()
        people = [
            User(
                email=f"bench-{number:03d}-{person:02d}@bench.example",
                name=f"Bench Person {number}-{person}",
                password_hash=demo.password_hash,
                organisation_id=organisation.id,
            )
            for person in range(PEOPLE)
        ]
        db.session.add_all(people)
        db.session.flush()
        digi = Group(
            kind=GroupKind.DIGI,
            name=f"Bench-kunnan {number:03d} digiryhmä",
            organisation_id=organisation.id,
            mandate="Toteuttaa tiekarttaa ja vuosikelloa.",
            path_slugs=[],
            badge_slugs=[],
        )
        roles = [GroupRole.CHAIR, GroupRole.SECRETARY] + [GroupRole.MEMBER] * 3
        digi.memberships = [
            GroupMembership(user_id=p.id, role=r, organisation_id=organisation.id)
            for p, r in zip(people, roles, strict=False)
        ]
        db.session.add(digi)
        if number % 5 and regional_group is not None:
            regional_group.memberships.append(
                GroupMembership(
                    user_id=people[0].id, role=GroupRole.MEMBER, organisation_id=organisation.id
                )
            )
        roadmap = Roadmap(
            organisation_id=organisation.id,
            title=f"Bench-kunnan {number:03d} tiekartta",
            first_year=year - 1,
            last_year=year + 2,
        )
        db.session.add(roadmap)
        db.session.flush()
        goals = []
        for position in range(GOALS):
            status = statuses[position % len(statuses)]
            goal = Goal(
                roadmap_id=roadmap.id,
                position=position,
                area=areas[position % len(areas)],
                focus=foci[position % len(foci)],
                title=f"Tavoite {position + 1}: digitaidot arjessa",
                starting_point="Lähtötila kuvattu kartoituksessa.",
                target_state="Tavoitetila kuvattu mitattavasti.",
                instrument_slug="staff-digital-competence" if position == 0 else None,
                assessment_area_key="staff-competence" if position == 0 else None,
                status=status,
                group_id=digi.id,
                serves_goal_id=(
                    regional_goals[position % len(regional_goals)].id
                    if regional_goals and position % 3 == 0
                    else None
                ),
                path_slugs=[],
                badge_slugs=[],
            )
            goal.history = [GoalStatusChange(status=status, changed_at=now, changed_by_id=demo.id)]
            goals.append(goal)
        db.session.add_all(goals)
        db.session.flush()
        for index in range(ACTIONS):
            start = index % 12 + 1
            end = start if index % 3 else start % 12 + 1  # some run into the next month (or year)
            action = ClockAction(
                organisation_id=organisation.id,
                title=f"Vuosikellon toimi {index + 1:02d}",
                description="Toimen kuvaus.",
                start_month=start,
                start_day=(index % 4) * 7 + 1 if index % 2 else None,
                end_month=end,
                end_day=None,
                first_year=year - 3,
                group_id=digi.id,
                goal_id=goals[index % GOALS].id,
                path_slugs=[],
            )
            action.raci = [RaciEntry(group_id=digi.id, letter=Raci.ACCOUNTABLE)]
            action.raci.append(
                RaciEntry(group_id=digi.id, member_role=GroupRole.CHAIR, letter=Raci.RESPONSIBLE)
            )
            if regional_group is not None:
                action.raci.append(RaciEntry(group_id=regional_group.id, letter=Raci.INFORMED))
            done_years = [year - 3, year - 2, year - 1] + ([year] if end < now.month else [])
            action.done = [
                ClockActionDone(year=y, done_by_id=demo.id, done_at=now) for y in done_years
            ]
            db.session.add(action)
        for index, person in enumerate(people):
            for path_id in paths[: index % 4]:
                db.session.add(PathCompletion(user_id=person.id, path_id=path_id, completed_at=now))
            if key is not None and badges and index % 5 == 0:
                db.session.add(
                    Assertion(
                        uuid=str(uuid.uuid4()),
                        badge_class_id=badges[index % len(badges)],
                        user_id=person.id,
                        recipient_salt="bench",
                        recipient_hash="sha256$bench",
                        issued_at=now,
                        evidence=[],
                        source=AwardSource.BULK,
                        signing_key_id=key.id,
                        jws="bench",
                        baked_png=b"",
                        baked_svg=b"",
                    )
                )
        db.session.flush()
        if first is None:
            first = (organisation.id, roadmap.id)
    if first is None:
        raise SystemExit("--organisations must be at least 1")
    token = ical.create_feed(region, demo, now)
    return {
        "email": DEMO_EMAIL,
        "region": region.id,
        "college": college.id,
        "organisation": first[0],
        "organisation_roadmap": first[1],
        "region_roadmap": region_roadmap.id,
        "feed_token": token,
        "organisations": db.session.execute(
            db.select(db.func.count(Organisation.id)).where(Organisation.region_id == region.id)
        ).scalar_one(),
    }


def build(tmp: Path, organisations: int) -> tuple[dict[str, str], Any, dict[str, Any]]:
    """A demo database scaled up to `organisations` bulk organisations: env, app, ids."""
    from campus.clock import utcnow
    from campus.extensions import db

    tmp.mkdir()
    env = campus_env(tmp)
    prepare_demo(env)
    app = app_for(env)
    with app.app_context():
        ids = scale_up(organisations, utcnow())
        db.session.commit()
    return env, app, ids


def pages(ids: dict[str, Any]) -> dict[str, tuple[str, bool]]:
    """Scenario name → (path, logged in)."""
    org, region = ids["organisation"], ids["region"]
    return {
        "network hub": ("/network/", True),
        "organisation clock (circle)": (f"/network/organisation/{org}/clock", True),
        "region clock (circle)": (f"/network/region/{region}/clock", True),
        "organisation clock (years)": (f"/network/organisation/{org}/clock?view=years", True),
        "organisation roadmap": (f"/network/roadmaps/{ids['organisation_roadmap']}", True),
        "region roadmap": (f"/network/roadmaps/{ids['region_roadmap']}", True),
        "organisation dashboard": (f"/network/organisation/{org}/dashboard", True),
        "regional dashboard": (f"/network/region/{region}/dashboard", True),
        "region page (structure flags)": (f"/network/regions/{region}", True),
        "region iCal feed (no login)": (f"/network/calendar/{ids['feed_token']}.ics", False),
    }


def logged_in_client(app: Any, email: str) -> Any:
    client = app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    answer = client.post(
        "/auth/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token[1] if token else ""},
    )
    assert answer.status_code == 302, f"login failed: {answer.status_code}"
    return client


def count_queries(app: Any, ids: dict[str, Any]) -> dict[str, int]:
    """SQL statements of each page's second request (the first warms caches)."""
    from sqlalchemy import event

    from campus.extensions import db

    member, anonymous = logged_in_client(app, ids["email"]), app.test_client()
    counts: dict[str, int] = {}
    with app.app_context():
        engine = db.engine
    seen = [0]

    def count(*_args: Any) -> None:
        seen[0] += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        for name, (path, login) in pages(ids).items():
            client = member if login else anonymous
            first = client.get(path)
            if first.status_code != 200:
                raise SystemExit(f"{name}: {path} answered {first.status_code}")
            seen[0] = 0
            client.get(path)
            counts[name] = seen[0]
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return counts


def profile(app: Any, ids: dict[str, Any], name: str, repeat: int = 20) -> str | None:
    try:
        from pyinstrument import Profiler
    except ImportError:
        return None
    path, login = pages(ids)[name]
    client = logged_in_client(app, ids["email"]) if login else app.test_client()
    client.get(path)
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(repeat):
        client.get(path)
    profiler.stop()
    text = profiler.output_text(unicode=True, color=False, flat=True)
    rows = [line for line in text.splitlines() if re.match(r"\s*\d+\.\d+ ", line)]
    return "\n".join(rows[:15])


def run_wrk(
    env: dict[str, str], ids: dict[str, Any], tmp: Path, seconds: int, rounds: int
) -> tuple[dict[str, list[tuple[float, float, int]]], dict[str, list[float]]]:
    hello_port, campus_port = free_port(), free_port()
    servers = [gunicorn("bench.hello:app", hello_port, env), gunicorn("wsgi:app", campus_port, env)]
    try:
        hello, base = f"http://127.0.0.1:{hello_port}/", f"http://127.0.0.1:{campus_port}"
        wait_until_up(hello)
        wait_until_up(base + "/")
        member, token = csrf_session(base)
        answer = member.post(
            f"{base}/auth/login",
            data={"email": ids["email"], "password": PASSWORD, "csrf_token": token},
            allow_redirects=False,
        )
        assert answer.status_code == 302, answer.status_code
        report = tmp / "report.lua"
        report.write_text(LUA_REPORT)
        cookie = cookie_header(member)
        scenarios: dict[str, tuple[str, str | None]] = {HELLO: (hello, None)}
        for name, (path, login) in pages(ids).items():
            scenarios[name] = (base + path, cookie if login else None)
            answer = (member if login else requests).get(base + path, allow_redirects=False)
            if answer.status_code != 200:
                raise SystemExit(f"{name}: {path} answered {answer.status_code} under gunicorn")
        results: dict[str, list[tuple[float, float, int]]] = {name: [] for name in scenarios}
        shares: dict[str, list[float]] = {name: [] for name in scenarios}
        for _ in range(rounds):
            measured = {n: wrk(u, seconds, report, c) for n, (u, c) in scenarios.items()}
            ceiling = measured[HELLO][0]
            for name, result in measured.items():
                results[name].append(result)
                shares[name].append(result[0] / ceiling)
    finally:
        for server in servers:
            server.terminate()
            server.wait()
    return results, shares


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--organisations", type=int, default=40)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    if args.organisations < 1:
        raise SystemExit("--organisations must be at least 1")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        env, app, ids = build(tmp / "large", args.organisations)
        _small_env, small_app, small_ids = build(tmp / "small", SMALL)
        counts = count_queries(app, ids)
        small_counts = count_queries(small_app, small_ids)
        results, shares = run_wrk(env, ids, tmp, args.seconds, args.rounds)
        slowest = min(pages(ids), key=lambda name: statistics.median(shares[name]))
        hot_spots = profile(app, ids, slowest)
    large, small = ids["organisations"], small_ids["organisations"]
    print(
        f"Network benchmark — {large} organisations in the region ({args.organisations} bulk, "
        f"{PEOPLE} people each), gunicorn -w 2, wrk -c4, {args.rounds}×{args.seconds} s "
        "interleaved"
    )
    print(f"{'scenario':<34} {'share of hello':>15} {'req/s':>8} {'p95':>10} {'non-2xx/3xx':>12}")
    for name in results:
        share = statistics.median(shares[name])
        rate = statistics.median(r[0] for r in results[name])
        p95 = statistics.median(r[1] for r in results[name])
        errors = sum(r[2] for r in results[name])
        print(f"{name:<34} {share:>14.1%} {rate:>8.0f} {p95:>8.1f} ms {errors:>12}")
    print()
    print(f"SQL queries per page (second request), {large} vs {small} organisations in the region")
    print(f"{'page':<34} {large:>6} {small:>6}  note")
    for name in counts:
        grows = counts[name] - small_counts[name]
        note = ""
        if grows:
            per = grows / (large - small)
            lists = "lists organisations" if name in LISTS_ORGANISATIONS else "GROWS"
            note = f"+{grows} ({per:.2f} per organisation; {lists})"
        print(f"{name:<34} {counts[name]:>6} {small_counts[name]:>6}  {note}")
    print()
    if hot_spots is None:
        print("pyinstrument is not installed: no profile (.venv/bin/pip install pyinstrument)")
    else:
        print(f"Slowest page: {slowest} — pyinstrument, 20 requests in-process, by own time")
        print(hot_spots)


if __name__ == "__main__":
    main()
