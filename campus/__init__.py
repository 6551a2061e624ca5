"""Campus: a virtual competence campus (Flask application factory)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from campus.config import REPO_ROOT
from campus.config import default_config
from campus.config import environment_config
from campus.config import stored_secret_key


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: defaults → instance/config.py → CAMPUS_* environment → `config`."""
    app = Flask(__name__, instance_relative_config=True)
    instance_path = Path(app.instance_path)
    app.config.from_mapping(default_config(instance_path))
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_mapping(environment_config())
    if config:
        app.config.from_mapping(config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = stored_secret_key(instance_path)
    from campus.security import protect_sqlite_files

    protect_sqlite_files(app.config["SQLALCHEMY_DATABASE_URI"], instance_path)

    if proxies := int(app.config["TRUSTED_PROXIES"]):
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
    from campus import routing

    routing.init_app(app)  # before any rule is added
    _init_extensions(app)
    _register_blueprints(app)
    from campus import errors
    from campus import security
    from campus import templating

    errors.init_app(app)
    security.init_app(app)
    templating.init_app(app)
    return app


def _init_extensions(app: Flask) -> None:
    from campus.extensions import babel
    from campus.extensions import csrf
    from campus.extensions import db
    from campus.extensions import login_manager
    from campus.extensions import migrate
    from campus.i18n import select_locale

    if str(app.config["SQLALCHEMY_DATABASE_URI"]).startswith("sqlite"):
        # A file on this host has no connection to go stale: no `SELECT 1` on every checkout.
        options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
        options.pop("pool_pre_ping", None)
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    db.init_app(app)
    migrate.init_app(app, db, directory=str(REPO_ROOT / "migrations"))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"

    from flask_babel import lazy_gettext

    login_manager.login_message = lazy_gettext("Please log in to see this page.")

    from campus import sqlite  # noqa: F401  (savepoints that do not commit on their own)


def _register_blueprints(app: Flask) -> None:
    """Each capability registers its blueprints, commands and signal receivers itself."""
    from campus import api
    from campus import assessments
    from campus import auth
    from campus import badges
    from campus import lti
    from campus import manage
    from campus import network
    from campus import notices
    from campus import notifications
    from campus import outbox
    from campus import paths
    from campus import review
    from campus.i18n import translate_cli

    capabilities = (
        paths,
        auth,
        manage,
        badges,
        review,
        lti,
        outbox,
        assessments,
        network,
        notices,
        notifications,
        api,
    )
    for capability in capabilities:
        capability.init_app(app)
    app.cli.add_command(translate_cli)
