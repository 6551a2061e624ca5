"""The circular twelve-month annual clock as server-rendered SVG (no script, no style attributes).

January starts at the top and the year runs clockwise; angles are proportional to days, so the
twelve month sectors are as long as the months. Each action is one link (`<a href>` with an
accessible name and a `<title>`) holding an arc per run shown in the year (a December–January
action has two: the January end of last year's run and this December's start), on the innermost
ring where it overlaps nothing. Arcs are coloured by the run's status.

The root element is `role="group"` (not `role="img"`): an img's children are presentational, so
the links inside would be hidden from screen readers (axe: nested-interactive). It is named by
its `<title>` and `<desc>` through aria-labelledby; the page shows the same runs as a list.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date

from babel.dates import get_month_names
from flask_babel import format_date
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import ngettext
from markupsafe import Markup
from markupsafe import escape

from campus.network.annual import DONE
from campus.network.annual import IN_PROGRESS
from campus.network.annual import NOT_DONE
from campus.network.annual import UPCOMING
from campus.network.annual import Run
from campus.network.clock_models import ClockAction

SIZE = 480
CENTRE = SIZE / 2
OUTER = 196  # the dial's outer radius
INNER = 64  # the hub
LABEL = 216  # month names
RING_MAX = 22

COLOURS = {
    DONE: "#2e6b3a",
    NOT_DONE: "#b3261e",
    IN_PROGRESS: "#0b5fa5",
    UPCOMING: "#6b7783",
}


def status_label(status: str) -> str:
    return {
        DONE: _("done"),
        NOT_DONE: _("not done"),
        IN_PROGRESS: _("in progress"),
        UPCOMING: _("upcoming"),
    }.get(status, _("not due"))


def month_names() -> list[str]:
    """The months in the current language (stand-alone forms: "tammikuu", not "tammikuuta")."""
    locale = get_locale() or "en"
    names = get_month_names("wide", "stand-alone", locale=locale)
    return [names[month].capitalize() for month in range(1, 13)]


def short_month_names() -> list[str]:
    locale = get_locale() or "en"
    names = get_month_names("abbreviated", "stand-alone", locale=locale)
    return [names[month].capitalize() for month in range(1, 13)]


def _days(year: int) -> int:
    return (date(year + 1, 1, 1) - date(year, 1, 1)).days


def _angle(year: int, day_index: float) -> float:
    """Radians from 12 o'clock, clockwise, for a day offset into the year."""
    return 2 * math.pi * day_index / _days(year)


def _point(radius: float, angle: float) -> tuple[float, float]:
    return (CENTRE + radius * math.sin(angle), CENTRE - radius * math.cos(angle))


def _fmt(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _arc(radius: float, start: float, end: float) -> str:
    end = min(end, start + 2 * math.pi - 0.002)  # a full circle cannot be one arc
    end = max(end, start + 0.03)  # one day stays visible
    x1, y1 = _point(radius, start)
    x2, y2 = _point(radius, end)
    large = 1 if end - start > math.pi else 0
    r = _fmt(radius)
    return f"M{_fmt(x1)} {_fmt(y1)} A{r} {r} 0 {large} 1 {_fmt(x2)} {_fmt(y2)}"


def _sector(start: float, end: float) -> str:
    a1, b1 = _point(OUTER, start)
    a2, b2 = _point(OUTER, end)
    c2, d2 = _point(INNER, end)
    c1, d1 = _point(INNER, start)
    o, i = _fmt(OUTER), _fmt(INNER)
    return (
        f"M{_fmt(a1)} {_fmt(b1)} A{o} {o} 0 0 1 {_fmt(a2)} {_fmt(b2)} "
        f"L{_fmt(c2)} {_fmt(d2)} A{i} {i} 0 0 0 {_fmt(c1)} {_fmt(d1)} Z"
    )


def _pieces(run: Run, year: int) -> tuple[int, int]:
    """The run's days inside `year` as (first index, index after the last)."""
    first = max(run.start, date(year, 1, 1))
    last = min(run.end, date(year, 12, 31))
    jan1 = date(year, 1, 1)
    return (first - jan1).days, (last - jan1).days + 1


def _rings(by_action: dict[int, list[Run]], year: int) -> dict[int, int]:
    """The ring (0 outermost) of each action: the first one where it overlaps nothing."""
    taken: list[list[tuple[int, int]]] = []
    placed: dict[int, int] = {}
    for action_id, runs in by_action.items():
        spans = [_pieces(run, year) for run in runs]
        for index, ring in enumerate(taken):
            if all(b <= c or d <= a for a, b in spans for c, d in ring):
                ring.extend(spans)
                placed[action_id] = index
                break
        else:
            taken.append(list(spans))
            placed[action_id] = len(taken) - 1
    return placed


def clock_svg(
    runs: list[Run],
    year: int,
    today: date,
    *,
    title: str,
    action_url: Callable[[ClockAction], str],
    status_of: Callable[[Run], str],
    chart_id: str = "clock",
) -> Markup:
    """The clock of `year` for the runs of runs_in_view (already sorted by start)."""
    names = short_month_names()
    by_action: dict[int, list[Run]] = {}
    for run in runs:
        by_action.setdefault(run.action.id, []).append(run)
    rings = _rings(by_action, year)
    count = max(rings.values(), default=0) + 1
    step = min(RING_MAX, (OUTER - INNER - 12) / count)
    width = step * 0.72

    desc = ngettext(
        "A twelve-month circle for %(year)s starting from January at the top and running "
        "clockwise; %(num)d action is an arc over its dates, coloured by status. "
        "The same action is listed by month below.",
        "A twelve-month circle for %(year)s starting from January at the top and running "
        "clockwise; %(num)d actions are arcs over their dates, coloured by status. "
        "The same actions are listed by month below.",
        len(by_action),
        year=year,
    )
    if today.year == year:
        desc += " " + _("Today is %(date)s.", date=format_date(today, "long"))
    out: list[str] = [
        f'<svg class="clock" role="group" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'viewBox="0 0 {SIZE} {SIZE}" width="100%" xmlns="http://www.w3.org/2000/svg" '
        'font-family="system-ui, sans-serif" font-size="13">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
        '<g aria-hidden="true">',
    ]
    jan1 = date(year, 1, 1)
    for month in range(1, 13):
        start = _angle(year, (date(year, month, 1) - jan1).days)
        next_first = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
        end = _angle(year, (next_first - jan1).days)
        fill = "#f4f6f8" if month % 2 else "#e6ebf0"
        out.append(
            f'<path class="clock-month" d="{_sector(start, end)}" fill="{fill}" '
            'stroke="#c9d1d9" stroke-width="1"/>'
        )
        x, y = _point(LABEL, (start + end) / 2)
        out.append(
            f'<text class="clock-month-name" x="{_fmt(x)}" y="{_fmt(y)}" text-anchor="middle" '
            f'dominant-baseline="middle" fill="#1b1f24">{escape(names[month - 1])}</text>'
        )
    out.append(
        f'<text x="{CENTRE}" y="{CENTRE}" text-anchor="middle" dominant-baseline="middle" '
        f'font-size="22" font-weight="600" fill="#1b1f24">{year}</text>'
    )
    out.append("</g>")

    for action_id, action_runs in by_action.items():
        action = action_runs[0].action
        radius = OUTER - 6 - step * (rings[action_id] + 0.5)  # ring 0 outermost
        parts = [
            _(
                "%(start)s – %(end)s (%(status)s)",
                start=format_date(run.start, "medium"),
                end=format_date(run.end, "medium"),
                status=status_label(status_of(run)),
            )
            for run in action_runs
        ]
        name = f"{action.title}: {'; '.join(parts)}"
        out.append(
            f'<a class="clock-action" href="{escape(action_url(action))}" '
            f'aria-label="{escape(name)}"><title>{escape(name)}</title>'
        )
        for run in action_runs:
            first, after = _pieces(run, year)
            state = status_of(run)
            out.append(
                f'<path class="clock-arc clock-{state}" '
                f'd="{_arc(radius, _angle(year, first), _angle(year, after))}" fill="none" '
                f'stroke="{COLOURS.get(state, "#6b7783")}" stroke-width="{_fmt(width)}"/>'
            )
        out.append("</a>")

    if today.year == year:
        angle = _angle(year, (today - jan1).days + 0.5)
        x1, y1 = _point(INNER - 10, angle)
        x2, y2 = _point(OUTER + 6, angle)
        out.append(
            f'<line class="clock-today" aria-hidden="true" x1="{_fmt(x1)}" y1="{_fmt(y1)}" '
            f'x2="{_fmt(x2)}" y2="{_fmt(y2)}" stroke="#1b1f24" stroke-width="2.5"/>'
        )
    out.append("</svg>")
    return Markup("".join(out))
