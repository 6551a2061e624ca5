"""Translated names for the network's enum values (group kinds and roles, goal areas, focuses,
statuses, RACI letters), shared by every network page and by template copies."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

GROUP_KIND_LABELS = {
    "steering": _l("Steering group"),
    "regional_ict": _l("Regional ICT development group"),
    "digi_group": _l("Digi group"),
    "tutor_network": _l("Tutor-teacher network"),
    "theme_team": _l("Theme team"),
}

GROUP_ROLE_LABELS = {
    "chair": _l("Chair"),
    "secretary": _l("Secretary"),
    "member": _l("Member"),
    "lead": _l("Theme lead"),
    "developer": _l("Developer"),
    "participant": _l("Participant"),
}

AREA_LABELS = {
    "competence": _l("Competence"),
    "infrastructure": _l("Infrastructure"),
    "services": _l("Services"),
    "content": _l("Content"),
}

FOCUS_LABELS = {
    "leadership": _l("Leadership"),
    "community": _l("Community"),
    "learning": _l("Learning"),
    "trust": _l("Trust"),
}

GOAL_STATUS_LABELS = {
    "planned": _l("Planned"),
    "in_progress": _l("In progress"),
    "achieved": _l("Achieved"),
    "paused": _l("Paused"),
    "dropped": _l("Dropped"),
}

RACI_LABELS = {
    "R": _l("Responsible"),
    "A": _l("Accountable"),
    "C": _l("Consulted"),
    "I": _l("Informed"),
}


def _label(table: dict[str, object]):  # type: ignore[no-untyped-def]
    def label(value: object) -> object:
        key = str(getattr(value, "value", value))
        return table.get(key, key)

    return label


group_kind_label = _label(GROUP_KIND_LABELS)
group_role_label = _label(GROUP_ROLE_LABELS)
area_label = _label(AREA_LABELS)
focus_label = _label(FOCUS_LABELS)
goal_status_label = _label(GOAL_STATUS_LABELS)
raci_label = _label(RACI_LABELS)


def init_app(app: Flask) -> None:
    """Template globals: `{{ group_kind_label(group.kind) }}` and the like."""
    for name in (
        "group_kind_label",
        "group_role_label",
        "area_label",
        "focus_label",
        "goal_status_label",
        "raci_label",
    ):
        app.jinja_env.globals[name] = globals()[name]


def raci_choices() -> list[tuple[str, object]]:
    """The options of a RACI letter select: none, then each letter with its name ("A – …")."""
    return [("", _l("None"))] + [
        (letter, _l("%(letter)s – %(name)s", letter=letter, name=name))
        for letter, name in RACI_LABELS.items()
    ]
