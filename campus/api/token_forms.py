"""Forms of the API token pages: a personal access token, an API client (admins)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field
from wtforms import SelectField
from wtforms import StringField
from wtforms import SubmitField
from wtforms.validators import DataRequired
from wtforms.validators import Length
from wtforms.validators import ValidationError

from campus.api.token_models import BADGES_READ
from campus.api.token_models import BADGES_WRITE
from campus.api.token_models import NETWORK_READ
from campus.api.token_models import ORGANISATION_READ
from campus.api.token_models import PROFILE_READ
from campus.api.token_models import SCOPES
from campus.manage.forms import CheckboxListField

SCOPE_LABELS = {
    PROFILE_READ: _l("Own progress and badges"),
    ORGANISATION_READ: _l("Organisation progress and assessment summaries"),
    BADGES_READ: _l("Badge classes and awarded badges"),
    BADGES_WRITE: _l("Award and revoke badges"),
    NETWORK_READ: _l("Network groups, roadmaps and annual clocks"),
}
NEVER = "never"


def expiry_choices() -> list[tuple[str, str]]:
    return [
        ("30", _l("30 days")),
        ("90", _l("90 days")),
        ("365", _l("One year")),
        (NEVER, _l("Never")),
    ]


def expiry_days(value: str | None) -> int | None:
    """The form's expiry as days (None: never)."""
    return None if value in (None, NEVER) else int(value)  # the choices are checked


def scope_choices(allowed: frozenset[str]) -> list[tuple[str, str]]:
    """Checkboxes for the scopes the person (or client) may hold, in the canonical order."""
    return [(scope, f"{SCOPE_LABELS[scope]} ({scope})") for scope in SCOPES if scope in allowed]


def _at_least_one(form: FlaskForm, field: Field) -> None:
    """Not DataRequired: that would mark every checkbox `required` in the HTML."""
    if not field.data:
        raise ValidationError(_l("Choose at least one."))


class TokenForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    scopes = CheckboxListField(_l("What the token may do"), validators=[_at_least_one])
    expiry = SelectField(_l("Expires after"), choices=expiry_choices, default="90")
    submit = SubmitField(_l("Create token"))


class ClientForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    organisation = SelectField(_l("Acts for"), coerce=int)
    scopes = CheckboxListField(_l("What the client may do"), validators=[_at_least_one])
    expiry = SelectField(_l("Secret expires after"), choices=expiry_choices, default=NEVER)
    submit = SubmitField(_l("Create client"))
