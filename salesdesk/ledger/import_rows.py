"""The rows of an imported file as customers: each row read into a CustomerInput under
the mapping (column_mapping.py), and the dry run that classifies every row as new,
already in the ledger, repeated or invalid. No files, no jobs: importer.py runs these in
the background."""

import re
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..auth.models import Role, User
from ..errors import DomainError
from ..extensions import db
from ..fields import sql as field_sql
from ..fields import types as field_types
from ..fields import values as custom_values
from ..fields.models import FieldType
from ..paging import paginate
from . import access, exporter, keys
from .column_mapping import (
    CONTACT,
    CUSTOM,
    check_custom_targets,
    custom_target,
    is_custom_target,
    mapping_fields,
)
from .models import SOURCE_LABELS, Contact, ContactPhone, Customer, ImportRow, Stage
from .validation import ContactInput, CustomerInput, Prepared, prepare

STATUS_LABELS = {
    "new": _l("New"),
    "existing": _l("Already in the ledger"),
    "repeated": _l("Repeats an earlier row"),
    "invalid": _l("Invalid"),
}
SOURCE_WORDS = {
    "官网": "website",
    "网站": "website",
    "展会": "exhibition",
    "转介绍": "referral",
    "介绍": "referral",
    "电话开发": "cold_call",
    "陌拜": "cold_call",
    "广告": "advertising",
    "其他": "other",
}
STAGE_WORDS = {
    "线索": "lead",
    "初步接触": "contacted",
    "接触": "contacted",
    "需求确认": "qualified",
    "方案报价": "quoted",
    "报价": "quoted",
    "商务谈判": "negotiating",
    "谈判": "negotiating",
    "赢单": "won",
    "成交": "won",
    "输单": "lost",
    "丢单": "lost",
}
PROGRESS_EVERY = 250  # rows classified between two progress reports


def cell(row, mapping, field):
    index = mapping.get(field)
    return exporter.unneutralise(row[index].strip()) if index is not None and index < len(row) else ""


def _split_region(text):
    text = re.sub(r"[\s/,，\-]+", " ", text).strip()
    for province in sorted(keys.PROVINCES, key=len, reverse=True):
        for prefix in (province + "省", province + "市", province + "自治区", province):
            if text.startswith(prefix):
                return province, text[len(prefix) :].strip().removesuffix("市")
    return "", text.removesuffix("市")


def _code(text, words, allowed, field, label):
    if not text:
        return None
    lowered = text.strip().lower()
    if lowered in allowed:
        return lowered
    for word, code in words.items():
        if word in text:
            return code
    raise DomainError(_("Unknown %(field)s: %(value)s", field=label, value=text), field=field)


def _date(text):
    if not text:
        return None
    text = (
        text.strip()
        .replace("/", "-")
        .replace(".", "-")
        .replace("年", "-")
        .replace("月", "-")
        .replace("日", "")
    )
    try:
        return date.fromisoformat("-".join(part.zfill(2) for part in text.split(" ")[0].split("-")))
    except ValueError:
        raise DomainError(
            _("Not a date: %(value)s (use 2026-03-31)", value=text), field="next_follow_up_on"
        ) from None


def _custom_cells(row, mapping, prefix):
    """Each mapped custom field's cell as written; fields/types.py reads 是/否, dates as
    Excel writes them, choices by their labels."""
    return {
        target.removeprefix(prefix): cell(row, mapping, target)
        for target in mapping
        if target.startswith(prefix)
    }


def row_input(row, mapping):
    """A CustomerInput (and the owner's name or e-mail) from one row."""
    region = cell(row, mapping, "region")
    province, city = _split_region(region) if region else ("", "")
    grade = cell(row, mapping, "grade").upper().rstrip("级类")
    contact_fields = [cell(row, mapping, f) for f in ("contact_name", "phone", "phone2", "email", "wechat")]
    # None when no contact field is mapped: a required one does not refuse the file.
    contact_custom = _custom_cells(row, mapping, CONTACT) or None
    contacts = []
    if any(contact_fields) or any((contact_custom or {}).values()):
        name, phone, phone2, email, wechat = contact_fields
        contacts.append(
            ContactInput(
                name=name or _("Contact"),
                title=cell(row, mapping, "contact_title"),
                phones=[p for p in re.split(r"[;；,，/、]", phone) + [phone2] if p.strip()],
                email=email,
                wechat=wechat,
                custom=contact_custom,
            )
        )
    data = CustomerInput(
        name=cell(row, mapping, "name"),
        credit_code=cell(row, mapping, "credit_code"),
        industry=cell(row, mapping, "industry"),
        province=cell(row, mapping, "province") or province,
        city=cell(row, mapping, "city") or city,
        source=_code(cell(row, mapping, "source"), SOURCE_WORDS, SOURCE_LABELS, "source", _("source"))
        or "other",
        grade=grade or "C",
        stage=_code(cell(row, mapping, "stage"), STAGE_WORDS, [s.value for s in Stage], "stage", _("stage"))
        or Stage.LEAD,
        expected_amount=cell(row, mapping, "expected_amount") or "0",
        tags=[cell(row, mapping, "tags")],
        next_follow_up_on=_date(cell(row, mapping, "next_follow_up_on")),
        notes=cell(row, mapping, "notes"),
        contacts=contacts,
        custom=_custom_cells(row, mapping, CUSTOM),
    )
    return data, cell(row, mapping, "owner")


def owners_by_name(user, everyone=False):
    """Whom an importer may name as owner: display name or e-mail -> User. Reps own
    what they import, managers assign within their team, admins to anyone (the same
    rules as the new-customer form). everyone: every active seller, whom the importer
    may or may not name (to say why a name is refused)."""
    query = select(User).where(User.can_hold_customers)
    if not everyone and not access.can_choose_owner(user):
        query = query.where(User.id == user.id)
    elif not everyone and user.role != Role.ADMIN:
        query = query.where(User.team_id == user.team_id)
    found = {}
    for owner in db.session.scalars(query):
        found[owner.display_name] = owner
        found[owner.email] = owner
    return found


def owner_hint(user):
    """What the owner column may say, for the import pages."""
    if not access.can_choose_owner(user):
        return _("Customers you import are yours: the owner column may name only you, or be left empty.")
    if user.role != Role.ADMIN:
        return _(
            "The owner column may name the reps and managers of your team; "
            "rows without an owner follow your team's assignment rule."
        )
    return _("The owner column may name any active rep or manager; rows without one follow the team's rule.")


def _owner(user, name, allowed, everyone):
    """The owner a row names, or DomainError saying why the importer may not name them."""
    if not name:
        return None
    owner = allowed.get(name) or allowed.get(name.lower())
    if owner is not None:
        return owner
    if (everyone.get(name) or everyone.get(name.lower())) is None:
        message = _("Unknown owner %(name)s (not an active rep or manager).", name=name)
    elif not access.can_choose_owner(user):
        message = _(
            "You cannot make %(name)s the owner: customers you import are yours. "
            "Clear the owner cell, or ask your manager to assign them afterwards.",
            name=name,
        )
    else:
        message = _("%(name)s is not in your team: managers assign within their own team.", name=name)
    raise DomainError(message, field="owner")


@dataclass
class Verdict:
    row_number: int
    status: str  # new, existing, repeated, invalid
    prepared: Prepared | None = None
    owner: User | None = None
    message: str = ""
    duplicate_of: int | None = None
    earlier_row: int | None = None


def classify(user, rows, mapping, on_progress=None):
    """Dry-run every data row and return one Verdict per row.

    Exact duplicate keys are looked up for the whole file at once, so ten thousand
    rows cost a handful of queries rather than tens of thousands. A unique custom
    field's value is a duplicate key too: held by a customer, or by an earlier row.
    """
    fields = mapping_fields()
    check_custom_targets(mapping, fields)
    unique = unique_fields(fields)
    # Read once for the whole file, not once a row.
    users = custom_values.active_users() if any(f.type == FieldType.USER for f in fields) else None
    owners, everyone = owners_by_name(user), owners_by_name(user, everyone=True)
    verdicts = []
    for number, row in enumerate(rows[1:], start=2):
        try:
            data, owner_name = row_input(row, mapping)
            prepared = prepare(data, custom_fields=fields, users=users)
            owner = _owner(user, owner_name, owners, everyone)
            verdicts.append(Verdict(number, "new", prepared, owner))
        except DomainError as error:
            verdicts.append(Verdict(number, "invalid", message=error.message))
        if on_progress and number % PROGRESS_EVERY == 0:
            on_progress(number // 2)
    existing = existing_keys([v.prepared for v in verdicts if v.prepared is not None], unique_fields=unique)
    seen = {}
    taken_by_custom = {}  # verdict -> the unique custom key a customer holds
    for verdict in verdicts:
        if verdict.prepared is None:
            continue
        keys_of_row = row_keys(verdict.prepared, unique)
        held = next((k for k in keys_of_row if k in existing), None)
        earlier = None if held else next((k for k in keys_of_row if k in seen), None)
        if held:
            verdict.status, verdict.duplicate_of = "existing", existing[held]
            if is_custom_target(held[0]):
                taken_by_custom[verdict.row_number] = held
        elif earlier:
            verdict.status, verdict.earlier_row = "repeated", seen[earlier]
            if is_custom_target(earlier[0]):
                verdict.message = _repeated_message(unique, earlier, seen[earlier])
        else:
            for key in keys_of_row:
                seen[key] = verdict.row_number
    if taken_by_custom:
        _say_who_holds(verdicts, taken_by_custom, unique)
    return verdicts


def unique_fields(fields):
    return [f for f in fields if f.unique]


def _field_of(unique, kind):
    return next(f for f in unique if custom_target(f) == kind)


def _repeated_message(unique, key, row_number):
    f = _field_of(unique, key[0])
    return _(
        "%(field)s %(value)s is also in row %(n)s: it is unique.",
        field=f.label,
        value=field_types.display(f, key[1]),
        n=row_number,
    )


def _say_who_holds(verdicts, taken_by_custom, unique):
    """The message of rows whose unique custom value a customer holds: which one."""
    ids = {v.duplicate_of for v in verdicts if v.row_number in taken_by_custom}
    names = dict(db.session.execute(select(Customer.id, Customer.name).where(Customer.id.in_(ids))).all())
    for verdict in verdicts:
        key = taken_by_custom.get(verdict.row_number)
        if key is not None:
            f = _field_of(unique, key[0])
            verdict.message = _(
                "%(field)s %(value)s belongs to %(name)s already.",
                field=f.label,
                value=field_types.display(f, key[1]),
                name=names.get(verdict.duplicate_of, ""),
            )


def row_keys(prepared, unique=()):
    """A row's duplicate keys, as (kind, key) pairs; unique: the unique custom fields,
    whose values are keys of kind custom:<key> (the customer's) or contact:<key>."""
    records = {"customer": [prepared.custom], "contact": [c["custom"] for c in prepared.contacts]}
    return (
        ([("name", prepared.name_key)] if prepared.name_key else [])
        + ([("credit_code", prepared.credit_code)] if prepared.credit_code else [])
        + [("phone", key) for key in prepared.phone_keys]
        + [("email", key) for key in prepared.email_keys]
        + [
            (custom_target(f), values[f.key])
            for f in unique
            for values in records[f.entity]
            if values and values.get(f.key) is not None
        ]
    )


def existing_keys(prepared_list, chunk=500, unique_fields=()):
    """{(kind, key): customer id} for every key of the file already in the ledger
    (trashed customers too, as the unique indexes count them)."""
    wanted = {"name": set(), "credit_code": set(), "phone": set(), "email": set()}
    wanted.update({custom_target(f): set() for f in unique_fields})
    for prepared in prepared_list:
        for kind, key in row_keys(prepared, unique_fields):
            wanted[kind].add(key)
    lookups = {
        "name": (Customer.name_key, select(Customer.name_key, Customer.id)),
        "credit_code": (Customer.credit_code, select(Customer.credit_code, Customer.id)),
        "phone": (ContactPhone.key, select(ContactPhone.key, Contact.customer_id).join(Contact)),
        "email": (Contact.email_key, select(Contact.email_key, Contact.customer_id)),
    }
    for f in unique_fields:
        # The unique index's own expression; a number found comes back as a Decimal on
        # PostgreSQL, equal to the row's int or float and hashed alike.
        value = field_sql.value_of(f)
        holder = Customer.id if f.entity == "customer" else Contact.customer_id
        lookups[custom_target(f)] = (value, select(value, holder))
    found = {}
    for kind, values in wanted.items():
        column, query = lookups[kind]
        values = sorted(values)
        for start in range(0, len(values), chunk):
            for key, customer_id in db.session.execute(
                query.where(column.in_(values[start : start + chunk]))
            ):
                found[(kind, key)] = customer_id
    return found


def rows_page(job, status, page, per_page):
    """One page of a checked file's rows in file order, only those of `status` if it is one."""
    query = select(ImportRow).where(ImportRow.job_id == job.id)
    if status in STATUS_LABELS:
        query = query.where(ImportRow.status == status)
    return paginate(query.order_by(ImportRow.row_number), page, per_page)
