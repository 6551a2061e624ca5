"""LTI 1.3 in both directions.

`campus.lti.platform`: the campus launches external tools (Core, Deep Linking, AGS, NRPS).
`campus.lti.tool`: LMSs launch the campus (pylti1p3), with grade passback through the outbox.
Shared: tables (`models`), vocabulary (`constants`), keys, payload checks, the auto-post page.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Both blueprints ("lti", "lti_tool" with "lti_tool.identity"), `flask lti`, and the
    receivers that queue grade passback when a launched module or path is completed."""
    from campus.lti import models  # noqa: F401  (the tables)
    from campus.lti.cli import lti_cli
    from campus.lti.platform import admin_views as platform_admin_views  # noqa: F401 (routes)
    from campus.lti.platform import registration_views  # noqa: F401 (routes)
    from campus.lti.platform import service_views  # noqa: F401 (routes)
    from campus.lti.platform.views import bp as platform_bp
    from campus.lti.tool import admin_views as tool_admin_views  # noqa: F401 (routes)
    from campus.lti.tool import passback
    from campus.lti.tool import registration_views as tool_registration_views  # noqa: F401
    from campus.lti.tool.views import bp as tool_bp

    app.register_blueprint(platform_bp)
    app.register_blueprint(tool_bp)
    app.cli.add_command(lti_cli)
    passback.connect_signals()
