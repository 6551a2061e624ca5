"""Security layer benchmark through gunicorn and wrk: what the protections cost a real server.

A bare Flask "hello" (bench/hello.py) and the campus run side by side under gunicorn with the
same settings, and wrk drives them in interleaved rounds, so the machine's drift hits both alike.
Reported per scenario: the median rate as a share of the hello ceiling of the same round, and
the p95 latency. Scenarios: the anonymous catalogue; a logged-in dashboard (session load,
`Cache-Control: no-store`); a login with the right password (one scrypt check: the cost an
unthrottled guess would have); and an attacker hammering one account's password, which the
throttle must answer with a cheap 429 instead of a password hash.

Usage: `.venv/bin/python bench/security.py [--seconds 5] [--rounds 3]` (needs `wrk`:
`apt-get install wrk`).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PASSWORD = "bench password 123"
EMAIL = "bench@campus.example"
SECOND_EMAIL = "second@campus.example"

LUA_REPORT = """
done = function(summary, latency, requests)
  io.write(string.format("P95_US %d\\n", latency:percentile(95)))
  io.write(string.format("STATUS_ERRORS %d\\n", summary.errors.status))
end
"""
LUA_POST = """
wrk.method = "POST"
wrk.body = "{body}"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str) -> None:
    for _ in range(100):
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise SystemExit(f"server at {url} did not start")


def gunicorn(app: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            app,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wrk(url: str, seconds: int, script: Path, cookie: str | None) -> tuple[float, float, int]:
    command = ["wrk", "-t1", "-c4", f"-d{seconds}s", "-s", str(script), url]
    if cookie:
        command[1:1] = ["-H", f"Cookie: {cookie}"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1])  # type: ignore[index]
    p95 = int(re.search(r"P95_US (\d+)", output)[1]) / 1000  # type: ignore[index]
    return rate, p95, int(re.search(r"STATUS_ERRORS (\d+)", output)[1])  # type: ignore[index]


def prepare_campus(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        CAMPUS_DATABASE_URL=f"sqlite:///{tmp / 'bench.sqlite'}",
        CAMPUS_SECRET_KEY="bench-secret",
        CAMPUS_KEYS_DIR=str(tmp / "keys"),
        CAMPUS_KEY_PASSPHRASE="bench-passphrase",
        CAMPUS_BASE_URL="http://127.0.0.1",
    )
    flask = [str(BIN / "flask"), "--app", "campus"]
    for command in (["db", "upgrade"], ["content", "sync"]):
        subprocess.run(flask + command, cwd=ROOT, env=env, check=True, capture_output=True)
    script = (
        "from campus import create_app\n"
        "from campus.extensions import db\n"
        "from campus.auth import services\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        "    user, _ = services.ensure_demo_account()\n"
        f"    user.email = {EMAIL!r}\n"
        f"    user.password_hash = services.hash_password({PASSWORD!r})\n"
        "    second = services.new_user(\n"
        f"        {SECOND_EMAIL!r}, 'Second', user.password_hash, user.organisation, 'fi'\n"
        "    )\n"
        "    db.session.commit()\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True)
    return env


def csrf_session(base: str) -> tuple[requests.Session, str]:
    session = requests.Session()
    page = session.get(f"{base}/auth/login").text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    return session, token[1] if token else ""


def cookie_header(session: requests.Session) -> str:
    return "; ".join(f"{name}={value}" for name, value in session.cookies.items())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        env = prepare_campus(tmp)
        hello_port, campus_port = free_port(), free_port()
        servers = [
            gunicorn("bench.hello:app", hello_port, env),
            gunicorn("wsgi:app", campus_port, env),
        ]
        try:
            hello, base = f"http://127.0.0.1:{hello_port}/", f"http://127.0.0.1:{campus_port}"
            wait_until_up(hello)
            wait_until_up(base + "/")
            member, token = csrf_session(base)
            answer = member.post(
                f"{base}/auth/login",
                data={"email": EMAIL, "password": PASSWORD, "csrf_token": token},
                allow_redirects=False,
            )
            assert answer.status_code == 302, answer.status_code
            attacker, attacker_token = csrf_session(base)
            report = tmp / "report.lua"
            report.write_text(LUA_REPORT)
            hammer = tmp / "hammer.lua"
            body = f"email={EMAIL}&password=wrong-guess&csrf_token={attacker_token}"
            hammer.write_text(LUA_POST.format(body=body.replace("+", "%2B")) + LUA_REPORT)
            visitor, visitor_token = csrf_session(base)
            right = tmp / "right.lua"
            body = f"email={SECOND_EMAIL}&password={PASSWORD}&csrf_token={visitor_token}"
            right.write_text(LUA_POST.format(body=body.replace(" ", "+")) + LUA_REPORT)
            scenarios = {
                "bare Flask hello (ceiling)": (hello, report, None),
                "catalogue, anonymous": (base + "/", report, None),
                "dashboard, logged in (no-store)": (
                    base + "/dashboard",
                    report,
                    cookie_header(member),
                ),
                "log in, right password (scrypt check)": (
                    base + "/auth/login",
                    right,
                    cookie_header(visitor),
                ),
                "password guessing one account (429)": (
                    base + "/auth/login",
                    hammer,
                    cookie_header(attacker),
                ),
            }
            results: dict[str, list[tuple[float, float, int]]] = {name: [] for name in scenarios}
            shares: dict[str, list[float]] = {name: [] for name in scenarios}
            for _ in range(args.rounds):
                measured = {n: wrk(u, args.seconds, s, c) for n, (u, s, c) in scenarios.items()}
                ceiling = measured["bare Flask hello (ceiling)"][0]
                for name, result in measured.items():
                    results[name].append(result)
                    shares[name].append(result[0] / ceiling)
        finally:
            for server in servers:
                server.terminate()
                server.wait()
    print(
        f"Security benchmark — gunicorn -w 2, wrk -c4, {args.rounds}×{args.seconds} s interleaved"
    )
    print(f"{'scenario':<40} {'share of hello':>15} {'p95':>10} {'non-2xx/3xx':>12}")
    for name in scenarios:
        share = statistics.median(shares[name])
        p95 = statistics.median(r[1] for r in results[name])
        errors = sum(r[2] for r in results[name])
        print(f"{name:<40} {share:>14.1%} {p95:>8.1f} ms {errors:>12}")


if __name__ == "__main__":
    main()
