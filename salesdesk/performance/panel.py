"""Targets on the workbench: a seller's own targets of the month with progress and pace,
and for a manager (an admin's chosen team) the team's. The workbench asks `home_for`
and `team_home_for` and includes templates/performance/_workbench.html."""

from dataclasses import dataclass, field

from flask import url_for

from .. import clock
from ..auth.models import Role
from . import access, targets
from .measures import zone_of
from .models import Measure
from .periods import MONTH, current
from .target_table import members


@dataclass
class TargetsPanel:
    period: object
    standing: targets.Standing
    link: str
    title_is_team: bool = False
    may_set: bool = False
    set_link: str = ""
    measures: list = field(default_factory=lambda: list(Measure))


def home_for(user):
    """The seller's own targets of this month; None for those who hold no customers."""
    if user.role not in Role.SELLERS:
        return None
    period = current(MONTH, clock.today(zone_of(user)))
    standing = targets.standings([user], period)[user.id]
    return TargetsPanel(period, standing, url_for("performance.person", user_id=user.id, period=period.key))


def team_home_for(viewer, team):
    """The team's targets of this month (None for the whole company: targets belong to
    teams) with its people's progress summed."""
    if team is None:
        return None
    period = current(MONTH, clock.today(team.timezone))
    people = members(team)
    standing = targets.team_standing(team, targets.standings(people, period), period)
    return TargetsPanel(
        period,
        standing,
        url_for("performance.board", period=period.key, team=team.id),
        title_is_team=True,
        may_set=access.may_set_targets(viewer, team),
        set_link=url_for("performance.targets", period=period.key, team=team.id),
    )
