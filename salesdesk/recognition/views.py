"""Leaderboard, feed, person pages, the award and thanks forms, reversal, report, settings."""

from flask import flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import submissions
from ..auth import services as accounts
from ..errors import Conflict, DomainError, Forbidden
from ..web import add_form_error, form_status, is_htmx, render, safe_next_url, see_other
from . import access, bp, budgets, entries, giving, people, periods
from . import feed as feeds
from . import leaderboard as boards
from . import report as reports
from . import settings as recognition_settings
from .forms import AwardForm, ReverseForm, SettingsForm, ThanksForm
from .models import RecognitionSettings
from .periods import PERIOD_LABELS, PREVIOUS_LABELS


@bp.context_processor
def permissions():
    return {
        "may_award": access.may_award(current_user),
        "may_reverse": access.may_reverse(current_user),
        "may_see_report": access.may_see_report(current_user),
        "may_change_settings": access.may_change_settings(current_user),
    }


@bp.app_template_filter("month_label")
def month_label(month):
    return periods.month_label(month)


# ---- leaderboard and feed ---------------------------------------------------------


@bp.route("/leaderboard")
def leaderboard():
    board = boards.leaderboard(
        current_user, request.args.get("period", "month"), request.args.get("team", type=int)
    )
    return render(
        "recognition/leaderboard.html",
        "recognition/_board.html",
        board=board,
        teams=accounts.teams(),
        periods=PERIOD_LABELS,
        compared_with=PREVIOUS_LABELS[board.period.key],
    )


@bp.route("/recognition")
def feed():
    filters = feeds.FeedFilters.from_args(request.args)
    return render(
        "recognition/feed.html",
        "recognition/_feed_items.html",
        entries=feeds.feed(filters),
        filters=filters,
    )


@bp.route("/people/<int:user_id>")
def person(user_id):
    person = people.get_person(user_id)
    history = feeds.history(person, feeds.requested_before(request.args))
    overview = None if is_htmx() else people.person_overview(person, current_user)
    return render(
        "recognition/person.html",
        "recognition/_history_items.html",
        person=person,
        overview=overview,
        entries=history,
        may_thank=access.may_thank(current_user, person),
        may_award_person=access.may_award_to(current_user, person),
    )


# ---- giving points ----------------------------------------------------------------


def _give(form, give, template, budget, done_message, settings):
    """The award and thanks forms: prefilled from the query string (the customer page's
    action links here), checked by the service, 303 to where the user came from."""
    if request.method == "GET":
        form.recipient_id.data = request.args.get("recipient_id", type=int)
        form.customer_id.data = request.args.get("customer_id", type=int)
        form.next.data = safe_next_url(request.args.get("next"), "")
    customer = None
    if form.customer_id.data is not None:
        if request.method == "GET":
            customer = giving.get_customer(form.customer_id.data)
        else:
            customer = giving.get_customer_or_none(form.customer_id.data)
    if form.validate_on_submit():
        done = safe_next_url(form.next.data, url_for("recognition.feed"))
        try:
            with submissions.once(form.submission_token.data, current_user):
                entry = give(
                    current_user,
                    recipient_id=form.recipient_id.data,
                    points=form.points.data,
                    category=form.category.data,
                    reason=form.reason.data,
                    customer_id=form.customer_id.data,
                )
        except submissions.AlreadySubmitted as error:
            flash(error.message, "info")
            return see_other(done)
        except Forbidden:
            raise
        except DomainError as error:
            add_form_error(form, error)
        else:
            flash(done_message(entry), "success")
            return see_other(done)
    return render(
        template,
        form=form,
        customer=customer,
        budget=budget(current_user),
        settings=settings,
        status=form_status(form),
    )


@bp.route("/recognition/award", methods=["GET", "POST"])
def award():
    access.require(access.may_award(current_user))
    settings = recognition_settings.get_settings()
    form = AwardForm(recipients=giving.recipient_choices(current_user), max_points=settings.award_max_points)
    return _give(
        form,
        giving.award_points,
        "recognition/award.html",
        budgets.award_budget,
        lambda entry: _(
            "You gave %(name)s %(points)s points.", name=entry.recipient.display_name, points=entry.points
        ),
        settings,
    )


@bp.route("/recognition/thank", methods=["GET", "POST"])
def thank():
    settings = recognition_settings.get_settings()
    form = ThanksForm(
        recipients=giving.recipient_choices(current_user), max_points=settings.thanks_max_points
    )
    return _give(
        form,
        giving.thank,
        "recognition/thank.html",
        budgets.thanks_budget,
        lambda entry: _(
            "You thanked %(name)s with %(points)s points.",
            name=entry.recipient.display_name,
            points=entry.points,
        ),
        settings,
    )


# ---- one entry and its reversal ---------------------------------------------------


@bp.route("/recognition/entries/<int:entry_id>")
def entry(entry_id):
    entry = entries.get_entry(entry_id)
    return render("recognition/entry.html", entry=entry, form=ReverseForm())


@bp.route("/recognition/entries/<int:entry_id>/reverse", methods=["POST"])
def reverse(entry_id):
    access.require(access.may_reverse(current_user))
    entry = entries.get_entry(entry_id)
    form = ReverseForm()
    status = None
    if form.validate_on_submit():
        try:
            entries.reverse_entry(current_user, entry.id, reason=form.reason.data)
        except Forbidden:
            raise
        except DomainError as error:
            add_form_error(form, error)
            # Reversed meanwhile by someone else: 409, as for any changed object.
            status = 409 if isinstance(error, Conflict) else None
        else:
            flash(_("The entry has been reversed."), "success")
            return see_other(url_for("recognition.entry", entry_id=entry.id))
    entry = entries.get_entry(entry_id)
    return render("recognition/entry.html", entry=entry, form=form, status=status or form_status(form))


# ---- manager report and settings --------------------------------------------------


@bp.route("/recognition/report")
def report():
    access.require(access.may_see_report(current_user))
    report, teams = reports.mutual_thanks_report(current_user, request.args.get("team", type=int))
    return render("recognition/report.html", report=report, teams=teams)


@bp.route("/recognition/settings", methods=["GET", "POST"])
def settings():
    access.require(access.may_change_settings(current_user))
    form = SettingsForm(obj=recognition_settings.get_settings())
    if form.validate_on_submit():
        try:
            recognition_settings.update_settings(
                current_user, **{name: getattr(form, name).data for name in RecognitionSettings.FIELDS}
            )
        except Forbidden:
            raise
        except DomainError as error:
            add_form_error(form, error)
        else:
            flash(_("The recognition settings have been saved."), "success")
            return see_other(url_for("recognition.settings"))
    return render("recognition/settings.html", form=form, status=form_status(form))
