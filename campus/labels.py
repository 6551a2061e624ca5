"""Translated names for the enum values shown to people."""

from __future__ import annotations

from collections.abc import Iterator
from collections.abc import Mapping
from typing import Any

from flask_babel.speaklater import LazyString

from campus.i18n import request_translations


def _gettext(string: str) -> str:
    return request_translations().ugettext(string)  # type: ignore[no-any-return]


def _l(string: str) -> LazyString:
    """Flask-Babel's lazy_gettext, through the translations looked up once per request (pages
    show these labels on every card)."""
    return LazyString(_gettext, string)


ROLE_LABELS = {
    "learner": _l("Learner"),
    "tutor_teacher": _l("Tutor teacher"),
    "regional_developer": _l("Regional developer"),
    "reviewer": _l("Reviewer"),
    "org_admin": _l("Organisation admin"),
    "admin": _l("Administrator"),
}

AUDIENCE_LABELS = {
    "all_staff": _l("All staff"),
    "leaders": _l("Leaders"),
    "teachers": _l("Teachers"),
    "support_staff": _l("Support staff"),
    "tutor_teachers": _l("Tutor teachers"),
    "regional_developers": _l("Regional developers"),
}


class _KindLabels(Mapping[str, Any]):
    """Each module kind's own label, read from the registry (campus.paths.kinds) when shown."""

    def _labels(self) -> dict[str, Any]:
        from campus.paths import kinds

        return {kind.key: kind.label for kind in kinds.all_kinds()}

    def __getitem__(self, key: str) -> Any:
        return self._labels().get(key, key)  # a kind no longer registered shows its key

    def __iter__(self) -> Iterator[str]:
        return iter(self._labels())

    def __len__(self) -> int:
        return len(self._labels())


KIND_LABELS = _KindLabels()

STATUS_LABELS = {
    "not_started": _l("Not started"),
    "enrolled": _l("In progress"),
    "completed": _l("Completed"),
    "submitted": _l("Waiting for review"),
    "accepted": _l("Accepted"),
    "returned": _l("Returned"),
}

ORGANISATION_KIND_LABELS = {
    "education_provider": _l("Education provider"),
    "municipality": _l("Municipality"),
    "other": _l("Other"),
}
