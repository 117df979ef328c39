"""A customer's contacts: adding, editing and deleting them, each phone and e-mail
belonging to one contact in the whole ledger."""

from flask_babel import gettext as _

from .. import clock
from ..database import write_transaction
from ..errors import DomainError
from ..fields import values as custom_values
from . import access, search
from .duplicates import check_contact_duplicates
from .locking import StaleEdit, lock_customer
from .models import Contact, ContactPhone
from .validation import prepare_contact


def add_contact_row(customer, contact):
    """Append a contact (validation.prepare_contact's) with its phones and search text."""
    row = Contact(
        name=contact["name"],
        name_tokens=search.contact_name_tokens(contact["name"]),
        title=contact["title"],
        email=contact["email"],
        email_key=contact["email_key"],
        wechat=contact["wechat"],
        search_text=search.contact_search_text(
            [k for _n, k in contact["phones"]], contact["email"], contact["wechat"]
        ),
        phones=[ContactPhone(number=number, key=key) for number, key in contact["phones"]],
        custom=custom_values.merged(None, contact.get("custom") or {}) or None,
    )
    customer.contacts.append(row)
    return row


def add_contact(actor, customer_id, data):
    contact = prepare_contact(data)
    with write_transaction() as session:
        customer = access.get_customer_for(actor, customer_id, "edit")
        check_contact_duplicates(contact)
        custom_values.raise_if_taken("contact", contact["custom"])
        row = add_contact_row(customer, contact)
        customer.updated_at = clock.now()
        session.flush()
    return row


def _contact_of(session, customer, contact_id):
    row = session.get(Contact, contact_id)
    if row is None or row.customer_id != customer.id:
        raise DomainError(_("This contact does not belong to this customer."))
    return row


def update_contact(actor, customer_id, contact_id, expected_version, data):
    """Save a contact if nobody saved it in between (else StaleEdit)."""
    contact = prepare_contact(data)
    with write_transaction() as session:
        customer = access.get_customer_for(actor, customer_id, "edit")
        lock_customer(customer)
        row = _contact_of(session, customer, contact_id)
        if row.version != expected_version:
            raise StaleEdit(row)
        check_contact_duplicates(contact, exclude_contact_id=row.id)
        custom_values.raise_if_taken("contact", contact["custom"], exclude_id=row.id)
        row.version += 1
        row.custom = custom_values.merged(row.custom, contact["custom"]) or None
        row.name, row.title, row.wechat = contact["name"], contact["title"], contact["wechat"]
        row.name_tokens = search.contact_name_tokens(row.name)
        row.email, row.email_key = contact["email"], contact["email_key"]
        kept = {key: phone for phone in row.phones for key in [phone.key]}
        row.phones = [
            kept.get(key) or ContactPhone(number=number, key=key) for number, key in contact["phones"]
        ]
        session.flush()  # free removed phone keys before the search text refers to new ones
        row.search_text = search.contact_search_text(
            [k for _n, k in contact["phones"]], row.email, row.wechat
        )
        customer.updated_at = clock.now()
    return row


def delete_contact(actor, customer_id, contact_id):
    with write_transaction() as session:
        customer = access.get_customer_for(actor, customer_id, "edit")
        row = _contact_of(session, customer, contact_id)
        customer.contacts.remove(row)
        customer.updated_at = clock.now()
