"""`flask assessments demo`: a region whose organisations show real aggregates, built once."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from campus.assessments import aggregates
from campus.assessments import rounds
from campus.assessments.content import load_instruments
from campus.assessments.content import path_folders
from campus.assessments.demo import DEMO_REGION_SLUG
from campus.assessments.demo import ORGANISATIONS
from campus.assessments.demo import STAFF_INSTRUMENT
from campus.assessments.models import Answer
from campus.assessments.models import AssessmentResponse
from campus.assessments.models import AssessmentRound
from campus.assessments.models import Instrument
from campus.assessments.models import ItemTally
from campus.assessments.models import RespondentTally
from campus.assessments.models import StaffGroup
from campus.assessments.sync import sync_instruments
from campus.auth.models import Organisation
from campus.auth.models import Region
from campus.auth.models import Role
from campus.auth.services import DEMO_ORGANISATION_SLUG
from campus.auth.services import ensure_demo_account
from campus.clock import utcnow
from campus.config import REPO_ROOT
from campus.extensions import db
from campus.paths.sync import SyncReport
from tests.conftest import AuthActions

TOO_FEW = "too few answers"


def load_real_instruments() -> None:
    root = REPO_ROOT / "content"
    specs, problems = load_instruments(root, path_folders(root))
    assert problems == []
    sync_instruments(specs, SyncReport())


@pytest.fixture
def demo_app(app: Flask) -> Flask:
    """The shipped instruments and the demo account, as `make setup` has them before the demo."""
    with app.app_context():
        load_real_instruments()
        ensure_demo_account("demo password 123")
        db.session.commit()
    return app


def counts() -> tuple[int, ...]:
    return tuple(
        db.session.scalar(db.select(db.func.count()).select_from(model)) or 0
        for model in (Organisation, AssessmentRound, AssessmentResponse, Answer)
    ) + (
        db.session.scalar(db.select(db.func.sum(ItemTally.count))) or 0,
        db.session.scalar(db.select(db.func.sum(RespondentTally.count))) or 0,
    )


def demo_round(instrument_slug: str = STAFF_INSTRUMENT, slug: str = DEMO_ORGANISATION_SLUG):
    organisation = db.session.execute(
        db.select(Organisation).where(Organisation.slug == slug)
    ).scalar_one()
    instrument = db.session.execute(
        db.select(Instrument).where(Instrument.slug == instrument_slug)
    ).scalar_one()
    current = rounds.open_round_for(organisation.users[0], instrument, utcnow())
    return organisation, instrument, current


def test_demo_is_idempotent_and_leaves_the_demo_account_alone(demo_app: Flask) -> None:
    runner = demo_app.test_cli_runner()
    result = runner.invoke(args=["assessments", "demo"])
    assert result.exit_code == 0, result.output
    assert "4 organisations" in result.output
    with demo_app.app_context():
        first = counts()
        assert first[2] > 100  # responses
        region = db.session.execute(
            db.select(Region).where(Region.slug == DEMO_REGION_SLUG)
        ).scalar_one()
        members = db.session.execute(
            db.select(Organisation.slug).where(Organisation.region_id == region.id)
        ).scalars()
        assert set(members) == {spec.slug for spec in ORGANISATIONS}
        # The demo account takes the assessment in the current round; a second run keeps it.
        demo_user = db.session.execute(
            db.select(Organisation).where(Organisation.slug == DEMO_ORGANISATION_SLUG)
        ).scalar_one()
        from campus.auth.services import find_user_by_email

        me = find_user_by_email("demo@campus.example")
        assert me is not None and me.organisation_id == demo_user.id
        _org, instrument, current = demo_round()
        assert current is not None and rounds.open_round_for(me, instrument, utcnow()) == current
        mine = AssessmentResponse(
            instrument_id=instrument.id,
            user_id=me.id,
            organisation_id=me.organisation_id,
            round_id=current.id,
            staff_group=StaffGroup.LEADER,
        )
        db.session.add(mine)
        db.session.commit()
        mine_id = mine.id
        before = counts()

    again = runner.invoke(args=["assessments", "demo"])
    assert again.exit_code == 0, again.output
    assert "0 people, 0 rounds and 0 submitted responses added" in again.output
    with demo_app.app_context():
        assert counts() == before
        kept = db.session.get(AssessmentResponse, mine_id)
        assert kept is not None and kept.submitted_at is None and kept.answers == []
        assert (
            db.session.scalar(
                db.select(db.func.count())
                .select_from(AssessmentResponse)
                .where(AssessmentResponse.user_id == kept.user_id)
            )
            == 1
        )


def test_demo_needs_the_demo_organisation(app: Flask) -> None:
    with app.app_context():
        load_real_instruments()
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["assessments", "demo"])
    assert result.exit_code != 0
    assert "flask auth demo" in result.output
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Region)) == 0


def test_demo_aggregates_show_in_the_organisation_and_region_views(
    demo_app: Flask, client: FlaskClient, auth: AuthActions, make_user: Callable[..., int]
) -> None:
    assert demo_app.test_cli_runner().invoke(args=["assessments", "demo"]).exit_code == 0
    with demo_app.app_context():
        organisation, instrument, current = demo_round()
        previous = rounds.previous_round(current)
        assert previous is not None and previous.closes_on < utcnow().date()
        report = aggregates.organisation_report(instrument, organisation.id, current.id)
        assert report.respondents.total.n >= 20
        means = [area.figures.total.mean for area in report.areas]
        assert all(mean is not None and 1 <= mean <= 6 for mean in means)
        before = aggregates.organisation_report(instrument, organisation.id, previous.id)
        assert sum(a.figures.total.mean or 0 for a in before.areas) < sum(means)  # growth
        # The smallest organisation's previous round had four respondents: withheld.
        town, _instrument, town_round = demo_round(slug="demo-town")
        town_before = rounds.previous_round(town_round)
        assert town_before is not None
        small = aggregates.organisation_report(instrument, town.id, town_before.id)
        assert small.respondents.total.withheld
        # The organisation instrument too, for the demo organisation.
        _org, capability, capability_round = demo_round("organisation-digital-capability")
        assert capability_round is not None
        digi = aggregates.organisation_report(capability, organisation.id, capability_round.id)
        assert not digi.respondents.total.withheld
        url = f"/assessments/organisation/{organisation.id}/rounds/{current.id}/results"
        organisation_id = organisation.id
    make_user("leader@demo.example", {Role.ORG_ADMIN}, organisation_id)
    make_user("developer@demo.example", {Role.REGIONAL_DEVELOPER}, organisation_id)
    auth.login("leader@demo.example")
    page = client.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Previous round" in html and "Region" in html
    shown = [f"{mean:.1f}" for mean in means]
    assert sum(value in html for value in shown) >= len(shown) // 2
    csv = client.get(url + ".csv").get_data(as_text=True)
    assert csv.count("\n") > 100 and shown[0] in csv
    auth.logout()
    auth.login("developer@demo.example")
    region = client.get(f"/assessments/region/{DEMO_REGION_SLUG}")
    assert region.status_code == 200
    html = region.get_data(as_text=True)
    assert all(name in html for name in ("Demoseudun ammattiopisto", "Demolan kaupunki"))
    assert TOO_FEW in html  # the small organisation's previous round
