"""Translated names for the enum values shown to people."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

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

KIND_LABELS = {
    "read": _l("Reading"),
    "quiz": _l("Quiz"),
    "reflection": _l("Reflection"),
    "evidence": _l("Evidence"),
    "lti": _l("External tool"),
}

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
