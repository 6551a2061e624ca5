"""The notification list, its settings, and unsubscribing from a mail without logging in."""

from __future__ import annotations

from flask import Blueprint
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

from campus.auth.models import Role
from campus.clock import utcnow
from campus.extensions import csrf
from campus.extensions import db
from campus.notifications import services
from campus.notifications.forms import MarkReadForm
from campus.notifications.forms import SettingsForm
from campus.notifications.messages import describe
from campus.notifications.models import Delivery
from campus.notifications.models import Notification
from campus.routing import page_number

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.get("/")
@login_required
def index():  # type: ignore[no-untyped-def]
    page = page_number(request.args.get("page"))
    rows, total = services.notifications_of(current_user.id, page)
    if page > 1 and not rows:
        abort(404)
    pages = max(1, -(-total // services.PER_PAGE))
    return render_template(
        "notifications/index.html",
        items=[(row, describe(row.kind, row.params)) for row in rows],
        unread=services.unread_count(current_user.id),
        page=page,
        pages=pages,
        form=MarkReadForm(),
    )


@bp.get("/<int:notification_id>")
@login_required
def open_notification(notification_id: int):  # type: ignore[no-untyped-def]
    """Follow a notification's link, marking it read on the way."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != current_user.id:
        abort(404)
    services.mark_read(current_user.id, notification_id, utcnow())
    db.session.commit()
    target = describe(notification.kind, notification.params).url()
    return redirect(target or url_for(".index"))


@bp.post("/<int:notification_id>/read")
@login_required
def mark_read(notification_id: int):  # type: ignore[no-untyped-def]
    if not MarkReadForm().validate_on_submit():
        abort(400)
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != current_user.id:
        abort(404)
    services.mark_read(current_user.id, notification_id, utcnow())
    db.session.commit()
    return redirect(url_for(".index"))


@bp.post("/read")
@login_required
def mark_all_read():  # type: ignore[no-untyped-def]
    if not MarkReadForm().validate_on_submit():
        abort(400)
    count = services.mark_all_read(current_user.id, utcnow())
    db.session.commit()
    flash(_("%(count)d notification(s) marked as read.", count=count), "success")
    return redirect(url_for(".index"))


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():  # type: ignore[no-untyped-def]
    may_have_weekly = current_user.has_role(Role.ORG_ADMIN)
    setting = services.setting_for(current_user.id)
    form = SettingsForm(
        delivery=Delivery(setting.delivery).value, weekly_org_digest=setting.weekly_org_digest
    )
    if not may_have_weekly:
        del form.weekly_org_digest
    if form.validate_on_submit():
        weekly = bool(form.weekly_org_digest.data) if may_have_weekly else False
        services.save_setting(current_user.id, Delivery(form.delivery.data), weekly, utcnow())
        db.session.commit()
        flash(_("Your notification settings were saved."), "success")
        return redirect(url_for(".settings"))
    status = 400 if request.method == "POST" else 200
    return render_template("notifications/settings.html", form=form), status


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: mail clients post here without a page (the signed token is the proof)
def unsubscribe(token: str):  # type: ignore[no-untyped-def]
    """GET asks (link scanners in mail systems follow links); POST unsubscribes at once."""
    user = services.user_for_unsubscribe_token(current_app.config["SECRET_KEY"], token)
    if user is None:
        return render_template("notifications/unsubscribe.html", valid=False), 404
    if request.method == "POST":
        services.unsubscribe(user.id, utcnow())
        db.session.commit()
        return render_template("notifications/unsubscribe.html", valid=True, done=True)
    return render_template(
        "notifications/unsubscribe.html",
        valid=True,
        done=False,
        address=_masked(user.email),
        token=token,
    )


def _masked(email: str) -> str:
    """Enough of the address for its owner to recognise it, not all of it for whoever else
    holds the link."""
    local, _at, domain = email.partition("@")
    return f"{local[:2]}…@{domain}" if domain else "…"
