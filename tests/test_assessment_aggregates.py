"""Rounds, organisation and regional aggregates: the five-person threshold everywhere, complementary
suppression by staff group, comparisons, trends, response rates and who may see what."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from datetime import date
from datetime import datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from campus.assessments import aggregates
from campus.assessments import rounds
from campus.assessments.models import AssessmentRound
from campus.assessments.models import Instrument
from campus.assessments.models import StaffGroup
from campus.auth.models import Organisation
from campus.auth.models import Region
from campus.auth.models import Role
from campus.extensions import db
from tests.conftest import AuthActions
from tests.test_assessment_tallies import make_instrument
from tests.test_assessment_tallies import make_organisation
from tests.test_assessment_tallies import make_person
from tests.test_assessment_tallies import submit
from tests.test_postgres import pg_app  # noqa: F401  (the PostgreSQL fixture)

TODAY = date(2026, 11, 23)
TOO_FEW = "too few answers"


def make_round(
    instrument: Instrument,
    organisation_id: int,
    title: str,
    opens_on: date,
    closes_on: date,
    target_role: Role | None = None,
) -> AssessmentRound:
    return rounds.open_round(
        organisation_id, instrument, title, opens_on, closes_on, target_role, None
    )


def answer_many(
    instrument: Instrument,
    organisation_id: int,
    round_id: int | None,
    count: int,
    value: int | None,
    group: StaffGroup = StaffGroup.TEACHER,
) -> None:
    for _ in range(count):
        submit(instrument, organisation_id, value, round_id=round_id, staff_group=group)


# ---------------------------------------------------------------- the threshold and suppression


@pytest.mark.parametrize(
    ("parts", "withheld"),
    [
        ({"a": 4, "b": 6, "c": 7}, {"a", "b"}),  # one small group: the next-smallest goes too
        ({"a": 2, "b": 2, "c": 10}, {"a", "b", "c"}),  # 2 + 2 < 5: keep going
        ({"a": 3, "b": 3, "c": 10}, {"a", "b"}),  # 3 + 3 hold six people
        ({"a": 0, "b": 5, "c": 6}, {"a"}),  # nobody in a: nothing more to hide
        ({"a": 5, "b": 5, "c": 5}, set()),
    ],
)
def test_complementary_suppression(parts: dict[str, int], withheld: set[str]) -> None:
    assert aggregates.suppressed(sum(parts.values()), parts) == withheld


def test_everything_is_withheld_under_five_in_total() -> None:
    assert aggregates.suppressed(4, {"a": 4, "b": 0}) == {"a", "b"}


def test_a_withheld_figure_carries_no_numbers() -> None:
    figure = aggregates.Figure.of({3: 4}, 4)
    assert figure.withheld and figure.counts == {} and figure.n == 0 and figure.mean is None
    shown = aggregates.Figure.of({3: 4, 5: 1}, 5)
    assert shown.mean == pytest.approx(3.4)


def test_mean_needs_five_valued_answers(app: Flask) -> None:
    with app.app_context():
        instrument = make_instrument()
        org = make_organisation("north")
        answer_many(instrument, org.id, None, 1, 3)
        answer_many(instrument, org.id, None, 4, None)  # "not relevant"
        report = aggregates.organisation_report(instrument, org.id, 0)
        item = report.areas[0].items[0].figures.total
        assert not item.withheld and item.n == 5 and item.not_relevant == 4
        assert item.mean is None  # one person's value is not a mean


@pytest.mark.parametrize(("people", "shown"), [(4, False), (5, True)])
def test_threshold_in_the_report(app: Flask, people: int, shown: bool) -> None:
    with app.app_context():
        instrument = make_instrument()
        org = make_organisation("north")
        round_ = make_round(instrument, org.id, "Autumn", date(2026, 11, 1), date(2026, 11, 30))
        answer_many(instrument, org.id, round_.id, people, 4)
        report = aggregates.organisation_report(instrument, org.id, round_.id)
        figures = [report.respondents.total, report.areas[0].figures.total]
        figures += [row.figures.total for area in report.areas for row in area.items]
        assert all(f.withheld is not shown for f in figures)
        if shown:
            assert report.areas[0].figures.total.mean == 4


# ---------------------------------------------------------------------------------- the pages


@dataclass
class World:
    north: int  # the organisation
    south: int  # another organisation in the same region
    round_id: int
    region: str


@pytest.fixture
def world(app: Flask, make_user: Callable[..., int]) -> World:
    """North: a round with 5 teachers (value 4), 4 leaders (value 2), 6 support staff (value 5);
    its previous round had 5 people (value 6). South, same region: 6 people (value 1)."""
    with app.app_context():
        region = Region(slug="coast", name="Coast")
        db.session.add(region)
        db.session.flush()
        instrument = make_instrument()
        north = make_organisation("north", region.id)
        south = make_organisation("south", region.id)
        old = make_round(instrument, north.id, "Spring", date(2026, 3, 1), date(2026, 3, 31))
        answer_many(instrument, north.id, old.id, 5, 6)
        current = make_round(instrument, north.id, "Autumn", date(2026, 11, 1), date(2026, 11, 30))
        answer_many(instrument, north.id, current.id, 5, 4, StaffGroup.TEACHER)
        answer_many(instrument, north.id, current.id, 4, 2, StaffGroup.LEADER)
        answer_many(instrument, north.id, current.id, 6, 5, StaffGroup.SUPPORT)
        theirs = make_round(instrument, south.id, "Syksy", date(2026, 10, 1), date(2026, 11, 30))
        answer_many(instrument, south.id, theirs.id, 6, 1)
        db.session.commit()
        world = World(north.id, south.id, current.id, region.slug)
    make_user("boss@north.org", {Role.ORG_ADMIN}, world.north)
    make_user("boss@south.org", {Role.ORG_ADMIN}, world.south)
    make_user("staff@north.org", set(), world.north)
    make_user("admin@campus.org", {Role.ADMIN}, world.south)
    make_user("developer@north.org", {Role.REGIONAL_DEVELOPER}, world.north)
    with app.app_context():
        elsewhere = make_organisation("inland")
        db.session.commit()
        elsewhere_id = elsewhere.id
    make_user("developer@inland.org", {Role.REGIONAL_DEVELOPER}, elsewhere_id)
    return world


def results_url(world: World, csv: bool = False) -> str:
    suffix = "results.csv" if csv else "results"
    return f"/assessments/organisation/{world.north}/rounds/{world.round_id}/{suffix}"


def test_staff_group_narrowing_cannot_reveal_a_group_of_four(
    client: FlaskClient, auth: AuthActions, world: World, app: Flask
) -> None:
    auth.login("boss@north.org")
    page = client.get(results_url(world)).get_data(as_text=True)
    assert "15</td>" in page  # fifteen respondents in all
    assert ">3.9<" in page  # the area mean over everyone: (5·4 + 4·2 + 6·5) / 15
    for group in ("leader", "teacher"):  # 4 leaders withheld, so the 5 teachers are too
        narrowed = client.get(results_url(world) + f"?group={group}").get_data(as_text=True)
        assert TOO_FEW in narrowed
        assert ">2.0<" not in narrowed and ">4.0<" not in narrowed
    support = client.get(results_url(world) + "?group=support").get_data(as_text=True)
    assert ">5.0<" in support
    with app.app_context():
        instrument = db.session.execute(db.select(Instrument)).scalar_one()
        report = aggregates.organisation_report(instrument, world.north, world.round_id)
        area = report.areas[0].figures
        assert area.groups[StaffGroup.LEADER].withheld and area.groups[StaffGroup.TEACHER].withheld
        assert area.groups[StaffGroup.SUPPORT].mean == 5
        assert report.respondents.groups[StaffGroup.TEACHER].withheld


def test_csv_keeps_the_threshold(client: FlaskClient, auth: AuthActions, world: World) -> None:
    import csv
    import io

    auth.login("boss@north.org")
    response = client.get(results_url(world, csv=True))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    header, body = rows[0], rows[1:]
    mean = header.index("Mean")
    people = header.index("People")
    by_group = {(r[0], r[2], r[3]): r for r in body if r[2]}  # item rows
    item = next(r[2] for r in body if r[2])
    assert by_group[("This round", item, "Everyone")][people] == "15"
    for group in ("Leader or manager", "Teacher or trainer"):
        row = by_group[("This round", item, group)]
        assert row[mean] == TOO_FEW and row[people] == "" and set(row[mean + 1 :]) == {""}
    assert (
        by_group[("This round", item, "Support staff (guidance, ICT, administration …)")][mean]
        == "5.00"
    )
    assert by_group[("Previous round", item, "Everyone")][mean] == "6.00"
    assert by_group[("Region", item, "Everyone")][mean] == f"{(5 * 4 + 4 * 2 + 6 * 5 + 6) / 21:.2f}"


@pytest.mark.parametrize(("people", "shown"), [(4, False), (5, True)])
def test_four_respondents_are_withheld_and_five_shown_in_page_and_csv(
    app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    make_user: Callable[..., int],
    people: int,
    shown: bool,
) -> None:
    with app.app_context():
        instrument = make_instrument()
        org = make_organisation("tiny")
        round_ = make_round(instrument, org.id, "Autumn", date(2026, 11, 1), date(2026, 11, 30))
        answer_many(instrument, org.id, round_.id, people - 1, 3)
        answer_many(instrument, org.id, round_.id, 1, 6)
        db.session.commit()
        org_id, round_id = org.id, round_.id
    make_user("boss@tiny.org", {Role.ORG_ADMIN}, org_id)
    auth.login("boss@tiny.org")
    url = f"/assessments/organisation/{org_id}/rounds/{round_id}/results"
    page = client.get(url).get_data(as_text=True)
    body = client.get(url + ".csv").get_data(as_text=True)
    import csv
    import io

    if shown:  # (4·3 + 6) / 5
        assert ">3.6<" in page and "3.60" in body
    else:  # (3·3 + 6) / 4 nowhere, nor any count
        assert TOO_FEW in page and ">3.8<" not in page and ">3.7<" not in page
        assert TOO_FEW in body and "3.75" not in body
        rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))[1:]
        assert rows and {cell for row in rows for cell in row[4:]} == {"", TOO_FEW}


def test_region_comparison_leaves_out_small_organisations(app: Flask) -> None:
    with app.app_context():
        region = Region(slug="coast", name="Coast")
        db.session.add(region)
        db.session.flush()
        instrument = make_instrument()
        a = make_organisation("a", region.id)
        b = make_organisation("b", region.id)
        small = make_organisation("small", region.id)
        outside = make_organisation("outside")
        old_a = make_round(instrument, a.id, "Old", date(2026, 1, 1), date(2026, 1, 31))
        answer_many(instrument, a.id, old_a.id, 9, 6)  # not A's latest round: not compared
        for org, count, value in ((a, 6, 2), (b, 6, 4), (small, 3, 6), (outside, 5, 6)):
            round_ = make_round(instrument, org.id, "Now", date(2026, 11, 1), date(2026, 11, 30))
            answer_many(instrument, org.id, round_.id, count, value)
        members = [a.id, b.id, small.id]
        keys = aggregates.latest_round_keys(instrument.id, TODAY, members)
        compared = aggregates.comparison(instrument, keys)
        area = instrument.areas[0]
        assert compared.organisations == 2
        assert compared.area(area.id).mean == 3.0  # small's three sixes are left out
        assert compared.item(area.items[0].id).n == 12
        everywhere = aggregates.comparison(
            instrument, aggregates.latest_round_keys(instrument.id, TODAY)
        )
        assert everywhere.organisations == 3
        assert everywhere.area(area.id).mean == pytest.approx((12 + 24 + 30) / 17)
        # A region with only under-threshold organisations shows nothing.
        assert (
            aggregates.comparison(
                instrument, aggregates.latest_round_keys(instrument.id, TODAY, [small.id])
            )
            .area(area.id)
            .withheld
        )


def test_previous_round_trend_keeps_the_threshold(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World
) -> None:
    auth.login("boss@north.org")
    page = client.get(results_url(world)).get_data(as_text=True)
    assert "Previous round" in page and ">6.0<" in page
    with app.app_context():  # the spring round had only four people after all
        from campus.assessments.models import ItemTally

        spring = db.session.execute(
            db.select(AssessmentRound).where(AssessmentRound.title == "Spring")
        ).scalar_one()
        db.session.execute(
            db.update(ItemTally).where(ItemTally.round_key == spring.id).values(count=4)
        )
        db.session.commit()
        current = db.session.get(AssessmentRound, world.round_id)
        assert rounds.previous_round(current).id == spring.id
    page = client.get(results_url(world)).get_data(as_text=True)
    assert ">6.0<" not in page
    body = client.get(results_url(world, csv=True)).get_data(as_text=True)
    assert "Previous round" in body and "6.00" not in body


def test_regional_view(client: FlaskClient, auth: AuthActions, world: World) -> None:
    auth.login("developer@north.org")
    page = client.get(f"/assessments/region/{world.region}").get_data(as_text=True)
    assert "North" in page and "South" in page
    assert ">1.0<" in page  # south's six people
    assert ">3.9<" in page  # north's fifteen
    assert '<title id="region-chart-title">' in page and "<desc" in page


def test_regional_view_withholds_small_organisations(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World
) -> None:
    with app.app_context():
        instrument = db.session.execute(db.select(Instrument)).scalar_one()
        small = make_organisation("small", db.session.get(Organisation, world.north).region_id)
        round_ = make_round(instrument, small.id, "Pieni", date(2026, 11, 1), date(2026, 11, 30))
        answer_many(instrument, small.id, round_.id, 4, 2)
        db.session.commit()
    auth.login("admin@campus.org")
    page = client.get(f"/assessments/region/{world.region}").get_data(as_text=True)
    assert "Small" in page and TOO_FEW in page and ">2.0<" not in page
    assert ">6.0<" in page  # north's previous round


# ------------------------------------------------------------------------------ authorisation


@pytest.mark.parametrize(
    ("email", "status"),
    [
        ("boss@north.org", 200),
        ("admin@campus.org", 200),
        ("boss@south.org", 403),  # another organisation's view
        ("staff@north.org", 403),  # a learner
        ("developer@north.org", 403),  # regional developers see the region, not rounds
    ],
)
@pytest.mark.parametrize("page", ["rounds", "detail", "results", "csv"])
def test_organisation_pages_authorisation(
    client: FlaskClient, auth: AuthActions, world: World, email: str, status: int, page: str
) -> None:
    base = f"/assessments/organisation/{world.north}/rounds"
    url = {
        "rounds": base,
        "detail": f"{base}/{world.round_id}",
        "results": results_url(world),
        "csv": results_url(world, csv=True),
    }[page]
    auth.login(email)
    assert client.get(url).status_code == status


@pytest.mark.parametrize(
    ("email", "status"),
    [
        ("developer@north.org", 200),
        ("admin@campus.org", 200),
        ("developer@inland.org", 403),  # a developer of another region
        ("boss@north.org", 403),
        ("staff@north.org", 403),
    ],
)
def test_regional_view_authorisation(
    client: FlaskClient, auth: AuthActions, world: World, email: str, status: int
) -> None:
    auth.login(email)
    assert client.get(f"/assessments/region/{world.region}").status_code == status


def test_a_round_of_another_organisation_is_not_found_under_mine(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World
) -> None:
    with app.app_context():
        theirs = db.session.execute(
            db.select(AssessmentRound).where(AssessmentRound.organisation_id == world.south)
        ).scalar_one()
        theirs_id = theirs.id
    auth.login("boss@north.org")
    url = f"/assessments/organisation/{world.north}/rounds/{theirs_id}/results"
    assert client.get(url).status_code == 404


def test_no_page_shows_a_person_answers_to_an_admin(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World
) -> None:
    """Admins see aggregates; every page addressed by a response is its respondent's alone."""
    with app.app_context():
        from campus.assessments.models import AssessmentResponse

        response_id = db.session.execute(db.select(AssessmentResponse.id).limit(1)).scalar_one()
    auth.login("admin@campus.org")
    assert client.get(results_url(world)).status_code == 200
    by_response = [
        rule
        for rule in app.url_map.iter_rules()
        if "response_id" in rule.arguments and "GET" in (rule.methods or ())
    ]
    for rule in by_response:
        values = {arg: 1 for arg in rule.arguments} | {"response_id": response_id}
        url = rule.build(values)[1]  # type: ignore[index]
        assert client.get(url).status_code in (403, 404), url
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(("assessments_org.", "assessments_region.")):
            assert "response" not in rule.rule and "answer" not in rule.rule


# ------------------------------------------------------------------- rounds and response rates


def test_response_rate_and_non_respondents(app: Flask) -> None:
    with app.app_context():
        instrument = make_instrument()
        org = make_organisation("north")
        other = make_organisation("south")
        tutors = [
            make_person(org.id, f"tutor{i}@north.org", [Role.TUTOR_TEACHER]) for i in range(3)
        ]
        make_person(org.id, "teacher@north.org")
        make_person(other.id, "tutor@south.org", [Role.TUTOR_TEACHER])
        gone = make_person(org.id, "gone@north.org", [Role.TUTOR_TEACHER])
        gone.is_active_account = False
        for_tutors = make_round(
            instrument, org.id, "Tutors", TODAY, TODAY, target_role=Role.TUTOR_TEACHER
        )
        for tutor in tutors[:2]:
            submit(instrument, org.id, 3, round_id=for_tutors.id, user=tutor)
        rate = rounds.response_rate(for_tutors)
        assert (rate.submitted, rate.asked, rate.percent) == (2, 3, 67)
        assert [u.email for u in rounds.non_respondents(for_tutors)] == ["tutor2@north.org"]

        other_instrument = make_instrument("org")
        everyone = make_round(other_instrument, org.id, "All", TODAY, TODAY)
        rate = rounds.response_rate(everyone)
        assert (rate.submitted, rate.asked) == (0, 4)  # the inactive account is not asked
        assert len(rounds.non_respondents(everyone)) == 4


def test_open_round_for(app: Flask) -> None:
    with app.app_context():
        instrument = make_instrument()
        org = make_organisation("north")
        other = make_organisation("south")
        teacher = make_person(org.id, "teacher@north.org")
        tutor = make_person(org.id, "tutor@north.org", [Role.TUTOR_TEACHER])
        admin = make_person(org.id, "admin@north.org", [Role.ADMIN])
        stranger = make_person(other.id, "someone@south.org")
        autumn = make_round(instrument, org.id, "Autumn", date(2026, 11, 1), date(2026, 11, 30))
        tutors = make_round(
            instrument, org.id, "Tutors", date(2026, 12, 1), date(2026, 12, 31), Role.TUTOR_TEACHER
        )
        assert rounds.open_round_for(teacher, instrument, TODAY) == autumn
        moment = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)  # a datetime counts as its date
        assert rounds.open_round_for(teacher, instrument, moment) == autumn
        assert rounds.open_round_for(teacher, instrument, date(2026, 10, 31)) is None
        assert rounds.open_round_for(stranger, instrument, TODAY) is None
        december = date(2026, 12, 5)
        assert rounds.open_round_for(tutor, instrument, december) == tutors
        assert rounds.open_round_for(teacher, instrument, december) is None
        assert rounds.open_round_for(admin, instrument, december) is None


def test_rounds_cannot_overlap_or_run_backwards(app: Flask) -> None:
    with app.app_context():
        instrument = make_instrument()
        org = make_organisation("north")
        make_round(instrument, org.id, "Autumn", date(2026, 11, 1), date(2026, 11, 30))
        with pytest.raises(rounds.RoundError):
            make_round(instrument, org.id, "Again", date(2026, 11, 30), date(2026, 12, 5))
        with pytest.raises(rounds.RoundError):
            make_round(instrument, org.id, "Backwards", date(2027, 2, 1), date(2027, 1, 1))
        with pytest.raises(rounds.RoundError):
            make_round(instrument, org.id, "  ", date(2027, 2, 1), date(2027, 3, 1))
        make_round(instrument, org.id, "Spring", date(2027, 3, 1), date(2027, 3, 31))


def test_org_admin_opens_a_round(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World
) -> None:
    auth.login("boss@north.org")
    url = f"/assessments/organisation/{world.north}/rounds"
    page = client.get(url)
    assert page.status_code == 200 and "Autumn" in page.get_data(as_text=True)
    with app.app_context():
        instrument_id = db.session.execute(db.select(Instrument.id)).scalar_one()
    form = {
        "instrument": instrument_id,
        "title": "Next spring",
        "opens_on": "2027-03-01",
        "closes_on": "2027-03-31",
        "target": "tutor_teacher",
    }
    assert client.post(url, data=form).status_code == 302
    overlapping = client.post(url, data=form | {"title": "Twice"})
    assert overlapping.status_code == 400 and "overlap" in overlapping.get_data(as_text=True)
    with app.app_context():
        created = db.session.execute(
            db.select(AssessmentRound).where(AssessmentRound.title == "Next spring")
        ).scalar_one()
        assert created.organisation_id == world.north
        assert created.target_role == "tutor_teacher"
        assert (
            db.session.execute(
                db.select(AssessmentRound).where(AssessmentRound.title == "Twice")
            ).first()
            is None
        )


def test_round_detail_lists_who_has_not_answered(
    client: FlaskClient, auth: AuthActions, world: World
) -> None:
    auth.login("boss@north.org")
    page = client.get(f"/assessments/organisation/{world.north}/rounds/{world.round_id}")
    text = page.get_data(as_text=True)
    assert "staff@north.org" in text and "boss@north.org" in text
    assert "person1@example.org" in text  # answered in the spring round only
    assert "person6@example.org" not in text  # answered in this round


# ------------------------------------------------------------------------------------ regions


def test_region_commands(app: Flask, make_org: Callable[..., int]) -> None:
    make_org("Harbour College", "harbour")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["assessments", "region", "add", "coast", "Coast region"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["assessments", "region", "assign", "harbour", "coast"])
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["assessments", "region", "assign", "nowhere", "coast"]).exit_code
    assert runner.invoke(args=["assessments", "region", "assign", "harbour", "inland"]).exit_code
    assert runner.invoke(args=["assessments", "region", "add", "Bad Slug", "X"]).exit_code
    with app.app_context():
        organisation = db.session.execute(
            db.select(Organisation).where(Organisation.slug == "harbour")
        ).scalar_one()
        assert organisation.region is not None and organisation.region.name == "Coast region"


def test_aggregates_on_postgres(pg_app: Flask) -> None:  # noqa: F811  (the fixture)
    """The GROUP BY queries and the HAVING of the comparison run on PostgreSQL too."""
    with pg_app.app_context():
        instrument = make_instrument()
        a = make_organisation("pg-a")
        small = make_organisation("pg-small")
        round_a = make_round(instrument, a.id, "Now", date(2026, 11, 1), date(2026, 11, 30))
        answer_many(instrument, a.id, round_a.id, 5, 2, StaffGroup.TEACHER)
        answer_many(instrument, a.id, round_a.id, 4, 4, StaffGroup.LEADER)
        round_s = make_round(instrument, small.id, "Now", date(2026, 11, 1), date(2026, 11, 30))
        answer_many(instrument, small.id, round_s.id, 4, 6)
        db.session.commit()
        report = aggregates.organisation_report(instrument, a.id, round_a.id)
        area = report.areas[0].figures
        assert area.total.mean == pytest.approx(26 / 9)
        assert area.groups[StaffGroup.TEACHER].withheld  # the leaders' complement
        everywhere = aggregates.comparison(
            instrument, aggregates.latest_round_keys(instrument.id, TODAY)
        )
        assert everywhere.organisations == 1
        assert everywhere.area(report.areas[0].area.id).mean == pytest.approx(26 / 9)
        by_round = aggregates.area_figures_by_round(instrument, [round_a.id, round_s.id])
        assert by_round[round_s.id][report.areas[0].area.id].withheld
