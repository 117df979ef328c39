"""Load test (issue 8): the app under gunicorn, driven by simulated users over HTTP.

    .venv/bin/python -m bench.load --database-url sqlite:///bench/data/ledger.db
    .venv/bin/python -m bench.load --database-url postgresql://postgres@127.0.0.1:5432/salesdesk_load
    .venv/bin/python -m bench.load --database-url URL --users 50,100,200 --duration 60   # a ramp

The database named is a seeded ledger (bench/ledger_seed.py). The first run prepares it
once (see `prepare`); every run then works on a fresh copy of it (a file copy, or
CREATE DATABASE … TEMPLATE), so runs start from the same state and the seeded database
stays untouched. For each user count: gunicorn with 4 sync workers on the copy, every
simulated user logs in through the real form (CSRF token from the page), then for
`--duration` seconds browses, searches, opens customers, logs follow-ups, claims from
the pool, reads the knowledge base, the leaderboard, the workbench and the bell, with
about a second of thinking between steps (see `Session`). Afterwards: requests per
second, p50/p95/p99 per endpoint, errors, 409s from claim races, "database is locked"
and tracebacks in gunicorn's log, and each worker's VmRSS/VmHWM from /proc.
"""

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

import httpx

from . import _common
from ._common import DATA, ROOT, backend, bench_app, normalise_url, percentile

RESULTS = ROOT / "bench" / "results"
PASSWORD = "bench-password-42"  # bench/ledger_seed.py
KB_ARTICLES = 300
# The seeded reps hold ~1,400 customers each, far above the default limits (200 active,
# 20 claims a day): every claim would be refused for the limit, never for a race.
CLAIM_LIMITS = {"max_active_per_rep": 100_000, "claims_per_day": 10_000}
CUSTOMER_LINK = re.compile(r'href="/customers/(\d+)"')
CLAIM_FORM = re.compile(r'action="/customers/(\d+)/claim"')
# Answers that are the app working as designed, counted apart from errors: 409 when two
# users claimed the same pool customer; 422 when a new name is similar to an existing
# one (the user ticks "this is a different one" and submits again), 409 if it is taken.
EXPECTED = {"claim": (409,), "new customer (POST)": (409, 422)}
BRANDS = (
    "腾飞华瑞恒通达信鑫盛宏远泰安康和美佳锐博创智联云天海金银星光明辉德正诚嘉隆昌祥福源丰裕富宇航鹏程卓越汇聚"
)
# What the new-customer page posts (NewCustomerForm), text fields sent even when empty.
NEW_CUSTOMER_FIELDS = (
    *("kind", "name", "credit_code", "industry", "province", "city", "source", "grade", "stage"),
    *("expected_amount", "tags", "next_follow_up_on", "notes", "owner_id", "contact_name"),
    *("contact_title", "contact_phone", "contact_phone2", "contact_email", "contact_wechat"),
)
CSRF_META = re.compile(r'name="csrf-token" content="([^"]+)"')
COMMON_WORDS = ["科技", "贸易", "电子", "实业", "软件"]
KB_QUERIES = [
    "报价",
    "合同",
    "回款",
    "折扣",
    "发票",
    "审批",
    "报价单",
    "售后服务",
    "合同审批",
    "客户 拜访",
    "crm",
    "K3 门店",
]


# ---- the database: prepare once, copy per run ---------------------------------------------


def seed(url, customers):
    """bench/ledger_seed.py --reset, with its PostgreSQL search indexes read from the
    migrated database: on this branch the seeder still drops `ix_customers_search`,
    which the stored search_vector migration replaced."""
    from . import ledger_seed

    def current_search_indexes():
        from sqlalchemy import text

        from salesdesk.extensions import db

        with db.engine.connect() as connection:
            return list(
                connection.execute(
                    text(
                        "SELECT indexdef FROM pg_indexes"
                        " WHERE tablename IN ('customers', 'contacts') AND indexname LIKE '%search%'"
                    )
                ).scalars()
            )

    if backend(url) == "postgresql":
        ledger_seed.search_index_statements = current_search_indexes
    ledger_seed.main(["--database-url", url, "--customers", str(customers), "--reset"])


def prepare(url):
    """Make the seeded database look like a company in use, once: KB articles, points for
    the leaderboard, claim limits the seeded reps are not already far over, and the
    periodic jobs (reclaim, reminders, month close) run once, so that a run measures the
    steady state rather than the first reclaim of 100,000 customers."""
    from sqlalchemy import func, select

    from salesdesk import jobs
    from salesdesk.auth.models import Role, User
    from salesdesk.extensions import db
    from salesdesk.kb.articles import create_article
    from salesdesk.kb.categories import create_category
    from salesdesk.kb.models import Article
    from salesdesk.recognition import giving as recognition
    from salesdesk.settings import RuleSettings

    from .kb_search import article

    app = bench_app(url)
    with app.app_context():
        if db.session.scalar(select(func.count()).select_from(Article)):
            db.session.remove()
            db.engine.dispose()  # no connection left: the database is copied as a template
            return
        print(f"Preparing {url} (once)", flush=True)
        started = time.perf_counter()
        rules = db.session.get(RuleSettings, 1) or RuleSettings(id=1, grade_periods={})
        for name, value in CLAIM_LIMITS.items():
            setattr(rules, name, value)
        db.session.add(rules)
        db.session.commit()

        users = db.session.scalars(select(User).order_by(User.id)).all()
        editors = [user for user in users if user.role == Role.SUPPORT]
        categories = [
            create_category(name=name, actor=editors[0]).id
            for name in ("产品", "销售技巧", "售后", "流程制度")
        ]
        rng = random.Random(8)
        for n in range(KB_ARTICLES):
            title, body = article(rng, n)
            create_article(
                author=editors[n % len(editors)],
                title=title,
                body=body,
                category_id=categories[n % len(categories)],
                tags=rng.choice(["报价", "合同", "售后", "入门"]),
                publish=n % 10 != 0,
            )
        print(f"  {KB_ARTICLES} KB articles: {time.perf_counter() - started:.1f} s", flush=True)

        reps = [user for user in users if user.role == Role.REP]
        for manager in (user for user in users if user.role == Role.MANAGER):
            team_reps = [rep for rep in reps if rep.team_id == manager.team_id]
            for rep in rng.sample(team_reps, 8):
                recognition.award_points(
                    manager,
                    recipient_id=rep.id,
                    points=rng.randint(5, 20),
                    category="deal",
                    reason="季度冲刺",
                )
        for rep in reps:
            colleague = rng.choice([other for other in reps if other.id != rep.id])
            recognition.thank(
                rep, recipient_id=colleague.id, points=2, category="other", reason="帮忙准备报价"
            )
        for name in jobs.JOBS:
            job_started = time.perf_counter()
            jobs.run_if_leased(name)
            print(f"  periodic job {name}: {time.perf_counter() - job_started:.1f} s", flush=True)
        db.session.remove()
        db.engine.dispose()
        print(f"  prepared in {time.perf_counter() - started:.1f} s", flush=True)


def copy_database(url, suffix):
    """A throw-away copy of the prepared database for one run."""
    from sqlalchemy import create_engine, make_url

    if backend(url) == "sqlite":
        source = Path(make_url(url).database)
        with sqlite3.connect(source) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        target = source.with_name(f"{source.stem}-{suffix}.db")
        for extension in ("", "-wal", "-shm"):
            Path(f"{target}{extension}").unlink(missing_ok=True)
        shutil.copyfile(source, target)
        return f"sqlite:///{target}"
    base = make_url(normalise_url(url).replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"{base.database}_{suffix}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{base.database}"')
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False).replace("+psycopg", "", 1)


def drop_copy(url):
    from sqlalchemy import create_engine, make_url

    if backend(url) == "sqlite":
        path = make_url(url).database
        for extension in ("", "-wal", "-shm"):
            Path(f"{path}{extension}").unlink(missing_ok=True)
        return
    target = make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
    admin.dispose()


def harvest(url, rng):
    """What the simulated users need to know: their accounts, and realistic search terms
    (names and phone numbers taken from the data, phones of the user's own customers)."""
    from pypinyin import Style, lazy_pinyin
    from sqlalchemy import select

    from salesdesk.auth.models import Role, User
    from salesdesk.extensions import db
    from salesdesk.kb.models import Article
    from salesdesk.ledger.models import Contact, ContactPhone, Customer

    app = bench_app(url)
    with app.app_context():
        accounts = [
            {"id": user.id, "email": user.email, "role": str(user.role), "team": user.team_id}
            for user in db.session.scalars(select(User).where(User.role != Role.ADMIN).order_by(User.id))
        ]
        keys = db.session.scalars(
            select(Customer.name_key).where(Customer.deleted_at.is_(None)).order_by(Customer.id).limit(20_000)
        ).all()
        keys = [key for key in rng.sample(keys, 400) if len(key) >= 4]
        names = [key[:2] for key in keys[:150]] + [key[:4] for key in keys[150:300]] + keys[300:]
        initials = ["".join(lazy_pinyin(key[:4], style=Style.FIRST_LETTER)) for key in keys[:200]]
        phones = defaultdict(list)
        rows = db.session.execute(
            select(Customer.owner_id, ContactPhone.key)
            .join(Contact, Contact.customer_id == Customer.id)
            .join(ContactPhone, ContactPhone.contact_id == Contact.id)
            .where(Customer.owner_id.is_not(None), Customer.deleted_at.is_(None))
            .order_by(ContactPhone.id)
            .limit(60_000)
        ).all()
        for owner_id, key in rows:
            phones[owner_id].append(key)
        any_phones = [key for _owner, key in rng.sample(rows, 300)]
        articles = db.session.scalars(select(Article.id).where(Article.status == "published")).all()
        db.session.remove()
        db.engine.dispose()
    return {
        "accounts": accounts,
        "names": names,
        "initials": initials,
        "phones": {owner: keys[:50] for owner, keys in phones.items()},
        "any_phones": any_phones,
        "articles": articles,
    }


# ---- gunicorn ------------------------------------------------------------------------------


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# Our own --config: a gunicorn.conf.py in the repository (if one appears) is not read,
# settings come from the command line. Its hooks only measure: the CPU time (of the
# request's thread) and wall time each request spends inside a worker, by endpoint.
GUNICORN_CONFIG = """\
import os
import time

_log = os.environ["BENCH_REQUEST_LOG"]


def pre_request(worker, req):
    req.bench_started = (time.thread_time(), time.perf_counter())


def when_ready(server):
    # --share-dictionaries (with --preload): the master loads them before forking.
    if os.environ.get("BENCH_SHARE_DICTIONARIES"):
        from salesdesk import load_shared_dictionaries

        load_shared_dictionaries()


def post_request(worker, req, environ, resp):
    cpu, wall = req.bench_started
    cpu, wall = (time.thread_time() - cpu) * 1000, (time.perf_counter() - wall) * 1000
    name = next((value for key, value in req.headers if key == "X-BENCH"), "-|0")
    fd = os.open(_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(fd, f"{name}|{cpu:.2f}|{wall:.2f}\\n".encode())
    os.close(fd)
"""


def start_and_wait(command, env, log_path, ready_url, seconds):
    """Start gunicorn with its output in `log_path`; return once `ready_url` answers."""
    log = open(log_path, "w")  # noqa: SIM115 - closed in stop_gunicorn
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    process.log = log
    deadline = time.monotonic() + seconds
    while True:
        try:
            httpx.get(ready_url, timeout=5)
            return process
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"gunicorn did not start, see {log_path}") from None
            time.sleep(0.2)


def start_gunicorn(url, workers, log_path, request_log, preload, share_dictionaries=False):
    port = free_port()
    instance = DATA / "instance-load"
    instance.mkdir(parents=True, exist_ok=True)
    config = DATA / "gunicorn-load.conf.py"
    config.write_text(GUNICORN_CONFIG)
    Path(request_log).unlink(missing_ok=True)
    env = {
        **os.environ,
        "SALESDESK_DATABASE_URL": normalise_url(url),
        "SALESDESK_INSTANCE_PATH": str(instance),
        "BENCH_REQUEST_LOG": str(request_log),
        "BENCH_SHARE_DICTIONARIES": "1" if share_dictionaries else "",
    }
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "--config",
        str(config),
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--timeout",
        "60",
        "--log-level",
        "info",
        *(["--preload"] if preload else []),
        "app:app",
    ]
    process = start_and_wait(command, env, log_path, f"http://127.0.0.1:{port}/login", seconds=60)
    base_url = f"http://127.0.0.1:{port}"
    # Every worker answers once (imports, first connection) before the users arrive.
    for _ in range(workers * 3):
        httpx.get(base_url + "/login", timeout=30)
    process.command = command
    return process, base_url


def worker_pids(master):
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def proc_memory(pid):
    """MB: VmRSS and VmHWM (peak) from status; Pss (shared pages split between the
    processes sharing them) and Private (this process's own pages) from smaps_rollup.
    With --preload, RSS counts the pages shared with the master in every worker."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _sep, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    rollup = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, _sep, rest = line.partition(":")
        rollup[key] = int(rest.split()[0]) / 1024
    values["Pss"] = rollup.get("Pss", 0)
    values["Private"] = rollup.get("Private_Clean", 0) + rollup.get("Private_Dirty", 0)
    return values


def proc_cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop_gunicorn(process):
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    process.log.close()


def scan_log(path):
    text = Path(path).read_text(errors="replace")
    return {
        "database_is_locked": len(re.findall(r"database is locked", text, re.IGNORECASE)),
        "tracebacks": text.count("Traceback (most recent call last)"),
        "worker_timeouts": text.count("WORKER TIMEOUT"),
        "errors": len(re.findall(r"\[ERROR\]", text)),
    }


# ---- simulated users -------------------------------------------------------------------------


class Stats:
    def __init__(self):
        self.samples = defaultdict(list)
        self.statuses = defaultdict(Counter)
        self.errors = defaultdict(int)
        self.conflicts = defaultdict(int)
        self.error_examples = []
        self.measuring = False

    def record(self, name, elapsed_ms, status, measured, failure=None, conflict=False):
        """A request that started in the measured window (logins are kept apart)."""
        if not measured and name != "login":
            return
        self.samples[name].append(elapsed_ms)
        self.statuses[name][status] += 1
        if conflict:
            self.conflicts[name] += 1
        elif failure:
            self.errors[name] += 1
            if len(self.error_examples) < 20:
                self.error_examples.append(failure)


class Session:
    """One user in a browser: logs in, then picks the next step by role and thinks about a
    second between steps. Steps use htmx where the page does (filters, paging, live search,
    follow-up and claim forms) and full pages where a user follows a link."""

    WEIGHTS = {
        # step:        rep, manager, support
        "list": (10, 12, 8),
        "list_htmx": (12, 16, 8),
        "search": (16, 12, 16),
        "customer": (16, 16, 14),
        "follow_up": (8, 4, 0),
        "claim": (6, 2, 0),
        "new_customer": (3, 1, 0),
        "kb": (10, 8, 30),
        "leaderboard": (4, 8, 4),
        "workbench": (8, 14, 6),
        "notifications": (2, 2, 2),
    }
    ROLE_COLUMN = {"rep": 0, "manager": 1, "support": 2}

    def __init__(self, base_url, account, data, stats, rng, think):
        self.base_url = base_url
        self.account = account
        self.data = data
        self.stats = stats
        self.rng = rng
        self.think_mean = think
        self.client = httpx.AsyncClient(base_url=base_url, follow_redirects=False, timeout=60)
        self.token = None
        self.until = float("inf")  # when the run ends: no request starts after it
        self.page = "/"  # the page the browser shows: htmx sends it as HX-Current-URL
        self.seen = []  # customer ids on the last list the user looked at
        column = self.ROLE_COLUMN[account["role"]]
        self.steps = list(self.WEIGHTS)
        self.weights = [self.WEIGHTS[step][column] for step in self.steps]
        self.team_reps = [
            other["id"]
            for other in data["accounts"]
            if other["role"] == "rep" and other["team"] == account["team"]
        ]

    async def think(self, scale=1.0):
        delay = self.rng.uniform(0.5, 1.5) * self.think_mean * scale
        await asyncio.sleep(max(0.0, min(delay, self.until - time.monotonic())))

    async def call(self, name, method, path, params=None, *, htmx=False, data=None, target=None):
        if time.monotonic() >= self.until:
            return None
        url = f"{path}?{urlencode(params)}" if params else path
        measured = self.stats.measuring
        # Names the request for the worker-side log (GUNICORN_CONFIG): "name|measured".
        headers = {"X-Bench": f"{name}|{int(measured)}"}
        if htmx:
            headers["HX-Request"] = "true"
            headers["HX-Current-URL"] = self.base_url + self.page
            if target:
                headers["HX-Target"] = target
        elif method == "GET":
            self.page = url
        if method == "POST":
            data = {**(data or {}), "csrf_token": self.token}
            if htmx:
                headers["X-CSRFToken"] = self.token
        started = time.perf_counter()
        try:
            response = await self.client.request(method, url, data=data, headers=headers)
        except httpx.HTTPError as error:
            elapsed = (time.perf_counter() - started) * 1000
            self.stats.record(name, elapsed, "transport", measured, failure=f"{name} {url}: {error!r}")
            return None
        elapsed = (time.perf_counter() - started) * 1000
        status = response.status_code
        location = response.headers.get("location", "")
        failure = None
        conflict = status in EXPECTED.get(name, ())
        if status >= 400 and not conflict:
            failure = f"{name} {method} {url}: {status} {response.text[:200]!r}"
        elif status in (302, 303) and "/login" in location and name != "login":
            failure = f"{name} {method} {url}: redirected to {location} (session lost)"
        self.stats.record(name, elapsed, status, measured, failure=failure, conflict=conflict)
        return response

    async def login(self):
        page = await self.call("login", "GET", "/login")
        if page is None:
            return False
        self.token = CSRF_META.search(page.text).group(1)
        response = await self.call(
            "login",
            "POST",
            "/login",
            # Every field the page posts: the form refuses a post that lacks one.
            data={"email": self.account["email"], "password": PASSWORD, "next": ""},
        )
        if response is None or response.status_code != 303:
            return False
        home = await self.call("login", "GET", response.headers["location"])
        self.token = CSRF_META.search(home.text).group(1)  # the session's token from now on
        return True

    def remember_customers(self, response):
        if response is not None and response.status_code == 200:
            ids = CUSTOMER_LINK.findall(response.text)
            if ids:
                self.seen = list(dict.fromkeys(int(i) for i in ids))

    async def run(self):
        await asyncio.sleep(self.rng.uniform(0, self.think_mean))
        while time.monotonic() < self.until:
            step = self.rng.choices(self.steps, self.weights)[0]
            await getattr(self, f"step_{step}")()
            await self.think()

    async def poll_bell(self):
        """Every open page polls the bell once a minute (hx-trigger="every 60s")."""
        due = time.monotonic() + self.rng.uniform(0, 60)
        while time.monotonic() < self.until:
            await asyncio.sleep(min(1.0, max(0.0, due - time.monotonic())))
            if time.monotonic() >= due:
                await self.call("bell", "GET", "/notifications/bell", htmx=True)
                due += 60

    # -- steps -------------------------------------------------------------------------------

    def list_args(self):
        """A filter or page a user would pick on the list (what the filter form sends)."""
        rng = self.rng
        choice = rng.random()
        if choice < 0.3:
            return {"page": rng.choice([2, 2, 3, 4, 5, 10, 20])}
        if choice < 0.5:
            return {"owner": "me"} if self.account["role"] == "rep" else {"team": self.account["team"] or 1}
        if choice < 0.65:
            return {"stage": rng.choice(["lead", "contacted", "qualified", "quoted", "negotiating", "open"])}
        if choice < 0.75:
            return {"follow_up": rng.choice(["due", "overdue", "due_or_overdue"]), "owner": "me"}
        if choice < 0.85:
            return {
                "grade": rng.choice("ABCD"),
                "province": rng.choice(["广东", "江苏", "浙江", "上海", "北京"]),
            }
        return {"sort": rng.choice(["name", "amount", "next_follow_up", "created"]), "direction": "asc"}

    async def step_list(self):
        self.remember_customers(await self.call("list", "GET", "/customers"))

    async def step_list_htmx(self):
        response = await self.call(
            "list (htmx filter/page)", "GET", "/customers", self.list_args(), htmx=True, target="results"
        )
        self.remember_customers(response)

    async def step_search(self):
        """Live search in the list's filter form: fires 300 ms after typing stops, so a
        user typing in bursts sends a prefix first, then the whole term."""
        rng, data = self.rng, self.data
        kind = rng.choices(["name", "pinyin", "phone"], [55, 20, 25])[0]
        if kind == "name":
            term = rng.choice(COMMON_WORDS) if rng.random() < 0.1 else rng.choice(data["names"])
        elif kind == "pinyin":
            term = rng.choice(data["initials"])
        else:
            own = data["phones"].get(self.account["id"]) or data["any_phones"]
            number = rng.choice(own)
            term = rng.choice([number[-4:], number[-4:], number[:7], number])
        if len(term) > 3 and rng.random() < 0.5:
            prefix = term[: max(2, len(term) // 2)]
            await self.call(
                f"search: {kind}", "GET", "/customers", {"q": prefix}, htmx=True, target="results"
            )
            await asyncio.sleep(rng.uniform(0.3, 0.8))
        response = await self.call(
            f"search: {kind}", "GET", "/customers", {"q": term}, htmx=True, target="results"
        )
        self.remember_customers(response)

    async def step_customer(self):
        if not self.seen:
            return await self.step_list()
        customer_id = self.rng.choice(self.seen[:20])
        await self.call("customer page", "GET", f"/customers/{customer_id}")

    async def step_follow_up(self):
        """Find a customer due for a follow-up, open it, write the note, save (htmx)."""
        if self.account["role"] == "rep":
            args = {"owner": "me", "follow_up": "due_or_overdue"}
        else:
            args = {"owner": self.rng.choice(self.team_reps)}
        listing = await self.call(
            "list (htmx filter/page)", "GET", "/customers", args, htmx=True, target="results"
        )
        self.remember_customers(listing)
        if not self.seen or listing is None or listing.status_code != 200:
            return
        customer_id = self.rng.choice(self.seen[:10])
        await self.think()
        page = await self.call("customer page", "GET", f"/customers/{customer_id}")
        if page is None or page.status_code != 200 or 'id="activity"' not in page.text:
            return
        # The follow-up form's one-time token, as the browser sends it back.
        token = re.search(r'name="submission_token" type="hidden" value="([\w-]+)"', page.text).group(1)
        await self.think(scale=3)  # typing the note
        await self.call(
            "follow-up (POST)",
            "POST",
            f"/customers/{customer_id}/follow-ups",
            htmx=True,
            target="activity",
            data={
                "submission_token": token,
                "channel": self.rng.choice(["phone", "wechat", "visit", "email"]),
                "content": self.rng.choice(
                    ["电话沟通报价细节，客户需要内部讨论", "微信发送产品资料", "上门拜访，见到采购经理"]
                ),
                "occurred_at": "",
                "next_step": "发送报价单",
                "next_follow_up_on": (date.today() + timedelta(days=self.rng.randint(3, 14))).isoformat(),
            },
        )

    async def step_claim(self):
        """Open the pool and claim one of the first rows: everybody sees the same first
        rows, so two users sometimes claim the same customer (409 for the second)."""
        pool = await self.call("pool", "GET", "/pool")
        if pool is None or pool.status_code != 200:
            return
        ids = CLAIM_FORM.findall(pool.text)
        if not ids:
            return
        await self.think(scale=0.5)
        customer_id = self.rng.choice(ids[:8])
        await self.call(
            "claim", "POST", f"/customers/{customer_id}/claim", htmx=True, target=f"pool-{customer_id}"
        )

    async def step_new_customer(self):
        """Add a customer: the form, the live duplicate check as the name and phone are
        typed (htmx), then the submit; the browser follows the 303 to the new page."""
        rng = self.rng
        form = await self.call("new customer form", "GET", "/customers/new")
        if form is None or form.status_code != 200:
            return
        name = "".join(rng.sample(BRANDS, 3)) + rng.choice(["科技", "贸易", "电子", "实业"]) + "有限公司"
        # Every field the page posts, empty where the user leaves it empty.
        fields = {
            **dict.fromkeys(NEW_CUSTOMER_FIELDS, ""),
            "kind": "company",
            "name": name,
            "province": rng.choice(["广东", "江苏", "浙江"]),
            "source": "referral",
            "grade": "C",
            "stage": "lead",
            "expected_amount": str(rng.randrange(10_000, 500_000)),
            "contact_name": "王经理",
            "contact_phone": f"1{rng.choice('3589')}{rng.randrange(10**9):09d}",
            "owner_id": "auto",
        }
        for typed in ({"kind": "company", "name": name[:4]}, fields):
            await self.think(scale=0.8)
            await self.call(
                "duplicate check (htmx)",
                "POST",
                "/customers/duplicates",
                htmx=True,
                data=typed,
                target="duplicate-check",
            )
        await self.think()
        created = await self.call("new customer (POST)", "POST", "/customers/new", data=fields)
        if created is not None and created.status_code == 422 and 'name="confirm_similar"' in created.text:
            await self.think()
            fields["confirm_similar"] = "y"
            created = await self.call("new customer (POST)", "POST", "/customers/new", data=fields)
        if created is not None and created.status_code == 303:
            await self.call("customer page", "GET", created.headers["location"])

    async def step_kb(self):
        rng, data = self.rng, self.data
        choice = rng.random()
        if choice < 0.25:
            await self.call("kb index", "GET", "/kb/")
        elif choice < 0.65:
            await self.call("kb article", "GET", f"/kb/{rng.choice(data['articles'])}")
        elif choice < 0.85:
            query = {"live": 1, "q": rng.choice(KB_QUERIES)}
            await self.call("kb live search", "GET", "/kb/search", query, htmx=True, target="kb-live")
        else:
            await self.call("kb search", "GET", "/kb/search", {"q": rng.choice(KB_QUERIES)})

    async def step_leaderboard(self):
        if self.rng.random() < 0.7:
            await self.call("leaderboard", "GET", "/leaderboard")
        else:
            period = self.rng.choice(["week", "quarter", "year"])
            await self.call(
                "leaderboard", "GET", "/leaderboard", {"period": period}, htmx=True, target="board"
            )

    async def step_workbench(self):
        await self.call("workbench", "GET", "/")

    async def step_notifications(self):
        await self.call("notifications", "GET", "/notifications")


async def drive(base_url, data, users, warmup, duration, think, seed, on_measure):
    """Log the users in, let them work `warmup` seconds unmeasured (workers warm their
    caches, first-use imports, templates), then `duration` seconds measured."""
    stats = Stats()
    rng = random.Random(seed)
    accounts = rotate_roles(data["accounts"])
    sessions = [
        Session(base_url, accounts[i % len(accounts)], data, stats, random.Random(rng.random()), think)
        for i in range(users)
    ]
    # Log in, a few at a time, as people arriving in the morning (not counted in rps).
    semaphore = asyncio.Semaphore(8)

    async def login(session):
        async with semaphore:
            return await session.login()

    logged_in = await asyncio.gather(*(login(session) for session in sessions))
    if not all(logged_in):
        raise SystemExit(f"{logged_in.count(False)} logins failed: {stats.error_examples[:3]}")
    lag = []
    window = {}
    on_measure("begin")

    async def measure():
        await asyncio.sleep(warmup)
        on_measure("start")
        window["cpu"], window["start"] = time.process_time(), time.monotonic()
        stats.measuring = True
        until = window["start"] + duration
        # How late the event loop wakes up: if high, the driver itself is the bottleneck.
        # The window also lasts as long as something measured alongside (an import) runs.
        while time.monotonic() < until or on_measure("running"):
            before = time.perf_counter()
            await asyncio.sleep(0.1)
            lag.append((time.perf_counter() - before - 0.1) * 1000)
        for session in sessions:
            session.until = time.monotonic()
        stats.measuring = False
        window["end"], window["cpu"] = time.monotonic(), time.process_time() - window["cpu"]
        on_measure("end")

    await asyncio.gather(
        *(session.run() for session in sessions), *(session.poll_bell() for session in sessions), measure()
    )
    await asyncio.gather(*(session.client.aclose() for session in sessions))
    driver = {
        "cpu_s": window["cpu"],
        "loop_lag_p99_ms": percentile(lag, 0.99) if lag else 0,
        "loop_lag_max_ms": max(lag) if lag else 0,
    }
    return stats, window["end"] - window["start"], driver


def rotate_roles(accounts):
    """Accounts interleaved rep, rep, rep, manager, support, … so any user count gets the
    company's mix (15 reps to 1 manager and 1 support per team; 60/4/4 in all). Beyond
    68 users, accounts are reused: the same person in a second browser."""
    reps = [a for a in accounts if a["role"] == "rep"]
    others = [a for a in accounts if a["role"] != "rep"]
    ordered, step = [], max(1, len(reps) // max(1, len(others)))
    while reps or others:
        ordered += reps[:step]
        reps = reps[step:]
        if others:
            ordered.append(others.pop(0))
    return ordered


# ---- one run --------------------------------------------------------------------------------


def postgres_backends(url):
    """pid -> CPU seconds of the PostgreSQL backends serving the run's database."""
    from sqlalchemy import create_engine, make_url

    target = make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
    engine = create_engine(target.set(database="postgres"))
    with engine.connect() as connection:
        pids = connection.exec_driver_sql(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (target.database,)
        ).scalars()
        pids = list(pids)
    engine.dispose()
    cpu = {}
    for pid in pids:
        with contextlib.suppress(OSError):  # a backend that ended meanwhile
            cpu[pid] = proc_cpu_seconds(pid)
    return cpu


def run_once(base, users, args, data_rng):
    kind = backend(base)
    label = f"{kind}-{users}u" + "".join(
        suffix
        for suffix, wanted in (
            ("-preload", args.preload),
            ("-shared", args.share_dictionaries),
            (f"-import{args.import_rows}", args.import_rows),
        )
        if wanted
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    print(f"\n== {label}: copying the database", flush=True)
    url = copy_database(base, "loadrun")
    data = harvest(url, data_rng)
    log_path = RESULTS / f"load-{label}-gunicorn.log"
    request_log = RESULTS / f"load-{label}-requests.log"
    process, base_url = start_gunicorn(
        url, args.workers, log_path, request_log, args.preload, args.share_dictionaries
    )
    marks = {}
    importing = {}

    def on_measure(moment):
        if moment == "running":
            return bool(importing) and importing["process"].poll() is None
        if moment == "begin":
            if args.import_rows:
                # A manager imports a file while the others work (bench/ledger_import.py on
                # this copy: what the import's background thread does in a worker). It
                # starts with the warm-up and the window lasts until it is done; its
                # commit is one write transaction, on SQLite holding the only write lock.
                log = open(RESULTS / f"load-{label}-import.log", "w")  # noqa: SIM115
                command = [sys.executable, "-m", "bench.ledger_import", "--database-url", url]
                command += ["--rows", str(args.import_rows), "--in-place"]
                importing["log"] = log
                importing["process"] = subprocess.Popen(
                    command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
                )
            return None
        workers = worker_pids(process.pid)
        marks[moment] = {
            "load": _common.load(),
            "workers": {pid: proc_cpu_seconds(pid) for pid in workers},
            "postgres": postgres_backends(url) if kind == "postgresql" else {},
        }
        if moment == "end":  # memory after the run, before anything else happens
            marks["memory"] = {pid: proc_memory(pid) for pid in workers}
            marks["memory_master"] = proc_memory(process.pid)

    try:
        pids = worker_pids(process.pid)
        print(
            f"   gunicorn {base_url} workers {pids}; {users} users, {args.warmup:.0f} s warm-up, "
            f"{args.duration:.0f} s measured",
            flush=True,
        )
        stats, elapsed, driver = asyncio.run(
            drive(base_url, data, users, args.warmup, args.duration, args.think, args.seed, on_measure)
        )
        if importing:
            importing["process"].wait(timeout=1800)
    finally:
        if importing:
            importing["process"].kill()  # no-op once it has ended
            importing["log"].close()
        stop_gunicorn(process)
        if not args.keep:
            drop_copy(url)
    start, end = marks["start"], marks["end"]
    cpu = {
        "workers_s": sum(value - start["workers"].get(pid, 0) for pid, value in end["workers"].items()),
        "postgres_s": sum(value - start["postgres"].get(pid, 0) for pid, value in end["postgres"].items()),
    }
    report = summarise(label, users, stats, elapsed, driver, marks, cpu, scan_log(log_path))
    report["server_ms"] = server_times(request_log)
    if importing:
        text = (RESULTS / f"load-{label}-import.log").read_text()
        report["import"] = [line.strip() for line in text.splitlines() if line.startswith("  ")]
    report.update(load_start=start["load"], load_end=end["load"], machine=_common.machine(), args=vars(args))
    report["respawned_workers"] = sorted(set(end["workers"]) - set(pids))
    (RESULTS / f"load-{label}.json").write_text(json.dumps(report, ensure_ascii=False, indent=1))
    print_report(report)
    return report


def server_times(request_log):
    """Per endpoint, measured requests only: CPU ms (mean, p95) and wall ms (p50, p95)
    inside a worker. The rest of the client's latency is waiting for a free worker."""
    cpu, wall = defaultdict(list), defaultdict(list)
    for line in Path(request_log).read_text().splitlines():
        name, measured, cpu_ms, wall_ms = line.rsplit("|", 3)
        if measured == "1":
            cpu[name].append(float(cpu_ms))
            wall[name].append(float(wall_ms))
    return {
        name: {
            "n": len(wall[name]),
            "cpu_mean": statistics.fmean(cpu[name]),
            "cpu_p95": percentile(cpu[name], 0.95),
            "p50": statistics.median(wall[name]),
            "p95": percentile(wall[name], 0.95),
        }
        for name in sorted(wall)
    }


def summarise(label, users, stats, elapsed, driver, marks, cpu, log):
    endpoints = {}
    measured = [name for name in stats.samples if name != "login"]
    for name in sorted(stats.samples, key=lambda n: (n == "login", n)):
        samples = stats.samples[name]
        endpoints[name] = {
            "n": len(samples),
            "p50": statistics.median(samples),
            "p95": percentile(samples, 0.95),
            "p99": percentile(samples, 0.99),
            "max": max(samples),
            "errors": stats.errors[name],
            "conflicts": stats.conflicts[name],
            "statuses": {str(k): v for k, v in stats.statuses[name].items()},
        }
    requests = sum(len(stats.samples[name]) for name in measured)
    everything = [value for name in measured for value in stats.samples[name]]
    return {
        "label": label,
        "users": users,
        "seconds": elapsed,
        "requests": requests,
        "rps": requests / elapsed,
        "all": {
            "p50": statistics.median(everything),
            "p95": percentile(everything, 0.95),
            "p99": percentile(everything, 0.99),
        },
        "errors": sum(stats.errors[name] for name in measured),
        "expected_conflicts": sum(stats.conflicts.values()),
        "error_examples": stats.error_examples,
        "endpoints": endpoints,
        "cpu_s": cpu,
        "worker_cpu_ms_per_request": cpu["workers_s"] * 1000 / max(1, requests),
        "postgres_cpu_ms_per_request": cpu["postgres_s"] * 1000 / max(1, requests),
        "memory_mb": {str(pid): values for pid, values in marks["memory"].items()},
        "memory_master_mb": marks["memory_master"],
        "gunicorn_log": log,
        "driver": driver,
    }


def print_report(report):
    print(
        f"\n{report['label']}: {report['requests']} requests in {report['seconds']:.0f} s = "
        f"{report['rps']:.1f} rps; all p50/p95/p99 {report['all']['p50']:.0f}/{report['all']['p95']:.0f}/"
        f"{report['all']['p99']:.0f} ms; errors {report['errors']},"
        f" expected 409/422 {report['expected_conflicts']}; "
        f"load {report['load_start']} -> {report['load_end']}"
    )
    server = report["server_ms"]
    print(
        f"  {'endpoint':<24} {'n':>5} {'p50':>6} {'p95':>6} {'p99':>6} {'max':>6} {'err':>4} {'exp':>4}"
        f" | in worker: wall p50 p95, CPU mean p95"
    )
    for name, row in report["endpoints"].items():
        inside = server.get(name, {"p50": 0, "p95": 0, "cpu_mean": 0, "cpu_p95": 0})
        print(
            f"  {name:<24} {row['n']:>5} {row['p50']:>6.0f} {row['p95']:>6.0f} {row['p99']:>6.0f} "
            f"{row['max']:>6.0f} {row['errors']:>4} {row['conflicts']:>4} |"
            f" {inside['p50']:>14.0f} {inside['p95']:>4.0f}"
            f" {inside['cpu_mean']:>8.0f} {inside['cpu_p95']:>4.0f}"
        )
    memory = ", ".join(
        f"{v['VmRSS']:.0f}/{v['VmHWM']:.0f}/{v['Pss']:.0f}/{v['Private']:.0f}"
        for v in report["memory_mb"].values()
    )
    master = report["memory_master_mb"]
    print(
        f"  memory MB, VmRSS/VmHWM/Pss/Private: workers {memory};"
        f" master {master['VmRSS']:.0f}/{master['VmHWM']:.0f}/{master['Pss']:.0f}/{master['Private']:.0f}"
    )
    driver, cpu = report["driver"], report["cpu_s"]
    print(
        f"  CPU in the window: workers {cpu['workers_s']:.1f} s"
        f" ({report['worker_cpu_ms_per_request']:.1f} ms/req),"
        f" postgres {cpu['postgres_s']:.1f} s; driver {driver['cpu_s']:.1f} s,"
        f" loop lag p99 {driver['loop_lag_p99_ms']:.0f} ms"
    )
    print(f"  gunicorn log: {report['gunicorn_log']}")
    for line in report.get("import", []):
        print(f"  import: {line}")
    for example in report["error_examples"][:10]:
        print(f"  ! {example}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=_common.DEFAULT_SQLITE, help="the seeded database")
    parser.add_argument("--users", default="50", help="simulated users; a list (50,100,200) runs a ramp")
    parser.add_argument("--duration", type=float, default=60, help="seconds measured per run")
    parser.add_argument("--warmup", type=float, default=15, help="seconds of load before measuring")
    parser.add_argument("--think", type=float, default=1.0, help="mean think time between steps, s")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--preload", action="store_true", help="gunicorn --preload (app loaded once, forked)")
    parser.add_argument(
        "--share-dictionaries",
        action="store_true",
        help="with --preload: salesdesk.load_shared_dictionaries() in the master before the fork",
    )
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument(
        "--import-rows", type=int, help="a manager imports this many rows (XLSX) while the users work"
    )
    parser.add_argument("--prepare-only", action="store_true", help="seed/prepare, then stop")
    parser.add_argument(
        "--seed-customers", type=int, help="(re)seed the database first with this many customers (--reset)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the copy the last run worked on")
    args = parser.parse_args(argv)
    if args.share_dictionaries and not args.preload:
        parser.error("--share-dictionaries needs --preload")
    base = normalise_url(args.database_url)
    if args.seed_customers:
        seed(base, args.seed_customers)
    prepare(base)
    if args.prepare_only:
        return 0
    reports = [run_once(base, int(users), args, random.Random(args.seed)) for users in args.users.split(",")]
    if len(reports) > 1:
        print(
            "\nramp: users, rps, p95 all, worst p95 (endpoint), errors, expected 409/422, database is locked"
        )
        for report in reports:
            measured = [item for item in report["endpoints"].items() if item[0] != "login"]
            worst = max(measured, key=lambda item: item[1]["p95"])
            print(
                f"  {report['users']:>4} {report['rps']:6.1f} {report['all']['p95']:7.0f} "
                f"{worst[1]['p95']:7.0f} ({worst[0]}) {report['errors']:>5}"
                f" {report['expected_conflicts']:>4} "
                f"{report['gunicorn_log']['database_is_locked']:>4}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
