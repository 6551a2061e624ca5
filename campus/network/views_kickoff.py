"""The kick-off pages (on the network_groups blueprint): a scope's kit, and a group's
starting document (the question battery answered, and the responsibility matrix filled in)."""

from __future__ import annotations

from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required

from campus.clock import utcnow
from campus.extensions import db
from campus.network import access
from campus.network import kickoff as kits
from campus.network.forms_structure import RACI_CHOICE_LABELS
from campus.network.forms_structure import KickoffForm
from campus.network.forms_structure import KitForm
from campus.network.models import Group
from campus.network.structure import StructureError
from campus.network.views_groups import SCOPE
from campus.network.views_groups import bp


def _kickoff_page(  # type: ignore[no-untyped-def]
    group: Group,
    content: kits.KitContent,
    answers: list[str],
    matrix: list[list[str]],
    warnings: list[str],
    status: int = 200,
):
    return render_template(
        "network/groups/kickoff.html",
        group=group,
        content=content,
        answers=answers,
        matrix=matrix,
        warnings=warnings,
        started=kits.kickoff_of(group) is not None,
        can_edit=access.can_edit_group(current_user, group),
        form=KickoffForm(),
        letters=kits.LETTERS,
        raci_labels=RACI_CHOICE_LABELS,
        scope=access.scope_of(group),
    ), status


def _posted(content: kits.KitContent) -> tuple[list[str], list[list[str]]]:
    answers = [request.form.get(f"answer-{index}", "") for index in range(len(content.questions))]
    matrix = [
        [request.form.get(f"cell-{task}-{party}", "") for party in range(len(content.parties))]
        for task in range(len(content.tasks))
    ]
    return answers, matrix


@bp.route("/groups/<int:group_id>/kickoff", methods=["GET", "POST"])
@login_required
def kickoff(group_id: int):
    group = db.get_or_404(Group, group_id)
    access.ensure(access.can_read_group(current_user, group))
    started = kits.kickoff_of(group)
    if started is not None:
        content = kits.KitContent("", started.questions, started.tasks, started.parties)
        answers, matrix = list(started.answers), [list(row) for row in started.matrix]
    else:
        content = kits.kit_for(access.scope_of(group))
        answers = ["" for _question in content.questions]
        matrix = [["" for _party in content.parties] for _task in content.tasks]
    if request.method == "GET":
        warnings = kits.check_matrix(content.tasks, content.parties, matrix) if started else []
        return _kickoff_page(group, content, answers, matrix, warnings)
    access.ensure(access.can_edit_group(current_user, group))
    answers, matrix = _posted(content)
    if not KickoffForm().validate_on_submit():
        return _kickoff_page(group, content, answers, matrix, [], 400)
    try:
        now = utcnow()
        if started is None:
            kits.start_kickoff(group, now, content)
        warnings = kits.save_kickoff(group, answers, matrix, current_user, now)
    except StructureError as error:
        db.session.rollback()
        flash(error.message, "error")
        return _kickoff_page(group, content, answers, matrix, [], 422)
    db.session.commit()
    flash(_("The starting document is saved."), "success")
    for warning in warnings:
        flash(warning, "warning")
    return redirect(url_for(".kickoff", group_id=group.id))


def _kit_page(scope: access.Scope, form: KitForm | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    content = kits.kit_for(scope)
    own = kits.scope_kit(scope)
    if form is None:
        form = KitForm(
            formdata=None,
            title=content.title,
            questions="\n".join(content.questions),
            tasks="\n".join(content.tasks),
            parties="\n".join(content.parties),
        )
    return render_template(
        "network/groups/kit.html",
        scope=scope,
        content=content,
        own=own,
        form=form,
        can_edit=access.can_edit_scope(current_user, scope),
        limits={
            "questions": kits.MAX_QUESTIONS,
            "tasks": kits.MAX_TASKS,
            "parties": kits.MAX_PARTIES,
            "line": kits.MAX_LINE,
        },
    ), status


@bp.route(SCOPE + "/kickoff-kit", methods=["GET", "POST"])
@login_required
def kit(kind: str, scope_id: int):
    scope = access.resolve_scope(kind, scope_id)
    access.ensure(access.can_read_scope(current_user, scope))
    if request.method == "GET":
        return _kit_page(scope)
    access.ensure(access.can_edit_scope(current_user, scope))
    form = KitForm()
    if not form.validate_on_submit():
        return _kit_page(scope, form, 400)
    try:
        content = kits.parse_kit(
            form.title.data or "",
            form.questions.data or "",
            form.tasks.data or "",
            form.parties.data or "",
        )
    except StructureError as error:
        form.questions.errors = [error.message]
        return _kit_page(scope, form, 422)
    kits.save_kit(scope, content)
    db.session.commit()
    flash(_("The kick-off kit is saved."), "success")
    return redirect(url_for(".kit", kind=scope.kind, scope_id=scope.id))
