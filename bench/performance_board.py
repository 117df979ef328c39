"""Targets and performance (issue 18): the board, its export and the targets table on
the 100,000-customer ledger, through the Flask test client.

    .venv/bin/python -m bench.performance_board --database-url sqlite:///bench/data/ledger.db
    .venv/bin/python -m bench.performance_board --database-url postgresql://postgres@127.0.0.1:5432/salesdesk_bench
    .venv/bin/python -m bench.performance_board --database-url URL --seed-only
    .venv/bin/python -m bench.performance_board --database-url URL --explain board-company-admin
    .venv/bin/python -m bench.performance_board --database-url URL --profile board-team-manager

The database must hold the ledger (bench/ledger_seed.py, 4 teams of 50 reps: a team
of 50 and a company of 200) at the migration head. The seeding step adds, each part
only when it is not there yet (idempotent; reseed the ledger with --reset to start
again):

- a stage history: the ledger seed writes one stage change per customer (its stage
  at creation); this replaces it by a path lead → contacted → qualified → quoted →
  negotiating → won/lost over weeks (stages skipped now and then, the cycle to a win
  log-normal around 45 days, some deals won, reopened and won again, some reopened
  after a win or a loss), each change crediting the owner of that moment (read from
  the ownership history) and acted by them or the team's manager. The customers'
  stage is the latest change's, won_at the latest change to won; 3 % of won
  customers were transferred to a teammate after the win (ownership_changes
  "transfer"), so the credit stays with the first owner;
- the support desk's requests (bench/support_desk.py's seeding: 50,000 requests over
  a year with their timelines and ratings, --support-requests);
- targets (Target rows) for every active rep and manager and every team, on all five
  measures, for the quarter, its three months and the previous quarter and its
  months, with their history (TargetChange rows, as the manager saved them at the
  start of each period, and some corrections).

The follow-ups (500,000 over the last year, 15 % visits), the claims, assignments,
releases and reclaims of the ownership history, the points (30,000 over a year) and
the knowledge base come from the ledger seed; the step prints how many of them fall
in the quarter. Statistics are refreshed afterwards (VACUUM ANALYZE; on SQLite a
sampled ANALYZE of the tables written).

Then each scenario runs --warmup times untimed and --runs times timed (default 30):
p50/p95/max wall time, CPU p50, SQL p50/p95, statements, response size. The targets
of the issue are printed next to the figures (team board p95 <= 150 ms, company
board p95 <= 300 ms, company export <= 2 s); a miss is reported, never an exit
status. --explain NAME prints each statement of one request with its time and plan;
--slow MS (default 50) prints the plans of the statements slower than that during
one request of every board scenario after the table. Results go to
bench/results/performance-<backend>.json.
"""

import argparse
import bisect
import json
import math
import random
import re
import time
import traceback
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

from . import _common
from ._common import ADMIN_EMAIL, MANAGER_EMAIL, REP_EMAIL, Stopwatch, backend, bench_app, normalise_url
from .ledger_list import SqlTimer, profile

BATCH = 5000
TEAM_TARGET_MS, COMPANY_TARGET_MS, EXPORT_TARGET_MS = 150, 300, 2000
OPEN_STAGES = ["lead", "contacted", "qualified", "quoted", "negotiating"]
WON, LOST = "won", "lost"
TRANSFERRED_AFTER_WIN = 0.03
SEED_NOTE = "bench: performance_board"

# ---- the stage history ---------------------------------------------------------------------


class StageHistory:
    """A customer's path through the stages, ending at its current stage, with the
    moments and the owner of each moment."""

    def __init__(self, rng, now, managers, reps):
        self.rng, self.now = rng, now
        self.managers, self.reps = managers, reps  # {team: manager id}, {team: [rep ids]}

    def climb(self, target):
        """Open stages from the one the customer was created at up to index `target`."""
        rng = self.rng
        first = min(rng.choices((0, 1, 2), weights=(75, 15, 10))[0], target)
        path = [OPEN_STAGES[first]]
        for index in range(first + 1, target + 1):
            if index == target or rng.random() >= 0.2:  # an intermediate stage skipped
                path.append(OPEN_STAGES[index])
        return path

    def path(self, stage, owned):
        """(stages in order, whether the last one's moment is drawn as a closing)."""
        rng = self.rng
        if stage == WON:
            path = [*self.climb(4), WON]
            if rng.random() < 0.04:  # won, reopened (a contract fell through), won again
                path += ["negotiating", WON]
            return path
        if stage == LOST:
            reached = rng.choices(range(5), weights=(30, 25, 20, 15, 10))[0]
            return [*self.climb(reached), LOST]
        target = OPEN_STAGES.index(stage)
        roll = rng.random()
        if owned and target >= 3 and roll < 0.03:  # won, then reopened: the win no longer counts
            return [*self.climb(4), WON, stage]
        if roll < 0.06:  # lost, then picked up again
            reached = rng.randrange(0, 5)
            return [*self.climb(reached), LOST, *self.climb(target)]
        return self.climb(target)

    def moments(self, count, start, end):
        """`count` moments from `start` (the creation) to `end` (the last change),
        increasing by at least a second."""
        rng = self.rng
        if count == 1:
            return [start]
        middle = sorted(start + (end - start) * rng.random() for _ in range(count - 2))
        moments = [start, *middle, end]
        for i in range(1, len(moments)):
            moments[i] = max(moments[i], moments[i - 1] + timedelta(seconds=1)).replace(microsecond=0)
        return moments

    def end_of(self, customer, stage, owners):
        """When the last change happened: a win after a log-normal cycle, the rest by
        the customer's last edit (a loss before its owner let it go)."""
        rng, now = self.rng, self.now
        created = customer.created_at
        latest = now - timedelta(hours=1)
        if stage == WON:
            cycle = timedelta(days=max(1.0, rng.lognormvariate(math.log(45), 0.8)))
            end = created + cycle
            if end > latest:
                end = created + (latest - created) * rng.random()
            return end
        end = max(customer.updated_at, created)
        if stage == LOST:
            left = [at for at, owner in owners if owner is None and at > created]
            if left:  # lost before it went back to the pool
                end = min(end, left[0] - timedelta(minutes=5))
        return max(min(end, latest), created)

    def rows(self, customer, owners):
        """The stage_changes rows of one customer. `owners`: [(at, owner id)] of its
        ownership history, oldest first."""
        rng = self.rng
        stages = self.path(customer.stage, bool(owners) and owners[-1][1] is not None)
        end = self.end_of(customer, customer.stage, owners)
        moments = self.moments(len(stages), customer.created_at, max(end, customer.created_at))
        moments_only = [at for at, _owner in owners]
        team = customer.team_id
        rows, previous, entered = [], None, None
        for stage, at in zip(stages, moments, strict=True):
            index = bisect.bisect_right(moments_only, at) - 1
            owner = owners[index][1] if index >= 0 else None
            if previous is None:
                actor = customer.created_by_id
            elif owner is not None and rng.random() < 0.85:
                actor = owner
            elif rng.random() < 0.5:
                actor = self.managers[team]
            else:
                actor = rng.choice(self.reps[team])
            rows.append(
                {
                    "customer_id": customer.id,
                    "from_stage": previous,
                    "to_stage": stage,
                    "actor_id": actor,
                    "owner_id": owner,
                    "at": at,
                    "entered_at": entered,
                }
            )
            previous, entered = stage, at
        return rows


def seed_stage_history(rng, now, out):
    """Replace the ledger seed's one stage change per customer by a path. Skipped when
    the history is there already (more changes than customers)."""
    from sqlalchemy import bindparam, func, select, update

    from salesdesk.auth.models import Role, User
    from salesdesk.extensions import db
    from salesdesk.ledger.models import Customer, OwnershipChange, StageChange

    session = db.session
    changes = session.scalar(select(func.count()).select_from(StageChange))
    customers_count = session.scalar(select(func.count()).select_from(Customer))
    if changes > customers_count * 1.5:
        out(f"stage history: {changes:,} changes for {customers_count:,} customers already: kept")
        return False
    managers, reps = {}, defaultdict(list)
    for user_id, team_id, role in session.execute(
        select(User.id, User.team_id, User.role).where(User.team_id.is_not(None)).order_by(User.id)
    ):
        if role == Role.MANAGER:
            managers[team_id] = user_id
        elif role == Role.REP:
            reps[team_id].append(user_id)
    owners = defaultdict(list)
    for customer_id, at, to_user in session.execute(
        select(OwnershipChange.customer_id, OwnershipChange.at, OwnershipChange.to_user_id).order_by(
            OwnershipChange.customer_id, OwnershipChange.at, OwnershipChange.id
        )
    ):
        owners[customer_id].append((at, to_user))
    customers = session.execute(
        select(
            Customer.id,
            Customer.stage,
            Customer.owner_id,
            Customer.team_id,
            Customer.created_at,
            Customer.created_by_id,
            Customer.updated_at,
        ).order_by(Customer.id)
    ).all()
    session.commit()  # end the read: the writes below go through their own connection

    history = StageHistory(rng, now, managers, reps)
    stage_rows, won_updates, transfers, owner_updates = [], [], [], []
    for customer in customers:
        rows = history.rows(customer, owners[customer.id])
        stage_rows += rows
        if customer.stage != WON:
            continue
        won_at = rows[-1]["at"]
        update_row = {
            "b_id": customer.id,
            "b_won_at": won_at,
            "b_updated_at": max(customer.updated_at, won_at),
        }
        teammates = [rep for rep in reps[customer.team_id] if rep != customer.owner_id]
        if customer.owner_id and won_at < now - timedelta(days=2) and rng.random() < TRANSFERRED_AFTER_WIN:
            at = (won_at + (now - won_at) * rng.random()).replace(microsecond=0)
            new_owner = rng.choice(teammates)
            transfers.append(
                {
                    "customer_id": customer.id,
                    "from_user_id": customer.owner_id,
                    "to_user_id": new_owner,
                    "reason": "transfer",
                    "actor_id": managers[customer.team_id],
                    "at": at,
                    "note": SEED_NOTE,
                }
            )
            owner_updates.append({"b_id": customer.id, "b_owner_id": new_owner, "b_owned_since": at})
            update_row["b_updated_at"] = max(update_row["b_updated_at"], at)
        won_updates.append(update_row)

    columns = Customer.__table__.c
    set_won = (
        update(Customer.__table__)
        .where(columns.id == bindparam("b_id"))
        .values(
            won_at=bindparam("b_won_at", type_=columns.won_at.type),
            updated_at=bindparam("b_updated_at", type_=columns.updated_at.type),
        )
    )
    set_owner = (
        update(Customer.__table__)
        .where(columns.id == bindparam("b_id"))
        .values(
            owner_id=bindparam("b_owner_id"),
            owned_since=bindparam("b_owned_since", type_=columns.owned_since.type),
        )
    )
    with db.engine.begin() as connection:
        connection.execute(StageChange.__table__.delete())
        for start in range(0, len(stage_rows), BATCH):
            connection.execute(StageChange.__table__.insert(), stage_rows[start : start + BATCH])
        for start in range(0, len(won_updates), BATCH):
            connection.execute(set_won, won_updates[start : start + BATCH])
        if transfers:
            connection.execute(OwnershipChange.__table__.insert(), transfers)
            connection.execute(set_owner, owner_updates)
    reopened = sum(1 for row in stage_rows if row["from_stage"] == WON)
    out(
        f"stage history: {len(stage_rows):,} changes for {len(customers):,} customers "
        f"({reopened:,} wins reopened), {len(won_updates):,} won_at set, "
        f"{len(transfers):,} won customers transferred after the win"
    )
    return True


# ---- targets ----------------------------------------------------------------------------------


def target_values(rng, months):
    """{measure: value} for one person and month (a quarter sums its months)."""
    scale = rng.uniform(0.7, 1.4)  # some reps are set higher than others
    return {
        "won_amount": Decimal(int(rng.uniform(150_000, 600_000) * scale * months / 1000) * 1000),
        "won_count": max(1, round(rng.uniform(2, 6) * scale * months)),
        "new_customers": max(1, round(rng.uniform(10, 30) * scale * months)),
        "follow_ups": max(1, round(rng.uniform(120, 260) * scale * months)),
        "visits": max(1, round(rng.uniform(15, 45) * scale * months)),
    }


def seed_targets(rng, period, out):
    """Targets of every active rep and manager, and every team, for the quarter, its
    months and the previous quarter and its months; their history. Skipped when the
    quarter has targets already."""
    from sqlalchemy import func, select

    from salesdesk.auth.models import Role, User
    from salesdesk.extensions import db
    from salesdesk.performance.models import Target, TargetChange

    session = db.session
    present = session.scalar(select(func.count()).select_from(Target).where(Target.period == period.key))
    if present:
        out(f"targets: {present:,} for {period.key} already: kept")
        return False
    people = session.execute(
        select(User.id, User.team_id)
        .where(User.active.is_(True), User.role.in_(sorted(Role.SELLERS)), User.team_id.is_not(None))
        .order_by(User.id)
    ).all()
    managers = dict(
        session.execute(
            select(User.team_id, User.id).where(User.role == Role.MANAGER, User.team_id.is_not(None))
        ).all()
    )
    admin = session.scalar(select(User.id).where(User.email == ADMIN_EMAIL))
    session.commit()
    targets, changes = [], []

    def add(key, team_id, user_id, values, set_at, actor):
        for measure, value in values.items():
            targets.append(
                {
                    "period": key,
                    "team_id": team_id,
                    "user_id": user_id,
                    "measure": measure,
                    "value": value,
                    "updated_at": set_at,
                    "updated_by_id": actor,
                }
            )
            changes.append(
                {
                    "period": key,
                    "team_id": team_id,
                    "user_id": user_id,
                    "measure": measure,
                    "old_value": None,
                    "new_value": value,
                    "reason": "",
                    "actor_id": actor,
                    "at": set_at,
                }
            )

    for quarter in (period.previous, period):
        # Saved by the manager a few days before the quarter starts, month by month.
        quarter_set = datetime.combine(quarter.start, datetime.min.time(), tzinfo=UTC) - timedelta(days=3)
        team_sums = defaultdict(lambda: defaultdict(Decimal))
        for user_id, team_id in people:
            months = [target_values(rng, 1) for _ in quarter.months]
            for month, values in zip(quarter.months, months, strict=True):
                set_at = quarter_set + timedelta(minutes=rng.randint(0, 600))
                add(month.key, team_id, user_id, values, set_at, managers[team_id])
            summed = {
                measure: sum((Decimal(values[measure]) for values in months), Decimal(0))
                for measure in months[0]
            }
            stretch = Decimal(str(round(rng.uniform(1.0, 1.1), 2)))
            own = {measure: (value * stretch).quantize(Decimal(1)) for measure, value in summed.items()}
            own = {
                measure: value if measure == "won_amount" else int(value) for measure, value in own.items()
            }
            add(quarter.key, team_id, user_id, own, quarter_set, managers[team_id])
            for measure, value in own.items():
                team_sums[team_id][measure] += Decimal(value)
        for team_id, sums in team_sums.items():
            values = {m: v if m == "won_amount" else int(v) for m, v in sums.items()}
            add(quarter.key, team_id, None, values, quarter_set, managers[team_id])
    # Corrections: an admin raised some of the previous quarter's after it closed.
    corrected_at = datetime.combine(period.start, datetime.min.time(), tzinfo=UTC) + timedelta(days=2)
    for row in rng.sample([t for t in targets if t["period"] == period.previous.key and t["user_id"]], 40):
        new = row["value"] * Decimal("1.1") if row["measure"] == "won_amount" else int(row["value"] * 1.1) + 1
        new = new.quantize(Decimal(1)) if row["measure"] == "won_amount" else new
        changes.append(
            {
                **{k: row[k] for k in ("period", "team_id", "user_id", "measure")},
                "old_value": row["value"],
                "new_value": new,
                "reason": "季度中调整了区域划分",
                "actor_id": admin,
                "at": corrected_at,
            }
        )
        row.update(value=new, updated_at=corrected_at, updated_by_id=admin)
    with db.engine.begin() as connection:
        for table, rows in ((Target.__table__, targets), (TargetChange.__table__, changes)):
            for start in range(0, len(rows), BATCH):
                connection.execute(table.insert(), rows[start : start + BATCH])
    out(
        f"targets: {len(targets):,} rows ({len(people)} people and {len(managers)} teams; "
        f"{period.previous.key}, {period.key} and their months), {len(changes):,} history rows"
    )
    return True


def seed_support(args, out):
    from sqlalchemy import func, select

    from salesdesk.extensions import db
    from salesdesk.support.models import Request

    from . import support_desk

    existing = db.session.scalar(select(func.count()).select_from(Request))
    db.session.commit()
    if existing:
        out(f"support requests: {existing:,} already: kept")
        return False
    support_desk.seed(
        None,
        SimpleNamespace(requests=args.support_requests, comments=args.support_requests * 4, reset=False),
        random.Random(args.seed + 1),
    )
    return True


def refresh_statistics():
    from salesdesk.extensions import db

    tables = ["customers", "stage_changes", "ownership_changes", "targets", "target_changes"]
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(f"VACUUM ANALYZE {', '.join(tables)}")
        return
    with db.engine.connect().execution_options(write_transaction=True) as connection:
        connection.exec_driver_sql("PRAGMA analysis_limit = 1000")  # sampled, as the app's job
        for table in tables:
            connection.exec_driver_sql(f"ANALYZE {table}")
        connection.commit()
    with db.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def describe(period, out):
    """How much of what the board counts falls in the quarter."""
    from sqlalchemy import func, select

    from salesdesk.extensions import db
    from salesdesk.ledger.models import FollowUp, OwnershipChange, StageChange
    from salesdesk.recognition.models import PointEntry
    from salesdesk.support.models import Request

    start, end = period.bounds("Asia/Shanghai")
    session = db.session

    def count(model, column, *where):
        return session.scalar(
            select(func.count()).select_from(model).where(column >= start, column < end, *where)
        )

    stages = dict(
        session.execute(
            select(StageChange.to_stage, func.count())
            .where(StageChange.at >= start, StageChange.at < end)
            .group_by(StageChange.to_stage)
        ).all()
    )
    reasons = dict(
        session.execute(
            select(OwnershipChange.reason, func.count())
            .where(OwnershipChange.at >= start, OwnershipChange.at < end)
            .group_by(OwnershipChange.reason)
        ).all()
    )
    out(
        f"in {period.key}: stage changes {stages}; ownership changes {reasons}; "
        f"follow-ups {count(FollowUp, FollowUp.occurred_at):,} "
        f"(visits {count(FollowUp, FollowUp.occurred_at, FollowUp.channel == 'visit'):,}); "
        f"point entries {count(PointEntry, PointEntry.counted_at):,}; "
        f"support requests {count(Request, Request.created_at):,}"
    )
    session.commit()


def seed(args, period):
    watch = Stopwatch()
    now = datetime.now(UTC).replace(microsecond=0)
    rng = random.Random(args.seed)
    wrote = seed_stage_history(rng, now, print)
    watch.lap("stage history")
    wrote |= seed_support(args, print)
    watch.lap("support requests")
    wrote |= seed_targets(rng, period, print)
    watch.lap("targets")
    if wrote:
        refresh_statistics()
        watch.lap("statistics")
    describe(period, print)
    print(f"  seeding total {watch.total():.1f} s", flush=True)


# ---- timing -----------------------------------------------------------------------------------


def scenarios(app, period, month, team_id, rep_id):
    """(name, viewer, url, target ms, is an export) for the routes the app has."""
    quarter = period.key
    board = f"/performance?period={quarter}&compare=previous"
    wanted = [
        ("board-team-manager", "manager", f"{board}&team={team_id}", TEAM_TARGET_MS, False, "performance"),
        ("board-team-admin", "admin", f"{board}&team={team_id}", TEAM_TARGET_MS, False, "performance"),
        ("board-company-admin", "admin", board, COMPANY_TARGET_MS, False, "performance"),
        (
            "export-company-admin",
            "admin",
            f"/performance/export.xlsx?period={quarter}&compare=previous",
            EXPORT_TARGET_MS,
            True,
            "performance/export.xlsx",
        ),
        (
            "export-team-manager",
            "manager",
            f"/performance/export.xlsx?period={quarter}&team={team_id}&compare=previous",
            None,
            True,
            "performance/export.xlsx",
        ),
        ("targets-month-manager", "manager", f"/targets?period={month.key}", None, False, "targets"),
        (
            "targets-month-admin",
            "admin",
            f"/targets?period={month.key}&team={team_id}",
            None,
            False,
            "targets",
        ),
        ("targets-quarter-manager", "manager", f"/targets?period={quarter}", None, False, "targets"),
        (
            "rep-detail-self",
            "rep",
            f"/performance/reps/{rep_id}?period={quarter}",
            None,
            False,
            "performance/reps",
        ),
        ("home-rep", "rep", "/", None, False, ""),
        ("home-manager", "manager", "/", None, False, ""),
    ]
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    present, missing = [], []
    for name, viewer, url, target, export, rule in wanted:
        if not rule or any(r.lstrip("/").startswith(rule) for r in rules):
            present.append((name, viewer, url, target, export))
        else:
            missing.append(name)
    return present, missing


class Failed(Exception):
    pass


def app_traceback(error):
    """The application's frames of an exception the app raised, and its message (an
    SQL error's statement cut short)."""
    frames = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if "/salesdesk/" in frame.filename and "site-packages" not in frame.filename
    ]
    lines = traceback.format_list(frames)
    message = f"{type(error).__name__}: {error}"
    return "".join(lines) + (message if len(message) < 1500 else message[:1500] + " …")


def fetch(client, url):
    response = client.get(url)
    if response.status_code != 200:
        body = response.get_data(as_text=True)
        title = re.search(r"<title>(.*?)</title>", body, re.S)
        error = re.search(r"<main[^>]*>(.*?)</main>", body, re.S)
        said = re.sub(r"<[^>]+>|\s+", " ", error.group(1)).strip()[:300] if error else body[:300]
        title = title.group(1).strip() if title else ""
        raise Failed(f"{url}: HTTP {response.status_code} ({title}): {said}")
    return response


def run_scenario(client, timer, url, warmup, runs):
    for _ in range(warmup):
        response = fetch(client, url)
    samples, cpu, sql_ms, counts = [], [], [], []
    for _ in range(runs):
        timer.reset()
        cpu_started = time.process_time()
        started = time.perf_counter()
        response = fetch(client, url)
        samples.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
        sql_ms.append(timer.seconds * 1000)
        counts.append(timer.count)
    result = _common.summary(samples)
    result["cpu_p50"] = _common.summary(cpu)["p50"]
    result["sql_p50"] = _common.summary(sql_ms)["p50"]
    result["sql_p95"] = _common.summary(sql_ms)["p95"]
    result["statements"] = max(counts)
    result["bytes"] = len(response.get_data())
    result["content_type"] = response.content_type
    return result


class StatementLog:
    """Each statement of a request with its own time (for --explain and --slow)."""

    def __init__(self, engine):
        from sqlalchemy import event

        self.capture, self.statements = False, []
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info.setdefault("bench_log_started", []).append(time.perf_counter())

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        started = conn.info["bench_log_started"].pop()
        if self.capture:
            self.statements.append((statement, parameters, (time.perf_counter() - started) * 1000))

    def record(self, client, url):
        self.statements = []
        self.capture = True
        try:
            fetch(client, url)
        finally:
            self.capture = False
        return self.statements


def full_time(db, statement, parameters):
    """A SELECT run again to its last row, in ms (best of 2). On SQLite a grouped query
    read in index order returns its first row early and does the rest while the rows
    are fetched, which the request's cursor-execute timing does not see."""
    if not statement.lstrip().upper().startswith(("SELECT", "WITH")):
        return 0.0
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        timings = []
        for _ in range(2):
            started = time.perf_counter()
            cursor.execute(statement, parameters)
            cursor.fetchall()
            timings.append((time.perf_counter() - started) * 1000)
        cursor.close()
        raw.rollback()
        return min(timings)
    finally:
        raw.close()


def heaviest(db, statements, threshold):
    """[(statement, parameters, ms in the request, ms to the last row)] of the
    statements over `threshold` either way, heaviest first; and the top five lines."""
    timed = [(st, params, ms, full_time(db, st, params)) for st, params, ms in statements]
    timed.sort(key=lambda item: -max(item[2], item[3]))
    top = [f"{ms:7.1f} {full:7.1f}  {' '.join(st.split())[:110]}" for st, _params, ms, full in timed[:5]]
    return [item for item in timed if max(item[2], item[3]) >= threshold], top


def print_plan(db, statement, parameters, milliseconds, full=None):
    print("-" * 100)
    print(f"{milliseconds:.1f} ms in the request" + (f", {full:.1f} ms to the last row" if full else ""))
    print(statement.strip())
    print("params:", parameters)
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        if db.engine.dialect.name == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
            for row in cursor.fetchall():
                print("   ", row)
        else:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            for (line,) in cursor.fetchall():
                print("   ", line)
        cursor.close()
        raw.rollback()
    finally:
        raw.close()


def app_fingerprint():
    """The performance package's code as timed (it is being written as this runs): a
    hash of its files and the time of the newest."""
    import hashlib

    files = sorted((_common.ROOT / "salesdesk" / "performance").glob("*.py"))
    digest = hashlib.sha1(b"".join(path.read_bytes() for path in files)).hexdigest()[:12]
    newest = datetime.fromtimestamp(max(path.stat().st_mtime for path in files))
    return f"salesdesk/performance sha1 {digest}, newest file {newest:%H:%M:%S}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=_common.DEFAULT_SQLITE)
    parser.add_argument("--period", help="the quarter (default: the current one, in Asia/Shanghai)")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--only", help="scenarios whose name contains one of these (comma-separated)")
    parser.add_argument("--seed", type=int, default=20261205)
    parser.add_argument("--support-requests", type=int, default=50_000)
    parser.add_argument("--seed-only", action="store_true", help="seed what is missing, then stop")
    parser.add_argument("--no-seed", action="store_true", help="time the database as it is")
    parser.add_argument("--explain", metavar="NAME", help="each statement of one request with its plan")
    parser.add_argument("--profile", metavar="NAME", help="a pyinstrument profile of --runs requests")
    parser.add_argument("--parts", metavar="NAME", help="each family, the funnel and the rendering, timed")
    parser.add_argument("--slow", type=float, default=50, help="plans of statements slower than this (ms)")
    parser.add_argument("--tag", default="", help="suffix for the results file name")
    parser.add_argument(
        "--whatif",
        metavar="SQL",
        action="append",
        help="run on a throw-away copy with this statement applied first (an index; repeatable); "
        "ANALYZE follows",
    )
    args = parser.parse_args(argv)
    url = normalise_url(args.database_url)
    if not args.whatif:
        return run(url, args)
    copy, cleanup = _common.copy_database(url, "perf_whatif")
    try:
        apply_whatif(copy, args.whatif)
        args.tag = args.tag or "-whatif"
        args.no_seed = True
        return run(copy, args)
    finally:
        cleanup()


def apply_whatif(url, statements):
    from sqlalchemy import create_engine

    engine = create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        # Statistics as the seed left them: sampled on SQLite (the app's job), full here.
        analyze = ["PRAGMA analysis_limit = 1000", "ANALYZE"] if backend(url) == "sqlite" else ["ANALYZE"]
        for statement in [*statements, *analyze]:
            started = time.perf_counter()
            connection.exec_driver_sql(statement)
            print(f"  what-if: {statement} ({time.perf_counter() - started:.1f} s)", flush=True)
    engine.dispose()


def time_parts(client, path, warmup, runs):
    """Where a board request's time goes, without a profiler (which inflates many small
    calls several times over): each call the board hands to database.concurrently (a
    figure family, the funnel, the targets), the standings and the rendering, timed
    around the real functions, the mean over `runs` requests. On PostgreSQL the calls
    run two at a time, so each one's time includes waiting for the other."""
    from functools import partial

    from salesdesk import database, web
    from salesdesk.performance import board

    times = defaultdict(list)
    timed = _common.call_timer(times)

    def name_of(call):
        return call.func.__name__ if isinstance(call, partial) else call.__name__

    originals = database.concurrently, web.render_template, board.attach_standings
    database.concurrently = lambda calls: originals[0]([timed(name_of(call), call) for call in calls])
    web.render_template = timed("rendering", originals[1])
    board.attach_standings = timed("attach_standings", originals[2])
    try:
        for _ in range(warmup):
            fetch(client, path)
        times.clear()
        for _ in range(runs):
            timed("the request", fetch)(client, path)
    finally:
        database.concurrently, web.render_template, board.attach_standings = originals
    print(f"ms a request, the mean over {runs} (a part called twice a request: both calls added)")
    for name, values in sorted(times.items(), key=lambda item: -sum(item[1])):
        print(f"  {name:<20} {sum(values) / runs:8.1f}")


def run(url, args):
    app = bench_app(url)
    from salesdesk import clock
    from salesdesk.extensions import db
    from salesdesk.performance import periods

    today = clock.today("Asia/Shanghai")
    period = periods.parse(args.period, today) if args.period else periods.current(periods.QUARTER, today)
    month = periods.current(periods.MONTH, today) if period.holds(today) else period.months[0]
    print(f"Performance board on {backend(url)} — {_common.machine()} — {datetime.now():%Y-%m-%d %H:%M}")
    print(app_fingerprint())
    print(f"load average before: {_common.load()}", flush=True)
    with app.app_context():
        if not args.no_seed:
            seed(args, period)
        if args.seed_only:
            return
        timer = SqlTimer(db.engine)
        log = StatementLog(db.engine)
        viewers = {
            "rep": _common.user_by_email(REP_EMAIL),
            "manager": _common.user_by_email(MANAGER_EMAIL),
            "admin": _common.user_by_email(ADMIN_EMAIL),
        }
        team_id, rep_id = viewers["manager"].team_id, viewers["rep"].id
        from sqlalchemy import func, select

        from salesdesk.auth.models import Role, User

        team_size = db.session.scalar(
            select(func.count()).where(User.team_id == team_id, User.role == Role.REP, User.active.is_(True))
        )
        company = db.session.scalar(select(func.count()).where(User.role == Role.REP, User.active.is_(True)))
        clients = {who: _common.logged_in_client(app, user) for who, user in viewers.items()}
        listed, missing = scenarios(app, period, month, team_id, rep_id)
        db.session.rollback()
    print(
        f"period {period.key} (month {month.key}); team {team_id}: {team_size} reps; company: {company} reps"
    )
    if missing:
        print(f"not in the app yet, not timed: {', '.join(missing)}")
    if args.only:
        listed = [s for s in listed if any(part in s[0] for part in args.only.split(","))]

    if args.explain or args.profile or args.parts:
        name = args.explain or args.profile or args.parts
        chosen = [s for s in listed if s[0] == name] or [s for s in listed if name in s[0]]
        if not chosen:
            raise SystemExit(f"no scenario matches {name}")
        label, viewer, path, _target, _export = chosen[0]
        for _ in range(max(args.warmup, 1)):
            fetch(clients[viewer], path)
        print(f"== {label} as {viewer}: {path}")
        if args.profile:
            profile(clients[viewer], path, False, args.runs)
            return
        if args.parts:
            time_parts(clients[viewer], path, args.warmup, args.runs)
            return
        statements = log.record(clients[viewer], path)  # outside our app context (see --slow)
        with app.app_context():
            print(f"{len(statements)} statements, {sum(s[2] for s in statements):.1f} ms")
            for statement, parameters, milliseconds in statements:
                print_plan(db, statement, parameters, milliseconds, full_time(db, statement, parameters))
        return

    header = f"{'scenario':<26} {'p50':>8} {'p95':>8} {'max':>8} {'cpu p50':>8} {'sql p50':>8} {'sql p95':>8}"
    header += f" {'stmts':>5} {'KB':>6}  target"
    print(header)
    print("-" * len(header))
    results, failures = {}, {}
    for label, viewer, path, target, _export in listed:
        try:
            result = run_scenario(clients[viewer], timer, path, args.warmup, args.runs)
        except Failed as failure:
            failures[label] = str(failure)
            print(f"{label:<26} FAILED: {str(failure).splitlines()[0]}", flush=True)
            continue
        except Exception as error:  # the app raised (the test client propagates it)
            failures[label] = app_traceback(error)
            print(f"{label:<26} FAILED: {type(error).__name__}: {str(error).splitlines()[0]}", flush=True)
            continue
        result.update(url=path, viewer=viewer, target_ms=target)
        results[label] = result
        verdict = ""
        if target:
            verdict = f"p95 <= {target} ms: " + ("met" if result["p95"] <= target else "MISSED")
        print(
            f"{label:<26} {result['p50']:8.1f} {result['p95']:8.1f} {result['max']:8.1f} "
            f"{result['cpu_p50']:8.1f} {result['sql_p50']:8.1f} {result['sql_p95']:8.1f} "
            f"{result['statements']:5d} {result['bytes'] / 1024:6.0f}  {verdict}",
            flush=True,
        )
    print(f"load average after: {_common.load()}")
    shown = {}
    for label, failure in failures.items():
        if failure in shown:
            print(f"\n== {label} failed as {shown[failure]}")
        else:
            shown[failure] = label
            print(f"\n== {label} failed:\n{failure}")

    slow = {}
    if args.slow:
        for label, viewer, path, _target, _export in listed:
            if label in failures or not label.startswith(("board", "export")):
                continue
            # The request outside any app context of ours: inside one, Flask would reuse
            # it, and with it the session and the user loaded by an earlier request.
            statements = log.record(clients[viewer], path)
            with app.app_context():
                over, top = heaviest(db, statements, args.slow)
                print(f"\n== {label}: the heaviest statements (ms in the request, ms to the last row)")
                print("\n".join(top))
                slow[label] = [{"statement": s[0], "ms": s[2], "to_last_row_ms": s[3]} for s in over]
                for statement, parameters, milliseconds, full in over:
                    print(f"\n== {label}: a statement over {args.slow:.0f} ms")
                    print_plan(db, statement, parameters, milliseconds, full)
        if not any(slow.values()):
            print(f"(no statement over {args.slow:.0f} ms in the board scenarios)")

    out = _common.ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = Path(out / f"performance-{backend(url)}{args.tag}.json")
    path.write_text(
        json.dumps(
            {
                "when": datetime.now().isoformat(timespec="seconds"),
                "machine": _common.machine(),
                "load": _common.load(),
                "period": period.key,
                "app": app_fingerprint(),
                "whatif": args.whatif or [],
                "results": results,
                "failures": failures,
                "slow_statements": slow,
            },
            ensure_ascii=False,
            indent=1,
        )
    )
    print(f"(written to {path.relative_to(_common.ROOT)})")


if __name__ == "__main__":
    main()
