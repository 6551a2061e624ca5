"""Issue 13, defect 6: a badge's identity in the reader's language.

Artwork drawn per language with readable type, issuer name and tags per language, Swedish alt
text, criteria and descriptions, and Open Badges documents that give every language version an
id of its own and link the versions (OB 2.0 `related`).
"""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
from types import SimpleNamespace

import pytest
from flask import Flask
from flask import render_template_string
from flask.testing import FlaskClient
from PIL import Image

from campus.badges import artwork
from campus.badges import ob2
from campus.badges.files import load_badges
from campus.badges.issuers import get_badge
from campus.config import REPO_ROOT
from campus.extensions import db
from tests.conftest import BASE_URL

URLS = ob2.Urls(BASE_URL)
REAL = load_badges(REPO_ROOT / "badges")
SWEDISH_WORDS = ("märke", "för", "och", "att", "alla", "lärstig")


def as_badge(spec) -> SimpleNamespace:  # type: ignore[no-untyped-def]
    """A shipped badge.toml shaped like the stored badge class (what the documents read)."""
    tags = (
        list(spec.tags.get("", ()))
        if set(spec.tags) <= {""}
        else {k: list(v) for k, v in spec.tags.items()}
    )
    return SimpleNamespace(
        slug=spec.slug,
        name=spec.name,
        description=spec.description,
        criteria=spec.criteria,
        tags=tags,
        alignment=list(spec.alignment),
        content_hash=spec.content_hash,
    )


def add_swedish(slug: str = "basics") -> None:
    badge = get_badge(slug)
    badge.name = {**badge.name, "sv": "Grundmärke"}
    badge.description = {**badge.description, "sv": "Grunderna är avklarade."}
    badge.criteria = {**badge.criteria, "sv": "Slutför lärstigen Grunderna."}
    db.session.commit()


# --- the shipped badges --------------------------------------------------------------------------


def test_every_shipped_badge_is_written_in_swedish() -> None:
    assert REAL.problems == [] and len(REAL.badges) == 13
    for spec in REAL.badges:
        for texts in (spec.name, spec.description, spec.criteria, spec.image_alt, spec.label):
            assert texts.get("sv") and texts["sv"] != texts["fi"], (spec.slug, texts)
        alt = spec.image_alt["sv"].lower()
        assert any(word in alt for word in SWEDISH_WORDS), (spec.slug, alt)
        assert spec.tags["sv"] != spec.tags["fi"], spec.slug


def test_swedish_badge_class_documents_carry_swedish_text() -> None:
    for spec in REAL.badges:
        badge = as_badge(spec)
        sv = ob2.badge_document(URLS, badge, "campus", "sv")
        fi = ob2.badge_document(URLS, badge, "campus", "fi")
        assert sv["@language"] == "sv" and sv["id"] == f"{BASE_URL}/ob/badges/{spec.slug}?lang=sv"
        assert fi["id"] == f"{BASE_URL}/ob/badges/{spec.slug}"  # the id assertions name
        assert sv["criteria"]["narrative"] == spec.criteria["sv"] != fi["criteria"]["narrative"]
        assert sv["description"] == spec.description["sv"] != fi["description"]
        assert sv["tags"] == list(spec.tags["sv"]) and fi["tags"] == list(spec.tags["fi"])
        assert sv["image"] == f"{BASE_URL}/ob/badges/{spec.slug}/image.png?lang=sv"
        assert {(r["@language"], r["id"]) for r in sv["related"]} == {
            ("fi", fi["id"]),
            ("en", f"{BASE_URL}/ob/badges/{spec.slug}?lang=en"),
        }


def test_shipped_artwork_is_readable_at_120_px() -> None:
    """40 px type on the 400 px badge is 12 px on a 120 px card, at most three lines."""
    for spec in REAL.badges:
        for language, label in spec.label.items():
            size, lines = artwork.layout(label)
            assert size >= 40 and 1 <= len(lines) <= 3, (spec.slug, language, size, lines)


# --- drawing -------------------------------------------------------------------------------------


def test_large_type_wraps_inside_the_hexagon() -> None:
    size, lines = artwork.layout("Pedagogical leadership")
    assert lines == ["Pedagogical", "leadership"] and size >= 40
    size, lines = artwork.layout("Tutor-\nopettaja")  # a line break the author chose
    assert lines == ["Tutor-", "opettaja"] and size == 64
    old_size = 28  # what the campus drew before: 15 letters a line, up to five lines
    assert artwork.layout("Henkilöstön digiosaamisen johtaminen")[0] > old_size


def test_drawn_artwork_differs_per_language_and_shows_its_text() -> None:
    png, svg = artwork.drawn_editions(
        {"fi": "Perusteet", "sv": "Grunderna", "en": "Basics"},
        {"fi": "Perusteet-merkki", "sv": "Grundmärke", "en": "Basics badge"},
        "#6a3d9a",
    )
    assert b">Perusteet</text>" in svg and b'lang="fi"' in svg and svg.startswith(b"<svg")
    sv_svg = artwork.edition(png, svg, "sv", "svg")
    assert b">Grunderna</text>" in sv_svg and b"<title>Grundm\xc3\xa4rke</title>" in sv_svg
    assert b'lang="sv"' in sv_svg and b"Perusteet</text>" not in sv_svg
    sv_png = artwork.edition(png, svg, "sv", "png")
    assert sv_png.startswith(b"\x89PNG") and sv_png != png
    assert Image.open(io.BytesIO(sv_png)).size == (400, 400)
    assert artwork.edition(png, svg, "fi", "png") == png  # the stored original
    assert artwork.edition(png, svg, "xx", "svg") == svg


def test_own_artwork_is_the_same_in_every_language(app: Flask, app_ctx: None) -> None:
    reviewed = get_badge("reviewed")  # brings its own image.png
    assert artwork.recipe_of(reviewed.image_svg) is None
    for language in ("sv", "en"):
        edition = artwork.edition(reviewed.image_png, reviewed.image_svg, language, "png")
        assert edition == reviewed.image_png


# --- served documents and images ------------------------------------------------------------------


def test_each_language_version_has_its_own_id(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        add_swedish()
    original = client.get("/ob/badges/basics").json
    assert original["id"] == f"{BASE_URL}/ob/badges/basics" and original["@language"] == "fi"
    swedish = client.get("/ob/badges/basics?lang=sv").json
    assert swedish["id"] == f"{BASE_URL}/ob/badges/basics?lang=sv"
    assert (swedish["@language"], swedish["name"]) == ("sv", "Grundmärke")
    assert swedish["criteria"]["narrative"] == "Slutför lärstigen Grunderna."
    assert {r["id"] for r in swedish["related"]} == {
        f"{BASE_URL}/ob/badges/basics",
        f"{BASE_URL}/ob/badges/basics?lang=en",
    }
    assert all(r["version"] == swedish["version"] for r in swedish["related"])
    english = client.get("/ob/badges/basics?lang=en").json
    assert english["id"].endswith("?lang=en") and english["criteria"]["narrative"].startswith(
        "Complete"
    )


def test_a_language_the_badge_lacks_leads_to_the_original(client: FlaskClient) -> None:
    """tests/data badges have no Swedish: `?lang=sv` must not call Finnish text Swedish."""
    for query in ("?lang=sv", "?lang=fi", "?lang=xx"):
        response = client.get(f"/ob/badges/basics{query}")
        assert response.status_code == 302, query
        assert response.headers["Location"] == f"{BASE_URL}/ob/badges/basics"
    assert [r["@language"] for r in client.get("/ob/badges/basics").json["related"]] == ["en"]


def test_images_are_served_per_language(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        add_swedish()
        db.session.commit()
    fi = client.get("/ob/badges/basics/image.svg")
    sv = client.get("/ob/badges/basics/image.svg?lang=sv")
    assert sv.mimetype == "image/svg+xml" and sv.headers["Access-Control-Allow-Origin"] == "*"
    assert (
        b"Perusteet" in fi.data
        and b"Basics" in client.get("/ob/badges/basics/image.svg?lang=en").data
    )
    png_fi = client.get("/ob/badges/basics/image.png").data
    png_en = client.get("/ob/badges/basics/image.png?lang=en").data
    assert png_fi.startswith(b"\x89PNG") and png_en.startswith(b"\x89PNG") and png_fi != png_en
    assert client.get("/ob/badges/basics/image.gif").status_code == 404


def test_issuer_name_per_language(app: Flask, client: FlaskClient) -> None:
    original = client.get("/ob/issuers/campus").json
    assert original["id"] == f"{BASE_URL}/ob/issuers/campus" and original["@language"] == "fi"
    assert original["name"] == "Campus — virtuaalinen osaamiskampus"
    swedish = client.get("/ob/issuers/campus?lang=sv").json
    assert swedish["id"] == f"{BASE_URL}/ob/issuers/campus?lang=sv"
    assert swedish["name"] == "Campus — virtuellt kompetenscampus"
    assert swedish.get("publicKey") == original.get("publicKey")
    assert {r["@language"] for r in swedish["related"]} == {"fi", "en"}
    assert client.get("/ob/issuers/campus?lang=fi").status_code == 302


def test_an_operators_single_issuer_name_has_no_language_versions(app: Flask) -> None:
    app.config["ISSUER_NAME"] = "Omnia"
    client = app.test_client()
    document = client.get("/ob/issuers/campus").json
    assert document["name"] == "Omnia" and "related" not in document
    assert client.get("/ob/issuers/campus?lang=sv").status_code == 302


def test_template_helpers_follow_the_page_language(app: Flask) -> None:
    template = (
        "{{ url_for('ob.badge_image', slug=badge.slug) }}|{{ badge_tags(badge)|join(',') }}|"
        "{{ issuer_name(badge.issuer) }}|{{ badge_image_url(badge, 'fi', 'svg') }}"
    )
    with app.test_request_context(headers={"Accept-Language": "sv"}):
        badge = get_badge("basics")
        badge.tags = {"fi": ["testi"], "sv": ["test-sv"], "en": ["test-en"]}
        rendered = render_template_string(template, badge=badge)
        external = render_template_string(
            "{{ badge_image_url(badge, external=True) }}", badge=badge
        )
    assert rendered == (
        "/ob/badges/basics/image.png?lang=sv|test-sv|Campus — virtuellt kompetenscampus|"
        "/ob/badges/basics/image.svg"
    )
    assert external == f"{BASE_URL}/ob/badges/basics/image.png?lang=sv"
    with app.test_request_context(headers={"Accept-Language": "fi"}):
        badge = get_badge("basics")
        assert render_template_string("{{ badge_image_url(badge) }}", badge=badge) == (
            "/ob/badges/basics/image.png"
        )


def test_badge_pages_show_the_artwork_of_their_language(app: Flask) -> None:
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert "/ob/badges/basics/image.png?lang=en" in client.get("/badges/").get_data(as_text=True)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fi"
    page = client.get("/badges/basics").get_data(as_text=True)
    assert 'src="/ob/badges/basics/image.png"' in page


def test_tags_per_language_are_checked(tmp_path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "badges" / "odd"
    folder.mkdir(parents=True)
    (folder / "badge.toml").write_text(
        'version = 1\nname = { fi = "A", en = "A" }\ndescription = { fi = "A", en = "A" }\n'
        'criteria = { fi = "A", en = "A" }\naward = "review"\ntags = { fi = ["a"], de = ["b"] }\n',
        encoding="utf-8",
    )
    tree = load_badges(tmp_path / "badges")
    assert [p.message for p in tree.problems] == [
        "`tags` per language must be lists of words (fi, sv, en)"
    ]


# --- the official validator ----------------------------------------------------------------------


def test_the_official_validator_accepts_every_language_version(app: Flask) -> None:
    from tests.interop.test_ob_validator import SCRIPT
    from tests.interop.test_ob_validator import VALIDATOR_PYTHON

    if not VALIDATOR_PYTHON.exists():
        pytest.skip("run `make validator` to build the official Open Badges validator venv")
    with app.app_context():
        add_swedish()
    client = app.test_client()
    for query in ("", "?lang=sv", "?lang=en"):
        urls = [
            f"{BASE_URL}/ob/badges/basics{query}",
            f"{BASE_URL}/ob/badges/basics/image.png{query}",
            f"{BASE_URL}/ob/issuers/campus",
        ]
        documents = {}
        for url in urls:
            response = client.get(url.removeprefix(BASE_URL))
            documents[url] = {
                "status": response.status_code,
                "content_type": response.headers["Content-Type"],
                "body_b64": base64.b64encode(response.data).decode(),
            }
        completed = subprocess.run(
            [str(VALIDATOR_PYTHON), "-W", "ignore", str(SCRIPT)],
            input=json.dumps({"input": {"kind": "url", "value": urls[0]}, "documents": documents}),
            capture_output=True,
            text=True,
            timeout=120,
            env={"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp")},
        )
        report = json.loads(completed.stdout)
        assert (report["valid"], report["errorCount"], report["warningCount"]) == (True, 0, 0), (
            query,
            report["messages"],
        )
        assert report["validationSubject"] == urls[0]


def test_downloads_can_be_baked_in_the_learners_language(app: Flask, make_user) -> None:  # type: ignore[no-untyped-def]
    from campus.auth.models import User
    from campus.badges.awarding import award
    from campus.badges.baking import baked_edition
    from campus.badges.baking import unbake
    from campus.badges.issuers import IssuingContext
    from campus.badges.models import AwardSource
    from tests.conftest import now

    user_id = make_user("learner@example.org")
    with app.app_context():
        add_swedish()
        assertion = award(
            db.session.get(User, user_id),
            get_badge("basics"),
            IssuingContext.from_config(app.config),
            now(),
            AwardSource.PATH,
        ).assertion
        db.session.commit()
        assert baked_edition(assertion, "fi", "png") == assertion.baked_png
        svg = baked_edition(assertion, "en", "svg")  # tests/data's basics: fi and en only
        assert b">Basics</text>" in svg and unbake(svg) == assertion.jws
        png = baked_edition(assertion, "en", "png")
        assert png != assertion.baked_png and unbake(png) == assertion.jws


def test_an_svg_with_a_broken_recipe_counts_as_own_artwork() -> None:
    own = b'<svg xmlns="http://www.w3.org/2000/svg"><metadata id="campus-artwork">{oops</metadata></svg>'
    assert artwork.recipe_of(own) is None
    assert artwork.edition(b"png", own, "sv", "svg") == own
    hostile = artwork.recipe({"fi": "A"}, {"fi": "A"}, '"/><script>').encode()
    assert (
        artwork.recipe_of(b'<svg><metadata id="campus-artwork">' + hostile + b"</metadata>") is None
    )
