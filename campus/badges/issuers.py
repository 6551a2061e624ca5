"""Issuers and badge classes: who signs, and the badges the content files define.

Services flush and never commit: an award commits with the request that earned it, and a
failure anywhere (key, signing, baking, database) rolls the whole request back.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

from campus.auth.models import Organisation
from campus.badges import artwork
from campus.badges import ob2
from campus.badges.files import BadgeSpec
from campus.badges.files import BadgeTree
from campus.badges.models import BadgeClass
from campus.badges.models import Issuer
from campus.config import DEFAULT_LOCALE
from campus.extensions import db
from campus.i18n import pick
from campus.paths.models import LearningPath
from campus.paths.sync import SyncReport

CAMPUS_ISSUER = "campus"
# The campus issuer's name in each language while ISSUER_NAME keeps its default; an operator who
# sets ISSUER_NAME names the campus the same in every language unless ISSUER_NAMES
# ({"sv": "…", "en": "…"}) gives other languages their own.
DEFAULT_ISSUER_NAMES = {
    "fi": "Campus — virtuaalinen osaamiskampus",
    "sv": "Campus — virtuellt kompetenscampus",
    "en": "Campus — virtual competence campus",
}


class BadgeError(Exception):
    """A request about badges that cannot be done; the message is shown to the user."""


@dataclass(frozen=True)
class IssuingContext:
    """What signing needs from configuration, passed explicitly to the services."""

    urls: ob2.Urls
    keys_dir: Path
    passphrase: str | None
    issuer_name: str
    issuer_url: str
    issuer_email: str
    issuer_names: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: Any) -> IssuingContext:
        base = str(config["BASE_URL"]).rstrip("/")
        return cls(
            urls=ob2.Urls(base),
            keys_dir=Path(config["KEYS_DIR"]),
            passphrase=config.get("KEY_PASSPHRASE"),
            issuer_name=config["ISSUER_NAME"],
            issuer_url=config.get("ISSUER_URL") or base,
            issuer_email=config["ISSUER_EMAIL"],
            issuer_names=issuer_names(config),
        )

    def issuer_name_in(self, issuer: Issuer, language: str) -> str:
        """An issuer's name in `language`: the campus's from configuration, others' as stored."""
        if issuer.slug == CAMPUS_ISSUER and self.issuer_names:
            return pick(self.issuer_names, language)
        return issuer.name


def issuer_names(config: Any) -> dict[str, str]:
    """The campus issuer's name per language (see DEFAULT_ISSUER_NAMES)."""
    name = str(config["ISSUER_NAME"])
    names = dict(DEFAULT_ISSUER_NAMES) if name == DEFAULT_ISSUER_NAMES["fi"] else {}
    names[DEFAULT_LOCALE] = name
    names.update(config.get("ISSUER_NAMES") or {})
    return names


def campus_issuer(context: IssuingContext) -> Issuer:
    """The campus's own issuer profile, created on first use and kept in line with the config."""
    issuer = db.session.execute(
        db.select(Issuer).where(Issuer.slug == CAMPUS_ISSUER)
    ).scalar_one_or_none()
    if issuer is None:
        issuer = Issuer(
            slug=CAMPUS_ISSUER,
            name=context.issuer_name,
            url=context.issuer_url,
            email=context.issuer_email,
        )
        db.session.add(issuer)
        db.session.flush()
    elif (issuer.name, issuer.url, issuer.email) != (
        context.issuer_name,
        context.issuer_url,
        context.issuer_email,
    ):
        issuer.name, issuer.url, issuer.email = (
            context.issuer_name,
            context.issuer_url,
            context.issuer_email,
        )
    return issuer


def organisation_issuer(organisation_slug: str, context: IssuingContext) -> Issuer:
    """An organisation issuing in its own name: its own issuer profile, keys and revocations."""
    organisation = db.session.execute(
        db.select(Organisation).where(Organisation.slug == organisation_slug)
    ).scalar_one_or_none()
    if organisation is None:
        raise BadgeError(f"organisation `{organisation_slug}` does not exist (create it first)")
    slug = f"org-{organisation.slug}"
    issuer = db.session.execute(db.select(Issuer).where(Issuer.slug == slug)).scalar_one_or_none()
    if issuer is None:
        issuer = Issuer(
            slug=slug,
            name=organisation.name,
            url=context.issuer_url,
            email=context.issuer_email,
            organisation_id=organisation.id,
        )
        db.session.add(issuer)
        db.session.flush()
    elif issuer.name != organisation.name:
        issuer.name = organisation.name
    return issuer


def _issuer_for(spec: BadgeSpec, context: IssuingContext) -> Issuer:
    if spec.issuer.startswith("org:"):
        try:
            return organisation_issuer(spec.issuer.removeprefix("org:"), context)
        except BadgeError as error:
            raise BadgeError(f"badges/{spec.slug}/badge.toml: {error}") from error
    return campus_issuer(context)


def sync_badges(tree: BadgeTree, context: IssuingContext, report: SyncReport) -> None:
    """Upsert badge classes by slug (run after the paths sync, in the same transaction).

    Raises BadgeError when a badge names an organisation that does not exist; the caller rolls
    the whole sync back.
    """
    existing = {b.slug: b for b in db.session.execute(db.select(BadgeClass)).scalars()}
    paths = {p.slug: p for p in db.session.execute(db.select(LearningPath)).scalars()}
    for spec in tree.badges:
        issuer = _issuer_for(spec, context)  # before a new row joins the session (autoflush)
        badge = existing.get(spec.slug)
        label = f"badge {spec.slug}"
        if badge is None:
            badge = BadgeClass(slug=spec.slug)
            db.session.add(badge)
            report.created.append(label)
        elif badge.is_retired:
            report.restored.append(label)
        elif badge.content_hash == spec.content_hash:
            continue
        else:
            report.updated.append(label)
        with db.session.no_autoflush:  # a new row is complete only after _apply_spec
            _apply_spec(badge, spec, issuer, paths)
    wanted = {spec.slug for spec in tree.badges}
    for slug, badge in existing.items():
        if slug not in wanted and not badge.is_retired:
            badge.is_retired = True
            report.retired.append(f"badge {slug}")
    db.session.flush()


def _apply_spec(
    badge: BadgeClass, spec: BadgeSpec, issuer: Issuer, paths: dict[str, LearningPath]
) -> None:
    path = paths.get(spec.path_slug) if spec.path_slug else None
    # Drawn artwork takes the badge's own colour, else its path's theme colour.
    colour = spec.colour or (path.theme.colour if path is not None else None)
    badge.issuer = issuer
    badge.name = spec.name
    badge.description = spec.description
    badge.criteria = spec.criteria
    badge.award_rule = spec.award
    badge.path_id = paths[spec.path_slug].id if spec.path_slug else None
    badge.members = list(spec.members)
    # A plain list (the same in every language) stays a list; per language, {language: [...]}.
    badge.tags = (
        list(spec.tags.get("", ()))
        if set(spec.tags) <= {""}
        else {language: list(words) for language, words in spec.tags.items()}
    )
    badge.valid_for_days = spec.valid_for_days
    badge.alignment = list(spec.alignment)
    badge.image_alt = spec.image_alt or {lang: f"{text}" for lang, text in spec.name.items()}
    badge.colour = colour
    if spec.image_type and spec.image:
        badge.image_png, badge.image_svg = artwork.own_editions(
            spec.image_type, spec.image, pick(spec.name, DEFAULT_LOCALE), colour
        )
    else:  # drawn in Finnish here; other languages on demand from the recipe in the SVG
        badge.image_png, badge.image_svg = artwork.drawn_editions(
            {**spec.name, **spec.label}, spec.name, colour
        )
    badge.content_hash = spec.content_hash
    badge.is_retired = False


def get_badge(slug: str) -> BadgeClass | None:
    return db.session.execute(
        db.select(BadgeClass).where(BadgeClass.slug == slug, BadgeClass.is_retired.is_(False))
    ).scalar_one_or_none()


def list_badges() -> list[BadgeClass]:
    return list(
        db.session.execute(
            db.select(BadgeClass).where(BadgeClass.is_retired.is_(False)).order_by(BadgeClass.slug)
        ).scalars()
    )
