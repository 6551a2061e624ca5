"""The reviewer's decision form (CSRF, feedback, accept or return)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SubmitField
from wtforms import TextAreaField
from wtforms.validators import Length
from wtforms.validators import Optional


class ReviewForm(FlaskForm):
    feedback = TextAreaField(
        _l("Feedback to the learner"), validators=[Optional(), Length(max=5000)]
    )
    accept = SubmitField(_l("Accept"))
    send_back = SubmitField(_l("Return for revision"))
