"""Defects a probe found in data handling (issue 8): double clicks, huge ids, deep nesting,
links out of the content tree and world-readable evidence."""

from __future__ import annotations

import io
import os
import stat
import threading
from collections.abc import Callable
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.exceptions import NotFound
from werkzeug.routing import Rule
from werkzeug.routing.converters import AnyConverter
from werkzeug.serving import make_server

from campus import create_app
from campus.auth.models import Organisation
from campus.auth.models import Role
from campus.auth.models import User
from campus.badges.applications import apply_for_badge
from campus.badges.issuers import get_badge
from campus.badges.models import BadgeApplication
from campus.extensions import db
from campus.paths import services
from campus.paths.kinds.evidence import submit_evidence
from campus.paths.kinds.read import mark_read
from campus.paths.models import Completion
from campus.paths.models import Enrollment
from campus.paths.models import EvidenceSubmission
from campus.paths.models import Module
from campus.paths.models import PathCompletion
from campus.paths.uploads import EvidenceFile
from campus.paths.uploads import UploadRules
from campus.routing import MAX_ID
from campus.routing import page_number
from campus.routing import parse_id
from tests.conftest import BASE_URL
from tests.conftest import FAST_HASH
from tests.conftest import PASSWORD
from tests.conftest import TEST_BADGES
from tests.conftest import TEST_CONTENT
from tests.conftest import AuthActions
from tests.conftest import load_test_content
from tests.conftest import now

DESCRIPTION = "My workshop plan and the feedback I got from the group."
PG_URL = os.environ.get("CAMPUS_TEST_POSTGRES_URL")


# --- races: double clicks against a real threaded server ----------------------------------------


@dataclass
class LiveCampus:
    app: Flask
    url: str
    user_ids: list[int]


def _live_campus(database_url: str, tmp_path: Path, migrate: bool) -> Iterator[LiveCampus]:
    """The app on a file-backed or PostgreSQL database, served by werkzeug with a thread per
    request (as the dev server and gunicorn's threaded workers do), and ten learners."""
    app = create_app(
        {
            "TESTING": True,
            "RENDER_500_IN_TESTS": True,
            "SECRET_KEY": "race-secret",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "WTF_CSRF_ENABLED": False,
            "PASSWORD_HASH_METHOD": FAST_HASH,
            "CONTENT_DIR": str(TEST_CONTENT),
            "BADGES_DIR": str(TEST_BADGES),
            "UPLOAD_DIR": str(tmp_path / "uploads"),
            "KEYS_DIR": str(tmp_path / "keys"),
            "BASE_URL": BASE_URL,
        }
    )
    from werkzeug.security import generate_password_hash

    with app.app_context():
        if migrate:
            from flask_migrate import upgrade

            with db.engine.begin() as connection:
                connection.execute(sa.text("DROP SCHEMA public CASCADE"))
                connection.execute(sa.text("CREATE SCHEMA public"))
            upgrade()
        else:
            db.create_all()
        load_test_content(app)
        organisation = Organisation(name="Race College", slug="race")
        password_hash = generate_password_hash(PASSWORD, method=FAST_HASH)
        users = [
            User(
                email=f"learner{n}@example.org",
                name=f"Learner {n}",
                password_hash=password_hash,
                organisation=organisation,
            )
            for n in range(10)
        ]
        db.session.add_all(users)
        db.session.flush()
        basics = services.get_path("basics")
        # "advanced" (with the evidence module) needs "basics" done.
        db.session.add_all(
            PathCompletion(user_id=user.id, path_id=basics.id, completed_at=now()) for user in users
        )
        db.session.commit()
        user_ids = [user.id for user in users]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveCampus(app, f"http://127.0.0.1:{server.server_port}", user_ids)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def sqlite_campus(tmp_path: Path) -> Iterator[LiveCampus]:
    yield from _live_campus(f"sqlite:///{tmp_path / 'race.sqlite'}", tmp_path, migrate=False)


@pytest.fixture
def postgres_campus(tmp_path: Path) -> Iterator[LiveCampus]:
    if not PG_URL:
        if os.environ.get("CI"):
            pytest.fail("CAMPUS_TEST_POSTGRES_URL is not set in CI: .ci/run must start PostgreSQL")
        pytest.skip("CAMPUS_TEST_POSTGRES_URL not set")
    yield from _live_campus(PG_URL, tmp_path, migrate=True)


def _double_click(campus: LiveCampus, number: int, path: str, data: dict[str, str]) -> list[int]:
    """Learner `number` logs in, then two tabs of the same browser POST at the same moment."""
    first = requests.Session()
    login = first.post(
        f"{campus.url}/auth/login",
        data={"email": f"learner{number}@example.org", "password": PASSWORD},
        allow_redirects=False,
        timeout=15,
    )
    assert login.status_code == 302, login.text
    second = requests.Session()
    second.cookies.update(first.cookies)
    barrier = threading.Barrier(2, timeout=15)

    def post(session: requests.Session) -> int:
        barrier.wait()
        return session.post(
            campus.url + path, data=data, allow_redirects=False, timeout=15
        ).status_code

    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(post, [first, second]))


def _rows(model: type, **where: object) -> int:
    query = db.select(db.func.count()).select_from(model)
    for column, value in where.items():
        query = query.where(getattr(model, column) == value)
    return db.session.execute(query).scalar_one()


def _check_double_clicks(campus: LiveCampus) -> None:
    clicks = {
        "enrol": ("/paths/basics/enrol", {}),
        "done": ("/paths/basics/welcome/done", {}),
        "evidence": (
            "/paths/advanced/show-your-work/evidence",
            {"description": DESCRIPTION, "link": "https://example.org/plan"},
        ),
        "apply": ("/badges/reviewed", {"narrative": DESCRIPTION, "link": "https://example.org/w"}),
    }
    failures: dict[str, list[int]] = {name: [] for name in clicks}
    for number in range(10):
        for name, (path, data) in clicks.items():
            failures[name] += [s for s in _double_click(campus, number, path, data) if s >= 500]
    with campus.app.app_context():
        basics = services.get_path("basics")
        welcome = services.get_module(basics, "welcome")
        evidence = services.get_module(services.get_path("advanced"), "show-your-work")
        badge = get_badge("reviewed")
        counts = {
            "enrol": (Enrollment, "path_id", basics.id),
            "done": (Completion, "module_id", welcome.id),
            "evidence": (EvidenceSubmission, "module_id", evidence.id),
            "apply": (BadgeApplication, "badge_class_id", badge.id),
        }
        rows = {
            name: [_rows(model, user_id=user_id, **{key: value}) for user_id in campus.user_ids]
            for name, (model, key, value) in counts.items()
        }
    assert (failures, rows) == ({name: [] for name in clicks}, {name: [1] * 10 for name in clicks})


def test_double_clicks_store_one_row_and_never_fail_on_sqlite(sqlite_campus: LiveCampus) -> None:
    _check_double_clicks(sqlite_campus)


def test_double_clicks_store_one_row_and_never_fail_on_postgres(
    postgres_campus: LiveCampus,
) -> None:
    _check_double_clicks(postgres_campus)


# The same races made deterministic: the "is there one already?" check is made to see nothing,
# as the second of two concurrent requests does, and the insert must still keep one row.


@pytest.fixture
def learner(app: Flask, make_user: Callable[..., int], app_ctx: None) -> User:
    user = db.session.get(User, make_user())
    db.session.add(
        PathCompletion(user_id=user.id, path_id=services.get_path("basics").id, completed_at=now())
    )
    db.session.commit()
    return user


def _blind_first_call(monkeypatch: pytest.MonkeyPatch, owner: object, name: str, blind) -> None:  # type: ignore[no-untyped-def]
    """The first call of `owner.name` answers `blind` (nothing there yet); later calls are real."""
    original = getattr(owner, name)
    calls: list[int] = []

    def racing(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        return blind if len(calls) == 1 else original(*args, **kwargs)

    monkeypatch.setattr(owner, name, racing)


def test_a_concurrent_enrolment_returns_the_first(
    learner: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    basics = services.get_path("basics")
    first = services.enroll(learner, basics, now())
    db.session.commit()
    _blind_first_call(monkeypatch, services, "find_enrollment", None)
    second = services.enroll(learner, basics, now())
    db.session.commit()
    assert second.id == first.id
    assert _rows(Enrollment, user_id=learner.id) == 1


def test_a_concurrent_evidence_submission_keeps_one_waiting(
    learner: User, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    evidence = services.get_module(services.get_path("advanced"), "show-your-work")
    upload_dir = tmp_path / "up"

    def submit(name: str) -> EvidenceSubmission:
        return submit_evidence(
            learner,
            evidence,
            DESCRIPTION,
            None,
            EvidenceFile(name, io.BytesIO(b"%PDF-1.4 plan")),
            UploadRules(upload_dir, ("pdf",), 1024),
            now(),
        )

    first = submit("first.pdf")
    db.session.commit()
    monkeypatch.setattr(services, "evidence_submissions", lambda user, module: [])
    second = submit("second.pdf")
    db.session.commit()
    assert second.id == first.id and second.file_name == "first.pdf"
    assert _rows(EvidenceSubmission, user_id=learner.id) == 1
    assert sorted(p.name for p in upload_dir.iterdir()) == [first.stored_name]  # ours removed


def test_a_concurrent_badge_application_keeps_one_waiting(
    learner: User, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    badge = get_badge("reviewed")

    def apply(link: str) -> BadgeApplication:
        return apply_for_badge(
            learner, badge, DESCRIPTION, link, None, UploadRules(tmp_path, ("pdf",), 1024), now()
        )

    first = apply("https://example.org/first")
    db.session.commit()
    from campus.badges import applications

    _blind_first_call(monkeypatch, applications, "latest_application", None)
    second = apply("https://example.org/second")
    db.session.commit()
    assert second.id == first.id and second.link_url == "https://example.org/first"
    assert _rows(BadgeApplication, user_id=learner.id) == 1


def test_a_completion_is_undone_with_the_rest_of_its_request(learner: User) -> None:
    """pysqlite starts no transaction before a SAVEPOINT, so a savepoint-guarded insert was
    committed by its RELEASE: a request that failed later kept half of its work."""
    welcome = services.get_module(services.get_path("basics"), "welcome")
    mark_read(learner, welcome, now())
    db.session.rollback()
    assert _rows(Completion, user_id=learner.id) == 0
    assert _rows(Enrollment, user_id=learner.id) == 0


def test_existing_twins_are_resolved_by_the_migration(tmp_path: Path) -> None:
    """Rows stored twice before 0006 keep the earliest waiting; the index can then be built."""
    from flask_migrate import upgrade

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "k",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.sqlite'}",
        }
    )
    with app.app_context():
        upgrade(revision="0005_lti_tool")
        with db.engine.begin() as connection:  # SQLite checks no foreign keys here
            for submission_id in (1, 2, 3):
                connection.execute(
                    sa.text(
                        "INSERT INTO evidence_submission (id, user_id, module_id, description, "
                        "status, submitted_at) VALUES (:id, 1, 1, 'twin', 'submitted', "
                        "'2026-01-01')"
                    ),
                    {"id": submission_id},
                )
            connection.execute(
                sa.text(
                    "INSERT INTO evidence_submission (id, user_id, module_id, description, "
                    "status, submitted_at) VALUES (4, 1, 2, 'other module', 'submitted', "
                    "'2026-01-01')"
                )
            )
        upgrade()
        with db.engine.connect() as connection:
            statuses = connection.execute(
                sa.text("SELECT id, status FROM evidence_submission ORDER BY id")
            ).all()
        assert statuses == [(1, "submitted"), (2, "returned"), (3, "returned"), (4, "submitted")]


# --- integer ids ----------------------------------------------------------------------------------


def _id_rules() -> list[Rule]:
    app = create_app({"TESTING": True, "SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    return sorted(
        (rule for rule in app.url_map.iter_rules() if "int" in rule.rule),
        key=lambda rule: rule.rule,
    )


ID_RULES = _id_rules()
HUGE_IDS = [2**31, 2**63, 10**30]


def _url(rule: Rule, number: int) -> str:
    """The rule's path with `number` for every integer and a plausible word elsewhere (one of
    the choices where the rule only takes some, e.g. `<any(region,organisation):kind>`)."""

    def word(name: str) -> str:
        converter = rule._converters.get(name)  # noqa: SLF001 (werkzeug keeps them here)
        if isinstance(converter, AnyConverter):
            return sorted(converter.items)[0]
        return "evidence" if name == "kind" else "x"

    values = {
        name: number if f"<int:{name}>" in rule.rule else word(name) for name in rule.arguments
    }
    return rule.build(values)[1]  # type: ignore[index]


def test_id_routes_are_found() -> None:
    assert len(ID_RULES) >= 10
    assert all(_url(rule, 7).count("7") >= 1 for rule in ID_RULES)


@pytest.mark.parametrize("rule", ID_RULES, ids=lambda rule: rule.rule)
def test_ids_the_database_cannot_hold_are_not_routed(rule: Rule) -> None:
    app = create_app({"TESTING": True, "SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    adapter = app.url_map.bind("campus.test")
    for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
        endpoint, _values = adapter.match(_url(rule, MAX_ID), method=method)
        assert endpoint == rule.endpoint  # the largest INTEGER still reaches the view
        for number in HUGE_IDS:
            with pytest.raises(NotFound) as raised:
                adapter.match(_url(rule, number), method=method)
            assert not isinstance(raised.value, MethodNotAllowed)


@pytest.fixture
def admin(client: FlaskClient, make_user: Callable[..., int], auth: AuthActions) -> FlaskClient:
    make_user("admin@example.org", roles={Role.ADMIN, Role.REVIEWER, Role.ORG_ADMIN})
    assert auth.login("admin@example.org").status_code == 302
    return client


@pytest.mark.parametrize("rule", ID_RULES, ids=lambda rule: rule.rule)
def test_huge_ids_answer_404_to_an_admin(admin: FlaskClient, rule: Rule) -> None:
    """In tests an unexpected exception is raised, not rendered: a 500 would fail loudly here."""
    for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
        for number in HUGE_IDS:
            response = admin.open(_url(rule, number), method=method)
            assert response.status_code == 404, (method, number)


@pytest.mark.parametrize("value", [str(2**31), str(2**63), "9" * 5000, "abc", "-1", "1e3"])
def test_ids_in_query_strings_and_forms_never_fail(admin: FlaskClient, value: str) -> None:
    assert admin.get(f"/manage/users?organisation={value}").status_code == 404
    assert admin.get(f"/manage/users?page={value}").status_code == 200  # the first page
    response = admin.post(
        "/lti/tool/platforms",
        data={
            "name": "LMS",
            "issuer": "https://lms.example.org",
            "client_id": "c",
            "auth_login_url": "https://lms.example.org/auth",
            "auth_token_url": "https://lms.example.org/token",
            "jwks_url": "https://lms.example.org/jwks",
            "deployment_ids": "1",
            "organisation_id": value,
        },
    )
    assert response.status_code == 400
    response = admin.post(
        "/lti/tool/register",
        data={"openid_configuration": "https://lms.example.org/c", "organisation_id": value},
    )
    assert response.status_code == 400


def test_id_and_page_parsing() -> None:
    assert [parse_id(v) for v in ("1", " 42 ", str(MAX_ID))] == [1, 42, MAX_ID]
    assert {parse_id(v) for v in (None, "", "0", "-3", "x", "٣", str(MAX_ID + 1), "9" * 5000)} == {
        None
    }
    assert [page_number(v) for v in ("3", None, "0", "-2", "abc", "9" * 40)] == [3, 1, 1, 1, 1, 1]


# --- content: nesting and links out of the tree -------------------------------------------------


def _module_snapshot() -> list[tuple[str, str]]:
    return [
        (module.slug, module.content_hash)
        for module in db.session.execute(db.select(Module).order_by(Module.id)).scalars()
    ]


def _check_and_sync(app: Flask, content: Path, badges: Path = TEST_BADGES) -> tuple[str, str]:
    """Run both commands; both must refuse (exit 1, no traceback) and import nothing."""
    runner = app.test_cli_runner()
    with app.app_context():
        before = _module_snapshot()
    dirs = ["--dir", str(content), "--badges-dir", str(badges)]
    check = runner.invoke(args=["content", "check", *dirs])
    sync = runner.invoke(args=["content", "sync", *dirs])
    for result in (check, sync):
        assert result.exit_code == 1, result.output
        assert isinstance(result.exception, SystemExit), result.exception
        assert "Traceback" not in result.output
    assert "Nothing was imported." in sync.output
    with app.app_context():
        assert _module_snapshot() == before
    return check.output, sync.output


DEEP_ARRAYS = "[" * 900 + "]" * 900
DEEP_TABLES = "{ a = " * 900 + "1" + " }" * 900


@pytest.mark.parametrize(
    ("value", "line_offset"),
    [
        (DEEP_ARRAYS, 0),
        (DEEP_TABLES, 0),
        (f"[\n{'[' * 40}1{']' * 40}\n]", 1),
        ("[" * 33 + "]" * 33, 0),
    ],
    ids=["900 arrays", "900 inline tables", "40 arrays on the next line", "33 arrays"],
)
def test_a_deeply_nested_manifest_is_a_problem_not_a_crash(
    app: Flask, runner_dir: Path, value: str, line_offset: int
) -> None:
    manifest = runner_dir / "paths/advanced/deep-dive/module.toml"
    text = manifest.read_text()
    line = text.count("\n") + 1 + line_offset
    manifest.write_text(f"{text}deep = {value}\n")
    check, sync = _check_and_sync(app, runner_dir)
    expected = f"content/paths/advanced/deep-dive/module.toml:{line}: the file nests too deeply"
    assert expected in check
    assert expected in sync


def test_deep_dotted_keys_are_a_problem_at_their_line(app: Flask, runner_dir: Path) -> None:
    theme = runner_dir / "themes/alpha.toml"
    text = theme.read_text()
    line = text.count("\n") + 1
    theme.write_text(text + ".".join(["k"] * 2000) + " = 1\n")
    check, _sync = _check_and_sync(app, runner_dir)
    assert f"content/themes/alpha.toml:{line}: the file nests too deeply" in check


def test_a_deeply_nested_markdown_body_is_a_problem(app: Flask, runner_dir: Path) -> None:
    body = runner_dir / "paths/basics/welcome/module.en.md"
    # 300 levels: under the 200 kB limit for a body, over what the renderer can follow.
    body.write_text("# Welcome\n\n" + "".join("    " * n + "- x\n" for n in range(300)))
    check, _sync = _check_and_sync(app, runner_dir)
    assert "content/paths/basics/welcome/module.en.md:302: lists or quotes nest too deeply" in check


def test_deeply_nested_badge_criteria_are_a_problem(
    app: Flask, runner_dir: Path, tmp_path: Path
) -> None:
    import shutil

    badges = tmp_path / "badges"
    shutil.copytree(TEST_BADGES, badges)
    manifest = badges / "reviewed/badge.toml"
    deep = "".join("    " * n + "- x\\n" for n in range(300))
    manifest.write_text(
        manifest.read_text().replace('en = "Send evidence."', f'en = "{deep}"'), encoding="utf-8"
    )
    check, _sync = _check_and_sync(app, runner_dir, badges)
    assert "badges/reviewed/badge.toml:4: lists or quotes nest too deeply" in check


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A file outside the content tree (as /etc/passwd or the instance config would be)."""
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    secret = outside / "secret.md"
    secret.write_text("# Secret\n\nSECRET_KEY = do-not-show\n")
    return secret


def test_a_body_linked_from_outside_the_content_tree_is_refused(
    app: Flask, runner_dir: Path, secret: Path
) -> None:
    body = runner_dir / "paths/basics/welcome/module.en.md"
    body.unlink()
    body.symlink_to(secret)
    check, _sync = _check_and_sync(app, runner_dir)
    assert "content/paths/basics/welcome/module.en.md:1: links to a file outside content/" in check
    with app.app_context():
        assert "do-not-show" not in str(_module_snapshot())
        welcome = services.get_module(services.get_path("basics"), "welcome")
        assert "do-not-show" not in welcome.body_html["en"]


def test_a_linked_folder_or_manifest_from_outside_is_refused(
    app: Flask, runner_dir: Path, secret: Path
) -> None:
    manifest = runner_dir / "paths/basics/extra-reading/module.toml"
    outside_manifest = secret.parent / "module.toml"
    outside_manifest.write_text(manifest.read_text())
    manifest.unlink()
    manifest.symlink_to(outside_manifest)
    check, _sync = _check_and_sync(app, runner_dir)
    assert "content/paths/basics/extra-reading/module.toml:1: links to a file outside" in check


def test_links_inside_the_content_tree_still_work(app: Flask, runner_dir: Path) -> None:
    body = runner_dir / "paths/basics/welcome/module.sv.md"
    body.unlink(missing_ok=True)
    body.symlink_to(runner_dir / "paths/basics/welcome/module.en.md")
    result = app.test_cli_runner().invoke(
        args=["content", "check", "--dir", str(runner_dir), "--badges-dir", str(TEST_BADGES)]
    )
    assert result.exit_code == 0, result.output


def test_badge_artwork_linked_from_outside_the_badges_folder_is_refused(
    app: Flask, runner_dir: Path, tmp_path: Path
) -> None:
    import shutil

    badges = tmp_path / "badges"
    shutil.copytree(TEST_BADGES, badges)
    outside = tmp_path / "elsewhere.png"
    outside.write_bytes((badges / "reviewed/image.png").read_bytes())
    (badges / "reviewed/image.png").unlink()
    (badges / "reviewed/image.png").symlink_to(outside)
    check, _sync = _check_and_sync(app, runner_dir, badges)
    assert "badges/reviewed/image.png:1: links to a file outside badges/" in check


# --- evidence files are private ------------------------------------------------------------------


def test_uploaded_evidence_is_readable_by_the_service_only(learner: User, tmp_path: Path) -> None:
    upload_dir = tmp_path / "instance/uploads"
    old_umask = os.umask(0o022)
    try:
        submission = submit_evidence(
            learner,
            services.get_module(services.get_path("advanced"), "show-your-work"),
            DESCRIPTION,
            None,
            EvidenceFile("plan.pdf", io.BytesIO(b"%PDF-1.4 plan")),
            UploadRules(upload_dir, ("pdf",), 1024),
            now(),
        )
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE((upload_dir / submission.stored_name).stat().st_mode) == 0o600
    assert stat.S_IMODE(upload_dir.stat().st_mode) == 0o700


def test_an_upload_folder_left_open_is_tightened(learner: User, tmp_path: Path) -> None:
    upload_dir = tmp_path / "uploads"
    upload_dir.mkdir(mode=0o755)
    upload_dir.chmod(0o755)
    apply_for_badge(
        learner,
        get_badge("reviewed"),
        DESCRIPTION,
        None,
        EvidenceFile("work.pdf", io.BytesIO(b"%PDF-1.4 work")),
        UploadRules(upload_dir, ("pdf",), 1024),
        now(),
    )
    assert stat.S_IMODE(upload_dir.stat().st_mode) == 0o700
    [stored] = upload_dir.iterdir()
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
