"""Bake an OB 3.0 credential into PNG and SVG images, and read it back (OB 3.0, "Baked Badge").

PNG: one uncompressed `iTXt` chunk with the keyword `openbadgecredential` whose text is the JSON
credential (embedded proof) or the compact JWS (VC-JWT). SVG: an `<openbadges:credential>`
element right after `<svg>`, in xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0", holding
the JSON in CDATA or the JWS in its `verify` attribute. openbadges-bakery only knows the 2.0
keyword and namespace, so this is plain Python: chunks by hand, SVG through defusedxml.
"""

from __future__ import annotations

import json
import re
import struct
import zlib
from typing import Any
from xml.dom.minidom import Element

from defusedxml.minidom import parseString

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
KEYWORD = b"openbadgecredential"
NAMESPACE = "https://purl.imsglobal.org/ob/v3p0"
TAG = "openbadges:credential"
# A compact JWS: three base64url parts (the payload and signature never empty for VC-JWT).
COMPACT_JWS = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")
MAX_TEXT = 1024 * 1024  # far above any credential: a larger chunk is not ours


class BakingError(Exception):
    """The image cannot carry the credential (not a PNG or SVG, or already bound elsewhere)."""


def bake_credential(image: bytes, fmt: str, credential: dict[str, Any] | str) -> bytes:
    """`image` ("png" or "svg") carrying `credential`: a signed JSON credential or a VC-JWT.

    A credential already in the image is replaced (the spec lets the baker overwrite it).
    """
    text = credential if isinstance(credential, str) else _json(credential)
    if fmt == "png":
        baked = _bake_png(image, text)
    elif fmt == "svg":
        baked = _bake_svg(image, credential)
    else:
        raise BakingError(f"cannot bake into {fmt!r}")
    if unbake_credential(baked) != credential:
        raise BakingError("the baked image does not give the credential back")
    return baked


def unbake_credential(image: bytes) -> dict[str, Any] | str | None:
    """The OB 3.0 credential in `image`: a dict (JSON with its proof) or a compact JWS string.

    None for anything else (no credential, a 2.0 badge, a broken or hostile file): never raises.
    """
    try:
        if image.startswith(PNG_SIGNATURE):
            text = _png_text(image)
        elif _looks_like_svg(image):
            text = _svg_text(image)
        else:
            return None
    except Exception:  # noqa: BLE001 - any malformed upload is simply "no credential inside"
        return None
    return _credential_from(text) if text is not None else None


def _json(credential: dict[str, Any]) -> str:
    return json.dumps(credential, ensure_ascii=False, separators=(",", ":"))


def _credential_from(text: str) -> dict[str, Any] | str | None:
    text = text.strip()
    if COMPACT_JWS.match(text):
        return text
    if not text.startswith("{"):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


# --- PNG -----------------------------------------------------------------------------------


def _chunks(image: bytes) -> list[tuple[bytes, bytes]]:
    """(type, data) of every chunk up to IEND; ValueError when the stream is cut or corrupt."""
    if not image.startswith(PNG_SIGNATURE):
        raise BakingError("not a PNG image")
    chunks: list[tuple[bytes, bytes]] = []
    offset = len(PNG_SIGNATURE)
    while offset + 12 <= len(image):
        (length,) = struct.unpack(">I", image[offset : offset + 4])
        kind = image[offset + 4 : offset + 8]
        end = offset + 12 + length
        if end > len(image):
            raise ValueError("truncated PNG chunk")
        data = image[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", image[end - 4 : end])
        if zlib.crc32(kind + data) != crc:
            raise ValueError("PNG chunk with a bad CRC")
        chunks.append((kind, data))
        offset = end
        if kind == b"IEND":
            return chunks
    raise ValueError("PNG without IEND")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _itxt_keyword(data: bytes) -> bytes:
    return data.split(b"\0", 1)[0]


def _bake_png(image: bytes, text: str) -> bytes:
    try:
        chunks = _chunks(image)
    except ValueError as error:
        raise BakingError(str(error)) from error
    if not chunks or chunks[0][0] != b"IHDR":
        raise BakingError("PNG without IHDR")
    # keyword, NUL, compression flag 0, method 0, empty language tag NUL, empty translated NUL
    itxt = KEYWORD + b"\0\0\0\0\0" + text.encode("utf-8")
    kept = [c for c in chunks if not (c[0] == b"iTXt" and _itxt_keyword(c[1]) == KEYWORD)]
    # Right after IHDR: readers stop at the first openbadgecredential chunk, the sooner the better.
    ordered = [kept[0], (b"iTXt", itxt), *kept[1:]]
    return PNG_SIGNATURE + b"".join(_chunk(kind, data) for kind, data in ordered)


def _png_text(image: bytes) -> str | None:
    for kind, data in _chunks(image):
        if kind != b"iTXt" or _itxt_keyword(data) != KEYWORD:
            continue
        rest = data[len(KEYWORD) + 1 :]
        if len(rest) < 2 or rest[0] != 0:
            return None  # compressed: the spec forbids it, so it is not a credential we read
        language, _sep, rest = rest[2:].partition(b"\0")
        _translated, _sep, text = rest.partition(b"\0")
        if len(text) > MAX_TEXT:
            return None
        return text.decode("utf-8")
    return None


# --- SVG -----------------------------------------------------------------------------------


def _looks_like_svg(image: bytes) -> bool:
    head = image[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"<") and b"<svg" in image[:65536]


def _svg_root(image: bytes) -> tuple[Any, Element]:
    try:
        document = parseString(image)
    except Exception as error:  # noqa: BLE001 - defusedxml and expat raise many kinds
        raise BakingError("not a well-formed SVG image") from error
    root = document.documentElement
    if root is None or root.localName != "svg":
        raise BakingError("not an SVG image")
    return document, root


def _credential_elements(root: Element) -> list[Element]:
    return [
        node
        for node in root.getElementsByTagNameNS(NAMESPACE, "credential")
        if isinstance(node, Element)
    ]


def _bake_svg(image: bytes, credential: dict[str, Any] | str) -> bytes:
    document, root = _svg_root(image)
    bound = root.getAttribute("xmlns:openbadges")
    if bound and bound != NAMESPACE:
        raise BakingError("the SVG already binds the openbadges prefix to another namespace")
    for old in _credential_elements(root):
        old.parentNode.removeChild(old)
    root.setAttribute("xmlns:openbadges", NAMESPACE)
    element = document.createElementNS(NAMESPACE, TAG)
    if isinstance(credential, str):
        element.setAttribute("verify", credential)
    else:
        # "]]>" can only occur inside a JSON string, where "\u003e" means the same ">".
        element.appendChild(
            document.createCDATASection(_json(credential).replace("]]>", "]]\\u003e"))
        )
    root.insertBefore(element, root.firstChild)
    return document.toxml("utf-8")


def _svg_text(image: bytes) -> str | None:
    _document, root = _svg_root(image)
    elements = _credential_elements(root)
    if not elements:
        return None
    element = elements[0]
    verify = element.getAttribute("verify")
    if verify:
        return verify
    text = "".join(
        child.data for child in element.childNodes if child.nodeType in (3, 4)
    )  # TEXT_NODE, CDATA_SECTION_NODE
    return text if len(text) <= MAX_TEXT else None
