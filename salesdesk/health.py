"""GET /healthz for monitors and load balancers: 200 when the database answers, its
schema is at the code's migration head, and both the database and the instance folder
accept a write; 503 (with the reason) otherwise. No login, no session, nothing cached."""

from pathlib import Path

from flask import Blueprint, current_app, jsonify
from sqlalchemy import insert, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from . import clock, disk
from .auth import public
from .database import SQLITE_BUSY_TIMEOUT_MS, UnknownRevision, pending_migrations
from .extensions import db
from .jobs import JobLease

bp = Blueprint("health", __name__)

# The probe waits this long for another writer's lock, not the usual busy timeout:
# a check must answer at once, and a lock held by a writer shows that writes work.
PROBE_LOCK_WAIT_MS = 200
PROBE_LEASE = "healthz write probe"


@bp.route("/healthz")
@public
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
        pending = pending_migrations()
    except SQLAlchemyError as error:
        current_app.logger.error("health check: database unreachable: %s", error)
        return _answer(503, database="unreachable")
    except UnknownRevision as error:
        return _answer(503, database="ok", migrations=str(error))
    finally:
        db.session.rollback()
    if pending:
        return _answer(503, database="ok", migrations=f"{len(pending)} pending: run `salesdesk upgrade`")
    try:
        disk.probe(Path(current_app.instance_path))
    except OSError as error:
        current_app.logger.error("health check: the instance folder cannot be written: %s", error)
        return _answer(503, database="ok", migrations="current", instance=f"not writable: {error.strerror}")
    try:
        _write_to_database()
    except SQLAlchemyError as error:
        current_app.logger.error("health check: the database refuses a write: %s", error)
        reason = getattr(error, "orig", error)
        return _answer(503, database=f"not writable: {reason}", migrations="current", instance="ok")
    return _answer(200, database="ok", migrations="current", instance="ok")


def _write_to_database():
    """A write the database must accept (refused when it is read-only, full or a
    standby), rolled back so that it leaves nothing."""
    with db.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        try:
            if sqlite:
                connection.exec_driver_sql(f"PRAGMA busy_timeout = {PROBE_LOCK_WAIT_MS}")
            else:
                connection.exec_driver_sql(f"SET LOCAL lock_timeout = {PROBE_LOCK_WAIT_MS}")
            connection.execute(insert(JobLease).values(name=PROBE_LEASE, started_at=clock.now()))
        except OperationalError as error:
            if not _busy(error):
                raise
        finally:
            connection.rollback()
            if sqlite:
                connection.exec_driver_sql(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
                connection.rollback()


def _busy(error):
    """Another writer holds the lock: the database takes writes, just not this one now."""
    text = str(error.orig).lower()
    return "database is locked" in text or "lock timeout" in text


def _answer(status, **checks):
    response = jsonify(status="ok" if status == 200 else "unavailable", **checks)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response
