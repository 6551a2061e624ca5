"""Production entry point: `gunicorn wsgi:app`."""

from campus import create_app
from campus.security import production_warnings

app = create_app()
# Loud at start-up: unencrypted keys, cookies without Secure, client addresses behind a proxy.
production_warnings(app)
