"""Memory of the running app: gunicorn with 4 workers and the project's gunicorn.conf.py on
a seeded 100,000-customer ledger, every page warmed as the roles that use it, then each
process's RssAnon (status), Pss and Private_Dirty (smaps_rollup) and the totals.

    .venv/bin/python -m bench.load_memory --database-url sqlite:///bench/data/ledger.db
    .venv/bin/python -m bench.load_memory --database-url postgresql://postgres@127.0.0.1:5432/salesdesk_bench
    .venv/bin/python -m bench.load_memory --database-url URL --costs   # what each dictionary costs

RssAnon counts every anonymous page a process can touch, those it shares copy-on-write
with the master too; Pss splits shared pages between their sharers, so the sum of Pss is
the app's memory (file pages included: SQLite's mapped database file, Python's libraries);
Private_Dirty is what the process has written for itself. The warm-up only reads (GET
requests; logins add session rows), so the seeded database needs no copy. --costs loads
each dictionary and index in a fresh process, in the order the master does, and prints
RssAnon growth and what tracemalloc sees allocated (a C extension's own tables are RSS
only).
"""

import argparse
import os
import re
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from . import _common
from ._common import DATA, ROOT, backend, load, normalise_url
from .load import free_port, start_and_wait, stop_gunicorn, worker_pids

PASSWORD = "bench-password-42"  # bench/ledger_seed.py
CSRF_META = re.compile(r'name="csrf-token" content="([^"]+)"')
ROLES = {
    "rep": "rep01@bench.example",
    "support": "support1@bench.example",
    "manager": "manager1@bench.example",
    "admin": "admin@bench.example",
}
EVERYONE = tuple(ROLES)
EDITORS = ("support", "manager", "admin")
MANAGERS = ("manager", "admin")
ADMINS = ("admin",)
OWNERS = ("rep", "manager", "admin")  # who may edit a customer of the rep
# GET routes not warmed: a download of all 100,000 rows is not a page (its memory is
# bench/ledger_export.py's), static files cost nothing, and the seed has no import job.
NOT_PAGES = {"static", "ledger.export", "ledger.import_job", "ledger.import_mapping"}
BY_LOGIN = {"auth.login"}  # every client fetches the login page to log in
STATUS_FIELDS = ("VmRSS", "RssAnon", "RssFile", "RssShmem")
ROLLUP_FIELDS = ("Pss", "Pss_Anon", "Pss_File", "Private_Dirty", "Shared_Clean", "Shared_Dirty")


# ---- the pages ------------------------------------------------------------------------------


def seeded_ids(url):
    """Ids the pages need, read from the seeded database (team 1 is the viewers' team)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(normalise_url(url).replace("postgresql://", "postgresql+psycopg://", 1))
    queries = {
        "rep": "SELECT id FROM users WHERE email = 'rep01@bench.example'",
        "other_rep": "SELECT id FROM users WHERE email = 'rep02@bench.example'",
        "team_b": "SELECT min(team_id) FROM users WHERE team_id <> (SELECT team_id FROM users"
        " WHERE email = 'manager1@bench.example')",
        "own": "SELECT min(c.id) FROM customers c JOIN users u ON u.id = c.owner_id"
        " WHERE u.email = 'rep01@bench.example' AND c.deleted_at IS NULL",
        "other": "SELECT min(c.id) FROM customers c JOIN users u ON u.id = c.owner_id"
        " WHERE u.email = 'rep02@bench.example' AND c.deleted_at IS NULL",
        "pool": "SELECT min(id) FROM customers WHERE owner_id IS NULL AND deleted_at IS NULL",
        "article": "SELECT min(id) FROM kb_articles WHERE status = 'published'",
        "path": "SELECT min(id) FROM kb_paths",
        "proposal": "SELECT min(id) FROM kb_proposals",
        "entry": "SELECT min(id) FROM point_entries",
        # One the manager arbitrates: their team's (min(id) of all was another team's: 403).
        "report": "SELECT min(id) FROM collision_reports WHERE team_id = (SELECT team_id FROM users"
        " WHERE email = 'manager1@bench.example')",
        "category": "SELECT min(id) FROM kb_categories",
        # The features' own rows, where the seed has them (bench/performance_board.py adds
        # support requests and targets; custom_fields_list.py the fields).
        "request": "SELECT min(r.id) FROM support_requests r JOIN users u ON u.id = r.requester_id"
        " WHERE u.email = 'rep01@bench.example'",
        "support_type": "SELECT min(id) FROM support_types",
        "field": "SELECT min(id) FROM custom_fields",
        "connection": "SELECT min(id) FROM chat_connections",
        "image": "SELECT min(id) FROM kb_images",
    }
    with engine.connect() as connection:
        ids = {name: connection.execute(text(sql)).scalar() for name, sql in queries.items()}
        ids["contact"] = connection.execute(
            text("SELECT min(id) FROM contacts WHERE customer_id = :id"), {"id": ids["own"]}
        ).scalar()
        ids["key"] = connection.execute(
            text("SELECT name_key FROM customers WHERE id = :id"), {"id": ids["other"]}
        ).scalar()
    engine.dispose()
    return ids


def pages(ids):
    """(endpoint, path, roles): every GET route, with the list's filters and searches."""
    c = ids
    listed = [
        ("workbench.home", "/", EVERYONE),
        ("workbench.home", f"/?team={c['team_b']}", ADMINS),
        ("workbench.notification_bell", "/notifications/bell", EVERYONE),
        ("workbench.notification_list", "/notifications", EVERYONE),
        ("workbench.notification_list", "/notifications?show=unread", EVERYONE),
        ("ledger.index", "/customers", EVERYONE),
        ("ledger.index", "/customers?page=3", EVERYONE),
        ("ledger.index", "/customers?page=1000", EVERYONE),
        ("ledger.index", "/customers?q=科技", EVERYONE),
        ("ledger.index", f"/customers?q={c['key'][:4]}", EVERYONE),
        ("ledger.index", "/customers?q=tfkj", EVERYONE),
        ("ledger.index", "/customers?q=1380", EVERYONE),
        ("ledger.index", f"/customers?stage=negotiating&owner={c['rep']}&grade=B", EVERYONE),
        ("ledger.index", "/customers?follow_up=overdue&source=referral", EVERYONE),
        ("ledger.index", "/customers?stage=open&owner=pool&tag=重点客户", EVERYONE),
        ("ledger.index", "/customers?sort=name&direction=asc", EVERYONE),
        ("ledger.index", "/customers?sort=amount", EVERYONE),
        ("ledger.new", "/customers/new", EVERYONE),
        ("ledger.show", f"/customers/{c['own']}", EVERYONE),
        ("ledger.show", f"/customers/{c['other']}", EVERYONE),
        ("ledger.show", f"/customers/{c['pool']}", EVERYONE),
        ("ledger.edit", f"/customers/{c['own']}/edit", OWNERS),
        ("ledger.new_contact", f"/customers/{c['own']}/contacts/new", OWNERS),
        ("ledger.edit_contact", f"/customers/{c['own']}/contacts/{c['contact']}/edit", OWNERS),
        ("ledger.trash", "/customers/trash", ADMINS),
        ("ledger.import_upload", "/customers/import", EVERYONE),
        ("rules.pool", "/pool", EVERYONE),
        ("rules.collisions", "/collisions", EVERYONE),
        ("rules.collisions", "/collisions?status=decided", EVERYONE),
        ("rules.file_collision", f"/customers/{c['other']}/collision", ("rep", "manager")),
        ("rules.rule_settings", "/rules", ADMINS),
        ("rules.ownership_report", "/rules/ownership", ADMINS),
        ("kb.index", "/kb/", EVERYONE),
        ("kb.search", "/kb/search?q=报价", EVERYONE),
        ("kb.search", "/kb/search?q=合同 审批", EVERYONE),
        ("kb.playbooks", "/kb/playbooks", EVERYONE),
        ("kb.insights", "/kb/insights", EDITORS),
        ("kb.new", "/kb/new", EDITORS),
        ("kb.article", f"/kb/{c['article']}", EVERYONE),
        ("kb.edit", f"/kb/{c['article']}/edit", EDITORS),
        ("kb.history", f"/kb/{c['article']}/history", EDITORS),
        ("kb.compare", f"/kb/{c['article']}/diff", EDITORS),
        ("kb.revision", f"/kb/{c['article']}/revisions/1", EDITORS),
        ("kb.propose", f"/kb/{c['article']}/propose", ("rep",)),
        ("kb.proposals", "/kb/proposals", EVERYONE),
        ("kb.categories", "/kb/categories", EDITORS),
        ("kb.edit_category", f"/kb/categories/{c['category']}", EDITORS),
        ("kb.paths", "/kb/paths", EVERYONE),
        ("kb.new_path", "/kb/paths/new", EDITORS),
        ("recognition.leaderboard", "/leaderboard", EVERYONE),
        ("recognition.leaderboard", f"/leaderboard?period=all&team={c['team_b']}", EVERYONE),
        ("recognition.feed", "/recognition", EVERYONE),
        ("recognition.person", f"/people/{c['other_rep']}", EVERYONE),
        ("recognition.report", "/recognition/report", MANAGERS),
        ("recognition.award", "/recognition/award", MANAGERS),
        ("recognition.thank", "/recognition/thank", EVERYONE),
        ("recognition.settings", "/recognition/settings", ADMINS),
        ("admin.users", "/admin/users", ADMINS),
        ("admin.audit_log", "/admin/audit", ADMINS),
        ("admin.new_user", "/admin/users/new", ADMINS),
        ("admin.edit_user", f"/admin/users/{c['other_rep']}", ADMINS),
        ("admin.teams", "/admin/teams", ADMINS),
        ("admin.edit_team", f"/admin/teams/{c['team_b']}", ADMINS),
        ("support.index", "/support", EVERYONE),
        ("support.new", "/support/new", OWNERS),
        ("support.suggestions", "/support/suggestions?title=报价", EVERYONE),
        ("support.metrics", "/support/metrics", MANAGERS),
        ("support.metrics", "/support/metrics?period=week", MANAGERS),
        ("support.metrics_export", "/support/metrics.xlsx", MANAGERS),
        ("support.admin_types", "/admin/support/types", ADMINS),
        ("support.admin_new_type", "/admin/support/types/new", ADMINS),
        ("support.admin_calendar", "/admin/support/calendar", ADMINS),
        ("support.admin_settings", "/admin/support/settings", ADMINS),
        ("performance.board", "/performance", OWNERS),
        ("performance.board", "/performance?period=2026-Q4", MANAGERS),
        ("performance.export", "/performance/export.xlsx", MANAGERS),
        ("performance.person", f"/performance/reps/{c['rep']}", OWNERS),
        ("performance.targets", "/targets", MANAGERS),
        ("performance.targets", "/targets?period=2026-Q4", MANAGERS),
        ("chat.index", "/admin/integrations", ADMINS),
        ("chat.new", "/admin/integrations/new", ADMINS),
        ("fields.index", "/admin/fields", ADMINS),
        ("fields.new", "/admin/fields/new", ADMINS),
        ("auth.account", "/account", EVERYONE),
        ("health.healthz", "/healthz", EVERYONE),
    ]
    optional = {
        "path": [
            ("kb.path", f"/kb/paths/{c['path']}", EVERYONE),
            ("kb.edit_path", f"/kb/paths/{c['path']}/edit", EDITORS),
        ],
        "proposal": [("kb.proposal", f"/kb/proposals/{c['proposal']}", EDITORS)],
        "entry": [("recognition.entry", f"/recognition/entries/{c['entry']}", EVERYONE)],
        "report": [("rules.collision", f"/collisions/{c['report']}", MANAGERS)],
        "request": [("support.show", f"/support/{c['request']}", OWNERS)],
        "support_type": [("support.admin_edit_type", f"/admin/support/types/{c['support_type']}", ADMINS)],
        "field": [("fields.edit", f"/admin/fields/{c['field']}", ADMINS)],
        "connection": [("chat.edit", f"/admin/integrations/{c['connection']}", ADMINS)],
        "image": [("kb.image", f"/kb/images/{c['image']}", EVERYONE)],
    }
    for name, extra in optional.items():
        if c[name] is not None:
            listed += extra
    return listed


def check_coverage(listed):
    """Every GET route is warmed, or named in NOT_PAGES, and each path is one the app has."""
    from salesdesk import create_app

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods}
    adapter = app.url_map.bind("localhost")
    for endpoint, path, _roles in listed:
        matched, _args = adapter.match(path.split("?")[0], method="GET")
        if matched != endpoint:
            raise SystemExit(f"{path} is {matched}, not {endpoint}: fix bench/load_memory.py")
    missing = endpoints - {endpoint for endpoint, _path, _roles in listed} - NOT_PAGES - BY_LOGIN
    return sorted(missing)


# ---- gunicorn -------------------------------------------------------------------------------


def start_gunicorn(url, workers, log_path):
    """The project's gunicorn.conf.py (preload, the master's when_ready), with the access
    log naming the worker that served each request, and the periodic jobs off (they would
    change the seed under the benchmark)."""
    instance = DATA / f"instance-memory-{backend(url)}"
    instance.mkdir(parents=True, exist_ok=True)
    (instance / "config.py").write_text("RUN_PERIODIC_JOBS_IN_REQUESTS = False\n")
    port = free_port()
    env = {
        **os.environ,
        "SALESDESK_DATABASE_URL": normalise_url(url),
        "SALESDESK_INSTANCE_PATH": str(instance),
        "SALESDESK_BIND": f"127.0.0.1:{port}",
        "SALESDESK_WORKERS": str(workers),
        "SALESDESK_ACCESS_LOG": str(log_path.with_suffix(".access")),
        "SALESDESK_LOG_LEVEL": "warning",
    }
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "--config",
        str(ROOT / "gunicorn.conf.py"),
        "--access-logformat",
        '%(p)s %(s)s "%(r)s"',
        "app:app",
    ]
    started = time.perf_counter()
    base_url = f"http://127.0.0.1:{port}"
    process = start_and_wait(command, env, log_path, base_url + "/healthz", seconds=120)
    while len(worker_pids(process.pid)) < workers:
        time.sleep(0.1)
    print(f"gunicorn ready in {time.perf_counter() - started:.1f} s (pid {process.pid})", flush=True)
    return process, base_url


def login(base_url, email):
    client = httpx.Client(base_url=base_url, timeout=120)
    page = client.get("/login")
    token = CSRF_META.search(page.text).group(1)
    response = client.post(
        "/login", data={"email": email, "password": PASSWORD, "next": "", "csrf_token": token}
    )
    if response.status_code != 303:
        raise SystemExit(f"login as {email}: {response.status_code}")
    home = client.get(response.headers["location"])
    client.headers["X-CSRFToken"] = CSRF_META.search(home.text).group(1)  # the session's token
    return client


def warm(base_url, listed, rounds, threads, similar_name):
    """Every page as each role that uses it, `rounds` times, from `threads` clients at once
    so that every worker serves every page (sync workers: one request each at a time);
    and the new-customer form's live duplicate check (it reads nothing it writes), which
    scans the fuzzy name index the master loaded."""
    clients = {(role, n): login(base_url, email) for role, email in ROLES.items() for n in range(threads)}
    failures = []

    def browse(n):
        for _round in range(rounds):
            for _endpoint, path, roles in listed:
                for role in roles:
                    response = clients[(role, n)].get(path)
                    if response.status_code != 200:
                        failures.append(f"{role} {path}: {response.status_code}")
            for role in ROLES:
                response = clients[(role, n)].post(
                    "/customers/duplicates",
                    data={"kind": "company", "name": similar_name},
                    headers={"HX-Request": "true"},
                )
                if response.status_code != 200:
                    failures.append(f"{role} duplicate check: {response.status_code}")

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(browse, range(threads)))
    for client in clients.values():
        client.close()
    return failures


# ---- memory ---------------------------------------------------------------------------------


def memory(pid):
    """MB from /proc/PID/status and /proc/PID/smaps_rollup."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _sep, rest = line.partition(":")
        if key in STATUS_FIELDS:
            values[key] = int(rest.split()[0]) / 1024
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, _sep, rest = line.partition(":")
        if key in ROLLUP_FIELDS:
            values[key] = int(rest.split()[0]) / 1024
    return values


def report(master, served):
    fields = ("RssAnon", "Pss", "Private_Dirty", "Pss_Anon", "Pss_File", "RssFile", "VmRSS")
    print(f"\n{'process':<16}{'requests':>9}" + "".join(f"{field:>14}" for field in fields) + "   (MB)")
    totals = Counter()
    rows = [("master", master)] + [(f"worker {pid}", pid) for pid in worker_pids(master)]
    for label, pid in rows:
        values = memory(pid)
        totals.update(values)
        count = "" if pid == master else served.get(pid, 0)
        print(f"{label:<16}{count:>9}" + "".join(f"{values.get(field, 0):14.1f}" for field in fields))
    print(f"{'total':<16}{'':>9}" + "".join(f"{totals[field]:14.1f}" for field in fields))
    return totals


def served_by_worker(access_log):
    served = Counter()
    for line in Path(access_log).read_text().splitlines():
        pid = line.partition(" ")[0].strip("<>")  # gunicorn writes the pid as <1234>
        if pid.isdigit():
            served[int(pid)] += 1
    return served


# ---- what each dictionary costs -------------------------------------------------------------

COSTS = """
import ctypes, gc, os, sys, tracemalloc
from pathlib import Path

def anon():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024

def measure():
    gc.collect()
    ctypes.CDLL(None).malloc_trim(0)  # as gunicorn.conf.py's when_ready does
    return tracemalloc.get_traced_memory()[0] / 2**20 if tracemalloc.is_tracing() else anon()

if os.environ.get("BENCH_TRACE"):
    tracemalloc.start()
last = measure()

def step(label):
    global last
    now = measure()
    print(f"{label}\t{now - last:.1f}", flush=True)
    last = now

from salesdesk import create_app
app = create_app({"SQLALCHEMY_DATABASE_URI": sys.argv[1], "RUN_PERIODIC_JOBS_IN_REQUESTS": False})
step("create_app() (Flask, SQLAlchemy, every blueprint)")
from salesdesk.ledger import keys
keys.simplify("重慶")
step("OpenCC t2s (ledger.keys.simplify)")
from salesdesk.ledger import search
search.index_values("深圳市腾飞科技有限公司")
step("pypinyin (characters, phrases)")
from salesdesk.kb import search as kb_search
kb_search.index_words("合同审批")
step("rjieba dictionary (KB search)")
from salesdesk.ledger.similar import name_index
with app.app_context():
    name_index().refresh()
step("fuzzy name index of every customer")
print(f"total\t{measure():.1f}")
"""


def costs(url):
    """Each step twice in a fresh process: RssAnon growth (tracemalloc off: it costs
    memory itself), then what tracemalloc sees allocated."""
    columns = {}
    for mode in ("", "1"):
        env = {**os.environ, "SALESDESK_INSTANCE_PATH": str(DATA / "instance"), "BENCH_TRACE": mode}
        output = subprocess.run(
            [sys.executable, "-c", COSTS, normalise_url(url)],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        columns[mode] = [line.split("\t") for line in output.splitlines()]
    print(f"{'loaded (in the order the master loads it)':<52} {'RssAnon':>8} {'traced':>8}  (MB)")
    for (label, rss), (_label, traced) in zip(columns[""], columns["1"], strict=True):
        sign = "" if label == "total" else "+"  # the process's whole RssAnon, all traced
        print(f"{label:<52} {float(rss):{sign}8.1f} {float(traced):{sign}8.1f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=_common.DEFAULT_SQLITE)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2, help="times each client browses every page")
    parser.add_argument("--threads", type=int, default=4, help="clients per role browsing at once")
    parser.add_argument("--costs", action="store_true", help="only what each dictionary and index costs")
    args = parser.parse_args(argv)
    url = normalise_url(args.database_url)
    DATA.mkdir(parents=True, exist_ok=True)
    if args.costs:
        costs(url)
        return
    ids = seeded_ids(url)
    listed = pages(ids)
    missing = check_coverage(listed)
    pages_per_round = sum(len(roles) for _endpoint, _path, roles in listed) + len(ROLES)
    requests = pages_per_round * args.rounds * args.threads
    print(f"{backend(url)}: {len(listed)} pages, {requests} requests; load {load()}", flush=True)
    if missing:
        print(f"  not warmed (nothing in the seed to show): {', '.join(missing)}")
    log_path = DATA / f"gunicorn-memory-{backend(url)}.log"
    process, base_url = start_gunicorn(url, args.workers, log_path)
    try:
        started = time.perf_counter()
        failures = warm(base_url, listed, args.rounds, args.threads, ids["key"][:-1] + "华")
        print(f"warmed in {time.perf_counter() - started:.1f} s; load {load()}")
        for failure in failures[:20]:
            print(f"  FAILED {failure}")
        time.sleep(1)  # let the last responses' post_request hooks run
        report(process.pid, served_by_worker(log_path.with_suffix(".access")))
    finally:
        stop_gunicorn(process)


if __name__ == "__main__":
    main()
