"""Demo data for the assessments: a region of organisations whose staff have answered.

`make run` shows the organisation and regional views with real aggregates only if someone has
answered, so the demo adds synthetic colleagues (never the demo account's own responses: the
demo account takes the assessment itself). Every submission goes through the same tally upsert
as a real one (`tallies.record_submission`), so the views read exactly what they read in use.

Idempotent: organisations, people and rounds are found by slug, e-mail and dates before anything
is created, and a person who already has a response in a round is left alone. The answers are
drawn from a random generator seeded by the organisation's slug, so they are the same every run.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta

from campus.assessments import rounds
from campus.assessments import tallies
from campus.assessments.models import Answer
from campus.assessments.models import AssessmentItem
from campus.assessments.models import AssessmentResponse
from campus.assessments.models import AssessmentRound
from campus.assessments.models import Instrument
from campus.assessments.models import StaffGroup
from campus.auth.models import Organisation
from campus.auth.models import OrganisationKind
from campus.auth.models import Region
from campus.auth.models import User
from campus.auth.services import DEMO_ORGANISATION_SLUG
from campus.auth.services import hash_password
from campus.clock import utcnow
from campus.extensions import db

DEMO_REGION_SLUG = "demo-region"
DEMO_REGION_NAME = "Demoseutu"
STAFF_INSTRUMENT = "staff-digital-competence"
ORGANISATION_INSTRUMENT = "organisation-digital-capability"
RESPONDENT_DOMAIN = "respondents.campus.example"  # never a real mailbox


class DemoError(Exception):
    """The demo cannot be built (the demo organisation or the instruments are missing)."""


@dataclass(frozen=True)
class DemoOrganisation:
    slug: str
    name: str
    kind: OrganisationKind
    people: int  # synthetic staff in the organisation
    answered_now: int  # of them, respondents in the current round
    answered_before: int  # … and in the previous one
    leaders: int  # the first `leaders` people are leaders (and answer the organisation instrument)
    level: float  # where its staff stand on average (0 … 1 of the scale)
    digi_group: int = 0  # people who answer the organisation instrument (0: no such round)


# The demo organisation (made by `flask auth demo`) and three neighbours. The smallest answered
# by only four people last time: its previous round shows "too few answers".
ORGANISATIONS = (
    DemoOrganisation(
        DEMO_ORGANISATION_SLUG, "", OrganisationKind.EDUCATION_PROVIDER, 26, 22, 17, 3, 0.55, 7
    ),
    DemoOrganisation(
        "demo-vocational-institute",
        "Demoseudun ammattiopisto",
        OrganisationKind.EDUCATION_PROVIDER,
        30,
        25,
        21,
        4,
        0.6,
        6,
    ),
    DemoOrganisation(
        "demo-municipality", "Demokylän kunta", OrganisationKind.MUNICIPALITY, 16, 13, 9, 2, 0.45
    ),
    DemoOrganisation(
        "demo-town", "Demolan kaupunki", OrganisationKind.MUNICIPALITY, 12, 9, 4, 2, 0.4
    ),
)

_MIX = (StaffGroup.TEACHER, StaffGroup.TEACHER, StaffGroup.SUPPORT, StaffGroup.TEACHER,
        StaffGroup.OTHER, StaffGroup.TEACHER, StaffGroup.SUPPORT)  # fmt: skip
_FIRST = (
    "Aino", "Eero", "Helmi", "Juha", "Kaisa", "Lauri", "Maija", "Niko", "Outi", "Pekka",
    "Riikka", "Sami", "Tiina", "Ville", "Anni", "Jari", "Leena", "Markus", "Sanna", "Timo",
)  # fmt: skip
_LAST = (
    "Virtanen", "Korhonen", "Mäkinen", "Nieminen", "Mäkelä", "Hämäläinen", "Laine", "Heikkinen",
    "Koskinen", "Järvinen", "Lehtonen", "Saarinen", "Salminen", "Heinonen", "Niemi", "Kinnunen",
)  # fmt: skip


@dataclass
class DemoReport:
    organisations: list[str] = field(default_factory=list)
    people_created: int = 0
    rounds_created: int = 0
    responses_created: int = 0

    def summary(self) -> str:
        return (
            f"region {DEMO_REGION_SLUG} with {len(self.organisations)} organisations; "
            f"{self.people_created} people, {self.rounds_created} rounds and "
            f"{self.responses_created} submitted responses added"
        )


def seed_demo(today: date) -> DemoReport:
    """Build (or complete) the demo region, rounds and answers; the caller commits."""
    report = DemoReport()
    staff = _instrument(STAFF_INSTRUMENT)
    capability = _instrument(ORGANISATION_INSTRUMENT)
    region = _region()
    password_hash = hash_password(secrets.token_urlsafe(32))  # nobody logs in as them
    for spec in ORGANISATIONS:
        organisation = _organisation(spec, region)
        report.organisations.append(organisation.slug)
        people = _people(spec, organisation, password_hash, report)
        answering = (spec.answered_before, spec.answered_now)
        _answer_rounds(spec, organisation, staff, people, answering, today, report)
        if spec.digi_group:
            digi_group = people[: spec.digi_group]
            answering = (spec.digi_group, spec.digi_group)
            _answer_rounds(spec, organisation, capability, digi_group, answering, today, report)
    db.session.flush()
    return report


def _instrument(slug: str) -> Instrument:
    instrument = db.session.execute(
        db.select(Instrument).where(Instrument.slug == slug, Instrument.is_retired.is_(False))
    ).scalar_one_or_none()
    if instrument is None:
        raise DemoError(f"no instrument {slug}: run `flask content sync` first")
    return instrument


def _region() -> Region:
    region = db.session.execute(
        db.select(Region).where(Region.slug == DEMO_REGION_SLUG)
    ).scalar_one_or_none()
    if region is None:
        region = Region(slug=DEMO_REGION_SLUG, name=DEMO_REGION_NAME)
        db.session.add(region)
        db.session.flush()
    return region


def _organisation(spec: DemoOrganisation, region: Region) -> Organisation:
    organisation = db.session.execute(
        db.select(Organisation).where(Organisation.slug == spec.slug)
    ).scalar_one_or_none()
    if organisation is None:
        if spec.slug == DEMO_ORGANISATION_SLUG:
            raise DemoError("no demo organisation: run `flask auth demo` first")
        organisation = Organisation(slug=spec.slug, name=spec.name, kind=spec.kind)
        db.session.add(organisation)
    organisation.region_id = region.id
    db.session.flush()
    return organisation


def _people(
    spec: DemoOrganisation, organisation: Organisation, password_hash: str, report: DemoReport
) -> list[tuple[User, StaffGroup]]:
    """The organisation's synthetic staff, each with the staff group they answer as."""
    emails = [f"{spec.slug}-{n:02d}@{RESPONDENT_DOMAIN}" for n in range(1, spec.people + 1)]
    existing = {
        user.email: user
        for user in db.session.execute(db.select(User).where(User.email.in_(emails))).scalars()
    }
    people = []
    for n, email in enumerate(emails):
        user = existing.get(email)
        if user is None:
            name = f"{_FIRST[(n * 7 + len(spec.slug)) % len(_FIRST)]} {_LAST[n % len(_LAST)]}"
            user = User(
                email=email,
                name=name,
                password_hash=password_hash,
                organisation=organisation,
                email_verified_at=utcnow(),  # demo people: their badges are issued at once
            )
            db.session.add(user)
            report.people_created += 1
        people.append((user, _group(spec, n)))
    db.session.flush()
    return people


def _group(spec: DemoOrganisation, n: int) -> StaffGroup:
    """Leaders first, then mostly teachers with some support staff and others."""
    if n < spec.leaders:
        return StaffGroup.LEADER
    return _MIX[(n - spec.leaders) % len(_MIX)]


def _ensure_round(
    organisation: Organisation,
    instrument: Instrument,
    opens_on: date,
    closes_on: date,
    report: DemoReport,
) -> AssessmentRound:
    """The organisation's round over these dates: one that overlaps them (perhaps opened by the
    demo account itself) or a new one, so a second run never trips over the overlap rule."""
    found = db.session.execute(
        db.select(AssessmentRound)
        .where(
            AssessmentRound.organisation_id == organisation.id,
            AssessmentRound.instrument_id == instrument.id,
            AssessmentRound.opens_on <= closes_on,
            AssessmentRound.closes_on >= opens_on,
        )
        .order_by(AssessmentRound.opens_on.desc(), AssessmentRound.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if found is not None:
        return found
    title = f"{instrument.title.get('fi') or instrument.slug} {opens_on.year}"
    report.rounds_created += 1
    return rounds.open_round(organisation.id, instrument, title, opens_on, closes_on, None, None)


def _answer_rounds(
    spec: DemoOrganisation,
    organisation: Organisation,
    instrument: Instrument,
    people: list[tuple[User, StaffGroup]],
    answering: tuple[int, int],
    today: date,
    report: DemoReport,
) -> None:
    """A closed round about a year ago and one open now; people answer both, a little better now."""
    previous = _ensure_round(
        organisation, instrument, today - timedelta(days=380), today - timedelta(days=350), report
    )
    current = _ensure_round(
        organisation, instrument, today - timedelta(days=21), today + timedelta(days=21), report
    )
    items = [
        item
        for area in instrument.areas
        if not area.is_retired
        for item in area.items
        if not item.is_retired
    ]
    rng = random.Random(f"{spec.slug}/{instrument.slug}")
    profile = {item.area_id: rng.uniform(-0.15, 0.15) for item in items}
    for round_, count, growth in ((previous, answering[0], 0.0), (current, answering[1], 0.07)):
        already = set(
            db.session.execute(
                db.select(AssessmentResponse.user_id).where(
                    AssessmentResponse.round_id == round_.id
                )
            ).scalars()
        )
        day = max(min(round_.opens_on + timedelta(days=3), today), round_.opens_on)
        for n, (user, group) in enumerate(people[:count]):
            if user.id in already:
                continue  # answered in an earlier run (or the person's own answers)
            # The same person stands at the same level each round (a little higher now); the
            # answers around that level vary from round to round.
            ability = spec.level + growth + random.Random(user.email).gauss(0, 0.12)
            person = random.Random(f"{instrument.slug}/{round_.opens_on}/{user.email}")
            when = datetime.combine(day, time(8, 0), UTC) + timedelta(minutes=37 * n)
            response = AssessmentResponse(
                instrument_id=instrument.id,
                user_id=user.id,
                organisation_id=organisation.id,
                round_id=round_.id,
                staff_group=group,
                started_at=when,
                submitted_at=when + timedelta(minutes=20),
            )
            for item in items:
                response.answers.append(
                    Answer(
                        item_id=item.id,
                        value=_value(item, ability + profile[item.area_id], group, person),
                        answered_at=when,
                    )
                )
            db.session.add(response)
            db.session.flush()
            tallies.record_submission(response)
            report.responses_created += 1


def _value(
    item: AssessmentItem, ability: float, group: StaffGroup, rng: random.Random
) -> int | None:
    """A plausible answer: the person's level on the item's scale, with some noise; support
    staff find more teaching items "not relevant to my work"."""
    if item.allows_not_relevant and rng.random() < (0.25 if group == StaffGroup.SUPPORT else 0.05):
        return None
    value = round(1 + (item.top - 1) * (ability + rng.gauss(0, 0.12)))
    return max(1, min(item.top, value))
