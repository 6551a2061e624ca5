"""Awarding, revocation, criteria checklists, review applications and bulk awards.

Services flush and never commit: an award commits with the request that earned it, and a
failure anywhere (key, signing, baking, database) rolls the whole request back.
"""

from __future__ import annotations

import csv
import io
import secrets
import uuid as uuid_module
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from campus.auth.models import Organisation
from campus.auth.models import Role
from campus.auth.models import User
from campus.auth.services import normalise_email
from campus.badges import artwork
from campus.badges import ob2
from campus.badges import signing
from campus.badges.baking import bake
from campus.badges.files import BadgeSpec
from campus.badges.files import BadgeTree
from campus.badges.models import ApplicationStatus
from campus.badges.models import Assertion
from campus.badges.models import AwardSource
from campus.badges.models import BadgeApplication
from campus.badges.models import BadgeClass
from campus.badges.models import Issuer
from campus.extensions import db
from campus.i18n import pick
from campus.paths import services as path_services
from campus.paths.models import CompletionSource
from campus.paths.models import EvidenceStatus
from campus.paths.models import EvidenceSubmission
from campus.paths.models import LearningPath
from campus.paths.models import Module
from campus.paths.models import ModuleKind
from campus.paths.models import PathCompletion
from campus.paths.sync import SyncReport

CAMPUS_ISSUER = "campus"


class BadgeError(Exception):
    """A request about badges that cannot be done; the message is shown to the user."""


@dataclass(frozen=True)
class IssuingContext:
    """What signing needs from configuration, passed explicitly to the services."""

    urls: ob2.Urls
    keys_dir: Path
    passphrase: str | None
    issuer_name: str
    issuer_url: str
    issuer_email: str

    @classmethod
    def from_config(cls, config: Any) -> IssuingContext:
        base = str(config["BASE_URL"]).rstrip("/")
        return cls(
            urls=ob2.Urls(base),
            keys_dir=Path(config["KEYS_DIR"]),
            passphrase=config.get("KEY_PASSPHRASE"),
            issuer_name=config["ISSUER_NAME"],
            issuer_url=config.get("ISSUER_URL") or base,
            issuer_email=config["ISSUER_EMAIL"],
        )


@dataclass
class AwardResult:
    assertion: Assertion
    created: bool
    milestones: list[Assertion] = field(default_factory=list)


# --- issuer and badge classes ----------------------------------------------------------------


def campus_issuer(context: IssuingContext) -> Issuer:
    """The campus's own issuer profile, created on first use and kept in line with the config."""
    issuer = db.session.execute(
        db.select(Issuer).where(Issuer.slug == CAMPUS_ISSUER)
    ).scalar_one_or_none()
    if issuer is None:
        issuer = Issuer(
            slug=CAMPUS_ISSUER,
            name=context.issuer_name,
            url=context.issuer_url,
            email=context.issuer_email,
        )
        db.session.add(issuer)
        db.session.flush()
    elif (issuer.name, issuer.url, issuer.email) != (
        context.issuer_name,
        context.issuer_url,
        context.issuer_email,
    ):
        issuer.name, issuer.url, issuer.email = (
            context.issuer_name,
            context.issuer_url,
            context.issuer_email,
        )
    return issuer


def organisation_issuer(organisation_slug: str, context: IssuingContext) -> Issuer:
    """An organisation issuing in its own name: its own issuer profile, keys and revocations."""
    organisation = db.session.execute(
        db.select(Organisation).where(Organisation.slug == organisation_slug)
    ).scalar_one_or_none()
    if organisation is None:
        raise BadgeError(f"organisation `{organisation_slug}` does not exist (create it first)")
    slug = f"org-{organisation.slug}"
    issuer = db.session.execute(db.select(Issuer).where(Issuer.slug == slug)).scalar_one_or_none()
    if issuer is None:
        issuer = Issuer(
            slug=slug,
            name=organisation.name,
            url=context.issuer_url,
            email=context.issuer_email,
            organisation_id=organisation.id,
        )
        db.session.add(issuer)
        db.session.flush()
    elif issuer.name != organisation.name:
        issuer.name = organisation.name
    return issuer


def _issuer_for(spec: BadgeSpec, context: IssuingContext) -> Issuer:
    if spec.issuer.startswith("org:"):
        try:
            return organisation_issuer(spec.issuer.removeprefix("org:"), context)
        except BadgeError as error:
            raise BadgeError(f"badges/{spec.slug}/badge.toml: {error}") from error
    return campus_issuer(context)


def sync_badges(tree: BadgeTree, context: IssuingContext, report: SyncReport) -> None:
    """Upsert badge classes by slug (run after the paths sync, in the same transaction).

    Raises BadgeError when a badge names an organisation that does not exist; the caller rolls
    the whole sync back.
    """
    existing = {b.slug: b for b in db.session.execute(db.select(BadgeClass)).scalars()}
    paths = {p.slug: p for p in db.session.execute(db.select(LearningPath)).scalars()}
    for spec in tree.badges:
        issuer = _issuer_for(spec, context)  # before a new row joins the session (autoflush)
        badge = existing.get(spec.slug)
        label = f"badge {spec.slug}"
        if badge is None:
            badge = BadgeClass(slug=spec.slug)
            db.session.add(badge)
            report.created.append(label)
        elif badge.is_retired:
            report.restored.append(label)
        elif badge.content_hash == spec.content_hash:
            continue
        else:
            report.updated.append(label)
        with db.session.no_autoflush:  # a new row is complete only after _apply_spec
            _apply_spec(badge, spec, issuer, paths)
    wanted = {spec.slug for spec in tree.badges}
    for slug, badge in existing.items():
        if slug not in wanted and not badge.is_retired:
            badge.is_retired = True
            report.retired.append(f"badge {slug}")
    db.session.flush()


def _apply_spec(
    badge: BadgeClass, spec: BadgeSpec, issuer: Issuer, paths: dict[str, LearningPath]
) -> None:
    title = pick(spec.name, "fi")
    path = paths.get(spec.path_slug) if spec.path_slug else None
    # Drawn artwork takes the badge's own colour, else its path's theme colour.
    colour = spec.colour or (path.theme.colour if path is not None else None)
    badge.issuer = issuer
    badge.name = spec.name
    badge.description = spec.description
    badge.criteria = spec.criteria
    badge.award_rule = spec.award
    badge.path_id = paths[spec.path_slug].id if spec.path_slug else None
    badge.members = list(spec.members)
    badge.tags = list(spec.tags)
    badge.valid_for_days = spec.valid_for_days
    badge.alignment = list(spec.alignment)
    badge.image_alt = spec.image_alt or {lang: f"{text}" for lang, text in spec.name.items()}
    badge.colour = colour
    badge.image_png = artwork.png_from_svg_or_draw(spec.image_type, spec.image, title, colour)
    badge.image_svg = artwork.svg_edition(spec.image_type, spec.image, title, colour)
    badge.content_hash = spec.content_hash
    badge.is_retired = False


def get_badge(slug: str) -> BadgeClass | None:
    return db.session.execute(
        db.select(BadgeClass).where(BadgeClass.slug == slug, BadgeClass.is_retired.is_(False))
    ).scalar_one_or_none()


def list_badges() -> list[BadgeClass]:
    return list(
        db.session.execute(
            db.select(BadgeClass).where(BadgeClass.is_retired.is_(False)).order_by(BadgeClass.slug)
        ).scalars()
    )


# --- awarding --------------------------------------------------------------------------------


def active_assertion(user: User, badge: BadgeClass) -> Assertion | None:
    return db.session.execute(
        db.select(Assertion).where(Assertion.active_key == f"{badge.id}:{user.id}")
    ).scalar_one_or_none()


def is_expired(assertion: Assertion, now: datetime) -> bool:
    expires = assertion.expires_at
    if expires is None:
        return False
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=UTC)
    return expires <= now


def status_of(assertion: Assertion, now: datetime) -> str:
    if assertion.revoked_at is not None:
        return "revoked"
    return "expired" if is_expired(assertion, now) else "valid"


def award(
    user: User,
    badge: BadgeClass,
    context: IssuingContext,
    now: datetime,
    source: AwardSource,
    evidence: list[dict[str, Any]] | None = None,
) -> AwardResult:
    """Issue `badge` to `user` once: sign, bake and store, then award any milestone it completes.

    Everything happens in the caller's transaction; an exception leaves nothing behind.
    """
    existing = active_assertion(user, badge)
    if existing is not None and not is_expired(existing, now):
        return AwardResult(existing, created=False)
    if existing is not None:
        # Earned again after it expired: the old assertion stays as history, a new one is issued.
        existing.active_key = None
        db.session.flush()
    if badge.is_retired:
        raise BadgeError(_("This badge is no longer awarded."))
    key = signing.key_for_signing(badge.issuer, context.keys_dir, context.passphrase, now)
    assertion_uuid = str(uuid_module.uuid4())
    salt = secrets.token_hex(16)
    identity = ob2.recipient_hash(user.badge_email or user.email, salt)
    expires_at = now + timedelta(days=badge.valid_for_days) if badge.valid_for_days else None
    evidence = evidence or []
    payload = ob2.assertion_document(
        context.urls,
        uuid=assertion_uuid,
        badge_slug=badge.slug,
        identity=identity,
        salt=salt,
        issued_at=now,
        expires_at=expires_at,
        evidence=evidence,
        key_id=key.kid,
    )
    jws = signing.sign_assertion(payload, key, context.keys_dir, context.passphrase)
    assertion = Assertion(
        uuid=assertion_uuid,
        badge_class=badge,
        user_id=user.id,
        active_key=f"{badge.id}:{user.id}",
        recipient_salt=salt,
        recipient_hash=identity,
        issued_at=now,
        expires_at=expires_at,
        evidence=evidence,
        source=source.value,
        signing_key=key,
        jws=jws,
        baked_png=bake(badge.image_png, jws),
        baked_svg=bake(badge.image_svg, jws),
    )
    try:
        with db.session.begin_nested():
            db.session.add(assertion)
    except IntegrityError:
        winner = active_assertion(user, badge)
        if winner is None:
            raise
        return AwardResult(winner, created=False)
    result = AwardResult(assertion, created=True)
    result.milestones = _award_milestones(user, badge, context, now)
    return result


def _award_milestones(
    user: User, badge: BadgeClass, context: IssuingContext, now: datetime
) -> list[Assertion]:
    """Award each milestone that `badge` completes; the holdings query runs only when one could."""
    candidates = [
        milestone
        for milestone in db.session.execute(
            db.select(BadgeClass).where(
                BadgeClass.award_rule == "milestone", BadgeClass.is_retired.is_(False)
            )
        ).scalars()
        if badge.slug in milestone.members
    ]
    if not candidates:
        return []
    awarded = []
    held = held_badge_slugs(user, now)
    for milestone in candidates:
        if set(milestone.members) <= held and milestone.slug not in held:
            result = award(
                user,
                milestone,
                context,
                now,
                AwardSource.MILESTONE,
                [{"narrative": _milestone_narrative(milestone)}],
            )
            if result.created:
                awarded.append(result.assertion)
                awarded.extend(result.milestones)
                held.add(milestone.slug)
    return awarded


def _milestone_narrative(milestone: BadgeClass) -> str:
    return "Holds every member badge: " + ", ".join(milestone.members)


def held_badge_slugs(user: User, now: datetime) -> set[str]:
    return {a.badge_class.slug for a in held_assertions(user) if not is_expired(a, now)}


def held_assertions(user: User) -> list[Assertion]:
    return list(
        db.session.execute(
            db.select(Assertion)
            .where(Assertion.user_id == user.id, Assertion.revoked_at.is_(None))
            .order_by(Assertion.issued_at.desc(), Assertion.id.desc())
        ).scalars()
    )


def all_assertions(user: User) -> list[Assertion]:
    return list(
        db.session.execute(
            db.select(Assertion)
            .where(Assertion.user_id == user.id)
            .order_by(Assertion.issued_at.desc(), Assertion.id.desc())
        ).scalars()
    )


def path_evidence(user: User, path: LearningPath, completed_at: datetime) -> list[dict[str, Any]]:
    """What a path badge carries as evidence: the completion, and accepted evidence submissions."""
    evidence: list[dict[str, Any]] = [
        {
            "narrative": f'Completed the path "{pick(path.title, "en")}" on {completed_at.date().isoformat()}.'
        }
    ]
    evidence_modules = [m.id for m in path.active_modules if m.kind == ModuleKind.EVIDENCE]
    if evidence_modules:
        for submission in db.session.execute(
            db.select(EvidenceSubmission).where(
                EvidenceSubmission.user_id == user.id,
                EvidenceSubmission.module_id.in_(evidence_modules),
                EvidenceSubmission.status == EvidenceStatus.ACCEPTED.value,
            )
        ).scalars():
            item: dict[str, Any] = {"narrative": submission.description}
            if submission.link_url:
                item["id"] = submission.link_url
            evidence.append(item)
    return evidence


def award_for_path(
    user: User, path: LearningPath, completed_at: datetime, context: IssuingContext
) -> AwardResult | None:
    badge = db.session.execute(
        db.select(BadgeClass).where(BadgeClass.path_id == path.id, BadgeClass.is_retired.is_(False))
    ).scalar_one_or_none()
    if badge is None:
        return None
    return award(
        user,
        badge,
        context,
        completed_at,
        AwardSource.PATH,
        path_evidence(user, path, completed_at),
    )


def reissue_to_current_email(user: User, context: IssuingContext, now: datetime) -> int:
    """After the learner claims an address: badges made out to another address are re-issued."""
    email = user.badge_email or user.email
    count = 0
    for assertion in held_assertions(user):
        if assertion.recipient_hash == ob2.recipient_hash(email, assertion.recipient_salt):
            continue
        badge, evidence, source = (
            assertion.badge_class,
            list(assertion.evidence),
            AwardSource(assertion.source),
        )
        revoke(assertion, "Re-issued to the address the learner claimed.", now)
        award(user, badge, context, now, source, evidence)
        count += 1
    return count


# --- revocation ------------------------------------------------------------------------------


def find_assertion(assertion_uuid: str) -> Assertion | None:
    return db.session.execute(
        db.select(Assertion).where(Assertion.uuid == assertion_uuid)
    ).scalar_one_or_none()


def revoke(assertion: Assertion, reason: str, now: datetime) -> bool:
    """Revoke with a reason; False when it was revoked already (the first reason stands)."""
    reason = reason.strip()
    if not reason:
        raise BadgeError(_("Give a reason for the revocation."))
    if assertion.revoked_at is not None:
        return False
    assertion.revoked_at = now
    assertion.revocation_reason = reason[:500]
    assertion.active_key = None
    db.session.flush()
    return True


def revoke_many(uuids: list[str], reason: str, now: datetime) -> tuple[int, list[str]]:
    """Revoke every listed assertion; returns (revoked count, unknown ids). Nothing on error."""
    unknown = []
    revoked = 0
    for assertion_uuid in dict.fromkeys(u.strip() for u in uuids if u.strip()):
        assertion = find_assertion(assertion_uuid)
        if assertion is None:
            unknown.append(assertion_uuid)
        elif revoke(assertion, reason, now):
            revoked += 1
    return revoked, unknown


def revoked_for_issuer(issuer: Issuer) -> list[tuple[str, str]]:
    return [
        (a.uuid, a.revocation_reason or "")
        for a in db.session.execute(
            db.select(Assertion)
            .join(BadgeClass)
            .where(BadgeClass.issuer_id == issuer.id, Assertion.revoked_at.is_not(None))
            .order_by(Assertion.revoked_at, Assertion.id)
        ).scalars()
    ]


# --- "why don't I have it yet?" ----------------------------------------------------------------


@dataclass(frozen=True)
class ChecklistItem:
    label: str
    done: bool
    # Where to go next, as (endpoint, arguments) for url_for: services build no URLs themselves.
    link: tuple[str, dict[str, str]] | None = None
    note: str | None = None


def checklist(
    user: User | None, badge: BadgeClass, now: datetime, language: str
) -> list[ChecklistItem]:
    """The criteria as a list of things done and still missing, for this user."""
    if badge.path_id is not None:
        path = db.session.get(LearningPath, badge.path_id)
        assert path is not None
        progress = path_services.path_progress(user, path)
        items = [
            ChecklistItem(
                pick(m.title, language),
                m.id in progress.done_module_ids,
                ("paths.module", {"path_slug": path.slug, "module_slug": m.slug}),
                None if m.is_required else _("optional"),
            )
            for m in path.active_modules
        ]
        return items
    if badge.is_milestone:
        held = held_badge_slugs(user, now) if user is not None else set()
        members = {
            b.slug: b
            for b in db.session.execute(
                db.select(BadgeClass).where(BadgeClass.slug.in_(badge.members))
            ).scalars()
        }
        return [
            ChecklistItem(
                pick(members[slug].name, language) if slug in members else slug,
                slug in held,
                ("badges.detail", {"slug": slug}),
            )
            for slug in badge.members
        ]
    application = latest_application(user, badge) if user is not None else None
    status = application.status if application else None
    return [
        ChecklistItem(_("Submit evidence of your work"), application is not None),
        ChecklistItem(
            _("A reviewer accepts the evidence"),
            status == ApplicationStatus.ACCEPTED.value,
            note=_("Returned with feedback: please revise and resubmit.")
            if status == ApplicationStatus.RETURNED.value
            else None,
        ),
    ]


# --- review applications ---------------------------------------------------------------------


def latest_application(user: User, badge: BadgeClass) -> BadgeApplication | None:
    return db.session.execute(
        db.select(BadgeApplication)
        .where(BadgeApplication.user_id == user.id, BadgeApplication.badge_class_id == badge.id)
        .order_by(BadgeApplication.submitted_at.desc(), BadgeApplication.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def apply_for_badge(
    user: User,
    badge: BadgeClass,
    narrative: str,
    link: str | None,
    file: path_services.EvidenceFile | None,
    upload_dir: Path,
    allowed_extensions: list[str],
    max_bytes: int,
    now: datetime,
) -> BadgeApplication:
    """Store evidence for a review badge; refuses while an application waits or the badge is held."""
    if not badge.is_review:
        raise BadgeError(_("This badge is not awarded on review."))
    if active_assertion(user, badge) is not None:
        raise BadgeError(_("You already hold this badge."))
    waiting = latest_application(user, badge)
    if waiting is not None and waiting.status == ApplicationStatus.SUBMITTED.value:
        raise BadgeError(_("Your earlier application is still waiting for review."))
    narrative = narrative.strip()
    if len(narrative) < 20:
        raise BadgeError(_("Please describe your evidence in at least 20 characters."))
    link = (link or "").strip() or None
    if not link and not file:
        raise BadgeError(_("Please add a link or a file."))
    file_name = stored_name = file_size = None
    try:
        if link:
            path_services.check_link(link)
        if file:
            file_name, stored_name, file_size = path_services.store_upload(
                file, upload_dir, allowed_extensions, max_bytes
            )
    except path_services.ActivityError as error:
        raise BadgeError(str(error)) from error
    application = path_services.insert_with_upload(
        BadgeApplication,
        upload_dir,
        user_id=user.id,
        badge_class_id=badge.id,
        narrative=narrative,
        link_url=link,
        file_name=file_name,
        stored_name=stored_name,
        file_size=file_size,
        status=ApplicationStatus.SUBMITTED.value,
        submitted_at=now,
    )
    if application is None:  # a concurrent twin (a double click) got in first: it waits for review
        application = latest_application(user, badge)
        assert application is not None
    return application


def _reviewable(query, model, reviewer: User):  # type: ignore[no-untyped-def]
    """Reviewers see their own organisation's learners; admins see everyone's."""
    if reviewer.has_role(Role.ADMIN):
        return query
    return query.join(User, User.id == model.user_id).where(
        User.organisation_id == reviewer.organisation_id
    )


def pending_applications(reviewer: User) -> list[BadgeApplication]:
    query = db.select(BadgeApplication).where(
        BadgeApplication.status == ApplicationStatus.SUBMITTED.value
    )
    query = _reviewable(query, BadgeApplication, reviewer)
    return list(
        db.session.execute(
            query.order_by(BadgeApplication.submitted_at, BadgeApplication.id)
        ).scalars()
    )


def pending_module_evidence(reviewer: User) -> list[EvidenceSubmission]:
    query = db.select(EvidenceSubmission).where(
        EvidenceSubmission.status == EvidenceStatus.SUBMITTED.value
    )
    query = _reviewable(query, EvidenceSubmission, reviewer)
    return list(
        db.session.execute(
            query.order_by(EvidenceSubmission.submitted_at, EvidenceSubmission.id)
        ).scalars()
    )


def can_review(reviewer: User, applicant: User) -> bool:
    if reviewer.id == applicant.id or not reviewer.has_role(Role.REVIEWER):
        return False
    return reviewer.has_role(Role.ADMIN) or reviewer.organisation_id == applicant.organisation_id


def _check_reviewer(reviewer: User, applicant_id: int) -> None:
    if reviewer.id == applicant_id:
        raise BadgeError(_("You cannot review your own evidence."))
    applicant = db.session.get(User, applicant_id)
    if applicant is None or not can_review(reviewer, applicant):
        raise BadgeError(_("You can review only your own organisation's learners."))


def accept_application(
    application: BadgeApplication,
    reviewer: User,
    feedback: str,
    context: IssuingContext,
    now: datetime,
) -> AwardResult:
    """Accept and award the badge with the evidence attached to the assertion."""
    _check_reviewer(reviewer, application.user_id)
    if application.status != ApplicationStatus.SUBMITTED.value:
        raise BadgeError(_("This application has already been reviewed."))
    evidence: dict[str, Any] = {"narrative": application.narrative}
    if application.link_url:
        evidence["id"] = application.link_url
    result = award(
        application.user, application.badge_class, context, now, AwardSource.REVIEW, [evidence]
    )
    application.status = ApplicationStatus.ACCEPTED.value
    application.reviewed_at = now
    application.reviewer_id = reviewer.id
    application.feedback = feedback.strip() or None
    application.assertion_id = result.assertion.id
    db.session.flush()
    return result


def return_application(
    application: BadgeApplication, reviewer: User, feedback: str, now: datetime
) -> None:
    _check_reviewer(reviewer, application.user_id)
    if application.status != ApplicationStatus.SUBMITTED.value:
        raise BadgeError(_("This application has already been reviewed."))
    if not feedback.strip():
        raise BadgeError(_("Tell the learner what to improve."))
    application.status = ApplicationStatus.RETURNED.value
    application.reviewed_at = now
    application.reviewer_id = reviewer.id
    application.feedback = feedback.strip()


def review_module_evidence(
    submission: EvidenceSubmission, reviewer: User, accept: bool, feedback: str, now: datetime
) -> path_services.CompletionResult | None:
    """Accepting module evidence completes the module (and maybe the path, and so its badge)."""
    _check_reviewer(reviewer, submission.user_id)
    if submission.status != EvidenceStatus.SUBMITTED.value:
        raise BadgeError(_("This submission has already been reviewed."))
    if not accept and not feedback.strip():
        raise BadgeError(_("Tell the learner what to improve."))
    submission.status = (EvidenceStatus.ACCEPTED if accept else EvidenceStatus.RETURNED).value
    submission.reviewed_at = now
    submission.reviewer_id = reviewer.id
    submission.feedback = feedback.strip() or None
    db.session.flush()
    if not accept:
        return None
    user = db.session.get(User, submission.user_id)
    module = db.session.get(Module, submission.module_id)
    assert user is not None and module is not None
    return path_services.complete_module(user, module, CompletionSource.REVIEW, now)


# --- bulk award ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BulkRow:
    line: int
    email: str
    narrative: str
    user: User | None
    status: str  # "award" | "holds" | "no_account" | "invalid"


MAX_BULK_ROWS = 20_000


def parse_bulk_csv(text: str, badge: BadgeClass) -> list[BulkRow]:
    """Read `email,narrative` rows (a header row is allowed) and say what would happen to each."""
    rows: list[BulkRow] = []
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    parsed = []
    for number, record in enumerate(reader, start=1):
        if not record or not any(cell.strip() for cell in record):
            continue
        if number == 1 and record[0].strip().lower() in {"email", "e-mail", "sähköposti", "e-post"}:
            continue
        parsed.append(
            (number, normalise_email(record[0]), (record[1] if len(record) > 1 else "").strip())
        )
        if len(parsed) > MAX_BULK_ROWS:
            raise BadgeError(_("At most %(count)d rows at a time.", count=MAX_BULK_ROWS))
    emails = {email for _n, email, _t in parsed}
    users = {
        u.email: u
        for chunk in _chunks(sorted(emails), 500)
        for u in db.session.execute(db.select(User).where(User.email.in_(chunk))).scalars()
    }
    holders = set(
        db.session.execute(
            db.select(Assertion.user_id).where(
                Assertion.badge_class_id == badge.id, Assertion.active_key.is_not(None)
            )
        ).scalars()
    )
    seen: set[str] = set()
    for number, email, narrative in parsed:
        user = users.get(email)
        if "@" not in email or email in seen:
            status = "invalid"
        elif user is None:
            status = "no_account"
        elif user.id in holders:
            status = "holds"
        else:
            status = "award"
        seen.add(email)
        rows.append(BulkRow(number, email, narrative, user, status))
    return rows


def _chunks(items: list[str], size: int):  # type: ignore[no-untyped-def]
    for start in range(0, len(items), size):
        yield items[start : start + size]


def apply_bulk_award(
    rows: list[BulkRow], badge: BadgeClass, context: IssuingContext, now: datetime
) -> int:
    """Award every row marked "award"; all in the caller's one transaction."""
    count = 0
    for row in rows:
        if row.status != "award" or row.user is None:
            continue
        evidence = [{"narrative": row.narrative}] if row.narrative else []
        if award(row.user, badge, context, now, AwardSource.BULK, evidence).created:
            count += 1
    return count


# --- event-driven awarding -------------------------------------------------------------------


def on_path_completed(
    path: LearningPath, user: User, path_completion: PathCompletion, **_extra: Any
) -> AwardResult | None:
    """Award the path's badge inside the request that completed the path (no cron)."""
    from flask import current_app

    context = IssuingContext.from_config(current_app.config)
    return award_for_path(user, path, path_completion.completed_at, context)


def connect_signals() -> None:
    from campus.signals import path_completed

    path_completed.connect(on_path_completed)
