"""Creating and editing customers: through the duplicate check, with their first stage,
owner history and contacts, in batches for imports; and moving a customer's stage."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from .. import audit, clock, signals
from ..auth.models import User
from ..database import write_transaction
from ..extensions import db
from ..fields import values as custom_values
from . import access, search
from .contacts import add_contact_row
from .duplicates import DuplicateFound, duplicates_of, raise_if_duplicate
from .locking import StaleEdit, lock_customer
from .models import Customer, CustomerTag, Stage, StageChange
from .ownership import AUTO, initial_owner, record_owner_change
from .validation import clean_choice, prepare

audit.register_actions(
    {
        "customer.created": _l("Customer created"),
        "customer.updated": _l("Customer changed"),
    }
)

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
    customer.custom = custom_values.merged(customer.custom, prepared.custom)


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
            add_contact_row(customer, contact)
        _date_the_win(customer, now)
        customers.append(customer)
    session.add_all(customers)
    session.flush()
    for customer, (_prepared, owner) in zip(customers, items, strict=True):
        session.add(
            StageChange(
                customer_id=customer.id,
                from_stage=None,
                to_stage=customer.stage,
                actor_id=actor.id,
                owner_id=owner.id if isinstance(owner, User) else None,
                at=now,
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
            raise_if_duplicate(prepared, confirm_similar)
            owner = initial_owner(actor, owner_id)
            [customer] = insert_customers(actor, [(prepared, owner)], clock.now())
            audit.record("customer.created", actor=actor, subject=customer, name=customer.name)
    except IntegrityError:
        # Someone created the same customer between our check and our insert.
        _raise_duplicate(prepared)
        raise
    return customer


def _raise_duplicate(prepared, exclude_id=None):
    """After a unique index refused a save: what the other, committed save took."""
    report = duplicates_of(prepared, exclude_id=exclude_id, with_similar=False)
    if report.blocking:
        raise DuplicateFound(report) from None


def _locked_for_edit(actor, customer_id, expected_version):
    """The customer, locked, if `actor` may edit it and nobody saved since they read
    `expected_version` (else StaleEdit)."""
    customer = access.get_customer_for(actor, customer_id, "edit")
    lock_customer(customer)
    if customer.version != expected_version:
        raise StaleEdit(customer)
    return customer


def update_customer(actor, customer_id, expected_version, data, *, confirm_similar=False):
    """Save edited fields if nobody saved in between (else StaleEdit)."""
    prepared = prepare(data)
    now = clock.now()
    try:
        with write_transaction():
            customer = _locked_for_edit(actor, customer_id, expected_version)
            raise_if_duplicate(prepared, confirm_similar, exclude_id=customer.id)
            before = {name: getattr(customer, name) for name in (*EDITABLE, "credit_code", "stage")}
            before["tags"] = customer.tag_names
            custom_before = customer.custom
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
            custom_changes = custom_values.changes(custom_before, customer.custom)
            if custom_changes:
                # Kept values, shown through their fields on the timeline (fields/history.py).
                changes["custom"] = custom_changes
            if "grade" in changes:
                signals.customer_changed.send(customer)
            audit.record("customer.updated", actor=actor, subject=customer, changes=changes)
    except IntegrityError:
        _raise_duplicate(prepared, exclude_id=customer_id)
        raise
    return customer


def update_custom_values(actor, customer_id, expected_version, raw):
    """Save the custom fields' values only (the customer page's inline edit), if nobody
    saved in between (else StaleEdit); recorded like an edit of the whole form."""
    kept = custom_values.prepare("customer", raw)
    now = clock.now()
    try:
        with write_transaction():
            customer = _locked_for_edit(actor, customer_id, expected_version)
            custom_values.raise_if_taken("customer", kept, exclude_id=customer.id)
            before = customer.custom
            customer.custom = custom_values.merged(before, kept)
            changes = custom_values.changes(before, customer.custom)
            if changes:
                customer.version += 1
                customer.updated_at, customer.updated_by_id = now, actor.id
                audit.record("customer.updated", actor=actor, subject=customer, changes={"custom": changes})
    except IntegrityError:
        custom_values.raise_if_taken("customer", kept, exclude_id=customer_id)
        raise
    return customer


def _date_the_win(customer, now):
    """won_at (成交日期) follows the stage: set when it becomes won, cleared otherwise."""
    customer.won_at = now if customer.stage == Stage.WON else None


def _set_stage(customer, stage, actor, now):
    if stage == customer.stage:
        return
    previous = (StageChange.customer_id == customer.id, StageChange.at < now)
    entered = select(func.max(StageChange.at)).where(*previous)
    db.session.add(
        StageChange(
            customer_id=customer.id,
            from_stage=customer.stage,
            to_stage=stage,
            actor_id=actor.id,
            owner_id=customer.owner_id,
            at=now,
            entered_at=db.session.scalar(entered),
        )
    )
    customer.stage = stage
    _date_the_win(customer, now)
    signals.customer_changed.send(customer)
    if stage == Stage.WON:
        # Recognition and others react inside this transaction.
        signals.customer_won.send(customer, actor=actor)


def change_stage(actor, customer_id, stage, expected_version):
    stage = clean_choice(stage, [s.value for s in Stage], "stage")
    now = clock.now()
    with write_transaction():
        customer = _locked_for_edit(actor, customer_id, expected_version)
        _set_stage(customer, stage, actor, now)
        customer.version += 1
        customer.updated_at, customer.updated_by_id = now, actor.id
    return customer
