"""Adding, changing, retiring, restoring and ordering custom fields (the admin's pages).
A field is never dropped: retired, it leaves forms and lists, and its values stay in the
records, their history and exports. A type is fixed once a value exists."""

import re
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from .. import audit, clock
from ..database import write_transaction
from ..errors import Conflict, DomainError, NotFound
from ..extensions import db
from . import sql
from .models import CHOICE_TYPES, ENTITY_LABELS, UNIQUE_TYPES, CustomField, FieldType

audit.register_actions(
    {
        "field.created": _l("Custom field added"),
        "field.updated": _l("Custom field changed"),
        "field.retired": _l("Custom field retired"),
        "field.restored": _l("Custom field restored"),
    }
)

MAX_LABEL = 60
MAX_HELP = 200
MAX_KEY = 40
MAX_CHOICES = 100
MAX_CHOICE = 60
MAX_FIELDS = 100  # per entity: a form with more is no longer a form
KEY = re.compile(r"[a-z][a-z0-9_]{0,39}")


@dataclass
class Values:
    """What the admin's form gives (forms.FieldForm.values)."""

    label_zh: str
    label_en: str = ""
    type: str = FieldType.TEXT
    entity: str = "customer"
    key: str = ""
    required: bool = False
    help_text: str = ""
    unique: bool = False
    sensitive: bool = False
    searchable: bool = False
    # [(key or "" for a new one, zh, en, retired)] in the order wanted
    choices: list = field(default_factory=list)


def all_fields(entity=None):
    query = select(CustomField).order_by(CustomField.entity, CustomField.position, CustomField.id)
    if entity:
        query = query.where(CustomField.entity == entity)
    return db.session.scalars(query).all()


def active_fields(entity):
    return [f for f in all_fields(entity) if f.active]


def get_field(field_id):
    found = db.session.get(CustomField, field_id)
    if found is None:
        raise NotFound(_("There is no such field."))
    return found


def key_from_label(label):
    """An ASCII key from a label: its pinyin (年度预算 → nianduyusuan), or its words."""
    from ..ledger.search import pinyin  # the ledger's pinyin, with its phrase dictionary

    words = []
    for run in re.findall(r"[\u3400-\u9fff]+|[A-Za-z0-9]+", label):
        words.append("".join(pinyin(run)) if not run.isascii() else run.lower())
    key = re.sub(r"_+", "_", "_".join(words)).strip("_")[:MAX_KEY].strip("_")
    if not key or not key[0].isalpha():
        key = ("f_" + key)[:MAX_KEY].strip("_")
    return key


def _clean(values, existing=None):
    label_zh = " ".join((values.label_zh or "").split())
    label_en = " ".join((values.label_en or "").split())
    if not label_zh:
        raise DomainError(_("Enter the field's name."), field="label_zh")
    for name, label in (("label_zh", label_zh), ("label_en", label_en)):
        if len(label) > MAX_LABEL:
            raise DomainError(_("A field's name has at most %(n)s characters.", n=MAX_LABEL), field=name)
    help_text = " ".join((values.help_text or "").split())
    if len(help_text) > MAX_HELP:
        raise DomainError(_("The help text has at most %(n)s characters.", n=MAX_HELP), field="help_text")
    if values.entity not in ENTITY_LABELS:
        raise DomainError(_("Choose customers or contacts."), field="entity")
    if values.type not in set(FieldType):
        raise DomainError(_("Choose one of the offered types."), field="type")
    kind = FieldType(values.type)
    if values.unique and kind not in UNIQUE_TYPES:
        raise DomainError(_("Only text and number fields can be unique."), field="unique")
    if values.searchable and kind != FieldType.TEXT:
        raise DomainError(_("Only text fields can be searched from the list."), field="searchable")
    choices = (
        _clean_choices(values.choices, existing.choices if existing else []) if kind in CHOICE_TYPES else []
    )
    if kind in CHOICE_TYPES and not [c for c in choices if not c["retired"]]:
        raise DomainError(_("Give the field at least one choice."), field="choices")
    return {
        "label_zh": label_zh,
        "label_en": label_en,
        "help_text": help_text,
        "type": kind.value,
        "required": bool(values.required),
        "unique": bool(values.unique),
        "sensitive": bool(values.sensitive),
        "searchable": bool(values.searchable),
        "choices": choices,
    }


def _clean_choices(wanted, existing):
    """The choices in the order wanted. A choice keeps its key when renamed; one that
    is left out is retired, never deleted (values may hold it)."""
    known = {choice["key"]: choice for choice in existing}
    seen, out = set(), []
    for key, zh, en, retired in wanted:
        zh, en = " ".join((zh or "").split()), " ".join((en or "").split())
        if not zh:
            if key in known:
                raise DomainError(_("A choice cannot be empty: retire it instead."), field="choices")
            continue
        if len(zh) > MAX_CHOICE or len(en) > MAX_CHOICE:
            raise DomainError(_("A choice has at most %(n)s characters.", n=MAX_CHOICE), field="choices")
        if zh.casefold() in seen:
            raise DomainError(_("The choice %(choice)s is there twice.", choice=zh), field="choices")
        seen.add(zh.casefold())
        if key and key not in known:
            raise DomainError(
                _("That choice does not belong to this field. Reload the page."), field="choices"
            )
        out.append({"key": key or "", "zh": zh, "en": en, "retired": bool(retired)})
    for key, choice in known.items():
        if key not in {c["key"] for c in out}:
            out.append(dict(choice, retired=True))
    if len(out) > MAX_CHOICES:
        raise DomainError(_("At most %(n)s choices.", n=MAX_CHOICES), field="choices")
    taken = {int(c["key"][1:]) for c in out if c["key"]}
    next_number = max(taken, default=0) + 1
    for choice in out:
        if not choice["key"]:
            choice["key"] = f"c{next_number}"
            next_number += 1
    return out


def create_field(actor, values):
    cleaned = _clean(values)
    key = (values.key or "").strip().lower() or key_from_label(cleaned["label_zh"])
    if not KEY.fullmatch(key):
        raise DomainError(
            _(
                "A key has lowercase letters, digits and _, and starts with a letter (at most %(n)s).",
                n=MAX_KEY,
            ),
            field="key",
        )
    with write_transaction():
        existing = all_fields(values.entity)
        if len(existing) >= MAX_FIELDS:
            raise DomainError(_("At most %(n)s fields each for customers and contacts.", n=MAX_FIELDS))
        taken = {f.key for f in existing}
        if values.key and key in taken:
            raise Conflict(_("The key %(key)s is taken by another field.", key=key), field="key")
        base, number = key, 2
        while key in taken:
            key = f"{base[: MAX_KEY - 3]}_{number}"
            number += 1
        new = CustomField(
            entity=values.entity,
            key=key,
            position=max((f.position for f in existing), default=0) + 1,
            created_by_id=actor.id,
            **cleaned,
        )
        db.session.add(new)
        db.session.flush()
        sql.create_indexes(new)
        sql.analyze(new.entity)
        audit.record("field.created", actor=actor, subject=new, key=key, label=new.label_zh)
    return new


def holds_values(target, with_trash=True):
    """Whether a record holds a value in the field; with_trash=False: a customer outside
    the trash, or a contact of one (what an export could list)."""
    table = sql.TABLES[target.entity]
    where = f"{sql.value_sql(target, table)} IS NOT NULL"
    if not with_trash:
        outside = "customer_id IN (SELECT id FROM customers WHERE deleted_at IS NULL)"
        where += f" AND {'deleted_at IS NULL' if target.entity == 'customer' else outside}"
    return db.session.scalar(text(f"SELECT 1 FROM {table} WHERE {where} LIMIT 1")) is not None


def update_field(actor, field_id, expected_version, values):
    target = get_field(field_id)
    cleaned = _clean(values, existing=target)
    try:
        with write_transaction():
            target = _locked(field_id, expected_version)
            if cleaned["type"] != target.type and holds_values(target):
                raise DomainError(
                    _("The type cannot change: customers have values in this field."), field="type"
                )
            changes = {
                name: [getattr(target, name), value]
                for name, value in cleaned.items()
                if getattr(target, name) != value
            }
            was_unique = target.unique
            for name, value in cleaned.items():
                setattr(target, name, value)
            target.version += 1
            target.updated_at = clock.now()
            db.session.flush()
            if was_unique and not target.unique:
                sql.drop_unique_index(target)
            if "type" in changes:
                sql.drop_indexes(target)  # made again below for the new type
            sql.create_indexes(target)
            audit.record("field.updated", actor=actor, subject=target, changes=sorted(changes))
    except IntegrityError:
        raise Conflict(
            _("Some records share a value in this field: make them differ before making it unique."),
            field="unique",
        ) from None
    return target


def _locked(field_id, expected_version):
    target = db.session.scalar(select(CustomField).where(CustomField.id == field_id).with_for_update())
    if target is None:
        raise NotFound(_("There is no such field."))
    if expected_version is not None and target.version != expected_version:
        raise Conflict(_("Someone else changed this field in the meantime. Check it and save again."))
    return target


def retire_field(actor, field_id):
    with write_transaction():
        target = _locked(field_id, None)
        if target.active:
            target.retired_at = clock.now()
            target.version += 1
            audit.record("field.retired", actor=actor, subject=target, key=target.key)
    return target


def restore_field(actor, field_id):
    with write_transaction():
        target = _locked(field_id, None)
        if not target.active:
            target.retired_at = None
            target.version += 1
            audit.record("field.restored", actor=actor, subject=target, key=target.key)
    return target


def move_field(actor, field_id, direction):
    """Up or down one place among the fields of its entity."""
    with write_transaction():
        target = _locked(field_id, None)
        if direction not in ("up", "down"):
            raise DomainError(_("Move a field up or down."))
        siblings = all_fields(target.entity)
        index = siblings.index(target)
        other = index - 1 if direction == "up" else index + 1
        if 0 <= other < len(siblings):
            siblings[index], siblings[other] = siblings[other], siblings[index]
        for position, sibling in enumerate(siblings, start=1):
            sibling.position = position
    return target


def value_counts(fields):
    """{field id: how many records hold a value} (the admin pages say it): one pass over
    each entity's table, not one per field."""
    counts = {}
    for entity, table in sql.TABLES.items():
        of_entity = [f for f in fields if f.entity == entity]
        if of_entity:
            columns = ", ".join(f"count({sql.value_sql(f, table)})" for f in of_entity)
            row = db.session.execute(text(f"SELECT {columns} FROM {table}")).one()
            counts.update(zip((f.id for f in of_entity), row, strict=True))
    return counts
