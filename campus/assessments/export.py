"""CSV of an organisation's aggregates: the same withheld figures as on the page, no more."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import gettext as _

from campus.assessments.aggregates import Comparison
from campus.assessments.aggregates import Figure
from campus.assessments.aggregates import Report
from campus.assessments.forms import STAFF_GROUP_LABELS
from campus.i18n import pick


@dataclass
class Scopes:
    """What the organisation's round is shown next to."""

    previous: Report | None
    region: Comparison | None
    campus: Comparison


def _cells(figure: Figure, top: int) -> list[str]:
    if figure.withheld:
        return ["", _("too few answers"), "", *([""] * top)]
    mean = figure.mean
    return [
        str(figure.n),
        f"{mean:.2f}" if mean is not None else _("too few answers"),
        str(figure.not_relevant),
        *(str(figure.count(value)) for value in range(1, top + 1)),
    ]


def report_csv(report: Report, scopes: Scopes, language: str) -> str:
    top = report.top
    out = io.StringIO()
    writer = csv.writer(out)
    header: Sequence[str] = [
        _("Scope"),
        _("Area"),
        _("Item"),
        _("Staff group"),
        _("People"),
        _("Mean"),
        _("Not relevant"),
        *(str(value) for value in range(1, top + 1)),
    ]
    writer.writerow(header)
    everyone = _("Everyone")
    for area in report.areas:
        rows = [(area.area, None, area.figures, None)] + [
            (area.area, row.item, row.figures, row.item.id) for row in area.items
        ]
        for area_, item, figures, item_id in rows:
            names = [pick(area_.title, language), item.key if item else ""]
            writer.writerow([_("This round"), *names, everyone, *_cells(figures.total, top)])
            for group, figure in figures.groups.items():
                group_name = str(STAFF_GROUP_LABELS[group.value])
                writer.writerow([_("This round"), *names, group_name, *_cells(figure, top)])
            if scopes.previous is not None:
                writer.writerow(
                    [
                        _("Previous round"),
                        *names,
                        everyone,
                        *_cells(_find(scopes.previous, area_.id, item_id), top),
                    ]
                )
            if scopes.region is not None:
                figure = scopes.region.item(item_id) if item_id else scopes.region.area(area_.id)
                writer.writerow([_("Region"), *names, everyone, *_cells(figure, top)])
            figure = scopes.campus.item(item_id) if item_id else scopes.campus.area(area_.id)
            writer.writerow([_("Campus"), *names, everyone, *_cells(figure, top)])
    return out.getvalue()


def _find(report: Report, area_id: int, item_id: int | None) -> Figure:
    for area in report.areas:
        if area.area.id != area_id:
            continue
        if item_id is None:
            return area.figures.total
        for row in area.items:
            if row.item.id == item_id:
                return row.figures.total
    return Figure.hidden()
