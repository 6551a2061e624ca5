"""Response headers that every page gets (defence in depth against injection and framing).

Also: private SQLite files, and start-up warnings about an unsafe production set-up.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path

from flask import Flask
from flask import Response
from flask import abort
from flask import current_app
from flask import request
from flask_login import current_user
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)


def content_security_policy(
    frame_ancestors: Iterable[str] = (), form_targets: Iterable[str] = ()
) -> str:
    """The one Content-Security-Policy of the campus.

    `frame_ancestors`: the LMSs that may frame our pages (see `frame_ancestors()`);
    `form_targets`: other sites one page may post a form to (an LTI auto-post page).
    """
    ancestors = " ".join(["'self'", *frame_ancestors])
    form_action = " ".join(["'self'", *form_targets])
    return "; ".join(
        [
            "default-src 'self'",
            "img-src 'self' https: data:",
            # Theme colours and progress widths are set in style attributes; no inline scripts.
            "style-src 'self' 'unsafe-inline'",
            "script-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            f"form-action {form_action}",
            f"frame-ancestors {ancestors}",
            # LTI modules may show their tool in an iframe (never scripts of ours from elsewhere).
            "frame-src 'self' https:",
        ]
    )


def frame_ancestors() -> tuple[str, ...]:
    """The sites that may frame the campus now: CAMPUS_FRAME_ANCESTORS, then the origins of
    every enabled LMS registered as a platform (`campus.lti.framing`, cached briefly)."""
    from campus.lti.framing import registered_frame_origins

    configured = current_app.config.get("FRAME_ANCESTORS") or ()
    return tuple(dict.fromkeys([*configured, *registered_frame_origins()]))


def policy_for_request(
    form_targets: Iterable[str] = (), extra_ancestors: Iterable[str] = ()
) -> str:
    """The policy for this app's framing, letting this page post to `form_targets` and, for
    this page only, be framed by `extra_ancestors` (checked origins)."""
    return content_security_policy([*frame_ancestors(), *extra_ancestors], form_targets)


def init_app(app: Flask) -> None:
    @app.after_request
    def security_headers(response: Response) -> Response:
        # A view that set its own policy (policy_for_request) chose its framing with it.
        own_policy = "Content-Security-Policy" in response.headers
        ancestors = frame_ancestors()
        response.headers.setdefault("Content-Security-Policy", content_security_policy(ancestors))
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if not ancestors and not own_policy:  # the old header cannot list other sites
            response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        if request.endpoint != "static" and current_user.is_authenticated:
            # Personal pages and evidence files must not stay in shared or proxy caches.
            response.headers["Cache-Control"] = "no-store"
            response.vary.add("Cookie")
        return response

    @app.before_request
    def proxy_check() -> None:
        warn_untrusted_proxy(app, request.headers.get("X-Forwarded-For"))

    @app.before_request
    def refuse_nul_bytes() -> None:
        if has_nul_byte():
            abort(400)


def has_nul_byte() -> bool:
    """A NUL in the path, query or form: PostgreSQL cannot store it (a 500), no person types it."""
    if "\x00" in request.path:
        return True
    values = [value for _key, value in request.args.items(multi=True)]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        values += [value for _key, value in request.form.items(multi=True)]
    return any("\x00" in value for value in values)


def require_role(*roles: object) -> None:
    """403 unless the logged-in user holds one of `roles` (admins hold every role)."""
    if not current_user.has_role(*roles):
        abort(403)


PROXY_WARNING = (
    "Requests arrive with X-Forwarded-For but CAMPUS_TRUSTED_PROXIES is 0: every client looks "
    "like the proxy, so the per-address login bound applies to all users together. Set "
    "CAMPUS_TRUSTED_PROXIES to the number of reverse proxies in front of the campus."
)


def warn_untrusted_proxy(app: Flask, forwarded_for: str | None) -> None:
    """Log PROXY_WARNING once per process (one app per process) on the first forwarded request."""
    if not forwarded_for or int(app.config["TRUSTED_PROXIES"]):
        return
    if app.extensions.get("campus.proxy_warned"):
        return
    app.extensions["campus.proxy_warned"] = True
    app.logger.warning(PROXY_WARNING)


def production_warnings(app: Flask) -> list[str]:
    """Log (WARNING) and return what a production set-up leaves unprotected; `wsgi.py` calls it."""
    config = app.config
    warnings = []
    if not config.get("KEY_PASSPHRASE"):
        warnings.append(
            f"Signing keys in {config['KEYS_DIR']} are stored unencrypted: anyone who can read "
            "that folder can sign badges and LTI messages as this campus. Set "
            "CAMPUS_KEY_PASSPHRASE (existing key files must then be encrypted with it; see README)."
        )
    if str(config.get("BASE_URL", "")).startswith("https:") and not config.get(
        "SESSION_COOKIE_SECURE"
    ):
        warnings.append(
            "BASE_URL is https but session cookies are not marked Secure. Set CAMPUS_HTTPS=1."
        )
    if not int(config["TRUSTED_PROXIES"]):
        warnings.append(
            "CAMPUS_TRUSTED_PROXIES is 0: if a reverse proxy is in front of the campus, every "
            "client looks like the proxy and the per-address login bound applies to all users "
            "together. Set it to the number of proxies."
        )
    for warning in warnings:
        app.logger.warning(warning)
    return warnings


def protect_sqlite_files(database_uri: str, instance_path: Path) -> None:
    """Keep a SQLite database private: instance folder 0700, database file 0600.

    SQLite gives its -journal and -wal files the mode of the database file, so they follow.
    """
    url = make_url(database_uri)
    database = url.database
    if not url.drivername.startswith("sqlite") or not database or database == ":memory:":
        return
    if database.startswith("file:") or url.query.get("mode") == "memory":
        return
    path = Path(database)
    if not path.is_absolute():  # Flask-SQLAlchemy reads relative paths from the instance folder
        path = instance_path / path
    try:
        _private(instance_path, 0o700, directory=True)
        if path.parent.is_dir():
            _private(path, 0o600, directory=False)
    except OSError as error:
        log.warning("Could not make %s private: %s", path, error)


def _private(path: Path, mode: int, *, directory: bool) -> None:
    """Create `path` with `mode`, or take group and other permissions away from an existing one."""
    if directory:
        path.mkdir(mode=mode, parents=True, exist_ok=True)
    elif not path.exists():
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode))
        except FileExistsError:
            pass
    current = path.stat().st_mode & 0o777
    if current & ~mode:
        path.chmod(current & mode)
