"""The board's funnel, from the stage history: how many of the team's customers reached
each stage in the period, the conversion from one stage to the next, and the median
days customers spent in a stage before leaving it in the period.

A customer counts for the team when the stage change was made while one of the team's
people owned it (stage_changes.owner_id). Reaching a stage counts for every stage
before it too, so a lead that jumps to a quote passed through "contacted" and the
conversions stay between 0 and 100 %. Lost is no step of the funnel."""

import json
from dataclasses import dataclass

from sqlalchemy import case, func, select

from ..auth.models import DEFAULT_TIMEZONE, User
from ..database import days_between
from ..extensions import db
from ..ledger.models import Stage, StageChange
from ..support.metrics import percentile

STEPS = [Stage.LEAD, Stage.CONTACTED, Stage.QUALIFIED, Stage.QUOTED, Stage.NEGOTIATING, Stage.WON]


@dataclass
class Step:
    stage: Stage
    reached: int = 0
    conversion: float | None = None  # percent of the previous step's customers (None: first)
    median_days: float | None = None  # in this stage before leaving it (None: nobody left)
    left: int = 0  # how many left it in the period (what the median is taken over)


@dataclass
class Funnel:
    steps: list

    @property
    def empty(self):
        return not any(step.reached for step in self.steps)

    @property
    def widest(self):
        return max((step.reached for step in self.steps), default=0) or 1


def _owned_by(team_id, company):
    if company:
        return StageChange.owner_id.is_not(None)
    if team_id is None:
        return StageChange.id.is_(None)
    return StageChange.owner_id.in_(select(User.id).where(User.team_id == team_id).scalar_subquery())


def _stage(company):
    """The column to compare stages with. For the company, to_stage itself: naming every
    stage, the (to_stage, at, …) index serves a range per stage. For a team, the same
    text the index cannot serve: SQLite then reads the team's own changes through the
    (owner_id, at, …) index, a quarter of the company's, instead of every change of the
    period (a team's quarter on the bench, 37 -> 20 ms; PostgreSQL chooses that index
    by itself)."""
    return StageChange.to_stage if company else StageChange.to_stage.concat("")


# A change from one of these stages ends a stay in it that the funnel can measure.
_LEFT_FROM = [stage.value for stage in STEPS[:-1]]
_left = StageChange.entered_at.is_not(None)


def _days():
    return days_between(StageChange.at, StageChange.entered_at)


def _in_period(start, end, company):
    return (
        _stage(company).in_([stage.value for stage in Stage]),
        StageChange.at >= start,
        StageChange.at < end,
    )


def _read(start, end, owned, company):
    """(customers that reached each step at most, by the step's index; {stage: (how many
    left it in the period, the median of their days in it)}), a negative stay (clocks)
    counted as 0. PostgreSQL groups and takes the median itself (percentile_cont
    interpolates as support.metrics.percentile does)."""
    order = case(*((StageChange.to_stage == stage.value, index) for index, stage in enumerate(STEPS)))
    furthest = (
        select(StageChange.customer_id, func.max(order).label("top"))
        .where(*_in_period(start, end, company), owned, _stage(company).in_([s.value for s in STEPS]))
        .group_by(StageChange.customer_id)
        .subquery()
    )
    at_most = dict(db.session.execute(select(furthest.c.top, func.count()).group_by(furthest.c.top)).all())
    median = func.percentile_cont(0.5).within_group(func.greatest(_days(), 0))
    stays = db.session.execute(
        select(StageChange.from_stage, func.count(), median)
        .where(*_in_period(start, end, company), owned, _left, StageChange.from_stage.in_(_LEFT_FROM))
        .group_by(StageChange.from_stage)
    )
    return [at_most.get(index, 0) for index in range(len(STEPS))], {
        stage: (left, median_days) for stage, left, median_days in stays
    }


def _read_sqlite(start, end, owned, company):
    """What _read returns, in one pass over the period's stage changes: SQLite would sort
    them twice to group them (by customer, then by stage) and has no median. The
    customers that reached each stage and the days spent in each come back as JSON
    arrays, one per stage (a company's quarter on the bench: 76 -> 45 ms)."""
    customers = [
        func.json_group_array(StageChange.customer_id).filter(StageChange.to_stage == stage.value)
        for stage in STEPS
    ]
    days = func.max(_days(), 0)  # SQLite's max() of two values
    spent = [
        func.json_group_array(days).filter(_left, StageChange.from_stage == stage) for stage in _LEFT_FROM
    ]
    row = db.session.execute(select(*customers, *spent).where(*_in_period(start, end, company), owned)).one()
    furthest, seen = [], set()
    for index in range(len(STEPS) - 1, -1, -1):
        before = len(seen)
        seen.update(json.loads(row[index]))
        furthest.append(len(seen) - before)
    stays = {}
    for stage, joined in zip(_LEFT_FROM, row[len(STEPS) :], strict=True):
        if stays_in_stage := json.loads(joined):
            stays[stage] = (len(stays_in_stage), percentile(stays_in_stage, 0.5))
    return furthest[::-1], stays


def funnel(team_id, zone, company, period):
    """The funnel of a team (its id and time zone) or of the company (zone None: the
    default one's periods); plain values, so that it can run beside the board's figures
    (database.concurrently)."""
    start, end = period.bounds(zone or DEFAULT_TIMEZONE)
    read = _read_sqlite if db.session.get_bind().dialect.name == "sqlite" else _read
    at_most, stays = read(start, end, _owned_by(team_id, company), company)
    steps = [Step(stage) for stage in STEPS]
    reached = 0
    for index in range(len(STEPS) - 1, -1, -1):
        reached += at_most[index]
        steps[index].reached = reached
    for before, step in zip(steps, steps[1:], strict=False):
        step.conversion = 100 * step.reached / before.reached if before.reached else None
    for step in steps:
        step.left, step.median_days = stays.get(step.stage.value, (0, None))
    return Funnel(steps)
