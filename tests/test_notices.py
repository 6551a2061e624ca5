"""The accessibility statement and the privacy notice (issue 12, data rights): in the reader's
language, replaceable by the installation, linked from every page's footer."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from campus.notices.services import find_notice

REPO_CONTENT = Path(__file__).resolve().parent.parent / "content"


@pytest.fixture
def shipped(app: Flask, tmp_path: Path) -> Path:
    """The app reads the repository's notices; the instance folder is a temporary one."""
    app.config["CONTENT_DIR"] = str(REPO_CONTENT)
    app.instance_path = str(tmp_path / "instance")
    return tmp_path / "instance"


@pytest.mark.parametrize(
    ("language", "accessibility", "privacy"),
    [
        ("fi", "Saavutettavuusseloste", "Tietosuojaseloste"),
        ("sv", "Tillgänglighetsutlåtande", "Dataskyddsbeskrivning"),
        ("en", "Accessibility statement", "Privacy notice"),
    ],
)
def test_both_notices_are_there_in_every_language(
    client: FlaskClient, shipped: Path, language: str, accessibility: str, privacy: str
) -> None:
    headers = {"Accept-Language": language}
    page = client.get("/about/accessibility", headers=headers).get_data(as_text=True)
    assert f"<h1>{accessibility}</h1>" in page and "WCAG 2.1" in page
    assert page.count("<h1>") == 1  # the file's own title became the page's h1
    page = client.get("/about/privacy", headers=headers).get_data(as_text=True)
    assert f"<h1>{privacy}</h1>" in page


def test_every_page_links_both_from_its_footer(client: FlaskClient, shipped: Path) -> None:
    page = client.get("/").get_data(as_text=True)
    footer = page[page.index('<footer class="site-footer">') :]
    assert 'href="/about/accessibility"' in footer and 'href="/about/privacy"' in footer


def test_the_installations_own_text_wins(client: FlaskClient, shipped: Path) -> None:
    (shipped / "pages").mkdir(parents=True)
    (shipped / "pages" / "privacy.en.md").write_text(
        "# Privacy notice of Omnia\n\nController: Omnia, <script>x</script>tietosuoja@omnia.fi\n"
    )
    page = client.get("/about/privacy").get_data(as_text=True)
    assert "<h1>Privacy notice of Omnia</h1>" in page and "tietosuoja@omnia.fi" in page
    assert "<script>x</script>" not in page  # sanitised like every Markdown
    # Another language still gets the installation's text before the shipped one.
    finnish = client.get("/about/privacy", headers={"Accept-Language": "fi"})
    assert "Privacy notice of Omnia" in finnish.get_data(as_text=True)


def test_unknown_notices_are_404(client: FlaskClient, shipped: Path, tmp_path: Path) -> None:
    assert client.get("/about/terms").status_code == 404
    assert find_notice("../secret", "en", tmp_path, REPO_CONTENT) is None
