"""An organisation's progress and assessment aggregates: its org admins, admins, and clients
bound to it (scope organisation:read).

The same services and rules as the Manage and assessment pages: the progress table pages over
members in SQL (campus.manage.progress), and every assessment figure comes from
campus.assessments.aggregates, which withholds what fewer than five people gave.
"""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from campus.api.auth import current_principal
from campus.api.auth import require
from campus.api.paging import PAGING_HEADERS
from campus.api.paging import PageArgs
from campus.api.paging import page_headers
from campus.api.paging import paginate
from campus.api.problems import abort_problem
from campus.api.schemas_orgs import MemberProgressSchema
from campus.api.schemas_orgs import ProgressArgs
from campus.api.schemas_orgs import RoundReportSchema
from campus.api.schemas_orgs import RoundSchema
from campus.api.schemas_orgs import breakdown_dict
from campus.api.schemas_orgs import figure_dict
from campus.assessments import rounds as round_services
from campus.assessments.models import MIN_RESPONDENTS
from campus.assessments.models import AssessmentRound
from campus.assessments.org_views import previous_area
from campus.assessments.org_views import round_views
from campus.auth.models import Organisation
from campus.clock import aware_or_none
from campus.extensions import db
from campus.manage.progress import DEFAULT_DESCENDING
from campus.manage.progress import ProgressQuery
from campus.manage.progress import offered_paths
from campus.manage.progress import progress_table
from campus.paths.models import Theme

blp = Blueprint(
    "api_organisations",
    __name__,
    url_prefix="/api/v1/organisations",
    description="An organisation's progress and assessment aggregates (its administrators).",
)


def _organisation(slug: str) -> Organisation:
    """404 for an unknown slug, 403 for someone else's organisation (as the Manage pages)."""
    organisation = db.session.execute(
        db.select(Organisation).where(Organisation.slug == slug)
    ).scalar_one_or_none()
    if organisation is None:
        abort_problem(404, detail="No such organisation.")
    principal = current_principal()
    if principal is None or not principal.can_read_organisation(organisation.id):
        abort_problem(403, detail="This token may not read this organisation.")
    return organisation  # type: ignore[return-value]


@blp.route("/<slug>/progress")
@require("organisation:read")
@blp.arguments(ProgressArgs, location="query")
@blp.response(200, MemberProgressSchema(many=True), headers=PAGING_HEADERS)
@blp.alt_response(404, response="NOT_FOUND")
def progress(args: dict[str, Any], slug: str):  # type: ignore[no-untyped-def]
    """List members' progress

    Members × offered paths, one page of members; search, sort and theme filter as on the
    organisation's progress page.
    """
    organisation = _organisation(slug)
    theme = None
    if args["theme"]:
        theme = db.session.execute(
            db.select(Theme).where(Theme.slug == args["theme"])
        ).scalar_one_or_none()
        if theme is None:
            abort_problem(404, detail="No such theme.")
    sort = args["sort"]
    descending = DEFAULT_DESCENDING[sort] if args["dir"] is None else args["dir"] == "desc"
    query = ProgressQuery(args["q"].strip(), sort, descending, args["page"], args["per_page"])
    paths = offered_paths(theme)
    table = progress_table(organisation, theme, query, paths=paths)
    rows = []
    for user, cells in table.rows:
        facts = table.facts[user.id]
        rows.append(
            {
                "id": user.id,
                "name": user.name,
                "email": user.email,
                "paths_done": facts.paths_done,
                "modules_done": facts.modules_done,
                "last_activity": facts.last_activity,
                "paths": [
                    {
                        "path": path.slug,
                        "status": cell.status,
                        "required_done": cell.required_done,
                        "required_total": cell.required_total,
                        "completed_at": aware_or_none(cell.completed_at),
                    }
                    for path, cell in zip(table.paths, cells, strict=True)
                ],
            }
        )
    return rows, 200, page_headers(table.page, table.per_page, table.total)


def _round_dict(round_: AssessmentRound) -> dict[str, Any]:
    rate = round_services.response_rate(round_)
    return {
        "id": round_.id,
        "instrument": round_.instrument.slug,
        "title": round_.title,
        "opens_on": round_.opens_on,
        "closes_on": round_.closes_on,
        "target_role": round_.target_role,
        "response_rate": {
            "submitted": rate.submitted,
            "asked": rate.asked,
            "percent": rate.percent,
        },
    }


@blp.route("/<slug>/assessments")
@require("organisation:read")
@blp.arguments(PageArgs, location="query")
@blp.response(200, RoundSchema(many=True), headers=PAGING_HEADERS)
@blp.alt_response(404, response="NOT_FOUND")
def assessment_rounds(page: dict[str, int], slug: str):  # type: ignore[no-untyped-def]
    """List assessment rounds

    The organisation's assessment rounds, newest first, with their response rates.
    """
    organisation = _organisation(slug)
    query = (
        db.select(AssessmentRound)
        .where(AssessmentRound.organisation_id == organisation.id)
        .order_by(AssessmentRound.opens_on.desc(), AssessmentRound.id.desc())
    )
    items, headers = paginate(query, page["page"], page["per_page"])
    return [_round_dict(round_) for round_ in items], 200, headers


@blp.route("/<slug>/assessments/<int:round_id>")
@require("organisation:read")
@blp.response(200, RoundReportSchema)
@blp.alt_response(404, response="NOT_FOUND")
def assessment_report(slug: str, round_id: int) -> dict[str, Any]:
    """Get a round's aggregates

    By area and item, per staff group, compared with the previous round, the region and the
    campus. A figure over fewer than `min_respondents` people is withheld (no numbers), and
    so is the next-smallest group when a total would reveal a withheld one.
    """
    organisation = _organisation(slug)
    round_ = db.session.get(AssessmentRound, round_id)
    if round_ is None or round_.organisation_id != organisation.id:
        abort_problem(404, detail="No such round in this organisation.")
    report, _previous_round, scopes = round_views(organisation, round_)
    areas = []
    for area in report.areas:
        areas.append(
            {
                "key": area.area.key,
                "title": area.area.title,
                "figures": breakdown_dict(area.figures),
                "compared": {
                    "previous": figure_dict(previous_area(scopes.previous, area.area.id))
                    if scopes.previous is not None
                    else None,
                    "region": figure_dict(scopes.region.area(area.area.id))
                    if scopes.region is not None
                    else None,
                    "campus": figure_dict(scopes.campus.area(area.area.id)),
                },
                "items": [
                    {
                        "key": row.item.key,
                        "statement": row.item.statement,
                        "figures": breakdown_dict(row.figures),
                    }
                    for row in area.items
                ],
            }
        )
    return {
        "round": _round_dict(round_),
        "min_respondents": MIN_RESPONDENTS,
        "respondents": breakdown_dict(report.respondents),
        "areas": areas,
    }
