"""HTTP benchmark at a whole country's scale (issue 16): gunicorn + wrk against the campus and,
interleaved in the same run, a bare Flask "hello" on the same settings as the ceiling.

Generates the data set (default 100,000 users in 200 organisations; see bench/http_data.py) into
a fresh SQLite file, or into PostgreSQL when `CAMPUS_BENCH_POSTGRES_URL` (or --postgres) is set
(its database is emptied first: give it a database of its own). Then, per endpoint, alternates
wrk on hello and wrk on the endpoint for --rounds rounds, and writes req/s, p50/p95/p99, the share
of the ceiling, errors and the workers' RSS to bench/results.md.

Usage: `make bench-http` or `.venv/bin/python bench/http_bench.py [--users 100000] [--seconds 5]`.
Shares, not absolute rates, are what to compare: the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GUNICORN = [
    str(ROOT / ".venv" / "bin" / "gunicorn"),
    "-w",
    "2",
    "-k",
    "sync",
    "--log-level",
    "warning",
]
STATS_LUA = """
done = function(summary, latency, requests)
  io.write(string.format(
    "JSON {\\"requests\\":%d,\\"duration_us\\":%d,\\"p50\\":%d,\\"p95\\":%d,\\"p99\\":%d,"
    .. "\\"status_errors\\":%d,\\"socket_errors\\":%d}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


@dataclass
class Endpoint:
    label: str
    path: str
    cookie: str = ""
    method: str = "GET"
    body: str = ""
    target: str = ""  # the target, for the table


@dataclass
class Sample:
    rate: float
    p50: float
    p95: float
    p99: float
    errors: int


class FormReader(HTMLParser):
    """Every form on a page: its action and its named inputs (the CSRF token included)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []
        self.inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form":
            self.inside = True
            self.forms.append((values.get("action") or "", {}))
        elif tag in ("input", "button") and self.inside and values.get("name"):
            self.forms[-1][1].setdefault(values["name"] or "", values.get("value") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False


def form_fields(html: str, suffix: str = "", field: str = "") -> tuple[str, dict[str, str]]:
    """The first form whose action ends with `suffix` and that has an input named `field`."""
    reader = FormReader()
    reader.feed(html)
    for action, fields in reader.forms:
        if (not suffix or action.endswith(suffix)) and (not field or field in fields):
            return action, fields
    raise SystemExit(f"no form (action …{suffix!r}, field {field!r}) on the page")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn on {port} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"gunicorn on {port} did not start")


def worker_rss_mb(master: int) -> float:
    """Resident memory of the master's workers, the largest one (what one worker costs)."""
    children = subprocess.run(
        ["pgrep", "-P", str(master)], capture_output=True, text=True, check=False
    ).stdout.split()
    sizes = []
    for pid in children:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                sizes.append(int(line.split()[1]) / 1024)
    return max(sizes, default=0.0)


def wrk(port: int, endpoint: Endpoint, seconds: int, connections: int, script_dir: Path) -> Sample:
    script = script_dir / f"{abs(hash((endpoint.path, endpoint.method)))}.lua"
    lines = [STATS_LUA]
    if endpoint.method != "GET":
        lines.insert(
            0,
            f"wrk.method = {json.dumps(endpoint.method)}\nwrk.body = {json.dumps(endpoint.body)}\n"
            'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n',
        )
    script.write_text("".join(lines))
    command = [
        "wrk",
        "-t2",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "30s",
        "-s",
        str(script),
    ]
    if endpoint.cookie:
        command += ["-H", f"Cookie: {endpoint.cookie}"]
    output = subprocess.run(
        command + [f"http://127.0.0.1:{port}{endpoint.path}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    stats = json.loads(output.split("JSON ", 1)[1].splitlines()[0])
    return Sample(
        rate=stats["requests"] / (stats["duration_us"] / 1e6),
        p50=stats["p50"] / 1000,
        p95=stats["p95"] / 1000,
        p99=stats["p99"] / 1000,
        errors=stats["status_errors"] + stats["socket_errors"],
    )


def log_in(base: str, email: str, password: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/auth/login?lang=en", timeout=30)
    _action, fields = form_fields(page.text, field="password")
    fields.update({"email": email, "password": password})
    response = session.post(f"{base}/auth/login", data=fields, timeout=30, allow_redirects=False)
    if response.status_code != 302:
        raise SystemExit(f"could not log in as {email}: {response.status_code}")
    return session


def cookie_header(session: requests.Session) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)


def build(
    directory: Path,
    database_url: str,
    users: int,
    organisations: int,
    revoked: int,
    image_bytes: int,
):  # type: ignore[no-untyped-def]
    from flask_migrate import upgrade

    from bench import http_data
    from campus import create_app
    from campus.extensions import db

    app = create_app({})
    with app.app_context():
        if database_url.startswith("postgresql"):
            db.session.execute(db.text("DROP SCHEMA public CASCADE"))
            db.session.execute(db.text("CREATE SCHEMA public"))
            db.session.commit()
        upgrade(directory=str(ROOT / "migrations"))
        data = http_data.generate(users, organisations, revoked, image_bytes, datetime.now(UTC))
        db.session.remove()
        db.engine.dispose()
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--organisations", type=int, default=200)
    parser.add_argument(
        "--revoked", type=int, default=10_000, help="revoked assertions (the revocation list)"
    )
    parser.add_argument(
        "--image-bytes", type=int, default=55_000, help="baked PNG+SVG bytes per assertion"
    )
    parser.add_argument("--seconds", type=int, default=5, help="each wrk run")
    parser.add_argument(
        "--rounds", type=int, default=2, help="hello/endpoint alternations per endpoint"
    )
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--postgres", default=os.environ.get("CAMPUS_BENCH_POSTGRES_URL"))
    parser.add_argument(
        "--keep", help="build into (or reuse) this folder instead of a temporary one"
    )
    parser.add_argument("--output", default=str(ROOT / "bench" / "results.md"))
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")

    directory = Path(args.keep or tempfile.mkdtemp(prefix="campus-bench-"))
    directory.mkdir(parents=True, exist_ok=True)
    database_url = args.postgres or f"sqlite:///{directory}/bench.sqlite"
    port, hello_port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(
        os.environ,
        CAMPUS_DATABASE_URL=database_url,
        CAMPUS_SECRET_KEY="bench-secret",
        CAMPUS_KEYS_DIR=str(directory / "keys"),
        CAMPUS_BASE_URL=base,
        # The load generator is one address: the API's per-address limit must not cut it off.
        CAMPUS_API_RATE_LIMIT_ANONYMOUS="100000000",
        CAMPUS_API_RATE_LIMIT_AUTHENTICATED="100000000",
    )
    os.environ.update({k: v for k, v in env.items() if k.startswith("CAMPUS_")})
    marker = directory / "dataset.json"
    started = time.perf_counter()
    if args.keep and marker.exists() and not args.postgres:
        data = json.loads(marker.read_text())
    else:
        built = build(
            directory, database_url, args.users, args.organisations, args.revoked, args.image_bytes
        )
        data = dict(built.__dict__)
        marker.write_text(json.dumps(data))
    print(f"data set ready in {time.perf_counter() - started:.0f} s: {data}", flush=True)

    campus = subprocess.Popen(
        [*GUNICORN, "-b", f"127.0.0.1:{port}", "campus:create_app()"], cwd=ROOT, env=env
    )
    hello = subprocess.Popen(
        [*GUNICORN, "-b", f"127.0.0.1:{hello_port}", "bench.hello:app"], cwd=ROOT, env=env
    )
    try:
        wait_for(port, campus)
        wait_for(hello_port, hello)
        results = measure(args, data, base, port, hello_port, directory)
        rss = worker_rss_mb(campus.pid)
    finally:
        for process in (campus, hello):
            process.terminate()
        for process in (campus, hello):
            process.wait(timeout=30)
    write_results(args, data, database_url, results, rss)


def endpoints(data: dict, base: str) -> list[Endpoint]:
    learner = log_in(base, data["learner_email"], "bench-password-1")
    org_admin = log_in(base, data["org_admin_email"], "bench-password-1")
    module = f"/paths/{data['path_slug']}/{data['module_slug']}"
    page = learner.get(f"{base}{module}", timeout=30)
    try:
        action, fields = form_fields(page.text, "/submit")
    except (
        SystemExit
    ):  # done in an earlier run on this data set: it is completed again (idempotent)
        action, fields = f"{module}/submit", form_fields(page.text, field="csrf_token")[1]
        fields = {"csrf_token": fields["csrf_token"]}
    learner_cookie, admin_cookie = cookie_header(learner), cookie_header(org_admin)
    body = "&".join(
        f"{requests.utils.quote(k)}={requests.utils.quote(v)}" for k, v in fields.items()
    )
    uuid = data["assertion_uuid"]
    return [
        Endpoint("catalogue `/` (logged in)", "/", learner_cookie, target="≥ 30 %, p95 < 100 ms"),
        Endpoint("dashboard", "/dashboard", learner_cookie, target="≥ 30 %, p95 < 100 ms"),
        Endpoint(
            "path page",
            f"/paths/{data['path_slug']}",
            learner_cookie,
            target="≥ 30 %, p95 < 100 ms",
        ),
        Endpoint("module page", module, learner_cookie, target="≥ 30 %, p95 < 100 ms"),
        Endpoint("complete a module (POST)", action, learner_cookie, "POST", body, target="≥ 20 %"),
        Endpoint(
            "org progress table (500 staff)",
            f"/manage/organisations/{data['biggest_org_id']}/progress",
            admin_cookie,
            target="p95 < 150 ms",
        ),
        Endpoint("hosted assertion JSON", f"/ob/assertions/{uuid}", target="≥ 50 %"),
        Endpoint("baked PNG", f"/badges/a/{uuid}/badge.png", target="≥ 50 %"),
        Endpoint(
            "issuer revocation list",
            f"/ob/issuers/{data['issuer_slug']}/revocations",
            target="≥ 50 %",
        ),
        Endpoint("API: paths (public)", "/api/v1/paths", target="—"),
    ]


def measure(args, data, base, port, hello_port, directory):  # type: ignore[no-untyped-def]
    ceiling = Endpoint("hello", "/")
    results = []
    for endpoint in endpoints(data, base):
        check = requests.request(
            endpoint.method,
            base + endpoint.path,
            data=endpoint.body or None,
            headers={
                "Cookie": endpoint.cookie,
                "Content-Type": "application/x-www-form-urlencoded",
            },
            allow_redirects=False,
            timeout=120,
        )
        if check.status_code >= 400:
            print(f"skipped {endpoint.label}: {check.status_code}", flush=True)
            continue
        hellos, samples = [], []
        for _ in range(args.rounds):
            hellos.append(wrk(hello_port, ceiling, args.seconds, args.connections, directory))
            samples.append(wrk(port, endpoint, args.seconds, args.connections, directory))
        hello_rate = statistics.mean(s.rate for s in hellos)
        rate = statistics.mean(s.rate for s in samples)
        row = {
            "label": endpoint.label,
            "target": endpoint.target,
            "rate": rate,
            "share": rate / hello_rate,
            "p50": statistics.median(s.p50 for s in samples),
            "p95": max(s.p95 for s in samples),
            "p99": max(s.p99 for s in samples),
            "errors": sum(s.errors for s in samples),
            "hello": hello_rate,
        }
        print(
            f"{row['label']:<36} {rate:8.1f}/s {100 * row['share']:6.1f} % of hello "
            f"p95 {row['p95']:8.1f} ms errors {row['errors']}",
            flush=True,
        )
        results.append(row)
    return results


def write_results(args, data, database_url, results, rss) -> None:  # type: ignore[no-untyped-def]
    engine = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
    lines = [
        f"# HTTP benchmark ({engine}), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Made by `bench/http_bench.py --users {args.users} --seconds {args.seconds} --rounds {args.rounds}`: "
        f"gunicorn `-w 2 -k sync` on loopback, wrk `-t2 -c{args.connections}`, a bare Flask hello "
        "on the same settings measured alternately in the same run as the ceiling.",
        "",
        f"Data: {data['users']:,} users in {data['organisations']} organisations, "
        f"{data['completions']:,} module completions, {data['path_completions']:,} path completions, "
        f"{data['assertions']:,} assertions ({data['revoked']:,} revoked).",
        "",
        "| endpoint | req/s | p50 ms | p95 ms | p99 ms | share of hello | errors | target |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in results:
        lines.append(
            f"| {row['label']} | {row['rate']:.1f} | {row['p50']:.1f} | {row['p95']:.1f} | "
            f"{row['p99']:.1f} | {100 * row['share']:.1f} % | {row['errors']} | {row['target']} |"
        )
    lines += ["", f"Largest gunicorn worker RSS after the run: {rss:.0f} MB (target < 150 MB).", ""]
    Path(args.output).write_text("\n".join(lines))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
