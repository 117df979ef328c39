"""The duplicate check: is this customer (or this contact's phone or e-mail) already in
the ledger? One check for the form (live and on submit), edits and imports."""

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import audit, settings
from ..database import write_transaction
from ..errors import DomainError
from ..extensions import db
from . import keys
from .models import Contact, ContactPhone, Customer
from .similar import name_index

audit.register_actions({"customer.duplicate_blocked": _l("Duplicate customer blocked")})


@dataclass
class Match:
    customer: Customer
    reason: str  # name, credit_code, phone, email, similar_name
    similarity: float = 1.0

    @property
    def reason_label(self):
        return MATCH_REASONS[self.reason]


MATCH_REASONS = {
    "name": _l("same company name"),
    "credit_code": _l("same unified social credit code"),
    "phone": _l("same phone number"),
    "email": _l("same e-mail address"),
    "similar_name": _l("similar company name"),
}


@dataclass
class DuplicateReport:
    blocking: list[Match]
    similar: list[Match]


class DuplicateFound(DomainError):
    """Creation refused: the customer exists (blocking) or one looks alike (warning)."""

    status = 409

    def __init__(self, report):
        blocking = bool(report.blocking)
        super().__init__(
            _("This customer is already in the ledger.")
            if blocking
            else _("A customer with a similar name exists. Check it before you create a new one.")
        )
        self.report = report
        self.blocking = blocking


def check_duplicates(
    *, name_key=None, credit_code=None, phone_keys=(), email_keys=(), exclude_id=None, with_similar=True
):
    """The one duplicate check, used by the form (live and on submit), edits and imports.

    Exact matches on any key block; a similar name (rapidfuzz ratio at or above the
    similarity setting) only warns. Trashed customers block too.
    """
    session = db.session
    found = {}

    def add(customer, reason, similarity=1.0):
        if customer.id != exclude_id and customer.id not in found:
            found[customer.id] = Match(customer, reason, similarity)

    if name_key:
        for customer in session.scalars(select(Customer).where(Customer.name_key == name_key)):
            add(customer, "name")
    if credit_code:
        for customer in session.scalars(select(Customer).where(Customer.credit_code == credit_code)):
            add(customer, "credit_code")
    if phone_keys:
        query = (
            select(Customer).join(Contact).join(ContactPhone).where(ContactPhone.key.in_(list(phone_keys)))
        )
        for customer in session.scalars(query):
            add(customer, "phone")
    if email_keys:
        query = select(Customer).join(Contact).where(Contact.email_key.in_(list(email_keys)))
        for customer in session.scalars(query):
            add(customer, "email")
    blocking = list(found.values())
    similar = []
    if with_similar and name_key:
        threshold = settings.current().similarity_percent / 100
        for customer_id, similarity in name_index().similar(name_key, threshold, exclude_id=exclude_id):
            if customer_id not in found:
                customer = session.get(Customer, customer_id)
                if customer is not None and customer.deleted_at is None:
                    similar.append(Match(customer, "similar_name", similarity))
    return DuplicateReport(blocking, similar)


def duplicates_of(prepared, exclude_id=None, with_similar=True):
    """The check for validated values (validation.Prepared)."""
    return check_duplicates(
        name_key=prepared.name_key,
        credit_code=prepared.credit_code,
        phone_keys=prepared.phone_keys,
        email_keys=prepared.email_keys,
        exclude_id=exclude_id,
        with_similar=with_similar,
    )


def raise_if_duplicate(prepared, confirm_similar, exclude_id=None):
    """DuplicateFound when a customer blocks, or looks alike and that was not confirmed."""
    report = duplicates_of(prepared, exclude_id=exclude_id, with_similar=not confirm_similar)
    if report.blocking or report.similar:
        raise DuplicateFound(report)


def duplicates_while_typing(data):
    """The live check on the new-customer form: whatever keys the half-typed input
    already yields (a phone still being typed, no name yet…)."""
    name_key = keys.company_key(data.name) if data.kind == "company" and data.name.strip() else None
    phone_keys = [
        key for contact in data.contacts for number in contact.phones if (key := keys.phone_key(number))
    ]
    email_keys = [
        key for contact in data.contacts if "@" in contact.email and (key := keys.email_key(contact.email))
    ]
    try:
        credit_code = keys.credit_code_key(data.credit_code)
    except ValueError:
        credit_code = None
    return check_duplicates(
        name_key=name_key, credit_code=credit_code, phone_keys=phone_keys, email_keys=email_keys
    )


def check_contact_duplicates(contact, exclude_contact_id=None):
    """Phones and e-mails belong to one contact in the whole ledger: DuplicateFound
    names the customers that have them. `contact` is validation.prepare_contact's."""
    phone_keys = [key for _n, key in contact["phones"]]
    query = (
        select(ContactPhone.contact_id, Contact.customer_id)
        .join(Contact)
        .where(ContactPhone.key.in_(phone_keys))
    )
    email_query = select(Contact.id, Contact.customer_id).where(Contact.email_key == contact["email_key"])
    rows = list(db.session.execute(query)) if phone_keys else []
    rows += list(db.session.execute(email_query)) if contact["email_key"] else []
    customer_ids = {customer_id for contact_id, customer_id in rows if contact_id != exclude_contact_id}
    if customer_ids:
        customers = db.session.scalars(select(Customer).where(Customer.id.in_(customer_ids))).all()
        raise DuplicateFound(
            DuplicateReport([Match(c, "phone" if phone_keys else "email") for c in customers], [])
        )


def record_blocked_duplicate(actor, report, source="form"):
    with write_transaction():
        audit.record(
            "customer.duplicate_blocked",
            actor=actor,
            subject=report.blocking[0].customer,
            source=source,
            team_id=actor.team_id,
        )
