"""/ob: the Open Badges 2.0 documents that verifiers and backpacks fetch."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask import abort
from flask import current_app
from flask import has_request_context
from flask import redirect
from flask import request
from flask import url_for
from sqlalchemy.orm import defer

from campus.badges import artwork
from campus.badges import document_cache
from campus.badges import ob2
from campus.badges.document_cache import Rendered
from campus.badges.document_cache import cached
from campus.badges.document_cache import revisions
from campus.badges.document_cache import serve
from campus.badges.http_cache import conditional
from campus.badges.issuers import CAMPUS_ISSUER
from campus.badges.issuers import IssuingContext
from campus.badges.models import Assertion
from campus.badges.models import BadgeClass
from campus.badges.models import Issuer
from campus.badges.models import SigningKey
from campus.badges.revocation import find_assertion_without_images
from campus.badges.revocation import revocation_list
from campus.badges.signing import ALGORITHM
from campus.badges.signing import active_key
from campus.badges.web import badge_or_404
from campus.badges.web import issuing_context
from campus.badges.web import json_ld
from campus.badges.web import ob_bp
from campus.config import DEFAULT_LOCALE
from campus.extensions import db
from campus.i18n import current_language
from campus.routing import external_url

IMAGE_TYPES = {"png": "image/png", "svg": "image/svg+xml"}


def _urls() -> ob2.Urls:
    """The public addresses (what issuing_context() gives, without reading the rest)."""
    return ob2.Urls(str(current_app.config["BASE_URL"]).rstrip("/"))


def _issuer_or_404(slug: str) -> Issuer:
    found = db.session.execute(db.select(Issuer).where(Issuer.slug == slug)).scalar_one_or_none()
    if found is None:
        abort(404)
    return found


@ob_bp.get("/issuers/<slug>")
def issuer(slug: str):
    """The issuer profile; `?lang=sv|en` is its version in that language (an id of its own)."""
    language = request.args.get("lang")
    context = issuing_context()
    key = ("issuer", slug, language, context.urls.base, revisions()[0])
    return serve(cached(key, lambda: _issuer_document(slug, language, context)))


def _issuer_document(slug: str, language: str | None, context: IssuingContext) -> Rendered:
    found = _issuer_or_404(slug)
    current = active_key(found)
    names = context.issuer_names if found.slug == CAMPUS_ISSUER else {}
    names = names or {DEFAULT_LOCALE: found.name}
    if language is not None and (language == DEFAULT_LOCALE or not names.get(language)):
        return Rendered.of(redirect(context.urls.issuer(found.slug), 302))
    document = ob2.issuer_document(
        context.urls,
        found.slug,
        names,
        found.url,
        found.email,
        current.kid if current else None,
        language or DEFAULT_LOCALE,
    )
    return Rendered.of(json_ld(document))


@ob_bp.get("/issuers/<slug>/revocations")
def revocations(slug: str):
    """Verifiers fetch this with every badge they check: `no-cache` (a revocation must be seen
    at once), so they revalidate each time, and a matching ETag gets an empty 304.

    Each process keeps the encoded list (10,000 revocations: ~1 MB) under the revisions it
    shows: one read of two small numbers per request instead of reading and encoding every
    revocation again."""
    urls = _urls()
    key = ("revocations", slug, urls.base, *revisions())
    return serve(cached(key, lambda: _revocation_document(slug, urls)))


def _revocation_document(slug: str, urls: ob2.Urls) -> Rendered:
    found = _issuer_or_404(slug)
    revoked, latest = revocation_list(found.id)
    document = ob2.revocation_document(urls, found.slug, revoked)
    return Rendered.of(json_ld(document, cache_seconds=0), latest)


@ob_bp.get("/keys/<kid>")
def key(kid: str):
    """Every RSA key stays published, retired ones too, naming the issuer as its owner. The
    Ed25519 keys of OB 3.0 are not 2.0 keys: they live in the DID documents only."""
    urls = _urls()
    return serve(cached(("key", kid, urls.base, revisions()[0]), lambda: _key_document(kid, urls)))


def _key_document(kid: str, urls: ob2.Urls) -> Rendered:
    found = db.session.execute(
        db.select(SigningKey).where(SigningKey.kid == kid, SigningKey.algorithm == ALGORITHM)
    ).scalar_one_or_none()
    if found is None:
        abort(404)
    document = ob2.key_document(urls, found.issuer.slug, found.kid, found.public_pem)
    return Rendered.of(json_ld(document), found.created_at)


@ob_bp.get("/badges/<slug>")
def badge_class(slug: str):
    """The Finnish original at the bare address (the id assertions name); `?lang=sv|en` is the
    version in that language, with an id of its own. A language the badge is not written in
    (or `?lang=fi`) leads to the original."""
    urls = _urls()
    language = request.args.get("lang")
    key = ("badge", slug, language, urls.base, revisions()[0])
    return serve(cached(key, lambda: _badge_document(slug, language, urls)))


def _badge_document(slug: str, language: str | None, urls: ob2.Urls) -> Rendered:
    badge = _badge_without_artwork_or_404(slug)
    if language is not None and (
        language == DEFAULT_LOCALE or language not in ob2.badge_languages(badge)
    ):
        return Rendered.of(redirect(urls.badge(badge.slug), 302))
    document = ob2.badge_document(urls, badge, badge.issuer.slug, language or DEFAULT_LOCALE)
    return Rendered.of(json_ld(document))


@ob_bp.get("/badges/<slug>/image.png", defaults={"fmt": "png"})
@ob_bp.get("/badges/<slug>/image.<fmt>")
def badge_image(slug: str, fmt: str):
    """The badge's artwork in `?lang=` (Finnish without it), PNG or SVG."""
    if fmt not in IMAGE_TYPES:
        abort(404)
    language = request.args.get("lang", DEFAULT_LOCALE)
    if language not in current_app.config["LANGUAGES"]:
        return serve(_badge_image(slug, language, fmt))  # not kept: any text may come here
    key = ("image", slug, language, fmt, revisions()[0])
    return serve(cached(key, lambda: _badge_image(slug, language, fmt)))


def _badge_image(slug: str, language: str, fmt: str) -> Rendered:
    badge = badge_or_404(slug)
    data = artwork.edition(badge.image_png, badge.image_svg, language, fmt)
    response = Response(
        data,
        mimetype=IMAGE_TYPES[fmt],
        headers={
            "Cache-Control": "public, max-age=3600",
            "Access-Control-Allow-Origin": "*",  # backpacks fetch the image from their pages
            # An SVG opened directly must not run anything.
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
        },
    )
    return Rendered.of(response)


@ob_bp.url_defaults
def artwork_in_page_language(endpoint: str, values: dict[str, Any]) -> None:
    """`url_for("ob.badge_image", slug=…)` on a page gives the artwork in the page's language.

    The Open Badges documents build their addresses with ob2.Urls, not url_for: they name
    their own language's image whatever the reader's language.
    """
    if endpoint != "ob.badge_image" or "lang" in values or not has_request_context():
        return
    language = current_language()
    if language != DEFAULT_LOCALE and language in current_app.config["LANGUAGES"]:
        values["lang"] = language


@ob_bp.app_template_global()
def badge_image_url(
    badge: BadgeClass, language: str | None = None, fmt: str = "png", external: bool = False
) -> str:
    """The badge's artwork in `language` (the page's language when None), PNG or SVG."""
    values: dict[str, Any] = {"slug": badge.slug, "fmt": fmt}
    if language is not None:
        values["lang"] = language if language != DEFAULT_LOCALE else None
    return (
        external_url("ob.badge_image", **values)
        if external
        else url_for("ob.badge_image", **values)
    )


@ob_bp.app_template_global()
def badge_tags(badge: BadgeClass, language: str | None = None) -> list[str]:
    """For templates: the badge's tags in the page's language."""
    return ob2.tags_in(badge.tags, language or current_language())


@ob_bp.app_template_global()
def issuer_name(issuer: Issuer, language: str | None = None) -> str:
    """For templates: the issuer's name in the page's language."""
    return issuing_context().issuer_name_in(issuer, language or current_language())


def _assertion_without_images_or_404(assertion_uuid: str) -> Assertion:
    """The JSON documents answer in about a kilobyte: never load the ~50 KB baked images."""
    assertion = find_assertion_without_images(assertion_uuid)
    if assertion is None:
        abort(404)
    return assertion


def find_badge_without_artwork(slug: str) -> BadgeClass | None:
    """A badge class for its documents (2.0 BadgeClass, 3.0 Achievement), which name the image
    by address: no need for the artwork bytes."""
    return db.session.execute(
        db.select(BadgeClass)
        .options(defer(BadgeClass.image_png), defer(BadgeClass.image_svg))
        .where(BadgeClass.slug == slug, BadgeClass.is_retired.is_(False))
    ).scalar_one_or_none()


def _badge_without_artwork_or_404(slug: str) -> BadgeClass:
    badge = find_badge_without_artwork(slug)
    if badge is None:
        abort(404)
    return badge


@ob_bp.get("/assertions/<assertion_uuid>")
def hosted_assertion(assertion_uuid: str):
    """The hosted edition; a revoked badge answers 410 with `revoked: true` (OB 2.0 hosted).

    An assertion never changes after issue except by its revocation: that time (or the issue
    time) is its Last-Modified."""
    exists, revoked_at = document_cache.revoked_at(assertion_uuid)
    if not exists:
        abort(404)
    urls = _urls()
    key = ("assertion", assertion_uuid, urls.base, revoked_at)
    return serve(cached(key, lambda: _hosted_document(assertion_uuid, urls)))


def _hosted_document(assertion_uuid: str, urls: ob2.Urls) -> Rendered:
    assertion = _assertion_without_images_or_404(assertion_uuid)
    if assertion.revoked_at is not None:
        revoked = {
            "@context": ob2.CONTEXT,
            "id": urls.hosted_assertion(assertion.uuid),
            "type": "Assertion",
            "revoked": True,
            "revocationReason": assertion.revocation_reason,
        }
        return Rendered.of(json_ld(revoked, status=410, cache_seconds=0), assertion.revoked_at)
    document = ob2.assertion_document(
        urls,
        uuid=assertion.uuid,
        badge_slug=assertion.badge_class.slug,
        identity=assertion.recipient_hash,
        salt=assertion.recipient_salt,
        issued_at=assertion.issued_at,
        expires_at=assertion.expires_at,
        evidence=assertion.evidence,
        key_id=None,
    )
    # no-cache: a revocation must show at once; the ETag makes asking again cheap
    return Rendered.of(json_ld(document, cache_seconds=0), assertion.issued_at)


@ob_bp.get("/assertions/<assertion_uuid>.jws")
def signed_assertion(assertion_uuid: str):
    """The signed edition; a key rotation signs it again (no time kept), so an ETag only."""
    assertion = _assertion_without_images_or_404(assertion_uuid)
    response = Response(
        assertion.jws, mimetype="text/plain", headers={"Access-Control-Allow-Origin": "*"}
    )
    return conditional(response)
