"""Forms of the template pages: publish from a scope, copy into a scope, import a file."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed
from flask_wtf.file import FileField
from flask_wtf.file import FileRequired
from flask_wtf.file import FileSize
from wtforms import IntegerField
from wtforms import SelectField
from wtforms import StringField
from wtforms import SubmitField
from wtforms import TextAreaField
from wtforms.validators import DataRequired
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import Regexp
from wtforms.validators import ValidationError

from campus.i18n import LANGUAGE_NAMES
from campus.network.toolkit_copy import first_year_range
from campus.network.toolkit_format import MAX_FILE_BYTES
from campus.network.toolkit_format import MAX_SLUG
from campus.network.toolkit_format import MAX_TEXT
from campus.network.toolkit_format import MAX_TITLE
from campus.network.toolkit_format import SLUG_PATTERN

LANGUAGE_CHOICES = list(LANGUAGE_NAMES.items())


class PublishForm(FlaskForm):
    roadmap = SelectField(_l("Roadmap"), coerce=int)
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=MAX_TITLE)])
    slug = StringField(
        _l("Address (slug)"),
        validators=[
            DataRequired(),
            Length(max=MAX_SLUG),
            Regexp(
                SLUG_PATTERN,
                message=_l("Use lowercase letters a–z, digits and hyphens only."),
            ),
        ],
    )
    summary = TextAreaField(_l("Summary"), validators=[Length(max=MAX_TEXT)])
    language = SelectField(_l("Language of the texts"), choices=LANGUAGE_CHOICES)
    submit = SubmitField(_l("Publish the template"))


class CopyForm(FlaskForm):
    """`target` values are "<kind>:<id>" of the scopes the user can edit."""

    target = SelectField(_l("Copy into"), validators=[DataRequired()])
    first_year = IntegerField(
        _l("First year of the roadmap"),
        validators=[InputRequired(message=_l("Give the first year."))],
    )
    submit = SubmitField(_l("Copy"))

    def __init__(self, *args: Any, years: int = 1, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.years = years  # the template roadmap's length: its last year must fit too

    def validate_first_year(self, field: IntegerField) -> None:
        first, last = first_year_range(self.years)
        if field.data is not None and not first <= field.data <= last:
            raise ValidationError(
                _("The first year must be between %(first)d and %(last)d.", first=first, last=last)
            )


class ImportForm(FlaskForm):
    file = FileField(
        _l("Template file (.toml)"),
        validators=[
            FileRequired(message=_l("Choose a file.")),
            FileAllowed(["toml"], message=_l("Choose a .toml file.")),
            FileSize(
                max_size=MAX_FILE_BYTES,
                message=_l("A template file can be at most 256 KB."),
            ),
        ],
    )
    submit = SubmitField(_l("Import"))


class DeleteForm(FlaskForm):
    submit = SubmitField(_l("Delete the template"))
