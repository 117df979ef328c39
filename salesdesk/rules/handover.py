"""Hand-over when a user is deactivated: nothing stays with an inactive owner."""

from sqlalchemy import delete, select

from .. import clock, signals
from ..extensions import db
from ..ledger.models import Collaborator, Customer
from ..ledger.ownership import record_owner_change
from .assignment import tell_new_owner
from .models import Extension, ExtensionStatus
from .ownership import end_collaborations


@signals.user_deactivated.connect
def hand_over(user, actor, successor=None):
    """To the successor, or to the pool; the user's open extension requests lapse."""
    customers = db.session.scalars(select(Customer).where(Customer.owner_id == user.id)).all()
    for customer in customers:
        if successor is None:
            end_collaborations(customer, actor)  # a pool customer has no collaborators
        record_owner_change(customer, successor, "user_deactivated", actor)
        customer.updated_at = clock.now()
        if successor is not None:
            tell_new_owner(successor, customer, actor)
    db.session.execute(delete(Collaborator).where(Collaborator.user_id == user.id))
    for extension in db.session.scalars(
        select(Extension).where(
            Extension.requested_by_id == user.id, Extension.status == ExtensionStatus.PENDING
        )
    ):
        extension.status = ExtensionStatus.DECLINED
        extension.decided_by_id, extension.decided_at = actor.id, clock.now()
