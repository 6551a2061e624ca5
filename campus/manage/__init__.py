"""Organisation progress for org admins; organisations and roles for admins."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The `manage` blueprint and `flask manage …`."""
    from campus.manage.cli import manage_cli
    from campus.manage.views import bp

    app.register_blueprint(bp)
    app.cli.add_command(manage_cli)
