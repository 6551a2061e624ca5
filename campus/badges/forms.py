"""Badge forms (CSRF on every one)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import EmailField
from wtforms import HiddenField
from wtforms import StringField
from wtforms import SubmitField
from wtforms import TextAreaField
from wtforms.validators import DataRequired
from wtforms.validators import Email
from wtforms.validators import Length
from wtforms.validators import Optional


class ApplyForm(FlaskForm):
    narrative = TextAreaField(
        _l("Describe your work and what it shows"),
        validators=[DataRequired(), Length(min=20, max=10_000)],
    )
    link = StringField(_l("Link (optional)"), validators=[Optional(), Length(max=2000)])
    file = FileField(_l("File (optional)"))
    submit = SubmitField(_l("Send for review"))


class VerifyForm(FlaskForm):
    image = FileField(_l("Badge image (PNG or SVG)"))
    text = TextAreaField(
        _l("…or paste a signed badge (JWS or an Open Badges 3.0 credential) or its address"),
        validators=[Optional(), Length(max=50_000)],
    )
    email = EmailField(
        _l("Recipient's e-mail (optional)"), validators=[Optional(), Length(max=254)]
    )
    submit = SubmitField(_l("Verify"))


class RevokeForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])
    submit = SubmitField(_l("Revoke"))


class BulkRevokeForm(FlaskForm):
    uuids = TextAreaField(
        _l("Badge ids, one per line"), validators=[DataRequired(), Length(max=2_000_000)]
    )
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])
    submit = SubmitField(_l("Revoke all"))


class BulkAwardForm(FlaskForm):
    csv_file = FileField(_l("CSV file: e-mail, evidence narrative"))
    csv_text = HiddenField()
    preview = SubmitField(_l("Preview"))
    confirm = SubmitField(_l("Award now"))


class AwardOneForm(FlaskForm):
    """One person, one badge: people without an account get a claim mail."""

    email = EmailField(
        _l("Recipient's e-mail"),
        validators=[DataRequired(), Email(), Length(max=254)],
        filters=[lambda value: value.strip() if value else value],
    )
    narrative = TextAreaField(
        _l("Evidence narrative (optional)"), validators=[Optional(), Length(max=10_000)]
    )
    award = SubmitField(_l("Award"))


class CancelClaimForm(FlaskForm):
    cancel = SubmitField(_l("Cancel the claim"))
