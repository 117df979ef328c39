"""One pass of the reclaim jobs over the seeded ledger, on a throw-away copy.

    .venv/bin/python -m bench.rules_reclaim --database-url sqlite:///bench/data/ledger.db
    .venv/bin/python -m bench.rules_reclaim --database-url postgresql://postgres@127.0.0.1:5432/salesdesk_bench

Times, in this process and in the order the periodic job runs them
(salesdesk.rules.reclaim.run_reclaim): `warn_due` (warn owners whose customers enter
the warning window), `reclaim_due` (return overdue customers to the pool: history
row, notification, collaborators ended), then the same pair again with nothing left
to do (what every minute costs), `recompute_all` (every owned customer's reclaim date,
as after a settings change; it must change nothing on a consistent seed), the
morning follow-up digest job, and finally a settings change that makes many customers
overdue at once (follow-up period 15 → --tighten-to days) and the reclaim pass after
it. Wall and process CPU time per step (on PostgreSQL the server's CPU is not in it),
SQL time and statement count. Target (issue 4): one reclaim pass <= 5 s.
"""

import argparse
import json
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from . import _common
from ._common import backend, bench_app, copy_database, normalise_url
from .ledger_list import SqlTimer

TARGET_S = 5.0


def due_counts(db, now):
    """How many owned customers are overdue, in the warning window (not warned yet),
    and owned at all (not won)."""
    from sqlalchemy import func, select

    from salesdesk import settings
    from salesdesk.ledger.models import Customer

    horizon = settings.current().reclaim_horizon(now)
    live = (Customer.owner_id.is_not(None), Customer.stage != "won", Customer.deleted_at.is_(None))

    def count(*where):
        return db.session.scalar(select(func.count()).select_from(Customer).where(*live, *where))

    result = {
        "owned_not_won": count(),
        "overdue": count(Customer.reclaim_at <= now),
        "in_window": count(Customer.reclaim_at > now, Customer.reclaim_at <= horizon),
        "to_warn": count(
            Customer.reclaim_at > now,
            Customer.reclaim_at <= horizon,
            (Customer.reclaim_warned_for.is_(None)) | (Customer.reclaim_warned_for != Customer.reclaim_at),
        ),
    }
    db.session.rollback()
    return result


def snapshot(db):
    from sqlalchemy import select

    from salesdesk.ledger.models import Customer

    rows = db.session.execute(
        select(Customer.id, Customer.reclaim_at, Customer.reclaim_rule).where(Customer.owner_id.is_not(None))
    ).all()
    db.session.rollback()
    return {row.id: (row.reclaim_at, row.reclaim_rule) for row in rows}


def timed(label, timer, function, results):
    timer.reset()
    cpu = time.process_time()
    started = time.perf_counter()
    value = function()
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu
    results[label] = {
        "wall_s": wall,
        "cpu_s": cpu,
        "sql_s": timer.seconds,
        "statements": timer.count,
        "result": value,
    }
    print(
        f"  {label:<44} {wall:8.2f} s wall {cpu:7.2f} s CPU {timer.seconds:7.2f} s SQL "
        f"{timer.count:6d} stmts  → {value}",
        flush=True,
    )
    return value


def run(url, args):
    from sqlalchemy import func, select

    from salesdesk import clock, settings
    from salesdesk.database import write_transaction
    from salesdesk.extensions import db
    from salesdesk.ledger.models import OwnershipChange
    from salesdesk.notifications import Notification
    from salesdesk.rules import protection, reclaim
    from salesdesk.rules.settings import SETTING_FIELDS, update_settings
    from salesdesk.workbench.digest import DIGEST_FROM, send_follow_up_digests

    app = bench_app(url)
    results = {}
    with app.app_context():
        timer = SqlTimer(db.engine)
        now = clock.now()
        before = due_counts(db, now)
        print(f"  before: {before}")
        history_before = db.session.scalar(select(func.count()).select_from(OwnershipChange))
        notes_before = db.session.scalar(select(func.count()).select_from(Notification))
        db.session.rollback()

        # The job's order: warn, then reclaim (reclaim.run_reclaim).
        with clock.at(now):
            timed("warn_due (first pass)", timer, reclaim.warn_due, results)
            moved = timed("reclaim_due (first pass)", timer, reclaim.reclaim_due, results)
            for n in range(1, args.idle_passes + 1):
                timed(f"run_reclaim, nothing due (pass {n})", timer, reclaim.run_reclaim, results)
        after = due_counts(db, now)
        history = db.session.scalar(select(func.count()).select_from(OwnershipChange)) - history_before
        notes = db.session.scalar(select(func.count()).select_from(Notification)) - notes_before
        db.session.rollback()
        print(f"  after: {after}; new history rows {history:,}, new notifications {notes:,}")
        checks = {
            "overdue_left": after["overdue"],
            "history_rows_equal_moved": history == moved,
            "moved_equals_overdue_before": moved == before["overdue"],
        }

        def recompute():
            with write_transaction():
                protection.recompute_all(settings.current())

        old = snapshot(db)
        with clock.at(now):
            timed("recompute_all (settings unchanged)", timer, recompute, results)
        new = snapshot(db)
        changed = sum(1 for key, value in new.items() if old.get(key) != value)
        print(f"  recompute_all changed {changed:,} of {len(new):,} owned customers' dates (expected 0)")
        checks["recompute_changed"] = changed

        # The digest goes out in the morning (teams' time zone: the seed's is Shanghai's).
        zone = ZoneInfo("Asia/Shanghai")
        with clock.at(datetime.combine(now.astimezone(zone).date(), DIGEST_FROM, tzinfo=zone)):
            timed("send_follow_up_digests (first pass)", timer, send_follow_up_digests, results)
            timed("send_follow_up_digests (again)", timer, send_follow_up_digests, results)

        # A stricter follow-up period: many customers overdue at once.
        admin = _common.user_by_email(_common.ADMIN_EMAIL)
        rules = settings.current()
        values = {name: getattr(rules, name) for name in SETTING_FIELDS}
        values["follow_up_days"] = args.tighten_to
        grades = {grade: dict(periods) for grade, periods in (rules.grade_periods or {}).items()}
        for periods in grades.values():
            periods["follow_up_days"] = min(periods.get("follow_up_days") or args.tighten_to, args.tighten_to)
        db.session.rollback()
        with clock.at(now):
            timed(
                f"update_settings (follow-up {args.tighten_to} days)",
                timer,
                lambda: update_settings(admin, values, grades) and None,
                results,
            )
            tightened = due_counts(db, now)
            print(f"  after the change: {tightened}")
            timed("warn_due (after the change)", timer, reclaim.warn_due, results)
            timed("reclaim_due (after the change)", timer, reclaim.reclaim_due, results)
        db.session.remove()
        db.engine.dispose()
    return before, after, tightened, checks, results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=_common.DEFAULT_SQLITE)
    parser.add_argument("--idle-passes", type=int, default=3)
    parser.add_argument("--tighten-to", type=int, default=10, help="follow-up days in the settings change")
    parser.add_argument("--tag", default="", help="suffix for the results file name")
    args = parser.parse_args(argv)
    url = normalise_url(args.database_url)
    print(f"Reclaim on {backend(url)} — {_common.machine()} — {datetime.now():%Y-%m-%d %H:%M}")
    print(f"load average before: {_common.load()}")
    started = time.perf_counter()
    copy, cleanup = copy_database(url, "reclaim")
    print(f"  copy of the seed: {time.perf_counter() - started:.1f} s")
    try:
        before, after, tightened, checks, results = run(copy, args)
    finally:
        cleanup()
    passed = results["reclaim_due (first pass)"]["wall_s"] <= TARGET_S
    print(f"checks: {checks}")
    print(f"one reclaim pass: {'met' if passed else 'MISSES'} the {TARGET_S:.0f} s target")
    print(f"load average after: {_common.load()}")
    out = _common.ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"reclaim-{backend(url)}{args.tag}.json"
    path.write_text(
        json.dumps(
            {
                "when": datetime.now().isoformat(timespec="seconds"),
                "machine": _common.machine(),
                "load": _common.load(),
                "before": before,
                "after": after,
                "after_settings_change": tightened,
                "checks": checks,
                "results": results,
            },
            ensure_ascii=False,
            indent=1,
            default=str,
        )
    )
    print(f"(written to {path.relative_to(_common.ROOT)})")


if __name__ == "__main__":
    main()
