"""Bitstring Status List credentials (public, fetched by every verifier)."""

from __future__ import annotations

from campus.badges.ob3.web import ob3_bp  # noqa: F401
