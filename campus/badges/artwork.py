"""Badge artwork: drawn by the campus when a badge brings none, and SVG wrappers for baking.

PNG is drawn with Pillow (a hexagon in the badge colour, the name wrapped inside); the SVG
edition of any PNG embeds it, so every badge can be baked both ways.
"""

from __future__ import annotations

import base64
import io
import math
import textwrap
from html import escape

from PIL import Image
from PIL import ImageDraw
from PIL import ImageFont

SIZE = 400
# Part of each drawn badge's content hash: raise it when drawing changes, so sync redraws them.
DRAWING_VERSION = 2
DEFAULT_COLOUR = "#0b5fa5"
# Fonts with Finnish and Swedish letters (å ä ö) and dashes; Debian's fonts-dejavu-core is the
# first choice. Pillow's built-in font lacks those glyphs, so it is only the last resort.
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
    "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf",
)


def badge_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for candidate in FONT_CANDIDATES:
        try:
            return ImageFont.truetype(candidate, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


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


def draw_png(title: str, colour: str | None = None, subtitle: str = "") -> bytes:
    """A 400×400 PNG badge: coloured hexagon, white ring, the title in white."""
    colour = colour or DEFAULT_COLOUR
    image = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    centre = SIZE / 2
    draw.polygon(_hexagon(centre, 196), fill=_rgb(colour))
    draw.polygon(_hexagon(centre, 176), outline=(255, 255, 255), width=6)
    lines = textwrap.wrap(title, width=15)[:5]
    font = badge_font(28 if len(lines) <= 3 else 22)
    small = badge_font(18)
    line_height = (font.getbbox("Åg")[3] - font.getbbox("Åg")[1]) + 8
    total = line_height * len(lines) + (30 if subtitle else 0)
    y = centre - total / 2
    for line in lines:
        width = draw.textlength(line, font=font)
        draw.text((centre - width / 2, y), line, font=font, fill=(255, 255, 255))
        y += line_height
    if subtitle:
        width = draw.textlength(subtitle, font=small)
        draw.text((centre - width / 2, y + 10), subtitle, font=small, fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def svg_from_png(png: bytes, title: str) -> bytes:
    """An SVG that shows the PNG: lets a PNG-only badge be baked as SVG too."""
    encoded = base64.b64encode(png).decode("ascii")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'width="{SIZE}" height="{SIZE}" viewBox="0 0 {SIZE} {SIZE}" role="img">'
        f"<title>{escape(title)}</title>"
        f'<image width="{SIZE}" height="{SIZE}" xlink:href="data:image/png;base64,{encoded}"/>'
        f"</svg>"
    ).encode()


def png_from_svg_or_draw(
    image_type: str | None, image: bytes | None, title: str, colour: str | None
) -> bytes:
    """The PNG edition of a badge: its own PNG, or a drawn one (we do not rasterise SVG)."""
    if image_type == "png" and image:
        return image
    return draw_png(title, colour)


def svg_edition(
    image_type: str | None, image: bytes | None, title: str, colour: str | None
) -> bytes:
    """The SVG edition of a badge: its own SVG, or its PNG wrapped."""
    if image_type == "svg" and image:
        return image
    return svg_from_png(png_from_svg_or_draw(image_type, image, title, colour), title)
