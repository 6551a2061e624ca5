"""The reviewers' queue: badge applications (decided here) and module evidence (decided by
campus.paths.review), plus the submitted files, always as downloads."""

from __future__ import annotations

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
from campus.badges.forms import ReviewForm
from campus.badges.issuers import BadgeError
from campus.badges.models import BadgeApplication
from campus.badges.web import bp
from campus.badges.web import issuing_context
from campus.clock import utcnow
from campus.extensions import db
from campus.paths import review
from campus.paths.models import EvidenceSubmission
from campus.paths.uploads import UploadRules
from campus.security import require_role


@bp.get("/reviews")
@login_required
def reviews():
    require_role(Role.REVIEWER)
    return render_template(
        "badges/reviews.html",
        applications=pending_applications(current_user),
        submissions=review.pending_module_evidence(current_user),
        form=ReviewForm(),
    )


@bp.post("/reviews/applications/<int:application_id>")
@login_required
def review_application(application_id: int):
    require_role(Role.REVIEWER)
    application = db.get_or_404(BadgeApplication, application_id)
    form = ReviewForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        if form.accept.data:
            accept_application(
                application, current_user, form.feedback.data or "", issuing_context(), utcnow()
            )
            message = _("Accepted: the badge was awarded.")
        else:
            return_application(application, current_user, form.feedback.data or "", utcnow())
            message = _("Returned to the learner with your feedback.")
    except BadgeError as error:
        flash(str(error), "error")
        return redirect(url_for("badges.reviews"))
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("badges.reviews"))


@bp.post("/reviews/evidence/<int:submission_id>")
@login_required
def review_evidence(submission_id: int):
    require_role(Role.REVIEWER)
    submission = db.get_or_404(EvidenceSubmission, submission_id)
    form = ReviewForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        review.review_module_evidence(
            submission, current_user, bool(form.accept.data), form.feedback.data or "", utcnow()
        )
    except review.ReviewError as error:
        flash(str(error), "error")
        return redirect(url_for("badges.reviews"))
    db.session.commit()
    flash(
        _("Accepted: the module is completed.")
        if form.accept.data
        else _("Returned to the learner with your feedback."),
        "success",
    )
    return redirect(url_for("badges.reviews"))


@bp.get("/reviews/files/<kind>/<int:item_id>")
@login_required
def review_file(kind: str, item_id: int):
    """Reviewers open submitted files; always as a download, never rendered inline."""
    require_role(Role.REVIEWER)
    model = {"application": BadgeApplication, "evidence": EvidenceSubmission}.get(kind)
    if model is None:
        abort(404)
    item = db.get_or_404(model, item_id)
    if not item.stored_name:
        abort(404)
    if not review.can_review(current_user, item.user):
        abort(403)
    return send_from_directory(
        UploadRules.from_config(current_app.config).directory,
        item.stored_name,
        as_attachment=True,
        download_name=item.file_name,
    )
