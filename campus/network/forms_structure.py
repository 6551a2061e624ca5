"""Forms of the region, unit, group and kick-off pages (choices are filled in by the views)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField
from wtforms import SelectField
from wtforms import SelectMultipleField
from wtforms import StringField
from wtforms import SubmitField
from wtforms import TextAreaField
from wtforms.validators import DataRequired
from wtforms.validators import Length
from wtforms.validators import Optional

from campus.network.labels import raci_choices
from campus.network.structure import MANDATE_MAX
from campus.network.structure import NAME_MAX
from campus.network.structure import RESPONSIBILITIES_MAX

# The matrix's select options: the letter and its name ("" = no part in the task).
RACI_CHOICE_LABELS = dict(raci_choices())  # letter → "R – Responsible" (one list: labels.py)

NAME_LENGTH = Length(max=NAME_MAX)


class RegionForm(FlaskForm):
    name = StringField(
        _l("Name of the region"),
        validators=[DataRequired(message=_l("Give the region a name.")), NAME_LENGTH],
    )
    submit = SubmitField(_l("Create the region"))


class RenameRegionForm(FlaskForm):
    name = StringField(
        _l("New name"),
        validators=[DataRequired(message=_l("Give the region a name.")), NAME_LENGTH],
    )
    submit = SubmitField(_l("Rename"))


class AssignRegionForm(FlaskForm):
    """One per organisation row (the view gives each its own prefix); 0 = no region."""

    region = SelectField(_l("Region"), coerce=int)
    submit = SubmitField(_l("Save"))


class UnitForm(FlaskForm):
    name = StringField(
        _l("Name of the unit"),
        validators=[DataRequired(message=_l("Give the unit a name.")), NAME_LENGTH],
    )
    submit = SubmitField(_l("Add the unit"))


class RenameUnitForm(FlaskForm):
    name = StringField(
        _l("New name"), validators=[DataRequired(message=_l("Give the unit a name.")), NAME_LENGTH]
    )
    submit = SubmitField(_l("Rename"))


class ConfirmForm(FlaskForm):
    """A button that only carries the CSRF token (remove, delete)."""

    submit = SubmitField(_l("Remove"))


class NewGroupForm(FlaskForm):
    kind = SelectField(_l("Kind of group"))
    name = StringField(
        _l("Name"), validators=[DataRequired(message=_l("Give the group a name.")), NAME_LENGTH]
    )
    mandate = TextAreaField(_l("Mandate (optional)"), validators=[Length(max=MANDATE_MAX)])
    submit = SubmitField(_l("Create the group"))


class GroupEditForm(FlaskForm):
    name = StringField(
        _l("Name"), validators=[DataRequired(message=_l("Give the group a name.")), NAME_LENGTH]
    )
    mandate = TextAreaField(_l("Mandate"), validators=[Length(max=MANDATE_MAX)])
    theme = SelectField(_l("Theme (theme teams)"), validators=[Optional()])
    paths = SelectMultipleField(_l("Paths that matter to the group"), validators=[Optional()])
    badges = SelectMultipleField(_l("Badges that matter to the group"), validators=[Optional()])
    submit = SubmitField(_l("Save the group"))


class AddMemberForm(FlaskForm):
    email = EmailField(
        _l("E-mail address"),
        validators=[DataRequired(message=_l("Give the member's e-mail address.")), Length(max=254)],
    )
    role = SelectField(_l("Role in the group"))
    organisation = SelectField(_l("Represents"), coerce=int, default=0)  # 0 = their own
    responsibilities = TextAreaField(
        _l("Responsibilities (optional)"), validators=[Length(max=RESPONSIBILITIES_MAX)]
    )
    submit = SubmitField(_l("Add the member"))


class MemberForm(FlaskForm):
    """One per member row (prefix "member-<id>")."""

    role = SelectField(_l("Role in the group"))
    organisation = SelectField(_l("Represents"), coerce=int)
    responsibilities = TextAreaField(
        _l("Responsibilities"), validators=[Length(max=RESPONSIBILITIES_MAX)]
    )
    submit = SubmitField(_l("Save"))


class KitForm(FlaskForm):
    title = StringField(
        _l("Title"), validators=[DataRequired(message=_l("Give the kit a title.")), NAME_LENGTH]
    )
    questions = TextAreaField(_l("Questions, one a line"))
    tasks = TextAreaField(_l("Tasks (the matrix's rows), one a line"))
    parties = TextAreaField(_l("Parties (the matrix's columns), one a line"))
    submit = SubmitField(_l("Save the kit"))


class KickoffForm(FlaskForm):
    """The CSRF token and the button; the answers (`answer-<i>`) and the matrix cells
    (`cell-<task>-<party>`) are read from the posted form by the view."""

    submit = SubmitField(_l("Save the starting document"))
