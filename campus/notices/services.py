"""Which text of a notice page to show: the installation's own, else the shipped one, in the
reader's language where it exists."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from campus.paths.rendering import render_markdown

NOTICES = ("accessibility", "privacy")
FALLBACK = ("fi", "en", "sv")
MAX_BYTES = 200_000


@dataclass(frozen=True)
class Notice:
    title: str
    html: str
    language: str


def _candidates(name: str, language: str, folders: list[Path]) -> list[tuple[Path, str]]:
    order = [language, *[lang for lang in FALLBACK if lang != language]]
    return [(folder / f"{name}.{lang}.md", lang) for folder in folders for lang in order]


def find_notice(name: str, language: str, instance_dir: Path, content_dir: Path) -> Notice | None:
    """The notice `name` in `language` (or the first fallback that exists), or None."""
    if name not in NOTICES:
        return None
    folders = [instance_dir / "pages", content_dir / "pages"]
    # The installation's file in any language wins over the shipped one in the same language.
    for folder in folders:
        for path, lang in _candidates(name, language, [folder]):
            if path.is_file() and path.stat().st_size <= MAX_BYTES:
                text = path.read_text(encoding="utf-8")
                title = _title(text) or name
                return Notice(title, render_markdown(text, drop_leading_title=True), lang)
    return None


def _title(text: str) -> str | None:
    first = text.lstrip().splitlines()[0] if text.strip() else ""
    return first[2:].strip() if first.startswith("# ") else None
