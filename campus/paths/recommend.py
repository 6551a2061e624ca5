"""The catalogue's helpers: "for you" (paths for the person's role and staff group, and the paths
their latest assessment recommends), search text and the themes' illustrations."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import bindparam

from campus.assessments.models import AssessmentResponse
from campus.assessments.models import StaffGroup
from campus.assessments.responses import STAFF_GROUP_AUDIENCES
from campus.assessments.results import recommendations
from campus.auth.models import Role
from campus.auth.models import User
from campus.extensions import db
from campus.i18n import fallback_order
from campus.i18n import pick
from campus.labels import AUDIENCE_LABELS

# The roles that say which paths are written for a person. Read from the roles the person holds
# (not has_role, under which an administrator holds every role and every path would be "for you").
ROLE_AUDIENCES = {
    Role.TUTOR_TEACHER: "tutor_teachers",
    Role.REGIONAL_DEVELOPER: "regional_developers",
    Role.ORG_ADMIN: "leaders",
}
ASSESSMENT_LIMIT = 3  # recommended paths shown from the assessment
ART_FOLDER = "img/themes"  # under the static folder: <theme slug>.svg, and default.svg


@dataclass
class Suggestion:
    path: Any  # a LearningPath, or its catalogue entry
    reason: str  # why it is suggested, in the person's language
    detail: str = ""  # the assessment's explanation, when there is one


@functools.cache
def _latest_statement():  # type: ignore[no-untyped-def]
    """Built once: the catalogue asks on every request."""
    return (
        db.select(AssessmentResponse)
        .where(
            AssessmentResponse.user_id == bindparam("user_id"),
            AssessmentResponse.submitted_at.is_not(None),
            AssessmentResponse.answers_deleted_at.is_(None),
        )
        .order_by(AssessmentResponse.submitted_at.desc(), AssessmentResponse.id.desc())
        .limit(1)
    )


def latest_assessment(user: User) -> AssessmentResponse | None:
    """The person's most recently submitted assessment whose answers they still keep."""
    return db.session.execute(_latest_statement(), {"user_id": user.id}).scalar_one_or_none()


def role_audiences(user: User, staff_group: StaffGroup | str | None = None) -> set[str]:
    """The audiences written for the person's roles and the staff group they last said they
    belong to ("all staff" is everyone's, so it never makes a path "for you")."""
    audiences = {audience for role, audience in ROLE_AUDIENCES.items() if role in user.roles}
    if staff_group is not None and staff_group in STAFF_GROUP_AUDIENCES:
        audiences.add(STAFF_GROUP_AUDIENCES[StaffGroup(staff_group)])
    return audiences


_UNREAD = object()


def for_you(
    user: User,
    paths: Iterable[Any],
    completed: set[int],
    limit: int = 6,
    response: AssessmentResponse | None | object = _UNREAD,
) -> list[Suggestion]:
    """The assessment's open recommendations first, then the paths written for the person's
    roles and staff group, in catalogue order; completed paths are left out. `response` is
    the latest assessment when the caller has already read it."""
    visible = {path.id: path for path in paths}
    suggestions: list[Suggestion] = []
    if response is _UNREAD:
        response = latest_assessment(user)
    assert response is None or isinstance(response, AssessmentResponse)
    if response is not None:
        recommended, _completed_since = recommendations(user, response)
        for recommendation in recommended:
            path = visible.get(recommendation.path.id)
            if path is None or path.id in completed:
                continue
            suggestions.append(
                Suggestion(
                    path,
                    _("Suggested by your assessment"),
                    recommendation.explanation,
                )
            )
            if len(suggestions) == ASSESSMENT_LIMIT:
                break
    audiences = role_audiences(user, response.staff_group if response is not None else None)
    chosen = {suggestion.path.id for suggestion in suggestions}
    for path in visible.values():
        matching = [a for a in path.audience if a in audiences]
        if not matching or path.id in completed or path.id in chosen:
            continue
        names = ", ".join(str(AUDIENCE_LABELS.get(a, a)) for a in matching)
        suggestions.append(Suggestion(path, _("For your role: %(audience)s", audience=names)))
    return suggestions[:limit]


def search_text(path: Any) -> str:
    """What a search matches, in the shown language: title, summary, theme and audiences.

    A catalogue entry (campus.paths.catalogue_cache) keeps it per language order: it depends on
    the content and the language only."""
    known = getattr(path, "search_texts", None)
    if known is None:
        return _search_text(path)
    order = fallback_order()
    text = known.get(order)
    if text is None:
        text = known[order] = _search_text(path)
    return text


def _search_text(path: Any) -> str:
    parts = [pick(path.title), pick(path.summary), pick(path.theme.title)]
    parts += [str(AUDIENCE_LABELS.get(a, a)) for a in path.audience]
    return " ".join(parts).casefold()


def matches(path: Any, query: str) -> bool:
    """Every word of the query occurs in the path's search text."""
    text = search_text(path)
    return all(word in text for word in query.casefold().split())


def theme_art(static_folder: str | None, themes: Iterable[Any]) -> dict[str, str]:
    """Each theme's illustration (a static filename); the shared one when it has none."""
    folder = Path(static_folder or ".") / ART_FOLDER
    return {
        theme.slug: f"{ART_FOLDER}/{theme.slug}.svg"
        if (folder / f"{theme.slug}.svg").is_file()
        else f"{ART_FOLDER}/default.svg"
        for theme in themes
    }
