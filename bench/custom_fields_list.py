"""Custom fields on the customer list (issue 20): filters, sorts and columns on custom
fields at 100,000 customers, the whole `GET /customers` through the Flask test client.

    .venv/bin/python -m bench.custom_fields_list --database-url sqlite:////work/benchdata/cf_app.db
    .venv/bin/python -m bench.custom_fields_list --database-url postgresql://postgres@127.0.0.1:5432/salesdesk_cf_app
    # options: --seed-only, --no-seed, --runs 30, --warmup 3, --only a-,f-, --role manager,
    #          --view all, --explain a-choice-number-date-asc [--role rep], --profile NAME

The database must hold the ledger (bench/ledger_seed.py) at the migration head. The
seeding step, each part only when it is not there yet (reseed the ledger with --reset
to start again):

- ten customer fields (FIELDS, as bench/custom_fields_storage.py's: two texts, a long
  text, two numbers, money, a date, a single choice of 8 skewed options, a multiple
  choice of 6, yes/no), created as the admin through fields.definitions.create_field,
  which makes each listed field's expression index at run time (and ANALYZEs);
- their values on ~60 % of the customers, each field drawn on its own (bench/
  custom_fields_storage.py's distributions), kept as the app keeps them (fields/types.py:
  choice keys, money in integer fen, ISO dates, true/false) and written with bulk
  `UPDATE customers SET custom = …` statements through the column's own type, 5,000 a
  batch; then statistics (PostgreSQL `VACUUM ANALYZE customers`, what autovacuum would
  do after 60,000 updates; SQLite the sampled `ANALYZE customers` of fields/sql.py).

Scenarios, each as manager1 (team 1), rep01 and the admin, in each one's default view
(the team, their own customers, everyone's; --view forces one): (a) a single choice
(the second most common option, ~20 % of its values) AND a number range (its 30th to
70th percentile, ~40 %) sorted by the date field ascending, the issue's target p95 <=
50 ms; (b) the same descending; (a-all) (a) over everyone's customers (view=all) as
manager and rep; (c) a multiple choice "has" one option (the median one); (d) a
searchable text "contains" a word found in ~1 % of its values; (d2) a text that is not
searchable contains 电商 (two characters: no trigram narrows it) and (d3) 医疗器械; (e)
yes/no = yes; (f0) the unfiltered
list with the default columns and (f) with three custom columns shown (single choice,
money, date: users.list_columns holds their cf_ keys, set outside the timing). Every
request runs --warmup times, then --runs times timed, interleaved run by run over all
scenarios and viewers, so that load from elsewhere falls on all of them alike. p50 /
p95 / max wall time, CPU p50 (this process: on SQLite the queries too, on PostgreSQL
not the server's share), SQL p50 / p95 (cursor execute), statements, and the matches the
page says, checked for the admin against a count made in Python from the values. Results
(with every sample) go to bench/results/custom-fields-list-<backend>.json.

--explain NAME prints each statement of one request (after three) that filters or sorts
on a custom field, or takes 5 ms or more, with its time in the request and run again,
and its plan (SQLite EXPLAIN QUERY PLAN, PostgreSQL EXPLAIN (ANALYZE, BUFFERS)).
"""

import argparse
import json
import random
import re
import statistics
import time
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

from . import _common
from ._common import ADMIN_EMAIL, MANAGER_EMAIL, REP_EMAIL, backend, bench_app, normalise_url, summary
from .custom_fields_storage import CHOICE_LABELS, CHOICE_WEIGHTS, HAN, INDUSTRY_WORDS, vocabulary

TARGET_MS = 50
TARGETED = {"a-choice-number-date-asc", "b-choice-number-date-desc", "a-all"}
FILL = 0.6  # each field is filled on this share of the customers
BATCH = 5_000
TODAY = date(2026, 12, 6)  # the dates' middle, fixed so that a seed gives the same values

CHOICE_EN = {
    8: [
        "Trade fair",
        "Website",
        "Referral",
        "Telemarketing",
        "Channel partner",
        "Social media",
        "Tender",
        "Other",
    ],
    9: ["Cloud", "Analytics", "Security", "Consulting", "Training", "Hardware"],
}
# (label_zh, label_en, type, choices, searchable) in the order an admin adds them; keys
# come from the labels (definitions.key_from_label), choice keys c1, c2 … in the order
# given. The keywords are searchable (the search box looks in them); the industry segment
# is not, but its "contains" filter has a trigram index on PostgreSQL too (migration 0025),
# which serves needles of three characters or more.
FIELDS = [
    ("细分行业", "Industry segment", "text", None, False),  # ~50 distinct values, typed as text
    ("备注关键词", "Keywords", "text", None, True),  # free words: the "contains" filter
    ("客户背景", "Background", "long_text", None, False),
    ("员工人数", "Employees", "number", None, False),  # the range filter
    ("信用评分", "Credit score", "number", None, False),  # two decimals
    ("年度预算", "Annual budget", "money", None, False),
    ("合同到期日", "Contract ends", "date", None, False),  # the sort
    ("获客渠道", "Acquisition channel", "single_choice", 8, False),  # the choice filter, 8 skewed options
    ("关注产品", "Products of interest", "multiple_choice", 9, False),  # 6 options, 1–3 chosen
    ("已签保密协议", "NDA signed", "yes_no", None, False),
]
INDUSTRY, FREE_TEXT, NUMBER, DATE, CHOICE, MULTI, YES_NO = (
    "细分行业",
    "备注关键词",
    "员工人数",
    "合同到期日",
    "获客渠道",
    "关注产品",
    "已签保密协议",
)
SHOWN = ("获客渠道", "年度预算", "合同到期日")  # the three custom columns of scenario f
SEGMENT_WORD = "电商"  # in 2 of the 50 industry segments (跨境电商, 直播电商)
SEGMENT_LONG = "医疗器械"  # one whole segment: a needle a trigram index can narrow
# What a statement that filters or sorts on a custom field holds (fields/sql.py).
CUSTOM_SQL = ("json_extract(", "json_each(", "custom ->>", "custom @>")
SLOW_MS = 5
INDUSTRY_WEIGHTS = [1 / (rank + 1) ** 0.8 for rank in range(len(INDUSTRY_WORDS))]


# ---- seeding ---------------------------------------------------------------------------


def ensure_fields(admin):
    """{label_zh: CustomField} of FIELDS, each created through the app's service when
    missing (with the indexes fields/sql.py makes). Needs an app and a request context."""
    from salesdesk.fields import definitions

    existing = {f.label_zh: f for f in definitions.all_fields("customer")}
    for label_zh, label_en, kind, choice_set, searchable in FIELDS:
        if label_zh in existing:
            continue
        choices = []
        if choice_set:
            choices = [
                ("", zh, en, False)
                for zh, en in zip(CHOICE_LABELS[choice_set], CHOICE_EN[choice_set], strict=True)
            ]
        started = time.perf_counter()
        created = definitions.create_field(
            admin,
            definitions.Values(
                label_zh=label_zh, label_en=label_en, type=kind, choices=choices, searchable=searchable
            ),
        )
        print(
            f"    field {label_zh} ({kind}) key {created.key}: {time.perf_counter() - started:.2f} s "
            "(with its indexes and ANALYZE)",
            flush=True,
        )
        existing[label_zh] = created
    return {label_zh: existing[label_zh] for label_zh, *_rest in FIELDS}


def draw_values(fields, rng, words, cumulative):
    """One customer's {key: value} as the app keeps them (fields/types.py)."""
    custom = {}
    for label, f in fields.items():
        if rng.random() >= FILL:
            continue
        kind = f.type
        if label == INDUSTRY:
            value = rng.choices(INDUSTRY_WORDS, weights=INDUSTRY_WEIGHTS)[0]
        elif kind == "text":
            value = " ".join(rng.choices(words, cum_weights=cumulative, k=rng.randint(3, 8)))
        elif kind == "long_text":
            value = "".join(rng.choices(HAN, k=rng.randint(80, 400)))
        elif label == NUMBER:
            value = min(100_000, int(rng.lognormvariate(4, 1.2)) + 1)
        elif kind == "number":
            value = rng.randint(0, 10_000) / 100  # a float of two decimals, as types._number keeps it
            value = int(value) if value.is_integer() else value
        elif kind == "money":
            value = int(rng.lognormvariate(13, 1.5))  # fen
        elif kind == "date":
            value = (TODAY + timedelta(days=rng.randint(-365, 3 * 365))).isoformat()
        elif kind == "single_choice":
            keys = [choice["key"] for choice in f.choices]
            value = rng.choices(keys, weights=CHOICE_WEIGHTS[: len(keys)])[0]
        elif kind == "multiple_choice":
            keys = [choice["key"] for choice in f.choices]
            chosen = set(rng.sample(keys, rng.randint(1, 3)))
            value = [key for key in keys if key in chosen]  # in the field's order
        elif kind == "yes_no":
            value = rng.random() < 0.35
        else:
            continue
        custom[f.key] = value
    return custom


def fill_values(db, fields, seed):
    """Values on ~60 % of the customers, in bulk UPDATEs through the column's type."""
    from sqlalchemy import bindparam, select, update

    from salesdesk.ledger.models import Customer

    table = Customer.__table__
    statement = (
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(custom=bindparam("b_custom", type_=table.c.custom.type))
    )
    rng = random.Random(seed)
    words, cumulative, _latin = vocabulary(rng)
    ids = db.session.scalars(select(table.c.id).order_by(table.c.id)).all()
    db.session.rollback()
    written = 0
    engine = db.engine
    for start in range(0, len(ids), BATCH):
        rows = []
        for customer_id in ids[start : start + BATCH]:
            custom = draw_values(fields, rng, words, cumulative)
            if custom:
                rows.append({"b_id": customer_id, "b_custom": custom})
        with engine.begin() as connection:
            connection.execute(statement, rows)
        written += len(rows)
        if (start // BATCH) % 4 == 3:
            print(f"    {start + BATCH:,} customers read, {written:,} written", flush=True)
    return written


def refresh_statistics(db):
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE customers")
    else:
        with db.engine.begin() as connection:
            connection.exec_driver_sql("PRAGMA analysis_limit = 1000")  # fields/sql.py: analyze()
            connection.exec_driver_sql("ANALYZE customers")


def seed(app, db, args):
    from sqlalchemy import func, select

    from salesdesk.ledger.models import Customer

    watch = _common.Stopwatch()
    with app.app_context(), app.test_request_context():
        admin = _common.user_by_email(ADMIN_EMAIL)
        fields = ensure_fields(admin)
        watch.lap("fields (create_field, indexes)")
        filled = db.session.scalar(select(func.count()).where(Customer.custom.is_not(None)))
        # Plain copies of the definitions, and no transaction left open in the session:
        # an open snapshot would keep VACUUM from clearing the updated rows' old versions
        # and from marking pages all-visible (no index-only scans afterwards).
        plain = {
            label: SimpleNamespace(key=f.key, type=f.type, choices=f.choices) for label, f in fields.items()
        }
        db.session.remove()
        if filled:
            print(f"    values already there on {filled:,} customers")
        else:
            written = fill_values(db, plain, args.seed)
            watch.lap(f"values on {written:,} customers")
            db.session.remove()
            refresh_statistics(db)
            watch.lap(
                "VACUUM ANALYZE customers" if backend(args.url) == "postgresql" else "ANALYZE customers"
            )
        db.session.remove()


# ---- what to ask for -------------------------------------------------------------------


def examples(db, fields):
    """The filter values, from the data: the second most common choice, the number's
    30th–70th percentile, the median option of the multiple choice, a word of the free
    text found in ~1 % of its values. Also each scenario's match count over everyone's
    customers, counted in Python (to check the admin's pages against)."""
    from sqlalchemy import select

    from salesdesk.ledger.models import Customer

    rows = db.session.execute(
        select(Customer.custom).where(Customer.deleted_at.is_(None), Customer.custom.is_not(None))
    ).scalars()
    documents = list(rows)
    db.session.rollback()
    key = {label: f.key for label, f in fields.items()}
    choices = Counter(d[key[CHOICE]] for d in documents if key[CHOICE] in d)
    numbers = sorted(d[key[NUMBER]] for d in documents if key[NUMBER] in d)
    options = Counter(option for d in documents for option in d.get(key[MULTI], []))
    texts = [d[key[FREE_TEXT]] for d in documents if key[FREE_TEXT] in d]
    word_rows = Counter(word for text in texts for word in set(text.split()))
    latin = [(word, n) for word, n in word_rows.items() if word.isascii() and len(word) >= 6]
    needle = min(latin, key=lambda item: (abs(item[1] / len(texts) - 0.01), item[0]))[0]
    ranked_options = sorted(options.items(), key=lambda item: (item[1], item[0]))
    found = {
        "choice": choices.most_common()[1][0],
        "low": numbers[int(0.30 * (len(numbers) - 1))],
        "high": numbers[int(0.70 * (len(numbers) - 1))],
        "option": ranked_options[len(ranked_options) // 2][0],
        "needle": needle,
        "segment": SEGMENT_WORD,
        "segment_long": SEGMENT_LONG,
    }

    def count(predicate):
        return sum(1 for d in documents if predicate(d))

    def in_range(d):
        return key[NUMBER] in d and found["low"] <= d[key[NUMBER]] <= found["high"]

    expected = {
        "a": count(lambda d: d.get(key[CHOICE]) == found["choice"] and in_range(d)),
        "c": count(lambda d: found["option"] in d.get(key[MULTI], [])),
        "d": count(lambda d: found["needle"].lower() in d.get(key[FREE_TEXT], "").lower()),
        "d2": count(lambda d: SEGMENT_WORD in d.get(key[INDUSTRY], "")),
        "d3": count(lambda d: SEGMENT_LONG in d.get(key[INDUSTRY], "")),
        "e": count(lambda d: d.get(key[YES_NO]) is True),
    }
    return found, expected, len(documents)


def scenarios(keys, ex, view):
    """[(name, path, viewers or None for all three, custom columns shown)]; keys: {label: key}."""
    cf = {label: f"cf_{key}" for label, key in keys.items()}
    pair = f"{cf[CHOICE]}={ex['choice']}&{cf[NUMBER]}_min={ex['low']}&{cf[NUMBER]}_max={ex['high']}"
    at = f"&view={view}" if view else ""
    listed = [
        ("a-choice-number-date-asc", f"/customers?{pair}&sort={cf[DATE]}&direction=asc{at}", None, False),
        ("b-choice-number-date-desc", f"/customers?{pair}&sort={cf[DATE]}&direction=desc{at}", None, False),
        ("a-all", f"/customers?{pair}&sort={cf[DATE]}&direction=asc&view=all", ("manager", "rep"), False),
        ("c-multiple-has", f"/customers?{cf[MULTI]}={ex['option']}{at}", None, False),
        ("d-text-contains", f"/customers?{cf[FREE_TEXT]}={ex['needle']}{at}", None, False),
        ("d2-contains-not-searchable", f"/customers?{cf[INDUSTRY]}={ex['segment']}{at}", None, False),
        ("d3-contains-4-characters", f"/customers?{cf[INDUSTRY]}={ex['segment_long']}{at}", None, False),
        ("e-yes-no", f"/customers?{cf[YES_NO]}=yes{at}", None, False),
        ("f0-unfiltered", f"/customers?{at[1:]}", None, False),
        ("f-three-custom-columns", f"/customers?{at[1:]}", None, True),
    ]
    if view == "all":
        listed = [s for s in listed if s[0] != "a-all"]
    return listed


def shown_columns(fields):
    """users.list_columns with the default columns and three custom ones, as columns.choose
    keeps it (in the list's order)."""
    from salesdesk.ledger import columns, queries

    wanted = {c.key for c in columns.COLUMNS if c.shown_by_default}
    wanted |= {f"{queries.CUSTOM_PREFIX}{fields[label].key}" for label in SHOWN}
    return ",".join(c.key for c in columns.all_columns(queries.listed_fields()) if c.key in wanted)


def set_columns(app, db, user_ids, value):
    from sqlalchemy import update

    from salesdesk.auth.models import User

    with app.app_context():
        db.session.execute(update(User).where(User.id.in_(user_ids)).values(list_columns=value))
        db.session.commit()
        db.session.remove()


# ---- timing ----------------------------------------------------------------------------


def app_version():
    """The commit the app's code is at, and whether salesdesk/ or templates/ differ from it
    (the app may be changing while this runs)."""
    import subprocess

    def git(*args):
        found = subprocess.run(["git", *args], cwd=_common.ROOT, capture_output=True, text=True, check=False)
        return found.stdout.strip()

    changed = git("status", "--porcelain", "--", "salesdesk", "templates").splitlines()
    return f"{git('rev-parse', '--short', 'HEAD')}" + (f" + {len(changed)} changed files" if changed else "")


def fetch(client, path):
    response = client.get(path)
    if response.status_code != 200:
        raise SystemExit(f"{path}: HTTP {response.status_code}")
    return response


def matches_of(response):
    found = re.search(r'results-summary">\s*<span>([^<]*)</span>', response.get_data(as_text=True))
    return found.group(1) if found else "?"


def custom_headers(response):
    return len(re.findall(r'<th scope="col" class="col-cf_', response.get_data(as_text=True)))


def measure(app, db, clients, timer, plan, columns_value, warmup, runs):
    """Every (scenario, viewer) of `plan` once a round, warm-up rounds first; the
    rounds' order is the plan's, with the custom-columns scenarios last (the columns
    are switched twice a round, untimed)."""
    user_ids = [user_id for _client, user_id in clients.values()]
    plan = sorted(plan, key=lambda item: item[3])
    samples = defaultdict(lambda: {"wall": [], "cpu": [], "sql": [], "statements": []})
    seen = {}
    columns_on = False
    for round_number in range(warmup + runs):
        for name, role, path, with_columns in plan:
            if with_columns != columns_on:
                set_columns(app, db, user_ids, columns_value if with_columns else "")
                columns_on = with_columns
            client = clients[role][0]
            timer.reset()
            cpu_started = time.process_time()
            started = time.perf_counter()
            response = fetch(client, path)
            elapsed = (time.perf_counter() - started) * 1000
            cpu = (time.process_time() - cpu_started) * 1000
            if round_number < warmup:
                seen[(name, role)] = {
                    "matches": matches_of(response),
                    "custom_columns": custom_headers(response),
                    "bytes": len(response.get_data()),
                }
                continue
            sample = samples[(name, role)]
            sample["wall"].append(elapsed)
            sample["cpu"].append(cpu)
            sample["sql"].append(timer.seconds * 1000)
            sample["statements"].append(timer.count)
        if round_number == warmup - 1 or round_number % 10 == 9:
            print(f"    round {round_number + 1} of {warmup + runs}, load {_common.load()}", flush=True)
    if columns_on:
        set_columns(app, db, user_ids, "")
    results = {}
    for (name, role), sample in samples.items():
        result = summary(sample["wall"])
        result["cpu_p50"] = statistics.median(sample["cpu"])
        result["sql_p50"] = statistics.median(sample["sql"])
        result["sql_p95"] = _common.percentile(sample["sql"], 0.95)
        result["samples_ms"] = [round(ms, 2) for ms in sample["wall"]]
        result["sql_samples_ms"] = [round(ms, 2) for ms in sample["sql"]]
        result["statements"] = max(sample["statements"])
        result.update(seen[(name, role)])
        results[(name, role)] = result
    return results


def explain(app, db, clients, path, role):
    """Each statement of one request that filters or sorts on a custom field or takes
    SLOW_MS or more, with its time (in the request, and run again to the last row) and
    its plan."""
    from .performance_board import StatementLog, full_time, print_plan

    with app.app_context():
        log = StatementLog(db.engine)
    client = clients[role][0]
    for _ in range(3):
        fetch(client, path)
    statements = log.record(client, path)  # outside our app context (performance_board: --slow)
    with app.app_context():
        print(f"{len(statements)} statements, {sum(s[2] for s in statements):.1f} ms in all")
        for statement, parameters, milliseconds in statements:
            full = full_time(db, statement, parameters)
            if any(part in statement for part in CUSTOM_SQL) or max(milliseconds, full) >= SLOW_MS:
                print_plan(db, statement, parameters, milliseconds, full)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=_common.DEFAULT_SQLITE)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--only", help="scenarios whose name contains one of these (comma-separated)")
    parser.add_argument("--role", help="viewers: manager, rep, admin (comma-separated; default all three)")
    parser.add_argument("--view", choices=["mine", "team", "all", "pool", "collab"], help="one view for all")
    parser.add_argument("--seed", type=int, default=20261206)
    parser.add_argument("--seed-only", action="store_true", help="seed what is missing, then stop")
    parser.add_argument("--no-seed", action="store_true", help="time the database as it is")
    parser.add_argument("--explain", metavar="NAME", help="the custom statements of one request with plans")
    parser.add_argument("--profile", metavar="NAME", help="a pyinstrument profile of --runs requests")
    parser.add_argument("--tag", default="", help="suffix for the results file name")
    args = parser.parse_args(argv)
    args.url = url = normalise_url(args.database_url)
    app = bench_app(url)
    from salesdesk.extensions import db

    print(
        f"Custom fields, list page on {backend(url)} — {_common.machine()} — {datetime.now():%Y-%m-%d %H:%M}"
    )
    print(f"app at {app_version()}; load average before: {_common.load()}", flush=True)
    if not args.no_seed:
        seed(app, db, args)
    if args.seed_only:
        return
    from .ledger_list import SqlTimer, profile

    with app.app_context():
        from salesdesk.fields.definitions import all_fields

        by_label = {f.label_zh: f for f in all_fields("customer")}
        missing = [label for label, *_rest in FIELDS if label not in by_label]
        if missing:
            raise SystemExit(f"fields missing: {', '.join(missing)} (run without --no-seed)")
        fields = {label: by_label[label] for label, *_rest in FIELDS}
        keys = {label: f.key for label, f in fields.items()}
        ex, expected, documents = examples(db, fields)
        columns_value = shown_columns(fields)
        timer = SqlTimer(db.engine)
        viewers = {
            "manager": _common.user_by_email(MANAGER_EMAIL),
            "rep": _common.user_by_email(REP_EMAIL),
            "admin": _common.user_by_email(ADMIN_EMAIL),
        }
        roles = args.role.split(",") if args.role else list(viewers)
        clients = {
            role: (_common.logged_in_client(app, user), user.id)
            for role, user in viewers.items()
            if role in roles
        }
        db.session.rollback()
    print(f"fields: {keys}")
    print(f"examples: {ex}; customers with values (not in the trash): {documents:,}")
    print(f"expected matches over everyone's customers: {expected}")
    listed = scenarios(keys, ex, args.view)
    if args.only:
        listed = [s for s in listed if any(part in s[0] for part in args.only.split(","))]

    if args.explain or args.profile:
        name = args.explain or args.profile
        chosen = [s for s in listed if s[0] == name] or [s for s in listed if name in s[0]]
        if not chosen:
            raise SystemExit(f"no scenario matches {name}")
        label, path, _viewers, with_columns = chosen[0]
        role = roles[0]
        print(f"== {label} as {role}: {path}")
        if with_columns:
            set_columns(app, db, [clients[role][1]], columns_value)
        try:
            if args.explain:
                explain(app, db, clients, path, role)
            else:
                profile(clients[role][0], path, False, args.runs)
        finally:
            if with_columns:
                set_columns(app, db, [clients[role][1]], "")
        return

    plan = [
        (name, role, path, with_columns)
        for name, path, only_for, with_columns in listed
        for role in clients
        if only_for is None or role in only_for
    ]
    print(f"{len(plan)} requests a round, {args.warmup} + {args.runs} rounds", flush=True)
    results = measure(app, db, clients, timer, plan, columns_value, args.warmup, args.runs)
    header = f"{'scenario':<28} {'viewer':<8} {'p50':>7} {'p95':>7} {'max':>7} {'cpu p50':>8} {'sql p50':>8}"
    header += f" {'sql p95':>8} {'stmts':>5}  matches"
    print(header)
    print("-" * len(header))
    out = defaultdict(dict)
    for name, path, _only_for, with_columns in listed:
        for role in clients:
            result = results.get((name, role))
            if result is None:
                continue
            result["url"] = path
            out[name][role] = result
            note = ""
            if name in TARGETED:
                note = "  p95 <= 50 ms: " + ("met" if result["p95"] <= TARGET_MS else "MISSED")
            if with_columns:
                note += f"  ({result['custom_columns']} custom columns)"
            letter = name.split("-")[0]
            wanted = expected.get("a" if letter == "b" else letter)
            if wanted is not None and (name == "a-all" or (role == "admin" and not args.view)):
                said = re.sub(r"\D", "", result["matches"])
                result["expected"] = wanted
                if not result["matches"].startswith(("More", "超过")):
                    note += "  (as counted)" if said == str(wanted) else f"  (EXPECTED {wanted:,})"
            print(
                f"{name:<28} {role:<8} {result['p50']:7.1f} {result['p95']:7.1f} {result['max']:7.1f} "
                f"{result['cpu_p50']:8.1f} {result['sql_p50']:8.1f} {result['sql_p95']:8.1f} "
                f"{result['statements']:5d}  "
                f"{result['matches']}{note}",
                flush=True,
            )
    print(f"load average after: {_common.load()}")
    folder = _common.ROOT / "bench" / "results"
    folder.mkdir(parents=True, exist_ok=True)
    path = Path(folder / f"custom-fields-list-{backend(url)}{args.tag}.json")
    path.write_text(
        json.dumps(
            {
                "when": datetime.now().isoformat(timespec="seconds"),
                "machine": _common.machine(),
                "load": _common.load(),
                "app": app_version(),
                "fields": keys,
                "examples": ex,
                "expected_everyone": expected,
                "runs": args.runs,
                "warmup": args.warmup,
                "results": out,
            },
            ensure_ascii=False,
            indent=1,
        )
    )
    print(f"(written to {path.relative_to(_common.ROOT)})")


if __name__ == "__main__":
    main()
