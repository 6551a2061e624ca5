"""Bake a signed assertion (the JWS) into PNG and SVG images, and read it back."""

from __future__ import annotations

import io
from typing import Any

import openbadges_bakery

from campus.badges import artwork
from campus.badges import fast_baking
from campus.config import DEFAULT_LOCALE


class BakingError(Exception):
    """The image could not carry the assertion."""


def bake(image: bytes, payload: str) -> bytes:
    """Return `image` with `payload` embedded (PNG iTXt chunk or SVG element).

    A JWS goes in by campus.badges.fast_baking (the library's output, without decoding the
    image each time) and is read back from the result; anything else by the library.
    """
    try:
        if image.startswith(fast_baking.PNG_SIGNATURE):
            baked = fast_baking.bake_png(image, payload)
            if fast_baking.png_payload(baked) != payload:
                raise BakingError("the baked image does not give the assertion back")
            return baked
        if fast_baking.JWS.fullmatch(payload) and b"<svg" in image[:256]:
            baked = fast_baking.bake_svg(image, payload)
            if baked.count(payload.encode("ascii")) != 2:
                raise BakingError("the baked image does not give the assertion back")
            return baked
    except fast_baking.NotBakeable:
        pass  # the library decides (and says what is wrong)
    return _bake_with_library(image, payload)


def _bake_with_library(image: bytes, payload: str) -> bytes:
    source = io.BytesIO(image)  # the library closes SVG input files: give it a throwaway
    if openbadges_bakery.check_image_type(io.BytesIO(image)) is None:
        raise BakingError("not a PNG or SVG image")
    output = openbadges_bakery.bake(source, payload, io.BytesIO())
    baked = output.getvalue()
    if unbake(baked) != payload:
        raise BakingError("the baked image does not give the assertion back")
    return baked


def unbake(image: bytes) -> str | None:
    """The embedded assertion (JWS or URL), or None when the image carries none."""
    try:
        payload = openbadges_bakery.unbake(io.BytesIO(image))
    except Exception:  # noqa: BLE001 - any malformed upload is simply "no badge inside"
        return None
    if isinstance(payload, bytes):
        payload = payload.decode("utf-8", errors="replace")
    return payload.strip() if payload else None


def baked_edition(assertion: Any, language: str, fmt: str) -> bytes:
    """An award's download in `language` ("png" or "svg"): the stored baked image in the
    original language, else the badge's artwork in that language baked with the same JWS."""
    stored = assertion.baked_png if fmt == "png" else assertion.baked_svg
    badge = assertion.badge_class
    if language == DEFAULT_LOCALE or artwork.recipe_of(badge.image_svg) is None:
        return stored
    return bake(artwork.edition(badge.image_png, badge.image_svg, language, fmt), assertion.jws)
