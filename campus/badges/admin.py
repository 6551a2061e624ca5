"""Admins: one badge's awards, revoking one or many, and the CSV bulk award.
Awarding to one person, and the claims that wait for a verified address (campus.badges.claims).
"""

from __future__ import annotations

from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from flask_login import login_required

from campus.auth.models import Role
from campus.badges.awarding import status_of
from campus.badges.bulk import apply_bulk_award
from campus.badges.bulk import count_by_status
from campus.badges.bulk import parse_bulk_csv
from campus.badges.claim_models import BadgeClaim
from campus.badges.claims import award_to_address
from campus.badges.claims import cancel_claim as cancel
from campus.badges.claims import pending_claims
from campus.badges.forms import AwardOneForm
from campus.badges.forms import BulkAwardForm
from campus.badges.forms import BulkRevokeForm
from campus.badges.forms import CancelClaimForm
from campus.badges.forms import RevokeForm
from campus.badges.issuers import BadgeError
from campus.badges.models import Assertion
from campus.badges.models import AwardSource
from campus.badges.models import BadgeClass
from campus.badges.revocation import find_assertions
from campus.badges.revocation import revoke as revoke_assertion
from campus.badges.revocation import revoke_many
from campus.badges.web import assertion_or_404
from campus.badges.web import badge_or_404
from campus.badges.web import bp
from campus.badges.web import issuing_context
from campus.clock import utcnow
from campus.extensions import db
from campus.i18n import current_language
from campus.security import require_role

MAX_CSV_BYTES = 5 * 1024 * 1024


@bp.route("/admin/<slug>", methods=["GET", "POST"])
@login_required
def admin_badge(slug: str):
    require_role(Role.ADMIN)
    badge = badge_or_404(slug)
    return render_admin_badge(badge, AwardOneForm())


def render_admin_badge(badge: BadgeClass, award_form: AwardOneForm, status: int = 200):
    """The badge's admin page: awards, claims waiting for an address, and the award forms."""
    assertions = list(
        db.session.execute(
            db.select(Assertion)
            .where(Assertion.badge_class_id == badge.id)
            .order_by(Assertion.issued_at.desc(), Assertion.id.desc())
            .limit(500)
        ).scalars()
    )
    now = utcnow()
    return render_template(
        "badges/admin_badge.html",
        badge=badge,
        assertions=assertions,
        statuses={a.id: status_of(a, now) for a in assertions},
        bulk_form=BulkAwardForm(),
        award_form=award_form,
        claims=pending_claims(badge),
        cancel_form=CancelClaimForm(),
    ), status


@bp.post("/admin/<slug>/award-one")
@login_required
def award_one(slug: str):
    """One e-mail, one badge: at once to a verified account, else a claim and a claim mail."""
    require_role(Role.ADMIN)
    badge = badge_or_404(slug)
    form = AwardOneForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        return render_admin_badge(badge, form, 400)
    email = form.email.data
    narrative = (form.narrative.data or "").strip()
    try:
        result = award_to_address(
            email,
            badge,
            issuing_context(),
            utcnow(),
            AwardSource.BULK,
            [{"narrative": narrative}] if narrative else [],
            current_user._get_current_object(),
            current_language(),
        )
    except BadgeError as error:
        db.session.rollback()
        flash(str(error), "error")
        return render_admin_badge(badge, form, 400)
    db.session.commit()
    if result.created:
        flash(_("The badge was awarded to %(email)s.", email=email), "success")
    elif result.assertion is not None:
        flash(_("%(email)s holds this badge already.", email=email), "info")
    else:
        flash(
            _(
                "%(email)s has no confirmed account yet: the badge waits for them, and a message "
                "tells them how to receive it.",
                email=email,
            ),
            "info",
        )
    return redirect(url_for("badges.admin_badge", slug=slug))


@bp.post("/admin/claims/<int:claim_id>/cancel")
@login_required
def cancel_claim(claim_id: int):
    require_role(Role.ADMIN)
    claim = db.get_or_404(BadgeClaim, claim_id)
    if not CancelClaimForm().validate_on_submit():
        abort(400)
    if cancel(claim, utcnow()):
        db.session.commit()
        flash(_("The claim was cancelled: the badge will not be issued."), "success")
    else:
        flash(_("This claim is no longer open."), "info")
    return redirect(url_for("badges.admin_badge", slug=claim.badge_class.slug))


@bp.route("/admin/assertions/<assertion_uuid>/revoke", methods=["GET", "POST"])
@login_required
def revoke(assertion_uuid: str):
    """Two steps: the reason, then a confirmation page that says what revoking does."""
    require_role(Role.ADMIN)
    assertion = assertion_or_404(assertion_uuid)
    back = url_for("badges.admin_badge", slug=assertion.badge_class.slug)
    if assertion.revoked_at is not None:
        flash(_("The badge was revoked already."), "info")
        return redirect(back)
    form = RevokeForm()
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            if "csrf_token" in form.errors:
                abort(400)
            status = 400
        elif request.form.get("confirmed") == "1":
            revoke_assertion(assertion, form.reason.data, utcnow())
            db.session.commit()
            flash(_("The badge was revoked."), "success")
            return redirect(back)
    return render_template(
        "badges/revoke_confirm.html", assertion=assertion, form=form, back=back
    ), status


@bp.route("/admin/revoke", methods=["GET", "POST"])
@login_required
def bulk_revoke():
    """Ids and a reason, then a confirmation listing the badges; every id must be known."""
    require_role(Role.ADMIN)
    form = BulkRevokeForm()
    status = 200
    if form.validate_on_submit():
        uuids = form.uuids.data.split()
        found, unknown = find_assertions(uuids)
        if unknown:
            flash(
                _(
                    "Nothing was revoked: these ids are unknown: %(ids)s",
                    ids=", ".join(unknown[:20]),
                ),
                "error",
            )
            status = 400
        elif request.form.get("confirmed") != "1":
            return render_template(
                "badges/bulk_revoke_confirm.html",
                form=form,
                assertions=found,
                uuids=" ".join(a.uuid for a in found),
            )
        else:
            count, _unknown = revoke_many(uuids, form.reason.data, utcnow())
            db.session.commit()
            flash(
                ngettext("%(num)d badge was revoked.", "%(num)d badges were revoked.", count),
                "success",
            )
            return redirect(url_for("badges.bulk_revoke"))
    elif request.method == "POST":
        status = 400
    return render_template("badges/bulk_revoke.html", form=form), status


@bp.post("/admin/<slug>/bulk-award")
@login_required
def bulk_award(slug: str):
    require_role(Role.ADMIN)
    badge = badge_or_404(slug)
    form = BulkAwardForm()
    if not form.validate_on_submit():
        abort(400)
    if form.csv_file.data and form.csv_file.data.filename:
        raw = form.csv_file.data.stream.read(MAX_CSV_BYTES + 1)
        if len(raw) > MAX_CSV_BYTES:
            abort(413)
        text = raw.decode("utf-8-sig", errors="replace")
    else:
        text = form.csv_text.data or ""
    try:
        rows = parse_bulk_csv(text, badge)
    except BadgeError as error:
        flash(str(error), "error")
        return redirect(url_for("badges.admin_badge", slug=slug))
    if form.confirm.data:
        try:
            outcome = apply_bulk_award(
                rows,
                badge,
                issuing_context(),
                utcnow(),
                current_user._get_current_object(),
                current_language(),
            )
        except BadgeError as error:
            db.session.rollback()
            flash(str(error), "error")
            return redirect(url_for("badges.admin_badge", slug=slug))
        db.session.commit()
        flash(
            ngettext("%(num)d badge was awarded.", "%(num)d badges were awarded.", outcome.awarded),
            "success",
        )
        if outcome.claimed:
            flash(
                ngettext(
                    "%(num)d person was sent a message: the badge is issued when they confirm "
                    "their e-mail address.",
                    "%(num)d people were sent a message: the badge is issued when they confirm "
                    "their e-mail address.",
                    outcome.claimed,
                ),
                "info",
            )
        return redirect(url_for("badges.admin_badge", slug=slug))
    form.csv_text.data = text
    return render_template(
        "badges/bulk_preview.html",
        badge=badge,
        rows=rows[:1000],
        total=len(rows),
        counts=count_by_status(rows),
        form=form,
    )
