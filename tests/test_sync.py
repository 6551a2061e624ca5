"""`flask content sync`: all or nothing, idempotent, never deletes a learner's completions."""

from __future__ import annotations

import shutil
from pathlib import Path

from flask import Flask

from campus.extensions import db
from campus.paths import services
from campus.paths.models import Completion
from campus.paths.models import CompletionSource
from campus.paths.models import LearningPath
from campus.paths.models import Module
from campus.paths.models import Theme
from tests.conftest import TEST_CONTENT
from tests.conftest import now


def table_snapshot() -> list[tuple]:
    rows = []
    for model in (Theme, LearningPath, Module):
        for obj in db.session.execute(db.select(model).order_by(model.id)).scalars():
            rows.append((model.__name__, obj.id, obj.slug, obj.content_hash, obj.is_retired))
    return rows


def test_sync_imports_tree(app: Flask, app_ctx: None) -> None:
    basics = services.get_path("basics")
    assert basics is not None
    assert [m.slug for m in basics.active_modules] == [
        "welcome",
        "check-quiz",
        "my-thoughts",
        "extra-reading",
    ]
    assert basics.title["sv"] == "Grunder"
    assert basics.theme.slug == "alpha"
    assert [p.slug for p in services.get_path("advanced").prerequisites] == ["basics"]
    welcome = basics.active_modules[0]
    assert "<script" not in welcome.body_html["fi"]
    assert "<strong>testi</strong>" in welcome.body_html["fi"]


def test_second_sync_is_a_no_op(app: Flask, runner_dir: Path) -> None:
    runner = app.test_cli_runner()
    with app.app_context():
        before = table_snapshot()
    result = runner.invoke(args=["content", "sync", "--dir", str(runner_dir)])
    assert result.exit_code == 0, result.output
    assert "Content is up to date." in result.output
    with app.app_context():
        assert table_snapshot() == before


def test_sync_updates_by_slug_and_retires_removed_modules(
    app: Flask, make_user, runner_dir: Path
) -> None:
    user_id = make_user()
    with app.app_context():
        from campus.auth.models import User

        user = db.session.get(User, user_id)
        module = services.get_module(services.get_path("basics"), "extra-reading")
        services.complete_module(user, module, CompletionSource.SELF, now())
        db.session.commit()
        module_id = module.id
    shutil.rmtree(runner_dir / "paths/basics/extra-reading")
    manifest = runner_dir / "paths/basics/path.toml"
    manifest.write_text(
        manifest.read_text()
        .replace(', "extra-reading"]', "]")
        .replace('en = "Basics"', 'en = "Basics 2"')
    )
    result = app.test_cli_runner().invoke(args=["content", "sync", "--dir", str(runner_dir)])
    assert result.exit_code == 0, result.output
    assert "updated  path basics" in result.output
    assert "retired  module basics/extra-reading" in result.output
    with app.app_context():
        path = services.get_path("basics")
        assert path.title["en"] == "Basics 2"
        assert [m.slug for m in path.active_modules] == ["welcome", "check-quiz", "my-thoughts"]
        retired = db.session.get(Module, module_id)
        assert retired.is_retired
        assert db.session.execute(
            db.select(Completion).where(Completion.module_id == module_id)
        ).scalar_one()
    # Putting the module back restores the same row.
    shutil.copytree(
        TEST_CONTENT / "paths/basics/extra-reading", runner_dir / "paths/basics/extra-reading"
    )
    manifest.write_text(
        manifest.read_text().replace('"my-thoughts"]', '"my-thoughts", "extra-reading"]')
    )
    result = app.test_cli_runner().invoke(args=["content", "sync", "--dir", str(runner_dir)])
    assert "restored module basics/extra-reading" in result.output
    with app.app_context():
        assert not db.session.get(Module, module_id).is_retired


def test_bad_content_changes_nothing(app: Flask, runner_dir: Path) -> None:
    with app.app_context():
        before = table_snapshot()
    # One valid change and one broken file: the valid change must not be imported either.
    manifest = runner_dir / "paths/basics/path.toml"
    manifest.write_text(manifest.read_text().replace('en = "Basics"', 'en = "Changed"'))
    (runner_dir / "paths/advanced/deep-dive/module.toml").write_text(
        'version = 1\nkind = "read"\ntitle = "oops"\n'
    )
    result = app.test_cli_runner().invoke(args=["content", "sync", "--dir", str(runner_dir)])
    assert result.exit_code == 1
    assert (
        "content/paths/advanced/deep-dive/module.toml:3: `title` must be a table" in result.output
    )
    assert "Nothing was imported." in result.output
    with app.app_context():
        assert table_snapshot() == before
        assert services.get_path("basics").title["en"] == "Basics"


def test_database_error_during_sync_rolls_back(app: Flask, runner_dir: Path, monkeypatch) -> None:
    """A failure half-way (here: while writing prerequisites) leaves no partial import."""
    from campus.paths import sync as sync_module

    manifest = runner_dir / "paths/basics/path.toml"
    manifest.write_text(manifest.read_text().replace('en = "Basics"', 'en = "Changed"'))
    with app.app_context():
        before = table_snapshot()

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(sync_module, "_sync_prerequisites", explode)
    result = app.test_cli_runner().invoke(args=["content", "sync", "--dir", str(runner_dir)])
    assert result.exit_code != 0
    with app.app_context():
        assert table_snapshot() == before
        assert services.get_path("basics").title["en"] == "Basics"


def test_check_command_reports_ok_and_problems(app: Flask, runner_dir: Path) -> None:
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["content", "check", "--dir", str(runner_dir)])
    assert ok.exit_code == 0 and "OK: 2 themes, 2 paths, 6 modules, 3 badges." in ok.output
    (runner_dir / "themes/alpha.toml").write_text("version = 2\n")
    bad = runner.invoke(args=["content", "check", "--dir", str(runner_dir)])
    assert bad.exit_code == 1
    assert "content/themes/alpha.toml:1: `version = 1` is required" in bad.output
