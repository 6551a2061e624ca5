"""Load with faults (issue 16): learners complete modules through gunicorn while one worker is
killed with `kill -9` and PostgreSQL is restarted; afterwards every completion the server
acknowledged must be in the database, none twice, and the server must still answer.

Needs a PostgreSQL database of its own (emptied first) in `CAMPUS_BENCH_POSTGRES_URL` or
--postgres, and a command that restarts its server (--restart, default `pg_ctlcluster <version>
main restart`, run as root as in CI). Without a PostgreSQL URL it runs on SQLite and skips the
restart. Bounded: --seconds (default 30) of load.

Usage: `.venv/bin/python bench/faults.py [--learners 16] [--accounts 400] [--seconds 30]`.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.http_bench import form_fields  # noqa: E402
from bench.http_bench import free_port  # noqa: E402
from bench.http_bench import wait_for  # noqa: E402

PASSWORD = "faults-password-1"


def prepare(database_url: str, accounts: int) -> list[tuple[str, str]]:
    """Migrate, import content, create the accounts; returns the 'read' modules' addresses."""
    from flask_migrate import upgrade
    from werkzeug.security import generate_password_hash

    from campus import create_app
    from campus.auth.models import Organisation
    from campus.auth.models import User
    from campus.clock import utcnow
    from campus.config import REPO_ROOT
    from campus.extensions import db
    from campus.paths.content import load_tree
    from campus.paths.models import LearningPath
    from campus.paths.models import Module
    from campus.paths.sync import sync_tree

    app = create_app({})
    with app.app_context():
        if database_url.startswith("postgresql"):
            db.session.execute(db.text("DROP SCHEMA public CASCADE"))
            db.session.execute(db.text("CREATE SCHEMA public"))
            db.session.commit()
        upgrade(directory=str(ROOT / "migrations"))
        sync_tree(load_tree(REPO_ROOT / "content"), utcnow())
        organisation = Organisation(slug="faults", name="Faults")
        password_hash = generate_password_hash(PASSWORD)
        db.session.add_all(
            User(
                email=f"learner{i}@faults.fi",
                name=f"Learner {i}",
                password_hash=password_hash,
                organisation=organisation,
                email_verified_at=utcnow(),
            )
            for i in range(accounts)
        )
        db.session.commit()
        rows = db.session.execute(
            db.select(LearningPath.slug, Module.slug)
            .join(Module, Module.path_id == LearningPath.id)
            .where(Module.kind == "read", Module.is_retired.is_(False))
            .order_by(LearningPath.id, Module.position)
        ).all()
        db.session.remove()
        db.engine.dispose()
    return [(path, module) for path, module in rows]


class Learner(threading.Thread):
    """Works through its accounts one after another: logs in, completes every 'read' module in
    a random order, then takes the next account; records each acknowledged completion."""

    def __init__(
        self, base: str, emails: list[str], modules: list[tuple[str, str]], stop: threading.Event
    ):
        super().__init__(daemon=True)
        self.base, self.emails, self.modules, self.stop = base, emails, modules, stop
        self.acknowledged: list[tuple[str, str, str]] = []
        self.failures: Counter[str] = Counter()

    def run(self) -> None:
        try:
            for email in self.emails:
                if self.stop.is_set():
                    return
                self._complete_all(email)
        except BaseException as error:  # noqa: BLE001 - a thread's end must show in the numbers
            self.failures[f"stopped: {error!r}"[:80]] += 1

    def _complete_all(self, email: str) -> None:
        session = requests.Session()
        while not self.stop.is_set() and not self._log_in(session, email):
            time.sleep(0.2)
        for path, module in random.Random(email).sample(self.modules, len(self.modules)):
            while not self.stop.is_set():
                try:
                    page = session.get(f"{self.base}/paths/{path}/{module}", timeout=30)
                    if page.status_code != 200:
                        self.failures[f"GET {page.status_code}"] += 1
                        time.sleep(0.1)
                        continue
                    action, fields = form_fields(page.text, "/submit")
                    answer = session.post(
                        self.base + action, data=fields, timeout=30, allow_redirects=False
                    )
                except requests.RequestException as error:
                    self.failures[type(error).__name__] += 1
                    time.sleep(0.1)
                    continue
                if answer.status_code in (302, 303):
                    self.acknowledged.append((email, path, module))
                    break
                self.failures[f"POST {answer.status_code}"] += 1
                time.sleep(0.1)

    def _log_in(self, session: requests.Session, email: str) -> bool:
        try:
            page = session.get(f"{self.base}/auth/login", timeout=30)
            _action, fields = form_fields(page.text, field="password")
            fields.update({"email": email, "password": PASSWORD})
            answer = session.post(
                f"{self.base}/auth/login", data=fields, timeout=30, allow_redirects=False
            )
        except requests.RequestException as error:
            self.failures[f"login {type(error).__name__}"] += 1
            return False
        if answer.status_code != 302:
            self.failures[f"login {answer.status_code}"] += 1
        return answer.status_code == 302


def check(database_url: str, acknowledged: list[tuple[str, str, str]]) -> tuple[int, int, int]:
    """(missing acknowledged completions, duplicate completions, duplicate active assertions)."""
    from campus import create_app
    from campus.auth.models import User
    from campus.badges.models import Assertion
    from campus.extensions import db
    from campus.paths.models import Completion
    from campus.paths.models import LearningPath
    from campus.paths.models import Module

    app = create_app({})
    with app.app_context():
        stored = set(
            db.session.execute(
                db.select(User.email, LearningPath.slug, Module.slug)
                .join(Completion, Completion.user_id == User.id)
                .join(Module, Module.id == Completion.module_id)
                .join(LearningPath, LearningPath.id == Module.path_id)
            ).all()
        )
        missing = sum(1 for row in acknowledged if tuple(row) not in stored)
        duplicates = db.session.execute(
            db.select(db.func.count()).select_from(
                db.select(Completion.user_id, Completion.module_id)
                .group_by(Completion.user_id, Completion.module_id)
                .having(db.func.count() > 1)
                .subquery()
            )
        ).scalar_one()
        twice_awarded = db.session.execute(
            db.select(db.func.count()).select_from(
                db.select(Assertion.user_id, Assertion.badge_class_id)
                .where(Assertion.revoked_at.is_(None))
                .group_by(Assertion.user_id, Assertion.badge_class_id)
                .having(db.func.count() > 1)
                .subquery()
            )
        ).scalar_one()
        db.engine.dispose()
    return missing, duplicates, twice_awarded


def default_restart() -> list[str]:
    version = sorted(os.listdir("/usr/lib/postgresql"), key=float)[-1]
    return ["pg_ctlcluster", version, "main", "restart"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=16, help="concurrent clients")
    parser.add_argument("--accounts", type=int, default=400, help="accounts they work through")
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--postgres", default=os.environ.get("CAMPUS_BENCH_POSTGRES_URL"))
    parser.add_argument("--restart", help="command that restarts PostgreSQL (shell words)")
    args = parser.parse_args()

    directory = Path(tempfile.mkdtemp(prefix="campus-faults-"))
    database_url = args.postgres or f"sqlite:///{directory}/faults.sqlite"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        "CAMPUS_DATABASE_URL": database_url,
        "CAMPUS_SECRET_KEY": "faults-secret",
        "CAMPUS_KEYS_DIR": str(directory / "keys"),
        "CAMPUS_BASE_URL": base,
    }
    os.environ.update(env)
    modules = prepare(database_url, args.accounts)
    print(
        f"{len(modules)} 'read' modules, {args.learners} concurrent learners over "
        f"{args.accounts} accounts, {database_url.split('@')[-1]}"
    )

    gunicorn = [str(ROOT / ".venv" / "bin" / "gunicorn"), "-w", "3", "-k", "sync"]
    server = subprocess.Popen(
        [*gunicorn, "--log-level", "error", "-b", f"127.0.0.1:{port}", "campus:create_app()"],
        cwd=ROOT,
        env=dict(os.environ),
    )
    stop = threading.Event()
    events: list[str] = []
    try:
        wait_for(port, server)
        emails = [f"learner{i}@faults.fi" for i in range(args.accounts)]
        learners = [
            Learner(base, emails[i :: args.learners], modules, stop) for i in range(args.learners)
        ]
        started = time.monotonic()
        for learner in learners:
            learner.start()
        time.sleep(args.seconds / 4)
        workers = subprocess.run(
            ["pgrep", "-P", str(server.pid)], capture_output=True, text=True, check=False
        ).stdout.split()
        if workers:
            os.kill(int(workers[0]), signal.SIGKILL)
            events.append(f"{time.monotonic() - started:5.1f} s: kill -9 worker {workers[0]}")
        time.sleep(args.seconds / 4)
        if database_url.startswith("postgresql"):
            restart = args.restart.split() if args.restart else default_restart()
            subprocess.run(restart, check=True, capture_output=True)
            events.append(f"{time.monotonic() - started:5.1f} s: {' '.join(restart)}")
        time.sleep(max(0.0, args.seconds - (time.monotonic() - started)))
        stop.set()
        for learner in learners:
            learner.join(timeout=15)
        after = requests.get(f"{base}/auth/login", timeout=30).status_code
    finally:
        stop.set()
        server.terminate()
        server.wait(timeout=30)

    acknowledged = [row for learner in learners for row in learner.acknowledged]
    failures = sum((learner.failures for learner in learners), Counter())
    missing, duplicates, twice_awarded = check(database_url, acknowledged)
    for line in events:
        print(line)
    print(f"acknowledged completions: {len(acknowledged)} in {args.seconds} s")
    print(f"failed attempts (retried): {dict(failures) or 0}")
    print(f"acknowledged but missing from the database: {missing}")
    print(f"duplicate completions: {duplicates}; duplicate active assertions: {twice_awarded}")
    print(f"the server answers afterwards: {after == 200} ({after})")
    ok = missing == 0 and duplicates == 0 and twice_awarded == 0 and after == 200
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
