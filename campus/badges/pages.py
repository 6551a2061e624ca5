"""Badge pages: the catalogue, one badge (and applying for it), the backpack, one award and
its downloads, and the public verify page."""

from __future__ import annotations

from urllib.parse import quote

from flask import Response
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required

from campus.badges import verify
from campus.badges.applications import apply_for_badge
from campus.badges.applications import latest_application
from campus.badges.awarding import active_assertion
from campus.badges.awarding import all_assertions
from campus.badges.awarding import held_badge_slugs
from campus.badges.awarding import status_of
from campus.badges.checklist import checklist
from campus.badges.forms import ApplyForm
from campus.badges.forms import VerifyForm
from campus.badges.issuers import BadgeError
from campus.badges.issuers import list_badges
from campus.badges.web import assertion_or_404
from campus.badges.web import badge_or_404
from campus.badges.web import bp
from campus.badges.web import issuing_context
from campus.clock import utcnow
from campus.extensions import db
from campus.i18n import current_language
from campus.i18n import pick
from campus.paths.rendering import render_markdown
from campus.paths.uploads import EvidenceFile
from campus.paths.uploads import UploadRules
from campus.routing import external_url

MAX_VERIFY_IMAGE = 2 * 1024 * 1024


@bp.get("/")
def catalogue():
    held: set[str] = set()
    if current_user.is_authenticated:
        held = held_badge_slugs(current_user, utcnow())
    return render_template("badges/catalogue.html", badges=list_badges(), held=held)


@bp.route("/<slug>", methods=["GET", "POST"])
def detail(slug: str):
    badge = badge_or_404(slug)
    user = current_user if current_user.is_authenticated else None
    now = utcnow()
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
                apply_for_badge(
                    user,
                    badge,
                    form.narrative.data,
                    form.link.data,
                    file,
                    UploadRules.from_config(current_app.config),
                    now,
                )
            except BadgeError as error:
                flash(str(error), "error")
            else:
                db.session.commit()
                flash(_("Your evidence was sent. A reviewer will look at it."), "success")
                return redirect(url_for("badges.detail", slug=slug))
    return render_template(
        "badges/detail.html",
        badge=badge,
        criteria_html=render_markdown(pick(badge.criteria)),
        checklist=checklist(user, badge, now, current_language()),
        held=active_assertion(user, badge) if user else None,
        application=latest_application(user, badge) if user else None,
        form=form,
    ), (400 if request.method == "POST" else 200)


@bp.get("/backpack")
@login_required
def backpack():
    now = utcnow()
    assertions = all_assertions(current_user)
    return render_template(
        "badges/backpack.html",
        assertions=assertions,
        statuses={a.id: status_of(a, now) for a in assertions},
    )


@bp.get("/a/<assertion_uuid>")
def assertion_page(assertion_uuid: str):
    assertion = assertion_or_404(assertion_uuid)
    page_url = external_url("badges.assertion_page", assertion_uuid=assertion.uuid)
    return render_template(
        "badges/assertion.html",
        assertion=assertion,
        badge=assertion.badge_class,
        status=status_of(assertion, utcnow()),
        page_url=page_url,
        hosted_url=external_url("ob.hosted_assertion", assertion_uuid=assertion.uuid),
        share_linkedin="https://www.linkedin.com/sharing/share-offsite/?url="
        + quote(page_url, safe=""),
        is_owner=current_user.is_authenticated and current_user.id == assertion.user_id,
    )


@bp.get("/a/<assertion_uuid>/badge.<extension>")
def baked(assertion_uuid: str, extension: str):
    assertion = assertion_or_404(assertion_uuid)
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
    """Public: anything pasted or uploaded gets a list of checks (422 when one fails), never a 500."""
    form = VerifyForm()
    result = None
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            if form.csrf_token.errors:
                abort(400)
            status = 400
        else:
            urls = issuing_context().urls
            upload = form.image.data
            email = (form.email.data or "").strip() or None
            if upload and upload.filename:
                image = upload.stream.read(MAX_VERIFY_IMAGE + 1)
                if len(image) > MAX_VERIFY_IMAGE:
                    abort(413)
                result = verify.verify_image(image, urls, utcnow(), email)
            elif (form.text.data or "").strip():
                result = verify.verify_text(form.text.data, urls, utcnow(), email)
            else:
                flash(_("Upload a badge image or paste a signed badge or its address."), "error")
                status = 400
            if result is not None and not result.valid:
                status = 422
    return render_template("badges/verify.html", form=form, result=result), status
