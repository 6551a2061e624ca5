"""The language of the material when it is not written in the page's language (issue 13, 5).

Content is always written in Finnish and English; Swedish is optional. A person reading in
Swedish sees Swedish where it exists and otherwise the material language of their choice,
Finnish by default. The choice lives in the session and never changes the page's language.
"""

from __future__ import annotations

from collections.abc import Iterator
from collections.abc import Mapping
from typing import Any

from flask import abort
from flask import redirect
from flask import request
from flask import session
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField

from campus.auth.views import safe_next
from campus.config import LANGUAGES
from campus.i18n import MATERIAL_LANGUAGE_KEY
from campus.i18n import MATERIAL_LANGUAGES
from campus.i18n import current_language
from campus.i18n import pick_language
from campus.paths.views import bp

# Whole sentences, so that every language can inflect the language names its own way.
NOT_AVAILABLE = {"sv": _l("This material is not available in Swedish.")}
NOT_AVAILABLE_HERE = _l("This material is not available in the language of this page.")
ACTIVITY_NOT_AVAILABLE = {"sv": _l("The task of this module is not available in Swedish.")}
ACTIVITY_NOT_AVAILABLE_HERE = _l(
    "The task of this module is not available in the language of this page."
)
SHOWN_IN = {"fi": _l("It is shown in Finnish."), "en": _l("It is shown in English.")}
SHOW_IN = {"fi": _l("Show the material in Finnish"), "en": _l("Show the material in English")}


class MaterialLanguageForm(FlaskForm):
    """The switch button: CSRF, the chosen language and the page to return to."""

    language = HiddenField()
    next = HiddenField()


def language_texts(value: Any) -> Iterator[Mapping[str, str]]:
    """Every {language: text} mapping inside a module's settings (prompts, questions, choices)."""
    if isinstance(value, Mapping):
        if (
            value
            and set(value) <= set(LANGUAGES)
            and all(isinstance(v, str) for v in value.values())
        ):
            yield value
        else:
            for item in value.values():
                yield from language_texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from language_texts(item)


def language_notice(module: Any) -> dict[str, object] | None:
    """What the notice above a module's body says, or None when its material (the body, then
    the activity's questions and prompts) is all in the page's language."""
    page = current_language()
    texts: Mapping[str, str] = module.body_html or {}
    not_available = NOT_AVAILABLE.get(page, NOT_AVAILABLE_HERE)
    if pick_language(texts) == page:  # the body is fine: is the activity too?
        texts = next((t for t in language_texts(module.settings) if pick_language(t) != page), {})
        not_available = ACTIVITY_NOT_AVAILABLE.get(page, ACTIVITY_NOT_AVAILABLE_HERE)
    shown = pick_language(texts)
    if not texts or shown == page:
        return None
    others = [c for c in MATERIAL_LANGUAGES if c != shown and texts.get(c)]
    return {
        "not_available": not_available,
        "shown_in": SHOWN_IN.get(shown, ""),
        "switch_to": others[0] if others else None,
        "switch_label": SHOW_IN[others[0]] if others else None,
    }


@bp.post("/material-language")
def set_material_language():  # type: ignore[no-untyped-def]
    """Remember which language replaces missing material; the page language stays as it is."""
    form = MaterialLanguageForm()
    if not form.validate_on_submit() or form.language.data not in MATERIAL_LANGUAGES:
        abort(400)
    session[MATERIAL_LANGUAGE_KEY] = form.language.data
    return redirect(safe_next(request.form.get("next")))


@bp.app_context_processor
def _notice_helper() -> dict[str, object]:
    return {"material_language_notice": language_notice}
