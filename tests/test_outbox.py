"""What follows a completion runs after it has committed: failures never lose the submission."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from conftest import now
from flask import Flask
from flask.testing import FlaskClient

from campus.auth.models import Role
from campus.auth.models import User
from campus.badges.models import Assertion
from campus.extensions import db
from campus.outbox import services as outbox
from campus.outbox.models import OutboxItem
from campus.outbox.models import OutboxStatus
from campus.paths import services as paths
from campus.paths.kinds.quiz import submit_quiz
from campus.paths.kinds.read import mark_read
from campus.paths.kinds.reflection import submit_reflection
from campus.paths.models import Completion
from campus.paths.models import PathCompletion

RIGHT = {"q1": ["b"], "q2": ["a", "c"], "q3": ["a"]}
REFLECTION = {"text": "Reflection long enough to count here, really."}


def _two_modules_done(app: Flask, user_id: int) -> None:
    with app.app_context():
        user = db.session.get(User, user_id)
        path = paths.get_path("basics")
        mark_read(user, paths.get_module(path, "welcome"), now())
        submit_quiz(user, paths.get_module(path, "check-quiz"), RIGHT, now())
        db.session.commit()


def _items() -> list[OutboxItem]:
    return list(db.session.execute(db.select(OutboxItem).order_by(OutboxItem.id)).scalars())


def _break_signing(monkeypatch: pytest.MonkeyPatch) -> None:
    from campus.badges import signing

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError("the key file is not readable")

    monkeypatch.setattr(signing, "sign_assertion", broken)


def test_the_page_that_completes_a_path_shows_its_badge_at_once(
    app: Flask, client: FlaskClient, auth, make_user
) -> None:
    user_id = make_user()
    _two_modules_done(app, user_id)
    auth.login()
    response = client.post(
        "/paths/basics/my-thoughts/reflection", data=REFLECTION, follow_redirects=True
    )
    assert response.status_code == 200
    assert "You earned the badge “Basics badge”" in response.get_data(as_text=True)
    with app.app_context():
        # The award, the holder's notice rendered as a mail, the mail (campus.notifications).
        item, rendering, mail = _items()
        assert (item.kind, item.status, item.user_id) == ("badges.path-award", "done", user_id)
        assert (rendering.kind, rendering.status) == ("notification.mail", "done")
        # ... which left in the same request: a follow-up's own follow-ups run too.
        assert (mail.kind, mail.payload["to"], mail.status) == (
            "mail.send",
            "learner@example.org",
            "done",
        )
        assert db.session.execute(db.select(Assertion)).scalar_one().user_id == user_id


def test_a_signing_failure_keeps_the_submission_and_is_retried(
    app: Flask, client: FlaskClient, auth, make_user, monkeypatch: pytest.MonkeyPatch
) -> None:
    user_id = make_user()
    _two_modules_done(app, user_id)
    _break_signing(monkeypatch)
    app.config["RENDER_500_IN_TESTS"] = True
    auth.login()
    response = client.post(
        "/paths/basics/my-thoughts/reflection", data=REFLECTION, follow_redirects=True
    )
    assert response.status_code == 200
    assert "You earned the badge" not in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(db.select(db.func.count()).select_from(Completion)).scalar() == 3
        assert db.session.execute(db.select(PathCompletion)).scalar_one().user_id == user_id
        assert db.session.execute(db.select(Assertion)).first() is None
        [item] = _items()
        assert item.status == OutboxStatus.PENDING and item.attempts == 1
        assert item.last_error == "OSError: the key file is not readable"
    monkeypatch.undo()
    runner = app.test_cli_runner()
    early = runner.invoke(args=["outbox", "run"])
    assert "0 done" not in early.output or early.exit_code == 0  # not due yet: nothing runs
    with app.app_context():
        assert _items()[0].status == OutboxStatus.PENDING
        db.session.execute(db.update(OutboxItem).values(next_attempt_at=now() - timedelta(days=1)))
        db.session.commit()
    result = runner.invoke(args=["outbox", "run"])
    assert result.exit_code == 0, result.output
    assert "1 done, 0 not done" in result.output
    with app.app_context():
        assert _items()[0].status == OutboxStatus.DONE
        assert db.session.execute(db.select(Assertion)).scalar_one().user_id == user_id


def test_the_last_failure_is_shown_to_admins_and_can_be_retried(
    app: Flask, client: FlaskClient, auth, make_user, monkeypatch: pytest.MonkeyPatch
) -> None:
    learner_id = make_user()
    make_user("admin@example.org", {Role.ADMIN})
    _two_modules_done(app, learner_id)
    _break_signing(monkeypatch)
    app.config["OUTBOX_MAX_ATTEMPTS"] = 2
    with app.app_context():
        user = db.session.get(User, learner_id)
        path = paths.get_path("basics")
        submit_reflection(user, paths.get_module(path, "my-thoughts"), REFLECTION["text"], now())
        db.session.commit()
        assert outbox.run_committed(now()) == []
        [item] = _items()
        outbox.run_item(item.id, now() + timedelta(hours=1), 5.0)
        assert _items()[0].status == OutboxStatus.FAILED
        # Failed: not due again; only the admins' mail about it runs (campus.notifications).
        assert outbox.run_due(now() + timedelta(days=30), 5.0) == (1, 0)
        assert _items()[0].status == OutboxStatus.FAILED
    auth.login("admin@example.org")
    page = client.get("/manage/follow-ups/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Path badge" in text and "OSError: the key file is not readable" in text
    monkeypatch.undo()
    response = client.post("/manage/follow-ups/retry", data={}, follow_redirects=True)
    assert "1 follow-up(s) tried again, 1 done." in response.get_data(as_text=True)
    with app.app_context():
        assert _items()[0].status == OutboxStatus.DONE
        assert db.session.execute(db.select(Assertion)).scalar_one().user_id == learner_id
    auth.logout()
    auth.login()
    assert client.get("/manage/follow-ups/").status_code == 403


def test_an_item_runs_once_even_when_two_runners_reach_it(app: Flask, app_ctx: None) -> None:
    calls = []

    @outbox.handler("test.count")
    def count(payload, moment, timeout):  # type: ignore[no-untyped-def]
        calls.append(payload["n"])

    item = outbox.enqueue("test.count", {"n": 1}, now())
    db.session.commit()
    outbox.run_item(item.id, now(), 1.0)
    outbox.run_item(item.id, now(), 1.0)
    assert outbox.run_committed(now()) == []
    assert calls == [1]


def test_nothing_runs_for_a_rolled_back_transaction(app: Flask, app_ctx: None) -> None:
    calls = []

    @outbox.handler("test.rolled-back")
    def record(payload, moment, timeout):  # type: ignore[no-untyped-def]
        calls.append(payload)

    outbox.enqueue("test.rolled-back", {}, now())
    db.session.rollback()
    assert outbox.run_committed(now()) == []
    assert calls == [] and _items() == []


def test_a_slow_remote_follow_up_waits_for_cron_instead_of_the_learner(
    app: Flask, app_ctx: None
) -> None:
    seen_timeouts = []

    @outbox.handler("test.remote", remote=True)
    def slow(payload, moment, timeout):  # type: ignore[no-untyped-def]
        seen_timeouts.append(timeout)
        time.sleep(timeout)
        raise TimeoutError("the LMS did not answer")

    app.config["OUTBOX_INLINE_SECONDS"] = 0.5
    for n in range(3):
        outbox.enqueue("test.remote", {"n": n}, now())
    db.session.commit()
    started = time.monotonic()
    outbox.run_committed(now())
    assert time.monotonic() - started < 1.5
    assert len(seen_timeouts) == 1 and seen_timeouts[0] <= 0.5
    states = sorted((item.status, item.attempts) for item in _items())
    assert states == [("pending", 0), ("pending", 0), ("pending", 1)]


def test_unknown_kinds_are_refused_when_written(app: Flask, app_ctx: None) -> None:
    with pytest.raises(KeyError):
        outbox.enqueue("no.such.kind", {}, now())


def test_while_a_destination_fails_learners_do_not_wait_for_it(app: Flask, app_ctx: None) -> None:
    """One timeout marks the kind as failing: the next completions leave it to cron at once."""
    calls = []

    @outbox.handler("test.down", remote=True)
    def down(payload, moment, timeout):  # type: ignore[no-untyped-def]
        calls.append(payload["n"])
        raise TimeoutError("the LMS did not answer")

    outbox.enqueue("test.down", {"n": 1}, now())
    db.session.commit()
    outbox.run_committed(now())
    outbox.enqueue("test.down", {"n": 2}, now())
    db.session.commit()
    outbox.run_committed(now())
    assert calls == [1]
    later = now() + timedelta(hours=7)  # the first item's retry is due: cron runs both
    assert outbox.run_due(later, 1.0) == (0, 2)
    assert sorted(calls) == [1, 1, 2]
