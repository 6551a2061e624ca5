"""The blueprint every OB 3.0 route attaches to (public documents, downloads, status lists)."""

from __future__ import annotations

from flask import Blueprint

ob3_bp = Blueprint("ob3", __name__)
