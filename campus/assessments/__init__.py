"""Starting-point assessment: self-assessment, development plan, organisation and regional views."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Tables now; the blueprint and commands register here as they are built."""
    from campus.assessments import models  # noqa: F401  (the tables)
