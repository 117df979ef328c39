"""Snapshots of the current app's database schema, to compare two databases or one
database before and after migrations or a restore."""

import re
import sqlite3
import subprocess

from sqlalchemy import make_url

from salesdesk.extensions import db


def schema_snapshot():
    """Everything the database says about its schema, triggers and functions included,
    in a form that does not depend on how a table came to be (created whole, or rebuilt
    by a SQLite batch operation)."""
    if db.engine.dialect.name == "sqlite":
        return sqlite_snapshot()
    return postgres_snapshot()


def sqlite_snapshot():
    path = make_url(db.engine.url).database
    connection = sqlite3.connect(path)
    try:
        snapshot = {}
        for kind, name, table, sql in connection.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_autoindex%'"
        ):
            if kind == "table":
                columns = tuple(connection.execute(f'PRAGMA table_xinfo("{name}")'))
                snapshot[(kind, name)] = (columns, _table_items(sql))
            else:
                snapshot[(kind, name)] = (table, _normalised(sql))
        return snapshot
    finally:
        connection.close()


def _normalised(sql):
    return None if sql is None else re.sub(r"\s+", " ", sql.replace('"', "")).strip()


def _table_items(sql):
    """A CREATE TABLE's columns and constraints, in any order (a batch rebuild reorders
    constraints; ALTER TABLE ADD COLUMN appends to the text)."""
    body = _normalised(sql)
    body = body[body.index("(") + 1 : body.rindex(")")]
    items, depth, start = [], 0, 0
    for index, char in enumerate(body):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            items.append(body[start:index].strip())
            start = index + 1
    items.append(body[start:].strip())
    return tuple(sorted(items))


def postgres_snapshot():
    url = make_url(db.engine.url).set(drivername="postgresql").render_as_string(hide_password=False)
    dump = subprocess.run(
        ["pg_dump", "--schema-only", "--no-owner", "--no-privileges", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # Comments, and the random key of PostgreSQL's \restrict guard, differ per dump.
    return [
        line
        for line in dump.splitlines()
        if line and not line.startswith(("--", "\\restrict", "\\unrestrict"))
    ]


def schema_objects():
    """What a restore must bring back: SQLite's full snapshot; on PostgreSQL, the
    catalog's tables, columns, constraints, indexes, triggers and functions (without
    CHECK expressions, which PostgreSQL deparses differently once they went through
    pg_dump: `ARRAY[…]::text[]` comes back as `ARRAY[…::text, …]`). Columns by their
    order, not their position: a dropped column leaves a gap that a dump closes."""
    if db.engine.dialect.name == "sqlite":
        return sqlite_snapshot()
    queries = {
        "columns": """SELECT table_name, column_name,
                rank() OVER (PARTITION BY table_name ORDER BY ordinal_position), data_type,
                is_nullable, column_default, is_generated, generation_expression
            FROM information_schema.columns WHERE table_schema = current_schema()""",
        "constraints": """SELECT conrelid::regclass::text, conname, contype,
                CASE WHEN contype = 'c' THEN NULL ELSE pg_get_constraintdef(oid) END
            FROM pg_constraint WHERE connamespace = current_schema()::regnamespace""",
        "indexes": """SELECT tablename, indexname, indexdef
            FROM pg_indexes WHERE schemaname = current_schema()""",
        "triggers": """SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid)
            FROM pg_trigger WHERE NOT tgisinternal""",
        "functions": """SELECT proname, prosrc FROM pg_proc p
            WHERE pronamespace = current_schema()::regnamespace
              AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')""",
        "extensions": "SELECT extname FROM pg_extension",
    }
    with db.engine.connect() as connection:
        return {name: sorted(map(tuple, connection.exec_driver_sql(sql))) for name, sql in queries.items()}
