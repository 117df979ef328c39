"""The workbench (工作台): what a rep and a manager see first, gathered from the ledger,
the rules, the knowledge base and recognition; and the daily follow-up reminders."""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, true, update

from .. import clock, settings
from ..auth.models import Role, Team, User
from ..database import write_transaction
from ..errors import NotFound
from ..extensions import db
from ..jobs import periodic
from ..kb import services as kb
from ..ledger.models import Collaborator, CollaboratorStatus, Customer, OwnershipChange, Stage, StageChange
from ..notifications import Notification, register_kinds, with_dates
from ..recognition import services as recognition
from ..rules import services as rules

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
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(query.order_by(*order).limit(limit)).all() if total else []
    return Panel(rows, total)


# ---- a rep's home -----------------------------------------------------------------------


def rep_home(user):
    now = clock.now()
    today = clock.today(user.timezone)
    mine = _open(select(Customer).where(Customer.owner_id == user.id))
    due = _panel(
        mine.where(Customer.next_follow_up_on <= today),
        [Customer.next_follow_up_on, Customer.id],
    )
    horizon = now + timedelta(days=settings.current().warning_days)
    reclaim = _panel(mine.where(Customer.reclaim_at <= horizon), [Customer.reclaim_at, Customer.id])
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
    board = recognition.leaderboard(user, "month", limit=3)
    return {
        "today": today,
        "now": now,
        "due": due,
        "reclaim": reclaim,
        "collisions": rules.open_reports_involving(user, PANEL_LIMIT),
        "requests_to_me": requests_to_me,
        "my_requests": my_requests,
        "learning": kb.my_assignments(user),
        "standing": board.me,
        "ranked": board.ranked,
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
    overdue_by_rep: list  # [(user, count)]
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


def _month_start(day):
    return day.replace(day=1)


def _months_back(first, count):
    months = [first]
    for _i in range(count - 1):
        months.append(_month_start(months[-1] - timedelta(days=1)))
    return list(reversed(months))


def manager_home(viewer, team):
    """The team's state at a glance; team None means the whole company (admins)."""
    zone = ZoneInfo(team.timezone if team else viewer.timezone)
    now = clock.now()
    today = now.astimezone(zone).date()
    in_team = _team_scope(Customer.team_id, team)
    owned = Customer.owner_id.is_not(None)

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

    months = _months_back(_month_start(today), TREND_MONTHS)
    since = datetime.combine(months[0], time(), tzinfo=zone)
    wins = db.session.execute(
        select(StageChange.at, Customer.expected_amount)
        .join(Customer, Customer.id == StageChange.customer_id)
        .where(
            StageChange.to_stage == Stage.WON, StageChange.at >= since, in_team, Customer.deleted_at.is_(None)
        )
    ).all()
    won_count, won_amount = Counter(), Counter()
    for at, amount in wins:
        month = _month_start(at.astimezone(zone).date())
        won_count[month] += 1
        won_amount[month] += amount
    trend = [(month, won_count[month], won_amount[month]) for month in months]

    overdue = db.session.execute(
        _open(select(Customer.owner_id, func.count()))
        .where(in_team, owned, Customer.next_follow_up_on < today)
        .group_by(Customer.owner_id)
        .order_by(func.count().desc())
    ).all()
    people = {
        user.id: user
        for user in db.session.scalars(select(User).where(User.id.in_([o for o, _c in overdue])))
    }
    overdue_by_rep = [(people[owner_id], count) for owner_id, count in overdue if owner_id in people]

    pool = _open(select(func.count()).select_from(Customer)).where(Customer.owner_id.is_(None))
    week_start = datetime.combine(today - timedelta(days=today.weekday()), time(), tzinfo=zone)
    claims = (
        select(func.count())
        .select_from(OwnershipChange)
        .where(OwnershipChange.reason == "claim", OwnershipChange.at >= week_start)
    )
    if team is not None:
        claims = claims.join(User, User.id == OwnershipChange.to_user_id).where(User.team_id == team.id)
    team_id = team.id if team else None
    blocked = dict(rules.blocked_duplicates_per_month(viewer, months=1, team_id=team_id))

    board = recognition.leaderboard(viewer, "month", team_id=team_id, limit=5)
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
        blocked_this_month=blocked.get(today.strftime("%Y-%m"), 0),
        open_collisions=rules.count_reports(viewer, "open", team_id),
        learning=kb.team_progress(viewer, team_id=team_id),
        top=[row for row in board.rows if row.rank <= 5][:5],
    )


def team_for(viewer, requested_id):
    """Managers see their team; admins any team they pick, or the whole company."""
    if viewer.role != Role.ADMIN:
        return viewer.team
    if not requested_id:
        return None
    team = db.session.get(Team, requested_id)
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
                    Customer.owner_id.is_not(None),
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
                    link=f"/customers/{customer_id}",
                    params={"customer": name, "due": due.isoformat(), "today": today.isoformat()},
                    created_at=now,
                )
                for customer_id, owner_id, name, due in claimed
            )
            reminded += len(claimed)
    return reminded
