"""Who owns a customer: the owner of a new one, whom an actor may give customers to, and
the one way an owner changes (with its history row). The rules decide when; this
module records it."""

from flask_babel import gettext as _

from .. import clock, signals
from ..auth.models import Role, User
from ..auth.services import sellers
from ..errors import DomainError, Forbidden
from ..extensions import db
from . import access
from .models import OwnershipChange

AUTO = "auto"  # as owner: let the team's assignment strategy choose


def record_owner_change(customer, new_owner, reason, actor, note="", at=None):
    """Give the customer to `new_owner` (None: the pool) and append the history row."""
    at = at or clock.now()
    db.session.add(
        OwnershipChange(
            customer_id=customer.id,
            from_user_id=customer.owner_id,
            to_user_id=new_owner.id if new_owner else None,
            reason=reason,
            actor_id=actor.id if actor else None,
            at=at,
            note=note,
        )
    )
    customer.owner_id = new_owner.id if new_owner else None
    customer.owner = new_owner
    customer.owned_since = at if new_owner else None
    customer.extension_days = 0
    if new_owner is not None and new_owner.team_id is not None:
        customer.team_id = new_owner.team_id
    signals.customer_changed.send(customer)


def initial_owner(actor, owner_id):
    """Reps own what they create; managers and admins choose someone, the pool (None)
    or their team's assignment strategy (AUTO)."""
    if not access.can_choose_owner(actor):
        return actor if actor.can_hold_customers else None
    if owner_id == AUTO:
        return AUTO
    if not owner_id:
        return None
    owner = db.session.get(User, owner_id)
    if owner is None or not owner.can_hold_customers:
        raise DomainError(_("Choose an active rep or manager as owner."), field="owner_id")
    if actor.role == Role.MANAGER and owner.team_id != actor.team_id:
        raise Forbidden(_("Managers assign customers within their own team."))
    return owner


def owner_choices(actor, everyone=None):
    """Whom `actor` may give customers to: the team's reps and managers (all, for
    admins). everyone: sellers(), when the caller has read them already."""
    team_id = None if actor.role == Role.ADMIN else actor.team_id
    if everyone is None:
        return sellers(team_id)
    return everyone if team_id is None else [seller for seller in everyone if seller.team_id == team_id]
