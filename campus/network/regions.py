"""Regions and organisations' units (schools, campuses): the services behind the region pages.

Services refuse bad input with `StructureError` and never commit: the view does.
"""

from __future__ import annotations

from flask_babel import gettext as _

from campus.auth.models import Organisation
from campus.auth.models import Region
from campus.auth.services import slugify
from campus.extensions import db
from campus.network.models import Goal
from campus.network.models import Roadmap
from campus.network.models import Unit
from campus.network.structure import StructureError
from campus.network.structure import clean_name

# Regions ---------------------------------------------------------------------------------------


def list_regions() -> list[Region]:
    return list(db.session.execute(db.select(Region).order_by(Region.name)).scalars())


def region_organisations(region: Region) -> list[Organisation]:
    query = (
        db.select(Organisation)
        .where(Organisation.region_id == region.id)
        .order_by(Organisation.name)
    )
    return list(db.session.execute(query).scalars())


def create_region(name: str) -> Region:
    name = clean_name(name, _("Give the region a name."))
    slug = slugify(name) if slugify(name) != "organisation" else "region"
    taken = db.session.execute(
        db.select(Region.id).where((Region.slug == slug) | (Region.name == name))
    ).first()
    if taken is not None:
        raise StructureError(_("A region called %(name)s already exists.", name=name))
    region = Region(name=name, slug=slug)
    db.session.add(region)
    db.session.flush()
    return region


def rename_region(region: Region, name: str) -> None:
    name = clean_name(name, _("Give the region a name."))
    taken = db.session.execute(
        db.select(Region.id).where(Region.name == name, Region.id != region.id)
    ).first()
    if taken is not None:
        raise StructureError(_("A region called %(name)s already exists.", name=name))
    region.name = name


def assign_region(organisation: Organisation, region: Region | None) -> None:
    """Put the organisation in a region (None: in none). Its memberships in the old region's
    groups stay (the structure flags show them as no longer fitting); its goals stop serving
    the old region's goals."""
    old_region_id = organisation.region_id
    new_region_id = region.id if region is not None else None
    if old_region_id is not None and old_region_id != new_region_id:
        _release_region_goals(organisation.id, old_region_id)
    organisation.region_id = new_region_id


def _release_region_goals(organisation_id: int, region_id: int) -> None:
    """Forget the links from the organisation's goals to the region's goals."""
    region_goals = (
        db.select(Goal.id)
        .join(Roadmap, Goal.roadmap_id == Roadmap.id)
        .where(Roadmap.region_id == region_id, Roadmap.organisation_id.is_(None))
    )
    own_roadmaps = db.select(Roadmap.id).where(Roadmap.organisation_id == organisation_id)
    db.session.execute(
        db.update(Goal)
        .where(Goal.roadmap_id.in_(own_roadmaps), Goal.serves_goal_id.in_(region_goals))
        .values(serves_goal_id=None)
        .execution_options(synchronize_session="fetch")
    )


# Units -----------------------------------------------------------------------------------------


def units_of(organisation: Organisation) -> list[Unit]:
    query = db.select(Unit).where(Unit.organisation_id == organisation.id).order_by(Unit.name)
    return list(db.session.execute(query).scalars())


def units_by_organisation(organisation_ids: list[int]) -> dict[int, list[Unit]]:
    """The units of several organisations (one query), by organisation id."""
    units: dict[int, list[Unit]] = {}
    if not organisation_ids:
        return units
    query = db.select(Unit).where(Unit.organisation_id.in_(organisation_ids)).order_by(Unit.name)
    for unit in db.session.execute(query).scalars():
        units.setdefault(unit.organisation_id, []).append(unit)
    return units


def _unit_name(organisation: Organisation, name: str, unit: Unit | None = None) -> str:
    name = clean_name(name, _("Give the unit a name."))
    query = db.select(Unit.id).where(Unit.organisation_id == organisation.id, Unit.name == name)
    if unit is not None:
        query = query.where(Unit.id != unit.id)
    if db.session.execute(query).first() is not None:
        raise StructureError(
            _("%(name)s already has a unit called %(unit)s.", name=organisation.name, unit=name)
        )
    return name


def add_unit(organisation: Organisation, name: str) -> Unit:
    unit = Unit(organisation_id=organisation.id, name=_unit_name(organisation, name))
    db.session.add(unit)
    db.session.flush()
    return unit


def rename_unit(unit: Unit, name: str) -> None:
    unit.name = _unit_name(unit.organisation, name, unit)


def remove_unit(unit: Unit) -> None:
    db.session.delete(unit)
