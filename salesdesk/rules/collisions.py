"""Collision reports (撞单): a seller says an owned customer is theirs, the owner's
manager weighs the evidence and keeps, transfers or shares the customer."""

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from .. import audit, clock, signals
from ..auth.models import Role, User
from ..database import is_id, period_of, write_transaction
from ..errors import DomainError, Forbidden, NotFound
from ..extensions import db
from ..ledger import access as ledger_access
from ..ledger.models import Collaborator, CollaboratorEvent, CollaboratorStatus, FollowUp, OwnershipChange
from ..ledger.ownership import record_owner_change
from ..notifications import link, notify, register_kinds
from . import access
from .models import CollisionReport, Decision
from .ownership import end_collaborations

MAX_REASON = 2000  # the report's reason and the decision's
REPORTS_SHOWN = 200

audit.register_actions({"collision.decided": _l("Collision report decided")})
register_kinds(
    {
        "collision.filed": _l("%(reporter)s filed a collision report on %(customer)s"),
        "collision.decided": lambda p: _(
            "Collision report on %(customer)s decided: %(decision)s",
            customer=p["customer"],
            decision=Decision(p["decision"]).label,
        ),
    }
)


def file_collision(actor, customer_id, reason):
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Explain why this customer should be yours."), field="reason")
    if len(reason) > MAX_REASON:
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
        for user in [*access.deciders(customer.owner.team_id, actor.id, customer.owner_id), customer.owner]:
            notify(
                user,
                "collision.filed",
                link=link("rules.collision", report_id=report.id),
                reporter=actor.display_name,
                customer=customer.name,
            )
        signals.collision_filed.send(report, customer=customer)
    return report


def get_report_for(user, report_id):
    report = db.session.get(CollisionReport, report_id)
    if report is None:
        raise NotFound(_("This report does not exist."))
    if not access.may_see_report(user, report):
        raise Forbidden(_("You may not see this report."))
    return report


@dataclass
class ReportFilters:
    status: str = "open"
    team_id: int | None = None  # admins may narrow the lists to one team

    @classmethod
    def from_args(cls, args):
        team_id = args.get("team", type=int)
        return cls(
            status="decided" if args.get("status") == "decided" else "open",
            team_id=team_id if is_id(team_id) else None,
        )


def _reports(user, filters):
    """Collision reports in the user's lists."""
    query = select(CollisionReport).where(
        CollisionReport.status == filters.status, access.reports_listed_clause(user)
    )
    if user.role == Role.ADMIN and filters.team_id is not None:
        query = query.where(CollisionReport.team_id == filters.team_id)
    return query


def reports_for(user, filters):
    query = _reports(user, filters).order_by(CollisionReport.created_at.desc())
    return db.session.scalars(query.limit(REPORTS_SHOWN)).all()


def open_reports_involving(user, limit):
    """Open reports the user filed or that are about their customer (their workbench)."""
    query = select(CollisionReport).where(CollisionReport.status == "open", access.involving(user))
    return db.session.scalars(query.order_by(CollisionReport.created_at.desc()).limit(limit)).all()


def count_reports(user, filters):
    return db.session.scalar(select(func.count()).select_from(_reports(user, filters).subquery()))


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
    if len(note) > MAX_REASON:
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
            end_collaborations(customer, actor)
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
                link=link("rules.collision", report_id=report.id),
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
