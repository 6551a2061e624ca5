"""Template helpers shared by every blueprint."""

from __future__ import annotations

from flask import Flask

from campus import labels
from campus.i18n import LANGUAGE_NAMES
from campus.i18n import current_language
from campus.i18n import pick
from campus.i18n import pick_language


def init_app(app: Flask) -> None:
    app.jinja_env.filters["tr"] = pick
    app.jinja_env.filters["tr_lang"] = pick_language
    app.jinja_env.globals["current_language"] = current_language
    app.jinja_env.globals["LANGUAGE_NAMES"] = LANGUAGE_NAMES
    app.jinja_env.globals["labels"] = labels
    app.jinja_env.filters["localdate"] = _local_date
    app.jinja_env.policies["ext.i18n.trimmed"] = True


def _local_date(value: object) -> str:
    from datetime import date

    from flask_babel import format_date

    return format_date(value, "medium") if isinstance(value, date) else ""
