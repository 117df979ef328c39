"""The demo's targets: each team's manager set them at the start of each of the last
three months (the quarter so far), from what each person did the month before, a
little higher; the team's won amount a little above the sum. So the homes, the board
and the targets table show people ahead, on track and behind, and the quarter adds
its months up. Saved through the targets table's service with the clock at the first
working morning of each month, as the manager would have; does nothing once there are
targets."""

import random
from datetime import datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select

from .. import clock
from ..auth.models import Role, User
from ..extensions import db
from ..performance import measures, target_table
from ..performance.models import Measure, Target
from ..performance.periods import MONTH, current

SEED = 20261201
MONTHS = 3
# The least a target is, so a quiet month does not make a target of nothing.
FLOORS = {
    Measure.WON_AMOUNT: Decimal(50_000),
    Measure.WON_COUNT: 1,
    Measure.NEW_CUSTOMERS: 3,
    Measure.FOLLOW_UPS: 20,
    Measure.VISITS: 4,
}
WON_ROUNDING = Decimal(10_000)


def seed():
    if db.session.scalar(select(Target.id).limit(1)) is not None:
        return
    managers = db.session.scalars(
        select(User).where(User.role == Role.MANAGER, User.active.is_(True), User.team_id.is_not(None))
    ).all()
    rng = random.Random(SEED)
    for manager in managers:
        team = manager.team
        this_month = current(MONTH, clock.today(team.timezone))
        months = [this_month]
        for _ in range(MONTHS - 1):
            months.insert(0, months[0].previous)
        for period in months:
            _set_month(manager, team, period, rng)


def _set_month(manager, team, period, rng):
    morning = datetime.combine(period.start + timedelta(days=1), time(9), tzinfo=ZoneInfo(team.timezone))
    with clock.at(min(morning, clock.now())):
        people = target_table.members(team)
        before = measures.progress(people, period.previous)
        typed = {user.id: _targets(before[user.id], rng) for user in people}
        won = sum(Decimal(row[Measure.WON_AMOUNT]) for row in typed.values())
        typed[target_table.TEAM] = dict.fromkeys(Measure, "")
        typed[target_table.TEAM][Measure.WON_AMOUNT] = str(_round_won(won * Decimal("1.05")))
        target_table.save(manager, team, period, typed)


def _targets(figures, rng):
    """A month's targets from the month before: 90–130 % of it, never under the floors."""
    row = {}
    for measure in Measure:
        factor = Decimal(rng.randint(90, 130)) / 100
        value = max(Decimal(figures[measure]) * factor, Decimal(FLOORS[measure]))
        value = _round_won(value) if measure.is_money else int(value.to_integral_value(ROUND_HALF_UP))
        row[measure] = str(value)
    return row


def _round_won(value):
    return (value / WON_ROUNDING).to_integral_value(ROUND_HALF_UP) * WON_ROUNDING
