"""Activity forms. The quiz's questions come from content, so its fields are read by hand;
its form class carries only the CSRF token."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import StringField
from wtforms import SubmitField
from wtforms import TextAreaField
from wtforms.validators import DataRequired
from wtforms.validators import Length
from wtforms.validators import Optional


class ActionForm(FlaskForm):
    """A button that changes state (enrol, mark as done, take a quiz): CSRF only."""


class ReflectionForm(FlaskForm):
    text = TextAreaField(_l("Your reflection"), validators=[DataRequired(), Length(max=20_000)])
    submit = SubmitField(_l("Save reflection"))


class EvidenceForm(FlaskForm):
    description = TextAreaField(
        _l("Describe your evidence"), validators=[DataRequired(), Length(min=20, max=10_000)]
    )
    link = StringField(_l("Link (optional)"), validators=[Optional(), Length(max=2000)])
    file = FileField(_l("File (optional)"))
    submit = SubmitField(_l("Submit for review"))
