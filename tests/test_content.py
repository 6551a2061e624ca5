"""The content checker: valid trees load, every problem is reported as file:line: message."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from campus.paths.content import KeyLines
from campus.paths.content import load_tree
from campus.paths.rendering import render_markdown
from tests.conftest import TEST_CONTENT


@pytest.fixture
def tree_copy(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(TEST_CONTENT, target)
    return target


def problems_of(root: Path) -> list[str]:
    return [str(problem) for problem in load_tree(root).problems]


def replace(file: Path, old: str, new: str) -> None:
    text = file.read_text()
    assert old in text, f"{old!r} not in {file}"
    file.write_text(text.replace(old, new))


def test_fixture_tree_is_valid() -> None:
    tree = load_tree(TEST_CONTENT)
    assert tree.problems == []
    assert [t.slug for t in tree.themes] == ["alpha", "beta"]
    basics = next(p for p in tree.paths if p.slug == "basics")
    assert [m.slug for m in basics.modules] == [
        "welcome",
        "check-quiz",
        "my-thoughts",
        "extra-reading",
    ]
    assert basics.modules[3].required is False
    assert basics.modules[1].settings["pass_mark"] == 60
    assert next(p for p in tree.paths if p.slug == "advanced").requires == ("basics",)


def test_invalid_toml_reports_its_line(tree_copy: Path) -> None:
    manifest = tree_copy / "paths/basics/welcome/module.toml"
    replace(manifest, "minutes = 5", "minutes = = 5")
    assert problems_of(tree_copy) == [
        p
        for p in problems_of(tree_copy)
        if p.startswith("content/paths/basics/welcome/module.toml:3: invalid TOML")
    ]
    assert len(problems_of(tree_copy)) == 1


def test_unknown_theme_points_at_the_theme_line(tree_copy: Path) -> None:
    replace(tree_copy / "paths/basics/path.toml", 'theme = "alpha"', 'theme = "gamma"')
    assert problems_of(tree_copy) == [
        "content/paths/basics/path.toml:2: `theme` must name an existing theme, not 'gamma'"
    ]


def test_missing_english_title_and_body(tree_copy: Path) -> None:
    module = tree_copy / "paths/basics/my-thoughts"
    replace(
        module / "module.toml",
        'title = { fi = "Pohdinta", en = "Reflection" }',
        'title = { fi = "Pohdinta" }',
    )
    (module / "module.en.md").unlink()
    assert sorted(problems_of(tree_copy)) == [
        "content/paths/basics/my-thoughts/module.toml:1: module.en.md is missing",
        "content/paths/basics/my-thoughts/module.toml:3: `title` lacks the `en` text",
    ]


def test_quiz_without_correct_choice_points_at_the_question(tree_copy: Path) -> None:
    quiz = tree_copy / "paths/basics/check-quiz/module.toml"
    replace(
        quiz,
        '{ id = "a", text = { fi = "Sininen", en = "Blue" }, correct = true }',
        '{ id = "a", text = { fi = "Sininen", en = "Blue" } }',
    )
    problems = problems_of(tree_copy)
    assert problems == [
        "content/paths/basics/check-quiz/module.toml:29: a question needs at least one correct choice"
    ]


def test_duplicate_choice_id_points_at_the_choice(tree_copy: Path) -> None:
    quiz = tree_copy / "paths/basics/check-quiz/module.toml"
    replace(
        quiz,
        '{ id = "c", text = { fi = "4", en = "4" }, correct = true }',
        '{ id = "a", text = { fi = "4", en = "4" }, correct = true }',
    )
    assert problems_of(tree_copy) == [
        "content/paths/basics/check-quiz/module.toml:23: choice id `a` is used twice"
    ]


def test_unlisted_and_missing_module_folders(tree_copy: Path) -> None:
    shutil.copytree(tree_copy / "paths/basics/welcome", tree_copy / "paths/basics/stray")
    replace(tree_copy / "paths/basics/path.toml", '"extra-reading"]', '"extra-reading", "ghost"]')
    assert sorted(problems_of(tree_copy)) == [
        "content/paths/basics/path.toml:8: folder `stray` is not listed in `modules`",
        "content/paths/basics/path.toml:8: module `ghost` is listed but its folder is missing",
    ]


def test_prerequisite_cycle_and_unknown_prerequisite(tree_copy: Path) -> None:
    replace(
        tree_copy / "paths/basics/path.toml",
        'badge = "basics"',
        'badge = "basics"\nrequires = ["advanced"]',
    )
    problems = problems_of(tree_copy)
    assert len(problems) == 1
    assert "prerequisites form a cycle" in problems[0]
    replace(
        tree_copy / "paths/basics/path.toml", 'requires = ["advanced"]', 'requires = ["nowhere"]'
    )
    assert problems_of(tree_copy) == [
        "content/paths/basics/path.toml:6: required path `nowhere` does not exist"
    ]


def test_unknown_keys_kinds_and_audiences_are_reported(tree_copy: Path) -> None:
    replace(
        tree_copy / "paths/basics/welcome/module.toml",
        'kind = "read"',
        'kind = "read"\npassmark = 3',
    )
    replace(tree_copy / "paths/advanced/deep-dive/module.toml", 'kind = "read"', 'kind = "video"')
    replace(tree_copy / "paths/advanced/path.toml", '["tutor_teachers"]', '["wizards"]')
    problems = sorted(problems_of(tree_copy))
    assert problems[0].startswith(
        "content/paths/advanced/deep-dive/module.toml:2: `kind` must be one of"
    )
    assert problems[1].startswith("content/paths/advanced/path.toml:4: unknown audience `wizards`")
    assert problems[2] == "content/paths/basics/welcome/module.toml:3: unknown key `passmark`"


def test_lti_module_settings_are_checked(tree_copy: Path) -> None:
    module = tree_copy / "paths/advanced/deep-dive/module.toml"
    replace(
        module,
        'kind = "read"',
        'kind = "lti"\ntool = "Quiz Tool"\npresentation = "popup"\npass_mark = 120',
    )
    assert sorted(problems_of(tree_copy)) == [
        "content/paths/advanced/deep-dive/module.toml:3: `tool` must be the short name of a registered LTI tool",
        'content/paths/advanced/deep-dive/module.toml:4: `presentation` must be "window" or "iframe"',
        "content/paths/advanced/deep-dive/module.toml:5: `pass_mark` must be a whole number 0–100",
    ]
    replace(module, 'tool = "Quiz Tool"', 'tool = "quiz-tool"')
    replace(module, 'presentation = "popup"', 'presentation = "iframe"')
    replace(module, "pass_mark = 120", 'pass_mark = 60\ncustom = { level = "2" }')
    tree = load_tree(tree_copy)
    assert tree.problems == []
    settings = next(m for p in tree.paths for m in p.modules if m.slug == "deep-dive").settings
    assert settings == {
        "tool": "quiz-tool",
        "url": None,
        "custom": {"level": "2"},
        "presentation": "iframe",
        "pass_mark": 60,
    }


def test_all_problems_are_reported_at_once(tree_copy: Path) -> None:
    replace(tree_copy / "themes/beta.toml", 'colour = "#6a3d9a"', 'colour = "purple"')
    replace(tree_copy / "paths/basics/my-thoughts/module.toml", "min_length = 40", "min_length = 2")
    (tree_copy / "paths/advanced/deep-dive/module.fi.md").write_text("   \n")
    assert sorted(problems_of(tree_copy)) == [
        "content/paths/advanced/deep-dive/module.fi.md:1: body is empty",
        "content/paths/basics/my-thoughts/module.toml:4: `min_length` must be a whole number 20–5000",
        'content/themes/beta.toml:3: `colour` must be a colour like "#0b5fa5"',
    ]


def test_markdown_is_sanitised() -> None:
    html = render_markdown(
        '# Title\n\n<script>alert(1)</script><img src=x onerror="alert(2)">\n\n'
        "[bad](javascript:alert(3)) [good](https://example.org)"
    )
    assert "<script" not in html and "onerror" not in html and "javascript:" not in html
    assert "<h2>Title</h2>" in html  # the page title is the only h1
    assert 'href="https://example.org"' in html and 'rel="noopener noreferrer"' in html


def test_leading_title_is_dropped_from_module_bodies() -> None:
    assert render_markdown("# Welcome\n\nText", drop_leading_title=True) == "<p>Text</p>"
    assert "<h2>Part</h2>" in render_markdown("Intro\n\n# Part\n", drop_leading_title=True)


def test_key_lines_find_array_tables_and_inline_elements() -> None:
    lines = KeyLines(
        'a = 1\n[[q]]\nid = "x"\nchoices = [\n  { id = "a" },\n  { id = "b" },\n]\n[[q]]\nid = "y"\n'
    )
    assert lines.line("a") == 1
    assert lines.line("q[0].choices[1]") == 6
    assert lines.line("q[1].id") == 9
    assert lines.line("q[1].prompt") == 8  # missing key: its table
    assert lines.line("nothing.here") == 1
