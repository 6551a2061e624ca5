"""The person's own data as a zip (data rights): `GET /auth/account/data.zip`."""

from __future__ import annotations

from pathlib import Path

from flask import Response
from flask import current_app
from flask_login import current_user
from flask_login import login_required

from campus.auth.data_export import data_zip
from campus.auth.views import bp
from campus.clock import utcnow


@bp.get("/account/data.zip")
@login_required
def data_download():
    now = utcnow()
    body = data_zip(current_user, now, Path(current_app.config["UPLOAD_DIR"]))
    return Response(
        body,
        mimetype="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="campus-data-{now:%Y-%m-%d}.zip"',
            "Cache-Control": "no-store",
        },
    )
