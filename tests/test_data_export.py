"""The person's data download (`GET /auth/account/data.zip`): theirs, whole, and nothing secret."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

from conftest import now
from flask import Flask
from flask.testing import FlaskClient

import campus.auth.data_views  # noqa: F401  (registers the route until campus.auth imports it)
from campus.auth.models import LoginSession
from campus.auth.models import User
from campus.badges.awarding import award
from campus.badges.baking import unbake
from campus.badges.issuers import IssuingContext
from campus.badges.issuers import get_badge
from campus.badges.models import AwardSource
from campus.badges.models import SigningKey
from campus.extensions import db
from campus.lti.models import LtiIdentity
from campus.lti.models import LtiPlatform
from campus.paths import services as paths
from campus.paths.models import Enrollment
from campus.paths.models import EvidenceSubmission
from campus.paths.models import ReflectionAnswer

URL = "/auth/account/data.zip"


def give_rows(app: Flask, user_id: int, secret: str, with_file: bool) -> None:
    """An enrolment, a reflection, evidence (with a file), an LTI identity and a badge."""
    with app.app_context():
        user = db.session.get(User, user_id)
        path = paths.get_path("basics")
        module = paths.get_module(path, "my-thoughts")
        db.session.add(Enrollment(user_id=user_id, path_id=path.id, enrolled_at=now()))
        db.session.add(
            ReflectionAnswer(
                user_id=user_id,
                module_id=module.id,
                text=f"reflection {secret}",
                submitted_at=now(),
            )
        )
        stored = None
        if with_file:
            upload_dir = Path(app.config["UPLOAD_DIR"])
            upload_dir.mkdir(parents=True, exist_ok=True)
            stored = f"{secret}.pdf"
            (upload_dir / stored).write_bytes(b"%PDF-1.4 evidence of " + secret.encode())
        db.session.add(
            EvidenceSubmission(
                user_id=user_id,
                module_id=module.id,
                description=f"evidence {secret}",
                file_name="my plan.pdf" if with_file else None,
                stored_name=stored,
                file_size=30 if with_file else None,
                submitted_at=now(),
            )
        )
        platform = LtiPlatform(
            name=f"Moodle {secret}",
            issuer=f"https://lms-{secret}.example",
            client_id="client",
            auth_login_url="https://lms.example/login",
            auth_token_url="https://lms.example/token",
            deployment_ids=["1"],
            organisation_id=user.organisation_id,
        )
        db.session.add(platform)
        db.session.flush()
        db.session.add(LtiIdentity(platform_id=platform.id, sub=f"sub-{secret}", user_id=user_id))
        award(
            user,
            get_badge("basics"),
            IssuingContext.from_config(app.config),
            now(),
            AwardSource.BULK,
        )
        db.session.commit()


def download(client: FlaskClient, auth, email: str) -> tuple[zipfile.ZipFile, bytes]:  # type: ignore[no-untyped-def]
    auth.login(email)
    response = client.get(URL)
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert response.headers["Cache-Control"] == "no-store"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="campus-data-')
    assert disposition.endswith('.zip"')
    return zipfile.ZipFile(io.BytesIO(response.data)), response.data


def test_anonymous_is_sent_to_login(client: FlaskClient) -> None:
    response = client.get(URL)
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def test_zip_holds_own_data_and_nothing_of_others(
    app: Flask, client: FlaskClient, auth, make_user: Callable[..., int]
) -> None:  # type: ignore[no-untyped-def]
    me = make_user("me@example.org", name="Maija Meikäläinen")
    other = make_user("other@example.org", name="Olli Other")
    give_rows(app, me, "mine", with_file=True)
    give_rows(app, other, "theirs", with_file=True)
    auth.login("other@example.org")  # the other person has a login session too
    auth.logout()

    archive, raw = download(client, auth, "me@example.org")
    data = json.loads(archive.read("data.json"))

    assert data["account"]["name"] == "Maija Meikäläinen"
    assert data["account"]["email"] == "me@example.org"
    assert data["account"]["organisation"] == "Test College"
    assert "learner" in data["account"]["roles"]
    assert [row["path"] for row in data["enrolments"]] == ["basics"]
    assert [row["text"] for row in data["reflections"]] == ["reflection mine"]
    (evidence,) = data["evidence_submissions"]
    assert evidence["description"] == "evidence mine"
    assert evidence["module"] == "my-thoughts"
    assert archive.read(evidence["file_in_zip"]) == b"%PDF-1.4 evidence of mine"
    assert [row["sub"] for row in data["lti_identities"]] == ["sub-mine"]
    assert data["lti_identities"][0]["platform"] == "Moodle mine"
    assert len(data["login_sessions"]) == 1
    assert set(data["login_sessions"][0]) == {"created"}
    (assertion,) = data["badge_assertions"]
    assert assertion["badge"] == "basics"
    assert assertion["revoked"] is None

    # Nothing of the other person, and no secret of anyone's, anywhere in the zip.
    everything = raw + b"".join(archive.read(name) for name in archive.namelist())
    with app.app_context():
        hashes = db.session.execute(db.select(User.password_hash)).scalars().all()
        tokens = db.session.execute(db.select(LoginSession.token_hash)).scalars().all()
        theirs = db.session.execute(db.select(User).where(User.id == other)).scalar_one()
        assert theirs.email == "other@example.org"
        keys = db.session.execute(db.select(SigningKey)).scalars().all()
        secrets = [*hashes, *tokens]
        for key in keys:
            secrets += [str(value) for value in vars(key).values() if isinstance(value, str)]
    for secret in secrets:
        if len(secret) >= 16:
            assert secret.encode() not in everything
    for word in ("theirs", "other@example.org", "Olli Other", "password", "token_hash"):
        assert word.encode() not in everything
        assert word not in json.dumps(data)


def test_baked_badges_are_real_png_and_svg(
    app: Flask, client: FlaskClient, auth, make_user: Callable[..., int]
) -> None:  # type: ignore[no-untyped-def]
    me = make_user("me@example.org")
    give_rows(app, me, "mine", with_file=False)
    archive, _raw = download(client, auth, "me@example.org")
    data = json.loads(archive.read("data.json"))
    (assertion,) = data["badge_assertions"]
    png_name, svg_name = assertion["files_in_zip"]
    assert png_name == f"badges/basics-{assertion['uuid'][:8]}.png"
    png = archive.read(png_name)
    svg = archive.read(svg_name)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert b"<svg" in svg[:500]
    with app.app_context():
        from campus.badges.models import Assertion

        stored = db.session.execute(db.select(Assertion)).scalar_one()
        assert unbake(png) == stored.jws
        assert unbake(svg) == stored.jws
    assert data["evidence_submissions"][0]["file_in_zip"] is None
    assert not [name for name in archive.namelist() if name.startswith("evidence/")]


def test_newer_capabilities_add_their_rows_to_the_download(
    app: Flask, make_user: Callable[..., int]
) -> None:
    """Single sign-on identities, a pending address change and waiting badges are the person's."""
    from campus.auth.data_export import personal_data
    from campus.auth.sso.models import OidcIdentity
    from campus.auth.sso.models import OidcProvider
    from campus.auth.verification_models import EmailChange
    from campus.badges.claims import held_claims

    me = make_user("me@example.org")
    other = make_user("other@example.org")
    with app.app_context():
        user = db.session.get(User, me)
        provider = OidcProvider(
            slug="idp",
            name="IdP",
            issuer="https://idp.example",
            client_id="campus",
            client_secret="s3cret-never-exported",
            organisation_id=user.organisation_id,
        )
        db.session.add(provider)
        db.session.flush()
        for user_id, subject in ((me, "sub-me"), (other, "sub-other")):
            db.session.add(
                OidcIdentity(
                    provider_id=provider.id,
                    issuer=provider.issuer,
                    subject=subject,
                    user_id=user_id,
                )
            )
        db.session.add(EmailChange(user_id=me, new_email="new@example.org", requested_at=now()))
        user.email_verified_at = None
        context = IssuingContext.from_config(app.config)
        award(user, get_badge("basics"), context, now(), AwardSource.PATH)
        assert held_claims(user)
        data = json.loads(json.dumps(personal_data(user)))
    assert [row["subject"] for row in data["sso_identities"]] == ["sub-me"]
    assert data["pending_email_change"]["new_email"] == "new@example.org"
    assert [(row["badge"], row["issued"]) for row in data["badge_claims"]] == [("basics", None)]
    assert "s3cret-never-exported" not in json.dumps(data)
