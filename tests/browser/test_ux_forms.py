"""Issue 13, items 3, 4 and 12 in a real browser: a refused quiz or reflection comes back with
what was given, the focus on the error summary, the errors beside their fields, a live count,
and quiz boxes whose radio buttons and legends keep their shape."""

from __future__ import annotations

import pytest

from tests.browser.conftest import assert_fits_narrow_screens
from tests.browser.conftest import check_page
from tests.browser.conftest import log_in

QUIZ = "/paths/tutor-teacher/planning-a-workshop"
REFLECTION = "/paths/digital-strategy/my-roadmap-reflection"


def test_a_partly_answered_quiz_comes_back_with_its_answers(live_server: str, page) -> None:  # type: ignore[no-untyped-def]
    base = live_server
    log_in(page, base, "taker-fi@omnia.fi")
    page.goto(base + QUIZ)
    questions = page.locator("fieldset.question")
    chosen = questions.nth(0).locator("input").nth(1)
    chosen.check()
    chosen_id = chosen.get_attribute("id")
    order = [i.get_attribute("id") for i in page.locator("form.quiz input").all()]
    page.get_by_role("button", name="Lähetä vastaukset").click()
    page.wait_for_load_state()

    # Refused, shown again: same order (shuffled per person and attempt), answer kept, focus on
    # the summary, each skipped question marked next to it.
    assert page.url == base + QUIZ + "/submit#activity-errors"
    assert [i.get_attribute("id") for i in page.locator("form.quiz input").all()] == order
    assert page.locator(f"#{chosen_id}").is_checked()
    assert page.evaluate("document.activeElement.id") == "activity-errors"
    assert page.locator("fieldset.forms-question-missing").count() == questions.count() - 1
    assert page.locator("#question-q2 .forms-field-error").is_visible()
    too_wide: dict[str, list[str]] = {}
    check_page(page, "fi", "quiz refused", too_wide)

    # The summary's link leads to the skipped question.
    page.locator("#activity-errors a").first.click()
    assert page.evaluate("document.activeElement.name") == "q-q2"

    # Reopening the address of the post is the module page, never a 405.
    response = page.goto(base + QUIZ + "/submit")
    assert response.status == 200 and page.url == base + QUIZ
    assert_fits_narrow_screens(too_wide)


def test_quiz_choices_keep_their_shape(live_server: str, page) -> None:  # type: ignore[no-untyped-def]
    base = live_server
    log_in(page, base, "taker-en@omnia.fi")
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(base + QUIZ)
        sizes = page.eval_on_selector_all(
            "form.quiz .choice input",
            "inputs => inputs.map(i => Math.round(i.getBoundingClientRect().width))",
        )
        assert len(set(sizes)) == 1 and sizes[0] >= 16, (width, sizes)
        # Each legend lies inside its fieldset, under the top border, not across it.
        straddling = page.eval_on_selector_all(
            "form.quiz fieldset.question",
            """sets => sets.filter(set => {
                const top = set.getBoundingClientRect().top + parseFloat(getComputedStyle(set).borderTopWidth);
                return set.querySelector('legend').getBoundingClientRect().top < top;
            }).length""",
        )
        assert straddling == 0, width


@pytest.mark.parametrize("in_language", ["en"], indirect=True)
def test_a_short_reflection_counts_live_and_keeps_the_text(live_server: str, in_language) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page = in_language
    base = live_server
    log_in(page, base, "taker-en@omnia.fi")
    page.goto(base + REFLECTION)
    count = page.locator("#text-count")
    assert count.get_attribute("aria-live") == "polite"
    assert count.inner_text().startswith("Characters: 0 of at least")
    page.locator("#text").fill("A first step")
    expect(count).to_contain_text("Characters: 12 of at least")
    page.get_by_role("button", name="Save reflection").click()
    page.wait_for_load_state()
    assert page.locator("#text").input_value() == "A first step"
    assert page.locator("#text").get_attribute("aria-invalid") == "true"
    assert "12 characters long" in page.locator("#text-error").inner_text()
    assert page.evaluate("document.activeElement.id") == "activity-errors"
    too_wide: dict[str, list[str]] = {}
    check_page(page, "en", "reflection refused", too_wide)
    assert_fits_narrow_screens(too_wide)
