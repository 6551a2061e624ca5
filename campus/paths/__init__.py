"""Learning paths: themes, paths and modules from content files, the module kinds, completion."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The catalogue, path and module pages, and `flask content check|sync`."""
    from campus.cli import content_cli
    from campus.paths import material_language  # noqa: F401  (its route joins bp)
    from campus.paths import progress_views  # noqa: F401  (leaving a path joins bp)
    from campus.paths.views import bp

    app.register_blueprint(bp)
    app.cli.add_command(content_cli)
