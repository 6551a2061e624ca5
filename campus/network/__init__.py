"""The development network: regions and units, groups, roadmaps, the ICT annual clock,
kick-off kits, templates that travel, and the digital-capability dashboards."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from campus.network import clock_models  # noqa: F401  (the tables)
    from campus.network import models  # noqa: F401
