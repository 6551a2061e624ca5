"""The baked badge download (`/badges/a/<uuid>/badge.png|svg`), kept by each process.

Backpacks import the same baked file again and again. Its bytes depend on the award's signed
edition (rewritten only by a key rotation, which changes `signing_key_id`), its revocation and
the language asked for: those two columns, read by the uuid's index with every request, name
what this process keeps (campus.badges.document_cache). A revoked badge is a 410 at once.
"""

from __future__ import annotations

from flask import Response
from flask import abort

from campus.badges import document_cache
from campus.badges.baking import baked_edition
from campus.badges.document_cache import Rendered
from campus.badges.document_cache import serve
from campus.badges.revocation import find_assertion_with_image

MIMETYPES = {"png": "image/png", "svg": "image/svg+xml"}
# An SVG opened directly must not run anything.
IMAGE_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def baked_download(assertion_uuid: str, extension: str, language: str) -> Response:
    """The award baked into its artwork in `language`; 404 unknown, 410 revoked."""
    if extension not in MIMETYPES:
        abort(404)
    rows = document_cache.read(
        "SELECT revoked_at, signing_key_id FROM assertion WHERE uuid = ?", (assertion_uuid,)
    )
    if not rows:
        abort(404)
    revoked_at, signing_key_id = rows[0]
    if revoked_at is not None:
        abort(410)  # a revoked badge is not handed out again
    key = ("baked", assertion_uuid, extension, language, signing_key_id)
    return serve(
        document_cache.cached(
            key, lambda: _render(assertion_uuid, extension, language), images=True
        )
    )


def _render(assertion_uuid: str, extension: str, language: str) -> Rendered:
    assertion = find_assertion_with_image(assertion_uuid, extension)  # not the other ~50 KB
    if assertion is None:
        abort(404)
    data = baked_edition(assertion, language, extension)
    filename = f"{assertion.badge_class.slug}-{assertion.uuid[:8]}.{extension}"
    response = Response(
        data,
        mimetype=MIMETYPES[extension],
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Access-Control-Allow-Origin": "*",  # web backpacks import the baked file
            "Content-Security-Policy": IMAGE_POLICY,
        },
    )
    return Rendered.of(response, assertion.issued_at)
