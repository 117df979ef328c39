"""A custom field's value in SQL: the expression lists filter and sort by, and the
index made for it when the field is added (no migration: fields come and go at run
time). The expression's text is the index's, with the JSON path written out, never a
bound parameter: a planner uses an expression index only for the same expression
(bench/custom_fields_storage.py measured both, 18 against 36–65 ms on SQLite)."""

import json

from sqlalchemy import literal_column, text

from ..extensions import db
from .models import INDEXED_TYPES, FieldType

TABLES = {"customer": "customers", "contact": "contacts"}
# PostgreSQL casts, so numbers compare as numbers; text, ISO dates and choice keys
# compare as text (a text-to-date cast is not immutable: it could not be indexed).
_PG_CASTS = {
    FieldType.NUMBER: "numeric",
    FieldType.MONEY: "numeric",
    FieldType.USER: "integer",
    FieldType.YES_NO: "boolean",
}


def is_postgresql():
    return db.engine.dialect.name == "postgresql"


def value_sql(field, table=None):
    """The SQL of field's value; `table` qualifies the JSON column (None: as in an index)."""
    column = f"{table}.custom" if table else "custom"
    if not is_postgresql():
        return f"json_extract({column}, '$.{field.key}')"
    cast = _PG_CASTS.get(FieldType(field.type))
    value = f"({column} ->> '{field.key}')"
    return f"({value}::{cast})" if cast else value


def value_of(field):
    """The value as a column expression for a query on the field's table."""
    return literal_column(value_sql(field, TABLES[field.entity]))


def has_choice(field, choice_key):
    """Whether a multiple choice field holds `choice_key` (a bound parameter)."""
    table = TABLES[field.entity]
    if is_postgresql():
        document = json.dumps({field.key: [choice_key]})
        return text(f"{table}.custom @> CAST(:doc_{field.key} AS jsonb)").bindparams(
            **{f"doc_{field.key}": document}
        )
    return text(
        f"EXISTS (SELECT 1 FROM json_each({table}.custom, '$.{field.key}') AS chosen"
        f" WHERE chosen.value = :choice_{field.key})"
    ).bindparams(**{f"choice_{field.key}": choice_key})


def index_name(field, unique=False):
    return f"{'uq' if unique else 'ix'}_custom_{field.entity}_{field.key}"


def _trigram_index_name(field):
    return f"tg_custom_{field.entity}_{field.key}"


def create_indexes(field):
    """The field's list index (customers: filter and sort by it) and, when unique, the
    unique index that makes a second equal value fail in the database, as the built-in
    duplicate keys do (trashed rows included, so a restore cannot duplicate). Within the
    caller's transaction: a unique index over duplicates raises IntegrityError."""
    table = TABLES[field.entity]
    value = value_sql(field)
    if field.entity == "customer" and FieldType(field.type) in INDEXED_TYPES:
        # SQLite: partial like the list's own indexes. PostgreSQL: whole, since its
        # planner takes an expression's statistics only from an index over all rows.
        where = "" if is_postgresql() else " WHERE deleted_at IS NULL"
        db.session.execute(
            text(f"CREATE INDEX IF NOT EXISTS {index_name(field)} ON {table} ({value}, id){where}")
        )
    if is_postgresql() and field.entity == "customer":
        _postgresql_search_indexes(field, table, value)
    if field.unique:
        db.session.execute(
            text(f"CREATE UNIQUE INDEX IF NOT EXISTS {index_name(field, unique=True)} ON {table} ({value})")
        )


def _postgresql_search_indexes(field, table, value):
    """A text's "contains" through a trigram index (three characters or more; shorter
    Chinese queries still read the table), for every text field since the list's filters
    offer "contains" on each, searchable or not (without it the filter read the whole
    table: 175 ms at 100,000 customers); and a multiple choice's "has" through one GIN
    index over every record's values (jsonb @>)."""
    if FieldType(field.type) == FieldType.TEXT:
        db.session.execute(
            text(
                f"CREATE INDEX IF NOT EXISTS {_trigram_index_name(field)} ON {table}"
                f" USING gin ({value} gin_trgm_ops)"
            )
        )
    if FieldType(field.type) == FieldType.MULTIPLE_CHOICE:
        db.session.execute(
            text(
                f"CREATE INDEX IF NOT EXISTS ix_custom_{field.entity}_values ON {table}"
                " USING gin (custom jsonb_path_ops)"
            )
        )


def drop_unique_index(field):
    db.session.execute(text(f"DROP INDEX IF EXISTS {index_name(field, unique=True)}"))


def drop_indexes(field):
    """Every index made over the field's values: another type is another expression."""
    for name in (index_name(field), index_name(field, unique=True), _trigram_index_name(field)):
        db.session.execute(text(f"DROP INDEX IF EXISTS {name}"))


def analyze(entity):
    """Fresh statistics for a table that has a new expression index: without them the
    planners guess its selectivity (PostgreSQL 0.5 %, SQLite worse)."""
    if not is_postgresql():
        db.session.execute(text("PRAGMA analysis_limit = 1000"))  # as the sqlite-optimize job
    db.session.execute(text(f"ANALYZE {TABLES[entity]}"))
