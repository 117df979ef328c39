"""A claim storm: many reps claiming pool customers at once, over real HTTP against
gunicorn with 4 worker processes, on a throw-away copy of the seeded database.

    .venv/bin/python -m bench.rules_claims --database-url sqlite:///bench/data/ledger.db
    .venv/bin/python -m bench.rules_claims --database-url postgresql://postgres@127.0.0.1:5432/salesdesk_bench
    .venv/bin/python -m bench.rules_claims --database-url URL --reps 50 --claims 20 --hot 200 --jobs

The app is started as tests/conftest.py `gunicorn_server` does (4 sync workers,
--preload), with the periodic jobs off unless --jobs (then the first requests also
start the reclaim and reminder jobs, as in production). --reps reps (spread over the
four teams) log in through the form (as tests/helpers.py `LiveClient`), wait at a
barrier, then each sends --claims claims one after the other — `POST
/customers/<id>/claim` as the pool page's htmx button does (X-CSRFToken header) —
for customers drawn from a hot set of --hot pool customers per team, so reps of a
team race for the same customers. Every answer is counted: claimed (200), refused
with 409 (already claimed, holding limit, daily limit, cooldown), other 4xx, and
errors (5xx, transport errors; there must be none, and no "database is locked" in
the server log). Latency p50/p95/max per claim as the client sees it; CPU time of
the gunicorn workers (and on PostgreSQL of the server backends serving them) and of
this client process. Afterwards the copy is checked: one claim per customer, no rep
over a limit, one history row per success.
"""

import argparse
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime

from . import _common
from ._common import backend, bench_app, copy_database, normalise_url

PASSWORD = "bench-password-42"
# Chinese (the users' locale) messages of the rules' refusals, most specific first.
REFUSALS = [
    ("daily limit", "每日上限"),
    ("holding limit", "已保有"),
    ("cooldown", "重新领取"),
    ("already claimed", "已被"),
    ("already yours", "你已经是该客户的负责人"),
]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_gunicorn(url, jobs, log_path):
    import httpx

    instance = _common.DATA / "claims-instance"
    instance.mkdir(parents=True, exist_ok=True)
    (instance / "config.py").write_text(f"RUN_PERIODIC_JOBS_IN_REQUESTS = {bool(jobs)}\n")
    port = free_port()
    env = {
        **os.environ,
        "SALESDESK_DATABASE_URL": url,
        "SALESDESK_INSTANCE_PATH": str(instance),
    }
    log = open(log_path, "w")  # noqa: SIM115 - closed in stop_gunicorn
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "4", "--preload", "--bind", f"127.0.0.1:{port}"]
        + ["--timeout", "60", "--log-level", "warning", "app:app"],
        cwd=_common.ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(base + "/login", timeout=2)
            return process, log, base
        except httpx.TransportError:
            if process.poll() is not None:
                raise SystemExit(f"gunicorn exited: see {log_path}") from None
            time.sleep(0.2)
    process.kill()
    raise SystemExit("gunicorn did not answer within 60 s")


def stop_gunicorn(process, log):
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    log.close()


class Rep:
    """A logged-in browser: session cookie and the page's CSRF token."""

    def __init__(self, base, email):
        import httpx

        self.email = email
        self.http = httpx.Client(base_url=base, follow_redirects=False, timeout=60)
        page = self.http.get("/login")
        answer = self.http.post(
            "/login", data={"email": email, "password": PASSWORD, "next": "", "csrf_token": self._token(page)}
        )
        if answer.status_code != 303:
            raise SystemExit(f"login of {email} failed: HTTP {answer.status_code}")
        self.token = self._token(self.http.get("/notifications"))
        self.samples = []  # (ms, outcome)

    @staticmethod
    def _token(page):
        return re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)

    def claim(self, customer_id):
        headers = {"HX-Request": "true", "X-CSRFToken": self.token}
        started = time.perf_counter()
        try:
            response = self.http.post(f"/customers/{customer_id}/claim", headers=headers)
        except Exception as error:  # noqa: BLE001 - a transport error is an error to count
            self.samples.append(((time.perf_counter() - started) * 1000, f"error: {type(error).__name__}"))
            return
        elapsed = (time.perf_counter() - started) * 1000
        self.samples.append((elapsed, outcome(response)))

    def close(self):
        self.http.close()


def outcome(response):
    if response.status_code == 200:
        return "claimed"
    if response.status_code >= 500:
        return f"error: HTTP {response.status_code}"
    if response.status_code == 409:
        for label, text in REFUSALS:
            if text in response.text:
                return f"refused: {label}"
        return "refused: other 409"
    return f"other: HTTP {response.status_code}"


def plan(db, reps, claims, hot, seed):
    """[(email, [customer ids])] and the reps' state before the storm."""
    from sqlalchemy import func, select

    from salesdesk import clock, settings
    from salesdesk.auth.models import User
    from salesdesk.ledger.models import Customer
    from salesdesk.rules.pool import active_count, claims_today

    rng = random.Random(seed)
    rules = settings.current()
    teams = db.session.scalars(select(User.team_id).where(User.role == "rep").distinct()).all()
    by_team = {
        team: db.session.scalars(
            select(User).where(User.role == "rep", User.team_id == team).order_by(User.id)
        ).all()
        for team in sorted(teams)
    }
    chosen = []
    for i in range(reps):  # round robin over the teams
        team = sorted(by_team)[i % len(by_team)]
        chosen.append(by_team[team][i // len(by_team)])
    hot_sets = {}
    for team in by_team:
        pool = db.session.scalars(
            select(Customer.id).where(
                Customer.owner_id.is_(None), Customer.deleted_at.is_(None), Customer.team_id == team
            )
        ).all()
        hot_sets[team] = rng.sample(pool, min(hot, len(pool)))
    now = clock.now()
    state = []
    for rep in chosen:
        state.append(
            {
                "active": active_count(rep),
                "claims_today": claims_today(rep, now),
            }
        )
    headroom = [
        min(rules.max_active_per_rep - s["active"], rules.claims_per_day - s["claims_today"]) for s in state
    ]
    work = [(rep.email, rng.sample(hot_sets[rep.team_id], claims)) for rep in chosen]
    pool_total = db.session.scalar(
        select(func.count()).select_from(Customer).where(Customer.owner_id.is_(None))
    )
    db.session.rollback()
    return work, {
        "reps": len(chosen),
        "pool": pool_total,
        "hot_per_team": hot,
        "limit": rules.max_active_per_rep,
        "claims_per_day": rules.claims_per_day,
        "headroom_min": min(headroom),
        "headroom_max": max(headroom),
        "headroom_total": sum(max(0, h) for h in headroom),
        "reps_with_less_than_claims": sum(1 for h in headroom if h < claims),
    }


def backend_pids(url):
    """PostgreSQL server processes connected to the copy (the workers' pools)."""
    from sqlalchemy import create_engine, make_url

    target = make_url(url)
    engine = create_engine(target.set(database="postgres"))
    with engine.connect() as connection:
        pids = connection.exec_driver_sql(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (target.database,),
        ).scalars()
        pids = list(pids)
    engine.dispose()
    return pids


def log_in(base, work):
    """Every rep logs in (in parallel, untimed): this also opens the workers' connections."""
    reps = [None] * len(work)

    def one(i, email):
        reps[i] = Rep(base, email)

    threads = [threading.Thread(target=one, args=(i, email)) for i, (email, _ids) in enumerate(work)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return reps


def storm(reps, work):
    """All reps at once, each claiming its customers one after the other."""
    barrier = threading.Barrier(len(reps) + 1)

    def claim_all(rep, ids):
        barrier.wait()
        for customer_id in ids:
            rep.claim(customer_id)

    threads = [
        threading.Thread(target=claim_all, args=(rep, ids))
        for rep, (_email, ids) in zip(reps, work, strict=True)
    ]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def verify(url, started_at, server_started_at):
    """After the storm, from the database: one claim per customer, limits kept; and how
    many customers the periodic reclaim job returned to the pool meanwhile (--jobs)."""
    from sqlalchemy import func, select

    from salesdesk import clock, settings
    from salesdesk.auth.models import User
    from salesdesk.extensions import db
    from salesdesk.ledger.models import OwnershipChange
    from salesdesk.rules.pool import active_count, claims_today
    from salesdesk.rules.reclaim import RECLAIM_REASONS

    app = bench_app(url)
    with app.app_context():
        claims = db.session.execute(
            select(OwnershipChange.customer_id, func.count())
            .where(OwnershipChange.reason == "claim", OwnershipChange.at >= started_at)
            .group_by(OwnershipChange.customer_id)
        ).all()
        claimers = db.session.scalars(
            select(User).where(
                User.id.in_(
                    select(OwnershipChange.to_user_id).where(
                        OwnershipChange.reason == "claim", OwnershipChange.at >= started_at
                    )
                )
            )
        ).all()
        rules, now = settings.current(), clock.now()
        over_holding = sum(1 for user in claimers if active_count(user) > rules.max_active_per_rep)
        over_daily = sum(1 for user in claimers if claims_today(user, now) > rules.claims_per_day)
        reclaimed = db.session.scalar(
            select(func.count()).where(
                OwnershipChange.reason.in_(RECLAIM_REASONS), OwnershipChange.at >= server_started_at
            )
        )
        result = {
            "reclaimed_by_the_job": reclaimed,
            "history_rows": sum(count for _c, count in claims),
            "customers_claimed_twice": sum(1 for _c, count in claims if count > 1),
            "reps_over_holding_limit": over_holding,
            "reps_over_daily_limit": over_daily,
        }
        db.session.remove()
        db.engine.dispose()
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=_common.DEFAULT_SQLITE)
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--claims", type=int, default=20, help="claims per rep")
    parser.add_argument("--hot", type=int, default=200, help="pool customers per team the reps race for")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--jobs", action="store_true", help="periodic jobs on (as in production)")
    parser.add_argument("--tag", default="", help="suffix for the results file name")
    args = parser.parse_args(argv)
    url = normalise_url(args.database_url)
    kind = backend(url)
    tag = args.tag or ("-jobs" if args.jobs else "")
    print(f"Claim storm on {kind} — {_common.machine()} — {datetime.now():%Y-%m-%d %H:%M}")
    print(f"load average before: {_common.load()}")
    copy, cleanup = copy_database(url, "claims")
    results_dir = _common.ROOT / "bench" / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    log_path = results_dir / f"claims-{kind}{tag}-gunicorn.log"
    try:
        from salesdesk import clock
        from salesdesk.extensions import db

        app = bench_app(copy)
        with app.app_context():
            work, before = plan(db, args.reps, args.claims, args.hot, args.seed)
            db.engine.dispose()
        print(f"  before: {before}")
        server_started_at = clock.now()
        process, log, base = start_gunicorn(copy, args.jobs, log_path)
        try:
            workers = _common.child_pids(process.pid)
            print(f"  logging in {len(work)} reps …", flush=True)
            reps = log_in(base, work)
            started_at = clock.now()
            servers = backend_pids(copy) if kind == "postgresql" else []
            cpu_workers = sum(_common.process_cpu_seconds(pid) for pid in workers)
            cpu_servers = sum(_common.process_cpu_seconds(pid) for pid in servers)
            cpu_client = time.process_time()
            load_during = _common.load()
            elapsed = storm(reps, work)
            cpu_workers = sum(_common.process_cpu_seconds(pid) for pid in workers) - cpu_workers
            cpu_servers = sum(_common.process_cpu_seconds(pid) for pid in servers) - cpu_servers
            cpu_client = time.process_time() - cpu_client
            for rep in reps:
                rep.close()
        finally:
            stop_gunicorn(process, log)
        server_log = log_path.read_text()
        checks = verify(copy, started_at, server_started_at)
    finally:
        cleanup()

    samples = [sample for rep in reps for sample in rep.samples]
    outcomes = Counter(label for _ms, label in samples)
    latency = _common.summary([ms for ms, _label in samples])
    claimed = _common.summary([ms for ms, label in samples if label == "claimed"] or [0])
    refused = _common.summary([ms for ms, label in samples if label.startswith("refused")] or [0])
    errors = sum(count for label, count in outcomes.items() if label.startswith("error"))
    locked = server_log.count("database is locked")
    tracebacks = server_log.count("Traceback")
    per_claim_cpu = (cpu_workers + cpu_servers) / len(samples) * 1000
    print(f"  {len(samples)} claims in {elapsed:.1f} s ({len(samples) / elapsed:.0f}/s), load {load_during}")
    print(f"  outcomes: {dict(sorted(outcomes.items()))}")
    for label, figures in (("all", latency), ("claimed", claimed), ("refused", refused)):
        print(
            f"  latency {label:<8} p50 {figures['p50']:7.1f}  p95 {figures['p95']:7.1f}  "
            f"max {figures['max']:7.1f} ms"
        )
    print(
        f"  CPU: workers {cpu_workers:.1f} s, database server {cpu_servers:.1f} s "
        f"({per_claim_cpu:.1f} ms per claim), this client {cpu_client:.1f} s"
    )
    print(f"  server log: {tracebacks} tracebacks, {locked} 'database is locked'")
    print(f"  checks: {checks}")
    ok = errors == 0 and locked == 0 and tracebacks == 0 and checks["customers_claimed_twice"] == 0
    ok = ok and checks["history_rows"] == outcomes["claimed"]
    ok = ok and not checks["reps_over_holding_limit"] and not checks["reps_over_daily_limit"]
    print("  no errors, no double claims, limits kept" if ok else "  PROBLEMS: see above")
    print(f"load average after: {_common.load()}")
    path = results_dir / f"claims-{kind}{tag}.json"
    path.write_text(
        json.dumps(
            {
                "when": datetime.now().isoformat(timespec="seconds"),
                "machine": _common.machine(),
                "load_during": load_during,
                "args": vars(args),
                "before": before,
                "elapsed_s": elapsed,
                "outcomes": outcomes,
                "latency_ms": latency,
                "latency_claimed_ms": claimed,
                "latency_refused_ms": refused,
                "cpu_s": {"workers": cpu_workers, "database": cpu_servers, "client": cpu_client},
                "server_log": {"tracebacks": tracebacks, "database_is_locked": locked},
                "checks": checks,
                "ok": ok,
            },
            ensure_ascii=False,
            indent=1,
        )
    )
    print(f"(written to {path.relative_to(_common.ROOT)})")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
