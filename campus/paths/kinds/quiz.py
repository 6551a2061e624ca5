"""`quiz`: multiple choice checked on the server, with a pass mark and an attempt limit.

Every attempt is stored; a passing one completes the module with its score.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from campus.auth.models import User
from campus.extensions import db
from campus.paths import kinds
from campus.paths import services
from campus.paths.activities import ActivityError
from campus.paths.manifest import SLUG
from campus.paths.manifest import ManifestReader
from campus.paths.models import CompletionSource
from campus.paths.models import Module
from campus.paths.models import QuizAttempt

# --- grading (pure) ------------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionResult:
    question_id: str
    is_correct: bool
    chosen: tuple[str, ...]


@dataclass(frozen=True)
class QuizGrade:
    correct: int
    total: int
    score: float  # percent, 0–100
    passed: bool
    results: tuple[QuestionResult, ...]


def is_multiple_answer(question: Mapping[str, Any]) -> bool:
    return sum(1 for choice in question["choices"] if choice["correct"]) > 1


def grade_quiz(settings: Mapping[str, Any], answers: Mapping[str, list[str]]) -> QuizGrade:
    """Score the answers against the manifest; unknown choice ids count as wrong.

    A question is right only when exactly its correct choices are chosen.
    """
    results = []
    for question in settings["questions"]:
        valid = {choice["id"] for choice in question["choices"]}
        correct = {choice["id"] for choice in question["choices"] if choice["correct"]}
        chosen = tuple(sorted(set(answers.get(question["id"], [])) & valid))
        results.append(QuestionResult(question["id"], set(chosen) == correct, chosen))
    total = len(results)
    right = sum(1 for result in results if result.is_correct)
    score = round(100.0 * right / total, 1) if total else 0.0
    return QuizGrade(right, total, score, score >= settings["pass_mark"], tuple(results))


# --- attempts ------------------------------------------------------------------------------


def quiz_attempts(user: User, module: Module) -> list[QuizAttempt]:
    return services.learner_submissions(QuizAttempt, user, module)


def attempts_left(user: User, module: Module) -> int | None:
    """None means unlimited."""
    limit = module.settings.get("max_attempts", 0)
    if not limit:
        return None
    return max(0, limit - len(quiz_attempts(user, module)))


def submit_quiz(
    user: User, module: Module, answers: Mapping[str, list[str]], now: datetime
) -> tuple[QuizAttempt, QuizGrade, services.CompletionResult | None]:
    """Grade on the server, store the attempt, complete the module when it passes."""
    if attempts_left(user, module) == 0:
        raise ActivityError(_("You have used all attempts for this quiz."))
    unanswered = [q for q in module.settings["questions"] if not answers.get(q["id"])]
    if unanswered:
        raise ActivityError(_("Please answer every question before submitting."))
    grade = grade_quiz(module.settings, answers)
    attempt = QuizAttempt(
        user_id=user.id,
        module_id=module.id,
        answers={key: list(value) for key, value in answers.items()},
        correct=grade.correct,
        total=grade.total,
        score=grade.score,
        passed=grade.passed,
        submitted_at=now,
    )
    db.session.add(attempt)
    db.session.flush()
    result = None
    if grade.passed:
        result = services.complete_module(
            user, module, CompletionSource.QUIZ, now, score=grade.score
        )
    return attempt, grade, result


# --- the kind ------------------------------------------------------------------------------


@kinds.register
class Quiz(kinds.ModuleKindType):
    key = "quiz"
    label = _l("Quiz")
    settings_keys = frozenset({"pass_mark", "max_attempts", "questions"})

    @classmethod
    def read_settings(cls, reader: ManifestReader) -> dict[str, Any]:
        pass_mark = reader.integer("pass_mark", 1, 100)
        max_attempts = reader.integer("max_attempts", 0, 100, default=0)
        raw_questions = reader.data.get("questions")
        if not isinstance(raw_questions, list) or not raw_questions:
            reader.report_key("questions", "a quiz needs at least one [[questions]] entry")
            return {}
        questions = []
        seen_ids: set[str] = set()
        for index, raw in enumerate(raw_questions):
            where = f"questions[{index}]"
            if not isinstance(raw, Mapping):
                reader.report_key(where, "each question must be a table")
                continue
            for key in sorted(set(raw) - {"id", "prompt", "explanation", "choices"}):
                reader.report_key(f"{where}.{key}", f"unknown key `{key}` in a question")
            question_id = raw.get("id")
            if not isinstance(question_id, str) or not SLUG.match(question_id):
                reader.report_key(f"{where}.id", "each question needs an `id` slug")
            elif question_id in seen_ids:
                reader.report_key(f"{where}.id", f"question id `{question_id}` is used twice")
            seen_ids.add(str(question_id))
            prompt = reader.texts(f"{where}.prompt", raw.get("prompt", {}) or {})
            explanation = reader.texts(
                f"{where}.explanation", raw.get("explanation"), required=False
            )
            choices = _read_choices(reader, where, raw.get("choices"))
            questions.append(
                {
                    "id": question_id,
                    "prompt": prompt,
                    "explanation": explanation,
                    "choices": choices,
                }
            )
        return {"pass_mark": pass_mark, "max_attempts": max_attempts, "questions": questions}

    @classmethod
    def page_context(
        cls, module: Module, user: User, form: FlaskForm | None = None
    ) -> dict[str, Any]:
        attempts = quiz_attempts(user, module)
        last_attempt = attempts[0] if attempts else None
        feedback = {}
        if last_attempt is not None:
            graded = grade_quiz(module.settings, last_attempt.answers)
            feedback = {result.question_id: result.is_correct for result in graded.results}
        return super().page_context(module, user, form) | {
            "attempts": attempts,
            "attempts_left": attempts_left(user, module),
            "is_multiple": is_multiple_answer,
            "last_attempt": last_attempt,
            "question_feedback": feedback,
        }

    @classmethod
    def submit(cls, user: User, module: Module, submission: kinds.Submission) -> kinds.SubmitResult:
        answers = {
            question["id"]: submission.data.getlist(f"q-{question['id']}")
            for question in module.settings["questions"]
        }
        _attempt, grade, completion = submit_quiz(user, module, answers, submission.now)
        numbers = {"score": grade.score, "correct": grade.correct, "total": grade.total}
        if grade.passed:
            message = (
                _("You passed with %(score)s%% (%(correct)d/%(total)d).", **numbers),
                "success",
            )
        else:
            message = (
                _(
                    "You got %(score)s%% (%(correct)d/%(total)d); %(pass_mark)d%% is needed to pass. "
                    "Read the explanations and try again.",
                    pass_mark=module.settings["pass_mark"],
                    **numbers,
                ),
                "error",
            )
        return kinds.SubmitResult(completion, [message], anchor="quiz-result")


def _read_choices(reader: ManifestReader, where: str, raw_choices: Any) -> list[dict[str, Any]]:
    if not isinstance(raw_choices, list) or not 2 <= len(raw_choices) <= 8:
        reader.report_key(f"{where}.choices", "a question needs 2–8 `choices`")
        return []
    choices = []
    ids: set[str] = set()
    for index, raw in enumerate(raw_choices):
        spot = f"{where}.choices[{index}]"
        if not isinstance(raw, Mapping):
            reader.report_key(spot, "each choice must be a table { id = …, text = { … } }")
            continue
        for key in sorted(set(raw) - {"id", "text", "correct"}):
            reader.report_key(spot, f"unknown key `{key}` in a choice")
        choice_id = raw.get("id")
        if not isinstance(choice_id, str) or not SLUG.match(choice_id):
            reader.report_key(spot, "each choice needs an `id` slug")
        elif choice_id in ids:
            reader.report_key(spot, f"choice id `{choice_id}` is used twice")
        ids.add(str(choice_id))
        correct = raw.get("correct", False)
        if not isinstance(correct, bool):
            reader.report_key(spot, "`correct` must be true or false")
        text = reader.texts(spot, raw.get("text", {}) or {})
        choices.append({"id": choice_id, "text": text, "correct": correct is True})
    if choices and not any(choice["correct"] for choice in choices):
        reader.report_key(f"{where}.choices", "a question needs at least one correct choice")
    return choices
