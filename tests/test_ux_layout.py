"""Issue 13, layout: the responsive header, favicon, footer, register and error links, the Manage
sub-navigation on LTI pages, and the catalogue's search, filter, "for you" and illustrations."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from campus.auth.models import Role
from campus.auth.models import User
from campus.extensions import db
from campus.paths import recommend
from campus.paths.models import LearningPath
from campus.paths.models import PathCompletion
from campus.paths.models import Theme
from tests.conftest import now
from tests.test_assessment_journey import FIRST
from tests.test_assessment_journey import _answer_all
from tests.test_assessment_journey import _start
from tests.test_assessment_journey import journey  # noqa: F401  (a fixture)

STATIC = Path(__file__).parent.parent / "campus" / "static"


def _theme_sections(page: str) -> list[str]:
    return re.findall(r'<section class="theme" aria-labelledby="theme-([\w-]+)"', page)


def test_header_has_a_menu_button_that_holds_navigation_and_language(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    assert 'src="/static/js/layout-nav.js"' in page.split("</head>")[0]
    button = re.search(r"<button[^>]*class=\"menu-toggle\"[^>]*>", page)
    assert button and 'aria-expanded="false"' in button[0]
    assert 'aria-controls="site-menu"' in button[0]
    menu = page[page.index('id="site-menu"') : page.index("</header>")]
    assert 'aria-label="Main"' in menu and 'class="language-switch"' in menu
    assert (STATIC / "js" / "layout-nav.js").is_file()


def test_favicon_is_linked_and_served(client: FlaskClient) -> None:
    page = client.get("/auth/login").get_data(as_text=True)
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    with client.get("/static/favicon.svg") as icon:
        assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
        ET.fromstring(icon.get_data())  # well-formed


def test_register_page_links_to_log_in(client: FlaskClient) -> None:
    page = client.get("/auth/register").get_data(as_text=True)
    assert "Already have an account?" in page
    assert '<a href="/auth/login">Log in</a>' in page.split("<main", 1)[1]


def _too_large(client: FlaskClient, app: Flask, referrer: str | None) -> str:
    app.config["MAX_CONTENT_LENGTH"] = 1000
    headers = {"Referer": referrer} if referrer else {}
    response = client.post(
        "/paths/advanced/show-your-work/evidence",
        data={"description": "x" * 50, "file": (io.BytesIO(b"x" * 5000), "a.pdf")},
        content_type="multipart/form-data",
        headers=headers,
    )
    assert response.status_code == 413
    return response.get_data(as_text=True)


def test_too_large_upload_leads_back_to_the_form(client, app, auth, make_user) -> None:
    make_user()
    auth.login()
    form = "http://localhost/paths/advanced/show-your-work"
    page = _too_large(client, app, form)
    assert f'<a href="{form}">Back to the form</a>' in page
    assert "Back to the catalogue" not in page
    elsewhere = _too_large(client, app, "https://evil.example/paths/advanced/show-your-work")
    assert "evil.example" not in elsewhere and "Back to the catalogue" in elsewhere
    assert "Back to the catalogue" in _too_large(client, app, None)


def test_lti_admin_pages_show_the_manage_navigation(client, auth, make_user) -> None:
    make_user("admin@example.org", roles={Role.ADMIN})
    auth.login("admin@example.org")
    for url, current in (
        ("/lti/tools", "External tools (LTI)"),
        ("/lti/tools/offer", "External tools (LTI)"),
        ("/lti/tool/platforms", "Learning platforms (LTI)"),
    ):
        page = client.get(url).get_data(as_text=True)
        nav = page[page.index('aria-label="Administration"') :]
        nav = nav[: nav.index("</nav>")]
        assert "Organisation progress" in nav and "Follow-ups" in nav, url
        assert re.search(rf'aria-current="page">{re.escape(current)}</a>', nav), url
        assert re.search(r'aria-current="page"[^>]*>Manage</a>', page), url
    tool_page = (STATIC.parent / "templates" / "lti" / "tool.html").read_text()
    assert '{% include "manage/_nav.html" %}' in tool_page


def test_catalogue_search_filters_and_hides_empty_themes(client: FlaskClient) -> None:
    everything = client.get("/").get_data(as_text=True)
    assert _theme_sections(everything) == ["alpha", "beta"]
    assert "2 paths shown" in everything
    found = client.get("/?q=BASICS").get_data(as_text=True)
    assert _theme_sections(found) == ["alpha"] and "1 path shown" in found
    assert 'value="BASICS"' in found
    by_group = client.get("/?audience=tutor_teachers").get_data(as_text=True)
    assert _theme_sections(by_group) == ["beta"]
    assert "No paths for this group in this theme." not in by_group
    none = client.get("/?q=nothing+like+this").get_data(as_text=True)
    assert _theme_sections(none) == [] and "No paths match." in none


def test_catalogue_filters_instantly_with_a_live_count(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    assert '<label for="catalogue-search">Search paths</label>' in page
    assert re.search(r'id="catalogue-count"[^>]*role="status" aria-live="polite"', page)
    assert 'data-other="{count} paths shown"' in page and 'data-one="{count} path shown"' in page
    assert 'src="/static/js/layout-catalogue.js"' in page
    card = re.search(r'<article class="path-card[^>]*data-audience="tutor_teachers"[^>]*>', page)
    assert card and 'data-search="advanced' in card[0]


def test_cards_show_their_theme_illustration(client: FlaskClient, app: Flask) -> None:
    page = client.get("/").get_data(as_text=True)
    # The test themes have no drawing of their own: the shared one, decorative.
    assert page.count('<img class="path-art" src="/static/img/themes/default.svg" alt=""') == 2
    with app.app_context():
        themes = [Theme(slug="strategy"), Theme(slug="not-drawn")]
        art = recommend.theme_art(app.static_folder, themes)
    assert art == {"strategy": "img/themes/strategy.svg", "not-drawn": "img/themes/default.svg"}


def test_every_theme_of_the_content_has_an_illustration() -> None:
    content = Path(__file__).parent.parent / "content" / "themes"
    for theme in content.glob("*.toml"):
        colour = re.search(r'colour = "(#[0-9a-f]{6})"', theme.read_text())
        assert colour, theme
        drawing = STATIC / "img" / "themes" / f"{theme.stem}.svg"
        svg = drawing.read_text()
        ET.fromstring(svg)
        assert colour[1] in svg, f"{drawing.name} is not drawn in its theme's colour"


def test_for_you_lists_paths_for_the_persons_role(client, auth, make_user) -> None:
    make_user("plain@example.org")
    auth.login("plain@example.org")
    plain = client.get("/").get_data(as_text=True)
    assert "For you" not in plain and "Where do I start?" in plain
    auth.logout()
    make_user("tutor@example.org", roles={Role.TUTOR_TEACHER})
    auth.login("tutor@example.org")
    page = client.get("/").get_data(as_text=True)
    section = page[page.index('id="for-you-heading"') : page.index("catalogue-filter")]
    assert "Advanced" in section and "For your role: Tutor teachers" in section
    assert "Basics" not in section
    assert "Answer a short self-assessment" in section


def test_an_administrator_is_not_offered_every_path(client, auth, make_user) -> None:
    make_user("admin@example.org", roles={Role.ADMIN})
    auth.login("admin@example.org")
    assert 'id="for-you-heading"' not in client.get("/").get_data(as_text=True)


def test_for_you_lists_what_the_assessment_recommends(
    client,
    auth,
    make_user,
    journey,  # noqa: F811
    app,
) -> None:
    make_user()
    auth.login()
    _answer_all(client, _start(client), journey, FIRST)
    page = client.get("/").get_data(as_text=True)
    section = page[page.index('id="for-you-heading"') : page.index("catalogue-filter")]
    # The first three open recommendations (see test_results_rank_paths_with_explanations),
    # then the teachers' paths not yet listed (the person answered as a teacher).
    order = [section.index(title) for title in ("Basics", "Teach Path", "Lead Path")]
    assert order == sorted(order)
    assert section.count("Suggested by your assessment") == 3
    assert "Your answers in Strategy were at A2 (tried)" in section
    assert "Answer a short self-assessment" not in section
    with app.app_context():
        user = db.session.execute(db.select(User)).scalar_one()
        basics = db.session.execute(
            db.select(LearningPath).where(LearningPath.slug == "basics")
        ).scalar_one()
        db.session.add(PathCompletion(user_id=user.id, path_id=basics.id, completed_at=now()))
        db.session.commit()
    after = client.get("/").get_data(as_text=True)
    section = after[after.index('id="for-you-heading"') : after.index("catalogue-filter")]
    assert "Basics" not in section and "Teach Path" in section
