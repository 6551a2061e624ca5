"""Forms of single sign-on: the admin's provider settings, and the password that links an
existing account."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import PasswordField
from wtforms import SelectField
from wtforms import StringField
from wtforms import SubmitField
from wtforms import TextAreaField
from wtforms.validators import DataRequired
from wtforms.validators import Length
from wtforms.validators import Optional
from wtforms.validators import Regexp

from campus.auth.sso.models import DEFAULT_SCOPES

CLAIM_NAME = Regexp(r"^[A-Za-z0-9_.:/\-]+$", message=_l("A claim name has no spaces."))


class LinkPasswordForm(FlaskForm):
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    submit = SubmitField(_l("Link and log in"))


class ProviderForm(FlaskForm):
    """An OpenID Provider. The client secret is never shown back: empty on edit keeps it."""

    name = StringField(_l("Name on the login button"), validators=[DataRequired(), Length(max=200)])
    slug = StringField(
        _l("Short name (part of the redirect URI)"),
        validators=[DataRequired(), Regexp(r"^[a-z0-9][a-z0-9-]{0,79}$"), Length(max=80)],
    )
    issuer = StringField(_l("Issuer URL"), validators=[DataRequired(), Length(max=500)])
    discovery_url = StringField(
        _l("Discovery document URL (empty: the issuer's /.well-known/openid-configuration)"),
        validators=[Optional(), Length(max=500)],
    )
    client_id = StringField(_l("Client ID"), validators=[DataRequired(), Length(max=255)])
    client_secret = PasswordField(_l("Client secret"), validators=[Length(max=1000)])
    scopes = StringField(
        _l("Scopes"), default=DEFAULT_SCOPES, validators=[DataRequired(), Length(max=500)]
    )
    organisation = SelectField(_l("Organisation of new users"), coerce=int)
    name_claim = StringField(
        _l("Name claim"), default="name", validators=[DataRequired(), CLAIM_NAME, Length(max=100)]
    )
    email_claim = StringField(
        _l("E-mail claim"),
        default="email",
        validators=[DataRequired(), CLAIM_NAME, Length(max=100)],
    )
    organisation_claim = StringField(
        _l("Organisation claim (optional)"), validators=[Optional(), CLAIM_NAME, Length(max=100)]
    )
    organisation_map = TextAreaField(
        _l("Organisation claim values: one “value = organisation short name” per line"),
        validators=[Optional(), Length(max=20_000)],
    )
    roles_claim = StringField(
        _l("Roles claim (optional)"), validators=[Optional(), CLAIM_NAME, Length(max=100)]
    )
    role_map = TextAreaField(
        _l("Roles claim values: one “value = role” per line"),
        validators=[Optional(), Length(max=20_000)],
    )
    allowed_domains = TextAreaField(
        _l("Allowed e-mail domains, one per line (empty: any)"),
        validators=[Optional(), Length(max=5_000)],
    )
    trust_email_verified = BooleanField(
        _l("The provider checks every address it gives (treat them as confirmed)")
    )
    submit = SubmitField(_l("Save provider"))
