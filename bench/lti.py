"""LTI platform benchmark: launches per second (login initiation + authorization + signed
id_token) and AGS score posts per second, against bare RS256 JWT signing measured in the same
run as the ceiling. In-process (WSGI test clients); the tool side is simulated with its own
RSA key, so only the campus's work is measured.

Usage: `.venv/bin/python bench/lti.py [--launches 300] [--scores 300]`
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from datetime import UTC
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qsl
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import jwt  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402
from jwcrypto.jwk import JWK  # noqa: E402

from campus import create_app  # noqa: E402
from campus.auth.models import Organisation  # noqa: E402
from campus.auth.models import User  # noqa: E402
from campus.extensions import db  # noqa: E402
from campus.lti.models import LtiTool  # noqa: E402
from campus.paths.content import load_tree  # noqa: E402
from campus.paths.models import Module  # noqa: E402
from campus.paths.sync import sync_tree  # noqa: E402

BASE = "https://campus.example"


def report(label: str, count: int, seconds: float) -> float:
    rate = count / seconds
    print(f"{label:<58} {rate:9.0f} /s   ({count} in {seconds:.2f} s)")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--launches", type=int, default=300)
    parser.add_argument("--scores", type=int, default=300)
    args = parser.parse_args()
    now = datetime.now(UTC)
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    tool_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    tool_jwk = JWK.from_pem(tool_pem.encode())
    public_jwk = {
        **tool_jwk.export_public(as_dict=True),
        "kid": tool_jwk.thumbprint(),
        "alg": "RS256",
    }
    with tempfile.TemporaryDirectory() as tmp:
        content = Path(tmp) / "content"
        import shutil

        shutil.copytree(Path(__file__).resolve().parent.parent / "tests/data/content", content)
        module_dir = content / "paths/basics/tool-quiz"
        module_dir.mkdir()
        (module_dir / "module.toml").write_text(
            'version = 1\nkind = "lti"\ntitle = { fi = "T", en = "T" }\ntool = "bench-tool"\npass_mark = 60\n'
        )
        (module_dir / "module.fi.md").write_text("T")
        (module_dir / "module.en.md").write_text("T")
        manifest = content / "paths/basics/path.toml"
        manifest.write_text(
            manifest.read_text().replace('"extra-reading"]', '"extra-reading", "tool-quiz"]')
        )
        app = create_app(
            {
                "SECRET_KEY": "bench",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite",
                "KEYS_DIR": f"{tmp}/keys",
                "BASE_URL": BASE,
                "WTF_CSRF_ENABLED": False,
                "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            }
        )
        with app.app_context():
            db.create_all()
            sync_tree(load_tree(content), now)
            from werkzeug.security import generate_password_hash

            user = User(
                email="bench@campus.fi",
                name="Bench",
                password_hash=generate_password_hash(
                    "benchmark-password", method="pbkdf2:sha256:1000"
                ),
                organisation=Organisation(slug="b", name="B"),
            )
            db.session.add(user)
            db.session.add(
                LtiTool(
                    slug="bench-tool",
                    name="Bench",
                    client_id="bench",
                    deployment_id="1",
                    oidc_login_url="https://tool.example/login",
                    launch_url="https://tool.example/launch",
                    redirect_uris=[],
                    jwks={"keys": [public_jwk]},
                )
            )
            db.session.commit()
            module_id = db.session.execute(
                db.select(Module.id).where(Module.slug == "tool-quiz")
            ).scalar_one()
        client = app.test_client()
        client.post(
            "/auth/login", data={"email": "bench@campus.fi", "password": "benchmark-password"}
        )
        print(f"LTI platform benchmark — SQLite file, Python {sys.version.split()[0]}")

        claims = {
            "iss": BASE,
            "aud": "bench",
            "sub": "campus-user-1",
            "nonce": "n",
            "exp": 2_000_000_000,
        }
        start = time.perf_counter()
        for _ in range(args.launches):
            jwt.encode(claims, private, algorithm="RS256", headers={"kid": "k"})
        ceiling = report(
            "bare RS256 JWT signing (ceiling)", args.launches, time.perf_counter() - start
        )

        def one_launch(index: int) -> None:
            initiation = client.get(f"/lti/modules/{module_id}/launch")
            hints = dict(parse_qsl(urlsplit(initiation.headers["Location"]).query))
            response = client.get(
                "/lti/authorize",
                query_string={
                    "scope": "openid",
                    "response_type": "id_token",
                    "response_mode": "form_post",
                    "prompt": "none",
                    "client_id": "bench",
                    "redirect_uri": "https://tool.example/launch",
                    "state": f"s{index}",
                    "nonce": f"nonce-{index}-{uuid.uuid4()}",
                    "login_hint": hints["login_hint"],
                    "lti_message_hint": hints["lti_message_hint"],
                },
            )
            assert response.status_code == 200 and b'name="id_token"' in response.data

        start = time.perf_counter()
        for index in range(args.launches):
            one_launch(index)
        launches = report(
            "launch: initiation + authorize + signed id_token",
            args.launches,
            time.perf_counter() - start,
        )
        print(
            f"{'  launches as a share of the signing ceiling':<58} {100 * launches / ceiling:9.0f} %"
        )

        def assertion() -> str:
            return jwt.encode(
                {
                    "iss": "bench",
                    "sub": "bench",
                    "aud": f"{BASE}/lti/token",
                    "iat": int(time.time()),
                    "exp": int(time.time()) + 300,
                    "jti": str(uuid.uuid4()),
                },
                private,
                algorithm="RS256",
                headers={"kid": public_jwk["kid"]},
            )

        token = client.post(
            "/lti/token",
            data={
                "grant_type": "client_credentials",
                "client_assertion": assertion(),
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "scope": "https://purl.imsglobal.org/spec/lti-ags/scope/score "
                "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
            },
        ).get_json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        with app.app_context():
            from campus.lti.models import LtiResourceLink

            link_id = db.session.execute(db.select(LtiResourceLink.resource_link_id)).scalar_one()
        item = client.post(
            "/ags/basics/lineitems".join(["/lti", ""]),
            json={"label": "Quiz", "scoreMaximum": 10, "resourceLinkId": link_id},
            headers=auth,
        ).get_json()
        scores_url = urlsplit(item["id"]).path + "/scores"
        stamp = datetime.now(UTC).isoformat()

        def one_score(index: int) -> None:
            response = client.post(
                scores_url,
                headers=auth,
                json={
                    "userId": "campus-user-1",
                    "scoreGiven": index % 11,
                    "scoreMaximum": 10,
                    "timestamp": stamp,
                    "activityProgress": "Completed",
                    "gradingProgress": "FullyGraded",
                },
            )
            assert response.status_code == 204, response.data

        start = time.perf_counter()
        for index in range(args.scores):
            one_score(index)
        scores = report(
            "AGS score post (token check + store + completion)",
            args.scores,
            time.perf_counter() - start,
        )
        print(
            f"{'  score posts as a share of the signing ceiling':<58} {100 * scores / ceiling:9.0f} %"
        )


if __name__ == "__main__":
    main()
