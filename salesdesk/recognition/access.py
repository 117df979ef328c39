"""Who may give, take back and look into points: decided here and nowhere else.

Everyone active thanks colleagues from a small budget; managers and administrators
award points from theirs and see the mutual-thanks report (managers of their own
team); administrators reverse entries and change the settings. Points go to active
members of a team, never to oneself.
"""

from flask_babel import gettext as _

from ..auth.models import Role
from ..errors import Forbidden


def _active(user):
    return user.is_authenticated and user.active


def may_award(user):
    return _active(user) and user.role in (Role.ADMIN, Role.MANAGER)


def may_receive_points(user):
    return user.active and user.team_id is not None


def may_thank(giver, recipient):
    return giver.active and giver.id != recipient.id and may_receive_points(recipient)


def may_award_to(giver, recipient):
    return may_award(giver) and may_thank(giver, recipient)


def may_reverse(user):
    return _active(user) and user.role == Role.ADMIN


def may_change_settings(user):
    return may_reverse(user)


def may_see_report(user):
    return may_award(user)


def sees_every_team(user):
    """Reports of any team; the others see their own team's."""
    return user.role == Role.ADMIN


def require(allowed):
    if not allowed:
        raise Forbidden(_("You do not have permission to do this."))
