"""Database plumbing shared by every feature: column types, connection set-up and
the write transaction that service functions run in."""

import os
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC
from decimal import ROUND_HALF_UP, Decimal

from alembic import command
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from flask import current_app
from sqlalchemy import JSON, BigInteger, DateTime, Float, case, create_engine, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.sqlite.base import SQLiteCompiler
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

from .extensions import db

# SQLAlchemy renders a table hint (Select.with_hint) only for dialects that declare the
# syntax; SQLite's one hint, INDEXED BY, follows the table name.
SQLiteCompiler.get_from_hint_text = lambda _compiler, _table, text: text

# The largest id any table holds (a 32-bit INTEGER on PostgreSQL): a bigger number in a
# URL or a form is simply not there, and must not reach SQLite, which cannot bind it.
MAX_ID = 2**31 - 1


def is_id(value):
    """Whether `value` could be a row id: an int in 1..MAX_ID (bools are not ids)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


SQLITE_BUSY_TIMEOUT_MS = 10_000


def period_of(column, starts):
    """A CASE giving the index in `starts` (ascending) of the period `column` falls in,
    so that a GROUP BY counts per local month or week in SQL on every database. Values
    before the first start give NULL."""
    return case(*((column >= start, index) for index, start in reversed(list(enumerate(starts)))))


class days_between(FunctionElement):  # noqa: N801 - used as an SQL function
    """days_between(later, earlier): the days from one moment to the other, a float, in
    SQL on every database (SQLite stores text and counts in Julian days)."""

    type = Float()
    name = "days_between"
    inherit_cache = True


@compiles(days_between, "sqlite")
def _days_between_sqlite(element, compiler, **kw):
    later, earlier = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"(julianday({later}) - julianday({earlier}))"


@compiles(days_between, "postgresql")
def _days_between_postgresql(element, compiler, **kw):
    later, earlier = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"(CAST(EXTRACT(EPOCH FROM {later} - {earlier}) AS DOUBLE PRECISION) / 86400)"


class UTCDateTime(TypeDecorator):
    """An aware UTC datetime in Python on every database.

    SQLite keeps no zone, so values go in as naive UTC and come back marked UTC;
    naive values are refused rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Money(TypeDecorator):
    """An exact CNY amount: Decimal in Python, integer fen in the database, so sums
    stay exact on SQLite too."""

    impl = BigInteger
    cache_ok = True
    CENT = Decimal("0.01")

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return int((Decimal(value) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return (Decimal(int(value)) / 100).quantize(self.CENT)


# A record's custom values (fields/): JSONB on PostgreSQL, whose ->> and @> the lists'
# expression indexes and filters use; JSON text on SQLite, read with json_extract.
CustomValues = JSON().with_variant(JSONB(), "postgresql")


def render_migration_item(type_, obj, _autogen_context):
    """Migrations spell UTCDateTime as the plain column type it stores, so they do
    not depend on application code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, Money):
        return "sa.BigInteger()"
    return False


FULL_TEXT_SUFFIXES = ("", "_data", "_idx", "_docsize", "_config", "_content")


def include_in_migrations(name, type_, parent_names):
    """Keep the search structures that migrations write by hand out of autogenerate's
    comparison: SQLite FTS5 tables named `*_search` (and their shadow tables),
    PostgreSQL search indexes (`ix_*_search*`) and the generated customers.search_vector
    and contacts.name_vector."""
    if type_ == "table" and name:
        return not any(name.endswith("_search" + suffix) for suffix in FULL_TEXT_SUFFIXES)
    if type_ == "index" and name:
        return "_search" not in name
    if type_ == "column":
        generated = {("customers", "search_vector"), ("contacts", "name_vector")}
        return (parent_names.get("table_name"), name) not in generated
    return True


# ---- migrations ----------------------------------------------------------------------


class UnknownRevision(RuntimeError):
    """The database carries a migration this code does not know: newer code migrated it."""


def migration_scripts():
    """The Alembic scripts in migrations/ (an app context is needed). Read once per
    app: reading them costs far more than the health check that asks."""
    scripts = current_app.extensions.get("salesdesk.migration_scripts")
    if scripts is None:
        scripts = ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())
        current_app.extensions["salesdesk.migration_scripts"] = scripts
    return scripts


def describe_revision(revision, scripts=None):
    """'c25dd32b1cd0 (workbench: …)' for messages; 'an empty database' for None."""
    if revision is None:
        return "an empty database"
    try:
        script = (scripts or migration_scripts()).get_revision(revision)
    except CommandError:
        return f"{revision} (unknown to this version)"
    return f"{revision} ({script.doc})" if script else revision


def current_revision(connection=None):
    """The revision the database is at, or None before the first migration."""
    if connection is None:
        with db.engine.connect() as connection:
            return current_revision(connection)
    heads = MigrationContext.configure(connection).get_current_heads()
    return heads[0] if heads else None


def pending_migrations():
    """The revision ids the database still lacks, oldest first: [] when it is at head.

    For health checks and the upgrade command; needs an app context. Raises
    UnknownRevision when the database was migrated by newer code.
    """
    scripts = migration_scripts()
    current = current_revision()
    known = {script.revision for script in scripts.walk_revisions()}
    if current is not None and current not in known:
        raise UnknownRevision(f"the database is at revision {current}, which this version does not know")
    pending = scripts.iterate_revisions(scripts.get_heads(), current or "base")
    return [script.revision for script in reversed(list(pending))]


@dataclass
class Upgrade:
    before: str | None
    after: str | None
    applied: list[str]


def upgrade_database():
    """Apply pending migrations (Alembic upgrade to head) and say what changed."""
    applied = pending_migrations()
    before = current_revision()
    if applied:
        command.upgrade(current_app.extensions["migrate"].migrate.get_config(), "head")
    return Upgrade(before=before, after=current_revision(), applied=applied)


# ---- connections -----------------------------------------------------------------------


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection, _record):
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    # We emit BEGIN ourselves (below) so that writers can ask for BEGIN IMMEDIATE.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Sorts and GROUP BY without a matching index build temporary b-trees; in a temp
    # file (the default) that costs milliseconds per query, in memory microseconds.
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


def configure_engine(app, engine):
    """Per-app connection settings (the ones above hold for every SQLite connection)."""
    if engine.dialect.name != "sqlite":
        return
    mmap_bytes = int(app.config["SQLITE_MMAP_BYTES"])

    @event.listens_for(engine, "connect")
    def _map_the_file(dbapi_connection, _record):
        # Pages straight from the operating system's page cache, which every worker
        # shares, instead of copies in a private cache: at 100,000 customers list pages
        # were 6-15 % faster with a 1 GiB map than with none, for 3 MB more Pss over 4
        # workers (bench/README.md, issue 15).
        dbapi_connection.execute(f"PRAGMA mmap_size={mmap_bytes}")


@event.listens_for(Engine, "begin")
def _begin_sqlite(conn):
    if conn.dialect.name != "sqlite":
        return
    # A deferred transaction that reads and then writes fails at once with
    # "database is locked" when another writer committed in between; taking the
    # write lock up front makes writers queue on busy_timeout instead.
    immediate = conn.get_execution_options().get("write_transaction")
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextmanager
def write_transaction():
    """Run a service's writes as one transaction: commit at the end, roll back on error.

    Nested use joins the outer transaction. Whatever the caller read before is
    rolled back first (reads only, by convention), so the write starts from a fresh
    snapshot holding the write lock on SQLite.
    """
    session = db.session()
    if session.info.get("write_transaction"):
        yield session
        return
    if session.in_transaction():
        session.rollback()
    session.connection(execution_options={"write_transaction": True})
    session.info["write_transaction"] = True
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.info["write_transaction"] = False


# The thread that shares concurrently()'s calls with the caller, and on SQLite its own
# engine, made at first use: a fork (gunicorn's workers) starts without them.
_reader = None
_reader_lock = threading.Lock()
_sqlite_readers = weakref.WeakKeyDictionary()  # app -> the reader's engine


def _forget_reader():
    # The child has neither the thread nor, should a thread have held it at the fork,
    # an unlocked lock; nor may it use the parent's SQLite connections.
    global _reader, _reader_lock
    _reader, _reader_lock = None, threading.Lock()
    for engine in _sqlite_readers.values():
        engine.dispose(close=False)
    _sqlite_readers.clear()


os.register_at_fork(after_in_child=_forget_reader)


def _without_a_map(connection, _record):
    connection.execute("PRAGMA mmap_size=0")
    # Its reads are aggregates that pass over each page once: 256 KiB read the board
    # as fast as SQLite's default 2 MB, and keep 1.5 MB less in each worker.
    connection.execute("PRAGMA cache_size=-256")


def _sqlite_reader(app):
    """The reader's session on SQLite: an engine of its own keeps one connection (one
    opened for each board cost as much CPU as the reads it shared), without a map of
    the file. A connection's map stays in the worker's memory for every page it ever
    touched, which is why the app's own pool keeps one connection; this one reads
    through a small page cache of its own. A worker that drew a board holds ~4.5 MB
    more (bench/README.md)."""
    engine = _sqlite_readers.get(app)
    if engine is None:
        engine = create_engine(db.engine.url, pool_size=1, max_overflow=0)
        event.listen(engine, "connect", _without_a_map)
        weakref.finalize(app, engine.dispose)
        _sqlite_readers[app] = engine
    return Session(bind=engine)


def close_connections(app):
    """Close every connection the app holds, its pool's and on SQLite the reader's (in
    the app's context): before its database file is replaced, as the tests do when one
    app serves test after test."""
    db.engine.dispose()
    reader = _sqlite_readers.pop(app, None)
    if reader is not None:
        reader.dispose()


def concurrently(calls):
    """Run read-only calls two at a time and return their results in order: the caller
    (in its own session) and a reader thread (in an app context, session, connection
    and snapshot of its own) each take the next call until none is left. For a page of
    many independent aggregates (the performance board): while one call waits for the
    database, or for SQLite's engine, which lets go of Python's lock while it steps,
    the other runs. A company's board on 2 cores: PostgreSQL 20-30 % faster, SQLite
    ~20 %. No call may write, use the caller's ORM objects, or call concurrently()
    itself."""
    global _reader
    if db.engine.url.database in (None, "", ":memory:"):
        # An in-memory SQLite database is its connection's own: a reader's is empty.
        return [call() for call in calls]
    app = current_app._get_current_object()
    results = [None] * len(calls)
    pending = iter(list(enumerate(calls)))
    taking = threading.Lock()

    def work():
        while True:
            with taking:
                taken = next(pending, None)
            if taken is None:
                return
            index, call = taken
            results[index] = call()

    def work_in_a_session_of_its_own():
        with app.app_context():
            if db.engine.dialect.name == "sqlite":
                db.session.registry.set(_sqlite_reader(app))
            try:
                work()
            finally:
                db.session.remove()

    with _reader_lock:
        if _reader is None:
            _reader = ThreadPoolExecutor(1, thread_name_prefix="reader")
    reader = _reader.submit(work_in_a_session_of_its_own)
    try:
        work()
    finally:
        error = reader.exception()  # waits for the reader's last call
    if error is not None:
        raise error
    return results
