"""Hostile content and badge files: the loaders report problems, they never raise, and a sync
that refuses the files changes nothing in the database."""

from __future__ import annotations

import json
import math
import shutil
import tempfile
import tomllib
from collections.abc import Iterator
from datetime import date
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from campus.badges.files import load_badges
from campus.badges.models import BadgeClass
from campus.extensions import db
from campus.paths.content import load_tree
from campus.paths.manifest import Problem
from campus.paths.models import LearningPath
from campus.paths.models import Module
from campus.paths.models import Theme
from tests.conftest import TEST_BADGES
from tests.conftest import TEST_CONTENT

HOSTILE = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

MANIFESTS = sorted(
    [p.relative_to(TEST_CONTENT.parent) for p in TEST_CONTENT.rglob("*.toml")]
    + [p.relative_to(TEST_BADGES.parent) for p in TEST_BADGES.rglob("*.toml")]
)
MARKDOWN = sorted(p.relative_to(TEST_CONTENT.parent) for p in TEST_CONTENT.rglob("*.md"))

# Text an attacker or a careless author might write: unicode, NULs and other controls, huge.
nasty_text = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "a\x00b",
            "\u202e\u200b",
            "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
            "x" * 300_000,
            "<script>alert(1)</script>",
            "../../etc/passwd",
            "path:" + "a" * 200,
            "#zzzzzz",
            "org:nowhere",
            "milestone",
            "review",
        ]
    ),
    st.text(max_size=40),
    st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=10),
)
scalars = st.one_of(
    nasty_text,
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.datetimes(),
    st.dates(),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(["fi", "en", "sv", "id", "xx", "correct"]), inner),
    ),
    max_leaves=12,
)


def toml_key(key: str) -> str:
    return json.dumps(key, ensure_ascii=False).replace("\x7f", "\\u007f")


def toml_value(value: Any) -> str:
    """An inline TOML value (tomllib reads what this writes)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, str):
        return toml_key(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    return "{" + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


def to_toml(data: dict[str, Any]) -> str:
    return "".join(f"{toml_key(key)} = {toml_value(value)}\n" for key, value in data.items())


def mutate(data: Any, draw: Any) -> Any:
    """Replace, drop or add one value somewhere inside `data` (a parsed manifest)."""
    if isinstance(data, dict) and data:
        key = draw(st.sampled_from(sorted(data)) | nasty_text)
        action = draw(st.sampled_from(["replace", "drop", "descend"]))
        if action == "drop":
            data.pop(key, None)
        elif action == "descend" and isinstance(data.get(key), (dict, list)):
            data[key] = mutate(data[key], draw)
        else:
            data[key] = draw(values)
        return data
    if isinstance(data, list) and data:
        index = draw(st.integers(0, len(data) - 1))
        data[index] = mutate(data[index], draw) if draw(st.booleans()) else draw(values)
        return data
    return draw(values)


def string_leaves(data: Any, trail: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(data, str):
        yield trail
    elif isinstance(data, dict):
        for key, item in data.items():
            yield from string_leaves(item, (*trail, key))
    elif isinstance(data, list):
        for index, item in enumerate(data):
            yield from string_leaves(item, (*trail, index))


def replace_text(data: dict[str, Any], draw: Any) -> dict[str, Any]:
    """Keep the shape, change one text: it gets past the type checks to whatever comes next."""
    trail = draw(st.sampled_from(list(string_leaves(data))))
    holder = data
    for step in trail[:-1]:
        holder = holder[step]
    holder[trail[-1]] = draw(nasty_text)
    return data


@st.composite
def hostile_trees(draw: Any) -> list[tuple[Path, bytes]]:
    """One to three files of the test content and badges rewritten in a hostile way."""
    changes = []
    for _ in range(draw(st.integers(1, 3))):
        how = draw(
            st.sampled_from(["mutate", "mutate", "leaf", "leaf", "text", "bytes", "markdown"])
        )
        if how == "markdown":
            file = draw(st.sampled_from(MARKDOWN))
            body = draw(
                st.one_of(
                    nasty_text,
                    st.sampled_from(["> " * 5000, "- " * 3000 + "x", "[" * 20000, "*" * 50000]),
                )
            )
            changes.append((file, body.encode("utf-8", "surrogatepass")))
            continue
        file = draw(st.sampled_from(MANIFESTS))
        if how == "bytes":
            changes.append((file, draw(st.binary(max_size=200))))
        elif how == "text":
            changes.append((file, draw(st.text(max_size=200)).encode("utf-8", "surrogatepass")))
        else:
            source = TEST_BADGES.parent if file.parts[0] == "badges" else TEST_CONTENT.parent
            data = tomllib.loads((source / file).read_text(encoding="utf-8"))
            data = replace_text(data, draw) if how == "leaf" else mutate(data, draw)
            changes.append((file, to_toml(data).encode("utf-8", "surrogatepass")))
    return changes


def write_tree(folder: Path, changes: list[tuple[Path, bytes]]) -> tuple[Path, Path]:
    content, badges = folder / "content", folder / "badges"
    shutil.rmtree(content, ignore_errors=True)
    shutil.rmtree(badges, ignore_errors=True)
    shutil.copytree(TEST_CONTENT, content)
    shutil.copytree(TEST_BADGES, badges)
    for file, body in changes:
        (folder / file).parent.mkdir(parents=True, exist_ok=True)
        (folder / file).write_bytes(body)
    return content, badges


@pytest.fixture
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder)


def strings_in(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from strings_in(item)
    elif hasattr(value, "__dataclass_fields__"):
        for name in value.__dataclass_fields__:
            yield from strings_in(getattr(value, name))


@HOSTILE
@given(changes=hostile_trees())
def test_loaders_report_problems_and_never_raise(
    scratch: Path, changes: list[tuple[Path, bytes]]
) -> None:
    content_dir, badges_dir = write_tree(scratch, changes)
    tree = load_tree(content_dir)
    badges = load_badges(badges_dir, tree)
    for problem in tree.problems + badges.problems:
        assert isinstance(problem, Problem)
        assert problem.line >= 1 and str(problem).strip()
    # What the loaders accept can be stored in any database: no NUL in any text.
    accepted = [tree.themes, tree.paths, badges.badges]
    assert not any("\x00" in text for text in strings_in(accepted))


def snapshot() -> list[Any]:
    return [
        sorted(
            (row.slug, row.content_hash, getattr(row, "retired_at", None))
            for row in db.session.execute(db.select(model)).scalars()
        )
        for model in (Theme, LearningPath, Module, BadgeClass)
    ]


@settings(HOSTILE, max_examples=25)
@given(changes=hostile_trees())
def test_sync_exits_cleanly_and_a_refused_sync_changes_nothing(
    app: Flask, scratch: Path, changes: list[tuple[Path, bytes]]
) -> None:
    content_dir, badges_dir = write_tree(scratch, changes)
    with app.app_context():
        before = snapshot()
    result = app.test_cli_runner().invoke(
        args=["content", "sync", "--dir", str(content_dir), "--badges-dir", str(badges_dir)]
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code in (0, 1), result.output
    with app.app_context():
        after = snapshot()
    if result.exit_code == 1:
        assert "Nothing was imported." in result.output
        assert after == before


def test_check_reports_a_hostile_file_with_its_name(app: Flask, scratch: Path) -> None:
    theme = Path("content/themes/alpha.toml")
    content_dir, badges_dir = write_tree(scratch, [(theme, b'version = 1\ntitle = "\\u0000"\n')])
    result = app.test_cli_runner().invoke(
        args=["content", "check", "--dir", str(content_dir), "--badges-dir", str(badges_dir)]
    )
    assert result.exit_code == 1
    assert "content/themes/alpha.toml:2: `title` contains a NUL character" in result.output
    assert "problem(s) found." in result.output


def test_a_nul_in_any_text_is_a_problem_not_a_stored_badge(scratch: Path) -> None:
    badge = Path("badges/basics/badge.toml")
    text = (TEST_BADGES / "basics/badge.toml").read_text(encoding="utf-8")
    content_dir, badges_dir = write_tree(
        scratch, [(badge, text.replace('en = "Basics badge"', 'en = "Basics\\u0000"').encode())]
    )
    badges = load_badges(badges_dir, load_tree(content_dir))
    assert "basics" not in {spec.slug for spec in badges.badges}
    assert [str(p) for p in badges.problems if "NUL" in p.message] == [
        "badges/basics/badge.toml:2: `name` contains a NUL character (\\u0000)"
    ]


@st.composite
def one_text_changed(draw: Any) -> list[tuple[Path, bytes]]:
    file = draw(st.sampled_from(MANIFESTS))
    source = TEST_BADGES.parent if file.parts[0] == "badges" else TEST_CONTENT.parent
    data = tomllib.loads((source / file).read_text(encoding="utf-8"))
    trail = draw(st.sampled_from(list(string_leaves(data))))
    holder = data
    for step in trail[:-1]:
        holder = holder[step]
    holder[trail[-1]] = draw(st.text(alphabet=st.characters(max_codepoint=0x7F), min_size=1))
    return [(file, to_toml(data).encode("utf-8"))]


@HOSTILE
@given(changes=one_text_changed())
def test_one_changed_text_is_accepted_only_when_storable(
    scratch: Path, changes: list[tuple[Path, bytes]]
) -> None:
    content_dir, badges_dir = write_tree(scratch, changes)
    tree = load_tree(content_dir)
    badges = load_badges(badges_dir, tree)
    accepted = [tree.themes, tree.paths, badges.badges]
    assert not any("\x00" in text for text in strings_in(accepted))
    assert all(str(problem).strip() for problem in tree.problems + badges.problems)
