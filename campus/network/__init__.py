"""The development network: regions and units, groups, roadmaps, the ICT annual clock,
kick-off kits, templates that travel, and the digital-capability dashboards."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from campus.network import clock_models  # noqa: F401  (the tables)
    from campus.network import labels
    from campus.network import models  # noqa: F401
    from campus.network import views
    from campus.network import views_clock
    from campus.network import views_dashboard
    from campus.network import views_groups
    from campus.network import views_regions
    from campus.network import views_roadmaps
    from campus.network import views_toolkits

    labels.init_app(app)
    for module in (
        views,
        views_regions,
        views_groups,
        views_roadmaps,
        views_clock,
        views_toolkits,
        views_dashboard,
    ):
        app.register_blueprint(module.bp)
    from campus.network.cli import network_cli

    app.cli.add_command(network_cli)
