"""Rows for tests/test_query_counts.py: many more of everything the pages list."""

from __future__ import annotations

import uuid
from datetime import timedelta

from campus.auth.models import User
from campus.badges.models import Assertion
from campus.badges.models import AwardSource
from campus.badges.models import BadgeClass
from campus.badges.models import SigningKey
from campus.extensions import db
from campus.notifications import messages
from campus.notifications.models import Notification
from campus.paths.models import Completion
from campus.paths.models import CompletionSource
from campus.paths.models import Enrollment
from campus.paths.models import LearningPath
from campus.paths.models import Module
from campus.paths.models import PathCompletion
from campus.paths.models import Theme
from tests.conftest import now

# --- growing the data: every kind of row a page lists, `n` more of each ---------------------


def _texts(word: str) -> dict[str, str]:
    return {"fi": f"{word} fi", "en": f"{word} en", "sv": f"{word} sv"}


def add_catalogue(n: int) -> list[LearningPath]:
    """`n` themes, each with two paths of three modules (with bodies and settings) and a badge."""
    issuer_id = db.session.execute(db.select(BadgeClass.issuer_id).limit(1)).scalar_one()
    added = []
    for t in range(n):
        theme = Theme(
            slug=f"grown-{t}",
            position=100 + t,
            colour="#123456",
            title=_texts(f"Theme {t}"),
            summary=_texts("summary"),
            content_hash="x",
        )
        db.session.add(theme)
        for p in range(2):
            path = LearningPath(
                slug=f"grown-{t}-{p}",
                theme=theme,
                position=p,
                audience=["teachers", "leaders"],
                badge_slug=f"grown-{t}-{p}",
                title=_texts(f"Path {t}.{p}"),
                summary=_texts("summary"),
                content_hash="x",
            )
            for m in range(3):
                path.modules.append(
                    Module(
                        slug=f"m{m}",
                        position=m,
                        kind="done",
                        title=_texts(f"Module {m}"),
                        body_html=_texts("<p>body</p>" * 200),
                        settings={"big": "x" * 2000},
                        content_hash="x",
                    )
                )
            db.session.add(path)
            db.session.flush()
            db.session.add(
                BadgeClass(
                    slug=f"grown-{t}-{p}",
                    issuer_id=issuer_id,
                    name=_texts(f"Badge {t}.{p}"),
                    description=_texts("description"),
                    criteria=_texts("criteria"),
                    award_rule=f"path:{path.slug}",
                    path_id=path.id,
                    members=[],
                    tags=[],
                    alignment=[],
                    image_alt={},
                    image_png=b"png" * 1000,
                    image_svg=b"<svg/>",
                    content_hash="x",
                )
            )
            added.append(path)
    db.session.flush()
    return added


def add_modules(user_id: int, slug: str, n: int) -> None:
    """`n` more optional modules at the end of path `slug`, every other one done by `user_id`."""
    path = db.session.execute(db.select(LearningPath).where(LearningPath.slug == slug)).scalar_one()
    start = max(module.position for module in path.modules) + 1
    for index in range(n):
        module = Module(
            slug=f"more-{index}",
            position=start + index,
            kind="done",
            is_required=False,
            title=_texts(f"More {index}"),
            body_html=_texts("<p>body</p>" * 200),
            settings={},
            content_hash="x",
        )
        path.modules.append(module)
        db.session.flush()
        if index % 2:
            db.session.add(
                Completion(
                    user_id=user_id,
                    module_id=module.id,
                    completed_at=now(),
                    source=CompletionSource.SELF,
                )
            )
    db.session.flush()


def add_progress(user_id: int, paths: list[LearningPath], finish: bool = True) -> None:
    """Enrol `user_id` on `paths`, complete the first module of each, finish every other one."""
    when = now()
    for index, path in enumerate(paths):
        db.session.add(Enrollment(user_id=user_id, path_id=path.id, enrolled_at=when))
        db.session.add(
            Completion(
                user_id=user_id,
                module_id=path.modules[0].id,
                completed_at=when,
                source=CompletionSource.SELF,
            )
        )
        if finish and index % 2 == 0:
            for module in path.modules[1:]:
                db.session.add(
                    Completion(
                        user_id=user_id,
                        module_id=module.id,
                        completed_at=when,
                        source=CompletionSource.SELF,
                    )
                )
            db.session.add(PathCompletion(user_id=user_id, path_id=path.id, completed_at=when))
    db.session.flush()


def add_assertions(user_id: int) -> list[Assertion]:
    """An award of every path badge (revoked and expired ones among them) to `user_id`."""
    key = db.session.execute(
        db.select(SigningKey).where(SigningKey.algorithm == "RS256").limit(1)
    ).scalar_one()
    badges = db.session.execute(
        db.select(BadgeClass).where(BadgeClass.slug.like("grown-%")).order_by(BadgeClass.id)
    ).scalars()
    added = []
    for index, badge in enumerate(badges):
        assertion = Assertion(
            uuid=str(uuid.uuid4()),
            badge_class_id=badge.id,
            user_id=user_id,
            active_key=f"{badge.id}:{user_id}" if index % 3 else None,
            recipient_salt="salt",
            recipient_hash="sha256$x",
            issued_at=now() - timedelta(days=index),
            expires_at=now() - timedelta(days=1) if index % 5 == 1 else None,
            evidence=[],
            source=AwardSource.PATH,
            signing_key_id=key.id,
            jws="x" * 2000,
            baked_png=b"p" * 5000,
            baked_svg=b"s" * 5000,
            revoked_at=None if index % 3 else now(),
        )
        db.session.add(assertion)
        added.append(assertion)
    db.session.flush()
    return added


def add_assertions_of(user_id: int) -> list[Assertion]:
    query = db.select(Assertion).where(Assertion.user_id == user_id).order_by(Assertion.id)
    return list(db.session.execute(query).scalars())


def add_notifications(
    user_id: int, assertions: list[Assertion], paths: list[LearningPath], modules: int = 99
) -> None:
    """Notices of every kind that names a record, each naming a different one."""
    when = now()
    rows = []
    for assertion in assertions:
        rows.append(
            (
                messages.BADGE_AWARDED,
                {"assertion_id": assertion.id, "badge_class_id": assertion.badge_class_id},
            )
        )
        rows.append(
            (
                messages.BADGE_EXPIRING,
                {
                    "badge_class_id": assertion.badge_class_id,
                    "path_id": assertion.badge_class.path_id,
                    "expires": when.isoformat(),
                },
            )
        )
    for path in paths:
        for module in path.modules[:modules]:
            rows.append((messages.EVIDENCE_ACCEPTED, {"module_id": module.id, "feedback": "ok"}))
            rows.append((messages.REVIEW_QUEUE, {"module_id": module.id, "learner_id": user_id}))
    for index, (kind, params) in enumerate(rows):
        db.session.add(
            Notification(
                user_id=user_id,
                kind=kind,
                params=params,
                created_at=when - timedelta(minutes=index),
                read_at=when if index % 2 else None,
            )
        )
    db.session.flush()


def add_members(organisation_id: int, paths: list[LearningPath], n: int) -> None:
    """`n` more people in the organisation, each with progress on `paths`."""
    for index in range(n):
        user = User(
            email=f"member{index}@example.org",
            name=f"Member {index:03d}",
            password_hash="x",
            organisation_id=organisation_id,
            email_verified_at=now(),
        )
        db.session.add(user)
        db.session.flush()
        add_progress(user.id, paths[index % 2 :: 2])
    db.session.flush()
