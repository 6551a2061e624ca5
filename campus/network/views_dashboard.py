"""The digital-capability dashboards: an organisation's (its people and leaders read it) and a
region's (its organisations side by side). Figures come from campus.network.dashboard."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import abort
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import format_percent
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_login import login_required

from campus.assessments.aggregates import Figure
from campus.assessments.models import MIN_RESPONDENTS
from campus.auth.models import Organisation
from campus.auth.models import Region
from campus.clock import utcnow
from campus.extensions import db
from campus.i18n import pick
from campus.network import access
from campus.network import dashboard
from campus.network.models import GoalStatus
from campus.network.years import EARLIEST_YEAR
from campus.network.years import LATEST_YEAR
from campus.network.years import parse_year

bp = Blueprint("network_dashboard", __name__, url_prefix="/network")

STATUS_LABELS = {
    GoalStatus.PLANNED: _l("Planned"),
    GoalStatus.IN_PROGRESS: _l("In progress"),
    GoalStatus.ACHIEVED: _l("Achieved"),
    GoalStatus.PAUSED: _l("Paused"),
    GoalStatus.DROPPED: _l("Dropped"),
}
SHARES = (0.0, 0.25, 0.5, 0.75, 1.0)


def _year() -> int:
    """?year=YYYY, or the current year; anything else is a 400 with a clear message."""
    raw = request.args.get("year")
    if raw is None or raw == "":
        return utcnow().year
    year = parse_year(raw)
    if year is None:
        abort(
            400,
            description=_(
                "The year must be a number from %(first)d to %(last)d.",
                first=EARLIEST_YEAR,
                last=LATEST_YEAR,
            ),
        )
    return year


def share_text(part: int, whole: int) -> str:
    if not whole:
        return _("%(part)d of %(whole)d", part=part, whole=whole)
    return _(
        "%(part)d of %(whole)d (%(share)s)",
        part=part,
        whole=whole,
        share=format_percent(part / whole),
    )


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def mean_text(figure: Figure) -> str:
    from flask_babel import format_decimal

    mean = figure.mean
    return _("too few answers") if mean is None else format_decimal(mean, "0.0")


def _mean_share(figure: Figure, top: int) -> float | None:
    return None if figure.mean is None else figure.mean / top


def _mean_ticks(top: int) -> list[tuple[float, str]]:
    return [(value / top, str(value)) for value in range(0, top + 1)]


def _common() -> dict[str, Any]:
    return {
        "status_labels": STATUS_LABELS,
        "statuses": list(GoalStatus),
        "share_text": share_text,
        "mean_text": mean_text,
        "link": url_for,
        "share_ticks": [(share, format_percent(share)) for share in SHARES],
        "min_respondents": MIN_RESPONDENTS,
        "tutor_label": _("Any tutor-teacher badge"),
        "regional_label": _("Any regional-developer badge"),
    }


@bp.get("/organisation/<int:organisation_id>/dashboard")
@login_required
def organisation(organisation_id: int):
    organisation_ = db.get_or_404(Organisation, organisation_id)
    access.ensure(access.can_read_scope(current_user, access.organisation_scope(organisation_)))
    year = _year()
    board = dashboard.organisation_dashboard(organisation_, year, utcnow())
    figures = board.figures
    charts = {
        "themes": [
            {
                "label": pick(row.theme.title),
                "values": [row.share],
                "texts": [share_text(row.completers, row.people)],
            }
            for row in figures.themes
        ],
        "badges": [
            {
                "label": label,
                "values": [_share(n, figures.people)],
                "texts": [share_text(n, figures.people)],
            }
            for label, n in [
                (_("Any tutor-teacher badge"), figures.badges.tutor),
                (_("Any regional-developer badge"), figures.badges.regional),
            ]
            + [(pick(row.name), row.holders) for row in figures.badges.by_badge]
        ],
        "goals": _status_rows(figures.goals),
        "actions": [
            {
                "label": _("Done this year"),
                "values": [figures.actions.share],
                "texts": [share_text(figures.actions.done, figures.actions.due)],
            }
        ],
        "assessments": [
            [
                {
                    "label": pick(area.title),
                    "values": [_mean_share(block.figure(organisation_.id, area.id), block.top)],
                    "texts": [mean_text(block.figure(organisation_.id, area.id))],
                }
                for area in block.areas
            ]
            for block in board.assessments
        ],
    }
    return render_template(
        "network/dashboard/organisation.html",
        board=board,
        figures=figures,
        organisation=organisation_,
        year=year,
        charts=charts,
        mean_ticks=_mean_ticks,
        can_see_region=organisation_.region is not None
        and access.can_read_scope(current_user, access.region_scope(organisation_.region)),
        **_common(),
    )


def _status_rows(goals: dashboard.Goals) -> list[dict[str, Any]]:
    return [
        {
            "label": str(STATUS_LABELS[status]),
            "values": [_share(goals.count(status), goals.total)],
            "texts": [share_text(goals.count(status), goals.total)],
        }
        for status in GoalStatus
    ]


@bp.get("/region/<int:region_id>/dashboard")
@login_required
def region(region_id: int):
    region_ = db.get_or_404(Region, region_id)
    access.ensure(access.can_read_scope(current_user, access.region_scope(region_)))
    year = _year()
    board = dashboard.region_dashboard(region_, year, utcnow())
    own = _("%(region)s (the region's own)", region=region_.name)
    named = [(m.organisation.name if m.organisation else "", m) for m in board.members]
    goal_rows = [(own, board.goals)] + [(name, m.goals) for name, m in named]
    action_rows = [(own, board.actions)] + [(name, m.actions) for name, m in named]
    charts = {
        "people": [
            {
                "label": name,
                "values": [_share(m.completers, m.people)],
                "texts": [share_text(m.completers, m.people)],
            }
            for name, m in named
        ],
        "badges": [
            {
                "label": name,
                "values": [_share(m.badges.tutor, m.people), _share(m.badges.regional, m.people)],
                "texts": [
                    share_text(m.badges.tutor, m.people),
                    share_text(m.badges.regional, m.people),
                ],
            }
            for name, m in named
        ],
        "goals": [
            {
                "label": label,
                "values": [
                    _share(goals.count(GoalStatus.ACHIEVED), goals.total),
                    _share(goals.count(GoalStatus.IN_PROGRESS), goals.total),
                ],
                "texts": [
                    share_text(goals.count(GoalStatus.ACHIEVED), goals.total),
                    share_text(goals.count(GoalStatus.IN_PROGRESS), goals.total),
                ],
            }
            for label, goals in goal_rows
        ],
        "actions": [
            {
                "label": label,
                "values": [actions.share],
                "texts": [share_text(actions.done, actions.due)],
            }
            for label, actions in action_rows
        ],
        "assessments": [
            [
                {
                    "label": pick(area.title),
                    "values": [_mean_share(block.region_area(area.id), block.top)],
                    "texts": [mean_text(block.region_area(area.id))],
                }
                for area in block.areas
            ]
            for block in board.assessments
        ],
    }
    return render_template(
        "network/dashboard/region.html",
        board=board,
        region=region_,
        year=year,
        charts=charts,
        goal_rows=goal_rows,
        goal_series=[STATUS_LABELS[GoalStatus.ACHIEVED], STATUS_LABELS[GoalStatus.IN_PROGRESS]],
        action_rows=action_rows,
        mean_ticks=_mean_ticks,
        **_common(),
    )
