"""Who sees which part of the workbench: named predicates for views and templates."""

from ..auth.models import Role


def sees_team_home(user):
    """Managers and admins get the team's half of the home page below their own."""
    return user.role in (Role.MANAGER, Role.ADMIN)


def may_pick_team(user):
    """Admins look at any team or the whole company; a manager sees their own team."""
    return user.role == Role.ADMIN
