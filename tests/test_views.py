"""Pages through the test client: the learner's journey, accounts, languages and errors."""

from __future__ import annotations

import io

from flask import Flask
from flask.testing import FlaskClient

from campus.auth.models import User
from campus.extensions import db
from campus.paths.models import Completion
from campus.paths.models import EvidenceSubmission
from tests.conftest import PASSWORD


def test_catalogue_lists_themes_and_paths_for_visitors(client: FlaskClient) -> None:
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Alpha theme" in page and "Basics" in page and "Advanced" in page
    filtered = client.get("/?audience=tutor_teachers", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    assert "Advanced" in filtered and "The basics path." not in filtered


def test_module_pages_need_login(client: FlaskClient) -> None:
    response = client.get("/paths/basics/welcome")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    assert client.get("/paths/basics").status_code == 200
    assert client.get("/paths/nope").status_code == 404
    assert client.get("/dashboard").status_code == 302


def test_learner_journey_moves_progress_bars(client: FlaskClient, auth, make_user) -> None:
    make_user()
    assert auth.login().status_code == 302
    response = client.post("/paths/basics/enrol")
    assert response.headers["Location"].endswith("/paths/basics/welcome")
    assert 'aria-valuenow="0"' in client.get("/paths/basics").get_data(as_text=True)
    client.post("/paths/basics/welcome/done")
    assert 'aria-valuenow="33"' in client.get("/paths/basics").get_data(as_text=True)
    # A failed quiz attempt shows the score and does not move the bar.
    client.post("/paths/basics/check-quiz/quiz", data={"q-q1": "a", "q-q2": "b", "q-q3": "b"})
    page = client.get("/paths/basics/check-quiz").get_data(as_text=True)
    assert "0% (0/3)" in page and 'aria-valuenow="33"' in page
    assert page.count("Not right in your latest attempt") == 3
    client.post(
        "/paths/basics/check-quiz/quiz", data={"q-q1": "b", "q-q2": ["a", "c"], "q-q3": "a"}
    )
    assert 'aria-valuenow="66"' in client.get("/paths/basics").get_data(as_text=True)
    short = client.post("/paths/basics/my-thoughts/reflection", data={"text": "short"})
    assert short.status_code == 400 and "at least 40" in short.get_data(as_text=True)
    text = "Small experiments with my own group taught me the most."
    done = client.post(
        "/paths/basics/my-thoughts/reflection", data={"text": text}, follow_redirects=True
    )
    assert "You earned the badge “Basics badge”" in done.get_data(
        as_text=True
    )  # in the same request
    page = client.get("/paths/basics/my-thoughts").get_data(as_text=True)
    assert text in page  # shown back
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "No completed paths yet" not in dashboard and "Basics" in dashboard
    assert 'aria-valuenow="100"' in client.get("/paths/basics").get_data(as_text=True)


def test_reflection_is_escaped_when_shown_back(client: FlaskClient, auth, make_user) -> None:
    make_user()
    auth.login()
    client.post(
        "/paths/basics/my-thoughts/reflection",
        data={"text": "<script>alert('x')</script> and more text here"},
    )
    page = client.get("/paths/basics/my-thoughts").get_data(as_text=True)
    assert "<script>alert" not in page and "&lt;script&gt;" in page


def test_prerequisite_blocks_work_on_the_advanced_path(
    client: FlaskClient, auth, make_user, app: Flask
) -> None:
    make_user()
    auth.login()
    response = client.post("/paths/advanced/enrol", follow_redirects=True)
    assert "Complete these paths first" in response.get_data(as_text=True)
    client.post("/paths/advanced/deep-dive/done")
    with app.app_context():
        assert db.session.execute(db.select(Completion)).first() is None


def test_evidence_upload_through_the_form(client: FlaskClient, auth, make_user, app: Flask) -> None:
    user_id = make_user()
    with app.app_context():
        from campus.paths import services
        from campus.paths.models import PathCompletion
        from tests.conftest import now

        db.session.add(
            PathCompletion(
                user_id=user_id, path_id=services.get_path("basics").id, completed_at=now()
            )
        )
        db.session.commit()
    auth.login()
    bad = client.post(
        "/paths/advanced/show-your-work/evidence",
        data={"description": "My plan for the workshop.", "file": (io.BytesIO(b"MZ"), "tool.exe")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 400 and "not accepted" in bad.get_data(as_text=True)
    good = client.post(
        "/paths/advanced/show-your-work/evidence",
        data={
            "description": "My plan for the workshop.",
            "link": "https://example.org/plan",
            "file": (io.BytesIO(b"%PDF plan"), "plan.pdf"),
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert good.status_code == 200
    page = good.get_data(as_text=True)
    assert "Waiting for review" in page and "plan.pdf" in page
    with app.app_context():
        submission = db.session.execute(db.select(EvidenceSubmission)).scalar_one()
    download = client.get(f"/evidence/{submission.id}/file")
    assert download.status_code == 200 and download.data == b"%PDF plan"
    assert "attachment" in download.headers["Content-Disposition"]
    download.close()
    other = app.test_client()
    make_user("other@example.org")
    other.post("/auth/login", data={"email": "other@example.org", "password": PASSWORD})
    assert other.get(f"/evidence/{submission.id}/file").status_code == 404  # not theirs


def test_the_evidence_form_and_service_apply_the_same_rules(
    client: FlaskClient, auth, make_user, app: Flask
) -> None:
    """The form only carries the fields: the learner reads the service's own messages."""
    user_id = make_user()
    with app.app_context():
        from campus.paths import services
        from campus.paths.models import PathCompletion
        from tests.conftest import now

        basics = services.get_path("basics")
        db.session.add(PathCompletion(user_id=user_id, path_id=basics.id, completed_at=now()))
        db.session.commit()
    auth.login()
    for data, message in (
        ({"description": "Too short.", "link": "https://example.org"}, "in at least 20 characters"),
        (
            {"description": "x" * 10_001, "link": "https://example.org"},
            "in at most 10000 characters",
        ),
        (
            {"description": "x" * 30, "link": "https://example.org/" + "x" * 2000},
            "link is too long",
        ),
    ):
        response = client.post("/paths/advanced/show-your-work/submit", data=data)
        assert response.status_code == 400 and message in response.get_data(as_text=True)


def test_too_large_request_is_a_clear_413(app: Flask, client: FlaskClient, auth, make_user) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 1000
    make_user()
    auth.login()
    response = client.post(
        "/paths/advanced/show-your-work/evidence",
        data={"description": "x" * 50, "file": (io.BytesIO(b"x" * 5000), "a.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413 and "too large" in response.get_data(as_text=True)


def test_register_login_logout(client: FlaskClient, make_org, app: Flask) -> None:
    org_id = make_org("Omnia")
    data = {
        "name": "Aino",
        "email": "Aino@Example.org",
        "organisation": org_id,
        "password": "long enough pw",
        "confirm": "long enough pw",
    }
    registered = client.post("/auth/register", data=data)
    assert registered.status_code == 302 and registered.headers["Location"] == "/auth/login"
    with app.app_context():
        user = db.session.execute(db.select(User)).scalar_one()
        assert user.email == "aino@example.org" and user.organisation_id == org_id
        assert user.password_hash != "long enough pw"
    again = client.post("/auth/register", data=data)
    assert again.status_code == 302  # the same answer for a taken address (it must not tell) …
    assert again.headers["Location"] == "/auth/login"
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 1  # … no twin
    weak = client.post(
        "/auth/register",
        data={**data, "email": "b@example.org", "password": "short", "confirm": "short"},
    )
    assert weak.status_code == 400
    wrong = client.post("/auth/login", data={"email": "aino@example.org", "password": "nope"})
    assert wrong.status_code == 401
    assert (
        client.post(
            "/auth/login", data={"email": "AINO@example.org", "password": "long enough pw"}
        ).status_code
        == 302
    )
    assert client.post("/auth/register", data=data).headers["Location"] == "/dashboard"


def test_login_ignores_offsite_next(client: FlaskClient, make_user) -> None:
    make_user()
    response = client.post(
        "/auth/login?next=https://evil.example/",
        data={"email": "learner@example.org", "password": PASSWORD},
    )
    assert response.headers["Location"] == "/dashboard"
    response = client.post("/auth/logout")
    response = client.post(
        "/auth/login?next=//evil.example/x",
        data={"email": "learner@example.org", "password": PASSWORD},
    )
    assert response.headers["Location"] == "/dashboard"
    client.post("/auth/logout")
    response = client.post(
        "/auth/login?next=/paths/basics",
        data={"email": "learner@example.org", "password": PASSWORD},
    )
    assert response.headers["Location"] == "/paths/basics"


def test_password_change_logs_out_other_sessions(app: Flask, make_user) -> None:
    make_user()
    first, second = app.test_client(), app.test_client()
    for c in (first, second):
        c.post("/auth/login", data={"email": "learner@example.org", "password": PASSWORD})
    wrong = first.post(
        "/auth/account",
        data={
            "password-current_password": "bad",
            "password-new_password": "a new password",
            "password-confirm": "a new password",
            "password-submit": "1",
        },
    )
    assert wrong.status_code == 400
    response = first.post(
        "/auth/account",
        data={
            "password-current_password": PASSWORD,
            "password-new_password": "a new password",
            "password-confirm": "a new password",
            "password-submit": "1",
        },
    )
    assert response.status_code == 302
    assert first.get("/dashboard").status_code == 200
    assert second.get("/dashboard").status_code == 302  # the other session ended


def test_language_from_browser_then_choice(make_user, app: Flask) -> None:
    client = app.test_client()
    assert '<html lang="fi">' in client.get("/").get_data(as_text=True)  # Finnish fallback
    assert '<html lang="sv">' in client.get(
        "/", headers={"Accept-Language": "sv-FI,sv;q=0.9"}
    ).get_data(as_text=True)
    assert '<html lang="en">' in client.get("/", headers={"Accept-Language": "en-GB"}).get_data(
        as_text=True
    )
    assert '<html lang="fi">' in client.get("/", headers={"Accept-Language": "de"}).get_data(
        as_text=True
    )
    client.post("/auth/language", data={"language": "en", "next": "/"})
    assert '<html lang="en">' in client.get("/", headers={"Accept-Language": "sv"}).get_data(
        as_text=True
    )
    user_id = make_user()
    client.post("/auth/login", data={"email": "learner@example.org", "password": PASSWORD})
    client.post("/auth/language", data={"language": "sv", "next": "/"})
    with app.app_context():
        assert db.session.get(User, user_id).locale == "sv"
    assert client.post("/auth/language", data={"language": "de"}).status_code == 400


def test_module_text_falls_back_when_swedish_is_missing(
    client: FlaskClient, auth, make_user
) -> None:
    make_user()
    auth.login()
    client.post("/auth/language", data={"language": "sv", "next": "/"})
    page = client.get("/paths/basics/welcome").get_data(as_text=True)
    assert "Tervetuloa" in page and 'lang="fi"' in page  # Finnish text, marked as Finnish
    assert "Mer." in client.get("/paths/basics/extra-reading").get_data(as_text=True)


def test_unexpected_error_shows_no_stack_trace(
    app: Flask, client: FlaskClient, monkeypatch
) -> None:
    from campus.paths import services

    app.config["RENDER_500_IN_TESTS"] = True

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(services, "list_themes", broken)
    response = client.get("/", headers={"Accept-Language": "en"})
    text = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "secret internals" not in text and "Traceback" not in text
    assert "Something went wrong on our side" in text


def test_security_headers(client: FlaskClient) -> None:
    headers = client.get("/").headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
