"""Import validated instruments: match by slug and key, update what changed, retire what was
removed, never delete (answers and tallies point at items and keep meaning what they meant)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_

from campus.assessments.content import InstrumentSpec
from campus.assessments.content import ItemSpec
from campus.assessments.models import Answer
from campus.assessments.models import AssessmentArea
from campus.assessments.models import AssessmentItem
from campus.assessments.models import Instrument
from campus.assessments.models import ItemTally
from campus.extensions import db
from campus.paths.sync import SyncReport


class InstrumentChangeRefused(Exception):
    """A change the stored answers cannot follow (an answered item changing its scale)."""


def sync_instruments(specs: list[InstrumentSpec], report: SyncReport) -> dict[str, Instrument]:
    """Bring instruments in line with `specs`; the caller commits (or rolls back) once.

    The content hash covers the whole instrument, so an unchanged one is not touched and a
    second run is a no-op. A new instrument is reported once, not item by item.
    """
    existing = {i.slug: i for i in db.session.execute(db.select(Instrument)).scalars()}
    for spec in specs:
        instrument = existing.get(spec.slug)
        label = f"instrument {spec.slug}"
        if instrument is None:
            instrument = Instrument(slug=spec.slug)
            db.session.add(instrument)
            existing[spec.slug] = instrument
            report.created.append(label)
        elif instrument.is_retired:
            report.restored.append(label)
        elif instrument.content_hash != spec.content_hash:
            report.updated.append(label)
        else:
            continue
        is_new = instrument.id is None
        _assign(
            instrument,
            respondent=spec.respondent,
            title=spec.title,
            summary=spec.summary,
            intro_html=spec.intro_html,
            audience=list(spec.audience),
            minutes=spec.minutes,
            position=spec.position,
            content_hash=spec.content_hash,
            is_retired=False,
        )
        _sync_areas(instrument, spec, None if is_new else report)
    wanted = {spec.slug for spec in specs}
    for slug, instrument in existing.items():
        if slug not in wanted and not instrument.is_retired:
            instrument.is_retired = True
            report.retired.append(f"instrument {slug}")
    db.session.flush()
    return existing


def _assign(row: Any, **values: Any) -> bool:
    """Set the values that differ; True when any did."""
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


def _note(report: SyncReport | None, was_retired: bool, changed: bool, label: str) -> None:
    if report is None:
        return
    if was_retired:
        report.restored.append(label)
    elif changed:
        report.updated.append(label)


def _sync_areas(instrument: Instrument, spec: InstrumentSpec, report: SyncReport | None) -> None:
    areas = {area.key: area for area in instrument.areas}
    items = {item.key: item for area in instrument.areas for item in area.items}
    for area_spec in spec.areas:
        area = areas.get(area_spec.key)
        label = f"instrument area {spec.slug}/{area_spec.key}"
        if area is None:
            area = AssessmentArea(instrument=instrument, key=area_spec.key)
            db.session.add(area)
            areas[area_spec.key] = area
            if report is not None:
                report.created.append(label)
            was_retired = False
        else:
            was_retired = area.is_retired
        changed = _assign(
            area,
            position=area_spec.position,
            title=area_spec.title,
            description=area_spec.description,
            is_retired=False,
        )
        _note(report, was_retired, changed and area.id is not None, label)
        for item_spec in area_spec.items:
            _sync_item(spec.slug, area, items, item_spec, report)
    _retire(spec, areas, items, report)


def _sync_item(
    slug: str,
    area: AssessmentArea,
    items: dict[str, AssessmentItem],
    spec: ItemSpec,
    report: SyncReport | None,
) -> None:
    """Items are matched by key across the instrument: one moved to another area keeps its row
    and its answers."""
    item = items.get(spec.key)
    label = f"instrument item {slug}/{spec.key}"
    if item is None:
        item = AssessmentItem(area=area, key=spec.key)
        db.session.add(item)
        items[spec.key] = item
        if report is not None:
            report.created.append(label)
        was_retired = False
    else:
        was_retired = item.is_retired
        if item.scale != spec.scale and _has_answers(item):
            raise InstrumentChangeRefused(
                f"instrument {slug}: item `{spec.key}` has answers on the {item.scale} scale and "
                f"cannot change to {spec.scale}; give the changed item a new key"
            )
    changed = _assign(
        item,
        area=area,
        position=spec.position,
        scale=spec.scale,
        statement=spec.statement,
        levels=list(spec.levels),
        allows_not_relevant=spec.not_relevant,
        alignment=spec.alignment,
        path_slugs=list(spec.paths),
        is_retired=False,
    )
    _note(report, was_retired, changed and item.id is not None, label)


def _has_answers(item: AssessmentItem) -> bool:
    answered = db.select(Answer.id).where(Answer.item_id == item.id).exists()
    tallied = db.select(ItemTally.id).where(ItemTally.item_id == item.id).exists()
    return bool(db.session.scalar(db.select(or_(answered, tallied))))


def _retire(
    spec: InstrumentSpec,
    areas: dict[str, AssessmentArea],
    items: dict[str, AssessmentItem],
    report: SyncReport | None,
) -> None:
    wanted_areas = {area.key for area in spec.areas}
    wanted_items = {item.key for item in spec.items}
    for key, area in areas.items():
        if key not in wanted_areas and not area.is_retired:
            area.is_retired = True
            if report is not None:
                report.retired.append(f"instrument area {spec.slug}/{key}")
    for key, item in items.items():
        if key not in wanted_items and not item.is_retired:
            item.is_retired = True
            if report is not None:
                report.retired.append(f"instrument item {spec.slug}/{key}")
