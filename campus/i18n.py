"""Language choice and multilingual content text."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask import current_app
from flask import g
from flask import has_request_context
from flask import request
from flask import session
from flask_babel import get_locale
from flask_babel import get_translations
from flask_login import current_user
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from campus.config import DEFAULT_LOCALE
from campus.config import LANGUAGES
from campus.config import REPO_ROOT

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


# Every content text exists in these; a person may choose which one replaces a missing language.
MATERIAL_LANGUAGES = ("fi", "en")
MATERIAL_LANGUAGE_KEY = "material_language"


def material_choice() -> str | None:
    """The person's choice of material language when the page's language is missing (session)."""
    if not has_request_context():
        return None
    chosen = session.get(MATERIAL_LANGUAGE_KEY)
    return chosen if chosen in MATERIAL_LANGUAGES else None


def fallback_order(language: str | None = None) -> tuple[str, ...]:
    """Languages to try in turn. For the page's own language (`language` not given) the
    person's chosen material language comes right after it; an explicit language (documents
    such as Open Badges) keeps the fixed order."""
    if language:
        return FALLBACK_ORDER.get(language, tuple(LANGUAGES))
    # A page picks hundreds of texts: the order is worked out once per request (kept beside
    # Flask-Babel's own per-request state), and again only when the locale changes during it
    # (flask_babel.refresh, force_locale) or the material choice does.
    try:
        babel = g._flask_babel
        cached = babel.campus_order
        if (
            cached[0] is babel.babel_locale
            and cached[0] is not None
            and cached[1] == session.get(MATERIAL_LANGUAGE_KEY)
        ):
            return cached[2]  # type: ignore[no-any-return]
    except (AttributeError, RuntimeError):  # not worked out yet, or outside a request
        pass
    if not has_request_context():
        return _page_order(None)
    order = _page_order(material_choice())
    babel = g._flask_babel  # made by get_locale() in _page_order
    babel.campus_order = (
        getattr(babel, "babel_locale", None),
        session.get(MATERIAL_LANGUAGE_KEY),
        order,
    )
    return order


def _page_order(chosen: str | None) -> tuple[str, ...]:
    language = current_language()
    order = FALLBACK_ORDER.get(language, tuple(LANGUAGES))
    if chosen and chosen != language:
        order = (language, chosen, *(c for c in order if c not in (language, chosen)))
    return order


def request_translations():  # type: ignore[no-untyped-def]
    """Flask-Babel's translations for this request, looked up once (not on every `_()`).

    Flask-Babel finds the context, locale and catalogue again on each call; a page with many
    strings spent a large share of its time there. Kept beside Flask-Babel's per-request
    state, checked against its locale object so that `flask_babel.refresh()` and
    `force_locale` (another language during the request) are honoured.
    """
    try:
        babel = g._flask_babel
        cached = babel.campus_translations
        if cached[0] is babel.babel_locale and cached[0] is not None:
            return cached[1]
    except AttributeError:
        pass
    except RuntimeError:  # no app context: Flask-Babel's null translations
        return get_translations()
    translations = get_translations()
    babel = g._flask_babel  # made by get_translations() (through get_locale)
    babel.campus_translations = (getattr(babel, "babel_locale", None), translations)
    return translations


def install_template_gettext(app: Flask) -> None:
    """Templates' `_`, `gettext` and `ngettext` use the per-request translations (call after
    Flask-Babel's init_app, which installs its own). They behave as Jinja's "newstyle" ones
    (autoescaped, always %-formatted), called directly instead of through two more
    `Context.call`s each."""
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: request_translations().ugettext(s),
        ngettext=lambda s, p, n: request_translations().ungettext(s, p, n),
        pgettext=lambda c, s: request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: request_translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    app.jinja_env.globals.update(_=_template_gettext, gettext=_template_gettext)
    app.jinja_env.globals["ngettext"] = _template_ngettext


@pass_context
def _template_gettext(__context: Context, __string: str, **variables: Any) -> str:
    text = request_translations().ugettext(__string)
    if __context.eval_ctx.autoescape:
        text = Markup(text)
    return text % variables  # type: ignore[no-any-return]


@pass_context
def _template_ngettext(
    __context: Context, __singular: str, __plural: str, __num: int, **variables: Any
) -> str:
    variables.setdefault("num", __num)
    text = request_translations().ungettext(__singular, __plural, __num)
    if __context.eval_ctx.autoescape:
        text = Markup(text)
    return text % variables  # type: ignore[no-any-return]


def pick(texts: Mapping[str, str] | None, language: str | None = None) -> str:
    """Choose the best available text of a {language: text} mapping."""
    if not texts:
        return ""
    for candidate in fallback_order(language):
        if texts.get(candidate):
            return texts[candidate]
    return next(iter(texts.values()), "")


def pick_language(texts: Mapping[str, str] | None, language: str | None = None) -> str:
    """The language that `pick` would use, for the `lang` attribute of the shown text."""
    order = fallback_order(language)
    for candidate in order:
        if texts and texts.get(candidate):
            return candidate
    return order[0]


def extract_template(target: Path) -> None:
    """Write every user-facing string of the code and templates to a .pot file."""
    from babel.messages.frontend import CommandLineInterface

    CommandLineInterface().run(
        [
            "pybabel",
            "-q",
            "extract",
            "-F",
            str(REPO_ROOT / "babel.cfg"),
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-k",
            "ngettext:1,2",
            "--no-location",
            "--sort-output",
            "--omit-header",
            "-o",
            str(target),
            str(REPO_ROOT),
        ]
    )


translate_cli = click.Group("translate", help="User-interface translations (fi, sv).")


@translate_cli.command("update")
def update_catalogues() -> None:
    """Extract strings into messages.pot and merge them into the fi and sv catalogues.

    New strings arrive untranslated (no fuzzy guesses); `tests/test_i18n.py` fails until they
    are translated. The catalogue headers are kept non-fuzzy so that compilation uses them.
    """
    from babel.messages.frontend import CommandLineInterface
    from babel.messages.pofile import read_po
    from babel.messages.pofile import write_po

    translations = REPO_ROOT / "campus" / "translations"
    template = translations / "messages.pot"
    extract_template(template)
    cli = CommandLineInterface()
    cli.run(
        [
            "pybabel",
            "-q",
            "update",
            "-i",
            str(template),
            "-d",
            str(translations),
            "--no-fuzzy-matching",
            "--ignore-obsolete",
        ]
    )
    for language in LANGUAGES:
        po_file = translations / language / "LC_MESSAGES" / "messages.po"
        if not po_file.exists():
            continue
        with po_file.open("rb") as handle:
            catalogue = read_po(handle, locale=language)
        catalogue.fuzzy = False
        catalogue.project, catalogue.version = "Campus", "0.1"
        catalogue.header_comment = f"# {LANGUAGE_NAMES[language]} translations of Campus.\n#"
        with po_file.open("wb") as handle:
            write_po(handle, catalogue, sort_output=True, width=100)
        missing = sum(1 for message in catalogue if message.id and not message.string)
        click.echo(f"{language}: {missing} message(s) to translate")
