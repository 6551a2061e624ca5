"""Public catalogue: themes, paths and modules."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("api_catalogue", __name__, url_prefix="/api/v1")
