"""Catalogue, dashboard, path and module pages, and the activity submissions."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import send_from_directory
from flask import url_for
from flask.blueprints import BlueprintSetupState
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required
from flask_wtf import FlaskForm

from campus.clock import utcnow
from campus.extensions import db
from campus.i18n import install_template_gettext
from campus.paths import catalogue_cache
from campus.paths import kinds
from campus.paths import progress as learner_progress
from campus.paths import recommend
from campus.paths import services
from campus.paths.activities import ActivityError
from campus.paths.forms import ActionForm
from campus.paths.models import Audience
from campus.paths.models import EvidenceSubmission
from campus.paths.models import LearningPath
from campus.paths.models import Module
from campus.paths.uploads import UploadRules

bp = Blueprint("paths", __name__)


@bp.record_once
def _install_template_gettext(state: BlueprintSetupState) -> None:
    # Registered after Flask-Babel's init_app, whose template gettext this replaces.
    install_template_gettext(state.app)


def _path_or_404(slug: str, *options: Any) -> LearningPath:
    path = services.get_path(slug, *options)
    if path is None:
        abort(404)
    return path


def _module_or_404(path_slug: str, module_slug: str) -> tuple[LearningPath, Module]:
    path = _path_or_404(path_slug)
    module = services.get_module(path, module_slug)
    if module is None:
        abort(404)
    return path, module


def _module_url(module: Module) -> str:
    return url_for("paths.module", path_slug=module.path.slug, module_slug=module.slug)


def _announce(result: services.CompletionResult | None) -> None:
    """One banner: the path's completion says the module's too (the page shows what is next)."""
    if result is None:
        return
    if result.path_completion is not None:
        flash(_("Congratulations! You completed the whole path."), "success")
    elif result.created:
        flash(_("Module completed."), "success")


def _guard_prerequisites(path: LearningPath):  # type: ignore[no-untyped-def]
    """Work on a path waits until its prerequisites are done; returns a redirect or None."""
    missing = services.missing_prerequisites(current_user, path)
    if missing:
        flash(_("Complete the prerequisite paths first."), "error")
        return redirect(url_for("paths.path_detail", slug=path.slug))
    return None


@bp.get("/")
def catalogue():
    """Every theme's paths; `audience` and `q` filter them (instantly with JavaScript, through
    this GET form without); "for you" lists paths for the person's role and assessment."""
    audience = request.args.get("audience") or None
    if audience is not None and audience not in {a.value for a in Audience}:
        audience = None
    query = (request.args.get("q") or "").strip()[:100]
    content = catalogue_cache.current()
    every = [(theme, content.active_paths(theme)) for theme in content.themes]
    sections = [
        (theme, [p for p in paths if (audience is None or audience in p.audience)])
        for theme, paths in every
    ]
    if query:
        sections = [(t, [p for p in paths if recommend.matches(p, query)]) for t, paths in sections]
    if audience is not None or query:  # a filter leaves no empty theme sections behind
        sections = [(theme, paths) for theme, paths in sections if paths]
    all_paths = [p for _t, paths in every for p in paths]
    progress = {}
    suggestions: list[recommend.Suggestion] = []
    assessment = None
    if current_user.is_authenticated:
        progress = learner_progress.progress_for_paths(current_user, all_paths)
        done = {path_id for path_id, p in progress.items() if p.is_complete}
        assessment = recommend.latest_assessment(current_user)
        suggestions = recommend.for_you(current_user, all_paths, done, response=assessment)
    return render_template(
        "paths/catalogue.html",
        sections=sections,
        progress=progress,
        audience=audience,
        audiences=list(Audience),
        query=query,
        shown=sum(len(paths) for _t, paths in sections),
        suggestions=suggestions,
        has_assessment=assessment is not None,
        search_text=recommend.search_text,
        art=content.art,
    )


@bp.get("/dashboard")
@login_required
def dashboard():
    paths = learner_progress.my_paths_in(catalogue_cache.current(), current_user)
    in_progress = [p for p in paths if not p.is_complete]
    completed = [p for p in paths if p.is_complete]
    return render_template(
        "paths/dashboard.html",
        in_progress=in_progress,
        completed=completed,
        earned=services.earned_path_badges(current_user, [p.path for p in completed]),
    )


def _offered_or_404(slug: str) -> catalogue_cache.PathEntry:
    """The path from the catalogue copy (its modules' headings, no bodies)."""
    path = catalogue_cache.current().offered_path(slug)
    if path is None:
        abort(404)
    return path


@bp.get("/paths/<slug>")
def path_detail(slug: str):
    path = _offered_or_404(slug)
    user = current_user if current_user.is_authenticated else None
    progress = learner_progress.path_progress(user, path)
    badge, earned = services.path_badge_and_award(user, path.id)
    return render_template(
        "paths/path.html",
        path=path,
        progress=progress,
        form=ActionForm(),
        badge=badge,
        earned=earned,
    )


@bp.post("/paths/<slug>/enrol")
@login_required
def enrol(slug: str):
    path = _path_or_404(slug)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        services.enroll(current_user, path, utcnow())
    except ActivityError as error:
        flash(str(error), "error")
        return redirect(url_for("paths.path_detail", slug=slug))
    db.session.commit()
    progress = services.path_progress(current_user, path)
    if progress.done_module_ids:  # enrolled again after leaving: the completions were kept
        flash(_("You are enrolled again: you continue where you left off."), "success")
    else:
        flash(_("You are enrolled. Good luck!"), "success")
    if progress.next_module is not None:
        return redirect(_module_url(progress.next_module))
    return redirect(url_for("paths.path_detail", slug=slug))


@bp.get("/paths/<path_slug>/<module_slug>")
@login_required
def module(path_slug: str, module_slug: str):
    # The path and its module list come from the catalogue copy; only this module's row (its
    # body and settings, which the kind reads) is loaded.
    path = _offered_or_404(path_slug)
    entry = next((m for m in path.active_modules if m.slug == module_slug), None)
    module = db.session.get(Module, entry.id) if entry is not None else None
    if module is None or module.is_retired:
        abort(404)
    return _render_module(path, module)


def _kind_or_404(module: Module) -> type[kinds.ModuleKindType]:
    kind = kinds.get(module.kind)
    if kind is None:  # stored by a kind that is no longer registered
        abort(404)
    return kind


def _render_module(
    path: LearningPath | catalogue_cache.PathEntry,
    module: Module,
    status: int = 200,
    form: FlaskForm | None = None,
    error: ActivityError | None = None,
    **extra: Any,
):  # type: ignore[no-untyped-def]
    """The page, with the kind's own activity box; `form` is a refused one, shown again, and
    `error` why it was refused (beside its field, or above the form). `extra` goes into the
    page's context as it is, for the module page and every kind's partial."""
    kind = _kind_or_404(module)
    progress = services.path_progress(current_user, path)
    modules = path.active_modules
    index = [m.id for m in modules].index(module.id)
    context: dict[str, Any] = {
        "path": path,
        "module": module,
        "kind": kind,
        "progress": progress,
        "is_done": module.id in progress.done_module_ids,
        "previous_module": modules[index - 1] if index > 0 else None,
        "following_module": modules[index + 1] if index + 1 < len(modules) else None,
        "submit_url": url_for("paths.submit", path_slug=path.slug, module_slug=module.slug),
        **extra,
    }
    context.update(kind.page_context(module, current_user, form))
    # Shown above the form when it belongs to none of its fields (the fields carry their own).
    on_field = error is not None and kinds.attach_error(context.get("form"), error)
    context["activity_error"] = None if error is None or on_field else str(error)
    if context["activity_error"] and not kind.shows_own_errors:
        flash(context["activity_error"], "error")
    context["activity"] = kind.render(context)
    return render_template("paths/module.html", **context), status


# The URLs each built-in kind posted to before the one submit route; forms elsewhere still use
# them. A post to one of them for a module of another kind is a 404, as it always was.
_OLD_SUBMIT_URLS = {
    "done": "read",
    "quiz": "quiz",
    "reflection": "reflection",
    "evidence": "evidence",
}


@bp.route("/paths/<path_slug>/<module_slug>/submit", methods=["GET", "POST"])
@bp.route(
    "/paths/<path_slug>/<module_slug>/<any(done, quiz, reflection, evidence):old>",
    methods=["GET", "POST"],
)
@login_required
def submit(path_slug: str, module_slug: str, old: str | None = None):
    """Every kind's activity posts here; the module's kind judges the submission.

    A refused submission is shown again (400) with what was typed or chosen; an accepted one
    redirects to the module page. Opened again (reload, history, a bookmark), the address
    leads to the module page.
    """
    path, module = _module_or_404(path_slug, module_slug)
    if request.method == "GET":
        return redirect(_module_url(module))
    kind = _kind_or_404(module)
    if not kind.takes_submissions or (old is not None and _OLD_SUBMIT_URLS[old] != kind.key):
        abort(404)
    form = kind.form()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors or not form.errors:
            abort(400)
        return _render_module(path, module, status=400, form=form)
    if (blocked := _guard_prerequisites(path)) is not None:
        return blocked
    submission = kinds.Submission(form, request.form, utcnow(), current_app.config)
    try:
        result = kind.submit(current_user, module, submission)
    except ActivityError as error:
        return _render_module(path, module, status=400, form=form, error=error)
    db.session.commit()
    for message, category in result.messages:
        flash(message, category)
    _announce(result.completion)
    anchor = f"#{result.anchor}" if result.anchor else ""
    return redirect(_module_url(module) + anchor)


@bp.get("/evidence/<int:submission_id>/file")
@login_required
def evidence_file(submission_id: int):
    """The submitter downloads their own file (reviewers get theirs with the review work)."""
    submission = db.get_or_404(EvidenceSubmission, submission_id)
    if submission.user_id != current_user.id or not submission.stored_name:
        abort(404)
    return send_from_directory(
        UploadRules.from_config(current_app.config).directory,
        submission.stored_name,
        as_attachment=True,
        download_name=submission.file_name,
    )
