"""Collaborators (协作人) on a customer: the owner adds colleagues, others ask to join and
the owner answers, anyone may leave; each step is kept as an event and notified."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import clock
from ..auth.models import Role, User
from ..database import write_transaction
from ..errors import DomainError, Forbidden
from ..extensions import db
from ..notifications import link, notify, register_kinds
from . import access
from .models import Collaborator, CollaboratorEvent, CollaboratorStatus
from .validation import clean_text

MAX_MESSAGE = 500

register_kinds(
    {
        "collaboration.added": _l("%(actor)s added you as a collaborator on %(customer)s"),
        "collaboration.requested": _l("%(actor)s asks to collaborate on %(customer)s"),
        "collaboration.approved": _l("%(actor)s accepted you as a collaborator on %(customer)s"),
        "collaboration.declined": _l("%(actor)s declined your request to collaborate on %(customer)s"),
    }
)


def _collaboration(customer, user):
    return db.session.scalar(
        select(Collaborator).where(Collaborator.customer_id == customer.id, Collaborator.user_id == user.id)
    )


def _collaboration_in(status, customer, user_id, refusal):
    """`user_id`'s collaboration on `customer` if it is in `status` (with the user);
    else DomainError(refusal)."""
    user = db.session.get(User, user_id)
    collaboration = _collaboration(customer, user) if user else None
    if collaboration is None or collaboration.status != status:
        raise DomainError(refusal)
    return user, collaboration


def _collaborator_event(customer, user, action, actor):
    db.session.add(
        CollaboratorEvent(
            customer_id=customer.id, user_id=user.id, action=action, actor_id=actor.id, at=clock.now()
        )
    )


def _notify(user, kind, customer, actor):
    notify(
        user,
        kind,
        link=link("ledger.show", customer_id=customer.id),
        actor=actor.display_name,
        customer=customer.name,
    )


def add_collaborator(actor, customer_id, user_id):
    with write_transaction() as session:
        customer = access.get_customer_for(actor, customer_id, "collaborators")
        user = session.get(User, user_id)
        if user is None or not user.active:
            raise DomainError(_("Choose an active colleague."), field="user_id")
        if user.id == customer.owner_id:
            raise DomainError(_("The owner is not a collaborator of their own customer."), field="user_id")
        collaboration = _collaboration(customer, user)
        if collaboration is not None and collaboration.status == CollaboratorStatus.ACTIVE:
            raise DomainError(
                _("%(name)s already collaborates on this customer.", name=user.display_name), field="user_id"
            )
        if collaboration is None:
            session.add(
                Collaborator(customer_id=customer.id, user_id=user.id, status=CollaboratorStatus.ACTIVE)
            )
        else:
            collaboration.status = CollaboratorStatus.ACTIVE
        _collaborator_event(customer, user, "added", actor)
        _notify(user, "collaboration.added", customer, actor)


def request_collaboration(actor, customer_id, message=""):
    message = clean_text(message, MAX_MESSAGE, "message", _l("Message"))
    with write_transaction() as session:
        customer = access.get_customer_for(actor, customer_id, "view")
        if customer.in_pool:
            raise DomainError(_("This customer is in the public pool: claim it instead."))
        if customer.owner_id == actor.id:
            raise DomainError(_("You own this customer."))
        if _collaboration(customer, actor) is not None:
            raise DomainError(_("You have already asked to collaborate on this customer."))
        session.add(
            Collaborator(
                customer_id=customer.id,
                user_id=actor.id,
                status=CollaboratorStatus.REQUESTED,
                message=message,
            )
        )
        _collaborator_event(customer, actor, "requested", actor)
        _notify(customer.owner_id, "collaboration.requested", customer, actor)


def answer_collaboration(actor, customer_id, user_id, approve):
    with write_transaction() as session:
        customer = access.get_customer_for(actor, customer_id, "collaborators")
        user, collaboration = _collaboration_in(
            CollaboratorStatus.REQUESTED, customer, user_id, _("There is no open request from this person.")
        )
        if approve:
            collaboration.status = CollaboratorStatus.ACTIVE
        else:
            session.delete(collaboration)
        _collaborator_event(customer, user, "approved" if approve else "declined", actor)
        _notify(user, "collaboration.approved" if approve else "collaboration.declined", customer, actor)


def remove_collaborator(actor, customer_id, user_id):
    """The owner (or their manager, or an admin) removes someone; anyone may leave."""
    with write_transaction() as session:
        customer = access.get_customer_for(actor, customer_id, "view")
        user, collaboration = _collaboration_in(
            CollaboratorStatus.ACTIVE,
            customer,
            user_id,
            _("This person does not collaborate on this customer."),
        )
        if actor.id != user.id and not access.can_manage_collaborators(actor, customer):
            raise Forbidden(_("You may not do this with this customer."))
        session.delete(collaboration)
        _collaborator_event(customer, user, "left" if actor.id == user.id else "removed", actor)


def collaborators_of(customer):
    return db.session.scalars(
        select(Collaborator).where(Collaborator.customer_id == customer.id).order_by(Collaborator.created_at)
    ).all()


def collaborator_candidates(customer):
    """Whom the owner may add: active colleagues, not admins, not already on it."""
    taken = select(Collaborator.user_id).where(Collaborator.customer_id == customer.id)
    query = (
        select(User)
        .where(User.active.is_(True), User.id.not_in(taken), User.role != Role.ADMIN)
        .order_by(User.team_id, User.display_name)
    )
    if not customer.in_pool:
        query = query.where(User.id != customer.owner_id)
    return db.session.scalars(query).all()
