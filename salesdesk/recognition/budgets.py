"""Monthly budgets: what a giver has given of a kind this month (in their time zone),
reversed entries not counted."""

from dataclasses import dataclass

from sqlalchemy import func, select

from .. import clock
from ..extensions import db
from .entries import not_reversed
from .models import Kind, PointEntry
from .periods import month_bounds, this_month, user_zone
from .settings import get_settings


@dataclass
class Budget:
    budget: int
    spent: int

    @property
    def remaining(self):
        return max(0, self.budget - self.spent)


def given_since(session, giver_id, kind, since, recipient_id=None):
    """(points, count) the giver gave of this kind since `since`; reversed entries do not count."""
    query = select(func.coalesce(func.sum(PointEntry.points), 0), func.count()).where(
        PointEntry.giver_id == giver_id,
        PointEntry.kind == kind,
        PointEntry.counted_at >= since,
        not_reversed(),
    )
    if recipient_id is not None:
        query = query.where(PointEntry.recipient_id == recipient_id)
    points, count = session.execute(query).one()
    return int(points), count


def budget(session, user, kind, monthly):
    zone = user_zone(user)
    since = month_bounds(this_month(clock.now(), zone), zone)[0]
    spent, _count = given_since(session, user.id, kind, since)
    return Budget(monthly, spent)


def award_budget(user):
    return budget(db.session, user, Kind.AWARD, get_settings().award_monthly_budget)


def thanks_budget(user):
    return budget(db.session, user, Kind.THANKS, get_settings().thanks_monthly_budget)
