"""Read and validate assessment instruments (`content/assessments/<slug>/`; pure: no database).

Like the rest of the content tree, bad instruments never raise: every problem is collected as
`file:line: message`, so an author sees all of them at once and nothing is imported.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from campus.assessments.models import Respondent
from campus.assessments.models import Scale
from campus.paths.manifest import SLUG
from campus.paths.manifest import ManifestReader
from campus.paths.manifest import Problem
from campus.paths.manifest import digest
from campus.paths.manifest import read_language_files
from campus.paths.manifest import render_language_files
from campus.paths.models import Audience

LEVEL_CODES = ("A1", "A2", "B1", "B2", "C1", "C2")  # aware, tried, use, analyse, reflect, initiate
MAX_ALIGNMENT = 40  # AssessmentItem.alignment is String(40)
MAX_INTRO_BYTES = 200_000
INSTRUMENT_KEYS = {
    "version",
    "position",
    "respondent",
    "audience",
    "minutes",
    "title",
    "summary",
    "areas",
}
AREA_KEYS = {"key", "title", "description", "items"}
ITEM_KEYS = {"key", "scale", "statement", "levels", "not_relevant", "alignment", "paths"}


@dataclass(frozen=True)
class ItemSpec:
    key: str
    position: int
    scale: Scale
    statement: dict[str, str]
    levels: tuple[dict[str, str], ...]  # six for Scale.LEVELS, none for agreement
    not_relevant: bool
    alignment: str | None
    paths: tuple[str, ...]


@dataclass(frozen=True)
class AreaSpec:
    key: str
    position: int
    title: dict[str, str]
    description: dict[str, str]
    items: tuple[ItemSpec, ...]


@dataclass(frozen=True)
class InstrumentSpec:
    slug: str
    position: int
    respondent: Respondent
    audience: tuple[str, ...]
    minutes: int
    title: dict[str, str]
    summary: dict[str, str]
    intro_html: dict[str, str]
    areas: tuple[AreaSpec, ...]
    content_hash: str

    @property
    def items(self) -> list[ItemSpec]:
        return [item for area in self.areas for item in area.items]


class _TableReader(ManifestReader):
    """One table inside a manifest (an area, an item): the reader's checks on its values, lines
    looked up under `prefix` (or fixed in `at`), problems prefixed with `label`."""

    def __init__(
        self,
        parent: ManifestReader,
        data: dict[str, Any],
        prefix: str,
        label: str,
        at: dict[str, int] | None = None,
    ) -> None:
        super().__init__(parent.path, parent.root, parent.problems)
        self.name = parent.name
        self.lines = parent.lines
        self.data = data
        self.prefix = prefix
        self.label = label
        self.at = at or {}

    def report_key(self, key: str, message: str) -> None:
        line = self.at.get(key) or self.lines.line(f"{self.prefix}.{key}")
        self.report(line, f"{self.label}: {message}")


def path_folders(root: Path) -> set[str]:
    """The path slugs the tree holds: a path with problems reports them itself, so items naming
    it are not blamed too."""
    paths_dir = root / "paths"
    return {p.name for p in paths_dir.iterdir() if p.is_dir()} if paths_dir.is_dir() else set()


def load_instruments(
    root: Path, path_slugs: set[str]
) -> tuple[list[InstrumentSpec], list[Problem]]:
    """Every instrument under `root/assessments`, in position order, and every problem found.
    No `assessments` folder means no instruments (sync then retires any it had imported)."""
    problems: list[Problem] = []
    specs: list[InstrumentSpec] = []
    folder = root / "assessments"
    if not folder.is_dir():
        return specs, problems
    positions: dict[int, str] = {}
    for instrument_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        spec = _load_instrument(instrument_dir, root, path_slugs, positions, problems)
        if spec is not None:
            specs.append(spec)
    return sorted(specs, key=lambda spec: spec.position), problems


def _load_instrument(
    instrument_dir: Path,
    root: Path,
    path_slugs: set[str],
    positions: dict[int, str],
    problems: list[Problem],
) -> InstrumentSpec | None:
    manifest = instrument_dir / "instrument.toml"
    reader = ManifestReader(manifest, root, problems)
    slug = instrument_dir.name
    if not SLUG.match(slug):
        reader.report(1, f"`{slug}` is not a valid slug for a folder name")
        return None
    if not manifest.exists():
        reader.report(1, "instrument.toml is missing")
        return None
    if not reader.load():
        return None
    before = len(problems)
    reader.unknown_keys(INSTRUMENT_KEYS)
    counted = len(problems)
    position = reader.integer("position", 1, 99)
    if len(problems) == counted:
        if position in positions:
            reader.report_key(
                "position",
                f"position {position} is already used by instrument `{positions[position]}`",
            )
        positions.setdefault(position, slug)
    respondent = reader.data.get("respondent")
    if respondent not in {r.value for r in Respondent}:
        reader.report_key("respondent", "`respondent` must be person or organisation")
    audience = reader.slug_list("audience", required=True, check_slugs=False)
    known = {a.value for a in Audience}
    for group in audience:
        if group not in known:
            reader.report_key(
                "audience", f"unknown audience `{group}` (use: {', '.join(sorted(known))})"
            )
    if not audience and "audience" in reader.data:
        reader.report_key("audience", "`audience` needs at least one group")
    minutes = reader.integer("minutes", 1, 600, default=20)
    title = reader.texts("title")
    summary = reader.texts("summary")
    areas = _read_areas(reader, path_slugs)
    intros = read_language_files(instrument_dir, root, reader, "intro", "intro", MAX_INTRO_BYTES)
    intro_html = render_language_files(intros, instrument_dir, root, "intro", problems)
    if len(problems) != before:
        return None
    return InstrumentSpec(
        slug=slug,
        position=position,
        respondent=Respondent(respondent),
        audience=tuple(audience),
        minutes=minutes,
        title=title,
        summary=summary,
        intro_html=intro_html,
        areas=tuple(areas),
        content_hash=digest(reader.data, intros),
    )


def _tables(reader: ManifestReader, key: str, what: str, header: str) -> list[dict[str, Any]]:
    """A required, non-empty array of tables (`[[areas]]`, `[[areas.items]]`)."""
    value = reader.data.get(key)
    if value is None or value == []:
        reader.report_key(key, f"at least one {what} is required (`[[{header}]]`)")
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        reader.report_key(key, f"`{key}` must be an array of tables (`[[{header}]]`)")
        return []
    return value


def _is_slug(value: object) -> bool:
    return isinstance(value, str) and bool(SLUG.match(value))


def _key(reader: _TableReader, taken: dict[str, str], owner: str) -> str | None:
    """The table's `key`: a slug not yet used in this instrument (`taken`: key → its owner)."""
    key = reader.data.get("key")
    if key is None:
        reader.report_key("key", "`key` is required (a slug)")
        return None
    if not isinstance(key, str) or not SLUG.match(key):
        reader.report_key("key", f"`key` must be a slug, not {key!r}")
        return None
    if key in taken:
        reader.report_key("key", f"key `{key}` is already used {taken[key]}")
    taken.setdefault(key, owner)
    return key


def _read_areas(reader: ManifestReader, path_slugs: set[str]) -> list[AreaSpec]:
    areas: list[AreaSpec] = []
    area_keys: dict[str, str] = {}
    item_keys: dict[str, str] = {}
    header_items = 0  # KeyLines numbers every `[[areas.items]]` of the file in one sequence
    for index, data in enumerate(_tables(reader, "areas", "area", "areas")):
        key = data.get("key")
        label = f"area `{key}`" if _is_slug(key) else f"area {index + 1}"
        area = _TableReader(reader, data, f"areas[{index}]", label)
        before = len(reader.problems)
        area.unknown_keys(AREA_KEYS)
        key = _key(area, area_keys, f"by area {index + 1}")
        title = area.texts("title")
        description = area.texts("description", required=False)
        inline = f"areas[{index}].items" in reader.lines.lines
        items: list[ItemSpec] = []
        for position, item_data in enumerate(
            _tables(area, "items", "item", "areas.items"), start=1
        ):
            if inline:
                prefix = f"areas[{index}].items[{position - 1}]"
            else:
                prefix = f"areas.items[{header_items}]"
                header_items += 1
            item = _read_item(area, item_data, prefix, position, key, item_keys, path_slugs)
            if item is not None:
                items.append(item)
        if len(reader.problems) == before and key is not None:
            areas.append(AreaSpec(key, index + 1, title, description, tuple(items)))
    return areas


def _read_item(
    area: _TableReader,
    data: dict[str, Any],
    prefix: str,
    position: int,
    area_key: str | None,
    taken: dict[str, str],
    path_slugs: set[str],
) -> ItemSpec | None:
    key = data.get("key")
    label = f"item `{key}`" if _is_slug(key) else f"{area.label}, item {position}"
    item = _TableReader(area, data, prefix, label)
    before = len(item.problems)
    item.unknown_keys(ITEM_KEYS)
    key = _key(item, taken, f"in area `{area_key}`")
    scale = data.get("scale")
    if scale not in {s.value for s in Scale}:
        item.report_key("scale", "`scale` must be levels or agreement")
    statement = item.texts("statement")
    levels = _read_levels(item, scale)
    not_relevant = item.boolean("not_relevant", False)
    alignment = data.get("alignment")
    if alignment is not None and (
        not isinstance(alignment, str)
        or not alignment.strip()
        or len(alignment.strip()) > MAX_ALIGNMENT
    ):
        item.report_key("alignment", f"`alignment` must be text of 1–{MAX_ALIGNMENT} characters")
    paths = item.slug_list("paths")
    for slug in paths:
        if SLUG.match(slug) and slug not in path_slugs:
            item.report_key("paths", f"path `{slug}` in `paths` does not exist")
    if len(item.problems) != before or key is None:
        return None
    return ItemSpec(
        key=key,
        position=position,
        scale=Scale(scale),
        statement=statement,
        levels=tuple(levels),
        not_relevant=not_relevant,
        alignment=alignment.strip() if isinstance(alignment, str) else None,
        paths=tuple(paths),
    )


def _read_levels(item: _TableReader, scale: object) -> list[dict[str, str]]:
    """Six proficiency statements for a levels item; none for agreement (fixed campus labels)."""
    value = item.data.get("levels")
    if scale == Scale.AGREEMENT:
        if value is not None:
            item.report_key(
                "levels", "agreement items use the campus's five-point labels: remove `levels`"
            )
        return []
    if scale != Scale.LEVELS:
        return []
    if value is None:
        item.report_key("levels", '`levels` is required for scale = "levels" (six statements)')
        return []
    if not isinstance(value, list):
        item.report_key("levels", "`levels` must be a list of six text tables (A1 … C2)")
        return []
    if len(value) != len(LEVEL_CODES):
        item.report_key(
            "levels", f"`levels` needs exactly six statements (A1 … C2), not {len(value)}"
        )
        return []
    # Each level on its own line can be pointed at; several on one line share the `levels` line.
    lines = item.lines.lines
    own = [lines.get(f"{item.prefix}.levels[{i}]") for i in range(len(value) + 1)]
    shared = item.lines.line(f"{item.prefix}.levels")
    each_own = all(own[:-1]) and own[-1] is None
    at = {code: (own[i] if each_own else None) or shared for i, code in enumerate(LEVEL_CODES)}
    levels_reader = _TableReader(item, {}, item.prefix, f"{item.label}, levels", at)
    return [
        levels_reader.texts(code, level) for code, level in zip(LEVEL_CODES, value, strict=True)
    ]
