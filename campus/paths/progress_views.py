"""Leaving a path: a confirmation page, then the un-enrolment (completions are kept)."""

from __future__ import annotations

from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required

from campus.extensions import db
from campus.i18n import pick
from campus.paths import services
from campus.paths.forms import ActionForm
from campus.paths.views import bp


@bp.route("/paths/<slug>/leave", methods=["GET", "POST"])
@login_required
def leave(slug: str):
    """GET asks for confirmation; POST un-enrols. A completed path stays on the dashboard."""
    path = services.get_path(slug)
    if path is None:
        abort(404)
    progress = services.path_progress(current_user, path)
    if progress.is_complete or not progress.enrolled:
        message = (
            _("You completed this path: it stays among your completed paths.")
            if progress.is_complete
            else _("You are not enrolled in this path.")
        )
        flash(message, "info")
        return redirect(url_for("paths.path_detail", slug=slug), 303)
    form = ActionForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        services.leave_path(current_user, path)
        db.session.commit()
        flash(
            _(
                "You left the path “%(path)s”. Your completed modules are kept.",
                path=pick(path.title),
            ),
            "success",
        )
        return redirect(url_for("paths.dashboard"), 303)
    return render_template("paths/leave.html", path=path, progress=progress, form=form)
