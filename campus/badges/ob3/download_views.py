"""Baked OB 3.0 images and JSON/JWT downloads of a learner's credentials."""

from __future__ import annotations

from campus.badges.ob3.web import ob3_bp  # noqa: F401
