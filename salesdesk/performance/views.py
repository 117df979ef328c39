"""The targets table (GET/POST /targets?period=2026-12&team=<id>)."""

from flask import flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import audit, clock
from ..auth import allowed
from ..auth import services as accounts
from ..database import write_transaction
from ..errors import DomainError
from ..web import add_form_error, render, see_other
from . import access, bp, periods, target_table
from .forms import ACTIONS, CorrectionForm, SettingsForm, TargetsForm
from .models import Measure, performance_settings, save_settings


@bp.route("/targets", methods=["GET", "POST"], endpoint="targets")
@allowed(access.may_open_targets)
def targets_page():
    team = access.team_for(current_user, request.args.get("team"), company=False)
    if team is None:
        raise DomainError(_("You are in no team: an administrator puts you in one first."))
    period = periods.parse(request.args.get("period"), clock.today(team.timezone))
    table = target_table.table(current_user, team, period)
    form = CorrectionForm() if table.needs_reason else TargetsForm()
    action = request.form.get("action") or "save"
    if request.method == "POST" and action not in ACTIONS:
        raise DomainError(_("Choose save, copy or split."))
    if form.validate_on_submit():
        typed = target_table.read_form(request.form, team)
        try:
            if action != "save":
                typed, notice = target_table.refill(action, team, period, typed)
                table = target_table.table(current_user, team, period, typed=typed, notice=notice)
            else:
                reason = form.reason.data if "reason" in form else ""
                changed = target_table.save(current_user, team, period, typed, reason or "")
                flash(_("Saved %(count)s targets.", count=changed) if changed else _("Nothing changed."))
                return see_other(url_for(".targets", period=period.key, team=team.id))
        except target_table.TargetErrors as error:
            table = target_table.table(current_user, team, period, typed=typed, errors=error.errors)
            form.form_errors.append(error.message)
        except DomainError as error:
            if error.field != "reason":
                raise
            add_form_error(form, error)
            # Shown again with what was typed, not the stored figures.
            table = target_table.table(current_user, team, period, typed=typed)
    elif "reason" in form and form.reason.errors:
        # A reason too long for the form: keep the typed figures too.
        table = target_table.table(
            current_user, team, period, typed=target_table.read_form(request.form, team)
        )
    return render(
        "performance/targets.html",
        table=table,
        form=form,
        measures=list(Measure),
        input_name=target_table.input_name,
        teams=accounts.teams() if access.may_pick_team(current_user) else [],
        settings_form=_settings_form(formdata=None),
        status=422 if form.errors or form.form_errors else 200,
    )


def _settings_form(**kwargs):
    if not access.may_change_settings(current_user):
        return None
    return SettingsForm(obj=performance_settings(), **kwargs)


@bp.post("/performance/settings", endpoint="settings")
@allowed(access.may_change_settings)
def save_performance_settings():
    form = _settings_form()
    if not form.validate_on_submit():
        raise DomainError(_("The settings could not be read; try again."))
    with write_transaction():
        save_settings(current_user, form.reps_see_ranking.data)
        audit.record("performance.settings_saved", reps_see_ranking=form.reps_see_ranking.data)
    flash(_("Settings saved."), "success")
    return see_other(url_for(".targets"))
