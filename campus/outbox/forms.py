"""Forms of the follow-up admin page (CSRF only: the item id is read and checked by the view)."""

from __future__ import annotations

from flask_wtf import FlaskForm


class RetryForm(FlaskForm):
    pass
