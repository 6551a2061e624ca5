"""`/about/accessibility` and `/about/privacy` (blueprint "notices"), linked from every footer."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import render_template

from campus.i18n import current_language
from campus.notices.services import find_notice

bp = Blueprint("notices", __name__, url_prefix="/about")


@bp.get("/<any(accessibility, privacy):name>")
def notice(name: str):  # type: ignore[no-untyped-def]
    found = find_notice(
        name,
        current_language(),
        Path(current_app.instance_path),
        Path(current_app.config["CONTENT_DIR"]),
    )
    if found is None:
        abort(404)
    return render_template("notices/page.html", notice=found)
