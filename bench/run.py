"""Foundation benchmark: content sync, page serving, completion and the org progress table.

Runs in-process against a temporary SQLite file (the embedded default), so it measures the
application's own cost without network or server overhead. Usage: `make bench` or
`.venv/bin/python bench/run.py [--users 500]`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from campus import create_app  # noqa: E402
from campus.auth.models import Organisation  # noqa: E402
from campus.auth.models import User  # noqa: E402
from campus.config import REPO_ROOT  # noqa: E402
from campus.extensions import db  # noqa: E402
from campus.manage.services import organisation_progress  # noqa: E402
from campus.manage.services import progress_csv  # noqa: E402
from campus.paths import services  # noqa: E402
from campus.paths.content import load_tree  # noqa: E402
from campus.paths.models import CompletionSource  # noqa: E402
from campus.paths.models import LearningPath  # noqa: E402
from campus.paths.sync import sync_tree  # noqa: E402


def timed(label: str, repeat: int, func) -> float:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        samples.append(time.perf_counter() - start)
    best, median = min(samples), statistics.median(samples)
    print(f"{label:<52} median {median * 1000:8.1f} ms   best {best * 1000:8.1f} ms")
    return median


def rate(label: str, count: int, func) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    for index in range(count):
        func(index)
    elapsed = time.perf_counter() - start
    per_second = count / elapsed
    print(f"{label:<52} {per_second:10.0f} /s   ({count} in {elapsed:.2f} s)")
    return per_second


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--users", type=int, default=500, help="staff in the progress-table organisation"
    )
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "SECRET_KEY": "bench",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite",
                "WTF_CSRF_ENABLED": False,
                "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            }
        )
        content = REPO_ROOT / "content"
        with app.app_context():
            db.create_all()
            print(
                f"Campus foundation benchmark — SQLite file, {args.users} users, Python {sys.version.split()[0]}"
            )
            timed(
                "content check (parse + validate + render Markdown)", 5, lambda: load_tree(content)
            )
            tree = load_tree(content)

            def first_sync() -> None:
                sync_tree(tree, now)
                db.session.commit()

            timed("content sync, first import (one transaction)", 1, first_sync)
            timed(
                "content sync, unchanged tree (no-op)",
                5,
                lambda: (sync_tree(load_tree(content), now), db.session.commit()),
            )

            org = Organisation(slug="bench", name="Bench College")
            db.session.add(org)
            users = [
                User(email=f"u{i}@bench.fi", name=f"User {i}", password_hash="x", organisation=org)
                for i in range(args.users)
            ]
            db.session.add_all(users)
            db.session.commit()
            paths = list(db.session.execute(db.select(LearningPath)).scalars())
            # Every user works on every path; about half of the modules are done.
            for i, user in enumerate(users):
                for path in paths:
                    for module in path.active_modules[: (i % (len(path.active_modules) + 1))]:
                        services.complete_module(user, module, CompletionSource.SELF, now)
            db.session.commit()

            modules = [m for p in paths for m in p.active_modules]
            from campus.auth.models import Role
            from campus.auth.services import set_roles

            set_roles(users[7], {Role.ORG_ADMIN})
            fresh = User(email="fresh@bench.fi", name="Fresh", password_hash="x", organisation=org)
            db.session.add(fresh)
            db.session.commit()

            def complete(index: int) -> None:
                services.complete_module(
                    fresh, modules[index % len(modules)], CompletionSource.SELF, now
                )
                db.session.commit()

            rate("complete_module + commit (new, then idempotent)", len(modules) * 4, complete)
            table = timed(
                f"org progress table ({args.users} staff × {len(paths)} paths)",
                5,
                lambda: organisation_progress(org),
            )
            del table
            report = organisation_progress(org)
            timed("progress CSV export", 5, lambda: progress_csv(report, "fi", ["h"] * 10))

        client = app.test_client()
        client.post("/auth/login", data={"email": "u1@bench.fi", "password": "x"})
        with app.test_request_context():
            pass
        with client.session_transaction() as session:
            with app.app_context():
                session["_user_id"] = db.session.execute(
                    db.select(User.session_token).where(User.email == "u7@bench.fi")
                ).scalar_one()
                session["_fresh"] = True
        slug, module_slug = paths[0].slug, "x"
        with app.app_context():
            path = db.session.execute(
                db.select(LearningPath).where(LearningPath.slug == slug)
            ).scalar_one()
            module_slug = path.active_modules[0].slug

        def get(url: str):  # type: ignore[no-untyped-def]
            def fetch(_index: int) -> None:
                response = client.get(url)
                assert response.status_code == 200, (url, response.status_code)

            return fetch

        rate("GET / (catalogue, logged in, with progress)", args.requests, get("/"))
        rate("GET /dashboard", args.requests, get("/dashboard"))
        rate(f"GET /paths/{slug}", args.requests, get(f"/paths/{slug}"))
        rate("GET module page", args.requests, get(f"/paths/{slug}/{module_slug}"))
        rate(
            f"GET org progress page ({args.users} staff)",
            20,
            get("/manage/organisations/1/progress"),
        )


if __name__ == "__main__":
    main()
