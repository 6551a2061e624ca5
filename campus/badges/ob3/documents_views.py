"""DID documents, credentials and achievements (public, for verifiers and wallets)."""

from __future__ import annotations

from campus.badges.ob3.web import ob3_bp  # noqa: F401
