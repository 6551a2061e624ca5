"""Issue 13, items 3, 4 and 12: activity forms keep what was given, show errors beside the
fields, and quizzes show one score format, optional shuffling and fair shipped answers."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from campus.config import REPO_ROOT
from campus.extensions import db
from campus.paths import services
from campus.paths.content import load_tree
from campus.paths.models import PathCompletion
from campus.paths.models import QuizAttempt
from tests.conftest import TEST_CONTENT
from tests.conftest import now

QUIZ = "/paths/basics/check-quiz"


@pytest.fixture
def learner(client: FlaskClient, auth, make_user) -> int:
    user_id = make_user()
    auth.login()
    return user_id


def attempts(app: Flask) -> int:
    with app.app_context():
        return db.session.execute(db.select(db.func.count()).select_from(QuizAttempt)).scalar_one()


def tag(page: str, element_id: str) -> str:
    match = re.search(rf'<[a-z]+[^>]*\bid="{element_id}"[^>]*>', page)
    assert match, f"no element #{element_id}"
    return match[0]


# --- 3. a partly answered quiz --------------------------------------------------------------


def test_a_partly_answered_quiz_keeps_the_answers_and_marks_the_skipped_question(
    client: FlaskClient, learner: int, app: Flask
) -> None:
    response = client.post(f"{QUIZ}/submit", data={"q-q1": "b", "q-q3": "a"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "checked" in tag(page, "q-q1-b") and "checked" in tag(page, "q-q3-a")
    assert "checked" not in tag(page, "q-q1-a")
    # The skipped question says so beside it, tied to it; the others do not.
    assert "forms-question-missing" in tag(page, "question-q2")
    assert 'aria-describedby="q-q2-error"' in tag(page, "question-q2")
    assert 'aria-invalid="true"' in tag(page, "q-q2-a")
    assert "Choose an answer to this question." in page
    assert "forms-question-missing" not in tag(page, "question-q1")
    # The summary above the form links to it, and the form comes back to the summary.
    assert '<a href="#q-q2-a">Question 2: choose an answer.</a>' in page
    assert 'action="/paths/basics/check-quiz/submit#activity-errors"' in page
    assert 'id="activity-errors"' in page and "flash-error" not in page
    assert attempts(app) == 0


def test_the_submit_address_opened_again_leads_to_the_module(
    client: FlaskClient, learner: int
) -> None:
    for address in (f"{QUIZ}/submit", f"{QUIZ}/quiz", "/paths/basics/my-thoughts/reflection"):
        response = client.get(address)
        assert response.status_code == 302, address
        assert response.headers["Location"] == address.rsplit("/", 1)[0]
    assert client.get("/paths/basics/nope/submit").status_code == 404
    # A graded attempt redirects (post/redirect/get) to its result.
    graded = client.post(f"{QUIZ}/submit", data={"q-q1": "a", "q-q2": "b", "q-q3": "b"})
    assert graded.status_code == 302 and graded.headers["Location"] == f"{QUIZ}#quiz-result"


# --- 4. errors beside the field ----------------------------------------------------------------


def test_a_short_reflection_is_kept_with_its_error_and_count_beside_the_field(
    client: FlaskClient, learner: int
) -> None:
    response = client.post("/paths/basics/my-thoughts/submit", data={"text": "Too short,\r\nok"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    area = tag(page, "text")
    assert 'aria-invalid="true"' in area
    assert 'aria-describedby="text-hint text-error text-count"' in area
    assert 'data-forms-minimum="40"' in area
    assert re.search(r'id="text-error">.*at least 40 are needed', page)
    assert "Too short,\r\nok</textarea>" in page or "Too short,\nok</textarea>" in page
    assert '<a href="#text">Your reflection is 13 characters long' in page
    count = tag(page, "text-count")
    assert 'aria-live="polite"' in count and "Characters: 13 of at least 40." in page
    assert "flash-error" not in page
    assert "js/forms-activity.js" in page
    # Accepted: post/redirect/get, to the page's messages.
    saved = client.post("/paths/basics/my-thoughts/submit", data={"text": "x" * 40})
    assert saved.status_code == 302 and saved.headers["Location"].endswith("my-thoughts#main")
    # The page shown again counts the saved text.
    fresh = client.get("/paths/basics/my-thoughts").get_data(as_text=True)
    assert "Characters: 40. The minimum of 40 is reached." in fresh
    assert "aria-invalid" not in tag(fresh, "text")


def test_the_evidence_form_states_what_is_needed_and_errors_sit_on_their_fields(
    client: FlaskClient, learner: int, app: Flask
) -> None:
    with app.app_context():
        basics = services.get_path("basics")
        db.session.add(PathCompletion(user_id=learner, path_id=basics.id, completed_at=now()))
        db.session.commit()
    url = "/paths/advanced/show-your-work"
    page = client.get(url).get_data(as_text=True)
    assert "a description of at least 20 characters, and a link, a file or both" in page
    assert 'accept=".pdf,.png,' in tag(page, "file")
    assert "Characters: 0 of at least 20." in page

    short = client.post(
        f"{url}/submit",
        data={"description": "Too short.", "link": "x", "file": (io.BytesIO(b"%PDF"), "plan.pdf")},
        content_type="multipart/form-data",
    )
    text = short.get_data(as_text=True)
    assert short.status_code == 400 and 'aria-invalid="true"' in tag(text, "description")
    assert re.search(r'id="description-error">.*in at least 20 characters', text)
    assert 'value="x"' in tag(text, "link")  # what was typed is kept
    assert "choose plan.pdf again" in text  # a browser cannot keep a chosen file

    description = "My plan for the workshop, step by step."
    wrong_type = client.post(
        f"{url}/submit",
        data={"description": description, "file": (io.BytesIO(b"MZ"), "tool.exe")},
        content_type="multipart/form-data",
    )
    text = wrong_type.get_data(as_text=True)
    assert wrong_type.status_code == 400 and 'aria-invalid="true"' in tag(text, "file")
    assert re.search(r'id="file-error">.*Files of this type are not accepted', text)
    assert "choose tool.exe again" not in text and f"{description}</textarea>" in text
    assert 'aria-invalid="true"' not in tag(text, "description")


# --- 12. quiz glitches --------------------------------------------------------------------------


def test_scores_have_one_format_in_the_readers_locale(
    client: FlaskClient, learner: int, app: Flask
) -> None:
    failed = client.post(
        f"{QUIZ}/submit", data={"q-q1": "b", "q-q2": "b", "q-q3": "b"}, follow_redirects=True
    )
    page = failed.get_data(as_text=True)
    assert "You got 33.3% (1/3); 60% is needed to pass." in page
    assert "Your latest attempt: 33.3% (1/3)" in page and "Pass mark: 60%." in page
    activity = page[page.index('<section class="activity') : page.index("</section>")]
    assert " %" not in activity  # no "33.3 %" left in English
    finnish = client.get(QUIZ, headers={"Accept-Language": "fi"})
    assert "33,3\xa0% (1/3)" in finnish.get_data(as_text=True)
    from campus.paths.kinds.quiz import percent

    with app.test_request_context(headers={"Accept-Language": "sv"}):
        assert percent(20.0) == "20\xa0%" and percent(66.7) == "66,7\xa0%"


def test_shuffle_is_checked_and_stable_per_person_and_attempt(tmp_path: Path) -> None:
    from campus.paths.kinds.quiz import choice_order

    root = tmp_path / "content"
    shutil.copytree(TEST_CONTENT, root)
    manifest = root / "paths/basics/check-quiz/module.toml"
    text = manifest.read_text()
    manifest.write_text(text.replace("max_attempts = 3", 'max_attempts = 3\nshuffle = "yes"'))
    assert any("shuffle" in str(p) for p in load_tree(root).problems)
    manifest.write_text(text.replace("max_attempts = 3", "max_attempts = 3\nshuffle = true"))
    tree = load_tree(root)
    assert tree.problems == []
    settings = next(m for p in tree.paths for m in p.modules if m.slug == "check-quiz").settings
    assert settings["shuffle"] is True
    settings = {**settings, "questions": [_many_choices()]}

    def ids(user: int, attempt: int) -> list[str]:
        return [c["id"] for c in choice_order(settings, user, 7, attempt)["q"]]

    assert ids(1, 0) == ids(1, 0)  # the same form shown again keeps its order
    orders = {tuple(ids(user, attempt)) for user in range(1, 4) for attempt in range(3)}
    assert len(orders) > 1 and all(sorted(o) == list("abcdefgh") for o in orders)
    unshuffled = {**settings, "shuffle": False}
    assert [c["id"] for c in choice_order(unshuffled, 1, 7, 0)["q"]] == list("abcdefgh")


def _many_choices() -> dict:
    return {
        "id": "q",
        "choices": [{"id": c, "text": {"en": c}, "correct": c == "a"} for c in "abcdefgh"],
    }


def test_a_shuffled_quiz_keeps_its_order_when_shown_again(
    client: FlaskClient, learner: int, app: Flask
) -> None:
    with app.app_context():
        module = services.get_module(services.get_path("basics"), "check-quiz")
        module.settings = {
            **module.settings,
            "shuffle": True,
            "questions": [_many_choices(), *module.settings["questions"]],
        }
        db.session.commit()
    first = client.get(QUIZ).get_data(as_text=True)
    refused = client.post(f"{QUIZ}/submit", data={"q-q": "c"}).get_data(as_text=True)

    def order(page: str) -> list[str]:
        return re.findall(r'id="q-q-([a-h])"', page)

    assert order(first) == order(refused) != list("abcdefgh")
    assert "checked" in tag(refused, "q-q-c")


def test_in_the_shipped_quizzes_the_right_answer_is_not_usually_the_longest() -> None:
    """In no more than half of the questions is a right answer at least as long as every wrong
    one, in any of the question's languages."""
    tree = load_tree(REPO_ROOT / "content")
    questions = [
        question
        for path in tree.paths
        for module in path.modules
        if module.kind == "quiz"
        for question in module.settings["questions"]
    ]
    assert len(questions) >= 40

    def right_is_longest(question: dict) -> bool:
        languages = {lang for choice in question["choices"] for lang in choice["text"]}
        for lang in languages:
            lengths = {True: 0, False: 0}
            for choice in question["choices"]:
                size = len(choice["text"].get(lang, ""))
                lengths[choice["correct"]] = max(lengths[choice["correct"]], size)
            if lengths[True] >= lengths[False]:
                return True
        return False

    longest = [q["id"] for q in questions if right_is_longest(q)]
    assert len(longest) <= len(questions) / 2, f"{len(longest)} of {len(questions)}"
