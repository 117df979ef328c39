"""Who may see and set which targets and figures. Services ask these before they act;
views hand templates the answers as booleans.

A rep sees their own targets and detail and, when the admin allows it, their team's
ranking by won amount; a manager sets and sees their team's; an admin any team's or
the whole company's, and alone corrects a closed period's targets (with a reason).
Support users are measured on the board's collaboration columns and see their own
detail."""

from flask_babel import gettext as _
from sqlalchemy import select

from ..auth.models import Role, Team
from ..database import is_id
from ..errors import Forbidden, NotFound
from ..extensions import db
from .models import performance_settings


def may_set_targets(user, team):
    """Managers their own team; admins any team."""
    if team is None:
        return False
    return user.role == Role.ADMIN or (user.role == Role.MANAGER and user.team_id == team.id)


def may_correct_closed_period(user):
    return user.role == Role.ADMIN


def may_pick_team(user):
    """Admins look at any team or the whole company; everyone else at their own team."""
    return user.role == Role.ADMIN


def may_see_board(user):
    """The whole board: managers (their team) and admins."""
    return user.role in (Role.MANAGER, Role.ADMIN)


def may_see_ranking(user):
    """The team's ranking by won amount: the board's people, or a rep when allowed."""
    return may_see_board(user) or (user.role in Role.SELLERS and performance_settings().reps_see_ranking)


def may_see_person(viewer, person):
    """One person's detail: themselves, their team's manager, admins."""
    return (
        viewer.id == person.id
        or viewer.role == Role.ADMIN
        or (viewer.role == Role.MANAGER and viewer.team_id is not None and viewer.team_id == person.team_id)
    )


def check_may_see_person(viewer, person):
    if not may_see_person(viewer, person):
        raise Forbidden(_("You may see only your own figures and, as a manager, your team's."))


def may_open_targets(user):
    """The targets table: managers (their team) and admins (any team)."""
    return user.role in (Role.MANAGER, Role.ADMIN)


def team_for(viewer, requested_id, *, company=True):
    """The team a page shows: an admin's pick (the whole company, None, when `company`
    allows it and nothing is picked; else the first team), everyone else's own team
    whatever the address says, as the manager home and the support metrics do."""
    if not may_pick_team(viewer):
        return viewer.team
    requested_id = str(requested_id or "").strip()
    if requested_id:
        number = int(requested_id) if requested_id.isdecimal() and len(requested_id) <= 10 else None
        team = db.session.get(Team, number) if is_id(number) else None
        if team is None:
            raise NotFound(_("This team does not exist."))
        return team
    if company:
        return None
    return db.session.scalars(select(Team).order_by(Team.name, Team.id).limit(1)).first()


def may_change_settings(user):
    return user.role == Role.ADMIN
