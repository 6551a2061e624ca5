"""The campus's own LTI formats: each is written and read by one helper."""

from __future__ import annotations

import pytest

from campus.lti.constants import Target
from campus.lti.constants import TargetKind
from campus.lti.constants import parse_target
from campus.lti.constants import subject
from campus.lti.constants import target_key
from campus.lti.constants import user_id_of


def test_subjects_round_trip_and_foreign_ones_name_nobody() -> None:
    assert subject(42) == "campus-user-42" and user_id_of(subject(42)) == 42
    for foreign in [
        "42",
        "campus-user-",
        "campus-user-0",
        "campus-user-4x",
        "campus-user-٤٢",
        f"campus-user-{2**63}",
        "other-user-42",
    ]:
        assert user_id_of(foreign) is None, foreign


@pytest.mark.parametrize(
    ("key", "parsed"),
    [
        ("path:basics", Target(TargetKind.PATH, "basics", None)),
        ("module:basics/welcome", Target(TargetKind.MODULE, "basics", "welcome")),
        ("module:basics", None),
        ("path:basics/welcome", None),
        ("page:basics", None),
        ("", None),
    ],
)
def test_target_keys(key: str, parsed: Target | None) -> None:
    assert parse_target(key) == parsed
    if parsed is not None:
        assert target_key(parsed.path_slug, parsed.module_slug) == key
