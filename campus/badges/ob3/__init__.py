"""Open Badges 3.0 beside 2.0: every award is also a Verifiable Credential (VC Data Model 2.0),
signed with Data Integrity `eddsa-rdfc-2022` and as a VC-JWT, issued by a `did:web` issuer and
revocable through a Bitstring Status List."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Attach every OB 3.0 route to the `ob3` blueprint and register it."""
    from campus.badges.ob3 import documents_views  # noqa: F401
    from campus.badges.ob3 import download_views  # noqa: F401
    from campus.badges.ob3 import status_views  # noqa: F401
    from campus.badges.ob3.web import ob3_bp

    app.register_blueprint(ob3_bp)
