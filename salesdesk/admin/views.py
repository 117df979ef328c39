from flask import flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..audit import ACTION_LABELS
from ..auth import services as accounts
from ..auth.models import ROLE_LABELS, Role, Team, User
from ..database import is_id
from ..errors import DomainError
from ..extensions import db
from ..paging import page_number
from ..web import add_form_error, form_status, render, see_other
from . import bp
from .forms import NewUserForm, TeamForm, UserForm
from .queries import AuditFilters, UserFilters, audit_page, member_counts, users_page
from .subjects import rows_of


@bp.route("/users")
def users():
    filters = UserFilters.from_args(request.args)
    return render(
        "admin/users.html",
        "admin/_user_rows.html",
        page=users_page(filters, page_number()),
        filters=filters,
        teams=accounts.teams(),
        roles=ROLE_LABELS,
    )


def _user_form_result(form, save, template, **context):
    if form.validate_on_submit():
        team = db.session.get(Team, form.team_id.data) if form.team_id.data else None
        try:
            user = save(team)
        except DomainError as error:
            add_form_error(form, error)
        else:
            flash(_("Saved %(name)s.", name=user.display_name), "success")
            return see_other(url_for("admin.users"))
    return render(template, form=form, **context, status=form_status(form))


@bp.route("/users/new", methods=["GET", "POST"])
def new_user():
    form = NewUserForm(teams=accounts.teams())

    def save(team):
        return accounts.create_user(
            email=form.email.data,
            display_name=form.display_name.data,
            role=form.role.data,
            team=team,
            password=form.password.data,
            locale=form.locale.data,
            actor=current_user,
        )

    return _user_form_result(form, save, "admin/user_form.html", user=None)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def edit_user(user_id):
    user = db.get_or_404(User, user_id)
    form = UserForm(obj=user, teams=accounts.teams())
    if request.method == "GET":
        form.team_id.data = user.team_id or 0
    shows_lead = user.role == Role.SUPPORT

    def save(team):
        accounts.update_user(
            user,
            actor=current_user,
            email=form.email.data,
            display_name=form.display_name.data,
            role=form.role.data,
            team=team,
            locale=form.locale.data,
            # The box is on the page of a support user only; otherwise left as it is.
            support_lead=form.support_lead.data if shows_lead else None,
        )
        if form.password.data:
            accounts.reset_password(user, actor=current_user, password=form.password.data)
        return user

    successors = [person for person in accounts.sellers() if person.id != user.id]
    return _user_form_result(
        form,
        save,
        "admin/user_form.html",
        user=user,
        successors=successors,
        roles=ROLE_LABELS,
        shows_lead=shows_lead,
    )


@bp.route("/users/<int:user_id>/deactivate", methods=["POST"])
def deactivate_user(user_id):
    user = db.get_or_404(User, user_id)
    successor_id = request.form.get("successor_id", type=int)
    successor = db.session.get(User, successor_id) if is_id(successor_id) else None
    # Empty means the public pool; anything else ("0", "abc") must name a user.
    if request.form.get("successor_id") and successor is None:
        raise DomainError(_("The successor must be another active rep or manager."))
    accounts.deactivate_user(user, actor=current_user, successor=successor)
    flash(_("%(name)s can no longer log in.", name=user.display_name), "success")
    return see_other(url_for("admin.edit_user", user_id=user.id))


@bp.route("/users/<int:user_id>/reactivate", methods=["POST"])
def reactivate_user(user_id):
    user = db.get_or_404(User, user_id)
    accounts.reactivate_user(user, actor=current_user)
    flash(_("%(name)s can log in again.", name=user.display_name), "success")
    return see_other(url_for("admin.edit_user", user_id=user.id))


@bp.route("/teams", methods=["GET", "POST"])
def teams():
    form = TeamForm()
    if form.validate_on_submit():
        try:
            accounts.create_team(name=form.name.data, timezone=form.timezone.data, actor=current_user)
        except DomainError as error:
            add_form_error(form, error)
        else:
            flash(_("Team %(name)s created.", name=form.name.data.strip()), "success")
            return see_other(url_for("admin.teams"))
    return render(
        "admin/teams.html",
        form=form,
        teams=accounts.teams(),
        member_counts=member_counts(),
        status=form_status(form),
    )


@bp.route("/teams/<int:team_id>", methods=["GET", "POST"])
def edit_team(team_id):
    team = db.get_or_404(Team, team_id)
    form = TeamForm(obj=team)
    if form.validate_on_submit():
        try:
            accounts.update_team(team, name=form.name.data, timezone=form.timezone.data, actor=current_user)
        except DomainError as error:
            add_form_error(form, error)
        else:
            flash(_("Saved team %(name)s.", name=team.name), "success")
            return see_other(url_for("admin.teams"))
    return render("admin/team_form.html", form=form, team=team, status=form_status(form))


@bp.route("/audit")
def audit_log():
    filters = AuditFilters.from_args(request.args)
    page = audit_page(filters, page_number())
    return render(
        "admin/audit.html",
        "admin/_audit_rows.html",
        page=page,
        rows=rows_of(page.items),
        filters=filters,
        actions=ACTION_LABELS,
    )
