"""Everything the campus holds about one person, as a zip they can download (data rights).

Only rows whose `user_id` is the person's go in, and never a secret: no password hash, no login
token hash, no signing key, no recipient hash or salt. Reviewers are not named (their ids are
other people's data); the reviewer's feedback to the person is theirs and is included.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from werkzeug.utils import secure_filename

from campus.assessments.models import AssessmentResponse
from campus.auth.models import LoginSession
from campus.auth.models import User
from campus.badges.models import Assertion
from campus.badges.models import BadgeApplication
from campus.badges.models import BadgeClass
from campus.clock import aware_or_none
from campus.extensions import db
from campus.lti.models import LtiIdentity
from campus.lti.models import LtiPlatform
from campus.network.models import Group
from campus.network.models import GroupMembership
from campus.paths.models import Completion
from campus.paths.models import Enrollment
from campus.paths.models import EvidenceSubmission
from campus.paths.models import LearningPath
from campus.paths.models import Module
from campus.paths.models import PathCompletion
from campus.paths.models import QuizAttempt
from campus.paths.models import ReflectionAnswer

FORMAT_VERSION = 1

Exporter = Callable[[User], Any]
_exporters: dict[str, Exporter] = {}  # sections added by newer capabilities, by key


def exports(key: str) -> Callable[[Exporter], Exporter]:
    """Register `function(user)` as the `key` section of the person's data: a capability that
    stores personal rows says so next to them (as it registers its eraser), so the download
    never misses a table that this module was not told about."""

    def register(function: Exporter) -> Exporter:
        _exporters[key] = function
        return function

    return register


def time_text(moment: datetime | None) -> str | None:
    """Times as in the rest of the file (ISO 8601, UTC), for the registered sections."""
    return _time(moment)


def _time(moment: datetime | None) -> str | None:
    value = aware_or_none(moment)
    return value.isoformat() if value else None


def _rows(model: Any, user: User, order: Any) -> list[Any]:
    return list(
        db.session.execute(db.select(model).where(model.user_id == user.id).order_by(order))
        .scalars()
        .all()
    )


def _path_slugs() -> dict[int, str]:
    return dict(db.session.execute(db.select(LearningPath.id, LearningPath.slug)).all())


def _module_names() -> dict[int, tuple[str, str]]:
    query = db.select(Module.id, LearningPath.slug, Module.slug).join(
        LearningPath, LearningPath.id == Module.path_id
    )
    return {row[0]: (row[1], row[2]) for row in db.session.execute(query)}


def _module(names: dict[int, tuple[str, str]], module_id: int) -> dict[str, str | None]:
    path, module = names.get(module_id, (None, None))
    return {"path": path, "module": module}


def evidence_file_name(kind: str, row_id: int, file_name: str | None) -> str:
    """Where an uploaded file goes in the zip: `evidence/<kind>-<id>-<original name>`."""
    return f"evidence/{kind}-{row_id}-{secure_filename(file_name or '') or 'file'}"


def badge_file_name(assertion: Assertion, extension: str) -> str:
    return f"badges/{assertion.badge_class.slug}-{assertion.uuid[:8]}.{extension}"


def _account(user: User) -> dict[str, Any]:
    return {
        "name": user.name,
        "email": user.email,
        "badge_email": user.badge_email,
        "organisation": user.organisation.name,
        "roles": sorted(str(role) for role in user.roles),
        "language": user.locale,
        "active": user.is_active_account,
        "created": _time(user.created_at),
    }


def _reviewed_upload(kind: str, row: Any) -> dict[str, Any]:
    """What module evidence and badge applications share: link, file, review."""
    return {
        "link": row.link_url,
        "file_name": row.file_name,
        "file_size": row.file_size,
        "file_in_zip": evidence_file_name(kind, row.id, row.file_name) if row.stored_name else None,
        "status": str(row.status),
        "submitted": _time(row.submitted_at),
        "reviewed": _time(row.reviewed_at),
        "feedback": row.feedback,
    }


def _learning(user: User) -> dict[str, Any]:
    paths = _path_slugs()
    modules = _module_names()
    return {
        "enrolments": [
            {"path": paths.get(row.path_id), "enrolled": _time(row.enrolled_at)}
            for row in _rows(Enrollment, user, Enrollment.id)
        ],
        "module_completions": [
            {
                **_module(modules, row.module_id),
                "completed": _time(row.completed_at),
                "score": row.score,
                "source": str(row.source),
            }
            for row in _rows(Completion, user, Completion.id)
        ],
        "path_completions": [
            {"path": paths.get(row.path_id), "completed": _time(row.completed_at)}
            for row in _rows(PathCompletion, user, PathCompletion.id)
        ],
        "quiz_attempts": [
            {
                **_module(modules, row.module_id),
                "answers": row.answers,
                "correct": row.correct,
                "total": row.total,
                "score": row.score,
                "passed": row.passed,
                "submitted": _time(row.submitted_at),
            }
            for row in _rows(QuizAttempt, user, QuizAttempt.id)
        ],
        "reflections": [
            {**_module(modules, row.module_id), "text": row.text, "saved": _time(row.submitted_at)}
            for row in _rows(ReflectionAnswer, user, ReflectionAnswer.id)
        ],
        "evidence_submissions": [
            {
                **_module(modules, row.module_id),
                "description": row.description,
                **_reviewed_upload("module", row),
            }
            for row in _rows(EvidenceSubmission, user, EvidenceSubmission.id)
        ],
    }


def _badges(user: User) -> dict[str, Any]:
    slugs = dict(db.session.execute(db.select(BadgeClass.id, BadgeClass.slug)).all())
    assertions = _rows(Assertion, user, Assertion.id)
    return {
        "badge_applications": [
            {
                "badge": slugs.get(row.badge_class_id),
                "narrative": row.narrative,
                **_reviewed_upload("badge", row),
            }
            for row in _rows(BadgeApplication, user, BadgeApplication.id)
        ],
        "badge_assertions": [
            {
                "uuid": row.uuid,
                "badge": slugs.get(row.badge_class_id),
                "issued": _time(row.issued_at),
                "expires": _time(row.expires_at),
                "revoked": _time(row.revoked_at),
                "revocation_reason": row.revocation_reason,
                "source": str(row.source),
                "files_in_zip": [badge_file_name(row, "png"), badge_file_name(row, "svg")]
                if row.revoked_at is None
                else [],
            }
            for row in assertions
        ],
    }


def _other(user: User) -> dict[str, Any]:
    identities = db.session.execute(
        db.select(LtiIdentity, LtiPlatform)
        .join(LtiPlatform, LtiPlatform.id == LtiIdentity.platform_id)
        .where(LtiIdentity.user_id == user.id)
        .order_by(LtiIdentity.id)
    )
    memberships = db.session.execute(
        db.select(GroupMembership, Group)
        .join(Group, Group.id == GroupMembership.group_id)
        .where(GroupMembership.user_id == user.id)
        .order_by(GroupMembership.id)
    )
    return {
        "lti_identities": [
            {
                "platform": platform.name,
                "issuer": platform.issuer,
                "sub": identity.sub,
                "email": identity.email,
                "linked": _time(identity.created_at),
            }
            for identity, platform in identities
        ],
        # Only when each login started: the token (and its hash) stay on the server.
        "login_sessions": [
            {"created": _time(row.created_at)}
            for row in _rows(LoginSession, user, LoginSession.created_at)
        ],
        "assessment_responses": [
            {
                "instrument": row.instrument.slug,
                "staff_group": str(row.staff_group),
                "started": _time(row.started_at),
                "submitted": _time(row.submitted_at),
                "answers_deleted": _time(row.answers_deleted_at),
                "answers": [
                    {
                        "item": answer.item_id,
                        "value": answer.value,
                        "answered": _time(answer.answered_at),
                    }
                    for answer in sorted(row.answers, key=lambda answer: answer.item_id)
                ],
            }
            for row in _rows(AssessmentResponse, user, AssessmentResponse.id)
        ],
        "group_memberships": [
            {
                "group": group.name,
                "kind": str(group.kind),
                "role": str(membership.role),
                "organisation": membership.organisation.name,
                "responsibilities": membership.responsibilities,
                "joined": _time(membership.created_at),
            }
            for membership, group in memberships
        ],
    }


def personal_data(user: User) -> dict[str, Any]:
    """The person's own rows, as plain JSON-ready values."""
    return {
        "format_version": FORMAT_VERSION,
        "account": _account(user),
        **_learning(user),
        **_badges(user),
        **_other(user),
        **{key: export(user) for key, export in _exporters.items()},
    }


def _uploaded_files(user: User, upload_dir: Path) -> list[tuple[str, Path]]:
    found: list[tuple[str, Path]] = []
    for kind, model in (("module", EvidenceSubmission), ("badge", BadgeApplication)):
        for row in _rows(model, user, model.id):
            if row.stored_name:
                source = upload_dir / Path(row.stored_name).name  # never outside the folder
                if source.is_file():
                    found.append((evidence_file_name(kind, row.id, row.file_name), source))
    return found


def data_zip(user: User, now: datetime, upload_dir: Path | None = None) -> bytes:
    """`data.json`, the person's uploaded evidence files and their valid baked badges."""
    data = {"exported": _time(now), **personal_data(user)}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps(data, ensure_ascii=False, indent=2))
        if upload_dir is not None:
            for name, source in _uploaded_files(user, upload_dir):
                archive.write(source, name)
        for assertion in _rows(Assertion, user, Assertion.id):
            if assertion.revoked_at is None:  # a revoked badge is not handed out again
                archive.writestr(badge_file_name(assertion, "png"), assertion.baked_png)
                archive.writestr(badge_file_name(assertion, "svg"), assertion.baked_svg)
    return buffer.getvalue()
