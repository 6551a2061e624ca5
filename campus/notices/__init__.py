"""The accessibility statement and the privacy notice: texts an installation replaces.

Shipped texts are in `content/pages/<name>.<lang>.md`; a file of the same name in
`instance/pages/` wins, so an installation states its own contact, controller and findings
without changing the repository.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from campus.notices.views import bp

    app.register_blueprint(bp)
