"""The learner's journey: start, resume, answer, submit, results, plan, growth, delete."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from campus.assessments import plan
from campus.assessments import responses
from campus.assessments import results
from campus.assessments.models import Answer
from campus.assessments.models import AssessmentArea
from campus.assessments.models import AssessmentItem
from campus.assessments.models import AssessmentResponse
from campus.assessments.models import Instrument
from campus.assessments.models import ItemTally
from campus.assessments.models import PlanItem
from campus.assessments.models import RespondentTally
from campus.assessments.models import Scale
from campus.auth.models import Role
from campus.auth.models import User
from campus.extensions import db
from campus.paths.models import LearningPath
from campus.paths.models import PathCompletion
from campus.paths.models import Theme


def _texts(en: str, fi: str | None = None) -> dict[str, str]:
    return {"en": en, "fi": fi or f"{en} (fi)"}


def _levels(prefix: str) -> list[dict[str, str]]:
    words = ["aware of", "have tried", "use", "analyse and select", "reflect on", "initiate"]
    return [_texts(f"I {w} {prefix}") for w in words]


@dataclass
class Setup:
    instrument_id: int
    items: dict[str, int]  # key → item id
    paths: dict[str, int]  # slug → path id


@pytest.fixture
def journey(app: Flask) -> Setup:
    """Two areas, four items (levels and agreement, one with "not relevant"), linked to the test
    paths `basics` (all staff, teachers) and `advanced` (tutor teachers, requires basics) and to
    two paths made here: `teach-path` (teachers) and `lead-path` (leaders)."""
    with app.app_context():
        alpha = db.session.execute(db.select(Theme).where(Theme.slug == "alpha")).scalar_one()
        for position, (slug, audience) in enumerate(
            [("teach-path", ["teachers"]), ("lead-path", ["leaders"])], start=10
        ):
            db.session.add(
                LearningPath(
                    slug=slug,
                    theme_id=alpha.id,
                    position=position,
                    audience=audience,
                    title=_texts(slug.replace("-", " ").title()),
                    summary=_texts("A path."),
                    content_hash="x",
                )
            )
        instrument = Instrument(
            slug="journey-skills",
            respondent="person",
            title={"en": "Journey skills", "fi": "Polkutaidot", "sv": "Stigfärdigheter"},
            summary=_texts("How digital are you?"),
            intro_html=_texts("<p>Answer honestly.</p>"),
            audience=["all_staff"],
            minutes=10,
            position=1,
            content_hash="x",
        )
        db.session.add(instrument)
        db.session.flush()
        strategy = AssessmentArea(
            instrument_id=instrument.id,
            key="strategy",
            position=1,
            title=_texts("Strategy", "Strategia"),
            description={},
        )
        teaching = AssessmentArea(
            instrument_id=instrument.id,
            key="teaching",
            position=2,
            title=_texts("Teaching", "Opetus"),
            description={},
        )
        db.session.add_all([strategy, teaching])
        db.session.flush()
        specs = [
            (strategy, "s1", Scale.LEVELS, False, "1.1", ["basics"]),
            (strategy, "s2", Scale.LEVELS, True, "1.2", ["basics", "advanced"]),
            (teaching, "t1", Scale.AGREEMENT, False, None, ["teach-path"]),
            (teaching, "t2", Scale.LEVELS, False, "3.1", ["lead-path", "teach-path"]),
        ]
        items = {}
        for position, (area, key, scale, nr, alignment, paths) in enumerate(specs):
            item = AssessmentItem(
                area_id=area.id,
                key=key,
                position=position,
                scale=scale,
                statement=_texts(f"Statement {key}" if alignment else "I plan lessons with tools"),
                levels=_levels(key) if scale == Scale.LEVELS else [],
                allows_not_relevant=nr,
                alignment=alignment,
                path_slugs=paths,
            )
            db.session.add(item)
            db.session.flush()
            items[key] = item.id
        db.session.commit()
        path_ids = dict(db.session.execute(db.select(LearningPath.slug, LearningPath.id)).all())
        return Setup(instrument.id, items, path_ids)


def _start(client: FlaskClient, group: str = "teacher") -> int:
    started = client.post(
        "/assessments/instruments/journey-skills/start", data={"staff_group": group}
    )
    assert started.status_code == 302, started.get_data(as_text=True)
    return int(started.headers["Location"].split("/responses/")[1].split("/")[0])


def _answer_all(client: FlaskClient, rid: int, j: Setup, values: dict[str, str]) -> None:
    area1 = {f"item-{j.items[k]}": values[k] for k in ("s1", "s2")}
    area2 = {f"item-{j.items[k]}": values[k] for k in ("t1", "t2")}
    assert client.post(f"/assessments/responses/{rid}/areas/1", data=area1).status_code == 302
    done = client.post(f"/assessments/responses/{rid}/areas/2", data=area2)
    assert done.headers["Location"].endswith(f"/assessments/responses/{rid}/review")
    submitted = client.post(f"/assessments/responses/{rid}/submit")
    assert submitted.headers["Location"].endswith(f"/assessments/responses/{rid}/results")


FIRST = {"s1": "2", "s2": "1", "t1": "4", "t2": "5"}


def test_pages_need_login(client: FlaskClient, journey: Setup) -> None:
    for url in ("/assessments/", "/assessments/plan", "/assessments/instruments/journey-skills"):
        response = client.get(url)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_resume_after_partial_answers(client: FlaskClient, auth, make_user, journey, app) -> None:
    make_user()
    auth.login()
    assert "Journey skills" in client.get("/assessments/").get_data(as_text=True)
    rid = _start(client)
    s1 = f"item-{journey.items['s1']}"
    saved = client.post(f"/assessments/responses/{rid}/areas/1", data={s1: "3", "action": "later"})
    assert saved.headers["Location"].endswith("/assessments/")
    index = client.get("/assessments/").get_data(as_text=True)
    assert "1 of 4 statements answered" in index and "Continue" in index
    # Starting again resumes the same response, at its first area with a gap.
    assert _start(client) == rid
    intro = client.get("/assessments/instruments/journey-skills").get_data(as_text=True)
    assert f"/assessments/responses/{rid}/areas/1" in intro
    page = client.get(f"/assessments/responses/{rid}/areas/1").get_data(as_text=True)
    assert f'id="{s1}-3" name="{s1}" value="3" checked' in page
    client.post(
        f"/assessments/responses/{rid}/areas/1", data={s1: "3", f"item-{journey.items['s2']}": "nr"}
    )
    intro = client.get("/assessments/instruments/journey-skills").get_data(as_text=True)
    assert f"/assessments/responses/{rid}/areas/2" in intro
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(AssessmentResponse.id))) == 1
        stored = dict(db.session.execute(db.select(Answer.item_id, Answer.value)).all())
        assert stored == {journey.items["s1"]: 3, journey.items["s2"]: None}


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("s1", "7", "Choose one of the options."),
        ("t1", "6", "Choose one of the options."),  # agreement tops at 5
        ("s1", "x", "Choose one of the options."),
        ("s1", "nr", "This statement has no “not relevant” answer."),
    ],
)
def test_bad_values_are_refused_next_to_the_field(
    client: FlaskClient, auth, make_user, journey, app, key, value, message
) -> None:
    make_user()
    auth.login()
    rid = _start(client)
    name = f"item-{journey.items[key]}"
    area = 1 if key.startswith("s") else 2
    other = f"item-{journey.items['s2' if area == 1 else 't2']}"
    refused = client.post(
        f"/assessments/responses/{rid}/areas/{area}", data={name: value, other: "4"}
    )
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert f'<p class="error" id="{name}-error">{message}</p>' in page
    assert f'aria-describedby="{name}-error"' in page
    with app.app_context():  # nothing of the area is saved while one answer is wrong
        assert db.session.scalar(db.select(db.func.count(Answer.id))) == 0


def test_submit_only_when_complete(client: FlaskClient, auth, make_user, journey, app) -> None:
    make_user()
    auth.login()
    rid = _start(client)
    client.post(
        f"/assessments/responses/{rid}/areas/1",
        data={f"item-{journey.items['s1']}": "2", f"item-{journey.items['s2']}": "1"},
    )
    refused = client.post(f"/assessments/responses/{rid}/submit")
    assert refused.status_code == 400
    assert "2 still unanswered" in refused.get_data(as_text=True)
    assert client.get(f"/assessments/responses/{rid}/results").status_code == 302
    with app.app_context():
        assert db.session.get(AssessmentResponse, rid).submitted_at is None
        assert db.session.scalar(db.select(db.func.count(RespondentTally.id))) == 0


def test_results_rank_paths_with_explanations(
    client: FlaskClient, auth, make_user, journey, app
) -> None:
    make_user()
    auth.login()
    rid = _start(client)
    _answer_all(client, rid, journey, FIRST)
    with app.app_context():
        user = db.session.execute(db.select(User)).scalar_one()
        response = db.session.get(AssessmentResponse, rid)
        outcome = results.results_for(user, response)
        # Gaps: basics 4+5=9, advanced 5, teach-path 1+1=2, lead-path 1. A teacher: teachers'
        # paths first; among the others, the one that can be started before the one whose
        # prerequisite (basics) is missing, whatever the gap.
        assert [r.path.slug for r in outcome.recommendations] == [
            "basics",
            "teach-path",
            "lead-path",
            "advanced",
        ]
        assert [r.gap for r in outcome.recommendations] == [9, 2, 1, 5]
        first = outcome.recommendations[0]
        assert first.explanation == (
            "Your answers in Strategy were at A2 (tried); this path covers 1.1 and 1.2."
        )
        assert outcome.recommendations[1].explanation.endswith(
            "this path covers “I plan lessons with tools” and 3.1."
        )
        assert [p.slug for p in outcome.recommendations[3].missing_prerequisites] == ["basics"]
        strategy, teaching = outcome.areas
        assert strategy.mean == 1.5 and teaching.scale is None and round(teaching.mean) == 82
        assert [a.area.key for a in outcome.strengths] == ["teaching"]
        assert [a.area.key for a in outcome.growth_areas] == ["strategy"]
    page = client.get(f"/assessments/responses/{rid}/results").get_data(as_text=True)
    assert page.index("Basics") < page.index("Teach Path") < page.index("Lead Path")
    assert (
        "<svg" in page
        and '<title id="profile-title">' in page
        and '<caption id="profile-caption">' in page
    )
    assert "Complete these paths first: Basics" in page


def test_a_tutor_teacher_gets_their_path_first(client, auth, make_user, journey, app) -> None:
    make_user(roles={Role.TUTOR_TEACHER})
    auth.login()
    rid = _start(client, group="other")
    _answer_all(client, rid, journey, FIRST)
    with app.app_context():
        user = db.session.execute(db.select(User)).scalar_one()
        outcome = results.results_for(user, db.session.get(AssessmentResponse, rid))
        # all_staff fits basics; tutor_teachers fits advanced (after basics: prerequisite).
        assert [r.path.slug for r in outcome.recommendations] == [
            "basics",
            "advanced",
            "teach-path",
            "lead-path",
        ]


def test_completed_paths_are_not_recommended(client, auth, make_user, journey, app) -> None:
    user_id = make_user()
    with app.app_context():  # done before answering: left out
        db.session.add(
            PathCompletion(
                user_id=user_id,
                path_id=journey.paths["lead-path"],
                completed_at=datetime.now(UTC) - timedelta(days=3),
            )
        )
        db.session.commit()
    auth.login()
    rid = _start(client)
    _answer_all(client, rid, journey, FIRST)
    with app.app_context():  # done since: shown as completed, not as a recommendation
        db.session.add(
            PathCompletion(
                user_id=user_id,
                path_id=journey.paths["teach-path"],
                completed_at=datetime.now(UTC) + timedelta(minutes=5),
            )
        )
        db.session.commit()
        user = db.session.get(User, user_id)
        outcome = results.results_for(user, db.session.get(AssessmentResponse, rid))
        assert [r.path.slug for r in outcome.recommendations] == ["basics", "advanced"]
        assert [r.path.slug for r in outcome.completed_since] == ["teach-path"]
    page = client.get(f"/assessments/responses/{rid}/results").get_data(as_text=True)
    assert "Completed since you answered" in page


def test_plan_add_remove_and_date(client, auth, make_user, journey, app) -> None:
    make_user()
    auth.login()
    rid = _start(client)
    _answer_all(client, rid, journey, FIRST)
    added = client.post("/assessments/plan/add", data={"path": "basics", "response": str(rid)})
    assert added.headers["Location"].endswith(f"/assessments/responses/{rid}/results")
    client.post("/assessments/plan/add", data={"path": "basics", "response": str(rid)})  # twice
    client.post("/assessments/plan/add", data={"path": "advanced"})  # no reason: not from results
    page = client.get("/assessments/plan").get_data(as_text=True)
    assert "Your answers in Strategy were at A2 (tried); this path covers 1.1 and 1.2." in page
    assert "Basics" in page and "Advanced" in page
    assert "In your plan" in client.get(f"/assessments/responses/{rid}/results").get_data(
        as_text=True
    )
    with app.app_context():
        rows = {p.path_id: p for p in db.session.execute(db.select(PlanItem)).scalars()}
        assert len(rows) == 2 and rows[journey.paths["advanced"]].reason is None
        basics_item = rows[journey.paths["basics"]].id
        advanced_item = rows[journey.paths["advanced"]].id
    prefix = f"plan-{basics_item}-target_date"
    bad = client.post(f"/assessments/plan/{basics_item}/date", data={prefix: "31.2.2027"})
    assert bad.status_code == 400 and f'id="{prefix}-error"' in bad.get_data(as_text=True)
    client.post(f"/assessments/plan/{basics_item}/date", data={prefix: "2027-03-31"})
    with app.app_context():
        assert str(db.session.get(PlanItem, basics_item).target_date) == "2027-03-31"
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "My development plan" in dashboard and "Mar 31, 2027" in dashboard
    assert client.post(f"/assessments/plan/{advanced_item}/remove").status_code == 302
    with app.app_context():
        assert db.session.get(PlanItem, advanced_item) is None
    client.post(f"/assessments/plan/{basics_item}/date", data={prefix: ""})  # cleared
    with app.app_context():
        assert db.session.get(PlanItem, basics_item).target_date is None


def test_plan_entries_show_progress(app, make_user, journey) -> None:
    user_id = make_user()
    with app.app_context():
        user = db.session.get(User, user_id)
        path = db.session.get(LearningPath, journey.paths["basics"])
        plan.add_path(user, path, "because", datetime.now(UTC))
        db.session.commit()
        [entry] = plan.entries(user)
        assert entry.path.slug == "basics" and entry.progress.required_total == 3
        assert entry.progress.percent == 0 and entry.item.reason == "because"


def test_growth_after_a_retake(client, auth, make_user, journey, app) -> None:
    make_user()
    auth.login()
    first = _start(client)
    _answer_all(client, first, journey, FIRST)
    index = client.get("/assessments/").get_data(as_text=True)
    assert "Take it again" in index
    second = _start(client)
    assert second != first
    _answer_all(client, second, journey, {"s1": "4", "s2": "5", "t1": "5", "t2": "6"})
    with app.app_context():
        user = db.session.execute(db.select(User)).scalar_one()
        history = results.growth(user, db.session.get(AssessmentResponse, second))
        assert [p.response.id for p in history] == [first, second]
        assert [p.areas[0].mean for p in history] == [1.5, 4.5]
        # The earlier results page does not show the later answers.
        assert len(results.growth(user, db.session.get(AssessmentResponse, first))) == 1
    page = client.get(f"/assessments/responses/{second}/results").get_data(as_text=True)
    assert "Your growth" in page and 'id="growth-title"' in page
    assert "Strategy: A2 (tried) → C1 (reflect)" in page
    assert "Your growth" not in client.get(f"/assessments/responses/{first}/results").get_data(
        as_text=True
    )


def _tallies(app: Flask) -> tuple[dict[tuple[int, int], int], int]:
    with app.app_context():
        cells = {
            (row.item_id, row.value): row.count
            for row in db.session.execute(db.select(ItemTally)).scalars()
        }
        people = db.session.scalar(db.select(db.func.sum(RespondentTally.count)))
        return cells, people


def test_delete_my_answers_keeps_the_respondent_count(
    client, auth, make_user, journey, app
) -> None:
    make_user()
    auth.login()
    rid = _start(client)
    _answer_all(client, rid, journey, FIRST)
    cells, people = _tallies(app)
    assert cells[(journey.items["s1"], 2)] == 1 and people == 1
    confirm = client.get(f"/assessments/responses/{rid}/delete").get_data(as_text=True)
    assert "Yes, delete my answers" in confirm
    assert client.post(f"/assessments/responses/{rid}/delete").status_code == 302
    cells, people = _tallies(app)
    assert set(cells.values()) == {0} and people == 1
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Answer.id))) == 0
        assert db.session.get(AssessmentResponse, rid).answers_deleted_at is not None
    page = client.get(f"/assessments/responses/{rid}/results").get_data(as_text=True)
    assert "You deleted these answers" in page and "Recommended paths" not in page
    client.post(f"/assessments/responses/{rid}/delete")  # twice: nothing more is subtracted
    assert _tallies(app) == (cells, 1)


def test_deleting_unfinished_answers_removes_the_response(client, auth, make_user, journey, app):
    make_user()
    auth.login()
    rid = _start(client)
    client.post(f"/assessments/responses/{rid}/areas/1", data={f"item-{journey.items['s1']}": "2"})
    client.post(f"/assessments/responses/{rid}/delete")
    with app.app_context():
        assert db.session.get(AssessmentResponse, rid) is None
        assert db.session.scalar(db.select(db.func.count(Answer.id))) == 0
    assert _tallies(app) == ({}, None)


def test_nobody_else_reads_or_changes_a_response(client, auth, make_user, journey, app) -> None:
    make_user()
    make_user("admin@example.org", roles={Role.ADMIN})
    auth.login()
    rid = _start(client)
    _answer_all(client, rid, journey, FIRST)
    client.post("/assessments/plan/add", data={"path": "basics", "response": str(rid)})
    with app.app_context():
        item_id = db.session.execute(db.select(PlanItem.id)).scalar_one()
    auth.logout()
    auth.login("admin@example.org")
    for url in ("results", "review", "areas/1", "delete"):
        assert client.get(f"/assessments/responses/{rid}/{url}").status_code == 404
    assert client.post(f"/assessments/responses/{rid}/delete").status_code == 404
    assert client.post(f"/assessments/responses/{rid}/submit").status_code == 404
    added = client.post("/assessments/plan/add", data={"path": "basics", "response": str(rid)})
    assert added.status_code == 404
    assert client.post(f"/assessments/plan/{item_id}/remove").status_code == 404
    assert client.post(f"/assessments/plan/{item_id}/date", data={}).status_code == 404
    assert "Strategy" not in client.get("/assessments/").get_data(as_text=True)
    with app.app_context():
        admin = db.session.execute(
            db.select(User).where(User.email == "admin@example.org")
        ).scalar_one()
        with pytest.raises(responses.ResponseNotFound):
            responses.get_own_response(admin, rid)
        response = db.session.get(AssessmentResponse, rid)
        with pytest.raises(responses.ResponseNotFound):
            responses.delete_answers(admin, response, datetime.now(UTC))
        with pytest.raises(responses.ResponseNotFound):
            results.results_for(admin, response)
        assert db.session.get(PlanItem, item_id) is not None


@pytest.mark.parametrize(
    ("language", "title"),
    [("fi", "Polkutaidot"), ("sv", "Stigfärdigheter"), ("en", "Journey skills")],
)
def test_pages_render_in_every_language(client, auth, make_user, journey, language, title) -> None:
    make_user()
    auth.login()
    rid = _start(client)
    _answer_all(client, rid, journey, FIRST)
    client.post("/assessments/plan/add", data={"path": "basics", "response": str(rid)})
    headers = {"Accept-Language": language}
    for url in (
        "/assessments/",
        "/assessments/instruments/journey-skills",
        f"/assessments/responses/{rid}/results",
        f"/assessments/responses/{rid}/delete",
        "/assessments/plan",
        "/dashboard",
        "/",
    ):
        page = client.get(url, headers=headers)
        assert page.status_code == 200, url
        assert f'<html lang="{language}">' in page.get_data(as_text=True)
    results_page = client.get(f"/assessments/responses/{rid}/results", headers=headers)
    assert title in results_page.get_data(as_text=True)


def test_take_page_has_accessible_fieldsets(client, auth, make_user, journey) -> None:
    make_user()
    auth.login()
    rid = _start(client)
    page = client.get(f"/assessments/responses/{rid}/areas/1").get_data(as_text=True)
    assert page.count("<fieldset") == 2 and page.count("<legend") == 2
    assert "Area 1 of 2" in page and 'role="progressbar"' in page
    assert "Save and continue later" in page
    s2 = f"item-{journey.items['s2']}"
    assert f'id="{s2}-nr"' in page and f'id="item-{journey.items["s1"]}-nr"' not in page
    assert client.get(f"/assessments/responses/{rid}/areas/3").status_code == 404


def test_the_catalogue_and_nav_lead_to_the_assessments(client, auth, make_user, journey) -> None:
    page = client.get("/").get_data(as_text=True)
    assert 'href="/assessments/"' in page and "Where do I start?" in page


def test_start_asks_for_the_staff_group(client, auth, make_user, journey) -> None:
    make_user()
    auth.login()
    refused = client.post("/assessments/instruments/journey-skills/start", data={})
    assert refused.status_code == 400 and "Choose your group." in refused.get_data(as_text=True)
    bad = client.post("/assessments/instruments/journey-skills/start", data={"staff_group": "boss"})
    assert bad.status_code == 400


def test_helpers_used_by_views(journey, make_user, app: Flask) -> None:
    user_id = make_user(roles={Role.REGIONAL_DEVELOPER})
    with app.app_context():
        user = db.session.get(User, user_id)
        assert responses.user_audiences(user, "leader") == {
            "all_staff",
            "regional_developers",
            "leaders",
        }
        assert [i.slug for i in responses.instruments_for(user)] == ["journey-skills"]


def test_the_assessment_page_links_leaders_and_developers_to_their_views(
    app, client, auth, make_user, make_org
) -> None:  # type: ignore[no-untyped-def]
    from campus.auth.models import Organisation
    from campus.auth.models import Region
    from campus.auth.models import Role
    from campus.extensions import db

    org_id = make_org("Seutu College", "seutu-college")
    with app.app_context():
        region = Region(slug="north", name="North region")
        db.session.add(region)
        db.session.flush()
        db.session.get(Organisation, org_id).region_id = region.id
        db.session.commit()
    make_user("boss@example.org", {Role.ORG_ADMIN}, organisation_id=org_id)
    make_user("dev@example.org", {Role.REGIONAL_DEVELOPER}, organisation_id=org_id)
    make_user("plain@example.org", organisation_id=org_id)
    anonymous = client.get("/assessments/")
    assert anonymous.status_code in (200, 302)
    pages = {}
    for email in ("boss@example.org", "dev@example.org", "plain@example.org"):
        auth.login(email)
        pages[email] = client.get("/assessments/").get_data(as_text=True)
        auth.logout()
    assert "/assessments/organisation/" in pages["boss@example.org"]
    assert "/assessments/region/north" in pages["dev@example.org"]
    plain = pages["plain@example.org"]
    assert "/assessments/organisation/" not in plain and "/assessments/region/" not in plain
