"""An organisation's progress and assessment aggregates (org admins)."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("api_organisations", __name__, url_prefix="/api/v1/organisations")
