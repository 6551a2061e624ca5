"""Organisations, people, roles and logins (the one password check lives in login.py)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The `auth` blueprint, `flask auth …`, and the user loader (in models)."""
    from campus.auth import data_views  # noqa: F401 (routes)
    from campus.auth import deletion_views  # noqa: F401 (routes)
    from campus.auth import models  # noqa: F401  (tables and the user loader)
    from campus.auth import reset_views  # noqa: F401 (routes)
    from campus.auth import session_views  # noqa: F401 (routes)
    from campus.auth import sso
    from campus.auth import verification_models  # noqa: F401 (tables)
    from campus.auth import verification_views  # noqa: F401 (routes)
    from campus.auth.cli import auth_cli
    from campus.auth.views import bp

    app.register_blueprint(bp)
    sso.init_app(app)
    app.cli.add_command(auth_cli)
