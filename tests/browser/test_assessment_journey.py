"""The starting-point assessment in a real browser, in Finnish and in English: a learner answers
the shipped staff instrument area by area, sees the chart of their profile, adds a recommended
path to their plan and finds it on the dashboard. Every page on the way, and the organisation
and regional views over the demo respondents, get an axe-core WCAG 2.1 AA scan and a 390 px
check (no sideways scrolling). Selectors go by form actions and values, not by words, so the
same steps run in both languages."""

from __future__ import annotations

import re
import tomllib

import pytest

from campus.assessments.demo import DEMO_REGION_SLUG
from campus.config import REPO_ROOT
from tests.browser.conftest import WIDER_THAN_SCREEN  # noqa: F401  (used by other modules)
from tests.browser.conftest import assert_fits_narrow_screens
from tests.browser.conftest import check_page
from tests.browser.conftest import log_in

INSTRUMENT = "staff-digital-competence"


def shipped_areas() -> list[dict]:
    text = (REPO_ROOT / "content/assessments" / INSTRUMENT / "instrument.toml").read_text()
    return tomllib.loads(text)["areas"]


@pytest.mark.parametrize("in_language", ["fi", "en"], indirect=True)
def test_learner_takes_the_assessment_and_plans_a_path(live_server: str, in_language) -> None:  # type: ignore[no-untyped-def]
    page, base, language = in_language, live_server, in_language.language
    too_wide: dict[str, list[str]] = {}
    log_in(page, base, f"taker-{language}@omnia.fi")

    page.goto(f"{base}/assessments/")
    check_page(page, language, "index", too_wide)
    page.locator(f"a[href$='/assessments/instruments/{INSTRUMENT}']").first.click()
    page.wait_for_url(f"{base}/assessments/instruments/{INSTRUMENT}")
    check_page(page, language, "instrument", too_wide)
    page.check("input[name=staff_group][value=teacher]")
    page.locator(f"form[action$='/instruments/{INSTRUMENT}/start'] button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/assessments/responses/\d+/areas/1$"))

    areas = shipped_areas()
    for number, area in enumerate(areas, start=1):
        assert page.url.endswith(f"/areas/{number}")
        questions = page.locator("fieldset.question")
        assert questions.count() == len(area["items"])  # every item of the shipped area
        if number == 1:
            check_page(page, language, "take", too_wide)
        for index in range(questions.count()):
            # Low answers (A2, or "disagree"), so that there are gaps for paths to fill.
            questions.nth(index).locator("input[type=radio][value='2']").check()
        if number == 3:  # leave and resume: the answers so far are kept
            page.locator("button[name=action][value=later]").click()
            page.wait_for_url(f"{base}/assessments/")
            page.goto(f"{base}/assessments/instruments/{INSTRUMENT}")
            page.locator("a.button.primary[href*='/areas/']").click()
            page.wait_for_url(re.compile(r".*/areas/4$"))
            continue
        page.locator("button[name=action][value=next]").click()
        page.wait_for_load_state()
        if number < len(areas):
            page.wait_for_url(re.compile(rf".*/areas/{number + 1}$"))

    page.wait_for_url(re.compile(r".*/responses/\d+/review$"))
    check_page(page, language, "review", too_wide)
    page.locator("form[action$='/submit'] button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/responses/\d+/results$"))

    # The profile: an SVG chart with a title and a description, and the same data as a table.
    chart = page.locator("svg[role=img]").first
    assert chart.is_visible()
    assert chart.locator("title").count() == 1 and chart.locator("desc").count() == 1
    assert page.locator("table caption").first.is_visible()
    assert page.locator("table tbody tr").count() >= len(areas)
    check_page(page, language, "results", too_wide)

    # The recommendation with the longest title: the plan and dashboard must fit it on a phone.
    titles = page.locator("li.recommendation h3 a").all_inner_texts()
    assert titles, "no recommended paths after low answers"
    title = max(titles, key=len)
    recommendation = page.locator("li.recommendation", has=page.get_by_role("link", name=title))
    assert recommendation.locator(".explanation").inner_text().strip()
    recommendation.locator("form[action$='/plan/add'] button").click()
    page.wait_for_url(re.compile(r".*/responses/\d+/results$"))
    assert page.locator(".flash-success").first.is_visible()
    added = page.locator("li.recommendation", has=page.get_by_role("link", name=title))
    assert added.locator("form[action$='/plan/add']").count() == 0  # now "in your plan"

    page.goto(f"{base}/assessments/plan")
    assert page.get_by_role("link", name=title).count() == 1
    check_page(page, language, "plan", too_wide)
    page.goto(f"{base}/dashboard")
    assert page.locator("#my-plan").count() == 1
    plan = page.locator("section[aria-labelledby=my-plan]")
    assert plan.get_by_role("link", name=title).count() == 1
    assert_fits_narrow_screens(too_wide)


@pytest.mark.parametrize("in_language", ["fi", "en"], indirect=True)
def test_organisation_and_region_views_over_the_demo_respondents(
    live_server: str, in_language
) -> None:  # type: ignore[no-untyped-def]
    page, base, language = in_language, live_server, in_language.language
    too_wide: dict[str, list[str]] = {}
    log_in(page, base, "leader@demo.fi")
    page.goto(f"{base}/assessments/organisation/")
    page.wait_for_url(re.compile(r".*/assessments/organisation/\d+/rounds$"))
    check_page(page, language, "rounds", too_wide)
    page.locator("table th[scope=row] a").first.click()  # the newest round
    page.wait_for_url(re.compile(r".*/rounds/\d+$"))
    check_page(page, language, "round", too_wide)
    page.locator("a[href$='/results']").click()
    page.wait_for_url(re.compile(r".*/rounds/\d+/results$"))
    assert page.locator("svg[role=img]").count() >= 1
    means = page.locator("#areas-chart-caption").locator("xpath=..").inner_text()
    assert re.search(r"\d[.,]\d", means), means  # real aggregates, not only "too few answers"
    check_page(page, language, "organisation results", too_wide)

    page.context.clear_cookies()
    log_in(page, base, "developer@demo.fi")
    page.goto(f"{base}/assessments/region/{DEMO_REGION_SLUG}")
    assert page.get_by_text("Demoseudun ammattiopisto").count() >= 1
    check_page(page, language, "region", too_wide)
    assert_fits_narrow_screens(too_wide)
