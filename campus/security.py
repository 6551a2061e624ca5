"""Response headers that every page gets (defence in depth against injection and framing)."""

from __future__ import annotations

from flask import Flask
from flask import Response
from flask import abort
from flask_login import current_user

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' https: data:",
        # Theme colours and progress widths are set in style attributes; no inline scripts.
        "style-src 'self' 'unsafe-inline'",
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'self'",
        # LTI modules may show their tool in an iframe (never scripts of ours from elsewhere).
        "frame-src 'self' https:",
    ]
)


def policy_with_form_target(origin: str) -> str:
    """The same policy, letting one page post a form to `origin` (the LTI launch)."""
    return CONTENT_SECURITY_POLICY.replace("form-action 'self'", f"form-action 'self' {origin}")


def init_app(app: Flask) -> None:
    ancestors = " ".join(app.config.get("FRAME_ANCESTORS") or [])
    policy = CONTENT_SECURITY_POLICY
    if ancestors:
        policy = policy.replace("frame-ancestors 'self'", f"frame-ancestors 'self' {ancestors}")

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if not ancestors:  # the old header cannot list other sites; CSP frame-ancestors can
            response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        return response


def require_role(*roles: object) -> None:
    """403 unless the logged-in user holds one of `roles` (admins hold every role)."""
    if not current_user.has_role(*roles):
        abort(403)
