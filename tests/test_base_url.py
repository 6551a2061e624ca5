"""Issue 13, item 2: `make run PORT=…` advertises the address it serves (badge, share and LTI
links come from BASE_URL), unless CAMPUS_BASE_URL says otherwise."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from campus import create_app

ROOT = Path(__file__).resolve().parent.parent


def _make_base_url(*args: str, **env: str) -> str:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    environment = {k: v for k, v in os.environ.items() if k != "CAMPUS_BASE_URL"} | env
    result = subprocess.run(
        ["make", "-s", "--no-print-directory", "print-base-url", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout.strip()


def test_the_advertised_address_follows_host_and_port() -> None:
    assert _make_base_url() == "http://127.0.0.1:5000"
    assert _make_base_url("PORT=5201") == "http://127.0.0.1:5201"
    assert _make_base_url("HOST=localhost", "PORT=8080") == "http://localhost:8080"


def test_an_explicit_public_address_wins() -> None:
    assert (
        _make_base_url("PORT=5201", CAMPUS_BASE_URL="https://kampus.example.fi")
        == "https://kampus.example.fi"
    )


def test_the_run_target_uses_the_same_address() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "run: export CAMPUS_BASE_URL ?= $(BASE_URL_DEFAULT)" in makefile


def test_links_follow_the_configured_address(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CAMPUS_BASE_URL", "http://127.0.0.1:5201")
    app = create_app(
        {
            "SECRET_KEY": "x",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'c.sqlite'}",
            "KEYS_DIR": str(tmp_path / "keys"),
        }
    )
    assert app.config["BASE_URL"] == "http://127.0.0.1:5201"
    with app.test_request_context():
        from campus.routing import external_url

        assert external_url("lti_tool.login") == "http://127.0.0.1:5201/lti/tool/login"
