"""A record's custom values: checked against the active fields when a form, an import or
an inline edit saves them, merged with the values of retired fields (which stay), the
changes they make (for the audit and the timeline), the unique ones checked, and shown
to a viewer with sensitive ones masked as contact details are."""

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select, text

from ..auth.models import User
from ..errors import Conflict, DomainError
from ..extensions import db
from . import sql, types
from .definitions import active_fields, all_fields
from .models import FieldType

MASK = "••••"


def active_user_list():
    """The active users by name: whom a user field offers and accepts."""
    return db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.display_name)).all()


def active_users():
    """{id: User, name: User, e-mail: User} of active users, for reading user fields."""
    found = {}
    for user in active_user_list():
        found[user.id] = user
        found[user.display_name.casefold()] = user
        found[user.email.casefold()] = user
    return found


def user_names(fields, records_values):
    """{id: display name} of the users the values name (deactivated ones too)."""
    ids = {
        values.get(f.key)
        for f in fields
        if f.type == FieldType.USER
        for values in records_values
        if values and values.get(f.key) is not None
    }
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())


def prepare(entity, raw_values, *, fields=None, users=None):
    """{key: kept value} of the active fields from {key: raw} (a form's or an import
    row's); a missing required field is an error. A key of a retired field, of the
    other entity or of no field at all is refused: a form could not have sent it.
    fields and users: active_fields(entity) and active_users(), read once by an import
    for all its rows."""
    fields = active_fields(entity) if fields is None else fields
    by_key = {f.key: f for f in fields}
    for key in raw_values:
        if key not in by_key:
            retired = next((f for f in all_fields(entity) if f.key == key), None)
            if retired is not None:
                raise DomainError(
                    _("The field %(field)s is retired: it takes no new values.", field=retired.label)
                )
            raise DomainError(_("There is no such field here. Reload the page and try again."))
    needs_users = any(f.type == FieldType.USER for f in fields if f.key in raw_values)
    if users is None and needs_users:
        users = active_users()
    return {f.key: types.parse(f, raw_values.get(f.key), users) for f in fields}


def merged(current, kept):
    """The record's new values: `kept` over the current ones (retired fields' values
    stay); None removes a value. A new dict, so the ORM sees the change."""
    values = dict(current or {})
    for key, value in kept.items():
        if value is None:
            values.pop(key, None)
        else:
            values[key] = value
    return values


def changes(before, after):
    """{key: [old, new]} of the values that differ."""
    before, after = before or {}, after or {}
    return {
        key: [before.get(key), after.get(key)]
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


def holders(entity, kept, exclude_id=None):
    """[(field, id, name)] of the other records holding a value of `kept` in a unique
    field (the unique index says the same at the commit, for a race no check sees)."""
    table = sql.TABLES[entity]
    found = []
    for f in active_fields(entity):
        value = kept.get(f.key)
        if not f.unique or value is None:
            continue
        where = f"{sql.value_sql(f, table)} = :value"
        if exclude_id is not None:
            where += " AND id != :exclude"
        taken = db.session.execute(
            text(f"SELECT id, name FROM {table} WHERE {where} LIMIT 1"),
            {"value": value, "exclude": exclude_id},
        ).first()
        if taken is not None:
            found.append((f, taken.id, taken.name))
    return found


def raise_if_taken(entity, kept, exclude_id=None):
    """Conflict naming the record that holds a unique value of `kept` already."""
    for f, _id, name in holders(entity, kept, exclude_id):
        raise Conflict(
            _(
                "%(field)s %(value)s belongs to %(name)s already.",
                field=f.label,
                value=types.display(f, kept[f.key]),
                name=name,
            ),
            field=f.form_name,
        )


def typed_unique_values(entity, raw_values):
    """{key: kept value} of the unique fields among half-typed `raw_values` that already
    read as values (the live duplicate check while typing); the others are left out."""
    kept = {}
    for f in active_fields(entity):
        if f.unique and not types.is_empty(raw_values.get(f.key)):
            try:
                kept[f.key] = types.parse(f, raw_values[f.key])
            except DomainError:
                continue
    return kept


@dataclass
class Shown:
    """One field's value as a viewer sees it."""

    field: object
    text: str
    masked: bool = False
    retired: bool = False


def is_masked(field, visible):
    """A sensitive field's values are masked where the record's details are (ledger.access)."""
    return field.sensitive and not visible


def shown(entity, values, visible, *, fields=None):
    """The record's values to show: every active field (empty ones too) and retired
    fields that hold a value, with sensitive values masked unless `visible`."""
    fields = fields if fields is not None else all_fields(entity)
    values = values or {}
    names = user_names(fields, [values])
    out = []
    for f in fields:
        value = values.get(f.key)
        if not f.active and value is None:
            continue
        masked = value is not None and is_masked(f, visible)
        text_value = MASK if masked else types.display(f, value, names)
        out.append(Shown(f, text_value, masked=masked, retired=not f.active))
    return out
