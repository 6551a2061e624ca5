"""Issue 13, layout, in a real browser: the menu button on a phone, the navigation without
JavaScript, the footer on short pages, the module's progress above its text on a phone, and the
catalogue's instant filter."""

from __future__ import annotations

import pytest

from tests.browser.conftest import log_in

PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1366, "height": 900}


@pytest.fixture
def phone(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="en-GB", viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def test_phone_header_is_compact_with_a_menu_button(live_server: str, phone) -> None:  # type: ignore[no-untyped-def]
    phone.goto(live_server + "/auth/login")
    button = phone.get_by_role("button", name="Menu")
    nav = phone.get_by_role("navigation", name="Main")
    assert button.is_visible() and not nav.is_visible()
    assert not phone.locator("#language-choice").is_visible()
    header = phone.locator(".site-header").bounding_box()
    assert header is not None and header["height"] < 844 / 8  # was a quarter of the screen
    button.click()
    assert button.get_attribute("aria-expanded") == "true"
    assert nav.is_visible() and phone.locator("#language-choice").is_visible()
    phone.keyboard.press("Escape")
    assert button.get_attribute("aria-expanded") == "false" and not nav.is_visible()
    assert phone.evaluate("document.activeElement.classList.contains('menu-toggle')")
    # The language switch works from inside the menu.
    button.click()
    phone.select_option("#language-choice", "fi")
    phone.get_by_role("button", name="Change").click()
    phone.wait_for_load_state()
    assert phone.locator("html").get_attribute("lang") == "fi"


def test_without_javascript_the_navigation_stays_visible(live_server: str, browser) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="en-GB", viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server + "/auth/login")
    assert page.get_by_role("navigation", name="Main").is_visible()
    assert not page.locator(".menu-toggle").is_visible()
    assert page.locator("#language-choice").is_visible()
    context.close()


def test_wide_screens_show_the_navigation_without_a_button(live_server: str, browser) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="en-GB", viewport=WIDE)
    page = context.new_page()
    page.goto(live_server + "/auth/login")
    assert page.get_by_role("navigation", name="Main").is_visible()
    assert not page.locator(".menu-toggle").is_visible()
    # A short page: the footer sits at the bottom of the window, not mid-screen.
    footer = page.locator(".site-footer").bounding_box()
    assert footer is not None and abs(footer["y"] + footer["height"] - WIDE["height"]) <= 1
    icon = page.locator("link[rel=icon]").get_attribute("href")
    assert icon and page.request.get(live_server + icon).ok
    context.close()


def test_module_progress_comes_before_the_text_on_a_phone(live_server: str, phone) -> None:  # type: ignore[no-untyped-def]
    log_in(phone, live_server, "taker-en@omnia.fi")
    phone.goto(live_server + "/paths/digital-strategy/from-strategy-to-roadmap")
    bar = phone.locator(".path-outline [role=progressbar]").bounding_box()
    article = phone.locator("article.module").bounding_box()
    assert bar is not None and article is not None
    assert bar["y"] + bar["height"] <= article["y"] < 844 / 3
    phone.set_viewport_size(WIDE)
    bar = phone.locator(".path-outline [role=progressbar]").bounding_box()
    article = phone.locator("article.module").bounding_box()
    assert bar is not None and article is not None and bar["x"] > article["x"] + article["width"]


def test_catalogue_filters_as_you_type(live_server: str, phone) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    phone.goto(live_server + "/")
    status = phone.locator("#catalogue-count")
    assert status.inner_text() == "10 paths shown"
    assert not phone.locator(".catalogue-filter-submit").is_visible()  # no button needed
    phone.fill("#catalogue-search", "Mandate ROLE")
    expect(status).to_have_text("1 path shown")  # after the person pauses typing
    visible = phone.locator(".catalogue-themes .path-card:visible h3")
    assert visible.all_inner_texts() == ["Working as a tutor teacher"]
    assert phone.locator("section.theme:visible").count() == 1  # no empty theme sections
    phone.fill("#catalogue-search", "")
    expect(status).to_have_text("10 paths shown")
    phone.select_option("#audience", "leaders")
    expect(status).to_have_text("4 paths shown")
    assert phone.locator("section.theme:visible").count() == 4
    phone.fill("#catalogue-search", "zzzz")
    expect(status).to_have_text("No paths match. Try other words or show paths for everyone.")
    assert phone.locator("section.theme:visible").count() == 0
    # Every card carries its theme's drawing, decorative.
    assert phone.locator(".path-card img.path-art[alt='']").count() == 10
