"""The mutual-thanks report: pairs in a team who thank each other back and forth far
more than the team's other pairs do. Managers see their own team, administrators any."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from .. import clock
from ..auth import services as accounts
from ..auth.models import Team, User
from ..database import is_id
from ..errors import Forbidden, NotFound
from ..extensions import db
from . import access
from .entries import not_reversed
from .models import Kind, PointEntry
from .periods import user_zone

# Pairs whose exchanges are this many times the average of the team's other pairs.
MUTUAL_FACTOR = 3
MUTUAL_MIN_EACH_WAY = 2


@dataclass
class Pair:
    first: str
    second: str
    first_id: int
    second_id: int
    there: int = 0
    back: int = 0
    points: int = 0
    ratio: float = 0.0
    flagged: bool = False

    @property
    def total(self):
        return self.there + self.back


@dataclass
class MutualReport:
    team: Team
    since: date
    days: int
    average: float
    pairs: list
    factor: int = MUTUAL_FACTOR
    min_each_way: int = MUTUAL_MIN_EACH_WAY


def report_teams(viewer):
    if access.sees_every_team(viewer):
        return accounts.teams()
    return [viewer.team] if viewer.team is not None else []


def mutual_thanks_report(viewer, team_id=None, days=90):
    """Pairs in a team who thank each other back and forth far more than the team's
    pairs do on average. Managers see their own team, administrators any team."""
    if not access.may_see_report(viewer):
        raise Forbidden(_("Only managers and administrators can see this report."))
    teams = report_teams(viewer)
    if team_id is None:
        team = teams[0] if teams else None
    else:
        team = db.session.get(Team, team_id) if is_id(team_id) else None
        if team is None:
            raise NotFound(_("This team does not exist."))
        if team not in teams:
            raise Forbidden(_("Managers see the report of their own team only."))
    if team is None:
        raise NotFound(_("This team does not exist."))
    since = clock.now() - timedelta(days=days)
    members = dict(
        db.session.execute(select(User.id, User.display_name).where(User.team_id == team.id)).all()
    )
    counts = defaultdict(lambda: [0, 0])
    for giver_id, recipient_id, times, points in db.session.execute(
        select(PointEntry.giver_id, PointEntry.recipient_id, func.count(), func.sum(PointEntry.points))
        .where(
            PointEntry.kind == Kind.THANKS,
            PointEntry.counted_at >= since,
            PointEntry.giver_id.in_(list(members)),
            PointEntry.recipient_id.in_(list(members)),
            not_reversed(),
        )
        .group_by(PointEntry.giver_id, PointEntry.recipient_id)
    ):
        counts[(giver_id, recipient_id)] = [times, int(points)]
    pairs = {}
    for (giver_id, recipient_id), (times, points) in counts.items():
        key = (min(giver_id, recipient_id), max(giver_id, recipient_id))
        pair = pairs.setdefault(key, Pair(members[key[0]], members[key[1]], *key))
        if giver_id == key[0]:
            pair.there += times
        else:
            pair.back += times
        pair.points += points
    total = sum(p.total for p in pairs.values())
    average = total / len(pairs) if pairs else 0.0
    mutual = [p for p in pairs.values() if p.there and p.back]
    for pair in mutual:
        # Against the other pairs: one busy pair must not hide itself by raising the average.
        others = len(pairs) - 1
        others_average = (total - pair.total) / others if others else 0.0
        pair.ratio = pair.total / others_average if others_average else 0.0
        pair.flagged = min(pair.there, pair.back) >= MUTUAL_MIN_EACH_WAY and pair.ratio >= MUTUAL_FACTOR
    mutual.sort(key=lambda p: (-p.flagged, -p.total, p.first_id, p.second_id))
    local_since = since.astimezone(user_zone(viewer)).date()
    return MutualReport(team, local_since, days, average, mutual), teams
