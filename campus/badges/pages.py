"""Badge pages: the catalogue, one badge (and applying for it), the backpack, one award and
its downloads, and the public verify page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote
from urllib.parse import urlencode

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
from sqlalchemy.orm import defer
from sqlalchemy.orm import selectinload

from campus.badges import verify
from campus.badges.applications import apply_for_badge
from campus.badges.applications import latest_application
from campus.badges.awarding import active_assertion
from campus.badges.awarding import held_badge_slugs
from campus.badges.awarding import status_of
from campus.badges.checklist import checklist
from campus.badges.documents import issuer_name
from campus.badges.downloads import baked_download
from campus.badges.forms import ApplyForm
from campus.badges.forms import VerifyForm
from campus.badges.issuers import BadgeError
from campus.badges.issuers import list_badges
from campus.badges.models import Assertion
from campus.badges.models import AssertionStatus
from campus.badges.models import BadgeClass
from campus.badges.ob3.credential import credential_url
from campus.badges.revocation import find_assertion
from campus.badges.web import EARNED
from campus.badges.web import assertion_or_404
from campus.badges.web import badge_or_404
from campus.badges.web import bp
from campus.badges.web import issuing_context
from campus.clock import aware
from campus.clock import utcnow
from campus.extensions import db
from campus.i18n import current_language
from campus.i18n import pick
from campus.paths.models import LearningPath
from campus.paths.models import PathCompletion
from campus.paths.models import PathPrerequisite
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
            if "csrf_token" in form.errors:
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
        meta=share_meta(badge, external_url("badges.detail", slug=badge.slug)),
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
    assertions = _backpack_assertions(current_user.id)
    return render_template(
        "badges/backpack.html",
        assertions=assertions,
        statuses={a.id: status_of(a, now) for a in assertions},
    )


def _backpack_assertions(user_id: int) -> list[Assertion]:
    """Every award of the person, newest first, with its badge in one more query (the cards
    show the badge's name, never its artwork or the baked and signed editions)."""
    query = (
        db.select(Assertion)
        .where(Assertion.user_id == user_id)
        .order_by(Assertion.issued_at.desc(), Assertion.id.desc())
        .options(defer(Assertion.baked_png), defer(Assertion.baked_svg), defer(Assertion.jws))
        .options(
            selectinload(Assertion.badge_class).options(
                defer(BadgeClass.image_png), defer(BadgeClass.image_svg)
            )
        )
    )
    return list(db.session.execute(query).scalars())


@bp.get("/a/<assertion_uuid>")
def assertion_page(assertion_uuid: str):
    assertion = assertion_or_404(assertion_uuid)
    badge = assertion.badge_class
    page_url = external_url("badges.assertion_page", assertion_uuid=assertion.uuid)
    status = status_of(assertion, utcnow())
    is_owner = current_user.is_authenticated and current_user.id == assertion.user_id
    return render_template(
        "badges/assertion.html",
        assertion=assertion,
        badge=badge,
        status=status,
        page_url=page_url,
        hosted_url=external_url("ob.hosted_assertion", assertion_uuid=assertion.uuid),
        credential_url=credential_url(assertion.uuid, issuing_context().urls.base),
        shareable=status != AssertionStatus.REVOKED,
        share_linkedin="https://www.linkedin.com/sharing/share-offsite/?url="
        + quote(page_url, safe=""),
        add_to_linkedin=linkedin_add_url(assertion, page_url) if is_owner else None,
        meta=share_meta(badge, page_url, status),
        is_owner=is_owner,
    )


@bp.get("/a/<assertion_uuid>/badge.<extension>")
def baked(assertion_uuid: str, extension: str):
    """The award baked into the artwork of the page's language (campus.badges.downloads)."""
    return baked_download(assertion_uuid, extension, current_language())


@bp.route("/verify", methods=["GET", "POST"])
def verify_page():
    """Public: anything pasted or uploaded gets a list of checks (422 when one fails), never a 500."""
    form = VerifyForm()
    result = None
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            if "csrf_token" in form.errors:
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
                flash(
                    _(
                        "Upload a badge image or paste a signed badge, an Open Badges 3.0 credential or its address."
                    ),
                    "error",
                )
                status = 400
            if result is not None and not result.valid:
                status = 422
    return render_template("badges/verify.html", form=form, result=result), status


# --- sharing -------------------------------------------------------------------------------


def share_meta(badge: BadgeClass, page_url: str, status: str | None = None) -> dict[str, str]:
    """Open Graph and Twitter card fields of a public badge page (badges/_meta.html)."""
    name = pick(badge.name)
    if status == AssertionStatus.REVOKED:
        name = _("%(name)s (revoked)", name=name)
    return {
        "title": name,
        "description": pick(badge.description),
        "image": external_url("ob.badge_image", slug=badge.slug),
        "image_alt": pick(badge.image_alt) or _("Badge: %(name)s", name=pick(badge.name)),
        "url": page_url,
    }


def linkedin_add_url(assertion: Assertion, page_url: str) -> str:
    """LinkedIn's "Add to profile" form, filled in as a licence or certification."""
    issued = aware(assertion.issued_at)
    fields: dict[str, str | int] = {
        "startTask": "CERTIFICATION_NAME",
        "name": pick(assertion.badge_class.name),
        "organizationName": issuer_name(assertion.badge_class.issuer),
        "issueYear": issued.year,
        "issueMonth": issued.month,
    }
    if assertion.expires_at is not None:
        expires = aware(assertion.expires_at)
        fields |= {"expirationYear": expires.year, "expirationMonth": expires.month}
    fields |= {"certId": assertion.uuid, "certUrl": page_url}
    return "https://www.linkedin.com/profile/add?" + urlencode(fields)


# --- the moment a badge is earned ----------------------------------------------------------


@dataclass(frozen=True)
class EarnedBadge:
    """What badges/_earned.html shows about one badge just earned."""

    assertion: Assertion
    badge: BadgeClass
    name: str
    description: str
    image_alt: str
    issuer: str
    issued_at: datetime
    expires_at: datetime | None
    path: LearningPath | None  # the path whose completion earned it
    next_path: LearningPath | None  # where to go on from here

    @property
    def uuid(self) -> str:
        return self.assertion.uuid


def earned_badge(assertion: Assertion) -> EarnedBadge:
    badge = assertion.badge_class
    path = db.session.get(LearningPath, badge.path_id) if badge.path_id else None
    return EarnedBadge(
        assertion=assertion,
        badge=badge,
        name=pick(badge.name),
        description=pick(badge.description),
        image_alt=pick(badge.image_alt) or _("Badge: %(name)s", name=pick(badge.name)),
        issuer=issuer_name(badge.issuer),
        issued_at=assertion.issued_at,
        expires_at=assertion.expires_at,
        path=path,
        next_path=next_path(assertion.user_id, path) if path else None,
    )


def next_path(user_id: int, done: LearningPath) -> LearningPath | None:
    """A path that builds on `done`, else the next one in its theme; never one already done."""
    completed = set(
        db.session.execute(
            db.select(PathCompletion.path_id).where(PathCompletion.user_id == user_id)
        ).scalars()
    )
    follows = db.session.execute(
        db.select(LearningPath)
        .join(PathPrerequisite, PathPrerequisite.path_id == LearningPath.id)
        .where(PathPrerequisite.required_path_id == done.id, LearningPath.is_retired.is_(False))
        .order_by(LearningPath.position, LearningPath.id)
    ).scalars()
    same_theme = db.session.execute(
        db.select(LearningPath)
        .where(LearningPath.theme_id == done.theme_id, LearningPath.is_retired.is_(False))
        .order_by(LearningPath.position < done.position, LearningPath.position)
    ).scalars()
    for candidate in [*follows, *same_theme]:
        if candidate.id != done.id and candidate.id not in completed:
            return candidate
    return None


@bp.app_template_global()
def badge_moments(
    messages: list[tuple[str, str]],
) -> tuple[list[EarnedBadge], list[tuple[str, str]]]:
    """Split flashed messages into badges just earned (one moment) and the other messages.

    A badge's category is f"{EARNED}:{uuid}"; only the signed-in earner's valid badges show.
    With a badge to show, the success notes of the same step ("Module completed.", "You
    completed the path") are left out: the moment says them.
    """
    user_id = current_user.id if current_user.is_authenticated else None
    moments: list[EarnedBadge] = []
    rest: list[tuple[str, str]] = []
    for category, message in messages:
        kind, _sep, uuid = str(category).partition(":")
        if kind != EARNED:
            rest.append((category, message))
            continue
        found = find_assertion(uuid) if uuid else None
        if found is not None and found.user_id == user_id and found.revoked_at is None:
            moments.append(earned_badge(found))
    if moments:
        rest = [(category, message) for category, message in rest if category != "success"]
    return moments, rest
