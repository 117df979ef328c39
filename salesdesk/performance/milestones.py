"""Milestones (50 %, 100 %): when a person's progress on a measure of a current period
reaches half and then all of their target, the person and their team's managers hear
it, once each.

Which targets: a person's own targets of the current month, quarter and year, in their
team's zone. A quarter or a year counts only with a target of its own: the sum of its
months (what the board shows when the manager broke the year down) already has the
months' milestones, and a half-set quarter would announce a "100 %" that is only one
month's.

Once: `target_milestones` has one row per (period, person, measure, percent); the row is
inserted with ON CONFLICT DO NOTHING and only the process whose insert wins notifies, in
the same transaction. So a milestone is announced once, whatever the number of
processes, and never again for that period: a target raised after its 50 % was
announced does not announce 50 % a second time. A jump past both (one big deal) records
both rows and announces the 100 % alone."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from .. import clock
from ..auth.models import DEFAULT_TIMEZONE, Role, Team, User
from ..database import write_transaction
from ..extensions import db
from ..jobs import periodic
from ..notifications import link, notify, register_kinds
from . import measures, periods
from .models import Measure, Milestone, Target

PERCENTS = (50, 100)
KINDS = {50: "performance.milestone_half", 100: "performance.milestone_reached"}
INTERVAL = timedelta(minutes=5)


def _with_labels(message):
    """The message with the measure and the period named in the reader's language
    (the params keep their codes: won_amount, 2026-03)."""

    def render(params):
        try:
            measure = Measure(params["measure"]).label
        except ValueError:
            measure = params["measure"]
        try:
            period = periods.parse(params["period"], None).label
        except periods.BadPeriod:
            period = params["period"]
        return str(message) % {**params, "measure": measure, "period": period}

    return render


register_kinds(
    {
        KINDS[50]: _with_labels(_l("%(name)s reached 50%% of the %(measure)s target for %(period)s")),
        KINDS[100]: _with_labels(_l("%(name)s reached the %(measure)s target for %(period)s")),
    }
)


def current_periods(zone_name, now):
    """The month, quarter and year under way in a zone."""
    today = now.astimezone(ZoneInfo(zone_name)).date()
    return [periods.current(kind, today) for kind in (periods.MONTH, periods.QUARTER, periods.YEAR)]


def reached(actual, target):
    """The milestones `actual` has reached of a positive `target`."""
    return [percent for percent in PERCENTS if Decimal(actual) * 100 >= Decimal(target) * percent]


def _people_with_targets(now):
    """{(user, period)} -> {measure: target}: active people's own positive targets of
    the periods current in their team's zone. One query for the targets: cheap when
    nobody set any."""
    zones = {DEFAULT_TIMEZONE, *db.session.scalars(select(Team.timezone).distinct())}
    current = {zone: {period.key: period for period in current_periods(zone, now)} for zone in zones}
    keys = sorted({key for by_key in current.values() for key in by_key})
    rows = db.session.execute(
        select(User, Target.period, Target.measure, Target.value)
        .join(User, User.id == Target.user_id)
        .where(Target.period.in_(keys), Target.user_id.is_not(None), Target.value > 0, User.active.is_(True))
    ).all()
    found = defaultdict(dict)
    for user, key, measure, value in rows:
        period = current[measures.zone_of(user)].get(key)
        if period is not None:  # current in another zone only
            found[(user, period)][Measure(measure)] = value
    return found


def _announced(user_ids, keys):
    return {
        (key, user_id, measure, percent)
        for key, user_id, measure, percent in db.session.execute(
            select(Milestone.period, Milestone.user_id, Milestone.measure, Milestone.percent).where(
                Milestone.user_id.in_(user_ids), Milestone.period.in_(keys)
            )
        )
    }


@dataclass(frozen=True)
class Due:
    """Milestones reached and not yet announced, of one person's target (plain values:
    the write transaction that records them starts afresh)."""

    user_id: int
    team_id: int | None
    name: str
    period: periods.Period
    measure: Measure
    percents: list


def _due(now):
    """[Due], in no particular order."""
    wanted = _people_with_targets(now)
    if not wanted:
        return []
    announced = _announced({user.id for user, _p in wanted}, {period.key for _u, period in wanted})
    # Progress only for whoever still has a milestone ahead: late in a good month, few.
    open_ = defaultdict(list)
    for (user, period), targets in wanted.items():
        if any(
            (period.key, user.id, measure.value, percent) not in announced
            for measure in targets
            for percent in PERCENTS
        ):
            open_[period].append((user, targets))
    due = []
    for period, people in open_.items():
        progress = measures.progress([user for user, _t in people], period)
        for user, targets in people:
            for measure, target in targets.items():
                new = [
                    percent
                    for percent in reached(progress[user.id][measure], target)
                    if (period.key, user.id, measure.value, percent) not in announced
                ]
                if new:
                    due.append(Due(user.id, user.team_id, user.display_name, period, measure, new))
    return due


def _managers_of(session, team_id):
    if team_id is None:
        return []
    return session.scalars(
        select(User.id).where(User.team_id == team_id, User.role == Role.MANAGER, User.active.is_(True))
    ).all()


def _record(session, due, now):
    """Insert the milestones' rows; the percents this call inserted (a concurrent run
    may have inserted some first)."""
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return session.scalars(
        module.insert(Milestone)
        .values(
            [
                {
                    "period": due.period.key,
                    "user_id": due.user_id,
                    "measure": due.measure.value,
                    "percent": p,
                    "at": now,
                }
                for p in due.percents
            ]
        )
        .on_conflict_do_nothing(index_elements=["period", "user_id", "measure", "percent"])
        .returning(Milestone.percent)
    ).all()


def announce_milestones(now=None):
    """Record and announce every milestone reached and not yet announced; returns the
    number of milestones this call announced."""
    now = now or clock.now()
    announced = 0
    for due in _due(now):
        with write_transaction() as session:
            won = _record(session, due, now)
            if not won:
                continue  # another process announced them
            target_link = link("performance.person", user_id=due.user_id, period=due.period.key)
            for recipient_id in sorted({due.user_id, *_managers_of(session, due.team_id)}):
                notify(
                    recipient_id,
                    KINDS[max(won)],
                    link=target_link,
                    name=due.name,
                    measure=due.measure.value,
                    period=due.period.key,
                    user_id=due.user_id,
                )
            announced += 1
    return announced


@periodic("performance-milestones", interval=INTERVAL)
def run_milestones():
    """Every five minutes: a milestone is news for the day, not for the minute."""
    return announce_milestones()
