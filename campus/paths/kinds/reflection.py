"""`reflection`: a written answer of a minimum length; every version is kept."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SubmitField
from wtforms import TextAreaField
from wtforms.validators import DataRequired
from wtforms.validators import Length

from campus.auth.models import User
from campus.extensions import db
from campus.paths import kinds
from campus.paths import services
from campus.paths.manifest import ManifestReader
from campus.paths.models import CompletionSource
from campus.paths.models import Module
from campus.paths.models import ReflectionAnswer

MAX_REFLECTION_LENGTH = 20_000


class ReflectionForm(FlaskForm):
    text = TextAreaField(
        _l("Your reflection"),
        validators=[
            DataRequired(message=_l("Write your reflection first.")),
            Length(max=MAX_REFLECTION_LENGTH),
        ],
    )
    submit = SubmitField(_l("Save reflection"))


def latest_reflection(user: User, module: Module) -> ReflectionAnswer | None:
    return next(iter(services.learner_submissions(ReflectionAnswer, user, module, limit=1)), None)


def submit_reflection(
    user: User, module: Module, text: str, now: datetime
) -> tuple[ReflectionAnswer, services.CompletionResult]:
    """Keep every version of the answer; the first long-enough one completes the module.

    Line breaks count as one character each, as in the form's live count."""
    text = text.replace("\r\n", "\n").strip()
    if len(text) < module.settings["min_length"]:
        raise kinds.FieldError(
            _(
                "Your reflection is %(length)d characters long; at least %(minimum)d are needed.",
                length=len(text),
                minimum=module.settings["min_length"],
            ),
            "text",
        )
    if len(text) > MAX_REFLECTION_LENGTH:
        raise kinds.FieldError(
            _(
                "Your reflection is too long (at most %(maximum)d characters).",
                maximum=MAX_REFLECTION_LENGTH,
            ),
            "text",
        )
    answer = ReflectionAnswer(user_id=user.id, module_id=module.id, text=text, submitted_at=now)
    db.session.add(answer)
    db.session.flush()
    return answer, services.complete_module(user, module, CompletionSource.SELF, now)


@kinds.register
class Reflection(kinds.ModuleKindType):
    key = "reflection"
    label = _l("Reflection")
    shows_own_errors = True
    settings_keys = frozenset({"min_length", "prompt"})
    form = ReflectionForm

    @classmethod
    def read_settings(cls, reader: ManifestReader) -> dict[str, Any]:
        return {
            "min_length": reader.integer("min_length", 20, 5000),
            "prompt": reader.texts("prompt"),
        }

    @classmethod
    def page_context(
        cls, module: Module, user: User, form: FlaskForm | None = None
    ) -> dict[str, Any]:
        latest = latest_reflection(user, module)
        form = form or ReflectionForm(text=latest.text if latest else "")
        return {"form": form, "latest_reflection": latest}

    @classmethod
    def submit(cls, user: User, module: Module, submission: kinds.Submission) -> kinds.SubmitResult:
        assert isinstance(submission.form, ReflectionForm)
        _answer, completion = submit_reflection(
            user, module, submission.form.text.data or "", submission.now
        )
        # The page opens at its messages (not at the error summary the form's address names).
        message = (_("Your reflection was saved."), "success")
        return kinds.SubmitResult(completion, [message], anchor="main")
