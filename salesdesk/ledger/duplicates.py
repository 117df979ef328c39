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
from ..fields import values as custom_values
from . import company_names, keys
from .company_names import SAME_TRADE_NAME, TRADE_NAME_CONTAINED
from .models import Contact, ContactPhone, Customer
from .similar import name_index

audit.register_actions({"customer.duplicate_blocked": _l("Duplicate customer blocked")})


@dataclass
class Match:
    customer: Customer
    reason: str  # name, credit_code, phone, email, similar_name, trade_name, trade_name_part
    similarity: float = 1.0
    trade_name: str = ""  # the trade name (字号) both share, for the trade-name reasons
    field: str = ""  # the unique custom field's label, for the reason "custom"

    @property
    def reason_label(self):
        if self.trade_name:
            return MATCH_REASONS[self.reason] % {"trade_name": self.trade_name}
        if self.field:
            return MATCH_REASONS[self.reason] % {"field": self.field}
        return MATCH_REASONS[self.reason]


MATCH_REASONS = {
    "name": _l("same company name"),
    "credit_code": _l("same unified social credit code"),
    "phone": _l("same phone number"),
    "email": _l("same e-mail address"),
    "custom": _l("same %(field)s"),  # a unique custom field (fields/)
    "similar_name": _l("similar company name"),
    SAME_TRADE_NAME: _l("same trade name: %(trade_name)s"),
    TRADE_NAME_CONTAINED: _l("trade name within the other: %(trade_name)s"),
}

# Keys holding the trade name that are read and judged, at most: a common trade name
# (宏达) must not turn one check into a scan of the ledger.
TRADE_NAME_CANDIDATES = 60
SIMILAR_SHOWN = 5


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
    *,
    name_key=None,
    name=None,
    credit_code=None,
    phone_keys=(),
    email_keys=(),
    custom=None,
    exclude_id=None,
    with_similar=True,
):
    """The one duplicate check, used by the form (live and on submit), edits and imports.

    Exact matches on any key block; a similar name (rapidfuzz ratio at or above the
    similarity setting) and, given the `name` as typed, a trade name (字号) that meets
    this one's (company_names.trade_name_warning) only warn. Trashed customers block too.
    """
    session = db.session
    found = {}

    def add(customer, reason, similarity=1.0, field=""):
        if customer.id != exclude_id and customer.id not in found:
            found[customer.id] = Match(customer, reason, similarity, field=field)

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
    # custom: kept values of the custom fields; a unique one's value blocks as a key does.
    for field, customer_id, _name in custom_values.holders("customer", custom or {}, exclude_id):
        add(session.get(Customer, customer_id), "custom", field=field.label)
    blocking = list(found.values())
    similar = []
    if with_similar and name_key:
        threshold = settings.current().similarity_percent / 100
        # First, as it brings the in-memory index up to date for both rules.
        alike = name_index().similar(name_key, threshold, exclude_id=exclude_id)
        similar = sharing_trade_name(name, set(found) | {exclude_id}, refresh=False) if name else []
        shown = set(found) | {match.customer.id for match in similar}
        query = company_names.parse(name) if name else None
        for customer_id, similarity in alike:
            if customer_id not in shown:
                customer = session.get(Customer, customer_id)
                if customer is None or customer.deleted_at is not None:
                    continue
                # The whole name alike is not enough: the trade names must be too.
                if query is None or company_names.trade_names_alike(
                    query, company_names.parse(customer.name)
                ):
                    similar.append(Match(customer, "similar_name", similarity))
        # The same trade name first, then the most similar names, then a trade name inside another.
        rank = {SAME_TRADE_NAME: 0, "similar_name": 1, TRADE_NAME_CONTAINED: 2}
        similar = sorted(similar, key=lambda match: (rank[match.reason], -match.similarity))[:SIMILAR_SHOWN]
    return DuplicateReport(blocking, similar)


def sharing_trade_name(name, exclude_ids=(), refresh=True):
    """[Match] of the customers whose trade name meets the one in `name` (the same, or
    one inside the other) and whose industry and region do not tell them apart: the
    keys holding the trade name come from the in-memory index, their names are read
    and parsed as this one is."""
    query = company_names.parse(name)
    if not query.distinctive:
        return []
    candidates = name_index().holding(
        company_names.search_fragments(query), TRADE_NAME_CANDIDATES + len(exclude_ids), refresh=refresh
    )
    candidates = [customer_id for customer_id in candidates if customer_id not in exclude_ids]
    if not candidates:
        return []
    rows = db.session.execute(
        select(Customer.id, Customer.name).where(Customer.id.in_(candidates), Customer.deleted_at.is_(None))
    )
    reasons = {}
    for customer_id, other_name in rows:
        other = company_names.parse(other_name)
        if reason := company_names.trade_name_warning(query, other):
            reasons[customer_id] = (reason, min(query.trade, other.trade, key=len))
    chosen = sorted(reasons, key=lambda i: (reasons[i][0] != SAME_TRADE_NAME, candidates.index(i)))
    chosen = chosen[:SIMILAR_SHOWN]
    customers = {c.id: c for c in db.session.scalars(select(Customer).where(Customer.id.in_(chosen)))}
    return [Match(customers[i], reasons[i][0], trade_name=reasons[i][1]) for i in chosen]


def duplicates_of(prepared, exclude_id=None, with_similar=True):
    """The check for validated values (validation.Prepared)."""
    return check_duplicates(
        name_key=prepared.name_key,
        name=prepared.fields["name"] if prepared.name_key else None,
        credit_code=prepared.credit_code,
        phone_keys=prepared.phone_keys,
        email_keys=prepared.email_keys,
        custom=prepared.custom,
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
        name_key=name_key,
        name=data.name if name_key else None,
        credit_code=credit_code,
        phone_keys=phone_keys,
        email_keys=email_keys,
        custom=custom_values.typed_unique_values("customer", data.custom),
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
