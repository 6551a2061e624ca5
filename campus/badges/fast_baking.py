"""Baking a signed badge (a compact JWS) into PNG and SVG artwork at award speed.

openbadges_bakery decodes and re-encodes every PNG chunk in pure Python and parses the SVG into
a DOM for each award; a bulk award of 10,000 badges spent most of its time there. The output
here is byte for byte what the library writes (tests compare), made without either:

- PNG: the same chunks, the `openbadges` iTXt chunk right after IHDR (any earlier one dropped),
  written with struct and zlib's CRC-32;
- SVG: the library bakes a placeholder JWS into each artwork once (kept per process); each award
  then puts its JWS where the placeholder stands (an attribute and a CDATA section, neither of
  which a JWS's characters need escaping in).
"""

from __future__ import annotations

import io
import re
import struct
import zlib
from functools import lru_cache

import openbadges_bakery

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
BADGE_KEYWORD = b"openbadges\x00"
ITXT_HEADER = b"openbadges\x00\x00\x00\x00\x00"  # keyword, no compression, no language or tag
JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
# JWS-shaped (the library embeds it as the `verify` attribute too), never in any artwork.
PLACEHOLDER = "campusBakingPlaceholder0.campusBakingPlaceholder1.campusBakingPlaceholder2"


class NotBakeable(ValueError):
    """Not an image (or payload) this module bakes: use the library."""


def png_chunks(image: bytes) -> list[tuple[bytes, bytes]]:
    """(type, data) of every chunk up to IEND, each CRC checked (as the library's reader does)."""
    if not image.startswith(PNG_SIGNATURE):
        raise NotBakeable("not a PNG")
    chunks = []
    position = len(PNG_SIGNATURE)
    while True:
        if position + 8 > len(image):
            raise NotBakeable("PNG ends without IEND")
        length, kind = struct.unpack_from(">I4s", image, position)
        start = position + 8
        end = start + length
        if end + 4 > len(image):
            raise NotBakeable("PNG chunk runs past the end")
        data = image[start:end]
        (crc,) = struct.unpack_from(">I", image, end)
        if zlib.crc32(data, zlib.crc32(kind)) != crc:
            raise NotBakeable("PNG chunk checksum")
        chunks.append((kind, data))
        position = end + 4
        if kind == b"IEND":
            return chunks


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I4s", len(data), kind)
        + data
        + struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)))
    )


def bake_png(image: bytes, payload: str) -> bytes:
    """`image` with `payload` in an `openbadges` iTXt chunk right after IHDR."""
    chunks = png_chunks(image)
    if chunks[0][0] != b"IHDR":
        raise NotBakeable("PNG without IHDR first")
    kept = [_chunk(kind, data) for kind, data in chunks[1:] if not data.startswith(BADGE_KEYWORD)]
    badge = _chunk(b"iTXt", ITXT_HEADER + payload.encode("utf-8"))
    return b"".join([PNG_SIGNATURE, _chunk(*chunks[0]), badge, *kept])


def png_payload(image: bytes) -> str | None:
    """The `openbadges` iTXt text of a PNG this module (or the library) baked."""
    for kind, data in png_chunks(image):
        if kind == b"iTXt" and data.startswith(BADGE_KEYWORD):
            return re.sub(b"openbadges[\x00]+", b"", data).decode("utf-8")
    return None


@lru_cache(maxsize=64)
def _svg_template(image: bytes) -> tuple[bytes, bytes]:
    """The artwork baked once with PLACEHOLDER by the library, split where it stands twice."""
    baked = openbadges_bakery.bake(io.BytesIO(image), PLACEHOLDER, io.BytesIO()).getvalue()
    marker = PLACEHOLDER.encode("ascii")
    if image.count(marker) or baked.count(marker) != 2:
        raise NotBakeable("the placeholder does not stand where the JWS goes")
    return baked, marker


def bake_svg(image: bytes, payload: str) -> bytes:
    """`image` with the JWS `payload` baked as the library does it."""
    if not JWS.fullmatch(payload):
        raise NotBakeable("only a compact JWS goes in by replacement")
    baked, marker = _svg_template(image)
    return baked.replace(marker, payload.encode("ascii"))
