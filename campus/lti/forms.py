"""Admin forms for registering tools."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import SelectField
from wtforms import StringField
from wtforms import SubmitField
from wtforms import TextAreaField
from wtforms.validators import URL
from wtforms.validators import DataRequired
from wtforms.validators import Length
from wtforms.validators import Optional
from wtforms.validators import Regexp


class ToolPrivacyForm(FlaskForm):
    """What a tool learns about people (the tool's edit page; also part of registration)."""

    privacy = SelectField(
        _l("What the tool learns"),
        choices=[
            ("anonymous", _l("Anonymous")),
            ("name", _l("Name only")),
            ("name_email", _l("Name and e-mail")),
        ],
        default="name_email",
    )
    pairwise_sub = BooleanField(_l("A separate user id for this tool (pairwise)"))
    submit = SubmitField(_l("Save"))


class ToolForm(ToolPrivacyForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    slug = StringField(
        _l("Short name (used in content files)"),
        validators=[DataRequired(), Regexp(r"^[a-z0-9][a-z0-9-]{0,79}$"), Length(max=80)],
    )
    # Empty: the campus generates them (shown on the tool's page, to paste into the tool).
    client_id = StringField(_l("Client ID"), validators=[Optional(), Length(max=255)])
    deployment_id = StringField(_l("Deployment ID"), validators=[Optional(), Length(max=255)])
    oidc_login_url = StringField(
        _l("OIDC login URL"), validators=[DataRequired(), URL(require_tld=False), Length(max=2000)]
    )
    launch_url = StringField(
        _l("Launch URL"), validators=[DataRequired(), URL(require_tld=False), Length(max=2000)]
    )
    deep_link_url = StringField(
        _l("Deep-linking URL"), validators=[Optional(), URL(require_tld=False), Length(max=2000)]
    )
    redirect_uris = TextAreaField(
        _l("Other redirect URIs, one per line"), validators=[Optional(), Length(max=10_000)]
    )
    jwks_url = StringField(
        _l("Tool JWKS URL"), validators=[Optional(), URL(require_tld=False), Length(max=2000)]
    )
    jwks = TextAreaField(
        _l("…or the tool's JWKS (JSON)"), validators=[Optional(), Length(max=50_000)]
    )
    submit = SubmitField(_l("Register tool"))


class RegistrationOfferForm(FlaskForm):
    """LTI Dynamic Registration offered to a tool: its registration (initiation) URL only."""

    tool_url = StringField(
        _l("The tool's registration URL"),
        validators=[DataRequired(), URL(require_tld=False), Length(max=1500)],
    )
    submit = SubmitField(_l("Offer registration"))


class ActionForm(FlaskForm):
    """A button that changes state: CSRF only."""
