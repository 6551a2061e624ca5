"""The ceiling for the HTTP benchmarks: a bare Flask app served with the same gunicorn settings."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "hello"
