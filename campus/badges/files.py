"""Read and validate badge classes from `badges/` (pure: no Flask, no database).

A badge is a folder `badges/<slug>/` with `badge.toml` and optional artwork `image.svg` or
`image.png`; without artwork the campus draws one (see artwork.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from urllib.parse import urlsplit

from campus.badges.artwork import DRAWING_VERSION
from campus.badges.models import PATH_RULE_PREFIX
from campus.badges.models import AwardRule
from campus.config import LANGUAGES
from campus.paths import guards
from campus.paths.content import SLUG
from campus.paths.content import ContentTree
from campus.paths.content import ManifestReader
from campus.paths.content import Problem
from campus.paths.content import digest
from campus.paths.manifest import display_name
from campus.paths.rendering import MarkdownTooDeep
from campus.paths.rendering import render_markdown

MAX_IMAGE_BYTES = 512 * 1024
ISSUER = re.compile(r"^(campus|org:[a-z0-9][a-z0-9-]{0,79})$")
AWARD_RULE = re.compile(r"^(path:(?P<path>[a-z0-9][a-z0-9-]*)|review|milestone)$")
BADGE_KEYS = {
    "version",
    "name",
    "description",
    "criteria",
    "award",
    "members",
    "tags",
    "valid_for_days",
    "alignment",
    "image_alt",
    "issuer",
    "colour",
    "label",
}
ALIGNMENT_KEYS = {"name", "url", "framework", "code", "description"}


@dataclass(frozen=True)
class BadgeSpec:
    slug: str
    name: dict[str, str]
    description: dict[str, str]
    criteria: dict[str, str]  # Markdown
    award: str  # "path:<slug>" | "review" | "milestone"
    members: tuple[str, ...]
    # Per language ({"fi": ("…",), "sv": …}); a plain list in badge.toml is language-neutral
    # and comes back under "" (see tags_in).
    tags: dict[str, tuple[str, ...]]
    valid_for_days: int | None
    alignment: tuple[dict[str, str], ...]
    image_alt: dict[str, str]
    colour: str | None
    image: bytes | None
    image_type: str | None  # "png" | "svg" | None (drawn by the campus)
    content_hash: str
    issuer: str = "campus"  # or "org:<organisation slug>"
    # The few words drawn on the hexagon, per language (the name when not given).
    label: dict[str, str] = field(default_factory=dict)

    @property
    def path_slug(self) -> str | None:
        return (
            self.award.removeprefix(PATH_RULE_PREFIX)
            if self.award.startswith(PATH_RULE_PREFIX)
            else None
        )


@dataclass
class BadgeTree:
    badges: list[BadgeSpec] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def load_badges(root: Path, content: ContentTree | None = None) -> BadgeTree:
    """Parse every badge; with `content`, also check that paths and badges name each other."""
    tree = BadgeTree()
    if not root.is_dir():
        tree.problems.append(Problem(str(root), 1, "badges folder not found"))
        return tree
    readers: dict[str, ManifestReader] = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        spec, reader = _load_badge(folder, root, tree.problems)
        if reader is not None:
            readers[folder.name] = reader
        if spec is not None:
            tree.badges.append(spec)
    _check_members(tree, readers)
    if content is not None:
        _check_paths(tree, readers, content, root)
    return tree


def _load_badge(
    folder: Path, root: Path, problems: list[Problem]
) -> tuple[BadgeSpec | None, ManifestReader | None]:
    manifest = folder / "badge.toml"
    reader = ManifestReader(manifest, root, problems)
    if not SLUG.match(folder.name):
        reader.report(1, f"`{folder.name}` is not a valid slug for a folder name")
        return None, None
    if not manifest.exists():
        reader.report(1, "badge.toml is missing")
        return None, None
    if not reader.load():
        return None, reader
    before = len(problems)
    reader.unknown_keys(BADGE_KEYS)
    name = reader.texts("name")
    description = reader.texts("description")
    criteria = reader.texts("criteria")
    award = reader.data.get("award")
    if not isinstance(award, str) or not AWARD_RULE.match(award):
        reader.report_key("award", '`award` must be "path:<path-slug>", "review" or "milestone"')
        award = AwardRule.REVIEW
    members = reader.slug_list("members")
    if award == AwardRule.MILESTONE and not members:
        reader.report_key("award", "a milestone badge needs `members` (the badges it collects)")
    if members and award != AwardRule.MILESTONE:
        reader.report_key("members", "`members` is only for milestone badges")
    tags = _tags(reader)
    label = reader.texts("label", required=False)
    valid_for_days = None
    if "valid_for_days" in reader.data:
        valid_for_days = reader.integer("valid_for_days", 1, 3650)
    alignment = _alignment(reader)
    image_alt = reader.texts("image_alt", required=False)
    colour = reader.data.get("colour")
    if colour is not None and (
        not isinstance(colour, str) or not re.match(r"^#[0-9a-fA-F]{6}$", colour)
    ):
        reader.report_key("colour", '`colour` must be a colour like "#0b5fa5"')
    issuer = reader.data.get("issuer", "campus")
    if not isinstance(issuer, str) or not ISSUER.match(issuer):
        reader.report_key("issuer", '`issuer` must be "campus" or "org:<organisation short name>"')
        issuer = "campus"
    image, image_type = _artwork(folder, root, problems)
    if len(problems) != before:
        return None, reader
    for text in criteria.values():
        try:  # fails here, not on a page, if the Markdown breaks the renderer
            render_markdown(text)
        except MarkdownTooDeep:
            reader.report_key("criteria", guards.MARKDOWN_TOO_DEEP)
            return None, reader
    return (
        BadgeSpec(
            slug=folder.name,
            name=name,
            description=description,
            criteria=criteria,
            award=award,
            members=tuple(members),
            tags=tags,
            valid_for_days=valid_for_days,
            alignment=alignment,
            image_alt=image_alt,
            colour=colour.lower() if isinstance(colour, str) else None,
            image=image,
            image_type=image_type,
            content_hash=digest(reader.data, image.hex() if image else DRAWING_VERSION),
            issuer=issuer,
            label=label,
        ),
        reader,
    )


def _tag_list(value: object) -> tuple[str, ...] | None:
    if not isinstance(value, list) or not all(isinstance(t, str) and t.strip() for t in value):
        return None
    return tuple(t.strip() for t in value)


def _tags(reader: ManifestReader) -> dict[str, tuple[str, ...]]:
    """`tags = ["…"]` (the same in every language) or `tags = { fi = ["…"], sv = […] }`."""
    raw = reader.data.get("tags", [])
    if isinstance(raw, dict):
        result: dict[str, tuple[str, ...]] = {}
        for language, value in raw.items():
            words = _tag_list(value)
            if language not in LANGUAGES or words is None:
                reader.report_key("tags", "`tags` per language must be lists of words (fi, sv, en)")
                return {}
            result[language] = words
        return result
    words = _tag_list(raw)
    if words is None:
        reader.report_key("tags", "`tags` must be a list of words")
        return {}
    return {"": words} if words else {}


def _alignment(reader: ManifestReader) -> tuple[dict[str, str], ...]:
    raw = reader.data.get("alignment", [])
    if not isinstance(raw, list):
        reader.report_key("alignment", "`alignment` must be a list of tables")
        return ()
    result = []
    for index, item in enumerate(raw):
        where = f"alignment[{index}]"
        if not isinstance(item, dict):
            reader.report_key("alignment", "each alignment must be a table")
            continue
        for key in sorted(set(item) - ALIGNMENT_KEYS):
            reader.report_key(where, f"unknown key `{key}` in an alignment")
        if not all(isinstance(item.get(k), str) and item[k].strip() for k in ("name", "url")):
            reader.report_key("alignment", "each alignment needs `name` and `url`")
            continue
        if urlsplit(item["url"]).scheme not in {"http", "https"}:
            reader.report_key("alignment", "an alignment `url` must start with https:// or http://")
            continue
        result.append({k: str(v).strip() for k, v in item.items() if k in ALIGNMENT_KEYS})
    return tuple(result)


def _artwork(folder: Path, root: Path, problems: list[Problem]) -> tuple[bytes | None, str | None]:
    images = [folder / name for name in ("image.png", "image.svg") if (folder / name).exists()]
    if not images:
        return None, None
    file = images[0]
    where = display_name(file, root)
    if len(images) > 1:
        problems.append(Problem(where, 1, "give either image.png or image.svg, not both"))
        return None, None
    if guards.outside(file, root):
        problems.append(Problem(where, 1, guards.outside_message(root)))
        return None, None
    data = file.read_bytes()
    if len(data) > MAX_IMAGE_BYTES:
        problems.append(Problem(where, 1, f"image is larger than {MAX_IMAGE_BYTES // 1024} kB"))
        return None, None
    if file.suffix == ".png":
        if not data.startswith(b"\x89PNG\r\n\x1a\n"):
            problems.append(Problem(where, 1, "not a PNG image"))
            return None, None
        return data, "png"
    text = data.decode("utf-8", errors="replace")
    # The baking library finds an SVG only in its first 256 bytes; keep the root element early.
    if "<svg" not in text[:256]:
        problems.append(
            Problem(where, 1, "the <svg> element must start within the first 256 bytes")
        )
        return None, None
    if re.search(r"<script|\bon[a-z]+\s*=|javascript:", text, re.IGNORECASE):
        problems.append(Problem(where, 1, "SVG artwork must not contain scripts or event handlers"))
        return None, None
    return data, "svg"


def _check_members(tree: BadgeTree, readers: dict[str, ManifestReader]) -> None:
    known = set(readers)
    for badge in tree.badges:
        for member in badge.members:
            if member not in known:
                readers[badge.slug].report_key("members", f"member badge `{member}` does not exist")
            elif member == badge.slug:
                readers[badge.slug].report_key("members", "a milestone cannot collect itself")


def _check_paths(
    tree: BadgeTree, readers: dict[str, ManifestReader], content: ContentTree, root: Path
) -> None:
    """`path.toml`'s `badge` and `badge.toml`'s `award = "path:…"` must agree."""
    paths = {path.slug: path for path in content.paths}
    awarded_by: dict[str, str] = {}
    for badge in tree.badges:
        if badge.path_slug is None:
            continue
        if badge.path_slug not in paths:
            readers[badge.slug].report_key("award", f"path `{badge.path_slug}` does not exist")
            continue
        if badge.path_slug in awarded_by:
            readers[badge.slug].report_key(
                "award", f"path `{badge.path_slug}` already awards `{awarded_by[badge.path_slug]}`"
            )
        awarded_by[badge.path_slug] = badge.slug
        if paths[badge.path_slug].badge != badge.slug:
            readers[badge.slug].report_key(
                "award",
                f'path `{badge.path_slug}` does not name this badge (set badge = "{badge.slug}" in its path.toml)',
            )
    for path in content.paths:
        if path.badge and path.badge not in readers:
            tree.problems.append(
                Problem(
                    f"{root.name}/{path.badge}/badge.toml",
                    1,
                    f"path `{path.slug}` names badge `{path.badge}`, which does not exist",
                )
            )
