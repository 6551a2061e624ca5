"""Completion rules per module kind (pure: no Flask, no database)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class ActivityError(Exception):
    """A submission the learner can correct; the message is shown to them."""


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


def reflection_is_long_enough(settings: Mapping[str, Any], text: str) -> bool:
    return len(text.strip()) >= settings["min_length"]
