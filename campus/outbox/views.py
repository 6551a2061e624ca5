"""The admin's view of follow-ups: what failed, what waits, and a retry button."""

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
from flask_login import login_required

from campus.auth.models import Role
from campus.auth.models import User
from campus.clock import utcnow
from campus.extensions import db
from campus.outbox import services
from campus.outbox.forms import RetryForm
from campus.routing import parse_id
from campus.security import require_role

bp = Blueprint("outbox", __name__, url_prefix="/manage/follow-ups")


@bp.get("/")
@login_required
def index():  # type: ignore[no-untyped-def]
    require_role(Role.ADMIN)
    items = services.unfinished()
    user_ids = {item.user_id for item in items if item.user_id is not None}
    people = dict(
        db.session.execute(db.select(User.id, User.name).where(User.id.in_(user_ids))).all()
    )
    return render_template(
        "outbox/index.html",
        items=items,
        counts=services.counts(),
        people=people,
        label_of=services.label_of,
        form=RetryForm(),
    )


@bp.post("/retry")
@login_required
def retry():  # type: ignore[no-untyped-def]
    require_role(Role.ADMIN)
    form = RetryForm()
    if not form.validate_on_submit():
        abort(400)
    item_id = parse_id(request.form.get("item_id"))
    now = utcnow()
    count = services.retry([item_id] if item_id else None, now)
    db.session.commit()
    done = services.run_due(now, float(current_app.config.get("OUTBOX_TIMEOUT", 10.0)), count)[0]
    flash(_("%(count)d follow-up(s) tried again, %(done)d done.", count=count, done=done), "info")
    return redirect(url_for(".index"))
