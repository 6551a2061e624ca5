"""Fixtures of the live LTI tests (tests/lti/test_tool.py's `world` and its users)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def world_config() -> dict[str, Any]:
    """Extra campus configuration for the `world` fixture; parametrize it to change one."""
    return {}
