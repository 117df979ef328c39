from urllib.parse import urlsplit

from flask import flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import settings
from ..auth import allowed
from ..auth import services as accounts
from ..auth.models import Role, Team
from ..errors import Conflict, DomainError, Forbidden
from ..extensions import db
from ..ledger import access as ledger_access
from ..ledger import pages, queries
from ..ledger.models import GRADES, OWNERSHIP_REASONS
from ..ledger.ownership import owner_choices
from ..paging import page_number
from ..web import add_form_error, form_status, is_htmx, render, safe_next_url, see_other
from . import access, assignment, bp, collisions, extensions, ownership, pool
from .forms import (
    CollisionForm,
    DecisionForm,
    ExtensionDecisionForm,
    ExtensionForm,
    ReasonForm,
    SettingsForm,
    StrategyForm,
    assign_form,
)
from .models import Decision, Strategy
from .settings import SETTING_FIELDS, update_settings


def _back(default):
    return safe_next_url(request.form.get("next") or request.args.get("next"), default)


def _refused(form, error):
    """A rule's objection to what was typed goes on the form, shown again; a refusal of
    the action itself (403, 404, 409) stays an error page."""
    if error.status != DomainError.status:
        raise error
    add_form_error(form, error)


def _refused_on_customer_page(customer_id, **forms):
    customer = ledger_access.get_customer_for(current_user, customer_id)
    return pages.customer_page(customer, status=422, **forms)


# ---- the pool -------------------------------------------------------------------------


@bp.route("/pool", endpoint="pool")
def pool_page():
    can_claim = access.may_claim(current_user)
    context = pages.list_context(
        _pool_filters(request.args),
        pool_page=True,
        can_claim=can_claim,
        standing=pool.claim_standing(current_user) if can_claim else None,
        can_see_rules=access.may_see_rules(current_user),
        rules=settings.current(),
    )
    return render("rules/pool.html", "rules/_pool_results.html", **context)


def _pool_filters(args):
    filters = queries.Filters.from_args(args)
    filters.view = filters.default_view = "pool"  # the page is the pool: no need to say so
    return filters


@bp.route("/customers/<int:customer_id>/claim", methods=["POST"])
def claim(customer_id):
    customer = pool.claim(current_user, customer_id)
    flash(
        _("%(name)s is yours now. Follow it up within the protection period.", name=customer.name), "success"
    )
    if is_htmx():
        # The pool row becomes a "claimed" row; the toast says so. The pool's count under
        # the page's filters (sent back in `next`) and the rep's standing follow, out of band.
        shown = queries.args_of(_back(url_for("rules.pool")))
        return render(
            "rules/_claimed.html",
            customer=customer,
            page=queries.list_customers(current_user, _pool_filters(shown)),
            standing=pool.claim_standing(current_user),
        )
    return see_other(_back(url_for("ledger.show", customer_id=customer.id)))


@bp.route("/customers/<int:customer_id>/release", methods=["POST"])
def release(customer_id):
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            customer = pool.release(current_user, customer_id, form.reason.data)
        except DomainError as error:
            _refused(form, error)
        else:
            flash(_("%(name)s is back in the public pool.", name=customer.name), "success")
            return see_other(url_for("ledger.show", customer_id=customer_id))
    return _refused_on_customer_page(customer_id, reason_form=form)


# ---- extensions -----------------------------------------------------------------------


@bp.route("/customers/<int:customer_id>/extension", methods=["POST"])
def request_extension(customer_id):
    form = ExtensionForm()
    if form.validate_on_submit():
        try:
            extensions.request_extension(current_user, customer_id, form.days.data, form.reason.data)
        except DomainError as error:
            _refused(form, error)
        else:
            flash(_("Extension requested; your manager decides."), "success")
            return see_other(url_for("ledger.show", customer_id=customer_id))
    return _refused_on_customer_page(customer_id, extension_form=form)


@bp.route("/extensions/<int:extension_id>/<any(grant, decline):answer>", methods=["POST"])
def decide_extension(extension_id, answer):
    extension = extensions.get_extension_for(current_user, extension_id)  # 404 or 403 before the form
    form = ExtensionDecisionForm()
    if form.validate_on_submit():
        try:
            extensions.decide_extension(
                current_user,
                extension_id,
                grant=answer == "grant",
                days=form.days.data or 0,
                note=form.note.data or "",
            )
        except DomainError as error:
            _refused(form, error)
        else:
            flash(_("Extension granted.") if answer == "grant" else _("Extension declined."), "success")
            return see_other(_back(url_for("rules.collisions") + "#extensions"))
    refused = {"decision_form": form, "decided_extension": extension.id}
    if request.form.get("next"):  # sent from the customer page
        return _refused_on_customer_page(extension.customer_id, **refused)
    return _collisions_page(collisions.ReportFilters(), status=422, **refused)


# ---- collisions -----------------------------------------------------------------------


@bp.route("/customers/<int:customer_id>/collision", methods=["GET", "POST"])
def file_collision(customer_id):
    customer = ledger_access.get_customer_for(current_user, customer_id)
    refusal = access.collision_refusal(current_user, customer)
    if isinstance(refusal, Forbidden):  # the rest is said on the form
        raise refusal
    form = CollisionForm()
    if form.validate_on_submit():
        try:
            report = collisions.file_collision(current_user, customer.id, form.reason.data)
        except DomainError as error:
            add_form_error(form, error)
        else:
            flash(_("Report filed. The owner's manager will decide and tell you both."), "success")
            return see_other(url_for("rules.collision", report_id=report.id))
    return render("rules/collision_form.html", customer=customer, form=form, status=form_status(form))


@bp.route("/collisions", endpoint="collisions")
def collision_list():
    return _collisions_page(collisions.ReportFilters.from_args(request.args))


def _collisions_page(filters, status=200, decision_form=None, decided_extension=None):
    """decision_form: an extension decision refused, shown again on its request."""
    manager_view = access.may_see_extension_requests(current_user)
    return render(
        "rules/collisions.html",
        reports=collisions.reports_for(current_user, filters),
        shown=filters.status,
        manager_view=manager_view,
        extensions=extensions.pending_extensions(current_user) if manager_view else [],
        blocked=collisions.blocked_duplicates_per_month(current_user) if manager_view else [],
        decision_form=decision_form,
        decided_extension=decided_extension,
        status=status,
    )


@bp.route("/collisions/<int:report_id>", methods=["GET", "POST"])
def collision(report_id):
    report = collisions.get_report_for(current_user, report_id)
    form = decision_form(report)
    can_decide = access.may_decide(current_user, report)
    if request.method == "POST":
        if report.status != "open":
            raise Conflict(_("This report has been decided already."))
        if not can_decide:
            raise Forbidden(_("The owner's manager decides collision reports."))
        if form.validate_on_submit():
            try:
                collisions.decide_collision(current_user, report.id, form.decision.data, form.note.data)
            except DomainError as error:
                add_form_error(form, error)
            else:
                flash(_("Decision saved; both sides have been told."), "success")
                return see_other(url_for("rules.collision", report_id=report.id))
    return render(
        "rules/collision.html",
        "rules/_collision.html",
        report=report,
        evidence=collisions.evidence(report, current_user),
        form=form,
        can_decide=can_decide,
        reasons=OWNERSHIP_REASONS,
        status=form_status(form),
    )


def decision_form(report):
    """The decisions the service would take: no transfer to a reporter who cannot own."""
    form = DecisionForm()
    if not access.may_transfer_to(report.reporter):
        form.decision.choices = [c for c in form.decision.choices if c.value != Decision.TRANSFER]
    return form


# ---- assignment -----------------------------------------------------------------------


@bp.route("/customers/assign", methods=["POST"])
@allowed(access.may_assign)
def assign():
    form = assign_form(current_user)
    ids = request.form.getlist("customer_ids")
    if request.form.get("scope") == "matching":
        # "All matching customers": the list's filters, as the page the form came from had them.
        listed = queries.Filters.from_args(queries.args_of(_back("")), current_user)
        matching = queries.matching_ids(current_user, listed, assignment.MAX_CUSTOMERS + 1)
        ids = [str(customer_id) for customer_id in matching]
    if form.validate_on_submit():
        if not ids or not all(value.isdecimal() for value in ids):
            form.form_errors.append(_("Select 1 to 500 customers."))
        else:
            try:
                moved = assignment.assign(
                    current_user, [int(value) for value in ids], form.user_id.data, form.reason.data
                )
            except DomainError as error:
                _refused(form, error)
            else:
                flash(_("%(n)s customers assigned.", n=len(moved)), "success")
                return see_other(_back(url_for("ledger.index")))
    return _refused_assignment(form, ids)


def _refused_assignment(form, ids):
    """The page the assignment came from again: the customer's page, or the customer list
    under the filters it showed, with the form's errors (422)."""
    back = urlsplit(_back(url_for("ledger.index")))
    if len(ids) == 1 and ids[0].isdecimal() and back.path == url_for("ledger.show", customer_id=ids[0]):
        return _refused_on_customer_page(int(ids[0]), assign_form=form)
    filters = queries.Filters.from_args(queries.args_of(back.geturl()), current_user)
    context = pages.customers_context(filters, list_endpoint="ledger.index", bulk_assign_form=form)
    return render("ledger/index.html", status=422, **context)


# ---- rule settings (admins change them, managers read their team's) -------------------


@bp.route("/rules", methods=["GET", "POST"])
@allowed(access.may_see_rules)
def rule_settings():
    can_change = access.may_change_rules(current_user)
    if request.method == "POST" and not can_change:
        raise Forbidden(_("Only administrators change the rules."))
    current = settings.current()
    form = SettingsForm(obj=current)
    if request.method == "GET":
        for grade in GRADES:
            overrides = (current.grade_periods or {}).get(grade, {})
            for kind in ("follow_up_days", "deal_days"):
                getattr(form, f"grade_{grade}_{kind}").data = overrides.get(kind)
    if form.validate_on_submit():
        values = {name: getattr(form, name).data for name in SETTING_FIELDS}
        grades = {
            grade: {
                kind: getattr(form, f"grade_{grade}_{kind}").data for kind in ("follow_up_days", "deal_days")
            }
            for grade in GRADES
        }
        try:
            update_settings(current_user, values, grades)
        except DomainError as error:
            add_form_error(form, error)
        else:
            flash(_("Rules saved; reclaim dates were recalculated."), "success")
            return see_other(url_for("rules.rule_settings"))
    teams = [team for team in accounts.teams() if access.may_see_team_rules(current_user, team)]
    people = owner_choices(current_user)  # once, not once per team
    strategies = {team.id: assignment.strategy_of(team.id) for team in teams}
    territories = assignment.territories([team.id for team in teams])
    return render(
        "rules/settings.html",
        form=form,
        can_change=can_change,
        setting_fields=SETTING_FIELDS,
        grades=GRADES,
        teams=teams,
        strategies=strategies,
        strategy_labels={s.value: s.label for s in Strategy},
        territories=territories,
        reps={team.id: [u for u in people if u.team_id == team.id and u.role == Role.REP] for team in teams},
        status=form_status(form),
    )


@bp.route("/rules/teams/<int:team_id>/strategy", methods=["POST"])
@allowed(access.may_change_rules)
def set_strategy(team_id):
    db.get_or_404(Team, team_id)
    form = StrategyForm()
    if not form.validate_on_submit():
        raise DomainError(_("Choose one of the offered values."), field="strategy")
    assignment.set_strategy(current_user, team_id, form.strategy.data)
    flash(_("Assignment strategy saved."), "success")
    return see_other(url_for("rules.rule_settings") + "#assignment")


@bp.route("/rules/teams/<int:team_id>/territories", methods=["POST"])
@allowed(access.may_change_rules)
def set_territories(team_id):
    db.get_or_404(Team, team_id)
    rows = assignment.territory_rows(
        *(request.form.getlist(name) for name in ("province", "city", "user_id"))
    )
    assignment.set_territories(current_user, team_id, rows)
    flash(_("Territories saved."), "success")
    return see_other(url_for("rules.rule_settings") + "#assignment")


@bp.route("/rules/ownership")
@allowed(access.may_see_ownership_history)
def ownership_report():
    filters = ownership.HistoryFilters.from_args(request.args)
    page = ownership.ownership_history(filters, page_number())
    users = accounts.everyone()
    return render(
        "rules/ownership.html",
        "rules/_ownership_rows.html",
        page=page,
        filters=filters,
        reasons=OWNERSHIP_REASONS,
        users=users,
    )
