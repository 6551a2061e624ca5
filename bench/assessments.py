"""Assessment aggregates at scale: 100,000 respondents × 30 items (3 million answers) in 200
organisations of 20 regions, on SQLite and (with `--postgres URL`) on PostgreSQL.

Data is written with bulk SQL, not through the ORM: users, responses and answers by
INSERT … SELECT over a counter (a recursive CTE both databases run), then the tallies the views
read are built from the answers by INSERT … SELECT … GROUP BY (timed: it is also what rebuilding
the tallies would cost). Answer values are spread evenly over the scale and every staff group
occurs in every round, so each organisation's round fills every tally cell (the worst case).
Each organisation has a previous and a current round; three respondents in five answer the
current one.

Then, with the big tables in place, the services behind each page are timed (median and p95 of
`--repeat` calls, each in a fresh session as a request would be):
- the organisation view: its round's report, the previous round's, the region and the campus
  comparisons (the campus one adds up all 200 organisations' latest rounds);
- the CSV: the same figures written out;
- the regional view: ten organisations' current and previous rounds side by side;
- the three pages themselves through the WSGI test client (templates included);
- one more submission's tally upsert (`tallies.record_submission` + commit).
Target: under 200 ms per view.

PostgreSQL: the benchmark works in a schema of its own (`bench_assessments`, dropped before and
after), so it never touches the tables of the database it is pointed at; still, give it a
database of its own, not one the test suite wipes while it runs.

Usage: `.venv/bin/python bench/assessments.py [--respondents 100000] [--repeat 15]
[--postgres postgresql+psycopg://user:pw@host/db]`; `make bench BENCH_POSTGRES_URL=…` passes
the URL on. About a minute on SQLite, two more on PostgreSQL (2-core machine).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask import current_app

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from campus import create_app  # noqa: E402
from campus.assessments import aggregates  # noqa: E402
from campus.assessments import rounds  # noqa: E402
from campus.assessments import tallies  # noqa: E402
from campus.assessments.export import Scopes  # noqa: E402
from campus.assessments.export import report_csv  # noqa: E402
from campus.assessments.models import Answer  # noqa: E402
from campus.assessments.models import AssessmentArea  # noqa: E402
from campus.assessments.models import AssessmentItem  # noqa: E402
from campus.assessments.models import AssessmentResponse  # noqa: E402
from campus.assessments.models import AssessmentRound  # noqa: E402
from campus.assessments.models import Instrument  # noqa: E402
from campus.assessments.models import ItemTally  # noqa: E402
from campus.assessments.models import Respondent  # noqa: E402
from campus.assessments.models import RespondentTally  # noqa: E402
from campus.assessments.models import Scale  # noqa: E402
from campus.assessments.models import StaffGroup  # noqa: E402
from campus.assessments.org_views import region_table  # noqa: E402
from campus.auth.models import Organisation  # noqa: E402
from campus.auth.models import Region  # noqa: E402
from campus.auth.models import Role  # noqa: E402
from campus.auth.models import User  # noqa: E402
from campus.auth.services import set_roles  # noqa: E402
from campus.extensions import db  # noqa: E402

SCHEMA = "bench_assessments"
ORGANISATIONS = 200
REGIONS = 20
AREAS, ITEMS_PER_AREA = 6, 5  # 30 items
TARGET_MS = 200.0
FAST_HASH = "pbkdf2:sha256:1000"
PASSWORD = "bench password 1"
DOMAIN = "bench.campus.example"


def make_app(url: str) -> Flask:
    options: dict[str, Any] = {"pool_pre_ping": True}
    if url.startswith("postgresql"):
        options["connect_args"] = {"options": f"-csearch_path={SCHEMA}"}
    app = create_app(
        {
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": url,
            "SQLALCHEMY_ENGINE_OPTIONS": options,
            "PASSWORD_HASH_METHOD": FAST_HASH,
            "WTF_CSRF_ENABLED": False,
        }
    )
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
                connection.execute(sa.text(f"CREATE SCHEMA {SCHEMA}"))
        db.create_all()
    return app


def drop_schema(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        db.engine.dispose()


# --- data ------------------------------------------------------------------------------------


def structure(today: date) -> int:
    """Regions, organisations, two rounds each, the instrument and an admin; its id."""
    texts = {"fi": "Mittari", "en": "Bench"}
    instrument = Instrument(
        slug="bench-30",
        respondent=Respondent.PERSON,
        title={"fi": "Kolmenkymmenen väitteen mittari", "en": "Thirty-item instrument"},
        summary=texts,
        intro_html=texts,
        audience=["all_staff"],
        content_hash="bench",
    )
    db.session.add(instrument)
    for a in range(AREAS):
        area = AssessmentArea(
            key=f"area-{a}",
            position=a,
            title={"fi": f"Alue {a + 1}", "en": f"Area {a + 1}"},
            description={},
        )
        instrument.areas.append(area)
        for i in range(ITEMS_PER_AREA):
            area.items.append(
                AssessmentItem(
                    key=f"item-{a}-{i}",
                    position=i,
                    scale=Scale.LEVELS,
                    statement={"fi": f"Väite {a}.{i}", "en": f"Statement {a}.{i}"},
                    levels=[{"fi": f"Taso {n}", "en": f"Level {n}"} for n in range(1, 7)],
                    allows_not_relevant=i == 0,
                    alignment=f"{a + 1}.{i + 1}",
                    path_slugs=[],
                )
            )
    db.session.flush()
    regions = [Region(slug=f"region-{r:02d}", name=f"Region {r:02d}") for r in range(REGIONS)]
    db.session.add_all(regions)
    db.session.flush()
    for o in range(ORGANISATIONS):
        organisation = Organisation(
            slug=f"org-{o:03d}", name=f"Organisation {o:03d}", region_id=regions[o % REGIONS].id
        )
        db.session.add(organisation)
        db.session.flush()
        for title, opens in (
            ("Previous", today - timedelta(days=380)),
            ("Current", today - timedelta(days=20)),
        ):
            db.session.add(
                AssessmentRound(
                    instrument_id=instrument.id,
                    organisation_id=organisation.id,
                    title=title,
                    opens_on=opens,
                    closes_on=opens + timedelta(days=40),
                )
            )
    from werkzeug.security import generate_password_hash

    first = db.session.execute(db.select(Organisation).order_by(Organisation.id)).scalars().first()
    admin = User(
        email=f"admin@{DOMAIN}",
        name="Admin",
        password_hash=generate_password_hash(PASSWORD, method=FAST_HASH),
        organisation=first,
    )
    db.session.add(admin)
    set_roles(admin, {Role.ADMIN})
    db.session.commit()
    return instrument.id


COUNTER = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < :count) "
USERS = (
    COUNTER + 'INSERT INTO "user" (email, name, password_hash, organisation_id, '
    "is_active_account, created_at) "
    "SELECT 'r' || x || '@" + DOMAIN + "', 'Respondent ' || x, 'x', :first_org + (x % :orgs), "
    "TRUE, :now FROM n"
)
RESPONSES = (
    "INSERT INTO assessment_response (instrument_id, user_id, organisation_id, round_id, "
    "staff_group, started_at, submitted_at) "
    "SELECT :instrument, u.id, u.organisation_id, r.id, "
    "CASE (u.id / :orgs / 5) % 10 WHEN 0 THEN 'leader' WHEN 1 THEN 'support' WHEN 2 THEN 'support' "
    "WHEN 3 THEN 'other' ELSE 'teacher' END, :now, :now "
    'FROM "user" u JOIN assessment_round r ON r.organisation_id = u.organisation_id '
    "AND r.title = CASE WHEN (u.id / :orgs) % 5 < 3 THEN 'Current' ELSE 'Previous' END "
    "WHERE u.email LIKE 'r%@" + DOMAIN + "'"
)
ANSWERS = (
    "INSERT INTO answer (response_id, item_id, value, answered_at) "
    "SELECT r.id, i.id, CASE WHEN i.allows_not_relevant AND (r.id + i.id) % 20 = 0 THEN NULL "
    "ELSE 1 + ((r.id * 7919 + i.id * 104729 + r.organisation_id * 31) % 1009) % 6 END, :now "
    "FROM assessment_response r CROSS JOIN assessment_item i "
    "JOIN assessment_area a ON a.id = i.area_id WHERE a.instrument_id = :instrument"
)


def generate(respondents: int, instrument_id: int, now: datetime) -> dict[str, float]:
    """Bulk-insert people, responses and answers; then build the tallies. Seconds per step."""
    first_org = db.session.scalar(db.select(sa.func.min(Organisation.id)))
    params = {
        "count": respondents,
        "first_org": first_org,
        "orgs": ORGANISATIONS,
        "instrument": instrument_id,
        "now": now,
    }
    seconds = {}
    for label, sql in (("people", USERS), ("responses", RESPONSES), ("answers", ANSWERS)):
        statement = sa.text(sql).bindparams(sa.bindparam("now", type_=sa.DateTime()))
        start = time.perf_counter()
        db.session.execute(statement, {k: v for k, v in params.items() if f":{k}" in sql})
        db.session.commit()
        seconds[label] = time.perf_counter() - start
    start = time.perf_counter()
    build_tallies()
    db.session.commit()
    seconds["tallies"] = time.perf_counter() - start
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text("VACUUM ANALYZE"))
    return seconds


def build_tallies() -> None:
    """ItemTally and RespondentTally from every submitted answer: two INSERT … SELECT … GROUP BY
    (what `tallies.record_submission` adds up one response at a time)."""
    value = sa.func.coalesce(Answer.value, tallies.NOT_RELEVANT)
    key = sa.func.coalesce(AssessmentResponse.round_id, 0)
    submitted = AssessmentResponse.submitted_at.is_not(None)
    cells = (
        db.select(
            Answer.item_id,
            AssessmentResponse.organisation_id,
            key,
            AssessmentResponse.staff_group,
            value,
            sa.func.count(),
        )
        .join(AssessmentResponse, AssessmentResponse.id == Answer.response_id)
        .where(submitted)
        .group_by(
            Answer.item_id,
            AssessmentResponse.organisation_id,
            key,
            AssessmentResponse.staff_group,
            value,
        )
    )
    db.session.execute(
        sa.insert(ItemTally).from_select(
            ["item_id", "organisation_id", "round_key", "staff_group", "value", "count"], cells
        )
    )
    people = (
        db.select(
            AssessmentResponse.instrument_id,
            AssessmentResponse.organisation_id,
            key,
            AssessmentResponse.staff_group,
            sa.func.count(),
        )
        .where(submitted)
        .group_by(
            AssessmentResponse.instrument_id,
            AssessmentResponse.organisation_id,
            key,
            AssessmentResponse.staff_group,
        )
    )
    db.session.execute(
        sa.insert(RespondentTally).from_select(
            ["instrument_id", "organisation_id", "round_key", "staff_group", "count"], people
        )
    )


# --- timing ------------------------------------------------------------------------------------


def sample(repeat: int, func: Callable[[], object]) -> tuple[float, float]:
    """Median and p95 in milliseconds; each call in a fresh session, as in a request."""
    func()  # warm-up (imports, statement caches)
    samples = []
    for _ in range(repeat):
        db.session.remove()
        start = time.perf_counter()
        func()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return statistics.median(samples), p95


def organisation_figures(organisation_id: int, today: date):  # type: ignore[no-untyped-def]
    """What the organisation page computes (org_views._views): report, previous, region, campus."""
    instrument = db.session.execute(
        db.select(Instrument).where(Instrument.slug == "bench-30")
    ).scalar_one()
    organisation = db.session.get(Organisation, organisation_id)
    assert organisation is not None
    current = rounds.rounds_of(organisation_id, instrument.id)[0]
    report = aggregates.organisation_report(instrument, organisation_id, current.id)
    before = rounds.previous_round(current)
    previous = (
        aggregates.organisation_report(instrument, organisation_id, before.id) if before else None
    )
    members = db.session.execute(
        db.select(Organisation.id).where(Organisation.region_id == organisation.region_id)
    ).scalars()
    region = aggregates.comparison(
        instrument, aggregates.latest_round_keys(instrument.id, today, list(members))
    )
    campus = aggregates.campus_comparison(  # as the page: recomputed once per cache period
        instrument,
        aggregates.latest_round_keys(instrument.id, today),
        float(current_app.config["ASSESSMENT_CAMPUS_CACHE_SECONDS"]),
    )
    return report, Scopes(previous, region, campus)


def measure(app: Flask, repeat: int, today: date) -> list[tuple[str, float, float]]:
    rows: list[tuple[str, float, float]] = []
    with app.app_context():
        organisation = (
            db.session.execute(db.select(Organisation).order_by(Organisation.id)).scalars().first()
        )
        assert organisation is not None
        organisation_id, region_id = organisation.id, organisation.region_id
        region_slug = db.session.get(Region, region_id).slug  # type: ignore[union-attr]
        instrument_id = db.session.scalar(db.select(Instrument.id))
        current_id = rounds.rounds_of(organisation_id, instrument_id)[0].id

        def instrument() -> Instrument:
            return db.session.get(Instrument, instrument_id)  # type: ignore[return-value]

        report, scopes = organisation_figures(organisation_id, today)
        assert (
            not report.respondents.total.withheld and scopes.campus.organisations == ORGANISATIONS
        )
        parts: list[tuple[str, Callable[[], object]]] = [
            (
                "  its round's report (one organisation)",
                lambda: aggregates.organisation_report(instrument(), organisation_id, current_id),
            ),
            (
                "  region comparison (10 organisations)",
                lambda: aggregates.comparison(
                    instrument(),
                    aggregates.latest_round_keys(
                        instrument_id,
                        today,
                        list(
                            db.session.execute(
                                db.select(Organisation.id).where(
                                    Organisation.region_id == region_id
                                )
                            ).scalars()
                        ),
                    ),
                ),
            ),
            (
                "  campus comparison (200 organisations, uncached)",
                lambda: aggregates.comparison(
                    instrument(), aggregates.latest_round_keys(instrument_id, today)
                ),
            ),
        ]
        rows.append(
            (
                "organisation view: services",
                *sample(repeat, lambda: organisation_figures(organisation_id, today)),
            )
        )
        for label, func in parts:
            rows.append((label, *sample(repeat, func)))

        def csv() -> str:
            report, scopes = organisation_figures(organisation_id, today)
            return report_csv(report, scopes, "fi")

        with app.test_request_context():
            rows.append(("organisation CSV: services + writing", *sample(repeat, csv)))

        def regional() -> object:
            members = list(
                db.session.execute(
                    db.select(Organisation)
                    .where(Organisation.region_id == region_id)
                    .order_by(Organisation.name)
                ).scalars()
            )
            return region_table(instrument(), members)

        rows.append(("regional view: services", *sample(repeat, regional)))

        client = app.test_client()
        client.post("/auth/login", data={"email": f"admin@{DOMAIN}", "password": PASSWORD})
        base = f"/assessments/organisation/{organisation_id}/rounds/{current_id}/results"
        for label, url in (
            ("GET organisation page", base),
            ("GET organisation CSV", base + ".csv"),
            ("GET regional page", f"/assessments/region/{region_slug}"),
        ):
            assert client.get(url).status_code == 200, url

            def get(url: str = url) -> None:
                assert client.get(url).status_code == 200

            rows.append((label, *sample(repeat, get)))
        rows.append(
            ("submit: tally upsert + commit", *submission_cost(repeat, instrument_id, today))
        )
    return rows


def submission_cost(repeat: int, instrument_id: int, today: date) -> tuple[float, float]:
    """One more person's 30 answers added to the tallies (`record_submission`) and committed."""
    instrument = db.session.get(Instrument, instrument_id)
    assert instrument is not None
    items = [item.id for area in instrument.areas for item in area.items]
    organisation = (
        db.session.execute(db.select(Organisation).order_by(Organisation.id.desc()))
        .scalars()
        .first()
    )
    assert organisation is not None
    round_ = rounds.rounds_of(organisation.id, instrument_id)[0]
    now = datetime.now(UTC)
    samples = []
    for n in range(repeat + 1):
        user = User(
            email=f"late{n}@{DOMAIN}", name="Late", password_hash="x", organisation=organisation
        )
        db.session.add(user)
        db.session.flush()
        response = AssessmentResponse(
            instrument_id=instrument_id,
            user_id=user.id,
            organisation_id=organisation.id,
            round_id=round_.id,
            staff_group=StaffGroup.TEACHER,
            started_at=now,
            submitted_at=now,
            answers=[Answer(item_id=i, value=1 + (i + n) % 6, answered_at=now) for i in items],
        )
        db.session.add(response)
        db.session.flush()
        start = time.perf_counter()
        tallies.record_submission(response)
        db.session.commit()
        if n:  # the first is the warm-up
            samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[
        min(len(samples) - 1, round(0.95 * (len(samples) - 1)))
    ]


# --- the run -----------------------------------------------------------------------------------


def run(
    label: str, url: str, respondents: int, repeat: int
) -> tuple[dict[str, float], list[tuple[str, float, float]]]:
    today = datetime.now(UTC).date()
    app = make_app(url)
    try:
        with app.app_context():
            version = db.session.scalar(
                sa.text(
                    "SELECT sqlite_version()" if url.startswith("sqlite") else "SHOW server_version"
                )
            )
            print(
                f"\n{label} {version}: {respondents:,} respondents × {AREAS * ITEMS_PER_AREA} items, {ORGANISATIONS} organisations in {REGIONS} regions",
                flush=True,
            )
            instrument_id = structure(today)
            seconds = generate(respondents, instrument_id, datetime.now(UTC))
            answers = db.session.scalar(db.select(sa.func.count()).select_from(Answer))
            cells = db.session.scalar(db.select(sa.func.count()).select_from(ItemTally))
            tallied = db.session.scalar(db.select(sa.func.sum(ItemTally.count)))
            assert answers == tallied == respondents * AREAS * ITEMS_PER_AREA, (answers, tallied)
            for step, value in seconds.items():
                print(f"  insert {step:<42} {value:8.1f} s", flush=True)
            print(f"  ({answers:,} answers → {cells:,} tally cells)")
            db.session.remove()
        rows = measure(app, repeat, today)
        print(f"  {'':<44} {'median':>9} {'p95':>9}")
        for name, median, p95 in rows:
            flag = "" if median < TARGET_MS or not name[0].isalpha() else "  over target"
            print(f"  {name:<44} {median:6.1f} ms {p95:6.1f} ms{flag}", flush=True)
        return seconds, rows
    finally:
        drop_schema(app)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--respondents", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15, help="timed calls per figure")
    parser.add_argument("--postgres", metavar="URL", help="also run on this PostgreSQL database")
    args = parser.parse_args()
    print(
        f"Assessment aggregates benchmark — Python {sys.version.split()[0]}, target {TARGET_MS:.0f} ms per view"
    )
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        run("SQLite", f"sqlite:///{tmp}/bench.sqlite", args.respondents, args.repeat)
    if args.postgres:
        run("PostgreSQL", args.postgres, args.respondents, args.repeat)
    print(f"\n(total {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
