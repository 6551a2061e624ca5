"""What each kind of notification says, rendered in the current locale from its stored params.

Callers choose the language (a request's, or `force_locale(recipient)` for mail); links are
endpoints and values, made relative for pages and absolute (BASE_URL) for mail. A record that
has gone since (a deleted path) shows a dash instead of failing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from typing import Any

from flask import url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import ngettext

from campus.auth.models import Organisation
from campus.auth.models import User
from campus.badges.models import Assertion
from campus.badges.models import BadgeClass
from campus.extensions import db
from campus.i18n import pick
from campus.paths.models import LearningPath
from campus.paths.models import Module
from campus.routing import external_url

EVIDENCE_ACCEPTED = "evidence_accepted"
EVIDENCE_RETURNED = "evidence_returned"
BADGE_AWARDED = "badge_awarded"
BADGE_REVOKED = "badge_revoked"
BADGE_EXPIRING = "badge_expiring"
REVIEW_QUEUE = "review_queue"
FOLLOWUP_FAILED = "followup_failed"
WEEKLY_PROGRESS = "weekly_progress"

DASH = "—"


@dataclass(frozen=True)
class Message:
    title: str
    body: list[str] = field(default_factory=list)
    quote: str | None = None  # the reviewer's feedback or a revocation reason, verbatim
    quote_label: str | None = None
    endpoint: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    link_text: str | None = None

    def url(self, external: bool = False) -> str | None:
        if self.endpoint is None:
            return None
        if external:
            return external_url(self.endpoint, **self.values)
        return url_for(self.endpoint, **self.values)


Renderer = Callable[[dict[str, Any]], Message]
_renderers: dict[str, Renderer] = {}


def renders(kind: str) -> Callable[[Renderer], Renderer]:
    def register(function: Renderer) -> Renderer:
        _renderers[kind] = function
        return function

    return register


def describe(kind: str, params: dict[str, Any]) -> Message:
    renderer = _renderers.get(kind)
    if renderer is None:  # written by a newer version of the campus
        return Message(_("A notification"))
    return renderer(params)


# --- lookups (the session's identity map makes repeats free) -------------------------------


def _get(model: Any, ident: Any) -> Any:
    return db.session.get(model, ident) if isinstance(ident, int) else None


def _badge_name(params: dict[str, Any]) -> str:
    badge = _get(BadgeClass, params.get("badge_class_id"))
    return pick(badge.name) if badge is not None else DASH


def _module_parts(params: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
    module = _get(Module, params.get("module_id"))
    if module is None:
        return DASH, None
    values = {"path_slug": module.path.slug, "module_slug": module.slug}
    return pick(module.title), values


def _assertion_link(params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    assertion = _get(Assertion, params.get("assertion_id"))
    if assertion is not None:
        return "badges.assertion_page", {"assertion_uuid": assertion.uuid}
    return "badges.backpack", {}


def _day(value: Any) -> str:
    """A stored ISO moment as a date in the reader's language."""
    try:
        return format_date(datetime.fromisoformat(str(value)).date(), "long")
    except ValueError:
        return DASH


def _feedback(params: dict[str, Any]) -> tuple[str | None, str | None]:
    feedback = params.get("feedback")
    return (feedback, _("Feedback from the reviewer")) if feedback else (None, None)


# --- the kinds ------------------------------------------------------------------------------


@renders(EVIDENCE_ACCEPTED)
def _evidence_accepted(params: dict[str, Any]) -> Message:
    quote, label = _feedback(params)
    if params.get("source") == "application":
        endpoint, values = _assertion_link(params)
        held = params.get("assertion_id") is None
        return Message(
            _("Your application for the badge “%(name)s” was accepted", name=_badge_name(params)),
            [
                _("The badge is kept for you until you confirm your e-mail address.")
                if held
                else _("The badge is yours: find it in My badges.")
            ],
            quote,
            label,
            endpoint,
            values,
            _("See the badge"),
        )
    title, values = _module_parts(params)
    return Message(
        _("Your evidence for “%(module)s” was accepted", module=title),
        [_("The module is completed.")],
        quote,
        label,
        "paths.module" if values else None,
        values or {},
        _("Open the module"),
    )


@renders(EVIDENCE_RETURNED)
def _evidence_returned(params: dict[str, Any]) -> Message:
    quote, label = _feedback(params)
    if params.get("source") == "application":
        badge = _get(BadgeClass, params.get("badge_class_id"))
        return Message(
            _("Your application for the badge “%(name)s” was returned", name=_badge_name(params)),
            [_("Read the reviewer's feedback, improve your evidence and apply again.")],
            quote,
            label,
            "badges.detail" if badge is not None else None,
            {"slug": badge.slug} if badge is not None else {},
            _("Apply again"),
        )
    title, values = _module_parts(params)
    return Message(
        _("Your evidence for “%(module)s” was returned", module=title),
        [_("Read the reviewer's feedback, improve your evidence and send it again.")],
        quote,
        label,
        "paths.module" if values else None,
        values or {},
        _("Open the module"),
    )


@renders(BADGE_AWARDED)
def _badge_awarded(params: dict[str, Any]) -> Message:
    endpoint, values = _assertion_link(params)
    return Message(
        _("You earned the badge “%(name)s”", name=_badge_name(params)),
        [_("Download it, share it or add it to your backpack from the badge's page.")],
        endpoint=endpoint,
        values=values,
        link_text=_("See the badge"),
    )


@renders(BADGE_REVOKED)
def _badge_revoked(params: dict[str, Any]) -> Message:
    endpoint, values = _assertion_link(params)
    reason = params.get("reason") or None
    return Message(
        _("Your badge “%(name)s” was revoked", name=_badge_name(params)),
        [_("It no longer verifies as valid.")],
        reason,
        _("Reason") if reason else None,
        endpoint,
        values,
        _("See the badge"),
    )


@renders(BADGE_EXPIRING)
def _badge_expiring(params: dict[str, Any]) -> Message:
    name = _badge_name(params)
    path = _get(LearningPath, params.get("path_id"))
    badge = _get(BadgeClass, params.get("badge_class_id"))
    title = _(
        "Your badge “%(name)s” expires on %(day)s", name=name, day=_day(params.get("expires"))
    )
    if path is not None:
        return Message(
            title,
            [_("Renew it by completing the path “%(path)s” again.", path=pick(path.title))],
            endpoint="paths.path_detail",
            values={"slug": path.slug},
            link_text=_("Open the path"),
        )
    return Message(
        title,
        [_("To renew it, earn the badge again: its page says how.")],
        endpoint="badges.detail" if badge is not None else None,
        values={"slug": badge.slug} if badge is not None else {},
        link_text=_("Open the badge"),
    )


@renders(REVIEW_QUEUE)
def _review_queue(params: dict[str, Any]) -> Message:
    learner = _get(User, params.get("learner_id"))
    who = learner.name if learner is not None and learner.deleted_at is None else DASH
    if params.get("source") == "application":
        what = _("the badge “%(name)s”", name=_badge_name(params))
    else:
        what = _("the module “%(module)s”", module=_module_parts(params)[0])
    return Message(
        _("New evidence to review from %(name)s", name=who),
        [_("%(name)s sent evidence for %(what)s.", name=who, what=what)],
        endpoint="review.queue",
        link_text=_("Open the review queue"),
    )


@renders(FOLLOWUP_FAILED)
def _followup_failed(params: dict[str, Any]) -> Message:
    from campus.outbox.services import label_of

    count = int(params.get("count") or 1)
    return Message(
        _("A follow-up failed: %(label)s", label=str(label_of(str(params.get("item_kind"))))),
        [
            ngettext(
                "%(num)d follow-up of this kind gave up after its last retry today.",
                "%(num)d follow-ups of this kind gave up after their last retry today.",
                count,
            ),
            _("Retry them on the follow-ups page once the cause is fixed."),
        ],
        params.get("error") or None,
        _("Last error"),
        "outbox.index",
        {},
        _("Open the follow-ups"),
    )


@renders(WEEKLY_PROGRESS)
def _weekly_progress(params: dict[str, Any]) -> Message:
    organisation = _get(Organisation, params.get("organisation_id"))
    counts = [
        ngettext("%(num)d path completed", "%(num)d paths completed", params.get("paths", 0)),
        ngettext("%(num)d module completed", "%(num)d modules completed", params.get("modules", 0)),
        ngettext("%(num)d badge earned", "%(num)d badges earned", params.get("badges", 0)),
        ngettext("%(num)d person active", "%(num)d people active", params.get("active", 0)),
    ]
    return Message(
        _(
            "Progress of %(organisation)s, %(start)s – %(end)s",
            organisation=organisation.name if organisation is not None else DASH,
            start=_day(params.get("start")),
            end=_day(params.get("end")),
        ),
        counts,
        endpoint="manage.progress" if organisation is not None else None,
        values={"organisation_id": organisation.id} if organisation is not None else {},
        link_text=_("Open the progress page"),
    )


def day_param(moment: datetime) -> str:
    """How params store a day (ISO), read back by `_day`."""
    return moment.isoformat()
