"""Who owns a customer over time: the ownership history report, and what every change
of owner brings along (the collaborators leave with the old owner)."""

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from .. import clock
from ..database import is_id
from ..extensions import db
from ..ledger.models import OWNERSHIP_REASONS, Collaborator, CollaboratorEvent, OwnershipChange
from ..paging import paginate

PAGE_SIZE = 50


def end_collaborations(customer, actor):
    """A customer changing hands keeps no collaborators: nobody inherits them."""
    for collaboration in db.session.scalars(
        select(Collaborator).where(Collaborator.customer_id == customer.id)
    ):
        db.session.add(
            CollaboratorEvent(
                customer_id=customer.id,
                user_id=collaboration.user_id,
                action="removed",
                actor_id=actor.id if actor else None,
                at=clock.now(),
            )
        )
        db.session.delete(collaboration)


@dataclass
class HistoryFilters:
    reason: str = ""
    user: int | None = None
    customer: int | None = None

    @classmethod
    def from_args(cls, args):
        reason = args.get("reason", "")
        user, customer = (args.get(name, type=int) for name in ("user", "customer"))
        return cls(
            reason=reason if reason in OWNERSHIP_REASONS else "",
            user=user if is_id(user) else None,
            customer=customer if is_id(customer) else None,
        )


def ownership_history(filters, page):
    query = (
        select(OwnershipChange)
        .options(
            joinedload(OwnershipChange.from_user),
            joinedload(OwnershipChange.to_user),
            joinedload(OwnershipChange.actor),
        )
        .order_by(OwnershipChange.at.desc(), OwnershipChange.id.desc())
    )
    if filters.reason:
        query = query.where(OwnershipChange.reason == filters.reason)
    if filters.user:
        query = query.where(
            or_(OwnershipChange.from_user_id == filters.user, OwnershipChange.to_user_id == filters.user)
        )
    if filters.customer:
        query = query.where(OwnershipChange.customer_id == filters.customer)
    return paginate(query, page, PAGE_SIZE)
