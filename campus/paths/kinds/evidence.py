"""`evidence`: a description with a link and/or a file, stored for a reviewer.

Every evidence rule is here, once: what the manifest may say (`accept_file`, `accept_link`), what a
submission must hold (`check_evidence`), the form built from the same limits, and what an accepted
submission adds to the path's badge. The review itself is campus.review's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import StringField
from wtforms import SubmitField
from wtforms import TextAreaField
from wtforms.validators import DataRequired

from campus.auth.models import User
from campus.extensions import db
from campus.paths import kinds
from campus.paths import services
from campus.paths.activities import ActivityError
from campus.paths.manifest import ManifestReader
from campus.paths.models import EvidenceStatus
from campus.paths.models import EvidenceSubmission
from campus.paths.models import Module
from campus.paths.uploads import EvidenceFile
from campus.paths.uploads import UploadRules
from campus.paths.uploads import insert_with_file
from campus.signals import evidence_submitted

MIN_DESCRIPTION = 20  # named in its message: "… in at least 20 characters."
MAX_DESCRIPTION = 10_000
MAX_LINK = 2000  # the column's length


class EvidenceForm(FlaskForm):
    """Only the fields: check_evidence judges them, for this form and every other caller alike."""

    description = TextAreaField(
        _l("Describe your evidence"),
        validators=[DataRequired(message=_l("Describe your evidence first."))],
    )
    link = StringField(_l("Link (optional)"))
    file = FileField(_l("File (optional)"))
    submit = SubmitField(_l("Submit for review"))


def check_link(link: str) -> str:
    parts = urlsplit(link)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise kinds.FieldError(
            _("The link must be a full web address starting with https:// or http://."), "link"
        )
    return link


def check_evidence(
    settings: dict[str, Any], description: str, link: str | None, has_file: bool
) -> tuple[str, str | None]:
    """The description and link to store; ActivityError names what the learner must change (a
    FieldError the field of EvidenceForm it is about)."""
    description = description.replace("\r\n", "\n").strip()
    link = (link or "").strip() or None
    if len(description) < MIN_DESCRIPTION:
        raise kinds.FieldError(
            _("Please describe your evidence in at least 20 characters."), "description"
        )
    if len(description) > MAX_DESCRIPTION:
        raise kinds.FieldError(
            _(
                "Please describe your evidence in at most %(count)d characters.",
                count=MAX_DESCRIPTION,
            ),
            "description",
        )
    if link and not settings.get("accept_link", True):
        raise kinds.FieldError(_("This module does not accept links."), "link")
    if has_file and not settings.get("accept_file", True):
        raise kinds.FieldError(_("This module does not accept files."), "file")
    if not link and not has_file:
        where = "link" if settings.get("accept_link", True) else "file"
        raise kinds.FieldError(_("Please add a link or a file."), where)
    if link:
        check_link(link)
        if len(link) > MAX_LINK:
            raise kinds.FieldError(
                _("The link is too long (at most %(count)d characters).", count=MAX_LINK), "link"
            )
    return description, link


def submit_evidence(
    user: User,
    module: Module,
    description: str,
    link: str | None,
    file: EvidenceFile | None,
    rules: UploadRules,
    now: datetime,
) -> EvidenceSubmission:
    """Store evidence for review. The file is written first and removed again if anything fails."""
    description, link = check_evidence(module.settings, description, link, file is not None)
    if services.done_module_ids(user, [module.id]):
        raise ActivityError(_("Your evidence was accepted: this module is completed."))
    if any(
        s.status == EvidenceStatus.SUBMITTED for s in services.evidence_submissions(user, module)
    ):
        raise ActivityError(_("Your earlier submission is still waiting for review."))
    try:
        submission = insert_with_file(
            EvidenceSubmission,
            file,
            rules,
            user_id=user.id,
            module_id=module.id,
            description=description,
            link_url=link,
            status=EvidenceStatus.SUBMITTED.value,
            submitted_at=now,
        )
    except ActivityError as error:  # the file's type, size or emptiness: shown beside it
        raise kinds.FieldError(str(error), "file") from error
    if submission is None:  # a concurrent twin (a double click) got in first: it waits for review
        submission = _waiting_evidence(user, module)
        assert submission is not None
    else:
        evidence_submitted.send(submission)
    return submission


def _waiting_evidence(user: User, module: Module) -> EvidenceSubmission | None:
    return db.session.execute(
        db.select(EvidenceSubmission).where(
            EvidenceSubmission.user_id == user.id,
            EvidenceSubmission.module_id == module.id,
            EvidenceSubmission.status == EvidenceStatus.SUBMITTED,
        )
    ).scalar_one_or_none()


@kinds.register
class Evidence(kinds.ModuleKindType):
    key = "evidence"
    label = _l("Evidence")
    shows_own_errors = True
    settings_keys = frozenset({"prompt", "accept_file", "accept_link"})
    form = EvidenceForm

    @classmethod
    def read_settings(cls, reader: ManifestReader) -> dict[str, Any]:
        accept_file = reader.boolean("accept_file", True)
        accept_link = reader.boolean("accept_link", True)
        if not accept_file and not accept_link:
            reader.report_key("accept_link", "an evidence module must accept a file or a link")
        return {
            "prompt": reader.texts("prompt"),
            "accept_file": accept_file,
            "accept_link": accept_link,
        }

    @classmethod
    def page_context(
        cls, module: Module, user: User, form: FlaskForm | None = None
    ) -> dict[str, Any]:
        rules = UploadRules.from_config(current_app.config)
        form = form or EvidenceForm()
        upload = form.file.data
        return {
            "form": form,
            "submissions": services.evidence_submissions(user, module),
            "max_megabytes": rules.max_megabytes,
            "extensions": rules.extensions,
            "min_description": MIN_DESCRIPTION,
            # a browser never keeps a chosen file when the form comes back: say which one it was
            "refused_file_name": getattr(upload, "filename", None) or None,
        }

    @classmethod
    def submit(cls, user: User, module: Module, submission: kinds.Submission) -> kinds.SubmitResult:
        form = submission.form
        assert isinstance(form, EvidenceForm)
        upload = form.file.data
        file = EvidenceFile(upload.filename, upload.stream) if upload and upload.filename else None
        submit_evidence(
            user,
            module,
            form.description.data or "",
            form.link.data,
            file,
            UploadRules.from_config(submission.config),
            submission.now,
        )
        message = _("Your evidence was submitted. A reviewer will look at it.")
        # The page opens at its messages (not at the error summary the form's address names).
        return kinds.SubmitResult(messages=[(message, "success")], anchor="main")

    @classmethod
    def badge_evidence(cls, user: User, module: Module) -> list[dict[str, Any]]:
        """Accepted submissions: the description as narrative, the link (if any) as id."""
        items: list[dict[str, Any]] = []
        for submission in db.session.execute(
            db.select(EvidenceSubmission)
            .where(
                EvidenceSubmission.user_id == user.id,
                EvidenceSubmission.module_id == module.id,
                EvidenceSubmission.status == EvidenceStatus.ACCEPTED,
            )
            .order_by(EvidenceSubmission.id)
        ).scalars():
            item: dict[str, Any] = {"narrative": submission.description}
            if submission.link_url:
                item["id"] = submission.link_url
            items.append(item)
        return items
