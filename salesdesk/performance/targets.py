"""Reading targets: a person's or a team's target for a period and measure, with its
progress and pace. Setting them is `target_table.py`.

A quarter or a year without its own target takes the sum of its months' targets, so a
manager who breaks the year down month by month (目标拆解) sees the quarter and the
year add up without typing them twice. A period's own target wins over the sum."""

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select

from .. import clock
from ..auth.models import DEFAULT_TIMEZONE
from ..extensions import db
from ..support.levels import calendar_for
from . import measures, pace
from .models import Measure, Target
from .periods import MONTH


def _effective(period, owner_ids, *, people):
    """{owner_id: {measure: target or None}} for people (people=True: user ids) or teams
    (team ids: the team's own rows): the period's own target, else the sum of its
    months' where any is set. Added up in SQL: a company's quarter is 4,000 rows."""
    months = [month.key for month in period.months] if period.kind != MONTH else []
    own = func.max(Target.value).filter(Target.period == period.key)
    of_months = func.sum(Target.value).filter(Target.period.in_(months))
    owner = Target.user_id if people else Target.team_id
    whose = Target.user_id.is_not(None) if people else Target.user_id.is_(None)
    query = (
        select(owner, Target.measure, own, of_months)
        .where(Target.period.in_([period.key, *months]), owner.in_(owner_ids), whose)
        .group_by(owner, Target.measure)
    )
    result = {owner_id: dict.fromkeys(Measure) for owner_id in owner_ids}
    for owner_id, measure, own_value, months_value in db.session.execute(query):
        value = own_value if own_value is not None else months_value
        measure = Measure(measure)
        result[owner_id][measure] = None if value is None else (value if measure.is_money else int(value))
    return result


def targets_of(user_ids, period):
    """{user_id: {measure: target or None}}."""
    return _effective(period, user_ids, people=True)


def team_targets(team, period):
    """{measure: the team's own target or None}."""
    return _effective(period, [team.id], people=False)[team.id]


@dataclass
class Standing:
    """One person's (or the team's) targets, progress and pace in a period."""

    targets: dict
    figures: measures.Figures
    paces: dict = field(default_factory=dict)

    @property
    def has_targets(self):
        return any(value is not None for value in self.targets.values())


def share_and_closed(team, period, today=None):
    """(share of the period's working days over, whether the period is closed)."""
    zone = team.timezone if team is not None else DEFAULT_TIMEZONE
    today = today or clock.today(zone)
    return pace.elapsed_share(calendar_for(team), period, today), today >= period.end


def standings(users, period, *, today=None):
    """{user_id: Standing} for `users` in `period`."""
    figures = measures.progress(users, period)
    targets = targets_of([user.id for user in users], period)
    shares = {}
    result = {}
    for user in users:
        zone = measures.zone_of(user)  # the calendar is the same for every team in one
        if zone not in shares:
            shares[zone] = share_and_closed(user.team, period, today)
        share, closed = shares[zone]
        standing = Standing(targets[user.id], figures[user.id])
        standing.paces = {
            measure: pace.pace(standing.targets[measure], standing.figures[measure], share, closed)
            for measure in Measure
        }
        result[user.id] = standing
    return result


def team_standing(team, people_standings, period, *, today=None):
    """The team's Standing: its own targets (else the sum of its people's), and the sum
    of its people's progress."""
    return _summed(team, people_standings, period, team_targets(team, period), today)


def company_standing(people_standings, period, *, today=None):
    """The company's Standing: everyone's targets and progress summed (the company has
    no target of its own), paced by the company's calendar."""
    return _summed(None, people_standings, period, dict.fromkeys(Measure), today)


def _summed(team, people_standings, period, own, today):
    summed = defaultdict(lambda: None)
    figures = measures.Figures()
    for standing in people_standings.values():
        figures.add(standing.figures)
        for measure, value in standing.targets.items():
            if value is not None:
                summed[measure] = (summed[measure] or 0) + value
    chosen = {measure: own[measure] if own[measure] is not None else summed[measure] for measure in Measure}
    share, closed = share_and_closed(team, period, today)
    standing = Standing(chosen, figures)
    standing.paces = {
        measure: pace.pace(chosen[measure], figures[measure], share, closed) for measure in Measure
    }
    return standing
