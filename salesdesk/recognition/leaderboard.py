"""The leaderboard: competition ranks over a period (company-wide or one team's), the
movement since the previous period, and 协作之星 badge counts."""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask_babel import gettext as _
from sqlalchemy import func, select

from .. import clock
from ..auth.models import Team, User
from ..database import is_id
from ..errors import NotFound
from ..extensions import db
from . import summaries
from .models import StarBadge
from .periods import PERIODS, Period, current_and_previous, user_zone

BOARD_LIMIT = 20


@dataclass
class Standing:
    user_id: int
    name: str
    team: str
    team_id: int
    points: int
    reached_at: datetime | None
    rank: int = 0
    previous_rank: int | None = None
    badges: int = 0
    is_viewer: bool = False
    share: int = 0

    @property
    def movement(self):
        """Places gained (positive) or lost since the previous period; None when new."""
        return None if self.previous_rank is None else self.previous_rank - self.rank


@dataclass
class Board:
    period: Period
    previous: Period
    team: Team | None
    rows: list = field(default_factory=list)
    me: Standing | None = None
    me_in_rows: bool = False
    ranked: int = 0


_LATEST = datetime.max.replace(tzinfo=UTC)


def _members(session, team_id=None):
    query = (
        select(User.id, User.display_name, Team.name, Team.id)
        .join(Team, User.team_id == Team.id)
        .where(User.active.is_(True))
    )
    if team_id is not None:
        query = query.where(User.team_id == team_id)
    rows = session.connection().execute(query)
    return {user_id: (name, team, its_team_id) for user_id, name, team, its_team_id in rows}


def rank(totals, members):
    """Competition ranking (1, 2, 2, 4) of members with points; equal totals are listed
    by who reached them first."""
    standings = [
        Standing(user_id, *members[user_id], points, reached_at)
        for user_id, (points, reached_at) in totals.items()
        if user_id in members and points > 0
    ]
    standings.sort(key=lambda s: (-s.points, s.reached_at or _LATEST, s.user_id))
    previous_points = None
    for position, standing in enumerate(standings, 1):
        if standing.points != previous_points:
            current_rank, previous_points = position, standing.points
        standing.rank = current_rank
    return standings


def standings(period, previous=None, team_id=None, session=None):
    session = session or db.session
    members = _members(session, team_id)
    current = rank(summaries.sums(session, period.start, period.end), members)
    if previous is not None:
        before = {
            s.user_id: s.rank
            for s in rank(summaries.sums(session, previous.start, previous.end, with_reached=False), members)
        }
        for standing in current:
            standing.previous_rank = before.get(standing.user_id)
    return current


def current_standings(viewer, team_id=None, period="month"):
    """This period's ranking (company-wide, or one team's) without the rank changes,
    badges and shares of the leaderboard page: for a glance at one's rank or a top
    five, at half the reads."""
    current, _previous = current_and_previous(period, clock.now(), user_zone(viewer))
    return standings(current, team_id=team_id)


def team_standings(company, team_id):
    """One team's ranking, taken from the company's: the same points, ranked among the
    team's people only."""
    team = [s for s in company if s.team_id == team_id]
    members = {s.user_id: (s.name, s.team, s.team_id) for s in team}
    return rank({s.user_id: (s.points, s.reached_at) for s in team}, members)


def leaderboard(viewer, period="month", team_id=None, limit=None):
    limit = limit or BOARD_LIMIT
    if period not in PERIODS:
        period = "month"
    team = None
    if team_id is not None:
        team = db.session.get(Team, team_id) if is_id(team_id) else None
        if team is None:
            raise NotFound(_("This team does not exist."))
    current, previous = current_and_previous(period, clock.now(), user_zone(viewer))
    ranked = standings(current, previous, team.id if team else None)
    board = Board(current, previous, team, ranked=len(ranked))
    top_points = ranked[0].points if ranked else 0
    shown = {s.user_id for s in ranked if s.rank <= limit}
    badges = badge_counts()
    for standing in ranked:
        standing.is_viewer = standing.user_id == viewer.id
        standing.badges = badges.get(standing.user_id, 0)
        standing.share = round(100 * standing.points / top_points) if top_points else 0
        if standing.user_id in shown and len(board.rows) < 100:
            board.rows.append(standing)
        if standing.is_viewer:
            board.me = standing
    board.me_in_rows = board.me is not None and board.me in board.rows
    return board


def badge_counts():
    """{user_id: number of 协作之星 badges}; a few per month, so all of them."""
    query = select(StarBadge.user_id, func.count()).group_by(StarBadge.user_id)
    return dict(db.session.connection().execute(query).all())
