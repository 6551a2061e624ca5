"""After-commit follow-ups of completions: badges, LMS grades, later notifications."""

from __future__ import annotations

import logging

from flask import Flask
from flask import Response
from flask import flash
from flask_login import current_user

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    from campus import mailing  # noqa: F401  (the mail handler)
    from campus.backup_cli import attach as attach_backup_commands
    from campus.extensions import db
    from campus.outbox import models  # noqa: F401  (the table)
    from campus.outbox import services
    from campus.outbox.cli import outbox_cli
    from campus.outbox.views import bp
    from campus.outbox.worker import campus_cli

    app.register_blueprint(bp)
    app.cli.add_command(outbox_cli)
    attach_backup_commands(campus_cli)
    app.cli.add_command(campus_cli)

    @app.after_request
    def run_follow_ups(response: Response) -> Response:
        """Right after the view committed: the badge is there when the next page loads."""
        if not db.session.registry.has():  # the request never used the database
            return response
        try:
            announcements = services.run_committed()
        except Exception:  # noqa: BLE001 - never turn a stored submission into an error page
            log.exception("running follow-ups failed; they stay queued for `flask outbox run`")
            return response
        user_id = current_user.id if current_user.is_authenticated else None
        for announcement in announcements:
            if announcement.user_id == user_id:  # not a reviewer accepting someone's evidence
                flash(announcement.message, announcement.category)
        return response
