"""The form of a button that changes state; each module kind keeps its own form with the kind."""

from __future__ import annotations

from flask_wtf import FlaskForm


class ActionForm(FlaskForm):
    """A button that changes state (enrol, mark as done, take a quiz): CSRF only."""
