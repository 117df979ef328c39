"""The support desk's admin pages: request types, the working calendar and the desk's
settings. Administrators only; every form posts, redirects and says what it did."""

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import clock
from ..auth import allowed
from ..auth import services as accounts
from ..auth.models import DEFAULT_TIMEZONE
from ..errors import DomainError
from ..web import add_form_error, form_status, render, see_other
from . import access, bp, calendar_admin, types_admin
from .admin_forms import DayForm, LoadForm, RemoveDayForm, SettingsForm, TypeForm
from .levels import desk_settings
from .models import ROUTING_LABELS

ADMINS = allowed(access.may_manage_types)


def _refused(form, error):
    """A rule's objection to what was typed goes on the form, shown again; a refusal of
    the action itself (403, 404, 409) stays an error page."""
    if error.status != DomainError.status:
        raise error
    add_form_error(form, error)


# ---- request types ----------------------------------------------------------------------


@bp.route("/admin/support/types")
@ADMINS
def admin_types():
    return render(
        "support/admin_types.html",
        types=types_admin.all_types(),
        hours_of=types_admin.hours_of,
        routing_labels=ROUTING_LABELS,
    )


def _type_form_page(form, request_type, save):
    if form.validate_on_submit():
        try:
            saved = save(form.values())
        except DomainError as error:
            _refused(form, error)
        else:
            flash(_("Saved request type %(name)s.", name=saved.name), "success")
            return see_other(url_for("support.admin_types"))
    return render(
        "support/admin_type_form.html", form=form, request_type=request_type, status=form_status(form)
    )


@bp.route("/admin/support/types/new", methods=["GET", "POST"])
@ADMINS
def admin_new_type():
    data = None
    if request.method == "GET":
        data = vars(types_admin.default_values()) | {"team_id": 0}
    form = TypeForm(data=data, teams=accounts.teams())
    return _type_form_page(form, None, lambda values: types_admin.create_type(current_user, values))


@bp.route("/admin/support/types/<int:type_id>", methods=["GET", "POST"])
@ADMINS
def admin_edit_type(type_id):
    request_type = types_admin.get_type(type_id)
    data = None
    if request.method == "GET":
        data = vars(types_admin.values_of(request_type)) | {"team_id": request_type.team_id or 0}
    form = TypeForm(data=data, teams=accounts.teams())
    return _type_form_page(
        form, request_type, lambda values: types_admin.update_type(current_user, type_id, values)
    )


@bp.route("/admin/support/types/<int:type_id>/retire", methods=["POST"])
@ADMINS
def admin_retire_type(type_id):
    request_type = types_admin.set_retired(current_user, type_id, True)
    flash(_("%(name)s is no longer offered to requesters.", name=request_type.name), "success")
    return see_other(url_for("support.admin_types"))


@bp.route("/admin/support/types/<int:type_id>/restore", methods=["POST"])
@ADMINS
def admin_restore_type(type_id):
    request_type = types_admin.set_retired(current_user, type_id, False)
    flash(_("%(name)s is offered to requesters again.", name=request_type.name), "success")
    return see_other(url_for("support.admin_types"))


# ---- the working calendar -----------------------------------------------------------------


def _shown_year():
    """?year=…, else this year in the company's time zone; a year out of range is a 404."""
    if "year" not in request.args:
        return clock.today(DEFAULT_TIMEZONE).year
    year = request.args.get("year", type=int)
    low, high = calendar_admin.YEAR_RANGE
    if year is None or not low <= year <= high:
        abort(404)
    return year


@bp.route("/admin/support/calendar", methods=["GET", "POST"])
@ADMINS
def admin_calendar():
    year = _shown_year()
    day_form, remove_form, load_form = DayForm(), RemoveDayForm(), LoadForm()
    if request.method == "POST":
        action = request.form.get("action")
        if action == "add":
            if day_form.validate_on_submit():
                try:
                    calendar_admin.add_day(
                        current_user, day_form.day.data, day_form.kind.data, day_form.name.data
                    )
                except DomainError as error:
                    _refused(day_form, error)
                else:
                    flash(_("%(day)s added.", day=day_form.day.data.isoformat()), "success")
                    return see_other(url_for("support.admin_calendar", year=day_form.day.data.year))
        elif action == "remove":
            if not remove_form.validate_on_submit():
                raise DomainError(_("Choose a day to remove."))
            day = remove_form.day.data
            calendar_admin.remove_day(current_user, day)
            flash(_("%(day)s removed.", day=day.isoformat()), "success")
            return see_other(url_for("support.admin_calendar", year=day.year))
        elif action == "load":
            if not load_form.validate_on_submit():
                low, high = calendar_admin.YEAR_RANGE
                raise DomainError(_("Choose a year from %(low)s to %(high)s.", low=low, high=high))
            added = calendar_admin.load_published(current_user, load_form.year.data)
            if added:
                flash(_("%(n)s days of %(year)s loaded.", n=added, year=load_form.year.data), "success")
            else:
                flash(
                    _("Every published day of %(year)s is entered already.", year=load_form.year.data), "info"
                )
            return see_other(url_for("support.admin_calendar", year=load_form.year.data))
        else:
            raise DomainError(_("This form is out of date. Reload the page and try again."))
    return render(
        "support/admin_calendar.html",
        calendar=calendar_admin.year_of(year),
        day_form=day_form,
        kinds=calendar_admin.KINDS,
        status=form_status(day_form),
    )


# ---- settings -----------------------------------------------------------------------------


@bp.route("/admin/support/settings", methods=["GET", "POST"])
@ADMINS
def admin_settings():
    form = SettingsForm(obj=desk_settings())
    if form.validate_on_submit():
        values = {name: getattr(form, name).data for name in calendar_admin.SETTING_FIELDS}
        try:
            calendar_admin.update_settings(current_user, values)
        except DomainError as error:
            _refused(form, error)
        else:
            flash(_("Support desk settings saved."), "success")
            return see_other(url_for("support.admin_settings"))
    return render("support/admin_settings.html", form=form, status=form_status(form))
