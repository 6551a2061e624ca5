"""The caller's own progress and badges."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("api_me", __name__, url_prefix="/api/v1/me")
