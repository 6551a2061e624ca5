"""Badge artwork: drawn by the campus, per language, when a badge brings none.

A drawn badge is a hexagon in the badge colour with a white ring and a short label (the
badge.toml `label`, else its name) in large type, wrapped to at most three lines so it stays
readable at 120 px. The canonical (Finnish) SVG and PNG are stored with the badge class; the
SVG carries the drawing's recipe in `<metadata>` so that every other language edition can be
drawn from the database alone (see `edition`). Artwork a badge brings itself (image.png or
image.svg) has no recipe and is the same in every language.
"""

from __future__ import annotations

import base64
import functools
import html
import io
import json
import math
import re
from collections.abc import Mapping
from typing import Any

from PIL import Image
from PIL import ImageDraw
from PIL import ImageFont

from campus.config import DEFAULT_LOCALE
from campus.config import LANGUAGES

SIZE = 400
# Part of each drawn badge's content hash: raise it when drawing changes, so sync redraws them.
DRAWING_VERSION = 3
DEFAULT_COLOUR = "#0b5fa5"
# Fonts with Finnish and Swedish letters (å ä ö) and dashes; Debian's fonts-dejavu-core is the
# first choice (condensed: long Finnish words fit in large type). Pillow's built-in font lacks
# those glyphs, so it is only the last resort.
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSansNarrow-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
    "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
)
SVG_FONTS = "'DejaVu Sans Condensed','DejaVu Sans','Arial Narrow',Arial,sans-serif"
# The label's widest line (inside the ring); three lines at most, from 64 px type down.
TEXT_WIDTH = 290
RING = 182  # the white ring's radius (the hexagon's is 196)
MAX_LINES = 3
FONT_SIZES = (64, 60, 56, 52, 48, 44, 40, 36, 32, 28, 24)
LINE_SPACING = 1.12
COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
RECIPE = re.compile(rb'<metadata id="campus-artwork">(.*?)</metadata>', re.DOTALL)


@functools.lru_cache(maxsize=32)
def badge_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for candidate in FONT_CANDIDATES:
        try:
            return ImageFont.truetype(candidate, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


def _width(text: str, size: int) -> float:
    return badge_font(size).getlength(text)


def _wrap(label: str, size: int) -> list[str]:
    """Greedy wrapping of the words into lines no wider than TEXT_WIDTH (a "\\n" forces one)."""
    lines: list[str] = []
    for part in label.splitlines():
        line = ""
        for word in part.split():
            candidate = f"{line} {word}".strip()
            if line and _width(candidate, size) > TEXT_WIDTH:
                lines.append(line)
                line = word
            else:
                line = candidate
        if line:
            lines.append(line)
    return lines


def _room(y: float) -> float:
    """Half the width free for text at height y: inside the ring, less a margin."""
    inner = RING * math.sqrt(3) / 2 - 3 - 8  # the ring's vertical sides, stroke and margin
    half = RING / 2  # the vertical sides run from the middle up and down this far
    if y < SIZE / 2 - half:
        return max(0.0, inner * (y - (SIZE / 2 - RING)) / half)
    if y > SIZE / 2 + half:
        return max(0.0, inner * ((SIZE / 2 + RING) - y) / half)
    return inner


def _fits(lines: list[str], size: int) -> bool:
    for line, baseline in zip(lines, _baselines(size, len(lines)), strict=True):
        room = 2 * min(_room(baseline - 0.76 * size), _room(baseline + 0.22 * size))
        if _width(line, size) > room:
            return False
    return True


def layout(label: str) -> tuple[int, list[str]]:
    """The largest type in which the label fits the hexagon: (font size, lines)."""
    for size in FONT_SIZES:
        lines = _wrap(label, size)
        if len(lines) <= MAX_LINES and _fits(lines, size):
            return size, lines
    size = FONT_SIZES[-1]
    return size, _wrap(label, size)[:MAX_LINES]


def _hexagon(centre: float, radius: float) -> list[tuple[float, float]]:
    return [
        (
            centre + radius * math.cos(math.radians(60 * i - 90)),
            centre + radius * math.sin(math.radians(60 * i - 90)),
        )
        for i in range(6)
    ]


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _baselines(size: int, count: int) -> list[float]:
    """Baselines of `count` lines of `size` px type, centred a little below the middle."""
    step = size * LINE_SPACING
    first = SIZE / 2 + 12 - step * (count - 1) / 2 + size * 0.36
    return [first + step * index for index in range(count)]


def _star(cx: float, cy: float, outer: float) -> list[tuple[float, float]]:
    points = []
    for i in range(10):
        radius = outer if i % 2 == 0 else outer * 0.45
        angle = math.radians(36 * i - 90)
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    return points


def draw_png(label: str, colour: str | None = None) -> bytes:
    """A 400×400 PNG badge: coloured hexagon, white ring and star, the label in white."""
    colour = colour or DEFAULT_COLOUR
    image = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    centre = SIZE / 2
    draw.polygon(_hexagon(centre, 196), fill=_rgb(colour))
    draw.polygon(_hexagon(centre, RING + 3), outline=(255, 255, 255), width=6)
    draw.polygon(_star(centre, 62, 20), fill=(255, 255, 255))
    size, lines = layout(label)
    font = badge_font(size)
    for line, baseline in zip(lines, _baselines(size, len(lines)), strict=True):
        draw.text((centre, baseline), line, font=font, fill=(255, 255, 255), anchor="ms")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _points(points: list[tuple[float, float]]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in points)


def draw_svg(label: str, colour: str | None, title: str, language: str, recipe: str = "") -> bytes:
    """The same drawing as SVG: real text (searchable, sharp at any size) in `language`."""
    colour = colour or DEFAULT_COLOUR
    size, lines = layout(label)
    texts = "".join(
        f'<text x="200" y="{baseline:.1f}" textLength="{_width(line, size):.1f}" '
        f'lengthAdjust="spacingAndGlyphs">{html.escape(line)}</text>'
        for line, baseline in zip(lines, _baselines(size, len(lines)), strict=True)
    )
    metadata = f'<metadata id="campus-artwork">{html.escape(recipe)}</metadata>' if recipe else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{SIZE}" height="{SIZE}" '
        f'viewBox="0 0 {SIZE} {SIZE}" role="img" lang="{html.escape(language)}">'
        f"<title>{html.escape(title)}</title>{metadata}"
        f'<polygon points="{_points(_hexagon(200, 196))}" fill="{colour}"/>'
        f'<polygon points="{_points(_hexagon(200, RING))}" fill="none" stroke="#fff" '
        f'stroke-width="6"/><polygon points="{_points(_star(200, 62, 20))}" fill="#fff"/>'
        f'<g fill="#fff" font-family="{SVG_FONTS}" font-weight="bold" font-size="{size}" '
        f'text-anchor="middle">{texts}</g></svg>'
    ).encode()


def recipe(labels: Mapping[str, str], titles: Mapping[str, str], colour: str | None) -> str:
    """What it takes to draw every language edition again (stored inside the canonical SVG)."""
    return json.dumps(
        {
            "version": DRAWING_VERSION,
            "colour": colour or DEFAULT_COLOUR,
            "labels": dict(labels),
            "titles": dict(titles),
        },
        ensure_ascii=False,
        sort_keys=True,
    )


def _text(texts: Mapping[str, str], language: str) -> str:
    from campus.i18n import FALLBACK_ORDER  # the one fallback order (fi, sv, en)

    for candidate in FALLBACK_ORDER.get(language, LANGUAGES):
        if texts.get(candidate):
            return texts[candidate]
    return next(iter(texts.values()), "")


def drawn_editions(
    labels: Mapping[str, str], titles: Mapping[str, str], colour: str | None
) -> tuple[bytes, bytes]:
    """The canonical (Finnish) PNG and SVG of a drawn badge, the SVG holding the recipe."""
    plan = recipe(labels, titles, colour)
    return _draw(plan, DEFAULT_LOCALE, "png"), _draw(plan, DEFAULT_LOCALE, "svg", with_recipe=True)


@functools.lru_cache(maxsize=256)
def _draw(plan: str, language: str, fmt: str, with_recipe: bool = False) -> bytes:
    data: dict[str, Any] = json.loads(plan)
    label = _text(data["labels"], language)
    if fmt == "png":
        return draw_png(label, data["colour"])
    title = _text(data["titles"], language)
    return draw_svg(label, data["colour"], title, language, plan if with_recipe else "")


def recipe_of(svg: bytes | None) -> str | None:
    """The drawing recipe inside a stored SVG, or None for artwork the badge brought itself."""
    found = RECIPE.search(svg[:4096]) if svg else None
    if found is None:
        return None
    plan = html.unescape(found.group(1).decode("utf-8", errors="replace"))
    try:
        data = json.loads(plan)
    except ValueError:
        return None
    valid = isinstance(data, dict) and all(
        isinstance(data.get(key), dict) for key in ("labels", "titles")
    )
    colour = data.get("colour") if valid else None
    return plan if isinstance(colour, str) and COLOUR.match(colour) else None


def edition(image_png: bytes, image_svg: bytes, language: str, fmt: str) -> bytes:
    """A stored badge's artwork in `language` ("png" or "svg").

    Drawn badges are drawn again in that language (cached); a badge's own artwork and the
    canonical language come back as stored.
    """
    plan = recipe_of(image_svg)
    if plan is None or language == DEFAULT_LOCALE or language not in LANGUAGES:
        return image_png if fmt == "png" else image_svg
    return _draw(plan, language, fmt, with_recipe=fmt == "svg")


def svg_from_png(png: bytes, title: str) -> bytes:
    """An SVG that shows the PNG: lets a PNG-only badge be baked as SVG too."""
    encoded = base64.b64encode(png).decode("ascii")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'width="{SIZE}" height="{SIZE}" viewBox="0 0 {SIZE} {SIZE}" role="img">'
        f"<title>{html.escape(title)}</title>"
        f'<image width="{SIZE}" height="{SIZE}" xlink:href="data:image/png;base64,{encoded}"/>'
        f"</svg>"
    ).encode()


def own_editions(
    image_type: str, image: bytes, title: str, colour: str | None
) -> tuple[bytes, bytes]:
    """The PNG and SVG of artwork a badge brings itself (we do not rasterise SVG)."""
    if image_type == "png":
        return image, svg_from_png(image, title)
    return draw_png(title, colour), image
