"""The JSON API under /api/v1 (OpenAPI 3.1, generated from the code by flask-smorest).

Callers authenticate with a bearer token only (personal access tokens or OAuth 2.0 client
credentials), never with the session cookie, so the API needs no CSRF token and a page cannot
be made to call it on a visitor's behalf.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from campus.api import badges
    from campus.api import catalogue
    from campus.api import core
    from campus.api import me
    from campus.api import network
    from campus.api import oauth
    from campus.api import organisations
    from campus.api import token_models  # noqa: F401  (the token tables)
    from campus.api import token_pages
    from campus.api import token_services  # noqa: F401  (data rights: eraser and export)
    from campus.api.token_cli import api_cli

    core.init_app(
        app,
        [catalogue.blp, me.blp, organisations.blp, badges.blp, network.blp, oauth.blp],
    )
    app.register_blueprint(token_pages.bp)
    app.cli.add_command(api_cli)
