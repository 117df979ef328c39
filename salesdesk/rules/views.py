from flask import flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from .. import clock, settings
from ..auth import allowed
from ..auth.models import Role, Team, User
from ..errors import Conflict, DomainError, Forbidden
from ..extensions import db
from ..forms import choices
from ..ledger import access as ledger_access
from ..ledger import queries
from ..ledger.models import GRADES, OWNERSHIP_REASONS
from ..ledger.ownership import owner_choices
from ..ledger.views import list_context
from ..web import add_form_error, form_status, is_htmx, render, safe_next_url, see_other
from . import access, bp, services
from .forms import (
    AssignForm,
    CollisionForm,
    DecisionForm,
    ExtensionDecisionForm,
    ExtensionForm,
    ReasonForm,
    SettingsForm,
    StrategyForm,
)
from .models import Decision, Strategy, Territory


def _back(default):
    return safe_next_url(request.form.get("next") or request.args.get("next"), default)


# ---- the pool -------------------------------------------------------------------------


@bp.route("/pool")
def pool():
    filters = queries.Filters.from_args(request.args)
    filters.owner = "pool"
    context = list_context(filters, pool_page=True, can_claim=access.may_claim(current_user))
    return render("rules/pool.html", "rules/_pool_results.html", **context)


@bp.route("/customers/<int:customer_id>/claim", methods=["POST"])
def claim(customer_id):
    customer = services.claim(current_user, customer_id)
    flash(
        _("%(name)s is yours now. Follow it up within the protection period.", name=customer.name), "success"
    )
    if is_htmx():
        # The pool row becomes a "claimed" row; the toast says so.
        return render("rules/_claimed_row.html", customer=customer)
    return see_other(_back(url_for("ledger.show", customer_id=customer.id)))


@bp.route("/customers/<int:customer_id>/release", methods=["POST"])
def release(customer_id):
    form = ReasonForm()
    if not form.validate_on_submit():
        raise DomainError(_("Say why you release this customer."))
    customer = services.release(current_user, customer_id, form.reason.data)
    flash(_("%(name)s is back in the public pool.", name=customer.name), "success")
    return see_other(url_for("ledger.show", customer_id=customer_id))


# ---- extensions -----------------------------------------------------------------------


@bp.route("/customers/<int:customer_id>/extension", methods=["POST"])
def request_extension(customer_id):
    form = ExtensionForm()
    if not form.validate_on_submit():
        raise DomainError(_("Ask for 1 to %(n)s days and give a reason.", n=services.MAX_EXTENSION_DAYS))
    services.request_extension(current_user, customer_id, form.days.data, form.reason.data)
    flash(_("Extension requested; your manager decides."), "success")
    return see_other(url_for("ledger.show", customer_id=customer_id))


@bp.route("/extensions/<int:extension_id>/<any(grant, decline):answer>", methods=["POST"])
def decide_extension(extension_id, answer):
    services.get_extension_for(current_user, extension_id)  # 404 or 403 before the form's 400
    form = ExtensionDecisionForm()
    if not form.validate_on_submit():
        raise DomainError(_("Grant 1 to %(n)s days.", n=services.MAX_EXTENSION_DAYS))
    services.decide_extension(
        current_user,
        extension_id,
        grant=answer == "grant",
        days=form.days.data or 0,
        note=form.note.data or "",
    )
    flash(_("Extension granted.") if answer == "grant" else _("Extension declined."), "success")
    return see_other(_back(url_for("rules.collisions") + "#extensions"))


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
            report = services.file_collision(current_user, customer.id, form.reason.data)
        except DomainError as error:
            add_form_error(form, error)
        else:
            flash(_("Report filed. The owner's manager will decide and tell you both."), "success")
            return see_other(url_for("rules.collision", report_id=report.id))
    return render("rules/collision_form.html", customer=customer, form=form, status=form_status(form))


@bp.route("/collisions")
def collisions():
    shown = "decided" if request.args.get("status") == "decided" else "open"
    manager_view = access.may_see_extension_requests(current_user)
    return render(
        "rules/collisions.html",
        reports=services.reports_for(current_user, shown),
        shown=shown,
        manager_view=manager_view,
        extensions=services.pending_extensions(current_user) if manager_view else [],
        blocked=services.blocked_duplicates_per_month(current_user) if manager_view else [],
        decision_form=ExtensionDecisionForm(formdata=None),
    )


@bp.route("/collisions/<int:report_id>", methods=["GET", "POST"])
def collision(report_id):
    report = services.get_report_for(current_user, report_id)
    form = decision_form(report)
    can_decide = access.may_decide(current_user, report)
    if request.method == "POST":
        if report.status != "open":
            raise Conflict(_("This report has been decided already."))
        if not can_decide:
            raise Forbidden(_("The owner's manager decides collision reports."))
        if form.validate_on_submit():
            try:
                services.decide_collision(current_user, report.id, form.decision.data, form.note.data)
            except DomainError as error:
                add_form_error(form, error)
            else:
                flash(_("Decision saved; both sides have been told."), "success")
                return see_other(url_for("rules.collision", report_id=report.id))
    return render(
        "rules/collision.html",
        "rules/_collision.html",
        report=report,
        evidence=services.evidence(report, current_user),
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


def assign_form(sellers=None):
    """sellers: everyone who can hold customers, when the page has them already."""
    form = AssignForm()
    form.user_id.choices = choices(
        (user.id, f"{user.display_name} · {user.team_name or ''}")
        for user in owner_choices(current_user, sellers)
    )
    return form


@bp.route("/customers/assign", methods=["POST"])
@allowed(access.may_assign)
def assign():
    form = assign_form()
    ids = request.form.getlist("customer_ids")
    if not form.validate_on_submit() or not all(value.isdecimal() for value in ids):
        raise DomainError(_("Choose a person, give a reason and select customers."))
    moved = services.assign(current_user, [int(value) for value in ids], form.user_id.data, form.reason.data)
    flash(_("%(n)s customers assigned.", n=len(moved)), "success")
    return see_other(_back(url_for("ledger.index")))


# ---- rule settings (admins) -------------------------------------------------------------


@bp.route("/rules", methods=["GET", "POST"])
@allowed(access.may_change_rules)
def rule_settings():
    current = settings.current()
    form = SettingsForm(obj=current)
    if request.method == "GET":
        for grade in GRADES:
            overrides = (current.grade_periods or {}).get(grade, {})
            for kind in ("follow_up_days", "deal_days"):
                getattr(form, f"grade_{grade}_{kind}").data = overrides.get(kind)
    if form.validate_on_submit():
        values = {name: getattr(form, name).data for name in services.SETTING_FIELDS}
        grades = {
            grade: {
                kind: getattr(form, f"grade_{grade}_{kind}").data for kind in ("follow_up_days", "deal_days")
            }
            for grade in GRADES
        }
        try:
            services.update_settings(current_user, values, grades)
        except DomainError as error:
            add_form_error(form, error)
        else:
            flash(_("Rules saved; reclaim dates were recalculated."), "success")
            return see_other(url_for("rules.rule_settings"))
    teams = db.session.scalars(select(Team).order_by(Team.name)).all()
    people = owner_choices(current_user)  # once, not once per team
    strategies = {team.id: services.strategy_of(team.id) for team in teams}
    territories = db.session.scalars(
        select(Territory).order_by(Territory.team_id, Territory.province, Territory.city)
    ).all()
    return render(
        "rules/settings.html",
        form=form,
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
    services.set_strategy(current_user, team_id, form.strategy.data)
    flash(_("Assignment strategy saved."), "success")
    return see_other(url_for("rules.rule_settings") + "#assignment")


@bp.route("/rules/teams/<int:team_id>/territories", methods=["POST"])
@allowed(access.may_change_rules)
def set_territories(team_id):
    db.get_or_404(Team, team_id)
    columns = [request.form.getlist(name) for name in ("province", "city", "user_id")]
    if len({len(column) for column in columns}) > 1:
        # The page sends every row whole; a column left out would have dropped every row.
        raise DomainError(_("Each territory row needs a province, a city and a rep."), field="territories")
    rows = []
    for province, city, user_id in zip(*columns, strict=True):
        province, city = province.strip()[:20], city.strip()[:30]
        # A row without a rep ("—") is dropped; a forged rep ("-1", "abc") is refused.
        if province and user_id and not user_id.isdecimal():
            raise DomainError(_("A territory goes to an active rep of the team."), field="territories")
        if province and user_id:
            rows.append((province, city, int(user_id)))
    services.set_territories(current_user, team_id, rows)
    flash(_("Territories saved."), "success")
    return see_other(url_for("rules.rule_settings") + "#assignment")


@bp.route("/rules/ownership")
@allowed(access.may_see_ownership_history)
def ownership_report():
    filters = {
        "reason": request.args.get("reason") if request.args.get("reason") in OWNERSHIP_REASONS else None,
        "user": request.args.get("user", type=int),
        "customer": request.args.get("customer", type=int),
    }
    page = services.ownership_history(filters, max(1, request.args.get("page", 1, type=int)))
    users = db.session.scalars(select(User).order_by(User.display_name)).all()
    return render(
        "rules/ownership.html",
        "rules/_ownership_rows.html",
        page=page,
        filters=filters,
        reasons=OWNERSHIP_REASONS,
        users=users,
    )


# ---- the rules' part of the customer page -----------------------------------------------


@bp.app_context_processor
def customer_page_helpers():
    """The rules' parts of ledger pages: what they show and offer, as the services decide."""
    return {
        "customer_rules": customer_rules,
        "bulk_assign_form": assign_form,
        "may_assign": lambda: access.may_assign(current_user),
        "may_file_collision": lambda customer: access.may_file_collision(current_user, customer),
    }


def customer_rules(customer):
    """What the customer page shows and offers about pool, protection and collisions."""
    user = current_user
    now = clock.now()
    extensions = services.extensions_of(customer) if access.may_see_extensions(user, customer) else []
    rules = {
        "days_left": services.days_left(customer, now),
        "can_claim": access.may_claim(user, customer),
        "can_release": access.may_release(user, customer),
        "can_request_extension": access.may_request_extension(user, customer, now),
        "extensions": extensions,
        "decidable_extensions": {
            extension.id for extension in extensions if access.may_decide_extension(user, extension)
        },
        "can_file_collision": access.may_file_collision(user, customer),
        "reason_form": ReasonForm(formdata=None),
        "extension_form": ExtensionForm(formdata=None),
        "decision_form": ExtensionDecisionForm(formdata=None),
    }
    if access.may_assign_customer(user, customer):
        rules["assign_form"] = assign_form()
    return rules
