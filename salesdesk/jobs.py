"""Periodic work the app does by itself, without cron: in the course of requests, a
process that has not checked a job for its interval starts a thread; the thread runs
the job only if it wins the job's lease in the database, so across all processes a
job starts at most once per interval. Jobs must be idempotent (cron may run them too).
"""

import threading
import time
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import String, insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from . import clock
from .database import UTCDateTime, write_transaction
from .extensions import db

# name -> (interval, function); features register theirs with @periodic.
JOBS = {}
# The last thread started per job in this process (tests wait on them).
THREADS = {}
_next_check = {}
_lock = threading.Lock()


class JobLease(db.Model):
    """When a periodic job last started."""

    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)


def periodic(name, interval=timedelta(minutes=1)):
    def register(function):
        JOBS[name] = (interval, function)
        return function

    return register


def take_lease(name, interval):
    """True for the one caller per interval (across processes) that may run the job."""
    now = clock.now()
    with write_transaction() as session:
        taken = session.execute(
            update(JobLease)
            .where(JobLease.name == name, JobLease.started_at <= now - interval)
            .values(started_at=now)
        ).rowcount
        if taken:
            return True
        if session.get(JobLease, name) is not None:
            return False
    try:
        with write_transaction() as session:
            session.execute(insert(JobLease).values(name=name, started_at=now))
    except IntegrityError:
        return False  # another process created it first
    return True


def run_if_leased(name):
    interval, function = JOBS[name]
    if take_lease(name, interval):
        function()


def _start(app, name):
    def work():
        with app.app_context():
            try:
                run_if_leased(name)
            except Exception:  # noqa: BLE001 - a failed run is logged; the next interval retries
                app.logger.exception("periodic job %s failed", name)
            finally:
                db.session.remove()

    thread = threading.Thread(target=work, name=f"job-{name}", daemon=True)
    THREADS[name] = thread
    thread.start()


def start_in_background(function, threads):
    """Run `function` now in a thread of its own, with an app context: work that a commit
    just made due (an e-mail, a chat message) rather than at the next periodic run. The
    thread joins `threads`, the live ones of its kind (tests wait for them)."""
    app = current_app._get_current_object()

    def work():
        with app.app_context():
            try:
                function()
            except Exception:  # noqa: BLE001 - logged; the periodic run tries again
                app.logger.exception("background work %s failed", function.__name__)
            finally:
                db.session.remove()

    thread = threading.Thread(target=work, name=f"after-commit-{function.__name__}", daemon=True)
    threads[:] = [*(alive for alive in threads if alive.is_alive()), thread]
    thread.start()


def start_due_jobs(response):
    """after_request: costs a clock read unless a job's interval has passed."""
    if not current_app.config["RUN_PERIODIC_JOBS_IN_REQUESTS"]:
        return response
    now = time.monotonic()
    with _lock:
        due = [name for name, (interval, _f) in JOBS.items() if _next_check.get(name, 0) <= now]
        for name in due:
            _next_check[name] = now + JOBS[name][0].total_seconds()
    app = current_app._get_current_object()
    for name in due:
        _start(app, name)
    return response


@periodic("sqlite-optimize", interval=timedelta(hours=6))
def optimize_sqlite():
    """Keep SQLite's planner statistics current (PostgreSQL's autovacuum does this).
    Without any, the planner guesses (a grade index for a grade+stage+owner filter,
    1,000 times slower), and PRAGMA optimize alone never creates the first ones."""
    if db.engine.dialect.name == "sqlite":
        # BEGIN IMMEDIATE: take the write lock first (waiting for busy writers), not
        # after a read, when SQLite can only refuse.
        with db.engine.connect().execution_options(write_transaction=True) as connection:
            has_statistics = connection.exec_driver_sql(
                "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'"
            ).first()
            connection.exec_driver_sql("PRAGMA analysis_limit = 1000")  # sampled: fast on big tables
            connection.exec_driver_sql("PRAGMA optimize" if has_statistics else "ANALYZE")
            connection.commit()
