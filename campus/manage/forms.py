"""Admin forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms import SelectMultipleField
from wtforms import StringField
from wtforms import SubmitField
from wtforms import widgets
from wtforms.validators import DataRequired
from wtforms.validators import Length


class OrganisationForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(
        _l("Kind"),
        choices=[
            ("education_provider", _l("Education provider")),
            ("municipality", _l("Municipality")),
            ("other", _l("Other")),
        ],
    )
    submit = SubmitField(_l("Create organisation"))


class CheckboxListField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class UserRolesForm(FlaskForm):
    organisation = SelectField(_l("Organisation"), coerce=int)
    roles = CheckboxListField(_l("Roles"))
    submit = SubmitField(_l("Save"))
