"""Module kinds are a registry: a kind defined here, and nowhere else, is checked, synced,
shown, submitted and completed like the built-in ones."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask import render_template_string
from flask.testing import FlaskClient
from markupsafe import Markup

from campus.auth.models import User
from campus.extensions import db
from campus.paths import kinds
from campus.paths import services
from campus.paths.activities import ActivityError
from campus.paths.kinds.evidence import submit_evidence
from campus.paths.manifest import ManifestReader
from campus.paths.models import Completion
from campus.paths.models import CompletionSource
from campus.paths.models import EvidenceStatus
from campus.paths.models import EvidenceSubmission
from campus.paths.models import Module
from campus.paths.models import ModuleKind
from campus.paths.models import PathCompletion
from campus.paths.uploads import EvidenceFile
from campus.paths.uploads import UploadRules
from tests.conftest import now

# The kind's partial is its own: rendered from this string, not from a file under templates/.
CHECKLIST_HTML = """
<h2 id="activity-heading">Checklist</h2>
{% if is_done %}<p>All ticked.</p>{% endif %}
<form method="post" action="{{ submit_url }}">
  {{ form.hidden_tag() }}
  {% for item in module.settings["items"] %}
    <label><input type="checkbox" name="item" value="{{ loop.index }}"> {{ item|tr }}</label>
  {% endfor %}
  <button type="submit">Tick</button>
</form>
"""


class Checklist(kinds.ModuleKindType):
    """Every item must be ticked."""

    key = "checklist"
    label = "Checklist"
    settings_keys = frozenset({"items"})

    @classmethod
    def read_settings(cls, reader: ManifestReader) -> dict[str, Any]:
        raw = reader.data.get("items")
        if not isinstance(raw, list) or len(raw) < 2:
            reader.report_key("items", "a checklist needs at least two `items`")
            return {}
        return {"items": [reader.texts(f"items[{i}]", item) for i, item in enumerate(raw)]}

    @classmethod
    def render(cls, context: dict[str, Any]) -> Markup:
        return Markup(render_template_string(CHECKLIST_HTML, **context))

    @classmethod
    def submit(cls, user: User, module: Module, submission: kinds.Submission) -> kinds.SubmitResult:
        ticked = set(submission.data.getlist("item"))
        if ticked != {str(n) for n in range(1, len(module.settings["items"]) + 1)}:
            raise ActivityError("Tick every item first.")
        completion = services.complete_module(user, module, CompletionSource.SELF, submission.now)
        return kinds.SubmitResult(completion, [("Checklist done.", "success")])

    @classmethod
    def badge_evidence(cls, user: User, module: Module) -> list[dict[str, Any]]:
        done = services.done_module_ids(user, [module.id])
        return [{"narrative": f"Ticked the checklist {module.slug}."}] if done else []


@pytest.fixture
def checklist() -> Iterator[type[Checklist]]:
    kinds.register(Checklist)
    yield Checklist
    kinds.unregister(Checklist.key)


BAD_MODULE = 'version = 1\nkind = "checklist"\ntitle = { fi = "Lista", en = "List" }\nitems = []\n'
GOOD_ITEMS = 'items = [{ fi = "Yksi", en = "One" }, { fi = "Kaksi", en = "Two" }]\n'


def _add_checklist(content: Path, manifest: str) -> None:
    folder = content / "paths/basics/ticks"
    folder.mkdir(exist_ok=True)
    (folder / "module.toml").write_text(manifest, encoding="utf-8")
    (folder / "module.fi.md").write_text("Rastita.\n", encoding="utf-8")
    (folder / "module.en.md").write_text("Tick them.\n", encoding="utf-8")
    path_toml = content / "paths/basics/path.toml"
    text = path_toml.read_text(encoding="utf-8")
    if '"ticks"' not in text:
        path_toml.write_text(text.replace('"extra-reading"]', '"extra-reading", "ticks"]'))


def test_a_kind_registered_by_a_test_works_end_to_end(
    app: Flask, client: FlaskClient, auth, make_user, runner_dir: Path, checklist: type
) -> None:
    user_id = make_user()
    runner = app.test_cli_runner()

    # Checked: a bad setting is a file:line problem, a good one passes.
    _add_checklist(runner_dir, BAD_MODULE)
    bad = runner.invoke(args=["content", "check", "--dir", str(runner_dir)])
    assert bad.exit_code == 1
    assert "content/paths/basics/ticks/module.toml:4: a checklist needs at least two `items`" in (
        bad.output
    )
    _add_checklist(runner_dir, BAD_MODULE.replace("items = []\n", GOOD_ITEMS))
    ok = runner.invoke(args=["content", "check", "--dir", str(runner_dir)])
    assert ok.exit_code == 0 and "7 modules" in ok.output, ok.output

    # Synced.
    synced = runner.invoke(args=["content", "sync", "--dir", str(runner_dir)])
    assert synced.exit_code == 0 and "created  module basics/ticks" in synced.output

    # Shown on the module page, with the kind's label and its own partial.
    auth.login()
    page = client.get("/paths/basics/ticks").get_data(as_text=True)
    assert "Checklist ·" in page and 'name="item" value="2"> Two' in page
    assert 'action="/paths/basics/ticks/submit"' in page

    # Submitted through the one submit route: refused, then completed.
    refused = client.post("/paths/basics/ticks/submit", data={"item": ["1"]})
    assert refused.status_code == 400 and "Tick every item first." in refused.get_data(as_text=True)
    done = client.post("/paths/basics/ticks/submit", data={"item": ["1", "2"]})
    assert done.status_code == 302 and done.headers["Location"].endswith("/paths/basics/ticks")
    assert "All ticked." in client.get("/paths/basics/ticks").get_data(as_text=True)
    with app.app_context():
        module = services.get_module(services.get_path("basics"), "ticks")
        completion = db.session.execute(
            db.select(Completion).where(Completion.module_id == module.id)
        ).scalar_one()
        assert completion.user_id == user_id and completion.source == "self"
        # Its badge evidence joins the others'.
        user = db.session.get(User, user_id)
        assert kinds.badge_evidence(user, services.get_path("basics").active_modules) == [
            {"narrative": "Ticked the checklist ticks."}
        ]
        # The old per-kind addresses do not take the new kind.
        assert client.post("/paths/basics/ticks/done").status_code == 404


def test_an_unregistered_kind_is_refused_by_the_checker(runner_dir: Path) -> None:
    from campus.paths.content import load_tree

    _add_checklist(runner_dir, BAD_MODULE.replace("items = []\n", GOOD_ITEMS))
    problems = [str(p) for p in load_tree(runner_dir).problems]
    assert problems == [
        "content/paths/basics/ticks/module.toml:2: `kind` must be one of: "
        "evidence, lti, quiz, read, reflection"
    ]


def test_built_in_kinds_keep_their_stored_keys() -> None:
    stored = {"read", "quiz", "reflection", "evidence", "lti"}
    assert {k.value for k in ModuleKind} == stored == {k.key for k in kinds.all_kinds()}
    assert ModuleKind.EVIDENCE == "evidence" and kinds.get("evidence").key == "evidence"
    assert kinds.get("poll") is None
    with pytest.raises(ValueError):
        kinds.register(type("Twin", (kinds.ModuleKindType,), {"key": "quiz", "label": "Twin"}))


def test_the_submit_route_takes_only_what_the_kind_takes(
    app: Flask, client: FlaskClient, auth, make_user, runner_dir: Path
) -> None:
    module = runner_dir / "paths/advanced/deep-dive/module.toml"
    text = module.read_text(encoding="utf-8")
    module.write_text(text.replace('kind = "read"', 'kind = "lti"\ntool = "quiz-tool"'))
    synced = app.test_cli_runner().invoke(args=["content", "sync", "--dir", str(runner_dir)])
    assert synced.exit_code == 0, synced.output
    make_user()
    auth.login()
    assert (
        client.post("/paths/advanced/deep-dive/submit").status_code == 404
    )  # the tool completes it
    assert client.post("/paths/basics/welcome/quiz").status_code == 404  # another kind's address
    assert client.post("/paths/basics/welcome/submit").status_code == 302
    assert client.post("/paths/basics/check-quiz/done").status_code == 404


def test_accepted_evidence_is_badge_evidence(learner_id: int, app: Flask, tmp_path: Path) -> None:
    with app.app_context():
        user = db.session.get(User, learner_id)
        db.session.add(
            PathCompletion(
                user_id=user.id, path_id=services.get_path("basics").id, completed_at=now()
            )
        )
        advanced = services.get_path("advanced")
        module = services.get_module(advanced, "show-your-work")
        for description, link in (
            ("The first plan, accepted by the reviewer.", "https://example.org/one"),
            ("The second plan, with a file and no link.", None),
            ("The third plan, still waiting for a review.", "https://example.org/three"),
        ):
            submission = submit_evidence(
                user,
                module,
                description,
                link,
                None if link else EvidenceFile("plan.pdf", io.BytesIO(b"%PDF plan")),
                UploadRules(tmp_path, ("pdf",), 1024),
                now(),
            )
            if "waiting" not in description:
                submission.status = EvidenceStatus.ACCEPTED
            db.session.flush()
        assert kinds.badge_evidence(user, advanced.active_modules) == [
            {
                "narrative": "The first plan, accepted by the reviewer.",
                "id": "https://example.org/one",
            },
            {"narrative": "The second plan, with a file and no link."},
        ]
        assert db.session.execute(db.select(db.func.count(EvidenceSubmission.id))).scalar() == 3


@pytest.fixture
def learner_id(make_user) -> int:
    return make_user()


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("mark_read", "read"),
        ("submit_quiz", "quiz"),
        ("attempts_left", "quiz"),
        ("quiz_attempts", "quiz"),
        ("submit_reflection", "reflection"),
        ("latest_reflection", "reflection"),
        ("submit_evidence", "evidence"),
        ("check_link", "evidence"),
    ],
)
def test_a_kinds_services_live_in_its_module_only(name: str, kind: str) -> None:
    """One place per thing: the path services do not forward to the kinds."""
    import importlib

    assert hasattr(importlib.import_module(f"campus.paths.kinds.{kind}"), name)
    assert not hasattr(services, name)


def test_evidence_forms_follow_the_configured_upload_rules(
    app: Flask, client: FlaskClient, auth, learner_id: int
) -> None:
    """The evidence page, its submit route and a badge application all read one UploadRules."""
    app.config.update(EVIDENCE_EXTENSIONS=["txt"], EVIDENCE_MAX_BYTES=2 * 1024 * 1024)
    with app.app_context():
        basics = services.get_path("basics")
        db.session.add(PathCompletion(user_id=learner_id, path_id=basics.id, completed_at=now()))
        db.session.commit()
    auth.login()
    page = client.get("/paths/advanced/show-your-work").get_data(as_text=True)
    assert "At most 2 MB. Accepted: txt" in page
    for url, text in (
        ("/paths/advanced/show-your-work/evidence", "description"),
        ("/badges/reviewed", "narrative"),
    ):
        refused = client.post(
            url,
            data={text: "My plan for the workshop.", "file": (io.BytesIO(b"%PDF"), "plan.pdf")},
            content_type="multipart/form-data",
        )
        assert "Allowed: txt" in refused.get_data(as_text=True), url
    taken = client.post(
        "/paths/advanced/show-your-work/evidence",
        data={"description": "My plan for the workshop.", "file": (io.BytesIO(b"plan"), "a.txt")},
        content_type="multipart/form-data",
    )
    assert taken.status_code == 302
    with app.app_context():
        stored = db.session.execute(db.select(EvidenceSubmission.stored_name)).scalar_one()
    assert (Path(app.config["UPLOAD_DIR"]) / stored).read_bytes() == b"plan"


def test_upload_rules_are_read_from_the_config(tmp_path: Path) -> None:
    rules = UploadRules.from_config(
        {"UPLOAD_DIR": str(tmp_path), "EVIDENCE_EXTENSIONS": ["pdf"], "EVIDENCE_MAX_BYTES": 3 << 20}
    )
    assert rules == UploadRules(tmp_path, ("pdf",), 3 << 20) and rules.max_megabytes == 3
