from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import clock, notifications, submissions
from ..auth import services as accounts
from ..auth.models import Role
from ..errors import DomainError
from ..ledger import access, followups
from ..ledger.forms import QuickFollowUpForm
from ..paging import page_number
from ..performance import panel as targets_panel
from ..rules import access as rules_access
from ..support import panel as support_panel
from ..web import add_form_error, form_status, is_htmx, render, safe_next_url, see_other
from . import access as workbench_access
from . import bp, services

NOTIFICATIONS_PER_PAGE = 30


def _home_context(follow_up_form=None, failed_customer=None, with_manager=True):
    context = {
        "rep": services.rep_home(current_user),
        "follow_up_form": follow_up_form or QuickFollowUpForm(formdata=None),
        "failed_customer": failed_customer,
        # The support desk's part: the queue first for support users, requests after.
        "support": support_panel.home_for(current_user),
        "support_first": current_user.role == Role.SUPPORT,
        "targets_panel": targets_panel.home_for(current_user),
    }
    if with_manager and workbench_access.sees_team_home(current_user):
        team = services.team_for(current_user, request.args.get("team", type=int))
        context["manager"] = services.manager_home(current_user, team, context["rep"]["standings"])
        context["team_targets_panel"] = targets_panel.team_home_for(current_user, team)
        context["can_pick_team"] = workbench_access.may_pick_team(current_user)
        if context["can_pick_team"]:
            context["teams"] = accounts.teams()
        context["claims_link"] = (
            url_for("rules.ownership_report", reason="claim")
            if rules_access.may_see_ownership_history(current_user)
            else url_for("rules.pool")
        )
    return context


@bp.route("/")
def home():
    # htmx asks for the manager's part alone when an admin switches teams.
    fragment = "workbench/_manager.html" if workbench_access.sees_team_home(current_user) else None
    return render("workbench/home.html", fragment, **_home_context())


@bp.route("/workbench/follow-ups/<int:customer_id>", methods=["POST"])
def log_follow_up(customer_id):
    """The due panel's one-click follow-up: logs it and shows the panel again."""
    access.get_customer_for(current_user, customer_id, "follow_up")
    form = QuickFollowUpForm()
    if form.validate_on_submit():
        try:
            with submissions.once(form.submission_token.data, current_user):
                followups.log_follow_up(
                    current_user,
                    customer_id,
                    channel=form.channel.data,
                    content=form.content.data,
                    next_follow_up_on=form.next_follow_up_on.data,
                    next_step=form.next_step.data or "",
                )
        except submissions.AlreadySubmitted as error:
            flash(error.message, "info")
        except DomainError as error:
            add_form_error(form, error)
        else:
            flash(_("Follow-up saved."), "success")
        if not form.errors:
            if not is_htmx():
                return see_other(url_for("workbench.home"))
            form = QuickFollowUpForm(formdata=None)
    failed = customer_id if form.errors else None
    return render(
        "workbench/home.html",
        "workbench/_due.html",
        status=form_status(form),
        **_home_context(follow_up_form=form, failed_customer=failed, with_manager=not is_htmx()),
    )


# ---- notifications ----------------------------------------------------------------------


@bp.app_context_processor
def bell():
    def unread():
        return notifications.unread_count(current_user) if current_user.is_authenticated else 0

    return {"unread_notifications": unread}


@bp.route("/notifications/bell")
def notification_bell():
    """The bell, polled once a minute: a cheap count, and 304 when nothing changed."""
    count = notifications.unread_count(current_user)
    response = render("workbench/_bell.html", count=count)
    response.set_etag(f"{current_user.id}-{count}-{notifications.newest_id(current_user)}")
    response.headers["Cache-Control"] = "private, no-cache"
    return response.make_conditional(request)


@bp.route("/notifications")
def notification_list():
    unread_only = request.args.get("show") == "unread"
    items = notifications.page_of(
        current_user, page_number(), NOTIFICATIONS_PER_PAGE, unread_only=unread_only
    )
    return render(
        "workbench/notifications.html",
        "workbench/_notification_list.html",
        items=items,
        unread_only=unread_only,
        now=clock.now(),
    )


@bp.route("/notifications/<int:notification_id>/read", methods=["POST"])
def read_notification(notification_id):
    notification = notifications.mark_read(current_user, notification_id)
    if notification is None:
        abort(404)
    if request.form.get("open") and notification.link:
        return redirect(safe_next_url(notification.link, url_for("workbench.notification_list")), 303)
    if is_htmx():
        return render("workbench/_notification.html", notification=notification, oob_bell=True)
    return see_other(safe_next_url(request.form.get("next"), url_for("workbench.notification_list")))


@bp.route("/notifications/read-all", methods=["POST"])
def read_all_notifications():
    count = notifications.mark_all_read(current_user)
    flash(_("%(n)s notifications marked read.", n=count), "success")
    return see_other(url_for("workbench.notification_list"))
