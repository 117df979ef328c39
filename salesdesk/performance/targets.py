"""Reading targets: a person's or a team's target for a period and measure, with its
progress and pace. Setting them is `target_table.py`.

A quarter or a year without its own target takes the sum of its months' targets, so a
manager who breaks the year down month by month (目标拆解) sees the quarter and the
year add up without typing them twice. A period's own target wins over the sum."""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select

from .. import clock
from ..auth.models import DEFAULT_TIMEZONE
from ..extensions import db
from ..support.levels import calendar_for
from . import measures, pace
from .models import Measure, Target
from .periods import MONTH


def stored_targets(period_keys, *, user_ids=None, team_ids=None):
    """{(period, user_id or None, team_id or None, measure): value} as stored."""
    query = select(Target.period, Target.user_id, Target.team_id, Target.measure, Target.value).where(
        Target.period.in_(period_keys)
    )
    if user_ids is not None:
        query = query.where(Target.user_id.in_(user_ids))
    if team_ids is not None:
        query = query.where(Target.user_id.is_(None), Target.team_id.in_(team_ids))
    return {
        (period, user_id, None if user_id else team_id, measure): value
        for period, user_id, team_id, measure, value in db.session.execute(query)
    }


def effective(stored, period, owner_key):
    """{measure: target} for one person (owner_key ("user", id)) or team (("team", id)):
    the period's own, else the sum of its months' where any is set."""
    kind, owner_id = owner_key

    def lookup(key, measure):
        person, team = (owner_id, None) if kind == "user" else (None, owner_id)
        return stored.get((key, person, team, measure))

    result = {}
    for measure in Measure:
        own = lookup(period.key, measure)
        if own is None and period.kind != MONTH:
            parts = [lookup(month.key, measure) for month in period.months]
            if any(part is not None for part in parts):
                own = sum((part for part in parts if part is not None), Decimal(0))
        result[measure] = None if own is None else (own if measure.is_money else int(own))
    return result


def _keys(period):
    return [period.key] + ([month.key for month in period.months] if period.kind != MONTH else [])


def targets_of(users, period):
    """{user_id: {measure: target or None}}."""
    stored = stored_targets(_keys(period), user_ids=[user.id for user in users])
    return {user.id: effective(stored, period, ("user", user.id)) for user in users}


def team_targets(team, period):
    """{measure: the team's own target or None}."""
    stored = stored_targets(_keys(period), team_ids=[team.id])
    return effective(stored, period, ("team", team.id))


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
    targets = targets_of(users, period)
    shares = {}
    result = {}
    for user in users:
        team_key = user.team_id
        if team_key not in shares:
            shares[team_key] = share_and_closed(user.team, period, today)
        share, closed = shares[team_key]
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
