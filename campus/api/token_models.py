"""Personal access tokens, OAuth clients and their access tokens (hashed at rest)."""

from __future__ import annotations
