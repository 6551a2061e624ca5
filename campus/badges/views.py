"""Every badge route: importing this module attaches them all to the two blueprints.

The routes live by audience: documents (/ob, for verifiers), pages and admin. The reviewers'
queue, badge applications included, is campus.review's.
"""

from __future__ import annotations

from campus.badges import admin  # noqa: F401
from campus.badges import documents  # noqa: F401
from campus.badges import pages  # noqa: F401
from campus.badges.web import bp
from campus.badges.web import ob_bp

__all__ = ["bp", "ob_bp"]
