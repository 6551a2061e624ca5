"""Reviewing learners' evidence: the reviewer scope, module-evidence review, and the one
reviewers' queue for module evidence and badge applications."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The `review` blueprint (the queue, its two decisions and the file downloads)."""
    from campus.review.views import bp

    app.register_blueprint(bp)
