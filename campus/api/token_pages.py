"""Pages where people create, list and revoke their API tokens, and admins manage clients."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api_tokens", __name__, url_prefix="/account/api")
