"""The reviewers' queue, one page for both capabilities: badge applications (decided by
campus.badges.applications) and module evidence (decided by campus.review.services), plus the
submitted files, always as downloads.

The URLs stay under /badges/reviews, where they were before this package existed, so bookmarks
and links in sent mail keep working.
"""

from __future__ import annotations

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import send_from_directory
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required

from campus.auth.models import Role
from campus.badges.applications import accept_application
from campus.badges.applications import pending_applications
from campus.badges.applications import return_application
from campus.badges.issuers import BadgeError
from campus.badges.models import BadgeApplication
from campus.badges.web import issuing_context
from campus.clock import utcnow
from campus.extensions import db
from campus.paths.models import EvidenceSubmission
from campus.paths.uploads import UploadRules
from campus.review import services
from campus.review.forms import ReviewForm
from campus.security import require_role

bp = Blueprint("review", __name__, url_prefix="/badges/reviews")


@bp.get("")
@login_required
def queue():
    require_role(Role.REVIEWER)
    return render_template(
        "review/queue.html",
        applications=pending_applications(current_user),
        submissions=services.pending_module_evidence(current_user),
        form=ReviewForm(),
    )


@bp.post("/applications/<int:application_id>")
@login_required
def decide_application(application_id: int):
    require_role(Role.REVIEWER)
    application = db.get_or_404(BadgeApplication, application_id)
    form = ReviewForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        if form.accept.data:
            result = accept_application(
                application, current_user, form.feedback.data or "", issuing_context(), utcnow()
            )
            message = (
                _("Accepted: the badge is issued once the learner confirms their e-mail address.")
                if result.held
                else _("Accepted: the badge was awarded.")
            )
        else:
            return_application(application, current_user, form.feedback.data or "", utcnow())
            message = _("Returned to the learner with your feedback.")
    except BadgeError as error:
        flash(str(error), "error")
        return redirect(url_for("review.queue"))
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("review.queue"))


@bp.post("/evidence/<int:submission_id>")
@login_required
def decide_evidence(submission_id: int):
    require_role(Role.REVIEWER)
    submission = db.get_or_404(EvidenceSubmission, submission_id)
    form = ReviewForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.review_module_evidence(
            submission, current_user, bool(form.accept.data), form.feedback.data or "", utcnow()
        )
    except services.ReviewError as error:
        flash(str(error), "error")
        return redirect(url_for("review.queue"))
    db.session.commit()
    flash(
        _("Accepted: the module is completed.")
        if form.accept.data
        else _("Returned to the learner with your feedback."),
        "success",
    )
    return redirect(url_for("review.queue"))


@bp.get("/files/<kind>/<int:item_id>")
@login_required
def download(kind: str, item_id: int):
    """Reviewers open submitted files; always as a download, never rendered inline."""
    require_role(Role.REVIEWER)
    model = {"application": BadgeApplication, "evidence": EvidenceSubmission}.get(kind)
    if model is None:
        abort(404)
    item = db.get_or_404(model, item_id)
    if not item.stored_name:
        abort(404)
    if not services.can_review(current_user, item.user):
        abort(403)
    return send_from_directory(
        UploadRules.from_config(current_app.config).directory,
        item.stored_name,
        as_attachment=True,
        download_name=item.file_name,
    )
