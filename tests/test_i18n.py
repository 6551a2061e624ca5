"""Every user-facing string is extracted and translated (fi complete, sv complete)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from campus.config import REPO_ROOT
from campus.i18n import extract_template

TRANSLATIONS = REPO_ROOT / "campus" / "translations"
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%%")


def extract(target: Path) -> set[str]:
    extract_template(target)
    with target.open("rb") as handle:
        return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}


def test_template_is_up_to_date(tmp_path: Path) -> None:
    """Run `make translations-update` when this fails: the source has strings the .pot lacks."""
    with (TRANSLATIONS / "messages.pot").open("rb") as handle:
        committed = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    assert extract(tmp_path / "fresh.pot") == committed


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_catalogue_is_complete_and_placeholders_match(language: str) -> None:
    with (TRANSLATIONS / "messages.pot").open("rb") as handle:
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle)
    assert not catalogue.fuzzy, (
        "the catalogue header is marked fuzzy: pybabel compile would skip it"
    )
    translated = {}
    for message in catalogue:
        if not message.id:
            continue
        assert not message.fuzzy, message.id
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        assert all(strings), f"{language}: untranslated {ids[0]!r}"
        for text in strings:
            assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(ids[-1])), (
                language,
                ids[0],
            )
        translated[ids[0]] = strings
    assert wanted <= set(translated), sorted(wanted - set(translated))


def test_pages_are_translated(client) -> None:
    finnish = client.get("/", headers={"Accept-Language": "fi"}).get_data(as_text=True)
    assert "Kirjaudu sisään" in finnish and "Log in" not in finnish
    swedish = client.get("/", headers={"Accept-Language": "sv"}).get_data(as_text=True)
    assert "Logga in" in swedish
