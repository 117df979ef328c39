"""Assignment and anti-collision rules (分配与防撞单): the public pool, claims and their
limits, protection periods and reclaim, cooldowns, extensions, collision reports,
assignment of new leads, and hand-over when a user is deactivated. No HTTP here."""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, insert, or_, select, update

from .. import audit, clock, settings, signals
from ..auth.models import Role, User
from ..database import period_of, write_transaction
from ..errors import Conflict, DomainError, Forbidden, NotFound
from ..extensions import db
from ..jobs import periodic
from ..ledger import access as ledger_access
from ..ledger.models import (
    Collaborator,
    CollaboratorEvent,
    CollaboratorStatus,
    Customer,
    FollowUp,
    OwnershipChange,
    Stage,
)
from ..ledger.ownership import record_owner_change
from ..notifications import Notification, notify, register_kinds, with_dates
from ..settings import RuleSettings
from . import access
from .models import (
    CollisionReport,
    Decision,
    Extension,
    ExtensionStatus,
    Strategy,
    TeamAssignment,
    Territory,
)

RECLAIM_REASONS = ("reclaim_no_follow_up", "reclaim_no_deal")
MAX_EXTENSION_DAYS = 90
RECLAIM_BATCH = 1000

audit.register_actions(
    {
        "rules.settings_changed": _l("Rule settings changed"),
        "rules.strategy_changed": _l("Assignment strategy changed"),
        "rules.territories_changed": _l("Territories changed"),
        "customer.assigned": _l("Customers assigned"),
        "collision.decided": _l("Collision report decided"),
    }
)
register_kinds(
    {
        "customer.assigned": _l("%(actor)s assigned %(customer)s to you"),
        "reclaim.warning": with_dates(
            _l("%(customer)s returns to the public pool on %(date)s unless you act"), "date"
        ),
        "reclaim.done": lambda p: _(
            "%(customer)s returned to the public pool: %(rule)s",
            customer=p["customer"],
            rule=RULE_LABELS[p["rule_code"]],
        ),
        "collision.filed": _l("%(reporter)s filed a collision report on %(customer)s"),
        "collision.decided": lambda p: _(
            "Collision report on %(customer)s decided: %(decision)s",
            customer=p["customer"],
            decision=Decision(p["decision"]).label,
        ),
        "extension.requested": _l("%(owner)s asks for %(days)s more days on %(customer)s"),
        "extension.granted": _l("You have %(days)s more days on %(customer)s"),
        "extension.declined": _l("Your extension request on %(customer)s was declined"),
    }
)
RULE_LABELS = {
    "reclaim_no_follow_up": _l("no follow-up in time"),
    "reclaim_no_deal": _l("not won in time"),
}


def _link(customer):
    return f"/customers/{customer.id}"


def _day_start(user, now):
    """Midnight today in the user's time zone, as UTC."""
    zone = ZoneInfo(user.timezone)
    local = now.astimezone(zone)
    return datetime.combine(local.date(), time(), tzinfo=zone).astimezone(now.tzinfo)


# ---- settings ------------------------------------------------------------------------

SETTING_FIELDS = (
    "max_active_per_rep",
    "claims_per_day",
    "follow_up_days",
    "deal_days",
    "warning_days",
    "cooldown_days",
    "similarity_percent",
)
SETTING_RANGES = {
    "max_active_per_rep": (1, 100_000),
    "claims_per_day": (1, 10_000),
    "follow_up_days": (1, 3650),
    "deal_days": (1, 3650),
    "warning_days": (0, 365),
    "cooldown_days": (0, 3650),
    "similarity_percent": (50, 100),
}


def update_settings(actor, values, grade_periods):
    """Save the settings (audited) and recompute every reclaim date under them."""
    if not access.may_change_rules(actor):
        raise Forbidden(_("Only administrators change the rules."))
    for name, (low, high) in SETTING_RANGES.items():
        if not isinstance(values.get(name), int) or not low <= values[name] <= high:
            raise DomainError(
                _("Enter a whole number from %(low)s to %(high)s.", low=low, high=high), field=name
            )
    clean_grades = {}
    for grade, periods in grade_periods.items():
        kept = {key: days for key, days in periods.items() if days}
        if any(not isinstance(days, int) or not 1 <= days <= 3650 for days in kept.values()):
            raise DomainError(_("Periods are whole days from 1 to 3650."), field=f"grade_{grade}")
        if kept:
            clean_grades[grade] = kept
    with write_transaction() as session:
        row = session.get(RuleSettings, 1)
        if row is None:
            row = RuleSettings(id=1)
            session.add(row)
            before = dict(settings.DEFAULTS, grade_periods={})
        else:
            before = {name: getattr(row, name) for name in SETTING_FIELDS} | {
                "grade_periods": row.grade_periods
            }
        for name in SETTING_FIELDS:
            setattr(row, name, values[name])
        row.grade_periods = clean_grades
        row.updated_at = clock.now()
        after = dict(values, grade_periods=clean_grades)
        changes = {name: [before.get(name), after[name]] for name in after if before.get(name) != after[name]}
        if changes:
            audit.record("rules.settings_changed", actor=actor, changes=changes)
        settings.forget()
        recompute_all(row)
    return row


# ---- protection periods --------------------------------------------------------------


def deadline(customer, rules):
    """(when it returns to the pool, which rule fires), or (None, None) for a pool or
    won customer."""
    if customer.owner_id is None or customer.stage == Stage.WON or customer.deleted_at is not None:
        return None, None
    follow_days, deal_days = rules.periods_for(customer.grade)
    since = customer.owned_since or customer.created_at
    extra = timedelta(days=customer.extension_days or 0)
    # Only follow-ups during this ownership count: a fresh claim gets a full period.
    followed = max(customer.last_follow_up_at or since, since)
    by_follow_up = followed + timedelta(days=follow_days) + extra
    by_deal = since + timedelta(days=deal_days) + extra
    if by_follow_up <= by_deal:
        return by_follow_up, "reclaim_no_follow_up"
    return by_deal, "reclaim_no_deal"


@signals.customer_changed.connect
def refresh_protection(customer, **_kwargs):
    customer.reclaim_at, customer.reclaim_rule = deadline(customer, settings.current())


def recompute_all(rules=None):
    """Every owned customer's reclaim date under the current settings (after a change)."""
    rules = rules or settings.current()
    session = db.session
    columns = (
        Customer.id,
        Customer.owner_id,
        Customer.stage,
        Customer.deleted_at,
        Customer.grade,
        Customer.owned_since,
        Customer.created_at,
        Customer.last_follow_up_at,
        Customer.extension_days,
    )
    last_id = 0
    while True:
        rows = session.execute(
            select(*columns)
            .where(Customer.id > last_id, Customer.owner_id.is_not(None))
            .order_by(Customer.id)
            .limit(RECLAIM_BATCH)
        ).all()
        if not rows:
            return
        updates = []
        for row in rows:
            at, rule = deadline(row, rules)
            updates.append({"id": row.id, "reclaim_at": at, "reclaim_rule": rule})
        session.execute(update(Customer), updates)
        last_id = rows[-1].id


def days_left(customer, now):
    """Whole days until the customer returns to the pool (negative: overdue), or None."""
    if customer.reclaim_at is None:
        return None
    return (customer.reclaim_at - now).days


# ---- the pool: claim and release -----------------------------------------------------


def _lock_user(session, user):
    # Serialises one rep's claims on PostgreSQL so parallel claims cannot both pass a
    # limit (on SQLite, BEGIN IMMEDIATE already serialises writers).
    session.execute(select(User.id).where(User.id == user.id).with_for_update())


def active_count(user):
    return db.session.scalar(
        select(func.count())
        .select_from(Customer)
        .where(
            Customer.owner_id == user.id,
            Customer.stage.not_in([Stage.WON, Stage.LOST]),
            Customer.deleted_at.is_(None),
        )
    )


def claims_today(user, now):
    return db.session.scalar(
        select(func.count())
        .select_from(OwnershipChange)
        .where(
            OwnershipChange.to_user_id == user.id,
            OwnershipChange.reason == "claim",
            OwnershipChange.at >= _day_start(user, now),
        )
    )


def _cooldown_until(customer, user, rules, now):
    last = db.session.scalar(
        select(func.max(OwnershipChange.at)).where(
            OwnershipChange.customer_id == customer.id,
            OwnershipChange.from_user_id == user.id,
            OwnershipChange.reason.in_(("release", *RECLAIM_REASONS)),
        )
    )
    if last is not None and last + timedelta(days=rules.cooldown_days) > now:
        return last + timedelta(days=rules.cooldown_days)
    return None


def _taken_message(customer, actor):
    if customer.owner_id == actor.id:
        return _("You own this customer already.")
    return _("Already claimed by %(name)s.", name=customer.owner.display_name if customer.owner else "?")


def check_can_hold_more(user, rules, now, claiming=True):
    held = active_count(user)
    if held >= rules.max_active_per_rep:
        raise Conflict(
            _(
                "You hold %(count)s active customers; the limit is %(limit)s. Release or close some first.",
                count=held,
                limit=rules.max_active_per_rep,
            )
        )
    if claiming:
        claimed = claims_today(user, now)
        if claimed >= rules.claims_per_day:
            raise Conflict(
                _(
                    "You have claimed %(count)s customers today; the daily limit is %(limit)s.",
                    count=claimed,
                    limit=rules.claims_per_day,
                )
            )


def claim(actor, customer_id):
    """领取: one atomic conditional update; the limits are checked in the same transaction."""
    if not access.may_claim(actor):
        raise Forbidden(_("Only sales reps and managers claim customers."))
    rules = settings.current()
    now = clock.now()
    with write_transaction() as session:
        _lock_user(session, actor)
        customer = session.get(Customer, customer_id)
        if customer is None or customer.deleted_at is not None:
            raise NotFound(_("This customer does not exist or was deleted."))
        if not access.may_claim(actor, customer):
            raise Conflict(_taken_message(customer, actor))
        until = _cooldown_until(customer, actor, rules, now)
        if until is not None:
            raise Conflict(
                _(
                    "You gave this customer up recently; you can claim it again from %(date)s.",
                    date=format_date(until, "long"),
                )
            )
        check_can_hold_more(actor, rules, now)
        won = session.execute(
            update(Customer)
            .where(Customer.id == customer.id, Customer.owner_id.is_(None), Customer.deleted_at.is_(None))
            .values(owner_id=actor.id, updated_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not won:
            session.refresh(customer)  # someone else's claim committed first
            raise Conflict(_taken_message(customer, actor))
        customer.owner_id = None  # the history row records "from the pool"
        _end_collaborations(customer, actor)  # any left from before: nobody inherits them
        record_owner_change(customer, actor, "claim", actor, at=now)
        customer.updated_at = now
    return customer


def _end_collaborations(customer, actor):
    for collaboration in db.session.scalars(
        select(Collaborator).where(Collaborator.customer_id == customer.id)
    ):
        db.session.add(
            CollaboratorEvent(
                customer_id=customer.id,
                user_id=collaboration.user_id,
                action="removed",
                actor_id=actor.id if actor else None,
                at=clock.now(),
            )
        )
        db.session.delete(collaboration)


def release(actor, customer_id, reason):
    """Give a customer back to the pool, with a reason (owner, their manager, admins)."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Say why you release this customer."), field="reason")
    if len(reason) > 500:
        raise DomainError(_("The reason is too long (at most 500 characters)."), field="reason")
    with write_transaction():
        customer = ledger_access.get_customer_for(actor, customer_id)
        if not access.may_release(actor, customer):
            raise Forbidden(_("Only the owner, their manager or an administrator releases a customer."))
        _end_collaborations(customer, actor)
        record_owner_change(customer, None, "release", actor, note=reason)
        customer.updated_at = clock.now()
    return customer


# ---- reclaim ----------------------------------------------------------------------------


def _due(now):
    return (
        Customer.reclaim_at <= now,
        Customer.owner_id.is_not(None),
        Customer.stage != Stage.WON,
        Customer.deleted_at.is_(None),
    )


def reclaim_due(now=None):
    """Return every overdue customer to the pool: one history row and one notification
    each, the rule that fired recorded. Idempotent and safe to run in several
    processes at once: a customer moves only with the conditional update that wins."""
    now = now or clock.now()
    moved = 0
    while True:
        with write_transaction() as session:
            rows = session.execute(
                select(Customer.id, Customer.owner_id, Customer.reclaim_rule, Customer.name)
                .where(*_due(now))
                .order_by(Customer.id)
                .limit(RECLAIM_BATCH)
                .with_for_update(skip_locked=True)
            ).all()
            if not rows:
                return moved
            ids = [row.id for row in rows]
            session.execute(
                update(Customer)
                .where(Customer.id.in_(ids), *_due(now))
                .values(
                    owner_id=None,
                    owned_since=None,
                    reclaim_at=None,
                    reclaim_rule=None,
                    extension_days=0,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            session.execute(
                insert(OwnershipChange),
                [
                    {
                        "customer_id": row.id,
                        "from_user_id": row.owner_id,
                        "to_user_id": None,
                        "reason": row.reclaim_rule,
                        "actor_id": None,
                        "at": now,
                        "note": "",
                    }
                    for row in rows
                ],
            )
            collaborations = session.execute(
                select(Collaborator.customer_id, Collaborator.user_id).where(
                    Collaborator.customer_id.in_(ids)
                )
            ).all()
            if collaborations:
                session.execute(
                    insert(CollaboratorEvent),
                    [
                        {
                            "customer_id": c.customer_id,
                            "user_id": c.user_id,
                            "action": "removed",
                            "actor_id": None,
                            "at": now,
                        }
                        for c in collaborations
                    ],
                )
                session.execute(delete(Collaborator).where(Collaborator.customer_id.in_(ids)))
            session.execute(
                insert(Notification),
                [
                    {
                        "user_id": row.owner_id,
                        "kind": "reclaim.done",
                        "link": f"/customers/{row.id}",
                        "created_at": now,
                        "params": {"customer": row.name, "rule_code": row.reclaim_rule},
                    }
                    for row in rows
                ],
            )
            moved += len(rows)


def warn_due(now=None):
    """Warn owners once per deadline when a customer enters the warning window."""
    now = now or clock.now()
    rules = settings.current()
    horizon = now + timedelta(days=rules.warning_days)
    with write_transaction() as session:
        rows = session.execute(
            select(Customer.id, Customer.owner_id, Customer.name, Customer.reclaim_at).where(
                Customer.reclaim_at > now,
                Customer.reclaim_at <= horizon,
                Customer.owner_id.is_not(None),
                Customer.deleted_at.is_(None),
                or_(
                    Customer.reclaim_warned_for.is_(None), Customer.reclaim_warned_for != Customer.reclaim_at
                ),
            )
        ).all()
        if not rows:
            return 0
        session.execute(
            insert(Notification),
            [
                {
                    "user_id": row.owner_id,
                    "kind": "reclaim.warning",
                    "link": f"/customers/{row.id}",
                    "created_at": now,
                    "params": {"customer": row.name, "date": row.reclaim_at.date().isoformat()},
                }
                for row in rows
            ],
        )
        session.execute(
            update(Customer), [{"id": row.id, "reclaim_warned_for": row.reclaim_at} for row in rows]
        )
    return len(rows)


@periodic("reclaim")
def run_reclaim():
    """The periodic job (and `flask salesdesk reclaim`): warn, then reclaim."""
    return warn_due(), reclaim_due()


# ---- extensions (延期申请) -------------------------------------------------------------


def _deciders(team_id, *party_ids):
    """Who decides a request of the team: its active managers who are not a party to it;
    the administrators when no such manager remains."""
    managers = db.session.scalars(
        select(User).where(
            User.team_id == team_id,
            User.role == Role.MANAGER,
            User.active.is_(True),
            User.id.not_in(party_ids),
        )
    ).all()
    if managers:
        return managers
    return db.session.scalars(select(User).where(User.role == Role.ADMIN, User.active.is_(True))).all()


def request_extension(actor, customer_id, days, reason):
    reason = (reason or "").strip()
    if not reason or len(reason) > 500:
        raise DomainError(_("Give a reason (at most 500 characters)."), field="reason")
    if not isinstance(days, int) or not 1 <= days <= MAX_EXTENSION_DAYS:
        raise DomainError(_("Ask for 1 to %(n)s days.", n=MAX_EXTENSION_DAYS), field="days")
    now = clock.now()
    with write_transaction() as session:
        customer = ledger_access.get_customer_for(actor, customer_id)
        refusal = access.extension_refusal(actor, customer, now)
        if refusal is not None:
            raise refusal
        extension = Extension(
            customer_id=customer.id,
            requested_by_id=actor.id,
            reason=reason,
            requested_days=days,
            requested_at=now,
        )
        session.add(extension)
        for decider in _deciders(actor.team_id, actor.id):
            notify(
                decider,
                "extension.requested",
                link="/collisions#extensions",
                owner=actor.display_name,
                days=days,
                customer=customer.name,
            )
    return extension


def get_extension_for(user, extension_id):
    """The extension request, if `user` may decide it; else NotFound or Forbidden."""
    extension = db.session.get(Extension, extension_id)
    if extension is None:
        raise NotFound(_("This request does not exist."))
    if not access.may_decide_extension(user, extension):
        raise Forbidden(_("The owner's manager decides extension requests, never the one who asked."))
    return extension


def decide_extension(actor, extension_id, *, grant, days=0, note=""):
    note = (note or "").strip()[:500]
    with write_transaction():
        extension = get_extension_for(actor, extension_id)
        customer = extension.customer
        if extension.status != ExtensionStatus.PENDING:
            raise DomainError(_("This request has been decided already."))
        if customer.owner_id != extension.requested_by_id:
            raise DomainError(_("The customer changed owner since the request; it no longer applies."))
        if grant and (not isinstance(days, int) or not 1 <= days <= MAX_EXTENSION_DAYS):
            raise DomainError(_("Grant 1 to %(n)s days.", n=MAX_EXTENSION_DAYS), field="days")
        extension.status = ExtensionStatus.GRANTED if grant else ExtensionStatus.DECLINED
        extension.granted_days = days if grant else 0
        extension.decided_by_id, extension.decided_at, extension.decision_note = actor.id, clock.now(), note
        if grant:
            customer.extension_days += days
            refresh_protection(customer)
            notify(
                extension.requested_by_id,
                "extension.granted",
                link=_link(customer),
                days=days,
                customer=customer.name,
            )
        else:
            notify(
                extension.requested_by_id, "extension.declined", link=_link(customer), customer=customer.name
            )
    return extension


def pending_extensions(user):
    query = (
        select(Extension).where(Extension.status == ExtensionStatus.PENDING).order_by(Extension.requested_at)
    )
    if user.role != Role.ADMIN:
        query = (
            query.join(Customer)
            .join(User, User.id == Customer.owner_id)
            .where(User.team_id == user.team_id, Extension.requested_by_id != user.id)
        )
    return db.session.scalars(query).all()


def extensions_of(customer):
    return db.session.scalars(
        select(Extension).where(Extension.customer_id == customer.id).order_by(Extension.requested_at.desc())
    ).all()


# ---- collisions (撞单) -----------------------------------------------------------------


def file_collision(actor, customer_id, reason):
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Explain why this customer should be yours."), field="reason")
    if len(reason) > 2000:
        raise DomainError(_("The reason is too long (at most 2000 characters)."), field="reason")
    with write_transaction() as session:
        customer = ledger_access.get_customer_for(actor, customer_id)
        refusal = access.collision_refusal(actor, customer)
        if refusal is not None:
            raise refusal
        report = CollisionReport(
            customer_id=customer.id,
            reporter_id=actor.id,
            owner_id=customer.owner_id,
            team_id=customer.owner.team_id,
            reason=reason,
            created_at=clock.now(),
        )
        session.add(report)
        session.flush()
        for user in [*_deciders(customer.owner.team_id, actor.id, customer.owner_id), customer.owner]:
            notify(
                user,
                "collision.filed",
                link=f"/collisions/{report.id}",
                reporter=actor.display_name,
                customer=customer.name,
            )
    return report


def get_report_for(user, report_id):
    report = db.session.get(CollisionReport, report_id)
    if report is None:
        raise NotFound(_("This report does not exist."))
    if not access.may_see_report(user, report):
        raise Forbidden(_("You may not see this report."))
    return report


def _reports(user, status, team_id=None):
    """Collision reports in the user's lists; admins may narrow them to one team."""
    query = select(CollisionReport).where(
        CollisionReport.status == status, access.reports_listed_clause(user)
    )
    if user.role == Role.ADMIN and team_id is not None:
        query = query.where(CollisionReport.team_id == team_id)
    return query


def reports_for(user, status="open"):
    query = _reports(user, status).order_by(CollisionReport.created_at.desc())
    return db.session.scalars(query.limit(200)).all()


def open_reports_involving(user, limit):
    """Open reports the user filed or that are about their customer (their workbench)."""
    query = select(CollisionReport).where(CollisionReport.status == "open", access.involving(user))
    return db.session.scalars(query.order_by(CollisionReport.created_at.desc()).limit(limit)).all()


def count_reports(user, status="open", team_id=None):
    return db.session.scalar(select(func.count()).select_from(_reports(user, status, team_id).subquery()))


@dataclass(frozen=True)
class Glimpse:
    """A follow-up or ownership change in a report's evidence, as one viewer may see it:
    when and who for everyone involved; the text (a follow-up's content, a change's
    remark) only for those who may read the customer's timeline, else None."""

    at: datetime
    text: str | None
    actor: User | None = None
    to_user: User | None = None
    reason: str = ""
    reason_label: str = ""


def evidence(report, viewer):
    """What the manager weighs, side by side: the ownership history (who created or
    claimed first) and each side's first and last follow-up on this customer. Pages and
    fragments alike show only this, so the texts stay with those who may read them."""
    customer = report.customer
    readable = access.may_read_follow_ups(viewer, customer)
    history = [
        Glimpse(
            at=row.at,
            text=row.note if readable else None,
            actor=row.actor,
            to_user=row.to_user,
            reason=row.reason,
            reason_label=row.reason_label,
        )
        for row in db.session.scalars(
            select(OwnershipChange)
            .where(OwnershipChange.customer_id == customer.id)
            .order_by(OwnershipChange.at)
        )
    ]

    def follow_up(row):
        return Glimpse(at=row.occurred_at, text=row.content if readable else None) if row else None

    def side(user_id):
        follow_ups = select(FollowUp).where(
            FollowUp.customer_id == customer.id, FollowUp.author_id == user_id
        )
        first = db.session.scalars(follow_ups.order_by(FollowUp.occurred_at).limit(1)).first()
        last = db.session.scalars(follow_ups.order_by(FollowUp.occurred_at.desc()).limit(1)).first()
        count = db.session.scalar(select(func.count()).select_from(follow_ups.subquery()))
        first_owned = next((row for row in history if row.to_user and row.to_user.id == user_id), None)
        return {
            "first": follow_up(first),
            "last": follow_up(last),
            "count": count,
            "first_owned": first_owned,
        }

    return {
        "history": history,
        "owner": side(report.owner_id),
        "reporter": side(report.reporter_id),
        "readable": readable,
    }


def decide_collision(actor, report_id, decision, note):
    note = (note or "").strip()
    if not note:
        raise DomainError(_("Write down the reason for the decision."), field="note")
    if len(note) > 2000:
        raise DomainError(_("The reason is too long (at most 2000 characters)."), field="note")
    try:
        decision = Decision(decision)
    except ValueError:
        raise DomainError(_("Choose one of the offered values."), field="decision") from None
    with write_transaction() as session:
        report = session.get(CollisionReport, report_id)
        if report is None:
            raise NotFound(_("This report does not exist."))
        if report.status != "open":
            raise DomainError(_("This report has been decided already."))
        if not access.may_decide(actor, report):
            raise Forbidden(_("The owner's manager decides collision reports, never a party to them."))
        customer, reporter = report.customer, report.reporter
        if decision != Decision.KEEP and not reporter.active:
            raise DomainError(_("The reporter is no longer active."), field="decision")
        if decision == Decision.TRANSFER and not access.may_transfer_to(reporter):
            raise DomainError(_("The reporter no longer sells: they cannot own customers."), field="decision")
        if decision == Decision.TRANSFER:
            _end_collaborations(customer, actor)
            record_owner_change(customer, reporter, "arbitration", actor, note=note)
        elif decision == Decision.COLLABORATE:
            existing = session.scalar(
                select(Collaborator).where(
                    Collaborator.customer_id == customer.id, Collaborator.user_id == reporter.id
                )
            )
            if existing is None:
                session.add(
                    Collaborator(
                        customer_id=customer.id, user_id=reporter.id, status=CollaboratorStatus.ACTIVE
                    )
                )
            else:
                existing.status = CollaboratorStatus.ACTIVE
            session.add(
                CollaboratorEvent(
                    customer_id=customer.id,
                    user_id=reporter.id,
                    action="added",
                    actor_id=actor.id,
                    at=clock.now(),
                )
            )
        report.status, report.decision, report.decision_note = "decided", decision.value, note
        report.decided_by_id, report.decided_at = actor.id, clock.now()
        audit.record(
            "collision.decided", actor=actor, subject=customer, decision=decision.value, report=report.id
        )
        for user_id in {report.reporter_id, report.owner_id} - {None}:
            notify(
                user_id,
                "collision.decided",
                link=f"/collisions/{report.id}",
                customer=customer.name,
                decision=decision.value,
            )
    return report


def blocked_duplicates_per_month(user, months=6, team_id=None):
    """[(month 'YYYY-MM', blocked creations)], newest first, for the manager's team
    (admins: all teams, or the one they pick); months without any are left out."""
    scoped = user.role != Role.ADMIN or team_id is not None
    if user.role != Role.ADMIN:
        team_id = user.team_id
    starts = clock.month_starts(user.timezone, months)
    month = period_of(audit.AuditEvent.at, starts).label("month")
    query = (
        select(month, func.count())
        .where(audit.AuditEvent.action == "customer.duplicate_blocked", audit.AuditEvent.at >= starts[0])
        .group_by(month)
    )
    if scoped:
        query = query.where(audit.AuditEvent.details["team_id"].as_integer() == team_id)
    counts = db.session.execute(query).all()
    return [(starts[index].strftime("%Y-%m"), count) for index, count in sorted(counts, reverse=True)]


# ---- assignment (线索分配) --------------------------------------------------------------


def strategy_of(team_id):
    row = db.session.get(TeamAssignment, team_id) if team_id else None
    return Strategy(row.strategy) if row else Strategy.POOL


def _team_reps(team_id):
    return db.session.scalars(
        select(User)
        .where(User.team_id == team_id, User.role == Role.REP, User.active.is_(True))
        .order_by(User.id)
    ).all()


def _active_counts(user_ids):
    rows = db.session.execute(
        select(Customer.owner_id, func.count())
        .where(
            Customer.owner_id.in_(user_ids),
            Customer.stage.not_in([Stage.WON, Stage.LOST]),
            Customer.deleted_at.is_(None),
        )
        .group_by(Customer.owner_id)
    ).all()
    return Counter(dict(rows))


class _Picker:
    """Chooses owners for a team's new leads, one after another in one transaction."""

    def __init__(self, team_id):
        self.team_id = team_id
        self.strategy = strategy_of(team_id)
        self.rules = settings.current()
        self.reps = _team_reps(team_id) if team_id else []
        self.load = _active_counts([rep.id for rep in self.reps]) if self.reps else Counter()
        self.row = (
            db.session.execute(
                select(TeamAssignment).where(TeamAssignment.team_id == team_id).with_for_update()
            ).scalar_one_or_none()
            if team_id
            else None
        )
        self.territories = {}
        if self.strategy == Strategy.TERRITORY:
            for territory in db.session.scalars(select(Territory).where(Territory.team_id == team_id)):
                self.territories[(territory.province, territory.city)] = territory.user

    def _available(self, rep):
        return rep.active and self.load[rep.id] < self.rules.max_active_per_rep

    def pick(self, customer):
        candidates = [rep for rep in self.reps if self._available(rep)]
        chosen = None
        if self.strategy == Strategy.ROUND_ROBIN and candidates:
            last = self.row.last_assigned_id or 0
            chosen = next((rep for rep in candidates if rep.id > last), candidates[0])
            self.row.last_assigned_id = chosen.id
        elif self.strategy == Strategy.LEAST_LOADED and candidates:
            chosen = min(candidates, key=lambda rep: (self.load[rep.id], rep.id))
        elif self.strategy == Strategy.TERRITORY:
            rep = self.territories.get((customer.province, customer.city)) or self.territories.get(
                (customer.province, "")
            )
            chosen = rep if rep is not None and self._available(rep) else None
        if chosen is not None:
            self.load[chosen.id] += 1
        return chosen


@signals.customers_need_owner.connect
def assign_by_strategy(actor, customers):
    """New customers without an owner: the team's strategy picks one (or the pool)."""
    pickers = {}
    for customer in customers:
        picker = pickers.get(customer.team_id) or pickers.setdefault(
            customer.team_id, _Picker(customer.team_id)
        )
        owner = picker.pick(customer)
        if owner is not None:
            record_owner_change(customer, owner, "assign", actor, note=str(picker.strategy.label))
            notify(
                owner,
                "customer.assigned",
                link=_link(customer),
                actor=actor.display_name,
                customer=customer.name,
            )


def assign(actor, customer_ids, user_id, reason):
    """Managers assign (from the pool) and transfer (from someone) within their team;
    admins anywhere. All the selected customers, or none."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give a reason for the assignment."), field="reason")
    if len(reason) > 500:
        raise DomainError(_("The reason is too long (at most 500 characters)."), field="reason")
    if not access.may_assign(actor):
        raise Forbidden(_("Only managers and administrators assign customers."))
    ids = sorted({int(customer_id) for customer_id in customer_ids})
    if not ids or len(ids) > 500:
        raise DomainError(_("Select 1 to 500 customers."))
    with write_transaction() as session:
        owner = session.get(User, user_id)
        if not access.may_transfer_to(owner):
            raise DomainError(_("Choose an active rep or manager."), field="user_id")
        if not access.may_assign_to(actor, owner):
            raise Forbidden(_("Managers assign customers within their own team."))
        customers = session.scalars(
            select(Customer).where(Customer.id.in_(ids), Customer.deleted_at.is_(None))
        ).all()
        if len(customers) != len(ids):
            raise NotFound(_("Some of the selected customers do not exist any more."))
        for customer in customers:
            if not access.may_assign_customer(actor, customer):
                raise Forbidden(_("%(name)s is not a customer of your team.", name=customer.name))
        moving = [customer for customer in customers if customer.owner_id != owner.id]
        for customer in moving:
            if customer.owner_id != owner.id:
                _end_collaborations(customer, actor)
            record_owner_change(
                customer, owner, "assign" if customer.owner_id is None else "transfer", actor, note=reason
            )
            customer.updated_at = clock.now()
            notify(
                owner,
                "customer.assigned",
                link=_link(customer),
                actor=actor.display_name,
                customer=customer.name,
            )
        audit.record(
            "customer.assigned", actor=actor, subject=owner, customers=[c.id for c in moving], reason=reason
        )
    return moving


def set_strategy(actor, team_id, strategy):
    if not access.may_change_rules(actor):
        raise Forbidden(_("Only administrators change the rules."))
    try:
        strategy = Strategy(strategy)
    except ValueError:
        raise DomainError(_("Choose one of the offered values."), field="strategy") from None
    with write_transaction() as session:
        row = session.get(TeamAssignment, team_id) or TeamAssignment(team_id=team_id)
        before = row.strategy
        row.strategy = strategy
        session.add(row)
        if before != strategy:
            audit.record(
                "rules.strategy_changed", actor=actor, team_id=team_id, changes=[before, strategy.value]
            )


def set_territories(actor, team_id, rows):
    """Replace a team's territories with [(province, city, user_id)]."""
    if not access.may_change_rules(actor):
        raise Forbidden(_("Only administrators change the rules."))
    with write_transaction() as session:
        members = {user.id for user in _team_reps(team_id)}
        seen = set()
        for province, city, user_id in rows:
            if user_id not in members:
                raise DomainError(_("A territory goes to an active rep of the team."), field="territories")
            if (province, city) in seen:
                raise DomainError(
                    _("%(region)s is listed twice.", region=f"{province} {city}".strip()), field="territories"
                )
            seen.add((province, city))
        session.execute(delete(Territory).where(Territory.team_id == team_id))
        session.add_all(Territory(team_id=team_id, province=p, city=c, user_id=u) for p, c, u in rows)
        audit.record(
            "rules.territories_changed", actor=actor, team_id=team_id, territories=[list(r) for r in rows]
        )


# ---- hand-over on deactivation -------------------------------------------------------


@signals.user_deactivated.connect
def hand_over(user, actor, successor=None):
    """Nothing stays with an inactive owner: to the successor, or to the pool."""
    customers = db.session.scalars(select(Customer).where(Customer.owner_id == user.id)).all()
    for customer in customers:
        if successor is None:
            _end_collaborations(customer, actor)  # a pool customer has no collaborators
        record_owner_change(customer, successor, "user_deactivated", actor)
        customer.updated_at = clock.now()
        if successor is not None:
            notify(
                successor,
                "customer.assigned",
                link=_link(customer),
                actor=actor.display_name,
                customer=customer.name,
            )
    db.session.execute(delete(Collaborator).where(Collaborator.user_id == user.id))
    for extension in db.session.scalars(
        select(Extension).where(
            Extension.requested_by_id == user.id, Extension.status == ExtensionStatus.PENDING
        )
    ):
        extension.status = ExtensionStatus.DECLINED
        extension.decided_by_id, extension.decided_at = actor.id, clock.now()


def ownership_history(filters, page, per_page=50):
    query = select(OwnershipChange).order_by(OwnershipChange.at.desc(), OwnershipChange.id.desc())
    if filters.get("reason"):
        query = query.where(OwnershipChange.reason == filters["reason"])
    if filters.get("user"):
        query = query.where(
            or_(
                OwnershipChange.from_user_id == filters["user"], OwnershipChange.to_user_id == filters["user"]
            )
        )
    if filters.get("customer"):
        query = query.where(OwnershipChange.customer_id == filters["customer"])
    return db.paginate(query, page=page, per_page=per_page, max_per_page=per_page, error_out=False)
