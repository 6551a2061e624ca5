"""The network hub: where a person finds their organisation's and region's shared tools."""

from __future__ import annotations

from flask import Blueprint
from flask import render_template
from flask_login import current_user
from flask_login import login_required

from campus.network import access
from campus.network.overview import overview

bp = Blueprint("network", __name__, url_prefix="/network")


@bp.get("/")
@login_required
def index():  # type: ignore[no-untyped-def]
    return render_template(
        "network/index.html",
        overview=overview(current_user),
        can_manage_regions=access.can_manage_regions(current_user),
    )
