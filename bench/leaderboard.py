"""Leaderboard benchmark: 200 users and 1,000,000 point entries, each period's leaderboard
timed on SQLite and PostgreSQL (target: p95 <= 50 ms). Not a test; run it by hand:

    .venv/bin/python bench/leaderboard.py                      # SQLite and PostgreSQL
    .venv/bin/python bench/leaderboard.py --database sqlite --runs 300
    .venv/bin/python bench/leaderboard.py --fresh              # rebuild the data sets

SQLite data lives in bench/data/ (git-ignored); PostgreSQL uses a scratch database
`salesdesk_bench_recognition` on 127.0.0.1:5432 (user postgres, trust auth; override with
--postgres-url). The data are two years of awards, thanks and automatic points spread
over 8 teams (one in Asia/Kolkata, a half-hour zone), with 1% of the entries reversed.
They are bulk-loaded, the summaries rebuilt with summaries.rebuild(), and then:

1. every period's sums (current and previous, three time zones) are checked against a
   plain SUM over the entries: the summaries must be exact;
2. each leaderboard (4 periods x company/team scope) is timed through
   leaderboard.leaderboard(), a fresh database session per call, as in a request;
   the whole page (GET /leaderboard through the app, templates included) is timed too;
3. 200 awards go through the real service on top of the million, timed, and the sums are
   checked again (the summaries stay exact when maintained one entry at a time).
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SALESDESK_INSTANCE_PATH", str(ROOT / "bench" / "data" / "instance"))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import create_engine, func, make_url, select, text  # noqa: E402

from salesdesk import clock, create_app  # noqa: E402
from salesdesk.auth.models import User  # noqa: E402
from salesdesk.auth.services import start_session  # noqa: E402
from salesdesk.database import write_transaction  # noqa: E402
from salesdesk.extensions import db  # noqa: E402
from salesdesk.recognition import giving, leaderboard, summaries  # noqa: E402
from salesdesk.recognition.models import PointEntry, RecognitionSettings  # noqa: E402
from salesdesk.recognition.periods import PERIODS, current_and_previous  # noqa: E402

DATA = ROOT / "bench" / "data"
RESULTS = ROOT / "bench" / "results"
TEAMS = [(f"第{n}大区", "Asia/Kolkata" if n == 8 else "Asia/Shanghai") for n in range(1, 9)]
CATEGORIES = ["follow_up", "knowledge", "mentoring", "deal", "other"]
COLUMNS = [
    "id",
    "recipient_id",
    "giver_id",
    "kind",
    "category",
    "points",
    "reason",
    "reversal_of_id",
    "created_at",
    "counted_at",
]


def log(message):
    print(message, flush=True)


# ---- data ----------------------------------------------------------------------------


def seed(app, users, entries, seed_value=20261122):
    rng = random.Random(seed_value)
    now = datetime.now(UTC).replace(microsecond=0)
    with app.app_context():
        upgrade()
        dialect = db.engine.dialect.name
        with write_transaction() as session:
            for name, zone in TEAMS:
                session.execute(
                    text("INSERT INTO teams (name, timezone, created_at) VALUES (:n, :z, :c)"),
                    {"n": name, "z": zone, "c": _db_time(now - timedelta(days=900), dialect)},
                )
            team_ids = list(session.scalars(text("SELECT id FROM teams ORDER BY id")))
            for number in range(users):
                team_id = team_ids[number % len(team_ids)]
                role = (
                    "manager"
                    if number < len(team_ids)
                    else ("support" if number < 3 * len(team_ids) else "rep")
                )
                session.execute(
                    text(
                        "INSERT INTO users (email, display_name, role, team_id, locale, active, "
                        "password_hash, session_version, created_at, updated_at) "
                        "VALUES (:e, :d, :r, :t, 'zh_Hans_CN', :a, 'x', 1, :c, :c)"
                    ),
                    {
                        "e": f"bench{number}@bench.example",
                        "d": f"员工{number:03d}",
                        "r": role,
                        "t": team_id,
                        "a": True,
                        "c": _db_time(now - timedelta(days=800), dialect),
                    },
                )
        user_rows = db.session.execute(select(User.id, User.role)).all()
        ids = [user_id for user_id, _role in user_rows]
        managers = [user_id for user_id, role in user_rows if role == "manager"]
        start = now - timedelta(days=730)
        span = (now - start).total_seconds()
        moments = sorted(start + timedelta(seconds=rng.uniform(0, span)) for _ in range(entries))
        rows = []
        for entry_id, moment in enumerate(moments, 1):
            draw = rng.random()
            recipient = rng.choice(ids)
            if draw < 0.25:
                giver, kind, points = rng.choice(managers), "award", rng.choice([5, 10, 20, 30, 50])
            elif draw < 0.95:
                giver, kind, points = rng.choice(ids), "thanks", rng.randint(1, 5)
            else:
                giver, kind, points = None, "auto", rng.choice([1, 10])
            if giver == recipient:
                recipient = ids[(ids.index(recipient) + 1) % len(ids)]
            rows.append(
                (
                    entry_id,
                    recipient,
                    giver,
                    kind,
                    rng.choice(CATEGORIES),
                    points,
                    "压测",
                    None,
                    moment,
                    moment,
                )
            )
        # 1% reversed, later, by an administrator (user 1 stands in).
        next_id = len(rows) + 1
        for original in rng.sample(rows, entries // 100):
            reversed_at = min(now, original[8] + timedelta(days=rng.uniform(0, 30)))
            rows.append(
                (
                    next_id,
                    original[1],
                    ids[0],
                    "reversal",
                    original[4],
                    -original[5],
                    "撤销",
                    original[0],
                    reversed_at,
                    original[9],
                )
            )
            next_id += 1
        log(f"  loading {len(rows):,} entries ({dialect})")
        started = time.perf_counter()
        _bulk_load(rows, dialect)
        log(f"  loaded in {time.perf_counter() - started:.1f} s; rebuilding summaries")
        started = time.perf_counter()
        with write_transaction() as session:
            summaries.rebuild(session)
        log(f"  summaries rebuilt in {time.perf_counter() - started:.1f} s")
        if dialect == "postgresql":
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        else:
            db.session.execute(text("ANALYZE"))
            db.session.commit()


def _db_time(moment, dialect):
    return moment if dialect == "postgresql" else moment.replace(tzinfo=None).isoformat(sep=" ")


def _bulk_load(rows, dialect):
    connection = db.engine.raw_connection()
    try:
        cursor = connection.cursor()
        if dialect == "postgresql":
            with cursor.copy(f"COPY point_entries ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('point_entries', 'id'), "
                "(SELECT max(id) FROM point_entries))"
            )
        else:
            placeholders = ", ".join("?" for _ in COLUMNS)
            cursor.execute("BEGIN")
            cursor.executemany(
                f"INSERT INTO point_entries ({', '.join(COLUMNS)}) VALUES ({placeholders})",
                ([*row[:8], _db_time(row[8], dialect), _db_time(row[9], dialect)] for row in rows),
            )
        connection.commit()
    finally:
        connection.close()


# ---- checks and timings ---------------------------------------------------------------


def check_exact(label):
    """Every period's summary sums equal a plain SUM over the entries."""
    now = clock.now()
    checked = 0
    for zone in ("Asia/Shanghai", "Asia/Kolkata", "UTC"):
        for key in PERIODS:
            for period in current_and_previous(key, now, ZoneInfo(zone)):
                query = select(PointEntry.recipient_id, func.sum(PointEntry.points)).group_by(
                    PointEntry.recipient_id
                )
                if period.start is not None:
                    query = query.where(PointEntry.counted_at >= period.start)
                if period.end is not None:
                    query = query.where(PointEntry.counted_at < period.end)
                raw = {user: points for user, points in db.session.execute(query) if points}
                fast = {
                    u: p for u, (p, _r) in summaries.sums(db.session, period.start, period.end).items() if p
                }
                if raw != fast:
                    raise SystemExit(f"NOT EXACT ({label}): {zone} {key} {period}")
                checked += 1
    db.session.remove()
    log(f"  exact: {checked} period sums equal the raw SUM over the entries ({label})")


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def time_boards(app, runs):
    results = []
    with app.app_context():
        viewer_id = db.session.scalar(select(User.id).where(User.role == "rep").order_by(User.id).limit(1))
        team_id = db.session.scalar(select(User.team_id).where(User.id == viewer_id))
        db.session.remove()
        for period in PERIODS:
            for scope, scope_team in (("company", None), ("team", team_id)):
                timings, cpu = [], []
                for run in range(runs + 5):
                    viewer = db.session.get(User, viewer_id)
                    started, cpu_started = time.perf_counter(), time.process_time()
                    board = leaderboard.leaderboard(viewer, period, scope_team)
                    elapsed = (time.perf_counter() - started) * 1000
                    cpu_elapsed = (time.process_time() - cpu_started) * 1000
                    db.session.remove()
                    if run >= 5:  # warm-up
                        timings.append(elapsed)
                        cpu.append(cpu_elapsed)
                results.append(_summary("service", period, scope, timings, board.ranked, cpu))
        client = app.test_client()
        viewer = start_session(db.session.get(User, viewer_id))  # the loader looks the login up
        with client.session_transaction() as session:
            session["_user_id"] = viewer.get_id()
        db.session.remove()
        for period in PERIODS:
            timings = []
            for run in range(runs // 2 + 5):
                started = time.perf_counter()
                response = client.get(f"/leaderboard?period={period}")
                elapsed = (time.perf_counter() - started) * 1000
                assert response.status_code == 200, response.status_code
                if run >= 5:
                    timings.append(elapsed)
            results.append(_summary("page", period, "company", timings, None))
        # Not part of the target, for information: the feed and a person's page.
        for label, url in (("feed", "/recognition"), ("person", f"/people/{viewer_id}")):
            timings = []
            for run in range(runs // 2 + 5):
                started = time.perf_counter()
                response = client.get(url)
                elapsed = (time.perf_counter() - started) * 1000
                assert response.status_code == 200, response.status_code
                if run >= 5:
                    timings.append(elapsed)
            results.append(_summary("page", label, "-", timings, None))
    return results


def _summary(what, period, scope, timings, ranked, cpu=None):
    row = {
        "what": what,
        "period": period,
        "scope": scope,
        "runs": len(timings),
        "p50_ms": round(statistics.median(timings), 2),
        "p95_ms": round(percentile(timings, 0.95), 2),
        "max_ms": round(max(timings), 2),
        "ranked": ranked,
    }
    if cpu:
        # Our own CPU time: what the wall clock would show on an idle machine.
        row["cpu_p50_ms"] = round(statistics.median(cpu), 2)
        row["cpu_p95_ms"] = round(percentile(cpu, 0.95), 2)
    log(
        f"  {what:<7} {period:<8} {scope:<8} p50 {row['p50_ms']:6.2f} ms   p95 {row['p95_ms']:6.2f} ms"
        f"   max {row['max_ms']:6.2f} ms"
        + (f"   cpu p50 {row['cpu_p50_ms']:5.2f} p95 {row['cpu_p95_ms']:5.2f}" if cpu else "")
        + (f"   ({ranked} ranked)" if ranked is not None else "")
    )
    return row


def time_awards(app, count=200):
    """Awards through the real service on top of the million: budget check, insert, summaries."""
    with app.app_context():
        # The generated data ignored budgets; lift them so that the awards go through
        # (the budget check itself still runs, over a month of the manager's awards).
        with write_transaction() as session:
            settings = session.get(RecognitionSettings, 1) or RecognitionSettings.defaults()
            settings.award_monthly_budget = 100_000
            session.add(settings)
        managers = db.session.scalars(select(User.id).where(User.role == "manager")).all()
        reps = db.session.scalars(select(User.id).where(User.role == "rep")).all()
        db.session.remove()
        timings = []
        rng = random.Random(7)
        for _ in range(count):
            giver = db.session.get(User, rng.choice(managers))
            started = time.perf_counter()
            giving.award_points(
                giver, recipient_id=rng.choice(reps), points=1, category="other", reason="压测"
            )
            timings.append((time.perf_counter() - started) * 1000)
            db.session.remove()
        log(f"  award   p50 {statistics.median(timings):6.2f} ms   p95 {percentile(timings, 0.95):6.2f} ms")
        check_exact("after 200 awards through the service")
        return {
            "what": "award",
            "p50_ms": round(statistics.median(timings), 2),
            "p95_ms": round(percentile(timings, 0.95), 2),
        }


# ---- main -----------------------------------------------------------------------------


def bench(label, url, args, fresh):
    log(f"\n{label}: {url}   (load average {' '.join(f'{n:.2f}' for n in os.getloadavg())})")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": False})
    with app.app_context():
        counted = None
        if not fresh:
            try:
                counted = db.session.scalar(select(func.count()).select_from(PointEntry))
            except Exception:  # noqa: BLE001 - no schema yet
                db.session.rollback()
        db.session.remove()
    if fresh or not counted:
        seed(app, args.users, args.entries)
    with app.app_context():
        # Measure at the moment the data set ends, so "this week" holds what it held then.
        data_now = db.session.scalar(select(func.max(PointEntry.created_at)))
        clock.set_now(data_now + timedelta(minutes=1))
        log(f"  clock set to {clock.now():%Y-%m-%d %H:%M} UTC, when the data set ends")
        entries = db.session.scalar(select(func.count()).select_from(PointEntry))
        users = db.session.scalar(select(func.count()).select_from(User))
        days = db.session.scalar(text("SELECT count(*) FROM point_buckets"))
        log(f"  {users} users, {entries:,} point entries, {days:,} summary buckets")
        check_exact("bulk load + rebuild")
    rows = time_boards(app, args.runs)
    rows.append(time_awards(app))
    clock.set_now(None)
    load = os.getloadavg()
    log(f"  load average after: {' '.join(f'{n:.2f}' for n in load)} on {os.cpu_count()} CPUs")
    return {"database": label, "users": users, "entries": entries, "rows": rows, "load_after": load}


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--fresh", action="store_true", help="drop and rebuild the data sets")
    parser.add_argument(
        "--postgres-url", default="postgresql://postgres@127.0.0.1:5432/salesdesk_bench_recognition"
    )
    args = parser.parse_args()
    DATA.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    results = []
    if args.database in ("sqlite", "both"):
        path = DATA / f"leaderboard-{args.users}-{args.entries}.db"
        fresh = args.fresh or not path.exists()
        if fresh:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        results.append(bench("SQLite", f"sqlite:///{path}", args, fresh))
    if args.database in ("postgresql", "both"):
        url = make_url(args.postgres_url.replace("postgresql://", "postgresql+psycopg://", 1))
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            exists = connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.database}
            )
            fresh = args.fresh or not exists
            if fresh:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
                connection.exec_driver_sql(f'CREATE DATABASE "{url.database}"')
        admin.dispose()
        results.append(bench("PostgreSQL", url.render_as_string(hide_password=False), args, fresh))
    out = RESULTS / f"leaderboard-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    worst = max(row["p95_ms"] for result in results for row in result["rows"] if row["what"] == "service")
    log(f"\nworst service p95: {worst:.2f} ms (target 50 ms); results in {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
