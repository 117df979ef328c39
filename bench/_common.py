"""Shared plumbing for the ledger benchmarks: an app on the benchmark database, a
logged-in test client, timing and percentiles. Run the scripts from the repository
root as modules (`.venv/bin/python -m bench.ledger_list …`)."""

import math
import os
import platform
import shutil
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
DEFAULT_SQLITE = f"sqlite:///{DATA / 'ledger.db'}"

# The importer stores uploads under the instance folder: keep them in bench/data.
os.environ.setdefault("SALESDESK_INSTANCE_PATH", str(DATA / "instance"))

BENCH_CONFIG = {
    "TESTING": True,
    # No SECRET_KEY: the app generates one into the instance folder above, as it would
    # on a server.
    # Users are created by the seeder; their password hash speed is irrelevant here.
    "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    # The periodic jobs (reclaim, reminders) would change the seeded data under the
    # benchmarks; bench/rules_reclaim.py times them on a copy instead.
    "RUN_PERIODIC_JOBS_IN_REQUESTS": False,
}
MANAGER_EMAIL = "manager1@bench.example"
REP_EMAIL = "rep01@bench.example"
ADMIN_EMAIL = "admin@bench.example"


def normalise_url(url):
    """postgresql:// → psycopg 3 (as the app does); relative SQLite paths made absolute."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        path = Path(url[len("sqlite:///") :])
        url = f"sqlite:///{path.resolve()}"
    return url


def backend(url):
    return "sqlite" if url.startswith("sqlite") else "postgresql"


def bench_app(database_url, like_a_worker=True, **overrides):
    """The app as a gunicorn worker has it: created, then the shared dictionaries
    loaded and the garbage collector's view of them frozen, which the master does
    before forking (gunicorn.conf.py). Without it every full collection in this one
    process walks pinyin's and rjieba's millions of objects, which no worker does.
    like_a_worker=False leaves the dictionaries to be loaded lazily, as without
    --preload."""
    from salesdesk import create_app, load_shared_dictionaries

    DATA.mkdir(parents=True, exist_ok=True)
    (DATA / "instance").mkdir(exist_ok=True)
    app = create_app({**BENCH_CONFIG, "SQLALCHEMY_DATABASE_URI": normalise_url(database_url), **overrides})
    if like_a_worker:
        load_shared_dictionaries()
    return app


def user_by_email(email):
    from sqlalchemy import select

    from salesdesk.auth.models import User
    from salesdesk.extensions import db

    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        raise SystemExit(f"{email} not found: seed the database first (bench/ledger_seed.py).")
    return user


def logged_in_client(app, user):
    """A test client whose session cookie says `user` is logged in (as
    tests/helpers.py: Client.login_as does: a login row, then its token in the cookie)."""
    from salesdesk.auth.services import start_session

    start_session(user)  # a login row: the user loader now looks the session's token up
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
    return client


def percentile(values, fraction):
    """Nearest-rank percentile (p95 of 50 samples is the 48th smallest)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def summary(samples_ms):
    return {
        "n": len(samples_ms),
        "p50": statistics.median(samples_ms),
        "p95": percentile(samples_ms, 0.95),
        "max": max(samples_ms),
        "mean": statistics.fmean(samples_ms),
    }


def call_timer(times):
    """timed(name, function): `function` wrapped to add each call's ms to times[name]
    (a defaultdict(list)), for timing the parts of a request around the real functions."""

    def timed(name, function):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                times[name].append((time.perf_counter() - started) * 1000)

        return wrapper

    return timed


class Stopwatch:
    """Prints the time of each stage and the total."""

    def __init__(self):
        self.start = self.last = time.perf_counter()
        self.stages = {}

    def lap(self, label):
        now = time.perf_counter()
        self.stages[label] = now - self.last
        print(f"  {label:<38} {now - self.last:8.1f} s", flush=True)
        self.last = now

    def total(self):
        return time.perf_counter() - self.start


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def load():
    """The 1, 5 and 15 minute load averages: other work on the machine skews timings."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def peak_rss_mb():
    """Peak resident set size of this process (VmHWM), in MB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def copy_database(url, suffix):
    """A throw-away copy of the seeded database (a file copy on SQLite, CREATE DATABASE
    … TEMPLATE on PostgreSQL, which needs no other session on the seed); returns
    (url of the copy, cleanup)."""
    from sqlalchemy import create_engine, make_url

    if backend(url) == "sqlite":
        source = Path(make_url(url).database)
        engine = create_engine(url)
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
        target = source.with_name(f"{source.stem}-{suffix}.db")
        shutil.copyfile(source, target)

        def cleanup():
            for end in ("", "-wal", "-shm"):
                Path(f"{target}{end}").unlink(missing_ok=True)

        return f"sqlite:///{target}", cleanup
    base = make_url(url)
    copy = f"{base.database}_{suffix}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
        connection.exec_driver_sql(f'CREATE DATABASE "{copy}" TEMPLATE "{base.database}"')

    def cleanup():
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
        admin.dispose()

    return base.set(database=copy).render_as_string(hide_password=False), cleanup


def process_cpu_seconds(pid):
    """CPU time (user + system) of another process from /proc (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child_pids(pid):
    """The direct children of a process (gunicorn's workers)."""
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                children.append(int(entry.name))
    return children
