"""API wiring: the flask-smorest Api, problem details, paging, caching and rate limits."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask, blueprints: list) -> None:
    """Stub until the API core lands."""
