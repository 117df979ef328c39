"""Reading-path pages: the paths, one path with everyone's progress, keeping a path's
articles and assigning it. Thin, like views.py."""

from flask import abort, flash, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth import allowed
from ..errors import DomainError
from ..extensions import db
from ..web import add_form_error, form_status, render, see_other
from . import access, bp, paths
from .forms import AssignForm, PathForm, PathItemForm
from .models import Assignment


@bp.route("/paths", endpoint="paths")
def path_list():
    return render(
        "kb/paths.html",
        mine=paths.my_assignments(current_user),
        paths=paths.all_paths(),
        team=paths.team_progress(current_user),
        may_see_team_progress=access.may_see_team_progress(current_user),
    )


@bp.route("/paths/new", methods=["GET", "POST"])
@allowed(access.may_manage_paths)
def new_path():
    form = PathForm()
    if form.validate_on_submit():
        try:
            path = paths.create_path(
                name=form.name.data, description=form.description.data, actor=current_user
            )
        except DomainError as error:
            add_form_error(form, error)
        else:
            flash(_("Reading path created. Now add articles to it."), "success")
            return see_other(url_for("kb.path", path_id=path.id))
    return render("kb/path_form.html", form=form, path=None, status=form_status(form))


@bp.route("/paths/<int:path_id>/edit", methods=["GET", "POST"])
@allowed(access.may_manage_paths)
def edit_path(path_id):
    path = paths.get_path(path_id)
    form = PathForm(obj=path)
    if form.validate_on_submit():
        try:
            paths.update_path(
                path, name=form.name.data, description=form.description.data, actor=current_user
            )
        except DomainError as error:
            add_form_error(form, error)
        else:
            flash(_("Reading path saved."), "success")
            return see_other(url_for("kb.path", path_id=path.id))
    return render("kb/path_form.html", form=form, path=path, status=form_status(form))


def _path_page(path, item_form=None, assign_form=None, status=200):
    if item_form is None and access.may_manage_paths(current_user):
        item_form = _item_form(path, formdata=None)
    users = paths.assignable_users(current_user)
    if assign_form is None and users:
        assign_form = AssignForm(formdata=None, users=users)
    assignment = paths.assignment_of(path, current_user)
    mine = paths.progress(path, current_user, assignment)
    return render(
        "kb/path.html",
        path=path,
        mine=mine,
        states={article.id: state for article, state in mine.items},
        assignment=assignment,
        items=path.items,
        item_form=item_form,
        assign_form=assign_form,
        team=paths.team_progress(current_user, path),
        status=status,
    )


def _item_form(path, **kwargs):
    form = PathItemForm(**kwargs)
    form.article_id.choices = [(article.id, article.title) for article in paths.addable_articles(path)]
    return form


@bp.route("/paths/<int:path_id>")
def path(path_id):
    return _path_page(paths.get_path(path_id))


@bp.route("/paths/<int:path_id>/items", methods=["POST"])
@allowed(access.may_manage_paths)
def add_path_item(path_id):
    path = paths.get_path(path_id)
    form = _item_form(path)
    if form.validate_on_submit():
        try:
            paths.add_to_path(path, form.article_id.data, actor=current_user)
        except DomainError as error:
            add_form_error(form, error)
        else:
            return see_other(url_for("kb.path", path_id=path.id))
    return _path_page(path, item_form=form, status=422)


@bp.route("/paths/<int:path_id>/items/<int:article_id>/<any(up, down):direction>", methods=["POST"])
@allowed(access.may_manage_paths)
def move_path_item(path_id, article_id, direction):
    path = paths.get_path(path_id)
    paths.move_in_path(path, article_id, offset=-1 if direction == "up" else 1, actor=current_user)
    return see_other(url_for("kb.path", path_id=path.id))


@bp.route("/paths/<int:path_id>/items/<int:article_id>/remove", methods=["POST"])
@allowed(access.may_manage_paths)
def remove_path_item(path_id, article_id):
    path = paths.get_path(path_id)
    paths.remove_from_path(path, article_id, actor=current_user)
    return see_other(url_for("kb.path", path_id=path.id))


@bp.route("/paths/<int:path_id>/assign", methods=["POST"])
def assign_path(path_id):
    path = paths.get_path(path_id)
    users = paths.assignable_users(current_user)
    if not users:
        abort(403)
    form = AssignForm(users=users)
    if form.validate_on_submit():
        try:
            paths.assign_path(path, user_id=form.user_id.data, due_on=form.due_on.data, actor=current_user)
        except DomainError as error:
            add_form_error(form, error)
        else:
            flash(_("Assigned. The reader has been notified."), "success")
            return see_other(url_for("kb.path", path_id=path.id))
    return _path_page(path, assign_form=form, status=422)


@bp.route("/assignments/<int:assignment_id>/remove", methods=["POST"])
def unassign(assignment_id):
    assignment = db.get_or_404(Assignment, assignment_id)
    path_id = assignment.path_id
    paths.unassign_path(assignment, actor=current_user)
    flash(_("Assignment removed."), "success")
    return see_other(url_for("kb.path", path_id=path_id))
