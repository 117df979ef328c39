"""Online backups and restores of the configured database.

SQLite: the backup API copies the database in one step, that is inside one read
transaction, so the copy is a consistent snapshot while WAL lets the app keep writing.
Restores go the same way, from the file into the live database: the copy is written as
one transaction through the live database's own locks and WAL, so processes that have
it open see the old data or the new, never a file swapped under their feet (which is
what replacing the file would risk while a worker holds it open).

PostgreSQL: pg_dump --format=custom on a snapshot this module exports (so the row counts
it reports are those of the dump), and pg_restore --clean --if-exists piped into one
psql transaction that first empties the schema: a failed restore changes nothing, and
tables a newer schema added do not survive to trip the migrations that follow.

`flask salesdesk backup` and `restore` are thin wrappers around backup_database(),
inspect_backup() and restore_database().
"""

import contextlib
import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import inspect, text

from . import database
from .errors import DomainError
from .extensions import db

# Counted after a backup, to show at a glance what it holds.
MAIN_TABLES = (
    "teams",
    "users",
    "customers",
    "contacts",
    "follow_ups",
    "notifications",
    "kb_articles",
    "point_entries",
    "audit_events",
)
SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
KIND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}

# Empties the schema (tables with their sequences, indexes and triggers, then our
# functions; extensions stay, pg_restore --clean handles them) before the dump is
# replayed, in the same transaction.
EMPTY_SCHEMA = """
DO $$
DECLARE
  statements text[] := ARRAY(
    SELECT format('DROP %s IF EXISTS %I.%I CASCADE',
      CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
        WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END, n.nspname, c.relname)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
      AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
    UNION ALL
    SELECT format('DROP ROUTINE IF EXISTS %s CASCADE', p.oid::regprocedure)
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = current_schema()
      AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e'));
  statement text;
BEGIN
  FOREACH statement IN ARRAY statements LOOP
    EXECUTE statement;
  END LOOP;
END $$;
"""


class BackupError(DomainError):
    """A backup or restore was refused or failed; nothing was changed."""


@dataclass
class BackupReport:
    path: Path
    kind: str  # "sqlite" or "postgresql"
    method: str
    size: int  # bytes
    revision: str | None
    row_counts: dict[str, int] = field(default_factory=dict)


@dataclass
class BackupFile:
    """A file that inspect_backup() recognised as a Salesdesk backup."""

    path: Path
    kind: str
    revision: str


@dataclass
class RestoreReport:
    backup: BackupFile
    target: str
    upgrade: database.Upgrade


def database_kind():
    return "sqlite" if db.engine.dialect.name == "sqlite" else "postgresql"


def describe_target():
    """The configured database, for messages (no password)."""
    if database_kind() == "sqlite":
        return f"SQLite database {_sqlite_path()}"
    url = db.engine.url
    return f"PostgreSQL database {url.database} on {url.host or 'localhost'}"


# ---- backup ----------------------------------------------------------------------------


def backup_database(path, *, force=False):
    """Back the configured database up into `path` while the app keeps running.

    Refuses an existing file unless `force`; writes next to it first and moves the
    finished, verified copy into place, so `path` never holds half a backup.
    """
    path = Path(path)
    if path.is_dir():
        raise BackupError(f"{path} is a directory; give the backup file's name.")
    if not path.parent.is_dir():
        raise BackupError(f"The directory {path.parent} does not exist.")
    if path.exists() and not force:
        raise BackupError(f"{path} exists already; use --force to replace it.")
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        report = _backup_sqlite(partial) if database_kind() == "sqlite" else _backup_postgresql(partial)
        partial.chmod(0o600)  # the whole customer list: for the service user's eyes only
        _put_in_place(partial, path, force)
    finally:
        partial.unlink(missing_ok=True)
    report.path = path
    return report


def _put_in_place(partial, path, force):
    if force:
        os.replace(partial, path)
        return
    try:
        # A hard link fails when `path` appeared meanwhile, where a rename would replace it.
        os.link(partial, path)
    except FileExistsError:
        raise BackupError(f"{path} exists already; use --force to replace it.") from None


def _sqlite_path():
    name = db.engine.url.database
    if not name or name == ":memory:" or name.startswith("file:"):
        raise BackupError("Only a SQLite database in a file can be backed up or restored.")
    return Path(name).resolve()


def _sqlite_connect(path, read_only=False):
    target = f"{Path(path).resolve().as_uri()}?mode=ro" if read_only else str(path)
    timeout = database.SQLITE_BUSY_TIMEOUT_MS / 1000
    return sqlite3.connect(target, uri=read_only, timeout=timeout, isolation_level=None)


def _backup_sqlite(partial):
    source = _sqlite_connect(_sqlite_path())
    copy = _sqlite_connect(partial)
    try:
        source.backup(copy)  # pages=-1: every page in one step, one consistent snapshot
        # A self-contained file: no -wal beside it to forget when copying it elsewhere.
        copy.execute("PRAGMA journal_mode=DELETE")
        _check_sqlite_integrity(copy, partial)
        revision = _sqlite_revision(copy)
        counts = _row_counts(copy.execute, _sqlite_tables(copy))
    except sqlite3.Error as error:
        raise BackupError(f"The SQLite backup failed: {error}") from error
    finally:
        copy.close()
        source.close()
    return BackupReport(partial, "sqlite", "the SQLite backup API", partial.stat().st_size, revision, counts)


def _check_sqlite_integrity(connection, path):
    problems = [row[0] for row in connection.execute("PRAGMA integrity_check")]
    if problems != ["ok"]:
        raise BackupError(f"{path} fails SQLite's integrity check: {'; '.join(problems[:5])}")


def _sqlite_tables(connection):
    return {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _sqlite_revision(connection):
    if "alembic_version" not in _sqlite_tables(connection):
        return None
    rows = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    return rows[0][0] if len(rows) == 1 else None


def _row_counts(execute, tables):
    return {
        table: execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in MAIN_TABLES
        if table in tables
    }


def _backup_postgresql(partial):
    pg_dump = _tool("pg_dump")
    with db.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            # pg_dump reads the same snapshot as the counts below, so they describe the dump.
            snapshot = connection.scalar(text("SELECT pg_export_snapshot()"))
            tables = set(inspect(connection).get_table_names())
            counts = _row_counts(lambda sql: connection.execute(text(sql)), tables)
            revision = database.current_revision(connection)
            _run(
                [pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={partial}", _libpq_url()],
                "pg_dump",
            )
    if _pg_archive_revision(partial) != revision:
        raise BackupError("The dump does not hold the revision the database was at.")
    return BackupReport(
        partial, "postgresql", "pg_dump --format=custom", partial.stat().st_size, revision, counts
    )


def _tool(name):
    found = shutil.which(name)
    if not found:
        raise BackupError(
            f"{name} was not found on PATH. Install the PostgreSQL client tools of the server's "
            "version (Debian: apt-get install postgresql-client)."
        )
    return found


def _libpq_url():
    """The configured database as a libpq URL; the password goes in the environment."""
    return db.engine.url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)


def _pg_environment():
    env = dict(os.environ)
    if db.engine.url.password:
        env["PGPASSWORD"] = db.engine.url.password
    # Quiet the "does not exist, skipping" notices; do not wait forever for a lock.
    env["PGOPTIONS"] = "-c client_min_messages=warning -c lock_timeout=60s"
    return env


def _run(arguments, name, **kwargs):
    try:
        result = subprocess.run(arguments, capture_output=True, env=_pg_environment(), **kwargs)
    except OSError as error:
        raise BackupError(f"{name} could not be started: {error}") from error
    if result.returncode != 0:
        raise BackupError(f"{name} failed (exit status {result.returncode}): {_text(result.stderr)}")
    return result


def _text(output):
    return (output or b"").decode(errors="replace").strip() or "no message"


def _pg_archive_revision(path):
    """The archive's migration revision (pg_restore reads the whole table of contents);
    BackupError when it is no Salesdesk pg_dump archive."""
    script = _run(
        [_tool("pg_restore"), "--data-only", "--table=alembic_version", "--file=-", str(path)],
        "pg_restore",
    ).stdout.decode()
    lines = script.splitlines()
    # The table's data is one COPY block: "COPY public.alembic_version …", rows, "\\.".
    start = next((i for i, line in enumerate(lines) if line.startswith("COPY ")), len(lines))
    end = next((i for i in range(start, len(lines)) if lines[i] == "\\."), start)
    values = lines[start + 1 : end]
    if len(values) != 1:
        raise BackupError(
            f"{path} is not a Salesdesk backup: a pg_dump archive without a migration revision."
        )
    return values[0]


# ---- restore ---------------------------------------------------------------------------


def inspect_backup(path):
    """What a backup file is; BackupError when it is not a Salesdesk backup that this
    version can restore into the configured database."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path} is not a file.")
    with path.open("rb") as file:
        head = file.read(len(SQLITE_MAGIC))
    if head.startswith(SQLITE_MAGIC):
        kind = "sqlite"
    elif head.startswith(PG_DUMP_MAGIC):
        kind = "postgresql"
    else:
        raise BackupError(
            f"{path} is not a Salesdesk backup: neither a SQLite database nor a pg_dump archive."
        )
    if kind != database_kind():
        raise BackupError(
            f"{path} is a {KIND_NAMES[kind]} backup, but the configured database is "
            f"{KIND_NAMES[database_kind()]}."
        )
    revision = _sqlite_backup_revision(path) if kind == "sqlite" else _pg_archive_revision(path)
    known = {script.revision for script in database.migration_scripts().walk_revisions()}
    if revision not in known:
        raise BackupError(
            f"{path} comes from a newer version of Salesdesk (migration {revision}, unknown to "
            "this one). Upgrade Salesdesk first."
        )
    return BackupFile(path, kind, revision)


def _sqlite_backup_revision(path):
    try:
        connection = _sqlite_connect(path, read_only=True)
        try:
            _check_sqlite_integrity(connection, path)
            revision = _sqlite_revision(connection)
        finally:
            connection.close()
    except sqlite3.Error as error:
        raise BackupError(f"{path} cannot be read as a SQLite database: {error}") from error
    if revision is None:
        raise BackupError(
            f"{path} is not a Salesdesk backup: a SQLite database without a migration revision."
        )
    return revision


def restore_database(path):
    """Replace everything in the configured database with the backup at `path`, then
    apply the migrations the backup is behind. Other processes keep caches of the
    old data: restart the app afterwards."""
    from .ledger.similar import forget_name_indexes

    found = inspect_backup(path)
    # Our own pooled connections must not hold locks the restore waits for.
    db.session.remove()
    db.engine.dispose()
    if found.kind == "sqlite":
        _restore_sqlite(found.path)
    else:
        _restore_postgresql(found.path)
    db.engine.dispose()
    forget_name_indexes()
    return RestoreReport(backup=found, target=describe_target(), upgrade=database.upgrade_database())


def _restore_sqlite(path):
    live = _sqlite_path()
    if live.exists() and live.samefile(path):
        raise BackupError(f"{path} is the configured database itself.")
    source = _sqlite_connect(path, read_only=True)
    target = _sqlite_connect(live)
    try:
        # One write transaction on the live database: a failure leaves it as it was.
        source.backup(target)
    except sqlite3.Error as error:
        raise BackupError(f"The SQLite restore failed: {error}") from error
    finally:
        target.close()
        source.close()


def _restore_postgresql(path):
    pg_restore, psql = _tool("pg_restore"), _tool("psql")
    restore_command = [
        pg_restore,
        "--clean",
        "--if-exists",
        "--no-owner",
        "--no-privileges",
        "--file=-",
        str(path),
    ]
    psql_command = [
        psql,
        "--no-psqlrc",
        "--quiet",
        "--single-transaction",
        "--set=ON_ERROR_STOP=1",
        f"--command={EMPTY_SCHEMA}",
        "--file=-",
        f"--dbname={_libpq_url()}",
    ]
    env = _pg_environment()
    with tempfile.TemporaryFile() as restore_errors, tempfile.TemporaryFile() as psql_errors:
        replay = subprocess.Popen(
            psql_command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=psql_errors, env=env
        )
        script = subprocess.Popen(restore_command, stdout=subprocess.PIPE, stderr=restore_errors, env=env)
        psql_stopped = False
        with script.stdout:
            try:
                for chunk in iter(lambda: script.stdout.read(1 << 16), b""):
                    replay.stdin.write(chunk)
            except BrokenPipeError:
                psql_stopped = True  # at an error, reported below
                script.kill()
        if script.wait() != 0 and not psql_stopped:
            # psql has not seen the end of its input, so it never commits: kill it.
            replay.kill()
            replay.wait()
            restore_errors.seek(0)
            raise BackupError(
                f"pg_restore failed (exit status {script.returncode}): {_text(restore_errors.read())}"
            )
        with contextlib.suppress(BrokenPipeError):
            replay.stdin.close()
        if replay.wait() != 0:
            psql_errors.seek(0)
            raise BackupError(f"The restore was rolled back: {_text(psql_errors.read())}")
