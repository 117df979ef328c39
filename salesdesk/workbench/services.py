"""The workbench (工作台): what a rep and a manager see first, gathered from the ledger,
the rules, the knowledge base and recognition; and the daily follow-up reminders."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, text, true, update

from .. import clock, settings
from ..auth.models import Team, User
from ..database import is_id, period_of, write_transaction
from ..errors import NotFound
from ..extensions import db
from ..jobs import periodic
from ..kb import paths
from ..ledger.models import WON_AND_LISTED, Collaborator, CollaboratorStatus, Customer, OwnershipChange, Stage
from ..notifications import Notification, link, register_kinds, with_dates
from ..recognition import leaderboard as recognition
from ..rules import collisions
from . import access

PANEL_LIMIT = 8
TREND_MONTHS = 6

_overdue_message = with_dates(_l("The follow-up of %(customer)s is overdue (due %(due)s)"), "due")
register_kinds(
    {
        "follow_up.due": lambda p: (
            _("Follow up %(customer)s today", customer=p["customer"])
            if p["due"] == p["today"]
            else _overdue_message(p)
        ),
    }
)


def _open(query):
    return query.where(Customer.deleted_at.is_(None))


@dataclass
class Panel:
    """Some rows and how many there are in all (the link leads to all of them)."""

    rows: list
    total: int


def _panel(query, order, limit=PANEL_LIMIT):
    # The total comes with the first rows (a window count), in one statement.
    rows = db.session.execute(query.add_columns(func.count().over()).order_by(*order).limit(limit)).all()
    return Panel([row[0] for row in rows], rows[0][1] if rows else 0)


# ---- a rep's home -----------------------------------------------------------------------


def rep_home(user):
    now = clock.now()
    today = clock.today(user.timezone)
    mine = _open(select(Customer).where(Customer.owner_id == user.id))
    due = _panel(
        mine.where(Customer.next_follow_up_on <= today),
        [Customer.next_follow_up_on, Customer.id],
    )
    rules = settings.current()
    reclaim = _panel(
        mine.where(Customer.reclaim_at <= rules.reclaim_horizon(now)), [Customer.reclaim_at, Customer.id]
    )
    requests_to_me = db.session.scalars(
        select(Collaborator)
        .join(Customer, Customer.id == Collaborator.customer_id)
        .where(Customer.owner_id == user.id, Collaborator.status == CollaboratorStatus.REQUESTED)
        .order_by(Collaborator.created_at)
    ).all()
    my_requests = db.session.scalars(
        select(Collaborator)
        .where(Collaborator.user_id == user.id, Collaborator.status == CollaboratorStatus.REQUESTED)
        .order_by(Collaborator.created_at)
    ).all()
    standings = recognition.current_standings(user)
    user_id = user.id  # once: `user` may be the current_user proxy
    return {
        "today": today,
        "now": now,
        "due": due,
        "reclaim": reclaim,
        "countdowns": {customer.id: rules.countdown(customer.reclaim_at, now) for customer in reclaim.rows},
        "collisions": collisions.open_reports_involving(user, PANEL_LIMIT),
        "requests_to_me": requests_to_me,
        "my_requests": my_requests,
        "learning": paths.my_assignments(user),
        "standing": next((s for s in standings if s.user_id == user_id), None),
        "ranked": len(standings),
        "standings": standings,
    }


# ---- a manager's home -------------------------------------------------------------------


@dataclass
class PipelineStage:
    stage: Stage
    count: int = 0
    amount: object = 0


@dataclass
class ManagerHome:
    team: Team | None
    pipeline: list
    trend: list  # [(month start date, won count, won amount)]
    overdue_by_rep: list  # [(user, count)], the most behind first
    pool_size: int
    team_pool_size: int
    claims_this_week: int
    blocked_this_month: int
    open_collisions: int
    learning: list
    top: list


def _covered_by(query, index):
    """On SQLite, read the customers through `index`, which holds every column the
    query needs: with sampled statistics SQLite may walk another index and read 100,000
    table rows (233 ms instead of 13). PostgreSQL's planner needs no hint."""
    return query.with_hint(Customer, f"INDEXED BY {index}", dialect_name="sqlite")


def _team_scope(column, team):
    return column == team.id if team is not None else true()


def manager_home(viewer, team, company_standings=None):
    """The team's state at a glance; team None means the whole company (admins).
    company_standings: this month's, when the rep part of the home has them already."""
    zone = ZoneInfo(team.timezone if team else viewer.timezone)
    now = clock.now()
    today = now.astimezone(zone).date()
    in_team = _team_scope(Customer.team_id, team)
    owned = ~Customer.in_pool

    by_stage = {
        stage: (count, amount)
        for stage, count, amount in db.session.execute(
            _covered_by(
                _open(select(Customer.stage, func.count(), func.sum(Customer.expected_amount)))
                .where(in_team, owned)
                .group_by(Customer.stage),
                "ix_customers_team_stage" if team else "ix_customers_stage_owner",
            )
        )
    }
    pipeline = [
        PipelineStage(stage, *by_stage.get(stage.value, (0, 0))) for stage in Stage if stage != Stage.LOST
    ]

    starts = clock.month_starts(zone.key, TREND_MONTHS)
    month = period_of(Customer.won_at, starts).label("month")
    wins = {
        index: (count, amount)
        for index, count, amount in db.session.execute(
            _covered_by(
                select(month, func.count(), func.sum(Customer.expected_amount))
                # Spelt as the partial index's condition, so that SQLite can use it.
                .where(text(WON_AND_LISTED), Customer.won_at >= starts[0], in_team)
                .group_by(month),
                "ix_customers_won",
            )
        )
    }
    trend = [(start.date(), *wins.get(index, (0, 0))) for index, start in enumerate(starts)]

    overdue = db.session.execute(
        _open(select(Customer.owner_id, func.count()))
        .where(in_team, owned, Customer.next_follow_up_on < today)
        .group_by(Customer.owner_id)
        .order_by(func.count().desc(), Customer.owner_id)
        .limit(PANEL_LIMIT)
    ).all()
    people = {
        user.id: user
        for user in db.session.scalars(select(User).where(User.id.in_([o for o, _c in overdue])))
    }
    overdue_by_rep = [(people[owner_id], count) for owner_id, count in overdue if owner_id in people]

    pool = _open(select(func.count()).select_from(Customer)).where(Customer.in_pool)
    week_start = datetime.combine(today - timedelta(days=today.weekday()), time(), tzinfo=zone)
    claims = (
        select(func.count())
        .select_from(OwnershipChange)
        .where(OwnershipChange.reason == "claim", OwnershipChange.at >= week_start)
    )
    if team is not None:
        claims = claims.join(User, User.id == OwnershipChange.to_user_id).where(User.team_id == team.id)
    team_id = team.id if team else None

    if company_standings is None:
        standings = recognition.current_standings(viewer, team_id)
    elif team is None:
        standings = company_standings
    else:
        standings = recognition.team_standings(company_standings, team.id)
    return ManagerHome(
        team=team,
        pipeline=pipeline,
        trend=trend,
        overdue_by_rep=overdue_by_rep,
        pool_size=db.session.scalar(pool),
        team_pool_size=(
            db.session.scalar(_covered_by(pool.where(Customer.team_id == team.id), "ix_customers_team_stage"))
            if team
            else 0
        ),
        claims_this_week=db.session.scalar(claims),
        blocked_this_month=sum(
            count
            for _month, count in collisions.blocked_duplicates_per_month(viewer, months=1, team_id=team_id)
        ),
        open_collisions=collisions.count_reports(viewer, collisions.ReportFilters(team_id=team_id)),
        learning=paths.team_progress(viewer, team_id=team_id),
        top=[row for row in standings if row.rank <= 5][:5],
    )


def team_for(viewer, requested_id):
    """Managers see their team; admins any team they pick, or the whole company."""
    if not access.may_pick_team(viewer):
        return viewer.team
    if not requested_id:
        return None
    team = db.session.get(Team, requested_id) if is_id(requested_id) else None
    if team is None:
        raise NotFound(_("This team does not exist."))
    return team


# ---- reminders (跟进提醒) ----------------------------------------------------------------


# A reminder missed while the server was down still goes out within this many days;
# follow-ups overdue for longer are on the workbench, not worth a notification each.
REMINDER_CATCH_UP_DAYS = 3


@periodic("follow-up-reminders")
def remind_due_follow_ups():
    """One notification to the owner when a customer's next follow-up date comes.
    Idempotent: the date is claimed on the customer row before the notification is
    written, in one transaction, so two runs never remind twice."""
    now = clock.now()
    zones = dict(db.session.execute(select(Team.id, Team.timezone)).all())
    reminded = 0
    for team_id in [*zones, None]:
        zone = zones.get(team_id) or current_app.config["BABEL_DEFAULT_TIMEZONE"]
        today = now.astimezone(ZoneInfo(zone)).date()
        with write_transaction() as session:
            claimed = session.execute(
                update(Customer)
                .where(
                    Customer.team_id == team_id if team_id is not None else Customer.team_id.is_(None),
                    ~Customer.in_pool,
                    Customer.deleted_at.is_(None),
                    Customer.next_follow_up_on.between(today - timedelta(days=REMINDER_CATCH_UP_DAYS), today),
                    or_(Customer.reminded_for.is_(None), Customer.reminded_for != Customer.next_follow_up_on),
                )
                .values(reminded_for=Customer.next_follow_up_on)
                .returning(Customer.id, Customer.owner_id, Customer.name, Customer.next_follow_up_on)
            ).all()
            session.add_all(
                Notification(
                    user_id=owner_id,
                    kind="follow_up.due",
                    link=link("ledger.show", customer_id=customer_id),
                    params={"customer": name, "due": due.isoformat(), "today": today.isoformat()},
                    created_at=now,
                )
                for customer_id, owner_id, name, due in claimed
            )
            reminded += len(claimed)
    return reminded
