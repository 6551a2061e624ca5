"""“Why don't I have it yet?”: a badge's criteria as steps done and still missing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _

from campus.auth.models import User
from campus.badges.applications import latest_application
from campus.badges.awarding import held_badge_slugs
from campus.badges.models import ApplicationStatus
from campus.badges.models import BadgeClass
from campus.extensions import db
from campus.i18n import pick
from campus.paths import services as path_services
from campus.paths.models import LearningPath


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
            status == ApplicationStatus.ACCEPTED,
            note=_("Returned with feedback: please revise and resubmit.")
            if status == ApplicationStatus.RETURNED
            else None,
        ),
    ]
