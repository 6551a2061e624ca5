"""Starting-point assessment: self-assessment, development plan, organisation and regional views."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Tables now; the blueprint and commands register here as they are built."""
    from campus.assessments import models  # noqa: F401  (the tables)
    from campus.assessments.views import bp as learner_bp  # the learner's pages (H-C)

    app.register_blueprint(learner_bp)
    from campus.assessments.cli import assessments_cli  # regions (H-D); the demo joins it (H-E)
    from campus.assessments.org_views import bp as organisation_bp  # rounds, results (H-D)
    from campus.assessments.org_views import region_bp  # the regional view (H-D)

    app.register_blueprint(organisation_bp)
    app.register_blueprint(region_bp)
    app.cli.add_command(assessments_cli)
