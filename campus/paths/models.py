"""Themes, paths, modules, enrolments, completions and the learner's answers."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from campus.auth.models import User
from campus.auth.models import utcnow
from campus.extensions import EnumText
from campus.extensions import db
from campus.insert_once import one_waiting

# Multilingual text as {"fi": …, "en": …, "sv": …}.
Texts = dict[str, str]


class Audience(enum.StrEnum):
    ALL_STAFF = "all_staff"
    LEADERS = "leaders"
    TEACHERS = "teachers"
    SUPPORT_STAFF = "support_staff"
    TUTOR_TEACHERS = "tutor_teachers"
    REGIONAL_DEVELOPERS = "regional_developers"


class CompletionSource(enum.StrEnum):
    SELF = "self"
    QUIZ = "quiz"
    LTI = "lti"
    REVIEW = "review"


class EvidenceStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    RETURNED = "returned"


class Theme(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    position: Mapped[int]
    colour: Mapped[str] = mapped_column(String(7))
    title: Mapped[Texts] = mapped_column(JSON)
    summary: Mapped[Texts] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    is_retired: Mapped[bool] = mapped_column(default=False)

    paths: Mapped[list[LearningPath]] = relationship(
        back_populates="theme", order_by="LearningPath.position"
    )


class PathPrerequisite(db.Model):
    path_id: Mapped[int] = mapped_column(
        ForeignKey("learning_path.id", ondelete="CASCADE"), primary_key=True
    )
    required_path_id: Mapped[int] = mapped_column(
        ForeignKey("learning_path.id", ondelete="CASCADE"), primary_key=True
    )


class LearningPath(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    theme_id: Mapped[int] = mapped_column(ForeignKey("theme.id"), index=True)
    position: Mapped[int]
    audience: Mapped[list[str]] = mapped_column(JSON)
    badge_slug: Mapped[str | None] = mapped_column(String(80))
    title: Mapped[Texts] = mapped_column(JSON)
    summary: Mapped[Texts] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    is_retired: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    theme: Mapped[Theme] = relationship(back_populates="paths")
    modules: Mapped[list[Module]] = relationship(
        back_populates="path", order_by="Module.position", cascade="all, delete-orphan"
    )
    prerequisites: Mapped[list[LearningPath]] = relationship(
        secondary="path_prerequisite",
        primaryjoin="LearningPath.id == PathPrerequisite.path_id",
        secondaryjoin="LearningPath.id == PathPrerequisite.required_path_id",
        order_by="LearningPath.slug",
    )

    @property
    def active_modules(self) -> list[Module]:
        return [module for module in self.modules if not module.is_retired]

    @property
    def required_modules(self) -> list[Module]:
        return [module for module in self.active_modules if module.is_required]

    @property
    def minutes(self) -> int:
        return sum(module.minutes for module in self.active_modules)


class Module(db.Model):
    __table_args__ = (UniqueConstraint("path_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    path_id: Mapped[int] = mapped_column(ForeignKey("learning_path.id"), index=True)
    slug: Mapped[str] = mapped_column(String(80))
    position: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16))  # a registered kind's key (campus.paths.kinds)
    is_required: Mapped[bool] = mapped_column(default=True)
    minutes: Mapped[int] = mapped_column(default=10)
    title: Mapped[Texts] = mapped_column(JSON)
    # Markdown rendered to sanitised HTML at sync time, per language.
    body_html: Mapped[Texts] = mapped_column(JSON)
    # Kind-specific settings from the manifest (quiz questions, prompt, min_length …).
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    is_retired: Mapped[bool] = mapped_column(default=False)

    path: Mapped[LearningPath] = relationship(back_populates="modules")


class Enrollment(db.Model):
    __table_args__ = (
        UniqueConstraint("user_id", "path_id"),
        # The organisation progress page: a page of members' enrolments, newest first.
        Index("ix_enrollment_user_enrolled", "user_id", "enrolled_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    path_id: Mapped[int] = mapped_column(ForeignKey("learning_path.id"), index=True)
    enrolled_at: Mapped[datetime] = mapped_column(default=utcnow)

    path: Mapped[LearningPath] = relationship()


class Completion(db.Model):
    """A module done by a user: at most one row per (user, module), whatever completes it."""

    __table_args__ = (
        UniqueConstraint("user_id", "module_id"),
        # Progress pages: members' completions by time (activity, per-month charts).
        Index("ix_completion_user_completed", "user_id", "completed_at", "module_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("module.id"), index=True)
    completed_at: Mapped[datetime]
    score: Mapped[float | None]
    source: Mapped[CompletionSource] = mapped_column(EnumText(CompletionSource, 16))


class PathCompletion(db.Model):
    __table_args__ = (
        UniqueConstraint("user_id", "path_id"),
        Index("ix_path_completion_user_completed", "user_id", "completed_at", "path_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    path_id: Mapped[int] = mapped_column(ForeignKey("learning_path.id"), index=True)
    completed_at: Mapped[datetime]


class QuizAttempt(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("module.id"), index=True)
    answers: Mapped[dict[str, list[str]]] = mapped_column(JSON)
    correct: Mapped[int]
    total: Mapped[int]
    score: Mapped[float]
    passed: Mapped[bool]
    submitted_at: Mapped[datetime]


class ReflectionAnswer(db.Model):
    """Every saved version is kept; the newest is shown back to the learner."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("module.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    submitted_at: Mapped[datetime]


class EvidenceSubmission(db.Model):
    # One submission at a time waits for review: the database refuses a concurrent twin.
    __table_args__ = (one_waiting("uq_evidence_submission_waiting", "user_id", "module_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("module.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    link_url: Mapped[str | None] = mapped_column(String(2000))
    file_name: Mapped[str | None] = mapped_column(String(255))
    stored_name: Mapped[str | None] = mapped_column(String(64))
    file_size: Mapped[int | None]
    status: Mapped[EvidenceStatus] = mapped_column(
        EnumText(EvidenceStatus, 16), default=EvidenceStatus.SUBMITTED
    )
    submitted_at: Mapped[datetime]
    reviewed_at: Mapped[datetime | None]
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    feedback: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    module: Mapped[Module] = relationship()


def __getattr__(name: str) -> Any:
    """`ModuleKind` comes from the kind registry, which imports these models: fetched on use."""
    if name == "ModuleKind":
        from campus.paths.kinds import ModuleKind

        return ModuleKind
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
