"""Catalogue, dashboard, path and module pages, and the activity submissions."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from pathlib import Path

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import send_from_directory
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required

from campus.extensions import db
from campus.i18n import pick
from campus.paths import services
from campus.paths.activities import grade_quiz
from campus.paths.activities import is_multiple_answer
from campus.paths.forms import ActionForm
from campus.paths.forms import EvidenceForm
from campus.paths.forms import ReflectionForm
from campus.paths.models import Audience
from campus.paths.models import EvidenceSubmission
from campus.paths.models import LearningPath
from campus.paths.models import Module
from campus.paths.models import ModuleKind

bp = Blueprint("paths", __name__)


def _now() -> datetime:
    return datetime.now(UTC)


def _path_or_404(slug: str) -> LearningPath:
    path = services.get_path(slug)
    if path is None:
        abort(404)
    return path


def _module_or_404(path_slug: str, module_slug: str) -> tuple[LearningPath, Module]:
    path = _path_or_404(path_slug)
    module = services.get_module(path, module_slug)
    if module is None:
        abort(404)
    return path, module


def _activity_or_404(
    path_slug: str, module_slug: str, kind: ModuleKind
) -> tuple[LearningPath, Module]:
    path, module = _module_or_404(path_slug, module_slug)
    if module.kind != kind:
        abort(404)
    return path, module


def _invalid_form(path: LearningPath, module: Module, form_name: str, form):  # type: ignore[no-untyped-def]
    """A missing CSRF token is a 400 page; other field errors re-render the module with them."""
    if form.csrf_token.errors:
        abort(400)
    return _render_module(path, module, status=400, **{form_name: form})


def _module_url(module: Module) -> str:
    return url_for("paths.module", path_slug=module.path.slug, module_slug=module.slug)


def _announce(result: services.CompletionResult | None) -> None:
    if result is None:
        return
    if result.created:
        flash(_("Module completed."), "success")
    if result.path_completion is not None:
        flash(_("Congratulations! You completed the whole path."), "success")
    for reward in result.rewards:
        for assertion in [reward.assertion, *reward.milestones]:
            flash(
                _(
                    "You earned the badge “%(name)s”. Find it in My badges.",
                    name=pick(assertion.badge_class.name),
                ),
                "success",
            )


def _guard_prerequisites(path: LearningPath):  # type: ignore[no-untyped-def]
    """Work on a path waits until its prerequisites are done; returns a redirect or None."""
    missing = services.missing_prerequisites(current_user, path)
    if missing:
        flash(_("Complete the prerequisite paths first."), "error")
        return redirect(url_for("paths.path_detail", slug=path.slug))
    return None


@bp.get("/")
def catalogue():
    audience = request.args.get("audience") or None
    if audience is not None and audience not in {a.value for a in Audience}:
        audience = None
    themes = services.list_themes()
    sections = [(theme, services.active_paths(theme, audience)) for theme in themes]
    progress = {}
    if current_user.is_authenticated:
        progress = services.progress_for_paths(
            current_user, [p for _t, paths in sections for p in paths]
        )
    return render_template(
        "paths/catalogue.html",
        sections=sections,
        progress=progress,
        audience=audience,
        audiences=list(Audience),
    )


@bp.get("/dashboard")
@login_required
def dashboard():
    paths = services.my_paths(current_user)
    in_progress = [p for p in paths if not p.is_complete]
    completed = [p for p in paths if p.is_complete]
    return render_template("paths/dashboard.html", in_progress=in_progress, completed=completed)


@bp.get("/paths/<slug>")
def path_detail(slug: str):
    path = _path_or_404(slug)
    user = current_user if current_user.is_authenticated else None
    progress = services.path_progress(user, path)
    return render_template("paths/path.html", path=path, progress=progress, form=ActionForm())


@bp.post("/paths/<slug>/enrol")
@login_required
def enrol(slug: str):
    path = _path_or_404(slug)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        services.enroll(current_user, path, _now())
    except services.ActivityError as error:
        flash(str(error), "error")
        return redirect(url_for("paths.path_detail", slug=slug))
    db.session.commit()
    progress = services.path_progress(current_user, path)
    flash(_("You are enrolled. Good luck!"), "success")
    if progress.next_module is not None:
        return redirect(_module_url(progress.next_module))
    return redirect(url_for("paths.path_detail", slug=slug))


@bp.get("/paths/<path_slug>/<module_slug>")
@login_required
def module(path_slug: str, module_slug: str):
    path, module = _module_or_404(path_slug, module_slug)
    return _render_module(path, module)


def _render_module(path: LearningPath, module: Module, status: int = 200, **forms):  # type: ignore[no-untyped-def]
    progress = services.path_progress(current_user, path)
    modules = path.active_modules
    index = modules.index(module)
    context = {
        "path": path,
        "module": module,
        "progress": progress,
        "is_done": module.id in progress.done_module_ids,
        "previous_module": modules[index - 1] if index > 0 else None,
        "following_module": modules[index + 1] if index + 1 < len(modules) else None,
        "action_form": ActionForm(),
    }
    if module.kind == ModuleKind.QUIZ:
        attempts = services.quiz_attempts(current_user, module)
        last_attempt = attempts[0] if attempts else None
        feedback = {}
        if last_attempt is not None:
            graded = grade_quiz(module.settings, last_attempt.answers)
            feedback = {result.question_id: result.is_correct for result in graded.results}
        context.update(
            attempts=attempts,
            attempts_left=services.attempts_left(current_user, module),
            is_multiple=is_multiple_answer,
            last_attempt=last_attempt,
            question_feedback=feedback,
        )
    elif module.kind == ModuleKind.REFLECTION:
        latest = services.latest_reflection(current_user, module)
        form = forms.pop("reflection_form", None) or ReflectionForm(
            text=latest.text if latest else ""
        )
        context.update(reflection_form=form, latest_reflection=latest)
    elif module.kind == ModuleKind.EVIDENCE:
        context.update(
            evidence_form=forms.pop("evidence_form", None) or EvidenceForm(),
            submissions=services.evidence_submissions(current_user, module),
            max_megabytes=current_app.config["EVIDENCE_MAX_BYTES"] // (1024 * 1024),
            extensions=current_app.config["EVIDENCE_EXTENSIONS"],
        )
    return render_template("paths/module.html", **context), status


@bp.post("/paths/<path_slug>/<module_slug>/done")
@login_required
def mark_done(path_slug: str, module_slug: str):
    path, module = _activity_or_404(path_slug, module_slug, ModuleKind.READ)
    if not ActionForm().validate_on_submit():
        abort(400)
    if (blocked := _guard_prerequisites(path)) is not None:
        return blocked
    try:
        result = services.mark_read(current_user, module, _now())
    except services.ActivityError as error:
        abort(400, description=str(error))
    db.session.commit()
    _announce(result)
    return redirect(_module_url(module))


@bp.post("/paths/<path_slug>/<module_slug>/quiz")
@login_required
def submit_quiz(path_slug: str, module_slug: str):
    path, module = _activity_or_404(path_slug, module_slug, ModuleKind.QUIZ)
    if not ActionForm().validate_on_submit():
        abort(400)
    if (blocked := _guard_prerequisites(path)) is not None:
        return blocked
    answers = {
        question["id"]: request.form.getlist(f"q-{question['id']}")
        for question in module.settings["questions"]
    }
    try:
        attempt, grade, result = services.submit_quiz(current_user, module, answers, _now())
    except services.ActivityError as error:
        flash(str(error), "error")
        return _render_module(path, module, status=400)
    db.session.commit()
    if grade.passed:
        flash(
            _(
                "You passed with %(score)s%% (%(correct)d/%(total)d).",
                score=grade.score,
                correct=grade.correct,
                total=grade.total,
            ),
            "success",
        )
    else:
        flash(
            _(
                "You got %(score)s%% (%(correct)d/%(total)d); %(pass_mark)d%% is needed to pass. "
                "Read the explanations and try again.",
                score=grade.score,
                correct=grade.correct,
                total=grade.total,
                pass_mark=module.settings["pass_mark"],
            ),
            "error",
        )
    _announce(result)
    return redirect(_module_url(module) + "#quiz-result")


@bp.post("/paths/<path_slug>/<module_slug>/reflection")
@login_required
def submit_reflection(path_slug: str, module_slug: str):
    path, module = _activity_or_404(path_slug, module_slug, ModuleKind.REFLECTION)
    form = ReflectionForm()
    if not form.validate_on_submit():
        return _invalid_form(path, module, "reflection_form", form)
    if (blocked := _guard_prerequisites(path)) is not None:
        return blocked
    try:
        _answer, result = services.submit_reflection(current_user, module, form.text.data, _now())
    except services.ActivityError as error:
        flash(str(error), "error")
        return _render_module(path, module, status=400, reflection_form=form)
    db.session.commit()
    flash(_("Your reflection was saved."), "success")
    _announce(result)
    return redirect(_module_url(module))


@bp.post("/paths/<path_slug>/<module_slug>/evidence")
@login_required
def submit_evidence(path_slug: str, module_slug: str):
    path, module = _activity_or_404(path_slug, module_slug, ModuleKind.EVIDENCE)
    form = EvidenceForm()
    if not form.validate_on_submit():
        return _invalid_form(path, module, "evidence_form", form)
    if (blocked := _guard_prerequisites(path)) is not None:
        return blocked
    upload = form.file.data
    evidence_file = (
        services.EvidenceFile(upload.filename, upload.stream)
        if upload and upload.filename
        else None
    )
    try:
        services.submit_evidence(
            current_user,
            module,
            form.description.data,
            form.link.data,
            evidence_file,
            Path(current_app.config["UPLOAD_DIR"]),
            current_app.config["EVIDENCE_EXTENSIONS"],
            current_app.config["EVIDENCE_MAX_BYTES"],
            _now(),
        )
    except services.ActivityError as error:
        flash(str(error), "error")
        return _render_module(path, module, status=400, evidence_form=form)
    db.session.commit()
    flash(_("Your evidence was submitted. A reviewer will look at it."), "success")
    return redirect(_module_url(module))


@bp.get("/evidence/<int:submission_id>/file")
@login_required
def evidence_file(submission_id: int):
    """The submitter downloads their own file (reviewers get theirs with the review work)."""
    submission = db.get_or_404(EvidenceSubmission, submission_id)
    if submission.user_id != current_user.id or not submission.stored_name:
        abort(404)
    return send_from_directory(
        current_app.config["UPLOAD_DIR"],
        submission.stored_name,
        as_attachment=True,
        download_name=submission.file_name,
    )
