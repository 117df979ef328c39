"""Workbench homes and notifications: `GET /` and the bell through the Flask test client.

    .venv/bin/python -m bench.workbench_homes --database-url sqlite:///bench/data/ledger.db
    .venv/bin/python -m bench.workbench_homes --database-url postgresql://postgres@127.0.0.1:5432/salesdesk_bench
    .venv/bin/python -m bench.workbench_homes --database-url URL --explain admin-company
    .venv/bin/python -m bench.workbench_homes --database-url URL --profile manager-home
    .venv/bin/python -m bench.workbench_homes --database-url URL --whatif indexes   # on a copy

As in bench/ledger_list.py: a session cookie per viewer, --warmup untimed requests,
then --runs timed ones; p50/p95/max wall, p50/p95 process CPU, the median time inside
SQL statements and the statement count. Viewers: rep01 (team 1), the newest rep of
team 1 (an onboarding path), manager1 (team 1's home), the admin (whole company, and
`?team=` team 1, also as the htmx fragment the team switch asks for). Also the bell
(`/notifications/bell`, without and with If-None-Match: 304) and the notification
list. Target (issue 5): p95 <= 80 ms per home. Results go to
bench/results/workbench-<backend>.json. --whatif runs everything on a throw-away copy
with the proposed indexes (WHATIF_INDEXES), with ANALYZE, or both.
"""

import argparse
import json
import time
from datetime import datetime
from pathlib import Path

from . import _common
from ._common import (
    ADMIN_EMAIL,
    MANAGER_EMAIL,
    REP_EMAIL,
    backend,
    bench_app,
    copy_database,
    logged_in_client,
    normalise_url,
)
from .ledger_list import SqlTimer, explain, profile

TARGET_MS = 80
TARGETED = {"rep-home", "newest-rep-home", "manager-home", "admin-company", "admin-team"}
# Indexes to try on a copy with --whatif indexes. The first proposal (covering indexes for
# the pipeline and the overdue count per rep) shipped in migration 5e1d0c0ffee1; see the git
# history of this file for it. Add statements here to measure the next one.
WHATIF_INDEXES = []


def apply_whatif(url, mode):
    from sqlalchemy import create_engine

    statements = WHATIF_INDEXES if mode in ("indexes", "both") else []
    if mode in ("analyze", "both") or backend(url) == "postgresql":
        statements = [*statements, "ANALYZE"]
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        for statement in statements:
            started = time.perf_counter()
            connection.exec_driver_sql(statement)
            print(f"  what-if: {statement} ({time.perf_counter() - started:.1f} s)")
    engine.dispose()


def viewers_and_scenarios(db):
    from sqlalchemy import func, select

    from salesdesk.auth.models import User
    from salesdesk.notifications import Notification

    rep = _common.user_by_email(REP_EMAIL)
    manager = _common.user_by_email(MANAGER_EMAIL)
    admin = _common.user_by_email(ADMIN_EMAIL)
    team_reps = select(User).where(User.team_id == manager.team_id, User.role == "rep")
    newest = db.session.scalar(team_reps.order_by(User.id.desc()).limit(1))
    viewers = {"rep": rep, "newest": newest, "manager": manager, "admin": admin}
    team = manager.team_id
    # (name, viewer, url, htmx, conditional)
    scenarios = [
        ("rep-home", "rep", "/", False, False),
        ("newest-rep-home", "newest", "/", False, False),
        ("manager-home", "manager", "/", False, False),
        ("admin-company", "admin", "/", False, False),
        ("admin-team", "admin", f"/?team={team}", False, False),
        ("admin-team-htmx", "admin", f"/?team={team}", True, False),
        ("bell", "rep", "/notifications/bell", False, False),
        ("bell-304", "rep", "/notifications/bell", False, True),
        ("bell-manager", "manager", "/notifications/bell", False, False),
        ("notifications", "rep", "/notifications", False, False),
        ("notifications-unread", "rep", "/notifications?show=unread", False, False),
    ]
    counts = {}
    for role, user in viewers.items():
        total = db.session.scalar(select(func.count()).where(Notification.user_id == user.id))
        unread = db.session.scalar(
            select(func.count()).where(Notification.user_id == user.id, Notification.read_at.is_(None))
        )
        counts[role] = {"email": user.email, "notifications": total, "unread": unread}
    return viewers, scenarios, counts


def run_scenario(client, timer, url, htmx, conditional, warmup, runs):
    headers = {"HX-Request": "true"} if htmx else {}
    expected = 200
    for _ in range(warmup):
        response = client.get(url, headers=headers)
        if response.status_code != 200:
            raise SystemExit(f"{url}: HTTP {response.status_code}")
    if conditional:
        headers["If-None-Match"] = response.headers["ETag"]
        expected = 304
    samples, cpu, sql_ms, sql_counts = [], [], [], []
    for _ in range(runs):
        timer.reset()
        cpu_started = time.process_time()
        started = time.perf_counter()
        response = client.get(url, headers=headers)
        samples.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
        if response.status_code != expected:
            raise SystemExit(f"{url}: HTTP {response.status_code}, expected {expected}")
        sql_ms.append(timer.seconds * 1000)
        sql_counts.append(timer.count)
    result = _common.summary(samples)
    result["cpu_p50"] = _common.summary(cpu)["p50"]
    result["cpu_p95"] = _common.summary(cpu)["p95"]
    result["sql_p50"] = _common.summary(sql_ms)["p50"]
    result["sql_p95"] = _common.summary(sql_ms)["p95"]
    result["statements"] = max(sql_counts)
    result["bytes"] = len(response.get_data())
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=_common.DEFAULT_SQLITE)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--only", help="run scenarios whose name contains one of these (comma-separated)")
    parser.add_argument("--tag", default="", help="suffix for the results file name")
    parser.add_argument("--explain", metavar="NAME", help="print the query plans of this scenario and stop")
    parser.add_argument("--profile", metavar="NAME", help="print a pyinstrument profile of this scenario")
    parser.add_argument(
        "--whatif", choices=["indexes", "analyze", "both"], help="run on a copy with the proposed indexes"
    )
    args = parser.parse_args(argv)
    url = normalise_url(args.database_url)
    if not args.whatif:
        return run(url, args)
    copy, cleanup = copy_database(url, "homes")
    try:
        apply_whatif(copy, args.whatif)
        args.tag = args.tag or f"-whatif-{args.whatif}"
        return run(copy, args)
    finally:
        cleanup()


def run(url, args):
    app = bench_app(url)
    from salesdesk.extensions import db

    with app.app_context():
        timer = SqlTimer(db.engine)
        viewers, scenarios, counts = viewers_and_scenarios(db)
        clients = {role: logged_in_client(app, user) for role, user in viewers.items()}
        db.session.rollback()
    print(f"Workbench on {backend(url)} — {_common.machine()} — {datetime.now():%Y-%m-%d %H:%M}")
    print(f"viewers: {counts}")
    print(f"load average before: {_common.load()}")

    if args.explain or args.profile:
        name = args.explain or args.profile
        matching = [s for s in scenarios if s[0] == name] or [s for s in scenarios if name in s[0]]
        if not matching:
            raise SystemExit(f"no scenario matches {name}")
        label, role, path, htmx, _conditional = matching[0]
        client = clients[role]
        for _ in range(3):
            client.get(path, headers={"HX-Request": "true"} if htmx else {})
        print(f"== {label} as {role}: {path}")
        if args.explain:
            explain(app, db, timer, client, path, htmx)
        else:
            profile(client, path, htmx, args.runs)
        return None

    results = {}
    header = f"{'scenario':<22} {'viewer':<8} {'p50':>7} {'p95':>7} {'max':>7} {'cpu p50':>8} {'cpu p95':>8}"
    header += f" {'sql p50':>8} {'sql p95':>8} {'stmts':>5} {'KB':>5}"
    print(header)
    print("-" * len(header))
    for label, role, path, htmx, conditional in scenarios:
        if args.only and not any(part in label for part in args.only.split(",")):
            continue
        result = run_scenario(clients[role], timer, path, htmx, conditional, args.warmup, args.runs)
        result.update(url=path, viewer=role, htmx=htmx, conditional=conditional)
        results[label] = result
        flag = "  MISSES 80 ms" if label in TARGETED and result["p95"] > TARGET_MS else ""
        print(
            f"{label:<22} {role:<8} {result['p50']:7.1f} {result['p95']:7.1f} {result['max']:7.1f} "
            f"{result['cpu_p50']:8.1f} {result['cpu_p95']:8.1f} {result['sql_p50']:8.1f} "
            f"{result['sql_p95']:8.1f} {result['statements']:5d} {result['bytes'] / 1024:5.0f}{flag}",
            flush=True,
        )
    print(f"load average after: {_common.load()}")
    out = _common.ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = Path(out / f"workbench-{backend(url)}{args.tag}.json")
    path.write_text(
        json.dumps(
            {
                "when": datetime.now().isoformat(timespec="seconds"),
                "machine": _common.machine(),
                "load": _common.load(),
                "viewers": counts,
                "results": results,
            },
            ensure_ascii=False,
            indent=1,
        )
    )
    print(f"(written to {path.relative_to(_common.ROOT)})")


if __name__ == "__main__":
    main()
