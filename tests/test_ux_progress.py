"""Issue 13 (progress): evidence waiting for review, what comes next, path badges, leaving a path."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from campus.auth.models import Role
from campus.auth.models import User
from campus.extensions import db
from campus.paths import services
from campus.paths.models import Completion
from campus.paths.models import Enrollment
from campus.paths.models import EvidenceSubmission
from campus.paths.models import PathCompletion
from campus.review.services import review_module_evidence
from tests.conftest import now

EVIDENCE_URL = "/paths/advanced/show-your-work/submit"


def _ready_for_advanced(app: Flask, user_id: int) -> None:
    """The prerequisite (basics) is done, as if completed long ago."""
    with app.app_context():
        path = services.get_path("basics")
        db.session.add(PathCompletion(user_id=user_id, path_id=path.id, completed_at=now()))
        db.session.commit()


def _send_evidence(client: FlaskClient, name: str = "plan.pdf"):  # type: ignore[no-untyped-def]
    return client.post(
        EVIDENCE_URL,
        data={
            "description": "My plan for the workshop, and what came of it.",
            "link": "https://example.org/plan",
            "file": (io.BytesIO(b"%PDF plan"), name),
        },
        content_type="multipart/form-data",
    )


def _review(app: Flask, reviewer_id: int, accept: bool, feedback: str = "") -> None:
    with app.app_context():
        submission = (
            db.session.execute(db.select(EvidenceSubmission).order_by(EvidenceSubmission.id.desc()))
            .scalars()
            .first()
        )
        reviewer = db.session.get(User, reviewer_id)
        review_module_evidence(submission, reviewer, accept, feedback, now())
        db.session.commit()


def _text(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


@pytest.fixture
def learner(app: Flask, make_user, auth) -> int:  # type: ignore[no-untyped-def]
    user_id = make_user()
    _ready_for_advanced(app, user_id)
    auth.login()
    return user_id


def test_waiting_evidence_shows_as_waiting_on_every_page(client: FlaskClient, learner: int) -> None:
    client.post("/paths/advanced/enrol")
    assert _send_evidence(client).status_code == 302

    path_page = _text(client, "/paths/advanced")
    row = re.search(r'<li class=" ux-progress-waiting">.*?</li>', path_page, re.S)
    assert row and "Show your work" in row[0] and "Waiting for review" in row[0]
    assert "plan.pdf" in row[0] and "Not done" not in row[0]
    # "Continue" skips the module waiting for review: the reading before it is next.
    assert "Continue: Deep dive" in path_page and "Continue: Show your work" not in path_page

    module_page = _text(client, "/paths/advanced/show-your-work")
    assert "Your evidence is waiting for review." in module_page and "plan.pdf" in module_page
    outline = module_page[module_page.index('class="path-outline"') :]
    assert "Waiting for review" in outline

    dashboard = _text(client, "/dashboard")
    assert "Waiting for review" in dashboard and "plan.pdf" in dashboard
    assert "Next module: Deep dive" in dashboard
    assert "Next module: Show your work" not in dashboard

    # With the reading done, only the review is left: no "next" points at the waiting module.
    client.post("/paths/advanced/deep-dive/submit")
    path_page = _text(client, "/paths/advanced")
    assert "Continue:" not in path_page
    assert "the path is completed when a reviewer accepts it" in path_page
    dashboard = _text(client, "/dashboard")
    assert "Next module:" not in dashboard and "Nothing else to do for now" in dashboard
    deep_dive = _text(client, "/paths/advanced/deep-dive")
    assert "Next:" not in deep_dive and "when a reviewer accepts your evidence" in deep_dive


def test_returned_evidence_shows_the_feedback_and_is_next_again(
    app: Flask, client: FlaskClient, learner: int, make_user
) -> None:
    reviewer_id = make_user("rev@example.org", {Role.REVIEWER})
    client.post("/paths/advanced/enrol")
    _send_evidence(client)
    _review(app, reviewer_id, accept=False, feedback="Add the participants' feedback, please.")

    path_page = _text(client, "/paths/advanced")
    assert "Returned for changes" in path_page
    assert "Add the participants&#39; feedback, please." in path_page
    module_page = _text(client, "/paths/advanced/show-your-work")
    assert "Your evidence was returned for changes." in module_page
    assert "Add the participants&#39; feedback, please." in module_page
    client.post("/paths/advanced/deep-dive/submit")
    dashboard = _text(client, "/dashboard")
    assert "Next module: Show your work" in dashboard and "Returned for changes" in dashboard
    assert "feedback is on the module page" in dashboard

    # A new version waits again; accepted, the module (and the path) is done.
    assert _send_evidence(client, "plan-2.pdf").status_code == 302
    assert "plan-2.pdf" in _text(client, "/paths/advanced")
    _review(app, reviewer_id, accept=True)
    path_page = _text(client, "/paths/advanced")
    assert "Waiting for review" not in path_page and "You completed this path" in path_page


def test_the_evidence_form_closes_while_waiting_and_after_acceptance(
    app: Flask, client: FlaskClient, learner: int, make_user
) -> None:
    reviewer_id = make_user("rev@example.org", {Role.REVIEWER})
    _send_evidence(client)
    assert f'action="{EVIDENCE_URL}' not in _text(client, "/paths/advanced/show-your-work")
    _review(app, reviewer_id, accept=True)
    assert f'action="{EVIDENCE_URL}' not in _text(client, "/paths/advanced/show-your-work")


@contextmanager
def _evidence_queries(app: Flask) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if "FROM evidence_submission" in statement:
            seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_states_come_from_one_query_per_page(app: Flask, client: FlaskClient, learner: int) -> None:
    client.post("/paths/basics/enrol")
    client.post("/paths/advanced/enrol")
    _send_evidence(client)
    for url in ("/dashboard", "/paths/advanced", "/"):
        with _evidence_queries(app) as seen:
            _text(client, url)
        assert len(seen) == 1, (url, seen)


def test_path_pages_name_their_badge_and_the_dashboard_shows_it_earned(
    app: Flask, client: FlaskClient, make_user, auth
) -> None:
    visitor = _text(client, "/paths/basics")
    assert "The badge of this path" in visitor
    assert re.search(r'src="/ob/badges/basics/image\.png(\?lang=en)?" alt="Basics badge"', visitor)
    assert '<a href="/badges/basics" lang="en">Basics badge</a>' in visitor
    assert "The badge of this path" not in _text(client, "/paths/advanced")  # it awards none

    make_user()
    auth.login()
    _complete_basics(client)
    dashboard = _text(client, "/dashboard")
    completed = dashboard[dashboard.index('id="completed"') :]
    uuid = re.search(r'href="/badges/a/([0-9a-f-]+)"', completed)
    assert uuid, "the completed path links to the badge earned"
    assert 'alt="Basics badge"' in completed and "Badge earned" in completed
    assert f"/badges/a/{uuid[1]}" in _text(client, "/paths/basics")  # "See your badge"


def _complete_basics(client: FlaskClient):  # type: ignore[no-untyped-def]
    client.post("/paths/basics/enrol")
    client.post("/paths/basics/welcome/submit")
    client.post(
        "/paths/basics/check-quiz/submit", data={"q-q1": "b", "q-q2": ["a", "c"], "q-q3": "a"}
    )
    return client.post(
        "/paths/basics/my-thoughts/submit",
        data={"text": "Small experiments with my own group taught me the most."},
        follow_redirects=True,
    )


def test_a_read_module_leads_to_the_next_one_and_the_last_to_the_path(
    client: FlaskClient, make_user, auth
) -> None:
    make_user()
    auth.login()
    client.post("/paths/basics/enrol")
    page = client.post("/paths/basics/welcome/submit", follow_redirects=True)
    html = page.get_data(as_text=True)
    assert "Module completed." in html
    assert re.search(r'href="/paths/basics/check-quiz">Next: Check</a>', html)
    client.post(
        "/paths/basics/check-quiz/submit",
        data={"q-q1": "b", "q-q2": ["a", "c"], "q-q3": "a"},
        follow_redirects=True,
    )
    done = client.post(
        "/paths/basics/my-thoughts/submit",
        data={"text": "Small experiments with my own group taught me the most."},
        follow_redirects=True,
    ).get_data(as_text=True)
    # The path's badge is one moment, not a banner for the module and another for the path;
    # the page says what next.
    assert 'class="bm-earned' in done and "You earned the badge" in done
    assert "Module completed." not in done
    assert "You completed this path." in done and 'href="/paths/basics">' in done


def test_leaving_a_path_asks_first_and_keeps_the_completions(
    app: Flask, client: FlaskClient, make_user, auth
) -> None:
    user_id = make_user()
    auth.login()
    client.post("/paths/basics/enrol")
    client.post("/paths/basics/welcome/submit")
    assert 'href="/paths/basics/leave"' in _text(client, "/paths/basics")

    confirm = _text(client, "/paths/basics/leave")
    assert "Leave the path “Basics”?" in confirm
    assert "Your 1 completed module is kept." in confirm
    assert 'action="/paths/basics/leave"' in confirm

    left = client.post("/paths/basics/leave", follow_redirects=True)
    assert left.request.path == "/dashboard"
    html = left.get_data(as_text=True)
    assert "You left the path “Basics”. Your completed modules are kept." in html
    assert "You have no paths in progress." in html
    with app.app_context():
        assert db.session.execute(db.select(Enrollment)).first() is None
        assert db.session.execute(
            db.select(Completion).where(Completion.user_id == user_id)
        ).scalar_one()

    path_page = _text(client, "/paths/basics")
    assert "Enrol and start" in path_page and "Your earlier completions are kept" in path_page
    again = client.post("/paths/basics/enrol", follow_redirects=True)
    assert again.request.path == "/paths/basics/check-quiz"  # where they left off
    assert "continue where you left off" in again.get_data(as_text=True)


def test_leaving_only_what_one_is_enrolled_in(client: FlaskClient, make_user, auth) -> None:
    assert client.get("/paths/basics/leave").status_code == 302  # to the log-in page
    make_user()
    auth.login()
    assert client.get("/paths/nope/leave").status_code == 404
    not_enrolled = client.post("/paths/basics/leave", follow_redirects=True)
    assert not_enrolled.request.path == "/paths/basics"
    assert "You are not enrolled in this path." in not_enrolled.get_data(as_text=True)
    client.post("/paths/basics/enrol")
    assert client.post("/paths/basics/leave").status_code == 303
