"""Open Badges 2.0: issuing, hosting, signing, baking, verifying and revoking badges."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The `badges` and `ob` blueprints, `flask badges …`, and the path badge that follows a
    path completion (through the outbox)."""
    from campus.badges import claim_models  # noqa: F401  (the badge_claim table)
    from campus.badges import followups
    from campus.badges.cli import badges_cli
    from campus.badges.views import bp
    from campus.badges.views import ob_bp

    app.register_blueprint(bp)
    app.register_blueprint(ob_bp)
    from campus.badges import ob3

    ob3.init_app(app)
    app.cli.add_command(badges_cli)
    followups.connect_signals()
