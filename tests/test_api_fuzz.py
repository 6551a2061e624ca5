"""Schemathesis fuzzes the whole API against its own OpenAPI document, in process.

Every operation is called with generated parameters and bodies: with an admin's personal
access token (which holds every scope), without a token (the public operations), and with the
path parameters of resources that exist (so the fuzzer gets past the 404s). Each answer must
not be a server error, and its status, content type and body must be what the document says.
Hypothesis is derandomized and bounded, so CI runs the same cases every time (< 60 s).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck
from hypothesis import Phase
from hypothesis import given
from hypothesis import settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import content_type_conformance
from schemathesis.specs.openapi.checks import response_schema_conformance
from schemathesis.specs.openapi.checks import status_code_conformance

from campus import create_app
from campus.api import token_services
from campus.assessments import rounds
from campus.auth.models import Organisation
from campus.auth.models import Role
from campus.auth.models import User
from campus.auth.services import set_roles
from campus.badges.awarding import award
from campus.badges.issuers import IssuingContext
from campus.badges.issuers import get_badge
from campus.badges.models import AwardSource
from campus.extensions import db
from campus.network import annual
from campus.network import roadmaps
from campus.network import structure
from campus.network.access import organisation_scope
from campus.network.models import GroupKind
from campus.network.models import GroupRole
from tests.conftest import BASE_URL
from tests.conftest import FAST_HASH
from tests.conftest import TEST_BADGES
from tests.conftest import TEST_CONTENT
from tests.conftest import load_test_content
from tests.conftest import now
from tests.test_assessment_tallies import make_instrument

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Operations the document must have (the fuzzer runs every operation it has).
EXPECTED = {
    "GET /api/v1/themes",
    "GET /api/v1/paths/{slug}",
    "GET /api/v1/me",
    "GET /api/v1/me/progress",
    "GET /api/v1/me/badges",
    "GET /api/v1/organisations/{slug}/progress",
    "GET /api/v1/organisations/{slug}/assessments",
    "GET /api/v1/organisations/{slug}/assessments/{round_id}",
    "GET /api/v1/badges",
    "GET /api/v1/badges/{slug}",
    "GET /api/v1/badges/{slug}/assertions",
    "POST /api/v1/badges/{slug}/awards",
    "GET /api/v1/assertions/{assertion_uuid}",
    "POST /api/v1/assertions/{assertion_uuid}/revoke",
    "GET /api/v1/network/groups",
    "GET /api/v1/network/groups/{group_id}",
    "GET /api/v1/network/groups/{group_id}/roadmap",
    "GET /api/v1/network/groups/{group_id}/clock",
    "POST /api/v1/oauth/token",
}
MAX_EXAMPLES = int(os.environ.get("CAMPUS_FUZZ_EXAMPLES", "8"))
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)


def _settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: report, don't minimise
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    tmp_path: Path = tmp_path_factory.mktemp("fuzz")
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "WTF_CSRF_ENABLED": False,
            "PASSWORD_HASH_METHOD": FAST_HASH,
            "CONTENT_DIR": str(TEST_CONTENT),
            "BADGES_DIR": str(TEST_BADGES),
            "UPLOAD_DIR": str(tmp_path / "uploads"),
            "MAIL_DIR": str(tmp_path / "mail"),
            "KEYS_DIR": str(tmp_path / "keys"),
            "BASE_URL": BASE_URL,
            "ASSESSMENT_CAMPUS_CACHE_SECONDS": 0,
            "API_RATE_LIMIT_AUTHENTICATED": 10**9,  # the fuzzer is one fast client
            "API_RATE_LIMIT_ANONYMOUS": 10**9,
        }
    )
    with app.app_context():
        db.create_all()
        load_test_content(app)
        db.session.commit()
    yield app


@pytest.fixture(scope="module")
def known(fuzz_app: Flask) -> dict[str, Any]:
    """Resources that exist, an admin's token with every scope, and their path parameters."""
    with fuzz_app.app_context():
        organisation = Organisation(name="Home College", slug="home")
        db.session.add(organisation)
        db.session.flush()
        people = {}
        for email, roles in (("admin@home.fi", {Role.ADMIN}), ("learner@home.fi", set())):
            user = User(
                email=email,
                name=email.split("@")[0].title(),
                password_hash=FAST_HASH,
                organisation_id=organisation.id,
                email_verified_at=now(),
            )
            db.session.add(user)
            set_roles(user, roles)
            people[email] = user
        db.session.flush()
        context = IssuingContext.from_config(fuzz_app.config)
        result = award(
            people["learner@home.fi"], get_badge("basics"), context, now(), AwardSource.BULK
        )  # type: ignore[arg-type]
        assert result.assertion is not None
        scope = organisation_scope(organisation)
        group = structure.create_group(scope, GroupKind.DIGI, "Home digi")
        structure.add_member(group, "learner@home.fi", GroupRole.CHAIR)
        roadmap = roadmaps.create_roadmap(scope, "Home roadmap", 2026, 2028)
        roadmaps.add_goal(
            roadmap,
            roadmaps.GoalInput(
                area="competence", focus="learning", title="Goal", group_id=group.id
            ),
            None,
            now(),
        )
        annual.create_action(
            scope,
            annual.ActionData(
                title="Plan", start_month=8, end_month=9, first_year=2026, group_id=group.id
            ),
        )
        instrument = make_instrument()
        round_ = rounds.open_round(
            organisation.id, instrument, "Autumn", date(2026, 9, 1), date(2026, 12, 1), None, None
        )
        _token, secret = token_services.create_pat(
            people["admin@home.fi"],
            "fuzz",
            token_services.user_allowed_scopes(people["admin@home.fi"]),
            None,
            now(),
        )
        db.session.commit()
        return {
            "token": secret,
            "path": {
                "slug": None,  # by collection (SLUGS)
                "assertion_uuid": result.assertion.uuid,
                "group_id": group.id,
                "round_id": round_.id,
                "theme_slug": "alpha",
                "path_slug": "basics",
                "module_slug": "welcome",
            },
        }


@pytest.fixture(scope="module")
def schema(fuzz_app: Flask, known: dict[str, Any]) -> Any:
    loaded = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fuzz_app)
    operations = [result.ok() for result in loaded.get_all_operations()]
    labels = {operation.label for operation in operations}
    assert EXPECTED <= labels, EXPECTED - labels
    return operations


def _is_public(operation: Any) -> bool:
    return not operation.definition.raw.get("security")


def _fuzz(
    operation: Any,
    headers: dict[str, str],
    path_parameters: dict[str, Any] | None,
    examples: int = MAX_EXAMPLES,
    modes: tuple[GenerationMode, ...] = MODES,
) -> str:
    """Run the operation's valid and invalid cases; '' when every check passed, else what
    failed (the first failing case of each mode)."""
    failures = []
    for mode in modes:
        strategy = operation.as_strategy(mode, path_parameters=path_parameters or None)

        @_settings(examples)
        @given(case=strategy)
        def run(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            run()
        except Unsatisfiable:
            continue  # nothing of this operation can be made invalid (fixed path parameters)
        except (Exception, FailureGroup) as error:  # a check failed: say where, and how
            failures.append(f"{operation.label} ({mode.value}): {error}")
    return "\n".join(failures)


SLUGS = {"organisations": "home", "themes": "alpha", "paths": "basics", "badges": "basics"}


def _known_path(operation: Any, known: dict[str, Any]) -> dict[str, Any]:
    names = [parameter.name for parameter in operation.path_parameters]
    values = {name: known["path"].get(name) for name in names}
    if "slug" in values:
        collection = operation.path.split("/")[3]  # /api/v1/<collection>/{slug}…
        values["slug"] = SLUGS.get(collection)
    return {name: value for name, value in values.items() if value is not None}


def _report(failures: list[str]) -> None:
    failed = [failure for failure in failures if failure]
    assert not failed, "\n\n".join(failed)


def test_every_operation_with_an_admin_token(schema: list[Any], known: dict[str, Any]) -> None:
    headers = {"Authorization": f"Bearer {known['token']}"}
    _report([_fuzz(operation, headers, None) for operation in schema])


def test_existing_resources_with_an_admin_token(schema: list[Any], known: dict[str, Any]) -> None:
    headers = {"Authorization": f"Bearer {known['token']}"}
    _report(
        [
            _fuzz(operation, headers, _known_path(operation, known))
            for operation in schema
            if operation.path_parameters
        ]
    )


def test_every_operation_without_a_token(schema: list[Any], known: dict[str, Any]) -> None:
    """Public operations answer; the others say 401 as their documents promise."""
    _report(
        [
            _fuzz(operation, {}, _known_path(operation, known))
            if _is_public(operation)
            else _fuzz(operation, {}, _known_path(operation, known), 3, MODES[:1])
            for operation in schema
        ]
    )
