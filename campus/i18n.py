"""Language choice and multilingual content text."""

from __future__ import annotations

from collections.abc import Mapping

from flask import current_app
from flask import has_request_context
from flask import request
from flask import session
from flask_babel import get_locale
from flask_login import current_user

from campus.config import DEFAULT_LOCALE
from campus.config import LANGUAGES

LANGUAGE_NAMES = {"fi": "Suomi", "sv": "Svenska", "en": "English"}
# Content written in Finnish and English: Swedish readers fall back to Finnish first.
FALLBACK_ORDER = {"fi": ("fi", "en", "sv"), "sv": ("sv", "fi", "en"), "en": ("en", "fi", "sv")}


def select_locale() -> str:
    """The user's saved choice, then the session's, then the browser's, then Finnish."""
    if not has_request_context():
        return "en"  # command-line output and background work: the operators' language
    if current_user and getattr(current_user, "is_authenticated", False) and current_user.locale:
        return current_user.locale
    chosen = session.get("locale")
    if chosen in LANGUAGES:
        return chosen
    best = request.accept_languages.best_match(current_app.config["LANGUAGES"])
    return best or DEFAULT_LOCALE


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale else DEFAULT_LOCALE


def pick(texts: Mapping[str, str] | None, language: str | None = None) -> str:
    """Choose the best available text of a {language: text} mapping."""
    if not texts:
        return ""
    language = language or current_language()
    for candidate in FALLBACK_ORDER.get(language, LANGUAGES):
        if texts.get(candidate):
            return texts[candidate]
    return next(iter(texts.values()), "")


def pick_language(texts: Mapping[str, str] | None, language: str | None = None) -> str:
    """The language that `pick` would use, for the `lang` attribute of the shown text."""
    language = language or current_language()
    for candidate in FALLBACK_ORDER.get(language, LANGUAGES):
        if texts and texts.get(candidate):
            return candidate
    return language
