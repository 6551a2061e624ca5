"""The issue-16 data set for bench/http_bench.py: a whole country's staff, written straight into the
tables (bulk inserts, not the services: 100,000 users through the award path would take an hour).

Content and badges come from content/ and badges/ through the real sync; one real award gives a
signed assertion whose JWS the generated rows copy (the HTTP pages only read them).
"""

from __future__ import annotations

import os
import uuid as uuid_module
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from typing import Any

from sqlalchemy import insert
from werkzeug.security import generate_password_hash

from campus.auth.models import Organisation
from campus.auth.models import Role
from campus.auth.models import User
from campus.auth.models import UserRole
from campus.badges import awarding
from campus.badges import issuers
from campus.badges.files import load_badges
from campus.badges.models import Assertion
from campus.badges.models import AwardSource
from campus.badges.models import BadgeClass
from campus.config import REPO_ROOT
from campus.extensions import db
from campus.paths.content import load_tree
from campus.paths.models import Completion
from campus.paths.models import CompletionSource
from campus.paths.models import Enrollment
from campus.paths.models import LearningPath
from campus.paths.models import Module
from campus.paths.models import PathCompletion
from campus.paths.sync import sync_tree

PASSWORD = "bench-password-1"
BATCH = 5000


@dataclass
class DataSet:
    users: int
    organisations: int
    completions: int
    path_completions: int
    assertions: int
    revoked: int
    learner_email: str
    admin_email: str
    org_admin_email: str
    biggest_org_id: int
    assertion_uuid: str
    issuer_slug: str
    path_slug: str
    module_slug: str


def _flush(model: Any, rows: list[dict[str, Any]]) -> None:
    if rows:
        db.session.execute(insert(model), rows)
        rows.clear()


def generate(
    users: int, organisations: int, revoked: int, image_bytes: int, now: datetime
) -> DataSet:
    """Fill an empty, migrated database; returns what the benchmark needs to address it."""
    tree = load_tree(REPO_ROOT / "content")
    report = sync_tree(tree, now)
    context = issuers.IssuingContext.from_config(_config())
    issuers.sync_badges(load_badges(REPO_ROOT / "badges", tree), context, report)
    db.session.commit()

    password_hash = generate_password_hash(PASSWORD)
    db.session.execute(
        insert(Organisation),
        [{"slug": f"org{o}", "name": f"Organisation {o}"} for o in range(organisations)],
    )
    org_ids = list(
        db.session.execute(db.select(Organisation.id).order_by(Organisation.id)).scalars()
    )
    rows: list[dict[str, Any]] = []
    for index in range(users):
        rows.append(
            {
                "email": f"u{index}@org{index % organisations}.bench.fi",
                "name": f"Teacher {index}",
                "password_hash": password_hash,
                "organisation_id": org_ids[index % organisations],
                "email_verified_at": now,
                "created_at": now - timedelta(days=400),
                "is_active_account": True,
            }
        )
        if len(rows) == BATCH:
            _flush(User, rows)
    _flush(User, rows)
    db.session.commit()

    first_user = db.session.execute(db.select(db.func.min(User.id))).scalar_one()
    admin = User(
        email="admin@bench.fi",
        name="Admin",
        password_hash=password_hash,
        organisation_id=org_ids[0],
        email_verified_at=now,
    )
    org_admin = User(
        email="orgadmin@bench.fi",
        name="Org admin",
        password_hash=password_hash,
        organisation_id=org_ids[0],
        email_verified_at=now,
    )
    db.session.add_all([admin, org_admin])
    db.session.flush()
    db.session.add_all(
        [
            UserRole(user_id=admin.id, role=Role.ADMIN),
            UserRole(user_id=org_admin.id, role=Role.ORG_ADMIN),
        ]
    )
    db.session.commit()

    paths = list(
        db.session.execute(
            db.select(LearningPath)
            .where(LearningPath.is_retired.is_(False))
            .order_by(LearningPath.id)
        ).scalars()
    )
    modules = {
        path.id: list(
            db.session.execute(
                db.select(Module.id, Module.is_required)
                .where(Module.path_id == path.id, Module.is_retired.is_(False))
                .order_by(Module.position)
            ).all()
        )
        for path in paths
    }
    badges = {
        b.path_id: b
        for b in db.session.execute(
            db.select(BadgeClass).where(BadgeClass.path_id.is_not(None))
        ).scalars()
    }

    # One real award: its JWS and key are what the generated assertions carry.
    learner = db.session.get(User, first_user)
    some_badge = next(iter(badges.values()))
    template = awarding.award(
        learner, some_badge, context, now - timedelta(days=3), AwardSource.BULK
    )
    assert template.assertion is not None
    db.session.commit()
    jws, key_id = template.assertion.jws, template.assertion.signing_key_id
    png, svg = os.urandom(image_bytes * 3 // 4), os.urandom(image_bytes // 4)

    completions = path_completions = assertions = 0
    completion_rows: list[dict[str, Any]] = []
    enrol_rows: list[dict[str, Any]] = []
    path_rows: list[dict[str, Any]] = []
    assertion_rows: list[dict[str, Any]] = []
    for index in range(users):
        user_id = first_user + index
        done_path = paths[index % len(paths)]
        started_path = paths[(index + 1) % len(paths)]
        moment = now - timedelta(days=index % 300, minutes=index % 1440)
        for path, how_many in ((done_path, None), (started_path, 3)):
            enrol_rows.append({"user_id": user_id, "path_id": path.id, "enrolled_at": moment})
            for module_id, _required in modules[path.id][:how_many]:
                completion_rows.append(
                    {
                        "user_id": user_id,
                        "module_id": module_id,
                        "completed_at": moment,
                        "source": CompletionSource.SELF,
                    }
                )
        path_rows.append({"user_id": user_id, "path_id": done_path.id, "completed_at": moment})
        badge = badges.get(done_path.id)
        if badge is not None and index > 0:
            is_revoked = assertions < revoked
            assertion_rows.append(
                {
                    "uuid": str(uuid_module.uuid4()),
                    "badge_class_id": badge.id,
                    "user_id": user_id,
                    "active_key": None if is_revoked else f"{badge.id}:{user_id}",
                    "recipient_salt": "bench",
                    "recipient_hash": "sha256$" + "0" * 64,
                    "issued_at": moment,
                    "evidence": [],
                    "source": AwardSource.BULK,
                    "signing_key_id": key_id,
                    "jws": jws,
                    "baked_png": png,
                    "baked_svg": svg,
                    "revoked_at": now - timedelta(hours=assertions) if is_revoked else None,
                    "revocation_reason": "Issued in error" if is_revoked else None,
                }
            )
            assertions += 1
        if len(completion_rows) >= BATCH:
            completions += len(completion_rows)
            _flush(Completion, completion_rows)
            _flush(Enrollment, enrol_rows)
        if len(path_rows) >= BATCH:
            path_completions += len(path_rows)
            _flush(PathCompletion, path_rows)
        if len(assertion_rows) >= 500:
            _flush(Assertion, assertion_rows)
            db.session.commit()
    completions += len(completion_rows)
    path_completions += len(path_rows)
    _flush(Completion, completion_rows)
    _flush(Enrollment, enrol_rows)
    _flush(PathCompletion, path_rows)
    _flush(Assertion, assertion_rows)
    db.session.commit()

    # The bench learner (user 0) finished paths[0] and began paths[1]; paths[2] is new to it, so
    # its module page offers "mark as done".
    started_path = paths[2 % len(paths)]
    open_module = db.session.execute(
        db.select(Module.slug)
        .where(Module.path_id == started_path.id, Module.kind == "read")
        .order_by(Module.position)
        .limit(1)
    ).scalar_one()
    return DataSet(
        users=users,
        organisations=organisations,
        completions=completions,
        path_completions=path_completions,
        assertions=assertions + 1,
        revoked=min(revoked, assertions),
        learner_email=learner.email,
        admin_email=admin.email,
        org_admin_email=org_admin.email,
        biggest_org_id=org_ids[0],
        assertion_uuid=template.assertion.uuid,
        issuer_slug=some_badge.issuer.slug,
        path_slug=started_path.slug,
        module_slug=open_module,
    )


def _config() -> Any:
    from flask import current_app

    return current_app.config
