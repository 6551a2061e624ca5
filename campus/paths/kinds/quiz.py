"""`quiz`: multiple choice checked on the server, with a pass mark and an attempt limit.

Every attempt is stored; a passing one completes the module with its score. With `shuffle = true`
the choices of each question are shown in an order of their own for each person and attempt.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from babel import Locale
from babel.numbers import format_percent
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict

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


def percent(value: float) -> str:
    """A score or pass mark (0–100) in the reader's locale: "33.3%" in English, "33,3 %" in
    Finnish and Swedish; whole numbers without decimals."""
    locale = get_locale() or Locale("en")
    return format_percent(Decimal(str(value)) / 100, locale=locale, decimal_quantization=False)


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


def choice_order(
    settings: Mapping[str, Any], user_id: int, module_id: int, attempt: int
) -> dict[str, list[dict[str, Any]]]:
    """Each question's choices in the order shown: the manifest's, or with `shuffle` one fixed by
    the person, the module and the attempt, so a form shown again keeps its order."""
    generator = random.Random(f"quiz:{user_id}:{module_id}:{attempt}")
    order = {}
    for question in settings["questions"]:
        choices = list(question["choices"])
        if settings.get("shuffle"):
            generator.shuffle(choices)
        order[question["id"]] = choices
    return order


class QuizForm(FlaskForm):
    """CSRF only: the questions come from the module. Keeps what was posted, so a refused
    attempt is shown again with its answers."""

    posted: MultiDict[str, str] | None = None

    def process(self, formdata: Any = None, *args: Any, **kwargs: Any) -> None:
        wrapped = self.meta.wrap_formdata(self, formdata)
        if wrapped is None and formdata is not None and self.is_submitted():
            wrapped = MultiDict()  # a post with no field at all: nothing was answered
        self.posted = wrapped
        super().process(wrapped, *args, **kwargs)

    def answers(self, questions: list[Mapping[str, Any]]) -> dict[str, list[str]] | None:
        """The posted answers by question id, or None when nothing was posted."""
        if self.posted is None:
            return None
        return {q["id"]: self.posted.getlist(f"q-{q['id']}") for q in questions}


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
        raise ActivityError(
            _(
                "Please answer every question before submitting: your answers are kept, and "
                "the unanswered ones are marked below."
            )
        )
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
    shows_own_errors = True
    settings_keys = frozenset({"pass_mark", "max_attempts", "shuffle", "questions"})
    form = QuizForm

    @classmethod
    def read_settings(cls, reader: ManifestReader) -> dict[str, Any]:
        pass_mark = reader.integer("pass_mark", 1, 100)
        max_attempts = reader.integer("max_attempts", 0, 100, default=0)
        shuffle = reader.boolean("shuffle", False)
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
        return {
            "pass_mark": pass_mark,
            "max_attempts": max_attempts,
            "shuffle": shuffle,
            "questions": questions,
        }

    @classmethod
    def page_context(
        cls, module: Module, user: User, form: FlaskForm | None = None
    ) -> dict[str, Any]:
        """Each question as shown: choices in order, what is ticked (a refused attempt's answers,
        else the latest attempt's), and whether it was left unanswered or right last time."""
        settings = module.settings
        attempts = quiz_attempts(user, module)
        last_attempt = attempts[0] if attempts else None
        feedback = {}
        if last_attempt is not None:
            graded = grade_quiz(settings, last_attempt.answers)
            feedback = {result.question_id: result.is_correct for result in graded.results}
        form = form or QuizForm(formdata=None)
        posted = form.answers(settings["questions"]) if isinstance(form, QuizForm) else None
        order = choice_order(settings, user.id, module.id, len(attempts))
        questions = []
        for question in settings["questions"]:
            if posted is not None:
                chosen = posted[question["id"]]
            else:
                chosen = last_attempt.answers.get(question["id"], []) if last_attempt else []
            questions.append(
                {
                    **question,
                    "choices": order[question["id"]],
                    "multiple": is_multiple_answer(question),
                    "chosen": chosen,
                    "missing": posted is not None and not chosen,
                    "feedback": feedback.get(question["id"]),
                }
            )
        return {
            "form": form,
            "questions": questions,
            "missing": [(number, q) for number, q in enumerate(questions, 1) if q["missing"]],
            "attempts": attempts,
            "attempts_left": attempts_left(user, module),
            "last_attempt": last_attempt,
            "last_score": percent(last_attempt.score) if last_attempt else None,
            "pass_mark": percent(settings["pass_mark"]),
        }

    @classmethod
    def submit(cls, user: User, module: Module, submission: kinds.Submission) -> kinds.SubmitResult:
        answers = {
            question["id"]: submission.data.getlist(f"q-{question['id']}")
            for question in module.settings["questions"]
        }
        _attempt, grade, completion = submit_quiz(user, module, answers, submission.now)
        numbers = {"score": percent(grade.score), "correct": grade.correct, "total": grade.total}
        if grade.passed:
            message = (
                _("You passed with %(score)s (%(correct)d/%(total)d).", **numbers),
                "success",
            )
        else:
            message = (
                _(
                    "You got %(score)s (%(correct)d/%(total)d); %(pass_mark)s is needed to pass. "
                    "Read the explanations and try again.",
                    pass_mark=percent(module.settings["pass_mark"]),
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
