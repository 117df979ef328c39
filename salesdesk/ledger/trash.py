"""The trash: a customer deleted by its owner's manager or an admin stays in the ledger
(its keys still block duplicates) until an administrator restores it."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import audit, clock
from ..auth.models import Role, User
from ..database import write_transaction
from ..errors import DomainError, Forbidden
from ..extensions import db
from ..paging import paginate
from . import access
from .models import Customer

audit.register_actions(
    {
        "customer.deleted": _l("Customer moved to the trash"),
        "customer.restored": _l("Customer restored"),
    }
)


def delete_customer(actor, customer_id):
    with write_transaction():
        customer = access.get_customer_for(actor, customer_id, "delete")
        customer.deleted_at, customer.deleted_by_id = clock.now(), actor.id
        customer.updated_at = clock.now()
        audit.record("customer.deleted", actor=actor, subject=customer, name=customer.name)
    return customer


def restore_customer(actor, customer_id):
    if actor.role != Role.ADMIN:
        raise Forbidden(_("Only administrators restore customers from the trash."))
    with write_transaction():
        customer = access.get_customer_for(actor, customer_id, "view", include_deleted=True)
        if customer.deleted_at is None:
            raise DomainError(_("This customer is not in the trash."))
        customer.deleted_at, customer.deleted_by_id = None, None
        customer.updated_at = clock.now()
        audit.record("customer.restored", actor=actor, subject=customer, name=customer.name)
    return customer


def deleted_page(page, per_page):
    """Deleted customers, the most recently deleted first."""
    query = select(Customer).where(Customer.deleted_at.is_not(None))
    return paginate(query.order_by(Customer.deleted_at.desc(), Customer.id.desc()), page, per_page)


def deleted_by(customers):
    """Who deleted each of `customers`: {user id: display name}."""
    ids = {customer.deleted_by_id for customer in customers} - {None}
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())
