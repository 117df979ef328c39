"""The ledger's rules: creating and editing customers (through the duplicate check),
contacts, stages, follow-ups, collaborators, the trash. No HTTP here."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import audit, clock, settings, signals
from ..auth.models import Role, User
from ..auth.services import sellers
from ..database import write_transaction
from ..errors import Conflict, DomainError, Forbidden
from ..extensions import db
from ..notifications import notify, register_kinds
from . import access, keys, search
from .models import (
    CHANNEL_LABELS,
    GRADES,
    KIND_LABELS,
    SOURCE_LABELS,
    Collaborator,
    CollaboratorEvent,
    CollaboratorStatus,
    Contact,
    ContactPhone,
    Customer,
    CustomerTag,
    FollowUp,
    OwnershipChange,
    Stage,
    StageChange,
)
from .similar import name_index

MAX_AMOUNT = Decimal("1000000000000")  # one trillion CNY: beyond any real deal
MAX_TAGS = 10
MAX_PHONES = 5

audit.register_actions(
    {
        "customer.created": _l("Customer created"),
        "customer.updated": _l("Customer changed"),
        "customer.deleted": _l("Customer moved to the trash"),
        "customer.restored": _l("Customer restored"),
        "customer.duplicate_blocked": _l("Duplicate customer blocked"),
    }
)
register_kinds(
    {
        "collaboration.added": _l("%(actor)s added you as a collaborator on %(customer)s"),
        "collaboration.requested": _l("%(actor)s asks to collaborate on %(customer)s"),
        "collaboration.approved": _l("%(actor)s accepted you as a collaborator on %(customer)s"),
        "collaboration.declined": _l("%(actor)s declined your request to collaborate on %(customer)s"),
    }
)


# ---- input ---------------------------------------------------------------------------


@dataclass
class ContactInput:
    name: str
    title: str = ""
    phones: list[str] = field(default_factory=list)
    email: str = ""
    wechat: str = ""


@dataclass
class CustomerInput:
    name: str
    kind: str = "company"
    credit_code: str = ""
    industry: str = ""
    province: str = ""
    city: str = ""
    source: str = "other"
    grade: str = "C"
    stage: str = Stage.LEAD
    expected_amount: str | Decimal = "0"
    tags: list[str] = field(default_factory=list)
    next_follow_up_on: date | None = None
    notes: str = ""
    contacts: list[ContactInput] = field(default_factory=list)


@dataclass
class Prepared:
    """Validated values with their duplicate keys."""

    fields: dict
    name_key: str | None
    credit_code: str | None
    tags: list[str]
    contacts: list[dict]

    @property
    def phone_keys(self):
        return [key for contact in self.contacts for _number, key in contact["phones"]]

    @property
    def email_keys(self):
        return [contact["email_key"] for contact in self.contacts if contact["email_key"]]

    def to_json(self):
        """For an import's dry run to hand to its commit."""
        fields = dict(self.fields, expected_amount=str(self.fields["expected_amount"]))
        if fields["next_follow_up_on"] is not None:
            fields["next_follow_up_on"] = fields["next_follow_up_on"].isoformat()
        return {
            "fields": fields,
            "name_key": self.name_key,
            "credit_code": self.credit_code,
            "tags": self.tags,
            "contacts": self.contacts,
        }

    @classmethod
    def from_json(cls, data):
        fields = dict(data["fields"], expected_amount=Decimal(data["fields"]["expected_amount"]))
        if fields["next_follow_up_on"] is not None:
            fields["next_follow_up_on"] = date.fromisoformat(fields["next_follow_up_on"])
        contacts = [
            dict(contact, phones=[tuple(phone) for phone in contact["phones"]])
            for contact in data["contacts"]
        ]
        return cls(fields, data["name_key"], data["credit_code"], data["tags"], contacts)


def _text(value, limit, field_name, label, required=False):
    value = (value or "").strip()
    if required and not value:
        raise DomainError(_("%(field)s is required.", field=label), field=field_name)
    if len(value) > limit:
        raise DomainError(
            _("%(field)s is too long (at most %(n)s characters).", field=label, n=limit), field=field_name
        )
    return value


def _line(value, limit, field_name, label, required=False):
    """A name or other short value that lists show and compare: stored as it looks, so
    that no invisible character makes two equal-looking values differ."""
    return _text(keys.visible(value), limit, field_name, label, required)


def _choice(value, allowed, field_name):
    if value not in allowed:
        raise DomainError(_("Choose one of the offered values."), field=field_name)
    return value


def parse_amount(value):
    try:
        amount = Decimal(str(value).replace(",", "").replace("，", "").strip() or "0")
    except InvalidOperation:
        raise DomainError(
            _("Enter the amount as a number, e.g. 120000.50."), field="expected_amount"
        ) from None
    if not amount.is_finite() or amount < 0 or amount >= MAX_AMOUNT:
        raise DomainError(_("The amount must be between 0 and 1,000,000,000,000."), field="expected_amount")
    if amount != amount.quantize(Decimal("0.01")):
        raise DomainError(_("The amount can have at most two decimals (fen)."), field="expected_amount")
    return amount.quantize(Decimal("0.01"))


def parse_tags(values):
    tags = []
    for raw in values:
        for tag in keys.visible(str(raw)).replace("，", ",").split(","):
            tag = tag.strip()
            if tag and tag not in tags:
                if len(tag) > 30:
                    raise DomainError(_("A tag has at most 30 characters."), field="tags")
                tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise DomainError(_("At most %(n)s tags.", n=MAX_TAGS), field="tags")
    return tags


def prepare_contact(contact, index=0):
    prefix = f"contacts-{index}-"
    name = _line(contact.name, 50, prefix + "name", _l("Contact name"), required=True)
    phones = []
    for number in contact.phones:
        number = keys.visible(number).strip()
        if not number:
            continue
        key = keys.phone_key(number)
        if key is None:
            raise DomainError(_("%(number)s is not a phone number.", number=number), field=prefix + "phones")
        if key not in [k for _n, k in phones]:
            phones.append((number[:40], key))
    if len(phones) > MAX_PHONES:
        raise DomainError(
            _("At most %(n)s phone numbers per contact.", n=MAX_PHONES), field=prefix + "phones"
        )
    email = keys.visible(contact.email).strip()
    if email:
        try:
            email = validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError:
            raise DomainError(
                _("%(email)s is not an e-mail address.", email=email), field=prefix + "email"
            ) from None
    return {
        "name": name,
        "title": _line(contact.title, 50, prefix + "title", _l("Job title")),
        "phones": phones,
        "email": email or None,
        "email_key": keys.email_key(email),
        "wechat": _line(contact.wechat, 64, prefix + "wechat", _l("WeChat ID")),
    }


def prepare(data):
    """Validate a CustomerInput; DomainError names the field that is wrong."""
    name = _line(data.name, 200, "name", _l("Customer name"), required=True)
    kind = _choice(data.kind, KIND_LABELS, "kind")
    try:
        credit_code = keys.credit_code_key(data.credit_code)
    except ValueError as error:
        message = (
            _(
                "A unified social credit code has 18 characters: "
                "digits and capital letters except I, O, S, V, Z."
            )
            if str(error) == "format"
            else _("This unified social credit code is not valid: its check character does not match.")
        )
        raise DomainError(message, field="credit_code") from None
    name_key = keys.company_key(name) if kind == "company" else None
    if kind == "company" and not name_key:
        raise DomainError(_("Enter the company's name, not only its legal form."), field="name")
    contacts = [prepare_contact(contact, i) for i, contact in enumerate(data.contacts)]
    phone_keys = [key for contact in contacts for _n, key in contact["phones"]]
    if len(set(phone_keys)) != len(phone_keys):
        raise DomainError(_("The same phone number is entered twice."), field="contacts-0-phones")
    fields = {
        "name": name,
        "kind": kind,
        "industry": _line(data.industry, 50, "industry", _l("Industry")),
        "province": _line(data.province, 20, "province", _l("Province")),
        "city": _line(data.city, 30, "city", _l("City")),
        "source": _choice(data.source, SOURCE_LABELS, "source"),
        "grade": _choice(data.grade, GRADES, "grade"),
        "stage": _choice(data.stage, [s.value for s in Stage], "stage"),
        "expected_amount": parse_amount(data.expected_amount),
        "next_follow_up_on": data.next_follow_up_on,
        "notes": _text(data.notes, 5000, "notes", _l("Notes")),
    }
    return Prepared(fields, name_key, credit_code, parse_tags(data.tags), contacts)


# ---- duplicate check -----------------------------------------------------------------


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


def _duplicates_of(prepared, exclude_id=None, with_similar=True):
    return check_duplicates(
        name_key=prepared.name_key,
        credit_code=prepared.credit_code,
        phone_keys=prepared.phone_keys,
        email_keys=prepared.email_keys,
        exclude_id=exclude_id,
        with_similar=with_similar,
    )


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


def record_blocked_duplicate(actor, report, source="form"):
    with write_transaction():
        audit.record(
            "customer.duplicate_blocked",
            actor=actor,
            subject=report.blocking[0].customer,
            source=source,
            team_id=actor.team_id,
        )


# ---- customers -----------------------------------------------------------------------


def index_names(prepared_list):
    """Compute the pinyin sort key and search tokens of each name (kept on Prepared),
    outside any transaction: for big imports this is the slow part."""
    for prepared in prepared_list:
        prepared.fields["sort_name"], prepared.fields["search_tokens"] = search.index_values(
            prepared.fields["name"]
        )


def _apply_fields(customer, prepared):
    if "search_tokens" not in prepared.fields:
        index_names([prepared])
    for name, value in prepared.fields.items():
        setattr(customer, name, value)
    customer.name_key = prepared.name_key
    customer.credit_code = prepared.credit_code


def _add_contact_rows(customer, contact):
    row = Contact(
        name=contact["name"],
        title=contact["title"],
        email=contact["email"],
        email_key=contact["email_key"],
        wechat=contact["wechat"],
        search_text=search.contact_search_text(
            [k for _n, k in contact["phones"]], contact["email"], contact["wechat"]
        ),
        phones=[ContactPhone(number=number, key=key) for number, key in contact["phones"]],
    )
    customer.contacts.append(row)
    return row


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


def _initial_owner(actor, owner_id):
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


def _raise_if_duplicate(prepared, confirm_similar, exclude_id=None):
    report = _duplicates_of(prepared, exclude_id=exclude_id, with_similar=not confirm_similar)
    if report.blocking or report.similar:
        raise DuplicateFound(report)


AUTO = "auto"  # as owner: let the team's assignment strategy choose


def insert_customers(actor, items, now, reason="create"):
    """Insert [(prepared, owner)] with contacts, tags, first stage and owner history, in
    the caller's transaction. The owner is a User, None for the pool, or AUTO for the
    team's assignment strategy. Rows are flushed together, so a big import costs a few
    batched statements per table."""
    session = db.session
    customers = []
    for prepared, owner in items:
        customer = Customer(
            created_at=now,
            created_by_id=actor.id,
            updated_at=now,
            updated_by_id=actor.id,
            team_id=owner.team_id if isinstance(owner, User) else actor.team_id,
        )
        _apply_fields(customer, prepared)
        customer.tags = [CustomerTag(tag=tag) for tag in prepared.tags]
        for contact in prepared.contacts:
            _add_contact_rows(customer, contact)
        _date_the_win(customer, now)
        customers.append(customer)
    session.add_all(customers)
    session.flush()
    for customer, (_prepared, owner) in zip(customers, items, strict=True):
        session.add(
            StageChange(
                customer_id=customer.id, from_stage=None, to_stage=customer.stage, actor_id=actor.id, at=now
            )
        )
        if isinstance(owner, User):
            record_owner_change(customer, owner, reason, actor, at=now)
    wanting = [
        customer for customer, (_prepared, owner) in zip(customers, items, strict=True) if owner == AUTO
    ]
    if wanting:
        signals.customers_need_owner.send(actor, customers=wanting)
    return customers


def create_customer(actor, data, *, owner_id=None, confirm_similar=False):
    """Create a customer after the duplicate check. Raises DuplicateFound (blocking, or
    a similar-name warning unless confirm_similar) and DomainError for bad values.
    The unique indexes are the final word: a concurrent create of the same customer
    loses with the same DuplicateFound."""
    prepared = prepare(data)
    index_names([prepared])
    try:
        with write_transaction():
            _raise_if_duplicate(prepared, confirm_similar)
            owner = _initial_owner(actor, owner_id)
            [customer] = insert_customers(actor, [(prepared, owner)], clock.now())
            audit.record("customer.created", actor=actor, subject=customer, name=customer.name)
    except IntegrityError:
        # Someone created the same customer between our check and our insert.
        report = _duplicates_of(prepared, with_similar=False)
        if not report.blocking:
            raise
        raise DuplicateFound(report) from None
    return customer


class StaleEdit(Conflict):
    """The customer, or one of its contacts, changed since the form was opened: the view
    shows `record` as it is now."""

    def __init__(self, record):
        if isinstance(record, Contact):
            message = _(
                "Someone else saved this contact in the meantime. Here are the current values; "
                "enter your change again if it is still needed."
            )
        else:
            message = _(
                "Someone else saved this customer in the meantime. Here are the current values; "
                "enter your change again if it is still needed."
            )
        super().__init__(message)
        self.record = record


EDITABLE = (
    "name",
    "kind",
    "industry",
    "province",
    "city",
    "source",
    "grade",
    "expected_amount",
    "next_follow_up_on",
    "notes",
)


def update_customer(actor, customer_id, expected_version, data, *, confirm_similar=False):
    """Save edited fields if nobody saved in between (else StaleEdit)."""
    prepared = prepare(data)
    now = clock.now()
    try:
        with write_transaction():
            customer = access.get_customer_for(actor, customer_id, "edit")
            _lock(customer)
            if customer.version != expected_version:
                raise StaleEdit(customer)
            _raise_if_duplicate(prepared, confirm_similar, exclude_id=customer.id)
            before = {name: getattr(customer, name) for name in (*EDITABLE, "credit_code", "stage")}
            before["tags"] = customer.tag_names
            stage = prepared.fields.pop("stage")
            _apply_fields(customer, prepared)
            if prepared.tags != before["tags"]:
                customer.tags = [CustomerTag(tag=tag) for tag in prepared.tags]
            _set_stage(customer, stage, actor, now)
            customer.version += 1
            customer.updated_at, customer.updated_by_id = now, actor.id
            changes = {
                name: [str(before[name]), str(getattr(customer, name))]
                for name in (*EDITABLE, "credit_code", "stage")
                if before[name] != getattr(customer, name)
            }
            if prepared.tags != before["tags"]:
                changes["tags"] = [before["tags"], prepared.tags]
            if "grade" in changes:
                signals.customer_changed.send(customer)
            audit.record("customer.updated", actor=actor, subject=customer, changes=changes)
    except IntegrityError:
        report = _duplicates_of(prepared, exclude_id=customer_id, with_similar=False)
        if not report.blocking:
            raise
        raise DuplicateFound(report) from None
    return customer


def _lock(customer):
    """Reload the customer under a row lock (PostgreSQL; SQLite's write lock is held
    already). Pending changes are flushed first so a nested caller loses none."""
    db.session.flush()
    db.session.refresh(customer, with_for_update=True)


def _date_the_win(customer, now):
    """won_at (成交日期) follows the stage: set when it becomes won, cleared otherwise."""
    customer.won_at = now if customer.stage == Stage.WON else None


def _set_stage(customer, stage, actor, now):
    if stage == customer.stage:
        return
    db.session.add(
        StageChange(
            customer_id=customer.id, from_stage=customer.stage, to_stage=stage, actor_id=actor.id, at=now
        )
    )
    customer.stage = stage
    _date_the_win(customer, now)
    signals.customer_changed.send(customer)
    if stage == Stage.WON:
        # Recognition and others react inside this transaction.
        signals.customer_won.send(customer, actor=actor)


def change_stage(actor, customer_id, stage, expected_version):
    stage = _choice(stage, [s.value for s in Stage], "stage")
    now = clock.now()
    with write_transaction():
        customer = access.get_customer_for(actor, customer_id, "edit")
        _lock(customer)
        if customer.version != expected_version:
            raise StaleEdit(customer)
        _set_stage(customer, stage, actor, now)
        customer.version += 1
        customer.updated_at, customer.updated_by_id = now, actor.id
    return customer


def log_follow_up(
    actor, customer_id, *, channel, content, occurred_at=None, next_step="", next_follow_up_on=None
):
    now = clock.now()
    channel = _choice(channel, CHANNEL_LABELS, "channel")
    content = _text(content, 5000, "content", _l("What happened"), required=True)
    next_step = _text(next_step, 500, "next_step", _l("Next step"))
    occurred_at = occurred_at or now
    if occurred_at > now:
        raise DomainError(_("A follow-up cannot be in the future."), field="occurred_at")
    local_day = occurred_at.astimezone(ZoneInfo(actor.timezone)).date()
    if next_follow_up_on is not None and next_follow_up_on < local_day:
        raise DomainError(_("The next follow-up date cannot be before this one."), field="next_follow_up_on")
    with write_transaction() as session:
        customer = access.get_customer_for(actor, customer_id, "follow_up")
        _lock(customer)
        follow_up = FollowUp(
            customer_id=customer.id,
            author_id=actor.id,
            channel=channel,
            content=content,
            occurred_at=occurred_at,
            next_step=next_step,
            next_follow_up_on=next_follow_up_on,
            created_at=now,
        )
        session.add(follow_up)
        if customer.last_follow_up_at is None or occurred_at > customer.last_follow_up_at:
            customer.last_follow_up_at = occurred_at
        if next_follow_up_on is not None:
            customer.next_follow_up_on = next_follow_up_on
        elif customer.next_follow_up_on is not None and customer.next_follow_up_on <= local_day:
            # The follow-up that was due is done.
            customer.next_follow_up_on = None
        customer.updated_at = now
        signals.customer_changed.send(customer)
    return follow_up


# ---- contacts ------------------------------------------------------------------------


def _check_contact_duplicates(contact, exclude_contact_id=None):
    """Phones and e-mails belong to one contact in the whole ledger."""
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


def add_contact(actor, customer_id, data):
    contact = prepare_contact(data)
    with write_transaction() as session:
        customer = access.get_customer_for(actor, customer_id, "edit")
        _check_contact_duplicates(contact)
        row = _add_contact_rows(customer, contact)
        customer.updated_at = clock.now()
        session.flush()
    return row


def update_contact(actor, customer_id, contact_id, expected_version, data):
    """Save a contact if nobody saved it in between (else StaleEdit)."""
    contact = prepare_contact(data)
    with write_transaction() as session:
        customer = access.get_customer_for(actor, customer_id, "edit")
        _lock(customer)
        row = session.get(Contact, contact_id)
        if row is None or row.customer_id != customer.id:
            raise DomainError(_("This contact does not belong to this customer."))
        if row.version != expected_version:
            raise StaleEdit(row)
        _check_contact_duplicates(contact, exclude_contact_id=row.id)
        row.version += 1
        row.name, row.title, row.wechat = contact["name"], contact["title"], contact["wechat"]
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
        row = session.get(Contact, contact_id)
        if row is None or row.customer_id != customer.id:
            raise DomainError(_("This contact does not belong to this customer."))
        customer.contacts.remove(row)
        customer.updated_at = clock.now()


# ---- collaborators -------------------------------------------------------------------


def _collaboration(customer, user):
    return db.session.scalar(
        select(Collaborator).where(Collaborator.customer_id == customer.id, Collaborator.user_id == user.id)
    )


def _collaborator_event(customer, user, action, actor):
    db.session.add(
        CollaboratorEvent(
            customer_id=customer.id, user_id=user.id, action=action, actor_id=actor.id, at=clock.now()
        )
    )


def _customer_link(customer):
    return f"/customers/{customer.id}"


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
        notify(
            user,
            "collaboration.added",
            link=_customer_link(customer),
            actor=actor.display_name,
            customer=customer.name,
        )


def request_collaboration(actor, customer_id, message=""):
    message = _text(message, 500, "message", _l("Message"))
    with write_transaction() as session:
        customer = access.get_customer_for(actor, customer_id, "view")
        if customer.owner_id is None:
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
        notify(
            customer.owner_id,
            "collaboration.requested",
            link=_customer_link(customer),
            actor=actor.display_name,
            customer=customer.name,
        )


def answer_collaboration(actor, customer_id, user_id, approve):
    with write_transaction() as session:
        customer = access.get_customer_for(actor, customer_id, "collaborators")
        user = session.get(User, user_id)
        collaboration = _collaboration(customer, user) if user else None
        if collaboration is None or collaboration.status != CollaboratorStatus.REQUESTED:
            raise DomainError(_("There is no open request from this person."))
        if approve:
            collaboration.status = CollaboratorStatus.ACTIVE
        else:
            session.delete(collaboration)
        _collaborator_event(customer, user, "approved" if approve else "declined", actor)
        notify(
            user,
            "collaboration.approved" if approve else "collaboration.declined",
            link=_customer_link(customer),
            actor=actor.display_name,
            customer=customer.name,
        )


def remove_collaborator(actor, customer_id, user_id):
    """The owner (or their manager, or an admin) removes someone; anyone may leave."""
    with write_transaction() as session:
        customer = access.get_customer_for(actor, customer_id, "view")
        user = session.get(User, user_id)
        collaboration = _collaboration(customer, user) if user else None
        if collaboration is None or collaboration.status != CollaboratorStatus.ACTIVE:
            raise DomainError(_("This person does not collaborate on this customer."))
        if actor.id != user.id and not access.can_manage_collaborators(actor, customer):
            raise Forbidden(_("You may not do this with this customer."))
        session.delete(collaboration)
        _collaborator_event(customer, user, "left" if actor.id == user.id else "removed", actor)


# ---- trash ---------------------------------------------------------------------------


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


# ---- timeline ------------------------------------------------------------------------


@dataclass
class TimelineItem:
    kind: str  # follow_up, stage, owner, collaborator
    at: object
    actor: object
    record: object


def timeline(customer, limit=200):
    """Follow-ups, stage, ownership and collaborator changes, newest first."""
    session = db.session
    items = [
        TimelineItem("follow_up", row.occurred_at, row.author, row)
        for row in session.scalars(
            select(FollowUp)
            .where(FollowUp.customer_id == customer.id)
            .order_by(FollowUp.occurred_at.desc())
            .limit(limit)
        )
    ]
    items += [
        TimelineItem("stage", row.at, row.actor, row)
        for row in session.scalars(
            select(StageChange)
            .where(StageChange.customer_id == customer.id)
            .order_by(StageChange.at.desc())
            .limit(limit)
        )
    ]
    items += [
        TimelineItem("owner", row.at, row.actor, row)
        for row in session.scalars(
            select(OwnershipChange)
            .where(OwnershipChange.customer_id == customer.id)
            .order_by(OwnershipChange.at.desc())
            .limit(limit)
        )
    ]
    items += [
        TimelineItem("collaborator", row.at, row.actor, row)
        for row in session.scalars(
            select(CollaboratorEvent)
            .where(CollaboratorEvent.customer_id == customer.id)
            .order_by(CollaboratorEvent.at.desc())
            .limit(limit)
        )
    ]
    items.sort(key=lambda item: (item.at, item.kind == "follow_up"), reverse=True)
    return items[:limit]


def collaborators_of(customer):
    return db.session.scalars(
        select(Collaborator).where(Collaborator.customer_id == customer.id).order_by(Collaborator.created_at)
    ).all()


def owner_choices(actor, everyone=None):
    """Whom `actor` may give customers to: the team's reps and managers (all, for
    admins). everyone: sellers(), when the caller has read them already."""
    team_id = None if actor.role == Role.ADMIN else actor.team_id
    if everyone is None:
        return sellers(team_id)
    return everyone if team_id is None else [seller for seller in everyone if seller.team_id == team_id]


def collaborator_candidates(customer):
    taken = select(Collaborator.user_id).where(Collaborator.customer_id == customer.id)
    query = (
        select(User)
        .where(User.active.is_(True), User.id.not_in(taken), User.role != Role.ADMIN)
        .order_by(User.team_id, User.display_name)
    )
    if customer.owner_id:
        query = query.where(User.id != customer.owner_id)
    return db.session.scalars(query).all()
