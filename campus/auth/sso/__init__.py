"""Single sign-on with OpenID Connect (issue 12): admins configure providers; people log in
with them, get an account on their first login (by issuer and subject) and link an existing
account with its password or a mailed link; organisations can be SSO-only."""

from __future__ import annotations

from typing import Any

from flask import Flask


def init_app(app: Flask) -> None:
    """Blueprints "sso" (/auth/sso) and "sso_admin" (/manage/sso), `flask sso`, the login
    page's provider buttons (template globals) and the account-deletion eraser."""
    from campus.auth.sso import erasure  # noqa: F401 (registers the eraser)
    from campus.auth.sso import link_views  # noqa: F401 (routes)
    from campus.auth.sso import models  # noqa: F401 (tables)
    from campus.auth.sso.admin_views import bp as admin_bp
    from campus.auth.sso.cli import sso_cli
    from campus.auth.sso.views import bp

    app.register_blueprint(bp)
    app.register_blueprint(admin_bp)
    app.cli.add_command(sso_cli)
    app.jinja_env.globals["sso_login_providers"] = _login_providers
    app.jinja_env.globals["sso_password_notice"] = _password_notice


def _login_providers() -> list[Any]:
    """Enabled providers, for "Log in with …" buttons (auth/sso/_login_buttons.html)."""
    from campus.auth.sso.providers import enabled_providers

    return enabled_providers()


def _password_notice(email: str | None) -> str | None:
    from campus.auth.sso.providers import password_notice

    return password_notice(email)
