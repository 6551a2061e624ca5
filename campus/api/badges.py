"""Badge classes, assertions and awards."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("api_badges", __name__, url_prefix="/api/v1/badges")
