"""After-commit outbox benchmark: what completing a path costs the learner who completes it, with
a working and with a hanging LMS, and how fast `flask outbox run` clears a backlog.

The campus and a bare Flask "hello" (bench/hello.py) run side by side under `gunicorn -w 2` with
the settings of bench/security.py. Each learner completes a path once, so wrk (one request
replayed) cannot drive this: a small Python load generator (requests, `--threads` threads, one
logged-in `requests.Session` per learner) posts the last module's reflection, and the same
generator times "hello" in every round, so the ratio compares like with like. Two threads, as
many as gunicorn workers: the times are what a request costs, not a queue. Rounds interleave
hello, plain completions and hanging-LMS completions, so the machine's drift hits all alike.

1. Plain: the completing request writes the completion and the outbox item, commits, and the
   after-request hook signs and bakes the badge before the response goes out.
2. Hanging LMS: every learner also has an LTI grade target at a local socket server that accepts
   connections and never answers. A request waits for the grade at most OUTBOX_INLINE_SECONDS,
   and once a grade has failed the next requests leave theirs to cron untried; every completion
   must be stored and every grade left pending. Meanwhile a probe
   loads the catalogue as another visitor: a worker waiting for an LMS serves nobody else.
3. `flask outbox run` (in-process, without interpreter start-up) over `--items` due path-badge
   follow-ups whose completions committed but whose follow-ups never ran.

Learners, their earlier modules' completions, the LMS and grade targets are written straight to
the database before the servers start; each learner then logs in over HTTP.

Usage: `.venv/bin/python bench/outbox.py [--learners 40] [--items 300] [--threads 2]
[--rounds 4]`. Exits non-zero only on real errors: a failed request, a lost completion, a
cron run that leaves items undone.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Any

import requests
from flask import Flask

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.security import PASSWORD  # noqa: E402
from bench.security import csrf_session  # noqa: E402
from bench.security import free_port  # noqa: E402
from bench.security import gunicorn  # noqa: E402
from bench.security import prepare_campus  # noqa: E402
from bench.security import wait_until_up  # noqa: E402

PATH_SLUG = "digital-content"  # ends with a reflection; has a path badge and no prerequisites
REFLECTION = "A short video with captions for my course, shared under CC BY. " * 8
WARM_UP = 4  # plain learners completing before the measurement (imports, keys, caches)
HELLO_PER_ROUND = 200
PROBE_PAUSE = 0.05
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


# --- an LMS that never answers --------------------------------------------------------------


class SilentLms:
    """Accepts TCP connections and never sends a byte: the worst LMS (no refusal, no answer)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(512)
        self.port = int(self.sock.getsockname()[1])
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _address = self.sock.accept()
            except OSError:
                return
            self.connections.append(connection)

    def close(self) -> None:
        self.sock.close()
        for connection in self.connections:
            connection.close()


# --- the database, before the servers start -------------------------------------------------


def seed_learners(
    app: Flask, prefix: str, count: int, lms_base: str | None, now: datetime
) -> list[tuple[str, int]]:
    """Learners who have done every module but the last; with `lms_base`, each also has an LTI
    grade target for the whole path. Returns (e-mail, user id) pairs."""
    from campus.auth import services as auth
    from campus.auth.models import Organisation
    from campus.extensions import db
    from campus.lti.constants import target_key
    from campus.lti.keys import PlatformContext
    from campus.lti.keys import active_key
    from campus.lti.models import LtiGradeTarget
    from campus.lti.models import LtiPlatform
    from campus.paths.models import Completion
    from campus.paths.models import Enrollment

    with app.app_context():
        path = _path(PATH_SLUG)
        organisation = db.session.execute(
            db.select(Organisation).where(Organisation.slug == "bench")
        ).scalar_one_or_none() or Organisation(slug="bench", name="Bench")
        password_hash = auth.hash_password(PASSWORD)  # one scrypt hash shared by all learners
        platform = None
        if lms_base is not None:
            platform = LtiPlatform(
                name="Silent LMS",
                issuer=lms_base,
                client_id="bench-client",
                auth_login_url=f"{lms_base}/auth",
                auth_token_url=f"{lms_base}/token",
                jwks_url=f"{lms_base}/jwks",
                deployment_ids=["1"],
                organisation=organisation,
            )
            db.session.add(platform)
            # The tool key exists once any LMS has fetched our key set; made here, not in a request.
            active_key(PlatformContext.from_config(app.config), now)
        learners = []
        for number in range(count):
            email = f"{prefix}{number}@bench.campus.example"
            user = auth.new_user(email, f"{prefix} {number}", password_hash, organisation, "en")
            db.session.add(Enrollment(user_id=user.id, path_id=path.id, enrolled_at=now))
            for module in path.active_modules[:-1]:
                db.session.add(
                    Completion(
                        user_id=user.id, module_id=module.id, completed_at=now, source="self"
                    )
                )
            if platform is not None:
                db.session.flush()
                db.session.add(
                    LtiGradeTarget(
                        platform_id=platform.id,
                        user_id=user.id,
                        target=target_key(path.slug),
                        sub=f"lms-user-{number}",
                        ags={
                            "scope": [
                                "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
                                "https://purl.imsglobal.org/spec/lti-ags/scope/score",
                            ],
                            "lineitem": f"{lms_base}/lineitems/{number}/lineitem",
                        },
                        updated_at=now,
                    )
                )
            learners.append((email, user.id))
        db.session.commit()
        db.session.remove()
    return learners


def _path(slug: str):  # type: ignore[no-untyped-def]
    from campus.extensions import db
    from campus.paths.models import LearningPath

    path = db.session.execute(db.select(LearningPath).where(LearningPath.slug == slug)).scalar_one()
    assert path.active_modules[-1].kind == "reflection", "the path must end with a reflection"
    return path


# --- 3. `flask outbox run` --------------------------------------------------------------------


def measure_cron(app: Flask, items: int, now: datetime) -> tuple[float, list[str]]:
    """Seed `items` path completions whose badge follow-ups never ran, then time one CLI run."""
    from campus.badges.followups import PATH_AWARD
    from campus.badges.models import Assertion
    from campus.extensions import db
    from campus.outbox.models import OutboxItem
    from campus.outbox.models import OutboxStatus
    from campus.outbox.services import COMMITTED
    from campus.outbox.services import enqueue
    from campus.paths.models import Completion
    from campus.paths.models import PathCompletion

    learners = seed_learners(app, "cron", items, None, now)
    with app.app_context():
        path = _path(PATH_SLUG)
        last = path.active_modules[-1]
        for _email, user_id in learners:  # what the completing request commits, follow-ups aside
            db.session.add(
                Completion(user_id=user_id, module_id=last.id, completed_at=now, source="self")
            )
            db.session.add(PathCompletion(user_id=user_id, path_id=path.id, completed_at=now))
            enqueue(PATH_AWARD, {"user_id": user_id, "path_id": path.id}, now, user_id=user_id)
        db.session.commit()
        db.session.info.pop(COMMITTED, None)  # no request ran them: they wait for cron
        db.session.remove()
    runner = app.test_cli_runner()
    start = time.perf_counter()
    result = runner.invoke(args=["outbox", "run", "--limit", str(max(items, 500))])
    seconds = time.perf_counter() - start
    errors = []
    if result.exit_code != 0 or f"{items} done, 0 not done" not in result.output:
        errors.append(f"flask outbox run: exit {result.exit_code}: {result.output.strip()}")
    with app.app_context():
        ids = [user_id for _email, user_id in learners]
        done = db.session.execute(
            db.select(db.func.count())
            .select_from(OutboxItem)
            .where(OutboxItem.user_id.in_(ids), OutboxItem.status == OutboxStatus.DONE.value)
        ).scalar_one()
        badges = db.session.execute(
            db.select(db.func.count()).select_from(Assertion).where(Assertion.user_id.in_(ids))
        ).scalar_one()
        if done != items or badges != items:
            errors.append(f"flask outbox run: {done} done, {badges} badges for {items} items")
    return seconds, errors


# --- the load generator -----------------------------------------------------------------------


@dataclass
class Learner:
    email: str
    user_id: int
    session: requests.Session | None = None
    token: str = ""


@dataclass
class Samples:
    seconds: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def add(self, result: float | str) -> None:
        if isinstance(result, str):
            self.errors.append(result)
        else:
            self.seconds.append(result)


def log_in(base: str, learner: Learner, submit_url: str) -> str | None:
    session, token = csrf_session(base)
    answer = session.post(
        f"{base}/auth/login",
        data={"email": learner.email, "password": PASSWORD, "csrf_token": token},
        allow_redirects=False,
    )
    if answer.status_code != 302:
        return f"login of {learner.email}: HTTP {answer.status_code}"
    page = session.get(submit_url.removesuffix("/submit"), allow_redirects=False)
    found = CSRF.search(page.text)
    if page.status_code != 200 or found is None:
        return f"module page for {learner.email}: HTTP {page.status_code}"
    learner.session, learner.token = session, found[1]
    return None


def complete(learner: Learner, submit_url: str) -> float | str:
    """The measured request: the last module's submission, which completes the path."""
    assert learner.session is not None
    start = time.perf_counter()
    try:
        answer = learner.session.post(
            submit_url,
            data={"text": REFLECTION, "csrf_token": learner.token},
            allow_redirects=False,
            timeout=60,
        )
    except requests.RequestException as error:
        return f"completion of {learner.email}: {error}"
    seconds = time.perf_counter() - start
    if answer.status_code != 302 or "/auth/" in answer.headers.get("Location", ""):
        return f"completion of {learner.email}: HTTP {answer.status_code}"
    return seconds


_local = threading.local()


def timed_get(url: str) -> float | str:
    """One GET on this thread's own session (a requests.Session is not shared across threads)."""
    session = getattr(_local, "session", None) or requests.Session()
    _local.session = session
    start = time.perf_counter()
    try:
        answer = session.get(url, timeout=60)
    except requests.RequestException as error:
        return f"GET {url}: {error}"
    if answer.status_code != 200:
        return f"GET {url}: HTTP {answer.status_code}"
    return time.perf_counter() - start


def in_parallel(jobs: list[Callable[[], float | str]], threads: int, samples: Samples) -> None:
    with ThreadPoolExecutor(threads) as pool:
        for result in pool.map(lambda job: job(), jobs):
            samples.add(result)


def with_probe(url: str, samples: Samples, work: Callable[[], None]) -> None:
    """Run `work` while another visitor loads `url` every PROBE_PAUSE seconds."""
    stop = threading.Event()

    def probe() -> None:
        while not stop.is_set():
            samples.add(timed_get(url))
            stop.wait(PROBE_PAUSE)

    thread = threading.Thread(target=probe)
    thread.start()
    try:
        work()
    finally:
        stop.set()
        thread.join()


def chunks(items: list[Learner], parts: int) -> list[list[Learner]]:
    return [items[index::parts] for index in range(parts)]


def p(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


# --- checks after the run ---------------------------------------------------------------------


def check_outcomes(app: Flask, plain: list[Learner], hanging: list[Learner]) -> dict[str, Any]:
    from campus.badges.followups import PATH_AWARD
    from campus.badges.models import Assertion
    from campus.extensions import db
    from campus.outbox.models import OutboxItem
    from campus.outbox.models import OutboxStatus
    from campus.paths.models import PathCompletion

    def count(query) -> int:  # type: ignore[no-untyped-def]
        return int(db.session.execute(query).scalar_one())

    def items(ids: list[int], kind: str, status: str, with_error: bool = False) -> int:
        query = (
            db.select(db.func.count())
            .select_from(OutboxItem)
            .where(OutboxItem.user_id.in_(ids), OutboxItem.kind == kind)
            .where(OutboxItem.status == status)
        )
        if with_error:
            query = query.where(OutboxItem.last_error.is_not(None))
        return count(query)

    with app.app_context():
        result: dict[str, Any] = {}
        for name, group in (("plain", plain), ("hanging", hanging)):
            ids = [learner.user_id for learner in group]
            result[f"{name} completions"] = count(
                db.select(db.func.count())
                .select_from(PathCompletion)
                .where(PathCompletion.user_id.in_(ids))
            )
            result[f"{name} badges"] = count(
                db.select(db.func.count()).select_from(Assertion).where(Assertion.user_id.in_(ids))
            )
            result[f"{name} awards done"] = items(ids, PATH_AWARD, OutboxStatus.DONE.value)
        ids = [learner.user_id for learner in hanging]
        result["grades pending with error"] = items(
            ids, "lti.grade", OutboxStatus.PENDING.value, with_error=True
        )
        result["grades pending"] = items(ids, "lti.grade", OutboxStatus.PENDING.value)
        result["grade error"] = db.session.execute(
            db.select(OutboxItem.last_error)
            .where(OutboxItem.user_id.in_(ids), OutboxItem.kind == "lti.grade")
            .limit(1)
        ).scalar_one_or_none()
        result["grades in any state"] = count(
            db.select(db.func.count())
            .select_from(OutboxItem)
            .where(OutboxItem.user_id.in_(ids), OutboxItem.kind == "lti.grade")
        )
        db.session.remove()
    return result


# --- main ---------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--learners", type=int, default=40, help="per scenario (plain, hanging)")
    parser.add_argument("--items", type=int, default=300, help="due follow-ups for the cron run")
    parser.add_argument("--threads", type=int, default=2, help="load generator threads")
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    rounds = max(1, min(args.rounds, args.learners))
    errors: list[str] = []
    lms = SilentLms()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        env = prepare_campus(tmp)
        env["CAMPUS_LTI_ALLOW_PRIVATE_ADDRESSES"] = "1"  # the silent LMS is on 127.0.0.1
        os.environ.update(env)
        from campus import create_app

        app = create_app()
        inline_seconds = float(app.config["OUTBOX_INLINE_SECONDS"])
        now = datetime.now(UTC)

        cron_seconds, cron_errors = measure_cron(app, args.items, now)
        errors += cron_errors

        lms_base = f"http://127.0.0.1:{lms.port}"
        plain = [
            Learner(e, i)
            for e, i in seed_learners(app, "plain", args.learners + WARM_UP, None, now)
        ]
        warm_up, plain = plain[:WARM_UP], plain[WARM_UP:]
        hanging = [
            Learner(e, i) for e, i in seed_learners(app, "lms", args.learners, lms_base, now)
        ]
        with app.app_context():
            path = _path(PATH_SLUG)
            module_path = f"/paths/{path.slug}/{path.active_modules[-1].slug}/submit"

        hello_port, campus_port = free_port(), free_port()
        servers = [
            gunicorn("bench.hello:app", hello_port, env),
            gunicorn("wsgi:app", campus_port, env),
        ]
        hello_url = f"http://127.0.0.1:{hello_port}/"
        base = f"http://127.0.0.1:{campus_port}"
        submit_url = base + module_path
        hello, plain_times, hanging_times = Samples(), Samples(), Samples()
        probe_plain, probe_hanging = Samples(), Samples()
        try:
            wait_until_up(hello_url)
            wait_until_up(base + "/")
            with ThreadPoolExecutor(args.threads) as pool:
                for failure in pool.map(
                    lambda learner: log_in(base, learner, submit_url),
                    warm_up + plain + hanging,
                ):
                    if failure:
                        errors.append(failure)
            if errors:
                raise SystemExit("\n".join(errors))
            warm = Samples()
            in_parallel([lambda w=w: complete(w, submit_url) for w in warm_up], args.threads, warm)
            errors += warm.errors
            for plain_part, hanging_part in zip(
                chunks(plain, rounds), chunks(hanging, rounds), strict=True
            ):
                in_parallel(
                    [lambda: timed_get(hello_url)] * HELLO_PER_ROUND,
                    args.threads,
                    hello,
                )
                with_probe(
                    base + "/",
                    probe_plain,
                    lambda part=plain_part: in_parallel(
                        [lambda x=x: complete(x, submit_url) for x in part],
                        args.threads,
                        plain_times,
                    ),
                )
                with_probe(
                    base + "/",
                    probe_hanging,
                    lambda part=hanging_part: in_parallel(
                        [lambda x=x: complete(x, submit_url) for x in part],
                        args.threads,
                        hanging_times,
                    ),
                )
        finally:
            for server in servers:
                server.terminate()
                server.wait()
            lms_connections = len(lms.connections)
            lms.close()
        for samples in (hello, plain_times, hanging_times, probe_plain, probe_hanging):
            errors += samples.errors
        outcomes = check_outcomes(app, warm_up + plain, hanging)

    plain_total = len(plain) + len(warm_up)
    if outcomes["plain completions"] != plain_total:
        errors.append(f"lost completions: {outcomes['plain completions']}/{plain_total} (plain)")
    if outcomes["hanging completions"] != len(hanging):
        errors.append(
            f"lost completions: {outcomes['hanging completions']}/{len(hanging)} (hanging LMS)"
        )
    report(
        args,
        rounds,
        inline_seconds,
        {
            "bare Flask hello (ceiling)": hello.seconds,
            "complete a path (badge signed + baked inline)": plain_times.seconds,
            "complete a path, LMS never answers": hanging_times.seconds,
            "catalogue for others meanwhile (plain)": probe_plain.seconds,
            "catalogue for others meanwhile (hanging LMS)": probe_hanging.seconds,
        },
    )
    hanging_p95 = p(hanging_times.seconds, 0.95) if hanging_times.seconds else 0.0
    plain_p95 = p(plain_times.seconds, 0.95) if plain_times.seconds else 0.0
    print(
        f"hanging LMS adds {hanging_p95 - plain_p95:.2f} s at p95 "
        f"(OUTBOX_INLINE_SECONDS = {inline_seconds:g}); the LMS saw {lms_connections} connections"
    )
    print(
        f"stored: completions {outcomes['plain completions']}/{plain_total} plain, "
        f"{outcomes['hanging completions']}/{len(hanging)} hanging; badges awarded inline "
        f"{outcomes['plain awards done']}/{plain_total} plain, "
        f"{outcomes['hanging awards done']}/{len(hanging)} hanging "
        f"({outcomes['plain badges'] + outcomes['hanging badges']} assertions); grades pending "
        f"{outcomes['grades pending']}/{outcomes['grades in any state']} (expected {len(hanging)}):"
        f" {outcomes['grades pending with error']} tried and timed out, the rest left untried for"
        " cron while the LMS was failing"
    )
    if outcomes["grades pending"] != len(hanging):
        errors.append(f"grades not pending: {outcomes['grades pending']}/{len(hanging)}")
    per_item = cron_seconds / args.items
    plain_p50 = statistics.median(plain_times.seconds) if plain_times.seconds else float("nan")
    print(f"a grade's error: {outcomes['grade error']}")
    print(
        f"flask outbox run: {args.items} due path awards in {cron_seconds:.2f} s = "
        f"{args.items / cron_seconds:.0f} items/s, {1000 * per_item:.1f} ms per item "
        f"({per_item / plain_p50:.0%} of a plain completing request's p50)"
    )
    if errors:
        print("ERRORS:", *errors[:20], sep="\n  ", file=sys.stderr)
        raise SystemExit(1)


def report(
    args: argparse.Namespace, rounds: int, inline: float, rows: dict[str, list[float]]
) -> None:
    print(
        f"Outbox benchmark — gunicorn -w 2, Python load generator ({args.threads} threads), "
        f"{rounds} interleaved rounds, {args.learners} learners per scenario"
    )
    hello_p95 = p(rows["bare Flask hello (ceiling)"], 0.95)
    print(f"{'request':<48} {'n':>5} {'p50':>10} {'p95':>10} {'p95 × hello':>12}")
    for name, values in rows.items():
        if not values:
            print(f"{name:<48} {0:>5} {'-':>10} {'-':>10} {'-':>12}")
            continue
        p50, p95 = 1000 * statistics.median(values), 1000 * p(values, 0.95)
        print(
            f"{name:<48} {len(values):>5} {p50:>7.1f} ms {p95:>7.1f} ms "
            f"{p95 / 1000 / hello_p95:>11.0f}×"
        )


if __name__ == "__main__":
    main()
