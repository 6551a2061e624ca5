"""Notification forms (Flask-WTF: CSRF on every one the campus shows)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import RadioField
from wtforms import SubmitField
from wtforms.validators import InputRequired

from campus.notifications.models import Delivery

DELIVERY_CHOICES = [
    (Delivery.IMMEDIATE.value, _l("An e-mail for each notification, right away")),
    (Delivery.DAILY_DIGEST.value, _l("One e-mail a day with everything new")),
    (Delivery.OFF.value, _l("No e-mail: only here in the campus")),
]


class SettingsForm(FlaskForm):
    delivery = RadioField(_l("E-mail"), choices=DELIVERY_CHOICES, validators=[InputRequired()])
    weekly_org_digest = BooleanField(_l("A weekly summary of my organisation's progress"))
    submit = SubmitField(_l("Save"))


class MarkReadForm(FlaskForm):
    """Mark one (the view reads the id from the address) or all notifications read."""

    submit = SubmitField(_l("Mark all as read"))
