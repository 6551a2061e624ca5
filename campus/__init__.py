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
    from campus import outbox
    from campus import security
    from campus import templating

    outbox.init_app(app)
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

    db.init_app(app)
    migrate.init_app(app, db, directory=str(REPO_ROOT / "migrations"))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"

    from flask_babel import lazy_gettext

    login_manager.login_message = lazy_gettext("Please log in to see this page.")

    from campus import sqlite  # noqa: F401  (savepoints that do not commit)
    from campus.auth import models as auth_models  # noqa: F401  (registers user_loader)
    from campus.badges import models as badges_models  # noqa: F401
    from campus.badges.followups import connect_signals
    from campus.lti import models as lti_models  # noqa: F401
    from campus.paths import models as paths_models  # noqa: F401

    connect_signals()


def _register_blueprints(app: Flask) -> None:
    from campus.auth.cli import auth_cli
    from campus.auth.views import bp as auth_bp
    from campus.badges.cli import badges_cli
    from campus.badges.views import bp as badges_bp
    from campus.badges.views import ob_bp
    from campus.cli import content_cli
    from campus.lti.cli import lti_cli
    from campus.lti.tool_views import bp as lti_tool_bp
    from campus.lti.tool_views import connect_signals as connect_tool_signals
    from campus.lti.views import bp as lti_bp
    from campus.manage.cli import manage_cli
    from campus.manage.views import bp as manage_bp
    from campus.paths.views import bp as paths_bp

    app.register_blueprint(paths_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(manage_bp)
    app.register_blueprint(badges_bp)
    app.register_blueprint(ob_bp)
    app.register_blueprint(lti_bp)
    app.register_blueprint(lti_tool_bp)
    connect_tool_signals()
    app.cli.add_command(lti_cli)
    app.cli.add_command(badges_cli)
    app.cli.add_command(content_cli)
    app.cli.add_command(auth_cli)
    app.cli.add_command(manage_cli)

    from campus.i18n import translate_cli

    app.cli.add_command(translate_cli)
