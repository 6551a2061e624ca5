"""Assessment instruments as content files: every problem as file:line, and a sync that is
all or nothing (with paths and badges), idempotent, and never deletes what answers point at."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from flask import Flask

from campus.assessments.content import load_instruments
from campus.assessments.content import path_folders
from campus.assessments.models import Answer
from campus.assessments.models import AssessmentArea
from campus.assessments.models import AssessmentItem
from campus.assessments.models import AssessmentResponse
from campus.assessments.models import Instrument
from campus.assessments.models import Respondent
from campus.assessments.models import Scale
from campus.assessments.models import StaffGroup
from campus.auth.models import User
from campus.config import REPO_ROOT
from campus.extensions import db
from campus.paths import services
from campus.paths.models import LearningPath

FILE = "content/assessments/test-skills/instrument.toml"

# A small valid instrument over the test tree's paths (basics, advanced): two areas, each with a
# levels item and an agreement item. Line numbers below refer to this text.
TEST_SKILLS = """\
version = 1
position = 1
respondent = "person"
audience = ["all_staff"]
minutes = 10
title = { fi = "Testitaidot", en = "Test skills", sv = "Testfärdigheter" }
summary = { fi = "Lyhyt testikysely.", en = "A short test instrument." }

[[areas]]
key = "basics-area"
title = { fi = "Perusteet", en = "Basics", sv = "Grunder" }
description = { fi = "Perusasiat.", en = "The basics." }

[[areas.items]]
key = "plan-lessons"
scale = "levels"
statement = { fi = "Suunnittelen opetusta digitaalisesti.", en = "I plan teaching digitally." }
levels = [
  { fi = "Tiedän", en = "I am aware" },
  { fi = "Olen kokeillut", en = "I have tried" },
  { fi = "Käytän", en = "I use" },
  { fi = "Analysoin ja valitsen", en = "I analyse and select" },
  { fi = "Pohdin", en = "I reflect" },
  { fi = "Käynnistän", en = "I initiate" },
]
not_relevant = true
alignment = "DigCompEdu 2.1"
paths = ["basics"]

[[areas.items]]
key = "share-goals"
scale = "agreement"
statement = { fi = "Jaamme tavoitteet.", en = "We share goals." }
paths = ["basics", "advanced"]

[[areas]]
key = "advanced-area"
title = { fi = "Syventävät", en = "Advanced" }

[[areas.items]]
key = "show-work"
scale = "levels"
statement = { fi = "Näytän osaamiseni.", en = "I show my work." }
levels = [
  { fi = "A1", en = "A1" }, { fi = "A2", en = "A2" }, { fi = "B1", en = "B1" },
  { fi = "B2", en = "B2" }, { fi = "C1", en = "C1" }, { fi = "C2", en = "C2" },
]
alignment = "3.1"
paths = ["advanced"]

[[areas.items]]
key = "agree-on-tools"
scale = "agreement"
statement = { fi = "Sovimme työkaluista.", en = "We agree on tools." }
not_relevant = true
"""


def write_test_skills(content: Path, slug: str = "test-skills", toml: str = TEST_SKILLS) -> Path:
    """Write the instrument into `content/assessments/<slug>/`; other tests may use it too."""
    folder = content / "assessments" / slug
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "instrument.toml").write_text(toml, encoding="utf-8")
    (folder / "intro.fi.md").write_text("# Ohje\n\nVastaa <script>x</script>**rehellisesti**.\n")
    (folder / "intro.en.md").write_text("# Intro\n\nAnswer **honestly**.\n")
    return folder


def problems_of(content: Path) -> list[str]:
    return [str(p) for p in load_instruments(content, path_folders(content))[1]]


def replace(file: Path, old: str, new: str) -> None:
    text = file.read_text()
    assert old in text, f"{old!r} not in {file}"
    file.write_text(text.replace(old, new, 1))


@pytest.fixture
def content(runner_dir: Path) -> Path:
    """A copy of the test tree (paths `basics` and `advanced`) with the valid instrument."""
    write_test_skills(runner_dir)
    return runner_dir


def test_valid_instrument_loads(content: Path) -> None:
    specs, problems = load_instruments(content, path_folders(content))
    assert problems == []
    [spec] = specs
    assert (spec.slug, spec.respondent, spec.audience, spec.minutes) == (
        "test-skills",
        Respondent.PERSON,
        ("all_staff",),
        10,
    )
    assert [area.key for area in spec.areas] == ["basics-area", "advanced-area"]
    assert [(i.key, i.scale, len(i.levels)) for i in spec.items] == [
        ("plan-lessons", Scale.LEVELS, 6),
        ("share-goals", Scale.AGREEMENT, 0),
        ("show-work", Scale.LEVELS, 6),
        ("agree-on-tools", Scale.AGREEMENT, 0),
    ]
    plan = spec.items[0]
    assert plan.levels[5] == {"fi": "Käynnistän", "en": "I initiate"}
    assert (plan.not_relevant, plan.alignment, plan.paths) == (True, "DigCompEdu 2.1", ("basics",))
    assert spec.areas[1].description == {}
    # The page shows the title as h1: the intro's own `# Title` goes; raw HTML is removed.
    assert spec.intro_html["fi"] == "<p>Vastaa <strong>rehellisesti</strong>.</p>"
    assert set(spec.intro_html) == {"fi", "en"}


def test_no_assessments_folder_means_no_instruments(runner_dir: Path) -> None:
    assert load_instruments(runner_dir, path_folders(runner_dir)) == ([], [])


BAD_MANIFESTS = [
    ("version = 1", "version = 2", [f"{FILE}:1: `version = 1` is required"]),
    ("minutes = 10", "minutes = = 10", [f"{FILE}:5: invalid TOML"]),
    ("minutes = 10", 'minutes = 10\ncolour = "red"', [f"{FILE}:6: unknown key `colour`"]),
    ("position = 1", "position = 0", [f"{FILE}:2: `position` must be a whole number 1–99"]),
    ("minutes = 10", "minutes = 0", [f"{FILE}:5: `minutes` must be a whole number 1–600"]),
    (
        'respondent = "person"',
        'respondent = "team"',
        [f"{FILE}:3: `respondent` must be person or organisation"],
    ),
    (
        'audience = ["all_staff"]',
        'audience = ["everyone"]',
        [
            f"{FILE}:4: unknown audience `everyone` (use: all_staff, leaders, regional_developers, "
            "support_staff, teachers, tutor_teachers)"
        ],
    ),
    (
        'audience = ["all_staff"]',
        "audience = []",
        [f"{FILE}:4: `audience` needs at least one group"],
    ),
    (
        'en = "Test skills", ',
        "",
        [f"{FILE}:6: `title` lacks the `en` text"],
    ),
    (
        'summary = { fi = "Lyhyt testikysely.", en = "A short test instrument." }\n',
        "",
        [f"{FILE}:1: `summary` is required (a table with fi and en texts)"],
    ),
    (
        'title = { fi = "Perusteet", en = "Basics", sv = "Grunder" }',
        'title = { fi = "Perusteet", en = "Basics", de = "Grundlagen" }',
        [f"{FILE}:11: area `basics-area`: `title` has unknown language `de` (use fi, sv, en)"],
    ),
    (
        'key = "basics-area"',
        'key = "basics-area"\nicon = "star"',
        [f"{FILE}:11: area `basics-area`: unknown key `icon`"],
    ),
    (
        'key = "advanced-area"',
        'key = "basics-area"',
        [f"{FILE}:37: area `basics-area`: key `basics-area` is already used by area 1"],
    ),
    (
        'key = "advanced-area"',
        'key = "Advanced"',
        [f"{FILE}:37: area 2: `key` must be a slug, not 'Advanced'"],
    ),
    (
        'key = "show-work"',
        'key = "plan-lessons"',
        [
            f"{FILE}:41: item `plan-lessons`: key `plan-lessons` is already used in area `basics-area`"
        ],
    ),
    (
        'key = "share-goals"\n',
        "",
        [f"{FILE}:30: area `basics-area`, item 2: `key` is required (a slug)"],
    ),
    (
        'scale = "agreement"\nstatement = { fi = "Jaamme',
        'scale = "stars"\nstatement = { fi = "Jaamme',
        [f"{FILE}:32: item `share-goals`: `scale` must be levels or agreement"],
    ),
    (
        'statement = { fi = "Jaamme tavoitteet.", en = "We share goals." }',
        'statement = { en = "We share goals." }',
        [f"{FILE}:33: item `share-goals`: `statement` lacks the `fi` text"],
    ),
    (
        '  { fi = "Käynnistän", en = "I initiate" },\n',
        "",
        [f"{FILE}:18: item `plan-lessons`: `levels` needs exactly six statements (A1 … C2), not 5"],
    ),
    (
        '{ fi = "Käytän", en = "I use" }',
        '{ fi = "Käytän" }',
        [f"{FILE}:21: item `plan-lessons`, levels: `B1` lacks the `en` text"],
    ),
    (
        '{ fi = "Pohdin", en = "I reflect" }',
        '{ fi = "Pohdin", en = "" }',
        [f"{FILE}:23: item `plan-lessons`, levels: `C1.en` must be non-empty text"],
    ),
    # Several levels on one line: the problem points at `levels` itself.
    (
        '{ fi = "B2", en = "B2" }',
        '{ fi = "B2" }',
        [f"{FILE}:44: item `show-work`, levels: `B2` lacks the `en` text"],
    ),
    (
        'levels = [\n  { fi = "A1"',
        'levels = "six"\nold = [\n  { fi = "A1"',
        [
            f"{FILE}:45: item `show-work`: unknown key `old`",
            f"{FILE}:44: item `show-work`: `levels` must be a list of six text tables (A1 … C2)",
        ],
    ),
    (
        'key = "show-work"\nscale = "levels"',
        'key = "show-work"\nscale = "agreement"',
        [
            f"{FILE}:44: item `show-work`: agreement items use the campus's five-point labels: "
            "remove `levels`"
        ],
    ),
    (
        'key = "share-goals"\nscale = "agreement"',
        'key = "share-goals"\nscale = "levels"',
        [
            f'{FILE}:30: item `share-goals`: `levels` is required for scale = "levels" (six statements)'
        ],
    ),
    (
        'alignment = "3.1"',
        'alignment = "' + "x" * 41 + '"',
        [f"{FILE}:48: item `show-work`: `alignment` must be text of 1–40 characters"],
    ),
    (
        "not_relevant = true\nalignment",
        'not_relevant = "yes"\nalignment',
        [f"{FILE}:26: item `plan-lessons`: `not_relevant` must be true or false"],
    ),
    (
        'paths = ["basics"]',
        'paths = ["basics", "nowhere"]',
        [f"{FILE}:28: item `plan-lessons`: path `nowhere` in `paths` does not exist"],
    ),
    (
        'paths = ["advanced"]',
        'paths = ["advanced", "advanced"]',
        [f"{FILE}:49: item `show-work`: `paths` lists the same slug twice"],
    ),
    (
        'not_relevant = true\n"""',
        'not_relevant = true\nweight = 2\n"""',
        [f"{FILE}:56: item `agree-on-tools`: unknown key `weight`"],
    ),
]


@pytest.mark.parametrize(("old", "new", "expected"), BAD_MANIFESTS)
def test_bad_manifest_reports_file_and_line(
    runner_dir: Path, old: str, new: str, expected: list[str]
) -> None:
    source = TEST_SKILLS + '"""'  # so that the last line can be matched too
    assert old in source, old
    write_test_skills(runner_dir, toml=source.replace(old, new, 1).removesuffix('"""'))
    problems = problems_of(runner_dir)
    if expected[0].endswith("invalid TOML"):
        assert len(problems) == 1 and problems[0].startswith(expected[0])
    else:
        assert problems == expected


def test_area_without_items_and_instrument_without_areas(runner_dir: Path) -> None:
    no_items = TEST_SKILLS[: TEST_SKILLS.index('[[areas.items]]\nkey = "show-work"')]
    write_test_skills(runner_dir, toml=no_items)
    assert problems_of(runner_dir) == [
        f"{FILE}:36: area `advanced-area`: at least one item is required (`[[areas.items]]`)"
    ]
    write_test_skills(runner_dir, toml=TEST_SKILLS[: TEST_SKILLS.index("[[areas]]")])
    assert problems_of(runner_dir) == [f"{FILE}:1: at least one area is required (`[[areas]]`)"]
    write_test_skills(runner_dir, toml=TEST_SKILLS[: TEST_SKILLS.index("[[areas]]")] + "areas = 3")
    assert problems_of(runner_dir) == [
        f"{FILE}:9: `areas` must be an array of tables (`[[areas]]`)"
    ]


def test_folder_files_and_intros(runner_dir: Path) -> None:
    folder = write_test_skills(runner_dir)
    (folder / "intro.en.md").unlink()
    (folder / "intro.de.md").write_text("Hallo\n")
    (folder / "intro.sv.md").write_text("  \n")
    assert problems_of(runner_dir) == [
        "content/assessments/test-skills/intro.de.md:1: intro files are named intro.fi.md, "
        "intro.en.md or intro.sv.md",
        "content/assessments/test-skills/intro.sv.md:1: intro is empty",
        f"{FILE}:1: intro.en.md is missing",
    ]
    shutil.rmtree(folder)
    bad = write_test_skills(runner_dir, slug="Test_Skills")
    (runner_dir / "assessments/empty").mkdir()
    assert problems_of(runner_dir) == [
        "content/assessments/Test_Skills/instrument.toml:1: `Test_Skills` is not a valid slug "
        "for a folder name",
        "content/assessments/empty/instrument.toml:1: instrument.toml is missing",
    ]
    shutil.rmtree(bad)


def test_deep_markdown_intro_is_a_problem_not_a_crash(runner_dir: Path) -> None:
    folder = write_test_skills(runner_dir)
    # 300 levels: a small file, deeper than the renderer can follow.
    (folder / "intro.en.md").write_text(
        "# Intro\n\n" + "".join("    " * n + "- x\n" for n in range(300))
    )
    assert problems_of(runner_dir) == [
        "content/assessments/test-skills/intro.en.md:302: lists or quotes nest too deeply to show"
    ]


def test_positions_are_unique_and_order_the_instruments(runner_dir: Path) -> None:
    write_test_skills(runner_dir, slug="b-second")
    write_test_skills(
        runner_dir, slug="a-first", toml=TEST_SKILLS.replace("position = 1", "position = 2")
    )
    specs, problems = load_instruments(runner_dir, path_folders(runner_dir))
    assert problems == [] and [s.slug for s in specs] == ["b-second", "a-first"]
    write_test_skills(runner_dir, slug="c-third")
    assert problems_of(runner_dir) == [
        "content/assessments/c-third/instrument.toml:2: position 1 is already used by "
        "instrument `b-second`"
    ]


def test_a_broken_path_is_not_blamed_on_the_instrument(content: Path) -> None:
    (content / "paths/basics/path.toml").write_text("version = 2\n")
    assert problems_of(content) == []


def test_shipped_instruments_are_valid() -> None:
    root = REPO_ROOT / "content"
    specs, problems = load_instruments(root, path_folders(root))
    assert [str(p) for p in problems] == []
    assert specs, "content/assessments/ ships no instruments"


# Sync ---------------------------------------------------------------------------------------


def snapshot() -> list[tuple]:
    rows: list[tuple] = []
    for model in (Instrument, AssessmentArea, AssessmentItem):
        for row in db.session.execute(db.select(model).order_by(model.id)).scalars():
            values = {c.name: getattr(row, c.name) for c in model.__table__.columns}
            rows.append((model.__name__, sorted(values.items(), key=str)))
    for path in db.session.execute(db.select(LearningPath).order_by(LearningPath.id)).scalars():
        rows.append(("path", path.slug, path.content_hash, path.title))
    return rows


def sync(app: Flask, content: Path):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(args=["content", "sync", "--dir", str(content)])


def item_of(key: str) -> AssessmentItem:
    return db.session.execute(
        db.select(AssessmentItem).where(AssessmentItem.key == key)
    ).scalar_one()


def answer(user_id: int, item: AssessmentItem, value: int) -> None:
    """A saved answer pointing at `item` (what retiring must never orphan)."""
    user = db.session.get(User, user_id)
    response = AssessmentResponse(
        instrument_id=item.area.instrument_id,
        user_id=user_id,
        organisation_id=user.organisation_id,
        staff_group=StaffGroup.TEACHER,
    )
    response.answers.append(Answer(item_id=item.id, value=value))
    db.session.add(response)
    db.session.commit()


def test_valid_instrument_syncs_and_a_second_sync_is_a_no_op(app: Flask, content: Path) -> None:
    first = sync(app, content)
    assert first.exit_code == 0, first.output
    assert "created  instrument test-skills" in first.output
    assert "instrument item" not in first.output  # a new instrument is one line, not one per item
    assert "1 assessment instruments in use." in first.output
    with app.app_context():
        instrument = db.session.execute(db.select(Instrument)).scalar_one()
        assert (instrument.slug, instrument.respondent, instrument.position) == (
            "test-skills",
            Respondent.PERSON,
            1,
        )
        assert instrument.title["sv"] == "Testfärdigheter"
        assert instrument.intro_html["en"] == "<p>Answer <strong>honestly</strong>.</p>"
        assert [area.key for area in instrument.areas] == ["basics-area", "advanced-area"]
        plan = item_of("plan-lessons")
        assert (plan.scale, plan.top, plan.allows_not_relevant, plan.path_slugs) == (
            Scale.LEVELS,
            6,
            True,
            ["basics"],
        )
        assert plan.levels[0] == {"fi": "Tiedän", "en": "I am aware"}
        assert item_of("share-goals").levels == []
        assert [i.key for i in instrument.areas[1].items] == ["show-work", "agree-on-tools"]
        before = snapshot()
    second = sync(app, content)
    assert second.exit_code == 0, second.output
    assert "Content is up to date." in second.output
    with app.app_context():
        assert snapshot() == before


def test_changed_item_updates_and_removed_item_retires_keeping_answers(
    app: Flask, content: Path, make_user
) -> None:
    user_id = make_user()
    assert sync(app, content).exit_code == 0
    with app.app_context():
        removed = item_of("agree-on-tools")
        answer(user_id, removed, 4)
        removed_id, plan_id = removed.id, item_of("plan-lessons").id
    manifest = content / "assessments/test-skills/instrument.toml"
    text = manifest.read_text()
    manifest.write_text(
        text[: text.index('\n[[areas.items]]\nkey = "agree-on-tools"')].replace(
            '"I use"', '"I use it"'
        )
    )
    result = sync(app, content)
    assert result.exit_code == 0, result.output
    assert "updated  instrument test-skills" in result.output
    assert "updated  instrument item test-skills/plan-lessons" in result.output
    assert "retired  instrument item test-skills/agree-on-tools" in result.output
    assert "share-goals" not in result.output  # unchanged items are not touched
    with app.app_context():
        retired = db.session.get(AssessmentItem, removed_id)
        assert retired.is_retired
        assert db.session.execute(
            db.select(Answer).where(Answer.item_id == removed_id)
        ).scalar_one()
        assert db.session.get(AssessmentItem, plan_id).levels[2]["en"] == "I use it"
    # Putting it back restores the same row, with its answers.
    manifest.write_text(text)
    result = sync(app, content)
    assert "restored instrument item test-skills/agree-on-tools" in result.output
    with app.app_context():
        assert not db.session.get(AssessmentItem, removed_id).is_retired


def test_moved_item_keeps_its_row_and_removed_area_retires(app: Flask, content: Path) -> None:
    assert sync(app, content).exit_code == 0
    with app.app_context():
        show_id = item_of("show-work").id
    manifest = content / "assessments/test-skills/instrument.toml"
    # The second area goes; its first item moves into the first area.
    text = TEST_SKILLS
    second_area = text[text.index('[[areas]]\nkey = "advanced-area"') :]
    show_work = second_area[
        second_area.index("[[areas.items]]") : second_area.index(
            '\n[[areas.items]]\nkey = "agree-on-tools"'
        )
    ]
    manifest.write_text(text[: text.index('[[areas]]\nkey = "advanced-area"')] + show_work)
    result = sync(app, content)
    assert result.exit_code == 0, result.output
    assert "retired  instrument area test-skills/advanced-area" in result.output
    assert "retired  instrument item test-skills/agree-on-tools" in result.output
    assert "updated  instrument item test-skills/show-work" in result.output
    with app.app_context():
        moved = db.session.get(AssessmentItem, show_id)
        assert (moved.area.key, moved.position, moved.is_retired) == ("basics-area", 3, False)
        area = db.session.execute(
            db.select(AssessmentArea).where(AssessmentArea.key == "advanced-area")
        ).scalar_one()
        assert area.is_retired


def test_removed_instrument_retires_and_comes_back(app: Flask, content: Path) -> None:
    assert sync(app, content).exit_code == 0
    shutil.rmtree(content / "assessments/test-skills")
    result = sync(app, content)
    assert "retired  instrument test-skills" in result.output
    with app.app_context():
        assert db.session.execute(db.select(Instrument.is_retired)).scalar_one() is True
    write_test_skills(content)
    result = sync(app, content)
    assert "restored instrument test-skills" in result.output
    with app.app_context():
        assert db.session.execute(db.select(Instrument.is_retired)).scalar_one() is False


def test_a_failing_instrument_makes_the_whole_sync_change_nothing(
    app: Flask, content: Path
) -> None:
    manifest = content / "paths/basics/path.toml"
    replace(manifest, 'en = "Basics"', 'en = "Changed"')
    replace(
        content / "assessments/test-skills/instrument.toml",
        'paths = ["basics"]',
        'paths = ["gone"]',
    )
    with app.app_context():
        before = snapshot()
    for command in ("check", "sync"):
        result = app.test_cli_runner().invoke(args=["content", command, "--dir", str(content)])
        assert result.exit_code == 1
        assert f"{FILE}:28: item `plan-lessons`: path `gone` in `paths` does not exist" in (
            result.output
        )
    assert "Nothing was imported." in result.output
    with app.app_context():
        assert snapshot() == before
        assert services.get_path("basics").title["en"] == "Basics"
        assert db.session.execute(db.select(Instrument)).first() is None


def test_an_answered_item_cannot_change_its_scale(app: Flask, content: Path, make_user) -> None:
    """Stored values 1–6 would mean something else on a 1–5 scale: refuse, import nothing."""
    user_id = make_user()
    assert sync(app, content).exit_code == 0
    with app.app_context():
        answer(user_id, item_of("show-work"), 6)
    replace(content / "paths/basics/path.toml", 'en = "Basics"', 'en = "Changed"')
    manifest = content / "assessments/test-skills/instrument.toml"
    text = manifest.read_text()
    start = text.index('key = "show-work"')
    end = text.index("alignment", start)
    manifest.write_text(
        text[:start]
        + 'key = "show-work"\nscale = "agreement"\nstatement = { fi = "x", en = "x" }\n'
        + text[end:]
    )
    with app.app_context():
        before = snapshot()
    result = sync(app, content)
    assert result.exit_code == 1
    assert "item `show-work` has answers on the levels scale" in result.output
    assert "Nothing was imported." in result.output
    with app.app_context():
        assert snapshot() == before
    # An item nobody has answered may change its scale.
    with app.app_context():
        db.session.execute(db.delete(Answer))
        db.session.commit()
    assert sync(app, content).exit_code == 0
    with app.app_context():
        assert item_of("show-work").scale == Scale.AGREEMENT


def test_check_counts_instruments(app: Flask, content: Path) -> None:
    result = app.test_cli_runner().invoke(args=["content", "check", "--dir", str(content)])
    assert result.exit_code == 0, result.output
    assert "OK: 1 assessment instruments, 4 items." in result.output
