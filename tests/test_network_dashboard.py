"""The digital-capability dashboards: figures from a built world, the assessment threshold, who may
read them, a constant number of queries whatever the number of people, and a bad ?year."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from campus.assessments import rounds
from campus.auth.models import Organisation
from campus.auth.models import Region
from campus.auth.models import Role
from campus.auth.models import User
from campus.badges.models import Assertion
from campus.badges.models import AwardSource
from campus.badges.models import BadgeClass
from campus.badges.models import SigningKey
from campus.extensions import db
from campus.network import dashboard
from campus.network.clock_models import ClockAction
from campus.network.clock_models import ClockActionDone
from campus.network.models import Goal
from campus.network.models import GoalStatus
from campus.network.models import Roadmap
from campus.network.views_dashboard import bp
from campus.paths.models import LearningPath
from campus.paths.models import PathCompletion
from tests.conftest import AuthActions
from tests.test_assessment_tallies import make_instrument
from tests.test_assessment_tallies import submit

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
YEAR = 2026


@pytest.fixture
def app(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Flask:
    """The conftest app, with this blueprint (until the lead registers it) and a fixed "now"."""
    if "network_dashboard" not in app.blueprints:
        app.register_blueprint(bp)
    monkeypatch.setattr("campus.network.views_dashboard.utcnow", lambda: NOW)
    return app


@dataclass
class World:
    region: int
    other_region: int
    north: int
    south: int
    far: int


def _signing_key() -> SigningKey:
    badge = db.session.execute(db.select(BadgeClass)).scalars().first()
    assert badge is not None
    key = SigningKey(kid=uuid.uuid4().hex, issuer_id=badge.issuer_id, public_pem="test")
    db.session.add(key)
    db.session.flush()
    return key


def _badge(slug: str) -> BadgeClass:
    """A badge class like the test content's "basics", under another slug."""
    existing = db.session.execute(
        db.select(BadgeClass).where(BadgeClass.slug == slug)
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    model = db.session.execute(
        db.select(BadgeClass).where(BadgeClass.slug == "basics")
    ).scalar_one()
    badge = BadgeClass(
        slug=slug,
        issuer_id=model.issuer_id,
        name={"en": slug.replace("-", " ").title()},
        description={},
        criteria={},
        award_rule="review",
        members=[],
        tags=[],
        alignment=[],
        image_alt={},
        image_png=b"png",
        image_svg=b"svg",
        content_hash="x" * 64,
    )
    db.session.add(badge)
    db.session.flush()
    return badge


def give_badge(
    user_id: int, slug: str, issued_at: datetime = NOW - timedelta(days=30), revoked: bool = False
) -> None:
    badge = _badge(slug)
    key = (
        db.session.execute(db.select(SigningKey).where(SigningKey.algorithm == "RS256"))
        .scalars()
        .first()
        or _signing_key()
    )
    db.session.add(
        Assertion(
            uuid=str(uuid.uuid4()),
            badge_class_id=badge.id,
            user_id=user_id,
            active_key=None if revoked else f"{badge.id}:{user_id}",
            recipient_salt="salt",
            recipient_hash="sha256$x",
            issued_at=issued_at,
            expires_at=None,
            evidence=[],
            source=AwardSource.REVIEW,
            signing_key_id=key.id,
            jws="jws",
            baked_png=b"",
            baked_svg=b"",
            revoked_at=NOW - timedelta(days=1) if revoked else None,
        )
    )


def complete(user_id: int, path_slug: str, when: datetime = NOW - timedelta(days=60)) -> None:
    path = db.session.execute(
        db.select(LearningPath).where(LearningPath.slug == path_slug)
    ).scalar_one()
    db.session.add(PathCompletion(user_id=user_id, path_id=path.id, completed_at=when))


def roadmap(statuses: list[GoalStatus], first: int, last: int, **scope: int | None) -> None:
    road = Roadmap(title="Roadmap", first_year=first, last_year=last, **scope)
    for i, status in enumerate(statuses):
        road.goals.append(
            Goal(area="competence", focus="learning", title=f"Goal {i}", status=status)
        )
    db.session.add(road)


def action(first: int, last: int | None, done: tuple[int, ...] = (), **scope: int | None) -> None:
    row = ClockAction(
        title="Action", start_month=8, end_month=9, first_year=first, last_year=last, **scope
    )
    row.done = [ClockActionDone(year=year) for year in done]
    db.session.add(row)


@pytest.fixture
def world(app: Flask, make_user: Callable[..., int]) -> World:
    """Coast: North (4 people) and South (2 people); Hills: Far (1 person)."""
    with app.app_context():
        coast = Region(slug="coast", name="Coast")
        hills = Region(slug="hills", name="Hills")
        db.session.add_all([coast, hills])
        db.session.flush()
        north = Organisation(name="North", slug="north", region_id=coast.id)
        south = Organisation(name="South", slug="south", region_id=coast.id)
        far = Organisation(name="Far", slug="far", region_id=hills.id)
        db.session.add_all([north, south, far])
        db.session.commit()
        ids = World(coast.id, hills.id, north.id, south.id, far.id)
    boss = make_user("boss@north.org", {Role.ORG_ADMIN}, ids.north)
    dev = make_user("dev@north.org", {Role.REGIONAL_DEVELOPER}, ids.north)
    staff = make_user("staff@north.org", set(), ids.north)
    make_user("new@north.org", set(), ids.north)
    teacher = make_user("teacher@south.org", set(), ids.south)
    make_user("other@south.org", set(), ids.south)
    make_user("dev@far.org", {Role.REGIONAL_DEVELOPER}, ids.far)
    with app.app_context():
        complete(boss, "basics")
        complete(staff, "basics")
        complete(staff, "advanced")
        complete(dev, "advanced")
        complete(teacher, "basics")
        give_badge(staff, "tutor-teacher")
        give_badge(boss, "tutor-teacher", revoked=True)  # revoked: does not count
        give_badge(dev, "regional-developer")
        give_badge(dev, "tutor-teacher")
        give_badge(teacher, "tutoring-work")
        roadmap(
            [GoalStatus.PLANNED, GoalStatus.PLANNED, GoalStatus.IN_PROGRESS, GoalStatus.ACHIEVED],
            2025,
            2028,
            organisation_id=ids.north,
        )
        roadmap([GoalStatus.DROPPED], 2020, 2023, organisation_id=ids.north)  # another period
        roadmap([GoalStatus.ACHIEVED, GoalStatus.PAUSED], 2026, 2029, region_id=ids.region)
        action(2024, None, (2025, 2026), organisation_id=ids.north)  # due, done this year
        action(2026, 2026, (), organisation_id=ids.north)  # due, not done
        action(2020, 2025, (2025,), organisation_id=ids.north)  # ended last year
        action(2027, None, (), organisation_id=ids.north)  # starts next year
        action(2025, None, (2025,), organisation_id=ids.south)  # due, done only last year
        action(2026, None, (2026,), region_id=ids.region)
        db.session.commit()
    return ids


def _theme_rows(figures: dashboard.MemberFigures) -> dict[str, tuple[int, int, int]]:
    return {row.theme.slug: (row.people, row.completers, row.completions) for row in figures.themes}


def test_organisation_figures(app: Flask, world: World) -> None:
    with app.app_context():
        north = db.session.get(Organisation, world.north)
        board = dashboard.organisation_dashboard(north, YEAR, NOW)  # type: ignore[arg-type]
        figures = board.figures
        assert figures.people == 4 and figures.completers == 3
        assert _theme_rows(figures) == {"alpha": (4, 2, 2), "beta": (4, 2, 2)}
        assert (figures.badges.tutor, figures.badges.regional) == (2, 1)  # the revoked one: no
        assert {row.slug: row.holders for row in figures.badges.by_badge} == {
            "tutor-teacher": 2,
            "regional-developer": 1,
        }
        assert figures.goals.roadmaps == 1 and figures.goals.total == 4
        assert figures.goals.by_status == {
            GoalStatus.PLANNED: 2,
            GoalStatus.IN_PROGRESS: 1,
            GoalStatus.ACHIEVED: 1,
        }
        assert (figures.actions.due, figures.actions.done) == (2, 1)
        assert board.assessments == []
        last_year = dashboard.organisation_dashboard(north, 2025, NOW).figures  # type: ignore[arg-type]
        assert (last_year.actions.due, last_year.actions.done) == (2, 2)
        earlier = dashboard.organisation_dashboard(north, 2019, NOW).figures  # type: ignore[arg-type]
        assert earlier.completers == 0 and earlier.badges.by_badge == []
        assert earlier.goals.roadmaps == 0 and earlier.actions.due == 0


def test_region_figures(app: Flask, world: World) -> None:
    with app.app_context():
        coast = db.session.get(Region, world.region)
        board = dashboard.region_dashboard(coast, YEAR, NOW)  # type: ignore[arg-type]
        assert [m.organisation.name for m in board.members] == ["North", "South"]  # type: ignore[union-attr]
        north, south = board.members
        assert (south.people, south.completers) == (2, 1)
        assert _theme_rows(south) == {"alpha": (2, 1, 1), "beta": (2, 0, 0)}
        assert (south.badges.tutor, south.badges.regional) == (1, 0)
        assert (south.actions.due, south.actions.done) == (1, 0)
        assert south.goals.roadmaps == 0
        totals = board.totals
        assert (totals.people, totals.completers) == (6, 4)
        assert _theme_rows(totals) == {"alpha": (6, 3, 3), "beta": (6, 2, 2)}
        assert (totals.badges.tutor, totals.badges.regional) == (3, 1)
        assert (totals.actions.due, totals.actions.done) == (3, 1)
        assert totals.goals.total == 4
        assert board.goals.by_status == {GoalStatus.ACHIEVED: 1, GoalStatus.PAUSED: 1}
        assert (board.actions.due, board.actions.done) == (1, 1)


def test_organisation_page(client: FlaskClient, auth: AuthActions, world: World) -> None:
    auth.login("staff@north.org")
    page = client.get(f"/network/organisation/{world.north}/dashboard?year=2026")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Path completion by theme" in html and "<svg" in html and "<caption" in html
    assert "staff@north.org" not in html and "Boss" not in html  # counts, never people
    assert "1 of 2 (50%)" in html  # actions done this year
    assert "No assessment round has been run yet." in html


def test_empty_states(client: FlaskClient, auth: AuthActions, world: World) -> None:
    auth.login("teacher@south.org")
    html = client.get(f"/network/organisation/{world.south}/dashboard?year=2026").get_data(
        as_text=True
    )
    assert "No roadmap covers 2026 yet." in html
    html = client.get(f"/network/organisation/{world.south}/dashboard?year=2030").get_data(
        as_text=True
    )
    assert "No annual-clock actions are planned for 2030." not in html  # still running in 2030
    html = client.get(f"/network/organisation/{world.south}/dashboard?year=2024").get_data(
        as_text=True
    )
    assert "No annual-clock actions are planned for 2024." in html


def test_region_page(client: FlaskClient, auth: AuthActions, world: World) -> None:
    auth.login("dev@north.org")
    page = client.get(f"/network/region/{world.region}/dashboard")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "North" in html and "South" in html and "Region in total" in html
    assert "Digital capability in Coast, 2026" in html  # the current year by default


@pytest.mark.parametrize(
    ("email", "target", "status"),
    [
        ("staff@north.org", "organisation/north", 200),
        ("boss@north.org", "organisation/north", 200),
        ("teacher@south.org", "organisation/north", 403),
        ("dev@north.org", "organisation/south", 200),  # a regional developer of the region
        ("dev@far.org", "organisation/north", 403),
        ("dev@north.org", "region/region", 200),
        ("dev@far.org", "region/region", 403),
        ("dev@far.org", "region/other_region", 200),
    ],
)
def test_who_reads(
    client: FlaskClient, auth: AuthActions, world: World, email: str, target: str, status: int
) -> None:
    kind, name = target.split("/")
    auth.login(email)
    assert client.get(f"/network/{kind}/{getattr(world, name)}/dashboard").status_code == status


def test_anonymous_goes_to_login(client: FlaskClient, world: World) -> None:
    for url in (
        f"/network/organisation/{world.north}/dashboard",
        f"/network/region/{world.region}/dashboard",
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_unknown_scope_is_404(client: FlaskClient, auth: AuthActions, world: World) -> None:
    auth.login("dev@north.org")
    assert client.get("/network/organisation/9999/dashboard").status_code == 404
    assert client.get("/network/region/9999/dashboard").status_code == 404


@pytest.mark.parametrize("year", ["abc", "-1", "1999", "20260", "2026.5"])
def test_bad_year_is_400(client: FlaskClient, auth: AuthActions, world: World, year: str) -> None:
    auth.login("staff@north.org")
    for url in (
        f"/network/organisation/{world.north}/dashboard?year={year}",
        f"/network/region/{world.region}/dashboard?year={year}",
    ):
        response = client.get(url)
        assert response.status_code == 400
        assert "The year must be a number from 2000 to 2100." in response.get_data(as_text=True)


# ------------------------------------------------------------------------------ assessments


@pytest.mark.parametrize(("people", "shown"), [(4, False), (5, True)])
def test_assessment_threshold(
    client: FlaskClient, auth: AuthActions, app: Flask, world: World, people: int, shown: bool
) -> None:
    with app.app_context():
        instrument = make_instrument()
        round_ = rounds.open_round(
            world.north, instrument, "Autumn", date(2026, 11, 1), date(2026, 11, 30), None, None
        )
        for _ in range(people):
            submit(instrument, world.north, 4, round_id=round_.id)
        db.session.commit()
        north = db.session.get(Organisation, world.north)
        block = dashboard.organisation_dashboard(north, YEAR, NOW).assessments[0]  # type: ignore[arg-type]
        figure = block.figure(world.north, block.areas[0].id)
        assert figure.withheld is not shown
        assert figure.mean == (4 if shown else None)
        coast = db.session.get(Region, world.region)
        total = dashboard.region_dashboard(coast, YEAR, NOW).assessments[0].total  # type: ignore[arg-type]
        assert total is not None and (total.area(block.areas[0].id).mean == 4) is shown
        before = dashboard.organisation_dashboard(north, 2025, NOW)  # type: ignore[arg-type]
        assert before.assessments == []  # the round opened after 2025
    auth.login("boss@north.org")
    html = client.get(f"/network/organisation/{world.north}/dashboard?year=2026").get_data(
        as_text=True
    )
    assert "Latest round: Autumn" in html
    assert ("<td>too few answers</td>" in html) is not shown
    assert ("4.0" in html) is shown
    auth.logout()
    auth.login("dev@north.org")
    html = client.get(f"/network/region/{world.region}/dashboard?year=2026").get_data(as_text=True)
    assert ("<td>too few answers</td>" in html) is not shown


# ------------------------------------------------------------------------------ queries


@pytest.fixture
def count_queries(app: Flask) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    yield statements
    event.remove(engine, "before_cursor_execute", record)


def _add_people(app: Flask, organisation_id: int, start: int, count: int) -> None:
    with app.app_context():
        for i in range(start, start + count):
            user = User(
                email=f"person{i}-{organisation_id}@example.org",
                name=f"Person {i}",
                password_hash="x",
                organisation_id=organisation_id,
            )
            db.session.add(user)
            db.session.flush()
            complete(user.id, "basics" if i % 2 else "advanced")
            give_badge(user.id, "tutor-teacher" if i % 3 else "regional-developer")
            give_badge(user.id, "basics-extra-" + str(i % 4))
        db.session.commit()


def test_queries_do_not_grow_with_people(
    client: FlaskClient, auth: AuthActions, app: Flask, world: World, count_queries: list[str]
) -> None:
    auth.login("dev@north.org")
    urls = [
        f"/network/organisation/{world.north}/dashboard?year=2026",
        f"/network/region/{world.region}/dashboard?year=2026",
    ]

    def queries() -> list[int]:
        counts = []
        for url in urls:
            count_queries.clear()
            assert client.get(url).status_code == 200
            counts.append(len(count_queries))
        return counts

    _add_people(app, world.north, 0, 3)
    _add_people(app, world.south, 0, 3)
    few = queries()
    _add_people(app, world.north, 3, 27)
    _add_people(app, world.south, 3, 27)
    many = queries()
    assert few == many
    with app.app_context():
        north = db.session.get(Organisation, world.north)
        assert dashboard.organisation_dashboard(north, YEAR, NOW).figures.people == 34  # type: ignore[arg-type]
