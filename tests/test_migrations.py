"""Migrations build the same schema as the models (and can be undone)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade
from flask_migrate import upgrade

from campus import create_app
from campus.extensions import db


def test_upgrade_empty_database_to_head_matches_models(tmp_path: Path) -> None:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "k",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.sqlite'}",
        }
    )
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "render_as_batch": True}
            )
            assert compare_metadata(context, db.metadata) == []
            tables = set(sa.inspect(connection).get_table_names())
        assert {
            "user",
            "organisation",
            "learning_path",
            "module",
            "completion",
            "quiz_attempt",
        } <= tables
        downgrade(revision="base")
        with db.engine.connect() as connection:
            assert set(sa.inspect(connection).get_table_names()) == {"alembic_version"}


def test_accounts_made_before_verification_existed_count_as_verified(tmp_path: Path) -> None:
    """0014 turns on "badges only to confirmed addresses"; it must not hold the badges of every
    account that existed before (their addresses were accepted as they were until then)."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "k",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'v.sqlite'}",
        }
    )
    with app.app_context():
        upgrade(revision="0013_password_reset")
        with db.engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO organisation (id, slug, name, kind, created_at) "
                    "VALUES (1, 'o', 'O', 'other', '2026-01-02 03:04:05')"
                )
            )
            connection.execute(
                sa.text(
                    'INSERT INTO "user" (id, email, name, password_hash, organisation_id, '
                    "is_active_account, created_at) "
                    "VALUES (1, 'old@example.org', 'Old', 'x', 1, 1, '2026-01-02 03:04:05')"
                )
            )
        upgrade()
        with db.engine.connect() as connection:
            verified = connection.execute(
                sa.text('SELECT email_verified_at FROM "user" WHERE id = 1')
            ).scalar_one()
        assert str(verified).startswith("2026-01-02 03:04:05")
