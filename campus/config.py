"""Configuration: defaults, then the environment (CAMPUS_*), then a mapping passed by tests."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

LANGUAGES = ("fi", "sv", "en")
DEFAULT_LOCALE = "fi"


def default_config(instance_path: Path) -> dict[str, object]:
    """Safe defaults; every key the app reads is listed here."""
    return {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance_path / 'campus.sqlite'}",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "CONTENT_DIR": str(REPO_ROOT / "content"),
        "BADGES_DIR": str(REPO_ROOT / "badges"),
        # Private signing keys live here, outside the database (mode 600; encrypted with
        # KEY_PASSPHRASE when one is set).
        "KEYS_DIR": str(instance_path / "keys"),
        "KEY_PASSPHRASE": None,
        # Public address of this campus: every Open Badges id and URL is built from it.
        "BASE_URL": "http://127.0.0.1:5000",
        "ISSUER_NAME": "Campus — virtuaalinen osaamiskampus",
        # The issuer name per language ({"sv": "…", "en": "…"}); see campus.badges.issuers.
        "ISSUER_NAMES": {},
        "ISSUER_EMAIL": "badges@campus.example",
        "ISSUER_URL": None,
        "UPLOAD_DIR": str(instance_path / "uploads"),
        # Whole request body; evidence files are checked against EVIDENCE_MAX_BYTES too.
        "MAX_CONTENT_LENGTH": 12 * 1024 * 1024,
        "EVIDENCE_MAX_BYTES": 10 * 1024 * 1024,
        "EVIDENCE_EXTENSIONS": [
            "pdf",
            "png",
            "jpg",
            "jpeg",
            "txt",
            "md",
            "odt",
            "ods",
            "odp",
            "docx",
            "xlsx",
            "pptx",
        ],
        "BABEL_DEFAULT_LOCALE": DEFAULT_LOCALE,
        "BABEL_TRANSLATION_DIRECTORIES": str(Path(__file__).parent / "translations"),
        "LANGUAGES": list(LANGUAGES),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "WTF_CSRF_TIME_LIMIT": None,
        "ALLOW_REGISTRATION": True,
        # Reverse proxies in front of the app whose X-Forwarded-* headers are believed.
        "TRUSTED_PROXIES": 0,
        # Sites allowed to show the campus in a frame (LMS origins for the LTI tool).
        "FRAME_ANCESTORS": [],
        # LTI fetches (Dynamic Registration, key sets, grade passback) may reach private,
        # loopback and link-local addresses: only for a lab or an LMS on the intranet.
        "LTI_ALLOW_PRIVATE_ADDRESSES": False,
        # Single sign-on (campus.auth.sso): OpenID providers on private addresses (intranet
        # labs) and the clock skew allowed when checking id_token times.
        "SSO_ALLOW_PRIVATE_ADDRESSES": False,
        "SSO_CLOCK_LEEWAY": 60,
        # Outgoing mail (campus.mail). Without MAIL_HOST, messages are written as .eml files
        # into MAIL_DIR instead of being sent. MAIL_USE_TLS: STARTTLS (port 587); MAIL_USE_SSL:
        # TLS from the start (port 465, which implies it).
        "MAIL_HOST": None,
        "MAIL_PORT": 25,
        "MAIL_USE_TLS": False,
        "MAIL_USE_SSL": False,
        "MAIL_USERNAME": None,
        "MAIL_PASSWORD": None,
        "MAIL_SENDER": None,  # the From address; ISSUER_EMAIL when unset
        "MAIL_DIR": str(instance_path / "mail"),
        # Follow-ups of completions (campus/outbox): seconds the learner's request may spend on
        # network follow-ups after it commits, the HTTP time a cron run allows each, and the
        # attempts before one is marked failed.
        "OUTBOX_INLINE_SECONDS": 2.0,
        "OUTBOX_TIMEOUT": 10.0,
        "OUTBOX_MAX_ATTEMPTS": 10,
        # The whole-campus comparison on organisation pages is recomputed at most this often.
        "ASSESSMENT_CAMPUS_CACHE_SECONDS": 300,
        # A login ends after this long even if the browser keeps its cookie.
        "LOGIN_MAX_AGE": timedelta(days=90),
    }


def environment_config() -> dict[str, object]:
    """Read CAMPUS_* variables that operators set."""
    config: dict[str, object] = {}
    if url := os.environ.get("CAMPUS_DATABASE_URL"):
        if url.startswith("postgres://"):
            url = "postgresql://" + url.removeprefix("postgres://")
        config["SQLALCHEMY_DATABASE_URI"] = url
    if key := os.environ.get("CAMPUS_SECRET_KEY"):
        config["SECRET_KEY"] = key
    if content := os.environ.get("CAMPUS_CONTENT_DIR"):
        config["CONTENT_DIR"] = content
    for name in (
        "BADGES_DIR",
        "KEYS_DIR",
        "UPLOAD_DIR",
        "KEY_PASSPHRASE",
        "BASE_URL",
        "ISSUER_NAME",
        "ISSUER_EMAIL",
        "ISSUER_URL",
    ):
        if value := os.environ.get(f"CAMPUS_{name}"):
            config[name] = value.rstrip("/") if name == "BASE_URL" else value
    # API rate limits (campus.api.ratelimit): requests per window per token/client or address.
    for name in (
        "API_RATE_LIMIT_AUTHENTICATED",
        "API_RATE_LIMIT_ANONYMOUS",
        "API_RATE_LIMIT_WINDOW",
    ):
        if (value := os.environ.get(f"CAMPUS_{name}", "")).isdigit():
            config[name] = int(value)
    if os.environ.get("CAMPUS_HTTPS", "").lower() in {"1", "true", "yes"}:
        config["SESSION_COOKIE_SECURE"] = True
        config["REMEMBER_COOKIE_SECURE"] = True
        config["PREFERRED_URL_SCHEME"] = "https"
        # Campus pages open inside LMS iframes (LTI tool): the session must cross sites there,
        # partitioned per top-level site (CHIPS). Every form still carries a CSRF token.
        config["SESSION_COOKIE_SAMESITE"] = "None"
        config["SESSION_COOKIE_PARTITIONED"] = True
    if ancestors := os.environ.get("CAMPUS_FRAME_ANCESTORS"):
        config["FRAME_ANCESTORS"] = ancestors.split()
    if proxies := os.environ.get("CAMPUS_TRUSTED_PROXIES"):
        config["TRUSTED_PROXIES"] = int(proxies)
    if os.environ.get("CAMPUS_ALLOW_REGISTRATION", "").lower() in {"0", "false", "no"}:
        config["ALLOW_REGISTRATION"] = False
    if os.environ.get("CAMPUS_LTI_ALLOW_PRIVATE_ADDRESSES", "").lower() in {"1", "true", "yes"}:
        config["LTI_ALLOW_PRIVATE_ADDRESSES"] = True
    if os.environ.get("CAMPUS_SSO_ALLOW_PRIVATE_ADDRESSES", "").lower() in {"1", "true", "yes"}:
        config["SSO_ALLOW_PRIVATE_ADDRESSES"] = True
    for name in ("MAIL_HOST", "MAIL_USERNAME", "MAIL_PASSWORD", "MAIL_SENDER", "MAIL_DIR"):
        if value := os.environ.get(f"CAMPUS_{name}"):
            config[name] = value
    if port := os.environ.get("CAMPUS_MAIL_PORT"):
        config["MAIL_PORT"] = int(port)
    for name in ("MAIL_USE_TLS", "MAIL_USE_SSL"):
        if os.environ.get(f"CAMPUS_{name}", "").lower() in {"1", "true", "yes"}:
            config[name] = True
    for name in ("OUTBOX_INLINE_SECONDS", "OUTBOX_TIMEOUT"):
        if value := os.environ.get(f"CAMPUS_{name}"):
            config[name] = float(value)
    if attempts := os.environ.get("CAMPUS_OUTBOX_MAX_ATTEMPTS"):
        config["OUTBOX_MAX_ATTEMPTS"] = int(attempts)
    if days := os.environ.get("CAMPUS_LOGIN_MAX_AGE_DAYS"):
        config["LOGIN_MAX_AGE"] = timedelta(days=float(days))
    return config


def stored_secret_key(instance_path: Path) -> str:
    """Return the secret key kept in the instance folder, creating it on first run.

    Generated keys are written with mode 0600 so that only the service account reads them.
    """
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
