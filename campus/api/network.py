"""Network groups, roadmaps and annual clocks."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("api_network", __name__, url_prefix="/api/v1/network")
