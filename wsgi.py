"""Production entry point: `gunicorn wsgi:app`."""

from campus import create_app

app = create_app()
