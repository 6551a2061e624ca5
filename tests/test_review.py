"""The reviewers' queue (campus.review): one page for module evidence and badge applications,
at the addresses it has always had, with the reviewer scope on every route."""

from __future__ import annotations

import io
from pathlib import Path

from flask import Flask
from flask import url_for
from flask.testing import FlaskClient

from campus.auth.models import Role
from campus.auth.models import User
from campus.badges.applications import apply_for_badge
from campus.badges.issuers import get_badge
from campus.extensions import db
from campus.paths import services as paths
from campus.paths.kinds.evidence import submit_evidence
from campus.paths.models import Completion
from campus.paths.models import EvidenceSubmission
from campus.paths.models import PathCompletion
from campus.paths.uploads import EvidenceFile
from campus.paths.uploads import UploadRules
from tests.conftest import PASSWORD
from tests.conftest import now


def test_the_queue_keeps_its_addresses(app: Flask) -> None:
    """Bookmarks and mailed links predate the review package: the URLs must not move."""
    with app.test_request_context():
        assert url_for("review.queue") == "/badges/reviews"
        assert url_for("review.decide_application", application_id=3) == (
            "/badges/reviews/applications/3"
        )
        assert url_for("review.decide_evidence", submission_id=4) == "/badges/reviews/evidence/4"
        assert url_for("review.download", kind="evidence", item_id=5) == (
            "/badges/reviews/files/evidence/5"
        )


def _signed_in(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.post("/auth/login", data={"email": email, "password": PASSWORD})
    return client


def _evidence_with_file(app: Flask, learner_id: int) -> int:
    with app.app_context():
        learner = db.session.get(User, learner_id)
        db.session.add(
            PathCompletion(
                user_id=learner_id, path_id=paths.get_path("basics").id, completed_at=now()
            )
        )
        submission = submit_evidence(
            learner,
            paths.get_module(paths.get_path("advanced"), "show-your-work"),
            "My plan, my workshop and the feedback I got.",
            None,
            EvidenceFile("plan.pdf", io.BytesIO(b"%PDF-1.4 plan")),
            UploadRules.from_config(app.config),
            now(),
        )
        apply_for_badge(
            learner,
            get_badge("reviewed"),
            "Three workshops for my colleagues, with feedback.",
            "https://example.org/report",
            None,
            UploadRules(Path("/nonexistent"), ("pdf",), 10),
            now(),
        )
        db.session.commit()
        return submission.id


def test_one_queue_shows_both_and_decides_module_evidence(app: Flask, make_user, make_org) -> None:
    home, other = make_org("Home"), make_org("Other")
    learner_id = make_user("l@home.fi", organisation_id=home)
    make_user("rev@home.fi", {Role.REVIEWER}, organisation_id=home)
    make_user("rev@other.fi", {Role.REVIEWER}, organisation_id=other)
    submission_id = _evidence_with_file(app, learner_id)
    learner, insider = _signed_in(app, "l@home.fi"), _signed_in(app, "rev@home.fi")
    outsider = _signed_in(app, "rev@other.fi")
    file_url = f"/badges/reviews/files/evidence/{submission_id}"

    queue = insider.get("/badges/reviews").get_data(as_text=True)
    assert "Three workshops for my colleagues" in queue  # the badge application
    assert "My plan, my workshop" in queue and f'href="{file_url}"' in queue  # module evidence
    assert 'href="/badges/reviews" aria-current="page"' in queue
    assert f'action="/badges/reviews/evidence/{submission_id}"' in queue
    assert "My plan, my workshop" not in outsider.get("/badges/reviews").get_data(as_text=True)

    download = insider.get(file_url)
    assert download.status_code == 200 and download.data == b"%PDF-1.4 plan"
    assert download.headers["Content-Disposition"].startswith("attachment")
    download.close()
    assert outsider.get(file_url).status_code == 403
    assert learner.get(file_url).status_code == 403  # the learner is no reviewer
    assert insider.get(f"/badges/reviews/files/other/{submission_id}").status_code == 404

    outsider.post(f"/badges/reviews/evidence/{submission_id}", data={"accept": "1"})
    with app.app_context():
        assert db.session.get(EvidenceSubmission, submission_id).status == "submitted"
    accepted = insider.post(
        f"/badges/reviews/evidence/{submission_id}", data={"accept": "1"}, follow_redirects=True
    )
    assert "Accepted: the module is completed." in accepted.get_data(as_text=True)
    with app.app_context():
        submission = db.session.get(EvidenceSubmission, submission_id)
        assert submission.status == "accepted"
        assert (
            db.session.execute(
                db.select(Completion).where(
                    Completion.user_id == learner_id,
                    Completion.module_id == submission.module_id,
                )
            )
            .scalar_one()
            .source
            == "review"
        )
    again = insider.post(
        f"/badges/reviews/evidence/{submission_id}", data={"accept": "1"}, follow_redirects=True
    )
    assert "This submission has already been reviewed." in again.get_data(as_text=True)
