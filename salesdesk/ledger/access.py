"""Who may see and do what with a customer: decided here and nowhere else.

Everyone sees that a customer exists, its owner, stage and last follow-up date (that
is what prevents collisions). Contact details (phone, e-mail, WeChat), notes and the
timeline are for the owner, active collaborators, managers of the owner's team,
support and administrators; others see contact details, and custom fields marked
sensitive, masked. Pool customers are
masked until claimed, except for support and administrators. Contact names and titles
are not masked: everyone sees them, and finds customers by them (ledger/search.py).
"""

import re
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select, true

from .. import settings
from ..auth.models import Role, User
from ..errors import Forbidden, NotFound
from ..extensions import db
from ..fields import values as custom_values
from . import keys
from .models import Collaborator, CollaboratorStatus, Contact, ContactPhone, Customer


def collaborating_ids(user):
    """Ids of the customers `user` is an active collaborator on."""
    return select(Collaborator.customer_id).where(
        Collaborator.user_id == user.id, Collaborator.status == CollaboratorStatus.ACTIVE
    )


def team_member_ids(team_id):
    """Ids of a team's members."""
    return select(User.id).where(User.team_id == team_id)


def sees_every_detail(user):
    """Whether `user` sees the details of every customer (support and administrators)."""
    return user is not None and user.role in (Role.ADMIN, Role.SUPPORT)


def details_visible_clause(user):
    """SQL condition on Customer: rows whose contact details `user` may see."""
    if sees_every_detail(user):
        return true()
    # A collaboration is with an owner: a pool customer stays masked to its old collaborators.
    collaborating = and_(~Customer.in_pool, Customer.id.in_(collaborating_ids(user)))
    mine = or_(Customer.owner_id == user.id, collaborating)
    if user.role == Role.MANAGER and user.team_id is not None:
        return or_(mine, and_(~Customer.in_pool, Customer.owner_id.in_(team_member_ids(user.team_id))))
    return mine


def details_visible_ids(user, customer_ids):
    """The ids among `customer_ids` whose details `user` may see (one query)."""
    if not customer_ids:
        return set()
    query = select(Customer.id).where(Customer.id.in_(list(customer_ids)), details_visible_clause(user))
    return set(db.session.scalars(query))


def is_collaborator(user, customer):
    return (
        db.session.scalar(
            select(Collaborator.id).where(
                Collaborator.customer_id == customer.id,
                Collaborator.user_id == user.id,
                Collaborator.status == CollaboratorStatus.ACTIVE,
            )
        )
        is not None
    )


def manages_owner(user, customer):
    """A manager of the owner's team (pool customers have no such manager)."""
    return (
        user.role == Role.MANAGER
        and customer.owner is not None
        and user.team_id is not None
        and customer.owner.team_id == user.team_id
    )


def can_see_details(user, customer):
    return customer.id in details_visible_ids(user, [customer.id])


def can_edit(user, customer):
    """Change fields, stage and contacts: the owner, the owner's manager, admins. Pool
    customers only by admins: editing shows the details a pool keeps masked (managers
    assign pool customers instead)."""
    if user.role == Role.ADMIN:
        return True
    return not customer.in_pool and (customer.owner_id == user.id or manages_owner(user, customer))


def can_log_follow_up(user, customer):
    """The owner, active collaborators (support included), the owner's manager, admins."""
    return can_edit(user, customer) or (not customer.in_pool and is_collaborator(user, customer))


def can_choose_owner(user):
    """Say who owns a new customer (someone, the pool, the team's rule): managers and
    admins. Reps own what they create; support's go to the pool."""
    return user.role in (Role.MANAGER, Role.ADMIN)


def export_scope(user):
    """What `user` may export, as the admin set it: "all" (the filtered list as they see
    it), "own" (only the customers they own) or None (nothing). Support reads every
    customer's details, so it exports only when everyone may."""
    scope = settings.current().export_scope
    if user.role == Role.ADMIN or scope == "everyone":
        return "all"
    if scope == "managers" and user.role == Role.MANAGER:
        return "all"
    if scope == "managers" and user.role == Role.REP:
        return "own"
    return None


def can_export(user):
    return export_scope(user) is not None


def can_delete(user, customer):
    """Move to the trash: the owner's manager and admins."""
    return user.role == Role.ADMIN or (user.role == Role.MANAGER and can_edit(user, customer))


def can_manage_collaborators(user, customer):
    return not customer.in_pool and (
        customer.owner_id == user.id or manages_owner(user, customer) or user.role == Role.ADMIN
    )


ACTIONS = {
    "view": lambda user, customer: True,
    "details": can_see_details,
    "edit": can_edit,
    "follow_up": can_log_follow_up,
    "delete": can_delete,
    "collaborators": can_manage_collaborators,
}


def get_customer_for(user, customer_id, action="view", *, include_deleted=False):
    """The customer, if `user` may do `action` with it; else NotFound or Forbidden."""
    customer = db.session.get(Customer, customer_id)
    if customer is None or (customer.deleted_at is not None and not include_deleted):
        raise NotFound(_("This customer does not exist or was deleted."))
    if include_deleted and user.role != Role.ADMIN and customer.deleted_at is not None:
        raise NotFound(_("This customer does not exist or was deleted."))
    if not ACTIONS[action](user, customer):
        raise Forbidden(_("You may not do this with this customer."))
    return customer


@dataclass
class ContactView:
    """A contact as one viewer may see it: details masked unless allowed."""

    id: int
    name: str
    title: str
    phones: list
    email: str
    wechat: str
    masked: bool
    custom: list = field(default_factory=list)  # fields.values.Shown: sensitive ones masked alike


def contact_views(customer, visible, custom_fields=()):
    """The customer's contacts for display or export; `visible` comes from
    details_visible_clause, so pages, fragments, search results and exports mask alike.
    custom_fields: the contacts' custom fields to show (fields.definitions.all_fields),
    read once by the caller."""
    views = []
    for contact in customer.contacts:
        view = _contact_view(contact, [phone.number for phone in contact.phones], visible)
        if custom_fields:
            view.custom = custom_values.shown("contact", contact.custom, visible, fields=custom_fields)
        views.append(view)
    return views


def first_contacts(customer_ids, visible_ids, chosen=None):
    """{customer id: its first contact, or the one `chosen` ({customer id: contact id})},
    as a list row shows it, masked alike. One query and plain rows: a list page needs one
    contact for each of its customers, not all."""
    # One IN over a UNION ALL, not an OR of two: PostgreSQL would read every contact.
    chosen = chosen or {}
    first = (
        select(func.min(Contact.id))
        .where(Contact.customer_id.in_([i for i in customer_ids if i not in chosen]))
        .group_by(Contact.customer_id)
    )
    rows = db.session.execute(
        select(
            Contact.customer_id,
            Contact.id,
            Contact.name,
            Contact.title,
            Contact.email,
            Contact.wechat,
            ContactPhone.number,
        )
        .outerjoin(ContactPhone, ContactPhone.contact_id == Contact.id)
        .where(Contact.id.in_(first.union_all(select(Contact.id).where(Contact.id.in_(chosen.values())))))
        .order_by(Contact.id, ContactPhone.id)
    ).all()
    contacts, numbers = {}, {}
    for row in rows:  # one row per phone
        contacts[row.customer_id] = row
        phones = numbers.setdefault(row.customer_id, [])
        if row.number is not None:
            phones.append(row.number)
    return {
        customer_id: _contact_view(contact, numbers[customer_id], customer_id in visible_ids)
        for customer_id, contact in contacts.items()
    }


def _contact_view(contact, numbers, visible):
    return ContactView(
        id=contact.id,
        name=contact.name,
        title=contact.title,
        phones=numbers if visible else [mask_phone(number) for number in numbers],
        email=(contact.email or "") if visible else (mask_email(contact.email) if contact.email else ""),
        wechat=contact.wechat if visible else mask_text(contact.wechat),
        masked=not visible,
    )


def mask_phone(number):
    """138****5678: the first three and last four digits stay, of the national number
    (+86 139 0000 1111 is 139****1111, not 861****1111)."""
    digits = keys.phone_key(number) or re.sub(r"[^0-9]", "", keys.fold(number))
    if len(digits) <= 7:
        return "*" * len(digits)
    return digits[:3] + "****" + digits[-4:]


def mask_email(email):
    """z***@example.com"""
    local, at, domain = (email or "").partition("@")
    if not at:
        return "***"
    return (local[:1] or "") + "***@" + domain


def mask_text(value):
    return (value[:1] + "***") if value else ""
