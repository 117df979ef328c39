"""The workbench (工作台): what a rep and a manager see first, gathered from the ledger,
the rules, the knowledge base and recognition."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select, text, true

from .. import clock, settings
from ..auth.models import Team, User
from ..database import is_id, period_of
from ..errors import NotFound
from ..extensions import db
from ..kb import paths
from ..ledger import access as ledger_access
from ..ledger.models import (
    WON_AND_LISTED,
    Collaborator,
    CollaboratorStatus,
    Customer,
    FollowUp,
    OwnershipChange,
    Stage,
)
from ..recognition import leaderboard as recognition
from ..rules import collisions
from . import access

PANEL_LIMIT = 8
TREND_MONTHS = 6


def _open(query):
    return query.where(Customer.deleted_at.is_(None))


def follow_up_due(today):
    """A customer whose follow-up is due today or overdue: the due panel and the
    morning digest count the same ones."""
    return and_(Customer.deleted_at.is_(None), Customer.next_follow_up_on <= today)


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
        select(Customer).where(Customer.owner_id == user.id, follow_up_due(today)),
        [Customer.next_follow_up_on, Customer.id],
    )
    due_ids = [customer.id for customer in due.rows]
    visible = ledger_access.details_visible_ids(user, due_ids)
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
        "contacts": ledger_access.first_contacts(due_ids, visible) if due_ids else {},
        "last_notes": last_notes(due_ids, visible),
        "date_picks": date_picks(today),
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


@dataclass
class LastNote:
    line: str  # the first line of the latest follow-up: the panel has room for one
    next_step: str


def first_line(text):
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def last_notes(customer_ids, visible_ids):
    """{customer id: its latest follow-up, shortened}, for the customers whose notes the
    viewer may see (notes go with contact details). One query over the few shown."""
    shown = [customer_id for customer_id in customer_ids if customer_id in visible_ids]
    if not shown:
        return {}
    newest_first = (FollowUp.occurred_at.desc(), FollowUp.id.desc())
    ranked = (
        select(
            FollowUp.customer_id,
            FollowUp.content,
            FollowUp.next_step,
            func.row_number().over(partition_by=FollowUp.customer_id, order_by=newest_first).label("rank"),
        )
        .where(FollowUp.customer_id.in_(shown))
        .subquery()
    )
    rows = db.session.execute(
        select(ranked.c.customer_id, ranked.c.content, ranked.c.next_step).where(ranked.c.rank == 1)
    )
    return {
        customer_id: LastNote(first_line(content), (next_step or "").strip())
        for customer_id, content, next_step in rows
    }


# The quick picks beside the next follow-up date (they fill it in; it can still be typed).
DATE_PICKS = ((_l("Tomorrow"), 1), (_l("In 3 days"), 3), (_l("Next week"), 7))


def date_picks(today):
    return [(label, today + timedelta(days=days)) for label, days in DATE_PICKS]


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
