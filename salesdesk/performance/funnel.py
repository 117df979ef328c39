"""The board's funnel, from the stage history: how many of the team's customers reached
each stage in the period, the conversion from one stage to the next, and the median
days customers spent in a stage before leaving it in the period.

A customer counts for the team when the stage change was made while one of the team's
people owned it (stage_changes.owner_id). Reaching a stage counts for every stage
before it too, so a lead that jumps to a quote passed through "contacted" and the
conversions stay between 0 and 100 %. Lost is no step of the funnel."""

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


def _in_period(start, end, company):
    return (
        _stage(company).in_([stage.value for stage in Stage]),
        StageChange.at >= start,
        StageChange.at < end,
    )


def _stays(start, end, owned, company):
    """{stage: (how many left it in the period, the median of their days in it)}, a
    negative stay (clocks) counted as 0. PostgreSQL takes the median itself
    (percentile_cont interpolates as support.metrics.percentile does): a company's
    quarter would otherwise send its 30,000 stage changes to Python. SQLite has no
    median: the days come back, a text per stage, and Python takes it."""
    left_in_period = (
        *_in_period(start, end, company),
        owned,
        StageChange.from_stage.in_([s.value for s in STEPS[:-1]]),
        StageChange.entered_at.is_not(None),
    )
    days = days_between(StageChange.at, StageChange.entered_at)
    if db.session.get_bind().dialect.name == "sqlite":
        # Each stage's days as one text: a row a stay cost more to read than the median.
        spent = {}
        for stage, joined in db.session.execute(
            select(StageChange.from_stage, func.group_concat(days))
            .where(*left_in_period)
            .group_by(StageChange.from_stage)
        ):
            stays = [max(float(stay), 0.0) for stay in joined.split(",")]
            spent[stage] = (len(stays), percentile(stays, 0.5))
        return spent
    median = func.percentile_cont(0.5).within_group(func.greatest(days, 0))
    return {
        stage: (left, median_days)
        for stage, left, median_days in db.session.execute(
            select(StageChange.from_stage, func.count(), median)
            .where(*left_in_period)
            .group_by(StageChange.from_stage)
        )
    }


def funnel(team_id, zone, company, period):
    """The funnel of a team (its id and time zone) or of the company (zone None: the
    default one's periods); plain values, so that it can run beside the board's figures
    (database.concurrently)."""
    start, end = period.bounds(zone or DEFAULT_TIMEZONE)
    owned = _owned_by(team_id, company)
    order = case(*((StageChange.to_stage == stage.value, index) for index, stage in enumerate(STEPS)))
    furthest = (
        select(StageChange.customer_id, func.max(order).label("top"))
        .where(*_in_period(start, end, company), owned, _stage(company).in_([s.value for s in STEPS]))
        .group_by(StageChange.customer_id)
        .subquery()
    )
    at_most = dict(db.session.execute(select(furthest.c.top, func.count()).group_by(furthest.c.top)).all())
    steps = [Step(stage) for stage in STEPS]
    reached = 0
    for index in range(len(STEPS) - 1, -1, -1):
        reached += at_most.get(index, 0)
        steps[index].reached = reached
    for before, step in zip(steps, steps[1:], strict=False):
        step.conversion = 100 * step.reached / before.reached if before.reached else None
    stays = _stays(start, end, owned, company)
    for step in steps:
        step.left, step.median_days = stays.get(step.stage.value, (0, None))
    return Funnel(steps)
