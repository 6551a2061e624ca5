"""OAuth 2.0 client credentials: the token endpoint."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("api_oauth", __name__, url_prefix="/api/v1/oauth")
