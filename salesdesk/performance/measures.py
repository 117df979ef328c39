"""What counts toward a target: one definition per measure, used by the targets table,
the homes, the board, its export, the milestones and the weekly report.

- Won amount and deals won come from the stage history. A win counts in the period of
  its moment and for the person who owned the customer then (stage_changes.owner_id),
  whoever owns it later. Only the win that still stands counts: customers.won_at is the
  moment of the latest win while the customer is won (ledger.customers._date_the_win),
  so a reopened deal leaves the period, and a deal won again counts when it was won
  again. The amount is the customer's expected amount now: a corrected amount
  corrects the result. Customers in the trash count for nobody.
- New customers: customers a person created, imported or claimed from the pool in the
  period (each once, however many of these happened to it), outside the trash.
- Follow-ups and visits (拜访): what the person logged, by when it happened
  (occurred_at), whatever became of the customer since; read from the counts kept
  ahead per person and local month (follow_up_counts.py).

Periods are local to each person's team (its time zone), so a deal won at 23:59 on
the last day of a month in Shanghai is that month's there."""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import distinct, func, select

from ..auth.models import DEFAULT_TIMEZONE
from ..extensions import db
from ..ledger.models import Customer, OwnershipChange, Stage, StageChange
from . import follow_up_counts
from .models import Measure

NEW_CUSTOMER_REASONS = ("create", "import", "claim")
VISIT = "visit"


@dataclass
class Figures:
    """One person's (or a team's summed) progress on every measure."""

    values: dict = field(default_factory=lambda: {m: Decimal("0.00") if m.is_money else 0 for m in Measure})

    def __getitem__(self, measure):
        return self.values[Measure(measure)]

    def add(self, other):
        for measure in Measure:
            self.values[measure] += other.values[measure]
        return self


def zone_of(user):
    return user.team.timezone if user.team is not None else DEFAULT_TIMEZONE


def by_zone(users):
    """People grouped by their team's zone: each group's period starts at its own midnight."""
    groups = defaultdict(list)
    for user in users:
        groups[zone_of(user)].append(user.id)
    return groups


def standing_wins(start, end, owner_ids=None):
    """The wins of [start, end) that still stand, as (owner_id, customer_id, amount, at)
    rows of a SELECT: the one place that says what a won deal is."""
    query = (
        select(
            StageChange.owner_id.label("owner_id"),
            Customer.id.label("customer_id"),
            Customer.expected_amount.label("amount"),
            StageChange.at.label("at"),
        )
        .join(Customer, Customer.id == StageChange.customer_id)
        .where(
            StageChange.to_stage == Stage.WON,
            StageChange.at >= start,
            StageChange.at < end,
            Customer.stage == Stage.WON,
            Customer.won_at == StageChange.at,
            # Said of won_at too: PostgreSQL's merge join then reads the period's won
            # customers (ix_customers_won), not every won customer (27 -> 7 ms a quarter).
            Customer.won_at >= start,
            Customer.won_at < end,
            Customer.deleted_at.is_(None),
        )
    )
    if owner_ids is not None:
        query = query.where(StageChange.owner_id.in_(owner_ids))
    return query


_lost = db.aliased(StageChange, name="lost")


def standing_losses(start, end, owner_ids=None):
    """Deals lost in [start, end) and still lost: the latest change of a lost customer,
    as (owner_id, customer_id, at) rows."""
    later = (
        select(StageChange.id)
        .where(StageChange.customer_id == Customer.id, StageChange.at > _lost.at)
        .exists()
    )
    query = (
        select(_lost.owner_id.label("owner_id"), Customer.id.label("customer_id"), _lost.at.label("at"))
        .join(Customer, Customer.id == _lost.customer_id)
        .where(
            _lost.to_stage == Stage.LOST,
            _lost.at >= start,
            _lost.at < end,
            Customer.stage == Stage.LOST,
            Customer.deleted_at.is_(None),
            ~later,
        )
    )
    if owner_ids is not None:
        query = query.where(_lost.owner_id.in_(owner_ids))
    return query


def new_customers(start, end, user_ids):
    """(user_id, customer_id, at) of each creation, import or claim by the people in
    [start, end) of a customer outside the trash. A customer counts once however many
    of these happened to it: count DISTINCT customer_id. (The trash is looked up as a
    set: it is small, and a join would read every customer to find it.)"""
    in_trash = select(Customer.id).where(Customer.deleted_at.is_not(None))
    return select(
        OwnershipChange.to_user_id.label("user_id"),
        OwnershipChange.customer_id.label("customer_id"),
        OwnershipChange.at.label("at"),
    ).where(
        OwnershipChange.reason.in_(NEW_CUSTOMER_REASONS),
        OwnershipChange.at >= start,
        OwnershipChange.at < end,
        OwnershipChange.to_user_id.in_(user_ids),
        OwnershipChange.customer_id.not_in(in_trash),
    )


def progress(users, period):
    """{user_id: Figures} for `period`, every measure, for each of `users`."""
    result = {user.id: Figures() for user in users}
    for zone, ids in by_zone(users).items():
        start, end = period.bounds(zone)
        wins = standing_wins(start, end, ids).subquery()
        for owner_id, count, amount in db.session.execute(
            select(wins.c.owner_id, func.count(), func.sum(wins.c.amount)).group_by(wins.c.owner_id)
        ):
            result[owner_id].values[Measure.WON_COUNT] = count
            result[owner_id].values[Measure.WON_AMOUNT] = _money(amount)
        new = new_customers(start, end, ids).subquery()
        for user_id, count in db.session.execute(
            select(new.c.user_id, func.count(distinct(new.c.customer_id))).group_by(new.c.user_id)
        ):
            result[user_id].values[Measure.NEW_CUSTOMERS] = count
        for author_id, (channels, _touched) in follow_up_counts.by_author(ids, zone, period).items():
            result[author_id].values[Measure.FOLLOW_UPS] = sum(channels.values())
            result[author_id].values[Measure.VISITS] = channels.get(VISIT, 0)
    return result


def _money(value):
    # SUM() over no rows is NULL.
    return value if value is not None else Decimal("0.00")
