"""Completion rules per module kind, idempotence, path completion and prerequisites."""

from __future__ import annotations

import io
from dataclasses import fields
from pathlib import Path

import pytest
from flask import Flask

from campus.auth.models import User
from campus.extensions import db
from campus.paths import services
from campus.paths.activities import ActivityError
from campus.paths.kinds.evidence import submit_evidence
from campus.paths.kinds.quiz import attempts_left
from campus.paths.kinds.quiz import grade_quiz
from campus.paths.kinds.quiz import quiz_attempts
from campus.paths.kinds.quiz import submit_quiz
from campus.paths.kinds.read import mark_read
from campus.paths.kinds.reflection import latest_reflection
from campus.paths.kinds.reflection import submit_reflection
from campus.paths.models import Completion
from campus.paths.models import EvidenceSubmission
from campus.paths.models import PathCompletion
from campus.paths.models import QuizAttempt
from campus.paths.uploads import EvidenceFile
from campus.paths.uploads import UploadRules
from campus.signals import path_completed
from tests.conftest import now

RIGHT = {"q1": ["b"], "q2": ["a", "c"], "q3": ["a"]}


@pytest.fixture
def learner(app: Flask, make_user, app_ctx: None) -> User:
    return db.session.get(User, make_user())


def module(path_slug: str, module_slug: str):
    return services.get_module(services.get_path(path_slug), module_slug)


def completions(user: User) -> list[Completion]:
    return list(
        db.session.execute(db.select(Completion).where(Completion.user_id == user.id)).scalars()
    )


def test_completing_twice_records_once(learner: User) -> None:
    welcome = module("basics", "welcome")
    first = mark_read(learner, welcome, now())
    second = mark_read(learner, welcome, now())
    db.session.commit()
    assert first.created and not second.created
    assert second.completion.id == first.completion.id
    assert len(completions(learner)) == 1
    assert completions(learner)[0].completed_at.replace(tzinfo=None) == now().replace(tzinfo=None)
    assert completions(learner)[0].source == "self"


def test_completion_enrols_and_progress_counts_required_modules_only(learner: User) -> None:
    mark_read(learner, module("basics", "extra-reading"), now())
    progress = services.path_progress(learner, services.get_path("basics"))
    assert progress.enrolled
    assert (progress.required_done, progress.required_total, progress.percent) == (0, 3, 0)
    mark_read(learner, module("basics", "welcome"), now())
    progress = services.path_progress(learner, services.get_path("basics"))
    assert (progress.required_done, progress.percent) == (1, 33)
    assert progress.next_module.slug == "check-quiz"


def test_path_completes_when_all_required_modules_do_and_signals_once(learner: User) -> None:
    received = []

    def on_path_completed(sender, **extra):
        received.append((sender.slug, extra["user"].id))
        return "ignored"  # receivers only enqueue follow-ups; what they return is not kept

    path_completed.connect(on_path_completed)
    try:
        mark_read(learner, module("basics", "welcome"), now())
        submit_quiz(learner, module("basics", "check-quiz"), RIGHT, now())
        assert services.path_progress(learner, services.get_path("basics")).completed_at is None
        _answer, result = submit_reflection(
            learner,
            module("basics", "my-thoughts"),
            "I learned that small steps work better than big plans.",
            now(),
        )
        assert result.path_completion is not None
        assert [f.name for f in fields(result)] == ["completion", "created", "path_completion"]
        # Completing the optional module afterwards does not complete the path again.
        again = mark_read(learner, module("basics", "extra-reading"), now())
        assert again.created and again.path_completion is None
    finally:
        path_completed.disconnect(on_path_completed)
    db.session.commit()
    assert received == [("basics", learner.id)]
    progress = services.path_progress(learner, services.get_path("basics"))
    assert progress.is_complete and progress.percent == 100
    assert db.session.execute(db.select(db.func.count()).select_from(PathCompletion)).scalar() == 1


def test_quiz_is_graded_on_the_server() -> None:
    settings = {
        "pass_mark": 60,
        "questions": [
            {"id": "q1", "choices": [{"id": "a", "correct": False}, {"id": "b", "correct": True}]},
            {
                "id": "q2",
                "choices": [
                    {"id": "a", "correct": True},
                    {"id": "b", "correct": False},
                    {"id": "c", "correct": True},
                ],
            },
        ],
    }
    assert grade_quiz(settings, {"q1": ["b"], "q2": ["a", "c"]}).score == 100.0
    partial = grade_quiz(settings, {"q1": ["b"], "q2": ["a"]})  # half of a multi-answer is wrong
    assert (partial.correct, partial.score, partial.passed) == (1, 50.0, False)
    everything = grade_quiz(
        settings, {"q1": ["a", "b"], "q2": ["a", "b", "c"]}
    )  # ticking all is wrong
    assert everything.correct == 0
    forged = grade_quiz(
        settings, {"q1": ["zzz"], "q2": ["a", "c", "zzz"]}
    )  # unknown ids are ignored
    assert forged.correct == 1


def test_failed_quiz_stores_attempt_without_completion_and_limits_attempts(learner: User) -> None:
    quiz = module("basics", "check-quiz")
    wrong = {"q1": ["a"], "q2": ["b"], "q3": ["b"]}
    attempt, grade, result = submit_quiz(learner, quiz, wrong, now())
    assert (grade.score, grade.passed, result) == (0.0, False, None)
    assert attempt.answers == wrong
    assert completions(learner) == []
    submit_quiz(learner, quiz, wrong, now())
    assert attempts_left(learner, quiz) == 1
    _attempt, grade, result = submit_quiz(learner, quiz, RIGHT, now())
    assert grade.passed and result.created and result.completion.score == 100.0
    assert result.completion.source == "quiz"
    with pytest.raises(ActivityError, match="used all attempts"):
        submit_quiz(learner, quiz, RIGHT, now())
    assert db.session.execute(db.select(db.func.count()).select_from(QuizAttempt)).scalar() == 3


def test_quiz_needs_every_question_answered(learner: User) -> None:
    with pytest.raises(ActivityError, match="answer every question"):
        submit_quiz(learner, module("basics", "check-quiz"), {"q1": ["b"]}, now())
    assert quiz_attempts(learner, module("basics", "check-quiz")) == []


def test_reflection_needs_minimum_length_and_is_kept(learner: User) -> None:
    thoughts = module("basics", "my-thoughts")
    with pytest.raises(ActivityError, match="at least 40"):
        submit_reflection(learner, thoughts, "Too short.", now())
    assert completions(learner) == []
    text = "A longer answer that is kept and shown back to me later."
    submit_reflection(learner, thoughts, text, now())
    submit_reflection(learner, thoughts, text + " Edited.", now())
    assert latest_reflection(learner, thoughts).text == text + " Edited."
    assert len(completions(learner)) == 1


def test_evidence_is_stored_but_does_not_complete(
    learner: User, app: Flask, tmp_path: Path
) -> None:
    db.session.add(
        PathCompletion(
            user_id=learner.id, path_id=services.get_path("basics").id, completed_at=now()
        )
    )
    evidence = module("advanced", "show-your-work")
    upload_dir = tmp_path / "up"
    file = EvidenceFile("../../etc/My Plan.pdf", io.BytesIO(b"%PDF-1.4 plan"))
    submission = submit_evidence(
        learner,
        evidence,
        "My workshop plan and the feedback I got.",
        "https://example.org/plan",
        file,
        UploadRules(upload_dir, ("pdf",), 1024),
        now(),
    )
    db.session.commit()
    assert submission.status == "submitted"
    assert submission.file_name == "etc_My_Plan.pdf"
    assert (upload_dir / submission.stored_name).read_bytes() == b"%PDF-1.4 plan"
    assert completions(learner) == []
    with pytest.raises(ActivityError, match="still waiting"):
        submit_evidence(
            learner,
            evidence,
            "Another try with enough text.",
            "https://example.org",
            None,
            UploadRules(upload_dir, ("pdf",), 1024),
            now(),
        )


@pytest.mark.parametrize(
    ("link", "file", "message"),
    [
        (None, None, "add a link or a file"),
        ("javascript:alert(1)", None, "full web address"),
        ("https://example.org/" + "x" * 2000, None, "link is too long"),  # the column holds 2000
        (None, ("run.exe", b"MZ"), "not accepted"),
        (None, ("big.pdf", b"x" * 2048), "too large"),
        (None, ("empty.pdf", b""), "empty"),
    ],
)
def test_bad_evidence_is_refused_and_leaves_no_file(
    learner: User, tmp_path: Path, link, file, message
) -> None:
    upload_dir = tmp_path / "up"
    evidence_file = EvidenceFile(file[0], io.BytesIO(file[1])) if file else None
    with pytest.raises(ActivityError, match=message):
        submit_evidence(
            learner,
            module("advanced", "show-your-work"),
            "A description long enough.",
            link,
            evidence_file,
            UploadRules(upload_dir, ("pdf",), 1024),
            now(),
        )
    assert not upload_dir.exists() or list(upload_dir.iterdir()) == []
    assert db.session.execute(db.select(EvidenceSubmission)).first() is None


def test_prerequisites_block_enrolment_until_completed(learner: User) -> None:
    advanced = services.get_path("advanced")
    with pytest.raises(ActivityError, match="Complete these paths first: Basics"):
        services.enroll(learner, advanced, now())
    db.session.add(
        PathCompletion(
            user_id=learner.id, path_id=services.get_path("basics").id, completed_at=now()
        )
    )
    assert services.enroll(learner, advanced, now()).path_id == advanced.id
    assert services.enroll(learner, advanced, now()).path_id == advanced.id  # idempotent


def test_my_paths_lists_enrolled_paths(learner: User) -> None:
    assert services.my_paths(learner) == []
    services.enroll(learner, services.get_path("basics"), now())
    [progress] = services.my_paths(learner)
    assert progress.path.slug == "basics" and progress.next_module.slug == "welcome"
