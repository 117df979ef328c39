"""Support desk: seed 50,000 requests with 200,000 comments into a seeded benchmark
database, then time the queue and the metrics through the Flask test client.

    .venv/bin/python -m bench.support_desk --database-url sqlite:///bench/data/ledger.db --reset
    .venv/bin/python -m bench.support_desk --database-url postgresql://postgres@127.0.0.1:5432/salesdesk_bench

The database must hold the ledger (bench/ledger_seed.py) at the migration head. The
seeder adds a team request type per team, three more support users per team and a
support lead (supportlead<N>@bench.example), then writes the requests of the last 12
months with Core executemany: types, priorities, handlers, customers of the requester,
every state (old ones mostly closed, a few left open; recent ones in every state),
response and resolution times in working minutes with due times, attainment and
breaches computed by the desk's calendar, ratings on most closed ones, the events of
each timeline (filed, accepted, returned, resolved, confirmed or closed, breached:
about 210,000) and 200,000 comments (replies and notes) on answered requests. Ids
follow the filing order, as in a real desk. Deterministic for a --seed and a day. With support rows present it
seeds nothing unless --reset (which deletes the support rows first).

Each scenario runs --warmup times untimed and --runs times timed; p50 and p95 are
printed with the SQL time. Targets: the queue p95 ≤ 50 ms, a month of metrics p95
≤ 150 ms. The queue (support.index) is timed when the app has it."""

import argparse
import json
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from . import _common
from ._common import (
    ADMIN_EMAIL,
    MANAGER_EMAIL,
    REP_EMAIL,
    Stopwatch,
    backend,
    bench_app,
    normalise_url,
    summary,
)
from .ledger_list import SqlTimer

REQUESTS = 50_000
COMMENTS = 200_000
BATCH = 5000
PASSWORD = "bench-password-42"
SUPPORT_EMAIL = "support1@bench.example"
LEAD_EMAIL = "supportlead1@bench.example"
EXTRA_SUPPORT = 3  # support users added per team, besides support<N> and the lead
QUEUE_TARGET_MS, METRICS_TARGET_MS = 50, 150

TITLES = [
    "{customer}报价单需要审核",
    "帮忙准备{customer}的技术方案",
    "{customer}合同条款确认",
    "{customer}订单发货进度跟进",
    "{customer}售后问题协调",
    "需要{customer}的案例资料",
    "{customer}投标文件支持",
    "{customer}价格折扣审批",
]
DETAILS = [
    "客户背景：{customer}，今年预算已批，决策人是采购总监。\n需求细节：{need}\n截止时间：本周五前。",
    "客户背景：老客户续约。\n需求细节：{need}\n截止时间：下周一给客户答复。",
    "客户背景：竞争对手报价更低，客户在比价。\n需求细节：{need}\n截止时间：尽快。",
]
NEEDS = [
    "按附件清单报价，含三年维保。",
    "合同第七条付款方式需要法务确认。",
    "客户要求现场演示，需要一份演示方案。",
    "发货延迟，客户催问具体到货日期。",
    "设备安装后报错，需要技术支持远程排查。",
    "准备同行业三个成功案例和资质文件。",
]
REPLIES = [
    "已收到，正在处理。",
    "报价初稿已上传，请看一下价格是否合适。",
    "请补充客户的具体数量和交付地点。",
    "法务意见：第七条改为验收后30天付款。",
    "已和仓库确认，预计下周二发货。",
    "方案已更新，增加了实施计划。",
    "客户那边还需要一份英文版。",
]
NOTES = ["这个客户之前有过投诉，注意措辞。", "价格底线已和经理确认。", "需要产品线同事协助。"]
RESOLUTIONS = [
    "报价单已定稿并发给销售。",
    "合同审核完成，修改意见见附件。",
    "方案已交付。",
    "问题已解决，客户确认。",
]


# ---- people and types --------------------------------------------------------------------


def prepare_people(rng):
    """The support users (existing and added) per team, each team's lead and request
    type; returns ({team id: [support ids]}, [company-wide type rows], {team id: type})."""
    from sqlalchemy import select

    from salesdesk.auth import services as accounts
    from salesdesk.auth.models import Role, Team, User
    from salesdesk.extensions import db
    from salesdesk.support.models import RequestType

    from .ledger_seed import GIVEN, SURNAMES

    def ensure(email, team, lead=False):
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            name = rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, 2))
            user = accounts.create_user(
                email=email, display_name=name, role=Role.SUPPORT, password=PASSWORD, team=team
            )
        if user.support_lead != lead:
            user.support_lead = lead
            db.session.commit()
        return user.id

    support, team_types = {}, {}
    for number, team in enumerate(db.session.scalars(select(Team).order_by(Team.id)), start=1):
        ids = [ensure(f"support{number}@bench.example", team)]
        ids += [ensure(f"support{number}-{k}@bench.example", team) for k in range(1, EXTRA_SUPPORT + 1)]
        ids.append(ensure(f"supportlead{number}@bench.example", team, lead=True))
        support[team.id] = ids
        name = f"{team.name}报价支持"
        request_type = db.session.scalar(select(RequestType).where(RequestType.name == name))
        if request_type is None:
            request_type = RequestType(
                name=name, prompts="客户背景：\n需求细节：\n截止时间：", team_id=team.id
            )
            db.session.add(request_type)
            db.session.commit()
        team_types[team.id] = request_type
    company_types = db.session.scalars(select(RequestType).where(RequestType.team_id.is_(None))).all()
    return support, company_types, team_types


# ---- requests and their timelines ------------------------------------------------------------


class Generator:
    def __init__(self, rng, now, calendar, support, company_types, team_types, reps, customers):
        self.rng, self.now, self.calendar = rng, now, calendar
        self.support, self.company_types, self.team_types = support, company_types, team_types
        self.everyone = [user for ids in support.values() for user in ids]
        self.reps, self.customers = reps, customers  # [(rep id, team id)], {rep id: [customer ids]}
        self.events = []

    def add(self, minutes, start):
        from salesdesk.support.calendar import add_working_minutes

        return add_working_minutes(self.calendar, start, max(int(minutes), 0))

    def filed_at(self):
        """Mostly on working days in working hours, a few in the evening or at weekends."""
        rng = self.rng
        while True:
            day = (self.now - timedelta(days=rng.random() * 365)).date()
            if day.weekday() < 5 or rng.random() < 0.08:
                break
        hour = rng.uniform(9, 18) if rng.random() < 0.9 else rng.uniform(18, 23)
        local = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(hours=hour - 8)
        return min(local, self.now - timedelta(minutes=1)).replace(microsecond=0)

    def status_for(self, created):
        age = self.now - created
        rng = self.rng
        if age < timedelta(days=3):
            table = {"new": 40, "in_progress": 35, "returned": 10, "resolved": 10, "closed": 5}
        elif age < timedelta(days=14):
            table = {"new": 4, "in_progress": 15, "returned": 6, "resolved": 15, "closed": 55, "cancelled": 5}
        else:
            table = {"new": 0.4, "in_progress": 1.2, "returned": 0.6, "closed": 92.8, "cancelled": 5}
        return rng.choices(list(table), weights=list(table.values()))[0]

    def event(self, request_id, kind, at, actor=None, body="", detail=""):
        self.events.append(
            {
                "request_id": request_id,
                "actor_id": actor,
                "kind": kind,
                "body": body,
                "detail": detail,
                "created_at": at,
            }
        )

    def request(self, request_id, created):
        rng, now = self.rng, self.now
        requester, team_id = rng.choice(self.reps)
        own = self.customers.get(requester)
        customer_id = rng.choice(own) if own and rng.random() < 0.7 else None
        kind = self.team_types[team_id] if rng.random() < 0.6 else rng.choice(self.company_types)
        queue = kind.team_id
        handlers = self.support[queue] if queue else self.everyone
        urgent = rng.random() < 0.15
        response_level, resolve_level = kind.levels("urgent" if urgent else "normal")
        status = self.status_for(created)
        name = f"客户{customer_id}" if customer_id else "新客户"
        row = {
            "id": request_id,
            "requester_id": requester,
            "customer_id": customer_id,
            "type_id": kind.id,
            "team_id": queue,
            "handler_id": rng.choice(handlers) if status != "new" or rng.random() < 0.7 else None,
            "title": rng.choice(TITLES).format(customer=name)[:120],
            "details": rng.choice(DETAILS).format(customer=name, need=rng.choice(NEEDS)),
            "needed_by": (created + timedelta(days=rng.randint(1, 10))).date(),
            "priority": "urgent" if urgent else "normal",
            "status": status,
            "version": 1,
            "created_at": created,
            "updated_at": created,
            "accepted_at": None,
            "resolved_at": None,
            "closed_at": None,
            "clock_started_at": None,
            "elapsed_minutes": 0,
            "response_due_at": self.add(response_level, created),
            "response_warn_at": self.add(response_level - 60, created),
            "resolution_due_at": None,
            "resolution_warn_at": None,
            "response_minutes": None,
            "resolution_minutes": None,
            "response_met": None,
            "resolution_met": None,
            "response_warned": False,
            "resolution_warned": False,
            "response_breached_at": None,
            "resolution_breached_at": None,
            "auto_close_at": None,
            "next_due_at": None,
            "rating": None,
            "rating_comment": "",
            "kb_article_id": None,
        }
        self.event(request_id, "filed", created, requester)
        if status == "cancelled":
            row["closed_at"] = min(now, created + timedelta(hours=rng.uniform(0.5, 30)))
            self.event(request_id, "cancelled", row["closed_at"], requester)
            return self.finish(row)
        # The first response: a log-normal time, a few far over the level.
        scale = 30 if urgent else 90
        response = min(int(rng.lognormvariate(0, 0.9) * scale), 4000)
        accepted = self.add(response, created)
        if status == "new" or accepted > now:
            row["status"] = "new"
            return self.finish(row)
        row.update(
            accepted_at=accepted, response_minutes=response, response_met=accepted <= row["response_due_at"]
        )
        row["handler_id"] = row["handler_id"] or rng.choice(handlers)
        handler = row["handler_id"]
        if not row["response_met"]:
            row["response_breached_at"] = row["response_due_at"]
            self.event(request_id, "breached", row["response_due_at"], None, detail="response")
        self.event(request_id, "accepted", accepted, handler)
        resolution = min(int(rng.lognormvariate(0, 0.8) * (150 if urgent else 600)), 9000)
        paused = rng.randint(60, 900) if rng.random() < 0.15 else 0
        resolved = self.add(resolution + paused, created)
        if status in ("in_progress", "returned") or resolved > now:
            row["status"] = "returned" if status == "returned" else "in_progress"
            return self.finish(row)
        row.update(
            resolved_at=resolved,
            resolution_minutes=resolution,
            resolution_met=resolution <= resolve_level,
        )
        if paused:
            self.event(
                request_id, "returned", self.add(resolution // 2, accepted), handler, body=rng.choice(REPLIES)
            )
            self.event(
                request_id, "reply", self.add(resolution // 2 + paused, accepted), requester, body="已补充。"
            )
        if not row["resolution_met"]:
            row["resolution_breached_at"] = self.add(resolve_level, created)
            self.event(request_id, "breached", row["resolution_breached_at"], None, detail="resolution")
        self.event(request_id, "resolved", resolved, handler, body=rng.choice(RESOLUTIONS))
        row["auto_close_at"] = self.add(3 * self.calendar.minutes_per_day, resolved)
        if status == "resolved":
            return row
        rated = rng.random() < 0.75
        closed = (
            self.add(rng.randint(10, 3 * self.calendar.minutes_per_day), resolved)
            if rated
            else row["auto_close_at"]
        )
        if closed > now:
            row["status"] = "resolved"
            return row
        row.update(status="closed", closed_at=closed, auto_close_at=None)
        if rated:
            row["rating"] = rng.choices((1, 2, 3, 4, 5), weights=(3, 5, 12, 35, 45))[0]
            self.event(request_id, "confirmed", closed, requester, detail=str(row["rating"]))
        else:
            self.event(request_id, "closed", closed)
        return row

    def reply(self, row, at):
        internal = self.rng.random() < 0.2
        author = row["handler_id"] if internal or self.rng.random() < 0.6 else row["requester_id"]
        body = self.rng.choice(NOTES if internal else REPLIES)
        self.event(row["id"], "note" if internal else "reply", at, author, body=body)

    def finish(self, row):
        """An open request's clock: running (new, in progress) or paused (returned)."""
        if row["status"] in ("new", "in_progress"):
            row["clock_started_at"] = row["accepted_at"] or row["created_at"]
            level = next(
                t for t in [*self.company_types, *self.team_types.values()] if t.id == row["type_id"]
            )
            _response, resolve_level = level.levels(row["priority"])
            row["resolution_due_at"] = self.add(resolve_level, row["created_at"])
            row["resolution_warn_at"] = self.add(resolve_level - 60, row["created_at"])
            pending = [row["resolution_due_at"]] + (
                [row["response_due_at"]] if row["accepted_at"] is None else []
            )
            row["next_due_at"] = min(pending)
            if row["status"] == "new" and row["response_due_at"] <= self.now:
                row["response_breached_at"] = row["response_due_at"]
        elif row["status"] == "returned":
            row["elapsed_minutes"] = self.rng.randint(30, 600)
        return row


def add_comments(gen, requests, count):
    """Replies and notes on requests already answered, between the answer and the
    resolution (or now)."""
    answered = [row for row in requests if row["accepted_at"] is not None]
    for _ in range(count):
        row = gen.rng.choice(answered)
        end = max(row["resolved_at"] or gen.now, row["accepted_at"])
        gen.reply(row, row["accepted_at"] + (end - row["accepted_at"]) * gen.rng.random())


def seed(app, args, rng):
    from sqlalchemy import func, select, text

    from salesdesk import clock
    from salesdesk.auth.models import User
    from salesdesk.extensions import db
    from salesdesk.jobs import optimize_sqlite
    from salesdesk.ledger.models import Customer
    from salesdesk.support import levels
    from salesdesk.support.models import Attachment, Event, Request

    watch = Stopwatch()
    existing = db.session.scalar(select(func.count()).select_from(Request))
    if existing and not args.reset:
        print(f"  {existing:,} requests already there: not seeding (--reset seeds again)")
        return
    if existing:
        for model in (Attachment, Event, Request):
            db.session.execute(model.__table__.delete())
        db.session.commit()
        watch.lap("delete the support rows")
    support, company_types, team_types = prepare_people(rng)
    reps = db.session.execute(
        select(User.id, User.team_id)
        .where(User.role.in_(("rep", "manager")), User.team_id.is_not(None))
        .order_by(User.id)
    ).all()
    customers = {}
    for customer_id, owner_id in db.session.execute(
        select(Customer.id, Customer.owner_id).where(Customer.owner_id.is_not(None)).order_by(Customer.id)
    ):
        customers.setdefault(owner_id, []).append(customer_id)
    db.session.commit()  # end the session's read: its snapshot would not see the rows below
    watch.lap("people, types, customers")
    # Every bench team has the default zone; one calendar times them all.
    gen = Generator(
        rng, clock.now(), levels.calendar_for(None), support, company_types, team_types, reps, customers
    )
    filed = sorted(gen.filed_at() for _ in range(args.requests))
    requests = [gen.request(number, created) for number, created in enumerate(filed, start=1)]
    add_comments(gen, requests, args.comments)
    gen.events.sort(key=lambda event: (event["created_at"], event["request_id"]))
    for number, event in enumerate(gen.events, start=1):
        event["id"] = number
    watch.lap(f"generate {len(requests):,} requests, {len(gen.events):,} events")
    with db.engine.begin() as connection:
        for table, rows in ((Request.__table__, requests), (Event.__table__, gen.events)):
            for start in range(0, len(rows), BATCH):
                connection.execute(table.insert(), rows[start : start + BATCH])
        if connection.dialect.name == "postgresql":
            for table in ("support_requests", "support_events"):
                connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
    watch.lap("insert")
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE support_requests, support_events")
    else:
        optimize_sqlite()
    watch.lap("analyze")
    db.session.commit()  # a new snapshot, with the rows
    statuses = db.session.execute(select(Request.status, func.count()).group_by(Request.status)).all()
    print(f"  statuses: {dict(statuses)}; seeded in {watch.total():.0f} s", flush=True)


# ---- timing ---------------------------------------------------------------------------------


def scenarios(app):
    from salesdesk import clock

    month = clock.today("Asia/Shanghai").replace(day=1)
    last_month = (month - timedelta(days=1)).replace(day=1).isoformat()
    listed = []
    if "support.index" in app.view_functions:
        for who in ("support", "lead", "rep", "manager", "admin"):
            listed.append((f"queue-{who}", who, "/support", QUEUE_TARGET_MS))
    else:
        print("(support.index is not in this app yet: the queue is not timed)")
    listed += [
        ("metrics-month-lead", "lead", "/support/metrics", METRICS_TARGET_MS),
        ("metrics-month-manager", "manager", "/support/metrics", METRICS_TARGET_MS),
        ("metrics-month-admin", "admin", "/support/metrics", METRICS_TARGET_MS),
        ("metrics-last-month-admin", "admin", f"/support/metrics?on={last_month}", METRICS_TARGET_MS),
        ("metrics-last-month-lead", "lead", f"/support/metrics?on={last_month}", METRICS_TARGET_MS),
        ("metrics-week-admin", "admin", "/support/metrics?period=week", None),
        ("metrics-xlsx-admin", "admin", f"/support/metrics.xlsx?on={last_month}", METRICS_TARGET_MS),
    ]
    return listed


def run(client, timer, url, warmup, runs):
    for _ in range(warmup):
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url}: HTTP {response.status_code}")
    samples, sql_ms, statements = [], [], 0
    for _ in range(runs):
        timer.reset()
        started = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
        sql_ms.append(timer.seconds * 1000)
        statements = max(statements, timer.count)
    result = summary(samples)
    result["sql_p50"] = sorted(sql_ms)[len(sql_ms) // 2]
    result["statements"] = statements
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=_common.DEFAULT_SQLITE)
    parser.add_argument("--requests", type=int, default=REQUESTS)
    parser.add_argument("--comments", type=int, default=COMMENTS)
    parser.add_argument("--seed", type=int, default=20261205)
    parser.add_argument("--reset", action="store_true", help="delete the support rows and seed again")
    parser.add_argument("--seed-only", action="store_true")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--only", help="scenarios whose name contains one of these (comma-separated)")
    args = parser.parse_args(argv)
    url = normalise_url(args.database_url)
    app = bench_app(url)
    from salesdesk.extensions import db

    print(
        f"Support desk on {backend(url)} — {_common.machine()} — {datetime.now():%Y-%m-%d %H:%M}", flush=True
    )
    with app.app_context():
        seed(app, args, random.Random(args.seed))
        if args.seed_only:
            return
        timer = SqlTimer(db.engine)
        emails = {
            "support": SUPPORT_EMAIL,
            "lead": LEAD_EMAIL,
            "rep": REP_EMAIL,
            "manager": MANAGER_EMAIL,
            "admin": ADMIN_EMAIL,
        }
        clients = {
            who: _common.logged_in_client(app, _common.user_by_email(email)) for who, email in emails.items()
        }
        listed = scenarios(app)
        db.session.rollback()
    print(f"load average before: {_common.load()}")
    header = f"{'scenario':<28} {'p50':>7} {'p95':>7} {'max':>7} {'sql p50':>8} {'stmts':>5}"
    print(header)
    print("-" * len(header))
    results = {}
    for name, who, path, target in listed:
        if args.only and not any(part in name for part in args.only.split(",")):
            continue
        result = run(clients[who], timer, path, args.warmup, args.runs)
        result["url"], result["target_ms"] = path, target
        results[name] = result
        flag = f"  MISSES {target} ms" if target and result["p95"] > target else ""
        print(
            f"{name:<28} {result['p50']:7.1f} {result['p95']:7.1f} {result['max']:7.1f} "
            f"{result['sql_p50']:8.1f} {result['statements']:5d}{flag}",
            flush=True,
        )
    print(f"load average after: {_common.load()}")
    out = Path(_common.ROOT / "bench" / "results")
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"support-{backend(url)}.json"
    path.write_text(
        json.dumps(
            {
                "when": datetime.now().isoformat(timespec="seconds"),
                "machine": _common.machine(),
                "results": results,
            },
            indent=1,
        )
    )
    print(f"(written to {path.relative_to(_common.ROOT)})")


if __name__ == "__main__":
    main()
