"""Public Open Badges documents (/ob), badge pages, backpack, verification, review and admin."""

from __future__ import annotations

import json
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import send_from_directory
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required

from campus.auth.models import Role
from campus.badges import ob2
from campus.badges import services
from campus.badges import verify
from campus.badges.forms import ApplyForm
from campus.badges.forms import BulkAwardForm
from campus.badges.forms import BulkRevokeForm
from campus.badges.forms import ReviewForm
from campus.badges.forms import RevokeForm
from campus.badges.forms import VerifyForm
from campus.badges.models import Assertion
from campus.badges.models import BadgeApplication
from campus.badges.models import BadgeClass
from campus.badges.models import Issuer
from campus.badges.models import SigningKey
from campus.extensions import db
from campus.i18n import current_language
from campus.i18n import pick
from campus.paths.models import EvidenceSubmission
from campus.paths.rendering import render_markdown
from campus.paths.services import EvidenceFile
from campus.security import require_role

ob_bp = Blueprint("ob", __name__, url_prefix="/ob")
bp = Blueprint("badges", __name__, url_prefix="/badges")

JSON_LD = "application/ld+json"


def _now() -> datetime:
    return datetime.now(UTC)


def _context() -> services.IssuingContext:
    return services.IssuingContext.from_config(current_app.config)


def _json(document: dict[str, Any], status: int = 200, cache_seconds: int = 60) -> Response:
    """Public JSON-LD, readable by other backpacks and verifiers (CORS open)."""
    response = Response(
        json.dumps(document, ensure_ascii=False, indent=2), status=status, mimetype=JSON_LD
    )
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = (
        f"public, max-age={cache_seconds}" if cache_seconds else "no-cache"
    )
    return response


def _badge_or_404(slug: str) -> BadgeClass:
    badge = services.get_badge(slug)
    if badge is None:
        abort(404)
    return badge


def _assertion_or_404(assertion_uuid: str) -> Assertion:
    assertion = services.find_assertion(assertion_uuid)
    if assertion is None:
        abort(404)
    return assertion


# --- /ob: the documents verifiers read ---------------------------------------------------------


@ob_bp.get("/issuers/<slug>")
def issuer(slug: str):
    found = db.session.execute(db.select(Issuer).where(Issuer.slug == slug)).scalar_one_or_none()
    if found is None:
        abort(404)
    context = _context()
    return _json(
        ob2.issuer_document(
            context.urls,
            found.slug,
            found.name,
            found.url,
            found.email,
            [key.kid for key in found.keys],
        )
    )


@ob_bp.get("/issuers/<slug>/revocations")
def revocations(slug: str):
    found = db.session.execute(db.select(Issuer).where(Issuer.slug == slug)).scalar_one_or_none()
    if found is None:
        abort(404)
    return _json(
        ob2.revocation_document(_context().urls, found.slug, services.revoked_for_issuer(found)),
        cache_seconds=0,  # a revocation must be seen at once
    )


@ob_bp.get("/keys/<kid>")
def key(kid: str):
    found = db.session.execute(
        db.select(SigningKey).where(SigningKey.kid == kid)
    ).scalar_one_or_none()
    if found is None:
        abort(404)
    return _json(ob2.key_document(_context().urls, found.issuer.slug, found.kid, found.public_pem))


@ob_bp.get("/badges/<slug>")
def badge_class(slug: str):
    badge = _badge_or_404(slug)
    language = request.args.get("lang", "fi")
    if language not in current_app.config["LANGUAGES"]:
        language = "fi"
    return _json(ob2.badge_document(_context().urls, badge, badge.issuer.slug, language))


@ob_bp.get("/badges/<slug>/image.png")
def badge_image(slug: str):
    badge = _badge_or_404(slug)
    return Response(
        badge.image_png, mimetype="image/png", headers={"Cache-Control": "public, max-age=3600"}
    )


@ob_bp.get("/assertions/<assertion_uuid>")
def hosted_assertion(assertion_uuid: str):
    """The hosted edition; a revoked badge answers 410 with `revoked: true` (OB 2.0 hosted)."""
    assertion = _assertion_or_404(assertion_uuid)
    context = _context()
    if assertion.revoked_at is not None:
        return _json(
            {
                "@context": ob2.CONTEXT,
                "id": context.urls.hosted_assertion(assertion.uuid),
                "type": "Assertion",
                "revoked": True,
                "revocationReason": assertion.revocation_reason,
            },
            status=410,
            cache_seconds=0,
        )
    return _json(
        ob2.assertion_document(
            context.urls,
            uuid=assertion.uuid,
            badge_slug=assertion.badge_class.slug,
            identity=assertion.recipient_hash,
            salt=assertion.recipient_salt,
            issued_at=assertion.issued_at,
            expires_at=assertion.expires_at,
            evidence=assertion.evidence,
            key_id=None,
        ),
        cache_seconds=0,  # revocation must show at once
    )


@ob_bp.get("/assertions/<assertion_uuid>.jws")
def signed_assertion(assertion_uuid: str):
    assertion = _assertion_or_404(assertion_uuid)
    return Response(
        assertion.jws, mimetype="text/plain", headers={"Access-Control-Allow-Origin": "*"}
    )


# --- badge pages -------------------------------------------------------------------------------


@bp.get("/")
def catalogue():
    badges = services.list_badges()
    held: set[str] = set()
    if current_user.is_authenticated:
        held = services.held_badge_slugs(current_user, _now())
    return render_template("badges/catalogue.html", badges=badges, held=held)


@bp.route("/<slug>", methods=["GET", "POST"])
def detail(slug: str):
    badge = _badge_or_404(slug)
    user = current_user if current_user.is_authenticated else None
    now = _now()
    form = ApplyForm()
    if request.method == "POST":
        if user is None:
            abort(401)
        if not form.validate_on_submit():
            if form.csrf_token.errors:
                abort(400)
        else:
            upload = form.file.data
            file = (
                EvidenceFile(upload.filename, upload.stream) if upload and upload.filename else None
            )
            try:
                services.apply_for_badge(
                    user,
                    badge,
                    form.narrative.data,
                    form.link.data,
                    file,
                    Path(current_app.config["UPLOAD_DIR"]),
                    current_app.config["EVIDENCE_EXTENSIONS"],
                    current_app.config["EVIDENCE_MAX_BYTES"],
                    now,
                )
            except services.BadgeError as error:
                flash(str(error), "error")
            else:
                db.session.commit()
                flash(_("Your evidence was sent. A reviewer will look at it."), "success")
                return redirect(url_for("badges.detail", slug=slug))
    held = services.active_assertion(user, badge) if user else None
    return render_template(
        "badges/detail.html",
        badge=badge,
        criteria_html=render_markdown(pick(badge.criteria)),
        checklist=services.checklist(user, badge, now, current_language()),
        held=held,
        application=services.latest_application(user, badge) if user else None,
        form=form,
    ), (400 if request.method == "POST" else 200)


@bp.get("/backpack")
@login_required
def backpack():
    now = _now()
    assertions = services.all_assertions(current_user)
    return render_template(
        "badges/backpack.html",
        assertions=assertions,
        statuses={a.id: services.status_of(a, now) for a in assertions},
    )


@bp.get("/a/<assertion_uuid>")
def assertion_page(assertion_uuid: str):
    assertion = _assertion_or_404(assertion_uuid)
    context = _context()
    page_url = context.urls.assertion_page(assertion.uuid)
    return render_template(
        "badges/assertion.html",
        assertion=assertion,
        badge=assertion.badge_class,
        status=services.status_of(assertion, _now()),
        page_url=page_url,
        hosted_url=context.urls.hosted_assertion(assertion.uuid),
        share_linkedin="https://www.linkedin.com/sharing/share-offsite/?url="
        + quote(page_url, safe=""),
        is_owner=current_user.is_authenticated and current_user.id == assertion.user_id,
    )


@bp.get("/a/<assertion_uuid>/badge.<extension>")
def baked(assertion_uuid: str, extension: str):
    assertion = _assertion_or_404(assertion_uuid)
    if extension == "png":
        data, mimetype = assertion.baked_png, "image/png"
    elif extension == "svg":
        data, mimetype = assertion.baked_svg, "image/svg+xml"
    else:
        abort(404)
    filename = f"{assertion.badge_class.slug}-{assertion.uuid[:8]}.{extension}"
    return Response(
        data,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            # An SVG opened directly must not run anything.
            "Content-Security-Policy": "default-src 'none'; img-src data:; style-src 'unsafe-inline'",
        },
    )


@bp.route("/verify", methods=["GET", "POST"])
def verify_page():
    form = VerifyForm()
    result = None
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            if form.csrf_token.errors:
                abort(400)
            status = 400
        else:
            urls = _context().urls
            upload = form.image.data
            email = (form.email.data or "").strip() or None
            if upload and upload.filename:
                image = upload.stream.read(2 * 1024 * 1024 + 1)
                if len(image) > 2 * 1024 * 1024:
                    abort(413)
                result = verify.verify_image(image, urls, _now(), email)
            elif (form.text.data or "").strip():
                result = verify.verify_text(form.text.data, urls, _now(), email)
            else:
                flash(_("Upload a badge image or paste a signed badge or its address."), "error")
                status = 400
            if result is not None and not result.valid:
                status = 422
    return render_template("badges/verify.html", form=form, result=result), status


# --- reviewers ---------------------------------------------------------------------------------


@bp.get("/reviews")
@login_required
def reviews():
    require_role(Role.REVIEWER)
    return render_template(
        "badges/reviews.html",
        applications=services.pending_applications(current_user),
        submissions=services.pending_module_evidence(current_user),
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
            services.accept_application(
                application, current_user, form.feedback.data or "", _context(), _now()
            )
            message = _("Accepted: the badge was awarded.")
        else:
            services.return_application(application, current_user, form.feedback.data or "", _now())
            message = _("Returned to the learner with your feedback.")
    except services.BadgeError as error:
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
        services.review_module_evidence(
            submission, current_user, bool(form.accept.data), form.feedback.data or "", _now()
        )
    except services.BadgeError as error:
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
    if not services.can_review(current_user, item.user):
        abort(403)
    return send_from_directory(
        current_app.config["UPLOAD_DIR"],
        item.stored_name,
        as_attachment=True,
        download_name=item.file_name,
    )


# --- admins: awards and revocations ------------------------------------------------------------


@bp.route("/admin/<slug>", methods=["GET", "POST"])
@login_required
def admin_badge(slug: str):
    require_role(Role.ADMIN)
    badge = _badge_or_404(slug)
    assertions = list(
        db.session.execute(
            db.select(Assertion)
            .where(Assertion.badge_class_id == badge.id)
            .order_by(Assertion.issued_at.desc(), Assertion.id.desc())
            .limit(500)
        ).scalars()
    )
    now = _now()
    return render_template(
        "badges/admin_badge.html",
        badge=badge,
        assertions=assertions,
        statuses={a.id: services.status_of(a, now) for a in assertions},
        revoke_form=RevokeForm(),
        bulk_form=BulkAwardForm(),
    )


@bp.post("/admin/assertions/<assertion_uuid>/revoke")
@login_required
def revoke(assertion_uuid: str):
    require_role(Role.ADMIN)
    assertion = _assertion_or_404(assertion_uuid)
    form = RevokeForm()
    if not form.validate_on_submit():
        abort(400)
    changed = services.revoke(assertion, form.reason.data, _now())
    db.session.commit()
    flash(
        _("The badge was revoked.") if changed else _("The badge was revoked already."), "success"
    )
    return redirect(url_for("badges.admin_badge", slug=assertion.badge_class.slug))


@bp.route("/admin/revoke", methods=["GET", "POST"])
@login_required
def bulk_revoke():
    require_role(Role.ADMIN)
    form = BulkRevokeForm()
    status = 200
    if form.validate_on_submit():
        count, unknown = services.revoke_many(form.uuids.data.split(), form.reason.data, _now())
        if unknown:
            db.session.rollback()
            flash(
                _(
                    "Nothing was revoked: these ids are unknown: %(ids)s",
                    ids=", ".join(unknown[:20]),
                ),
                "error",
            )
            status = 400
        else:
            db.session.commit()
            flash(_("%(count)d badge(s) revoked.", count=count), "success")
            return redirect(url_for("badges.bulk_revoke"))
    elif request.method == "POST":
        status = 400
    return render_template("badges/bulk_revoke.html", form=form), status


@bp.post("/admin/<slug>/bulk-award")
@login_required
def bulk_award(slug: str):
    require_role(Role.ADMIN)
    badge = _badge_or_404(slug)
    form = BulkAwardForm()
    if not form.validate_on_submit():
        abort(400)
    if form.csv_file.data and form.csv_file.data.filename:
        raw = form.csv_file.data.stream.read(5 * 1024 * 1024 + 1)
        if len(raw) > 5 * 1024 * 1024:
            abort(413)
        text = raw.decode("utf-8-sig", errors="replace")
    else:
        text = form.csv_text.data or ""
    try:
        rows = services.parse_bulk_csv(text, badge)
    except services.BadgeError as error:
        flash(str(error), "error")
        return redirect(url_for("badges.admin_badge", slug=slug))
    if form.confirm.data:
        count = services.apply_bulk_award(rows, badge, _context(), _now())
        db.session.commit()
        flash(_("%(count)d badge(s) awarded.", count=count), "success")
        return redirect(url_for("badges.admin_badge", slug=slug))
    form.csv_text.data = text
    counts = {
        status: sum(1 for r in rows if r.status == status)
        for status in ("award", "holds", "no_account", "invalid")
    }
    return render_template(
        "badges/bulk_preview.html",
        badge=badge,
        rows=rows[:1000],
        total=len(rows),
        counts=counts,
        form=form,
    )
