"""A scope's groups, a group's page (members, annual-clock actions, paths and badges) and its
edits. The kick-off pages are in campus.network.views_kickoff, on the same blueprint."""

from __future__ import annotations

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required

from campus.auth.models import Organisation
from campus.auth.models import Region
from campus.extensions import db
from campus.network import access
from campus.network import structure
from campus.network.forms_structure import AddMemberForm
from campus.network.forms_structure import ConfirmForm
from campus.network.forms_structure import GroupEditForm
from campus.network.forms_structure import MemberForm
from campus.network.forms_structure import NewGroupForm
from campus.network.group_page import group_context
from campus.network.kickoff import kickoff_of
from campus.network.kickoff import kickoffs_of
from campus.network.labels import group_kind_label
from campus.network.labels import group_role_label
from campus.network.models import Group
from campus.network.models import GroupKind
from campus.network.models import GroupMembership
from campus.network.models import GroupRole
from campus.network.models import roles_for
from campus.network.rules import Flag
from campus.network.rules import organisation_flags
from campus.network.rules import structure_flags
from campus.network.views_regions import scope_links

bp = Blueprint("network_groups", __name__, url_prefix="/network")

SCOPE = "/<any(region,organisation):kind>/<int:scope_id>"


def _scope_flags(scope: access.Scope) -> list[Flag]:
    if scope.is_region:
        return structure_flags(db.get_or_404(Region, scope.id))
    return organisation_flags(db.get_or_404(Organisation, scope.id))


def _new_group_form(scope: access.Scope) -> NewGroupForm:
    form = NewGroupForm()
    form.kind.choices = [
        (kind.value, str(group_kind_label(kind))) for kind in structure.allowed_kinds(scope)
    ]
    form.kind.validate_choice = False  # the service refuses a kind the scope cannot have
    return form


def _scope_page(scope: access.Scope, form: NewGroupForm | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    groups = structure.groups_of(scope, members=True)
    kickoffs = kickoffs_of(groups)
    return render_template(
        "network/groups/scope.html",
        scope=scope,
        groups=[(group, structure.chair_of(group), kickoffs.get(group.id)) for group in groups],
        flags=_scope_flags(scope),
        can_edit=access.can_edit_scope(current_user, scope),
        form=form or _new_group_form(scope),
        links=scope_links(scope.kind, scope.id),
    ), status


@bp.route(SCOPE + "/groups", methods=["GET", "POST"])
@login_required
def scope_groups(kind: str, scope_id: int):
    scope = access.resolve_scope(kind, scope_id)
    access.ensure(access.can_read_scope(current_user, scope))
    if request.method == "GET":
        return _scope_page(scope)
    access.ensure(access.can_edit_scope(current_user, scope))
    form = _new_group_form(scope)
    if not form.validate_on_submit():
        return _scope_page(scope, form, 400)
    try:
        group_kind = GroupKind(form.kind.data)
    except ValueError:
        form.kind.errors = [_("Choose a kind of group.")]
        return _scope_page(scope, form, 400)
    try:
        group = structure.create_group(
            scope, group_kind, form.name.data or "", form.mandate.data or ""
        )
    except structure.StructureError as error:
        form.kind.errors = [error.message]
        return _scope_page(scope, form, 422)
    db.session.commit()
    flash(_("The group %(name)s is created.", name=group.name), "success")
    return redirect(url_for(".group", group_id=group.id))


# The group page --------------------------------------------------------------------------------


def _group(group_id: int, *, edit: bool = False) -> Group:
    group = db.get_or_404(Group, group_id, options=[structure.member_options()])
    access.ensure(access.can_read_group(current_user, group))
    if edit:
        access.ensure(access.can_edit_group(current_user, group))
    return group


def _role_choices(group: Group) -> list[tuple[str, str]]:
    return [(role.value, str(group_role_label(role))) for role in roles_for(group.kind)]


def _organisation_choices(group: Group) -> list[tuple[int, str]]:
    return [(org.id, org.name) for org in structure.member_organisations(group)]


def _add_form(group: Group, choices: list[tuple[int, str]] | None = None) -> AddMemberForm:
    form = AddMemberForm()
    form.role.choices = _role_choices(group)
    if not form.is_submitted():  # most people join as members (participants in a theme team)
        form.role.data = roles_for(group.kind)[-1].value
    if choices is None:
        choices = _organisation_choices(group)
    form.organisation.choices = [(0, _("Their own organisation"))] + choices
    return form


def _member_form(
    member: GroupMembership,
    *,
    bind: bool = False,
    choices: list[tuple[int, str]] | None = None,
) -> MemberForm:
    """A member row's form; filled from the member unless `bind` (the posted form).
    `choices`: the group's organisations, when the page has them already."""
    prefix = f"member-{member.id}"
    form = (
        MemberForm(prefix=prefix)
        if bind
        else MemberForm(
            prefix=prefix,
            formdata=None,
            role=member.role.value,
            organisation=member.organisation_id,
            responsibilities=member.responsibilities,
        )
    )
    form.role.choices = _role_choices(member.group)
    choices = list(_organisation_choices(member.group) if choices is None else choices)
    if member.organisation_id not in {value for value, _label in choices}:
        choices.append((member.organisation_id, member.organisation.name))
    form.organisation.choices = choices
    return form


def _edit_form(group: Group, *, bind: bool = False) -> GroupEditForm:
    if bind:
        form = GroupEditForm()
    else:
        form = GroupEditForm(
            formdata=None,
            name=group.name,
            mandate=group.mandate,
            theme=group.theme_slug or "",
            paths=list(group.path_slugs),
            badges=list(group.badge_slugs),
        )
    context = group_context(group, with_choices=True)
    form.theme.choices = [("", _("No theme"))] + context["theme_choices"]
    form.paths.choices = context["path_choices"]
    form.badges.choices = context["badge_choices"]
    return form


def _group_page(  # type: ignore[no-untyped-def]
    group: Group,
    status: int = 200,
    edit_form: GroupEditForm | None = None,
    add_form: AddMemberForm | None = None,
    member_forms: dict[int, MemberForm] | None = None,
):
    can_edit = access.can_edit_group(current_user, group)
    scope = access.scope_of(group)
    choices = _organisation_choices(group) if can_edit else []
    rows = []
    for member in group.memberships:
        form = (member_forms or {}).get(member.id) or (
            _member_form(member, choices=choices) if can_edit else None
        )
        rows.append((member, form))
    return render_template(
        "network/groups/group.html",
        group=group,
        scope=scope,
        members=rows,
        can_edit=can_edit,
        can_delete=access.can_edit_scope(current_user, scope),
        edit_form=edit_form or (_edit_form(group) if can_edit else None),
        add_form=add_form or (_add_form(group, choices) if can_edit else None),
        remove_form=ConfirmForm(),
        kickoff=kickoff_of(group),
        **group_context(group),
    ), status


@bp.get("/groups/<int:group_id>")
@login_required
def group(group_id: int):
    return _group_page(_group(group_id))


@bp.post("/groups/<int:group_id>/edit")
@login_required
def edit_group(group_id: int):
    group = _group(group_id, edit=True)
    form = _edit_form(group, bind=True)
    if not form.validate_on_submit():
        return _group_page(group, 400, edit_form=form)
    try:
        structure.update_group(
            group,
            form.name.data or "",
            form.mandate.data or "",
            form.theme.data or None,
            list(form.paths.data or []),
            list(form.badges.data or []),
        )
    except structure.StructureError as error:
        db.session.rollback()
        form.name.errors = [error.message]
        return _group_page(group, 422, edit_form=form)
    db.session.commit()
    flash(_("The group is saved."), "success")
    return redirect(url_for(".group", group_id=group.id))


@bp.post("/groups/<int:group_id>/delete")
@login_required
def delete_group(group_id: int):
    group = _group(group_id)
    scope = access.scope_of(group)
    access.ensure(access.can_edit_scope(current_user, scope))
    if not ConfirmForm().validate_on_submit():
        abort(400)
    name = group.name
    structure.delete_group(group)
    db.session.commit()
    flash(_("The group %(name)s is deleted.", name=name), "success")
    return redirect(url_for(".scope_groups", kind=scope.kind, scope_id=scope.id))


@bp.post("/groups/<int:group_id>/members")
@login_required
def add_member(group_id: int):
    group = _group(group_id, edit=True)
    form = _add_form(group)
    if not form.validate_on_submit():
        return _group_page(group, 400, add_form=form)
    try:
        member = structure.add_member(
            group,
            form.email.data or "",
            GroupRole(form.role.data),
            form.organisation.data or None,
            form.responsibilities.data or "",
        )
    except structure.StructureError as error:
        db.session.rollback()
        form.email.errors = [error.message]
        return _group_page(group, 422, add_form=form)
    db.session.commit()
    flash(_("%(name)s is a member now.", name=member.user.name), "success")
    return redirect(url_for(".group", group_id=group.id))


def _member(group: Group, member_id: int) -> GroupMembership:
    member = db.get_or_404(GroupMembership, member_id)
    if member.group_id != group.id:
        abort(404)
    return member


@bp.post("/groups/<int:group_id>/members/<int:member_id>")
@login_required
def change_member(group_id: int, member_id: int):
    group = _group(group_id, edit=True)
    member = _member(group, member_id)
    form = _member_form(member, bind=True)
    if not form.validate_on_submit():
        return _group_page(group, 400, member_forms={member.id: form})
    try:
        structure.change_member(
            member,
            GroupRole(form.role.data),
            form.organisation.data,
            form.responsibilities.data or "",
        )
    except structure.StructureError as error:
        db.session.rollback()
        form.role.errors = [error.message]
        return _group_page(group, 422, member_forms={member.id: form})
    db.session.commit()
    flash(_("The member's details are saved."), "success")
    return redirect(url_for(".group", group_id=group.id))


@bp.post("/groups/<int:group_id>/members/<int:member_id>/remove")
@login_required
def remove_member(group_id: int, member_id: int):
    group = _group(group_id, edit=True)
    member = _member(group, member_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    name = member.user.name
    structure.remove_member(member)
    db.session.commit()
    flash(_("%(name)s is no longer a member.", name=name), "success")
    return redirect(url_for(".group", group_id=group.id))


from campus.network import views_kickoff  # noqa: E402,F401  (its routes are on `bp`)
