"""Regions and their organisations, and organisations' units (schools, campuses)."""

from __future__ import annotations

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required

from campus.auth.models import Organisation
from campus.auth.models import Region
from campus.auth.services import list_organisations
from campus.extensions import db
from campus.network import access
from campus.network import regions as region_services
from campus.network import structure
from campus.network.forms_structure import AssignRegionForm
from campus.network.forms_structure import ConfirmForm
from campus.network.forms_structure import RegionForm
from campus.network.forms_structure import RenameRegionForm
from campus.network.forms_structure import RenameUnitForm
from campus.network.forms_structure import UnitForm
from campus.network.models import Unit
from campus.network.rules import structure_flags

bp = Blueprint("network_regions", __name__, url_prefix="/network")


def scope_links(kind: str, scope_id: int) -> dict[str, str]:
    """The scope's other pages: groups, roadmaps, annual clock and dashboard."""
    dashboard = (
        url_for("network_dashboard.region", region_id=scope_id)
        if kind == "region"
        else url_for("network_dashboard.organisation", organisation_id=scope_id)
    )
    return {
        "groups": url_for("network_groups.scope_groups", kind=kind, scope_id=scope_id),
        "roadmaps": url_for("network_roadmaps.scope_roadmaps", kind=kind, scope_id=scope_id),
        "clock": url_for("network_clock.clock", kind=kind, scope_id=scope_id),
        "dashboard": dashboard,
    }


def _assign_form(organisation: Organisation, regions: list[Region]) -> AssignRegionForm:
    form = AssignRegionForm(prefix=f"org-{organisation.id}")
    form.region.choices = [(0, _("No region"))] + [(region.id, region.name) for region in regions]
    if request.method == "GET" or form.region.data is None:
        form.region.data = organisation.region_id or 0
    return form


def _regions_page(create: RegionForm | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    manager = access.can_manage_regions(current_user)
    regions = [
        region
        for region in region_services.list_regions()
        if access.can_read_scope(current_user, access.region_scope(region))
    ]
    organisations = list_organisations() if manager else []
    all_regions = region_services.list_regions()
    return render_template(
        "network/regions/index.html",
        regions=regions,
        manager=manager,
        create_form=create or RegionForm(),
        organisations=[(org, _assign_form(org, all_regions)) for org in organisations],
    ), status


@bp.route("/regions/", methods=["GET", "POST"])
@login_required
def regions():
    if request.method == "GET":
        return _regions_page()
    access.ensure(access.can_manage_regions(current_user))
    form = RegionForm()
    if form.validate_on_submit():
        try:
            region = region_services.create_region(form.name.data or "")
        except structure.StructureError as error:
            form.name.errors = [error.message]
            return _regions_page(form, 409)
        db.session.commit()
        flash(_("The region %(name)s is created.", name=region.name), "success")
        return redirect(url_for(".region", region_id=region.id))
    return _regions_page(form, 400)


@bp.post("/organisations/<int:organisation_id>/region")
@login_required
def assign(organisation_id: int):
    access.ensure(access.can_manage_regions(current_user))
    organisation = db.get_or_404(Organisation, organisation_id)
    form = _assign_form(organisation, region_services.list_regions())
    if not form.validate_on_submit():
        flash(_("Choose a region from the list."), "error")
        return _regions_page(status=400)
    region = db.session.get(Region, form.region.data) if form.region.data else None
    region_services.assign_region(organisation, region)
    db.session.commit()
    if region is None:
        flash(_("%(name)s is in no region now.", name=organisation.name), "success")
    else:
        flash(
            _("%(name)s is in %(region)s now.", name=organisation.name, region=region.name),
            "success",
        )
    return redirect(url_for(".regions"))


def _region_page(region: Region, rename: RenameRegionForm | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    scope = access.region_scope(region)
    organisations = region_services.region_organisations(region)
    units = region_services.units_by_organisation([org.id for org in organisations])
    groups = structure.groups_of(scope, members=True)
    return render_template(
        "network/regions/region.html",
        region=region,
        organisations=[(org, units.get(org.id, [])) for org in organisations],
        groups=[(group, structure.chair_of(group)) for group in groups],
        flags=structure_flags(region),
        links=scope_links("region", region.id),
        can_edit=access.can_edit_scope(current_user, scope),
        manager=access.can_manage_regions(current_user),
        rename_form=rename or RenameRegionForm(name=region.name),
        can_edit_units=lambda org: access.can_edit_units(current_user, org),
    ), status


@bp.get("/regions/<int:region_id>")
@login_required
def region(region_id: int):
    region = db.get_or_404(Region, region_id)
    access.ensure(access.can_read_scope(current_user, access.region_scope(region)))
    return _region_page(region)


@bp.post("/regions/<int:region_id>/rename")
@login_required
def rename_region(region_id: int):
    region = db.get_or_404(Region, region_id)
    access.ensure(access.can_manage_regions(current_user))
    form = RenameRegionForm()
    if form.validate_on_submit():
        try:
            region_services.rename_region(region, form.name.data or "")
        except structure.StructureError as error:
            form.name.errors = [error.message]
            return _region_page(region, form, 409)
        db.session.commit()
        flash(_("The region is renamed."), "success")
        return redirect(url_for(".region", region_id=region.id))
    return _region_page(region, form, 400)


def _units_page(organisation: Organisation, add: UnitForm | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    units = region_services.units_of(organisation)
    return render_template(
        "network/regions/units.html",
        organisation=organisation,
        units=[(unit, RenameUnitForm(prefix=f"unit-{unit.id}", name=unit.name)) for unit in units],
        add_form=add or UnitForm(),
        remove_form=ConfirmForm(),
        can_edit=access.can_edit_units(current_user, organisation),
        links=scope_links("organisation", organisation.id),
    ), status


def _organisation(organisation_id: int, *, edit: bool) -> Organisation:
    organisation = db.get_or_404(Organisation, organisation_id)
    access.ensure(access.can_read_scope(current_user, access.organisation_scope(organisation)))
    if edit:
        access.ensure(access.can_edit_units(current_user, organisation))
    return organisation


@bp.route("/organisations/<int:organisation_id>/units", methods=["GET", "POST"])
@login_required
def units(organisation_id: int):
    organisation = _organisation(organisation_id, edit=request.method == "POST")
    if request.method == "GET":
        return _units_page(organisation)
    form = UnitForm()
    if form.validate_on_submit():
        try:
            unit = region_services.add_unit(organisation, form.name.data or "")
        except structure.StructureError as error:
            form.name.errors = [error.message]
            return _units_page(organisation, form, 409)
        db.session.commit()
        flash(_("The unit %(name)s is added.", name=unit.name), "success")
        return redirect(url_for(".units", organisation_id=organisation.id))
    return _units_page(organisation, form, 400)


def _unit(organisation: Organisation, unit_id: int) -> Unit:
    unit = db.get_or_404(Unit, unit_id)
    if unit.organisation_id != organisation.id:
        abort(404)
    return unit


@bp.post("/organisations/<int:organisation_id>/units/<int:unit_id>/rename")
@login_required
def rename_unit(organisation_id: int, unit_id: int):
    organisation = _organisation(organisation_id, edit=True)
    unit = _unit(organisation, unit_id)
    form = RenameUnitForm(prefix=f"unit-{unit.id}")
    if not form.validate_on_submit():
        flash(_("Give the unit a name."), "error")
        return _units_page(organisation, status=400)
    try:
        region_services.rename_unit(unit, form.name.data or "")
    except structure.StructureError as error:
        flash(error.message, "error")
        db.session.rollback()
        return _units_page(organisation, status=409)
    db.session.commit()
    flash(_("The unit is renamed."), "success")
    return redirect(url_for(".units", organisation_id=organisation.id))


@bp.post("/organisations/<int:organisation_id>/units/<int:unit_id>/remove")
@login_required
def remove_unit(organisation_id: int, unit_id: int):
    organisation = _organisation(organisation_id, edit=True)
    unit = _unit(organisation, unit_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    name = unit.name
    region_services.remove_unit(unit)
    db.session.commit()
    flash(_("The unit %(name)s is removed.", name=name), "success")
    return redirect(url_for(".units", organisation_id=organisation.id))
