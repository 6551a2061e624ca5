"""Template pages: the published templates, one template's contents, copy it in one step,
publish from a region or organisation, import and download as a TOML file."""

from __future__ import annotations

from typing import Any

from babel.dates import get_month_names
from flask import Blueprint
from flask import Response
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required

from campus.clock import utcnow
from campus.extensions import db
from campus.i18n import current_language
from campus.network import access
from campus.network import toolkits as services
from campus.network.access import Scope
from campus.network.clock_models import Toolkit
from campus.network.forms_toolkits import CopyForm
from campus.network.forms_toolkits import DeleteForm
from campus.network.forms_toolkits import ImportForm
from campus.network.forms_toolkits import PublishForm
from campus.network.kickoff import scope_kit
from campus.network.labels import group_kind_label
from campus.network.labels import group_role_label
from campus.network.models import DevelopmentArea
from campus.network.roadmaps import roadmaps_of
from campus.network.toolkit_format import party_label_parts
from campus.routing import parse_id

bp = Blueprint("network_toolkits", __name__, url_prefix="/network")


def _scope_label(scope: Scope) -> str:
    if scope.is_region:
        return _("%(name)s (region)", name=scope.name)
    return scope.name


def _toolkit(slug: str) -> Toolkit:
    return db.one_or_404(db.select(Toolkit).where(Toolkit.slug == slug))


def _copy_form(toolkit: Toolkit, scopes: list[Scope]) -> CopyForm:
    form = CopyForm(years=toolkit.body["roadmap"]["years"])
    form.target.choices = [(f"{s.kind}:{s.id}", _scope_label(s)) for s in scopes]
    return form


def _render_index(form: ImportForm, problems: list[str], status: int = 200) -> tuple[str, int]:
    scopes = access.editable_scopes(current_user)
    return (
        render_template(
            "network/toolkits/index.html",
            toolkits=services.toolkits(),
            scopes=scopes,
            scope_label=_scope_label,
            import_form=form,
            problems=problems,
        ),
        status,
    )


@bp.get("/templates/")
@login_required
def index():  # type: ignore[no-untyped-def]
    return _render_index(ImportForm(), [])


@bp.post("/templates/import")
@login_required
def import_template():  # type: ignore[no-untyped-def]
    access.ensure(access.can_import_toolkit(current_user))
    form = ImportForm()
    if not form.validate_on_submit():
        return _render_index(form, [], 422)
    try:
        text = services.decode_file(form.file.data.read())
        toolkit = services.import_file(text, current_user, utcnow())
    except services.ToolkitError as error:
        db.session.rollback()
        return _render_index(form, error.problems, 422)
    warnings = services.unknown_references(toolkit.body)
    db.session.commit()
    flash(_("Template “%(title)s” imported.", title=toolkit.title), "success")
    for warning in warnings:
        flash(warning, "warning")
    return redirect(url_for(".toolkit", slug=toolkit.slug))


def _months() -> list[str]:
    names = get_month_names("wide", "stand-alone", locale=get_locale() or "en")
    return [names[month].capitalize() for month in range(1, 13)]


def party_label(party: str) -> str:
    kind, role = party_label_parts(party)
    if role is None:
        return str(group_kind_label(kind))
    return f"{group_kind_label(kind)}: {group_role_label(role)}"


def _contents(body: dict[str, Any]) -> dict[str, Any]:
    goals = body["roadmap"]["goals"]
    by_area = [
        (area.value, [goal for goal in goals if goal["area"] == area.value])
        for area in DevelopmentArea
    ]
    months = _months()
    actions = body["clock"]["actions"]
    by_month = [
        (months[month - 1], [a for a in actions if a["start_month"] == month])
        for month in range(1, 13)
    ]
    return {
        "goals_by_area": [(area, items) for area, items in by_area if items],
        "actions_by_month": [(name, items) for name, items in by_month if items],
        "goal_titles": {goal["key"]: goal["title"] for goal in goals},
        "month_names": months,
    }


def _can_delete(toolkit: Toolkit) -> bool:
    return access.can_delete_toolkit(current_user, toolkit)


@bp.get("/templates/<slug>.toml")
@login_required
def download(slug: str):  # type: ignore[no-untyped-def]
    toolkit = _toolkit(slug)
    return Response(
        services.to_toml(toolkit.body),
        mimetype="application/toml",
        headers={"Content-Disposition": f'attachment; filename="{toolkit.slug}.toml"'},
    )


def _render_toolkit(
    row: Toolkit, copy_form: CopyForm | None, problems: list[str], status: int = 200
) -> tuple[str, int]:
    return (
        render_template(
            "network/toolkits/toolkit.html",
            toolkit=row,
            body=row.body,
            party_label=party_label,
            copy_form=copy_form,
            problems=problems,
            delete_form=DeleteForm() if _can_delete(row) else None,
            **_contents(row.body),
        ),
        status,
    )


@bp.get("/templates/<slug>")
@login_required
def toolkit(slug: str):  # type: ignore[no-untyped-def]
    row = _toolkit(slug)
    scopes = access.editable_scopes(current_user)
    form = None
    if scopes:
        form = _copy_form(row, scopes)
        form.first_year.data = utcnow().year  # a suggestion; the posted year is checked
    return _render_toolkit(row, form, [])


@bp.post("/templates/<slug>/copy")
@login_required
def copy(slug: str):  # type: ignore[no-untyped-def]
    row = _toolkit(slug)
    form = _copy_form(row, access.editable_scopes(current_user))
    kind, _sep, scope_id = (form.target.data or "").partition(":")
    number = parse_id(scope_id)
    if kind not in access.SCOPE_KINDS or number is None:
        abort(400)
    target = access.resolve_scope(kind, number)
    access.ensure(access.can_edit_scope(current_user, target))
    if not form.validate_on_submit():
        return _render_toolkit(row, form, [], 422)
    try:
        report = services.apply(row, target, form.first_year.data, current_user, utcnow())
    except services.ToolkitError as error:
        db.session.rollback()
        return _render_toolkit(row, form, error.problems, 422)
    roadmap_id = report.roadmap.id if report.roadmap is not None else None
    db.session.commit()
    _flash_report(report, target)
    if roadmap_id is None:
        return redirect(url_for(".toolkit", slug=row.slug))
    return redirect(url_for("network_roadmaps.roadmap", roadmap_id=roadmap_id))


def _flash_report(report: services.CopyReport, target: Scope) -> None:
    flash(
        _(
            "Copied into %(scope)s: a roadmap with %(goals)d goals, %(actions)d annual-clock"
            " actions with %(cells)d responsibilities%(kit)s.",
            scope=target.name,
            goals=report.goals,
            actions=report.actions,
            cells=report.raci_cells,
            kit=_(" and the kick-off kit") if report.kit is not None else "",
        ),
        "success",
    )
    if report.created_groups:
        flash(
            _(
                "New empty groups (add their members): %(names)s.",
                names=", ".join(group.name for group in report.created_groups),
            ),
            "info",
        )
    if report.dropped:
        cells = [
            f"{cell.action}: {party_label(cell.party)}"
            + (f" ({cell.letter})" if cell.letter else "")
            for cell in report.dropped
        ]
        flash(
            _(
                "Left out, as there is no such group here: %(cells)s.",
                cells="; ".join(cells),
            ),
            "warning",
        )
    for warning in report.warnings:
        flash(warning, "warning")


@bp.post("/templates/<slug>/delete")
@login_required
def delete(slug: str):  # type: ignore[no-untyped-def]
    row = _toolkit(slug)
    access.ensure(_can_delete(row))
    form = DeleteForm()
    if not form.validate_on_submit():
        abort(400)
    title = row.title
    services.delete_toolkit(row)
    db.session.commit()
    flash(_("Template “%(title)s” deleted. Copies made of it stay.", title=title), "success")
    return redirect(url_for(".index"))


@bp.route("/<any(region,organisation):kind>/<int:scope_id>/publish", methods=["GET", "POST"])
@login_required
def publish(kind: str, scope_id: int):  # type: ignore[no-untyped-def]
    scope = access.resolve_scope(kind, scope_id)
    access.ensure(access.can_edit_scope(current_user, scope))
    roadmaps = roadmaps_of(scope)
    form = PublishForm()
    form.roadmap.choices = [(r.id, f"{r.title} ({r.first_year}–{r.last_year})") for r in roadmaps]
    if not form.is_submitted():
        form.language.data = current_language()
    problems: list[str] = []
    status = 200
    if form.validate_on_submit():
        roadmap = next(r for r in roadmaps if r.id == form.roadmap.data)
        try:
            toolkit = services.publish(
                scope,
                roadmap,
                (form.title.data or "").strip(),
                (form.slug.data or "").strip(),
                (form.summary.data or "").strip(),
                form.language.data or "fi",
                current_user,
                utcnow(),
            )
        except services.ToolkitError as error:
            db.session.rollback()
            problems, status = error.problems, 422
        else:
            db.session.commit()
            flash(_("Template “%(title)s” published.", title=toolkit.title), "success")
            return redirect(url_for(".toolkit", slug=toolkit.slug))
    elif form.is_submitted():
        status = 422
    return (
        render_template(
            "network/toolkits/publish.html",
            form=form,
            scope=scope,
            has_roadmaps=bool(roadmaps),
            problems=problems,
            action_count=len(services.scope_actions(scope)),
            kit=scope_kit(scope),
            roadmaps_url=url_for("network_roadmaps.scope_roadmaps", kind=kind, scope_id=scope_id),
        ),
        status,
    )
