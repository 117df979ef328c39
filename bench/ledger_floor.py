"""The list page against its floor: `GET /customers` page 1 and a bare Flask route that runs
the same SQL and renders the same rows into a plain table, timed in one alternating run.

    .venv/bin/python -m bench.ledger_floor --database-url sqlite:///bench/data/ledger.db
    .venv/bin/python -m bench.ledger_floor --database-url URL --rounds 300 --role rep
    .venv/bin/python -m bench.ledger_floor --database-url URL --profile-only
    .venv/bin/python -m bench.ledger_floor --database-url URL --parts 200 --rounds 0 --profile-runs 0

The bare route replays, through the same connection and with the same parameters, every
statement the list's view ran (captured once around the view function: the count, the
ids, the rows, the first contacts, the owner filter's sellers …) and renders every row
it fetched as <td>{{ value }}</td>; both requests go through the same Flask app, session
cookie and before/after-request hooks, so the difference is what the list does on top of
its SQL: ORM objects, access checks and masking, macros, translations, date and amount
formatting, links. Requests alternate (list, bare, list, bare …) so that a slow moment of
the shared machine hits both alike. Then a cProfile of the list page: self time by kind
of code, and the functions with the most cumulative time.
"""

import argparse
import cProfile
import importlib
import pstats
import statistics
import time
from collections import defaultdict

from . import _common
from ._common import (
    MANAGER_EMAIL,
    REP_EMAIL,
    backend,
    bench_app,
    load,
    logged_in_client,
    normalise_url,
    summary,
)

LIST = "/customers"
BARE = "/_bench/bare-list"
BARE_TEMPLATE = """<!doctype html><title>bare</title>
{%- for rows in results %}
<table>{% for row in rows %}<tr>{% for value in row %}<td>{{ value }}</td>{% endfor %}</tr>
{%- endfor %}</table>
{%- endfor %}"""
# Where the list's time goes, by the file a function lives in (first match wins).
KINDS = [
    ("SQL driver (execute, fetch)", ("sqlite3", "psycopg", "{method 'execute'", "{method 'fetch")),
    ("ORM loading (sqlalchemy.orm)", ("sqlalchemy/orm",)),
    ("SQLAlchemy Core (compile, result)", ("sqlalchemy/",)),
    (
        "i18n / dates / amounts (babel, i18n.py)",
        ("babel/", "flask_babel", "salesdesk/i18n.py", "pytz", "zoneinfo"),
    ),
    ("masking, access (ledger/access.py)", ("ledger/access.py",)),
    ("list query (ledger/queries.py)", ("ledger/queries.py",)),
    ("templates (compiled Jinja code)", ("<template>", ".html")),
    ("Jinja runtime, markupsafe", ("jinja2/", "markupsafe")),
    ("url_for, routing (werkzeug, flask)", ("werkzeug/", "flask/", "flask_login", "flask_wtf")),
    ("other salesdesk", ("salesdesk/",)),
]


# --parts: the functions the list's request goes through, timed around the real ones
# (replaced where their callers look them up), and its rendering ...
PARTS = (
    ("salesdesk.ledger.pages", "customers_context"),
    ("salesdesk.ledger.pages", "list_context"),
    ("salesdesk.ledger.queries", "list_customers"),
    ("salesdesk.ledger.queries", "load_for_display"),
    ("salesdesk.ledger.access", "first_contacts"),
    ("salesdesk.auth.services", "sellers"),
    ("salesdesk.ledger.columns", "rows"),
    ("salesdesk.rules.panel", "bulk_assign_form"),
)
# ... and the page's templates, each rendered once more with the page's context: what
# each costs on its own (base.html: the layout with an empty page).
PART_TEMPLATES = (
    "base.html",
    "ledger/_filters.html",
    "ledger/_results.html",
    "ledger/_view_switcher.html",
    "rules/_bulk_assign.html",
    "_partials/account_menu.html",
)


class Capture:
    """The statements a view runs, with their parameters, as the driver got them."""

    def __init__(self, engine):
        from sqlalchemy import event

        self.on = False
        self.statements = []
        event.listen(engine, "before_cursor_execute", self._before)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        if self.on:
            self.statements.append((statement, parameters))


def add_bare_route(app, capture):
    """The floor: the list view's statements replayed, every row in a plain table. The list
    view is wrapped to capture its statements the first time it runs."""
    from salesdesk.extensions import db

    template = app.jinja_env.from_string(BARE_TEMPLATE)
    view = app.view_functions["ledger.index"]

    def capturing_index(*args, **kwargs):
        capture.on = not capture.statements
        try:
            return view(*args, **kwargs)
        finally:
            capture.on = False

    def bare():
        connection = db.session.connection()
        results = [connection.exec_driver_sql(sql, params).all() for sql, params in capture.statements]
        return template.render(results=results)

    app.view_functions["ledger.index"] = capturing_index
    app.add_url_rule(BARE, "bench_bare_list", bare)


def timed_get(client, path):
    started, cpu = time.perf_counter(), time.process_time()
    response = client.get(path)
    elapsed, cpu = (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{path}: {response.status_code}")
    return elapsed, cpu, len(response.data)


def alternate(client, listed, rounds, warmup):
    for _ in range(warmup):
        timed_get(client, listed)
        timed_get(client, BARE)
    samples = defaultdict(list)
    for _ in range(rounds):
        for name, path in (("list", listed), ("bare", BARE)):
            wall, cpu, size = timed_get(client, path)
            samples[name].append(wall)
            samples[f"{name} cpu"].append(cpu)
            samples[f"{name} bytes"] = size
    return samples


def time_parts(app, client, listed, runs, warmup=20):
    """Median ms of each of PARTS and PART_TEMPLATES over `runs` list requests."""
    times = defaultdict(list)
    timed = _common.call_timer(times)

    from salesdesk.ledger import views

    originals = [(importlib.import_module(module), name) for module, name in PARTS]
    originals = [(module, name, getattr(module, name)) for module, name in originals]
    originals.append((views, "render", views.render))
    for module, name, function in originals[:-1]:
        setattr(module, name, timed(name, function))
    page_render = timed("render", views.render)

    def render_and_parts(template, fragment=None, **context):
        response = page_render(template, fragment, **context)
        full = {}
        app.update_template_context(full)
        full.update(context)
        for name in PART_TEMPLATES:
            started = time.perf_counter()
            app.jinja_env.get_template(name).render(full)
            times[name].append((time.perf_counter() - started) * 1000)
        return response

    views.render = render_and_parts
    try:
        for _ in range(warmup):
            client.get(listed)
        times.clear()
        wall = []
        for _ in range(runs):
            started = time.perf_counter()
            client.get(listed)
            wall.append((time.perf_counter() - started) * 1000)
    finally:
        for module, name, function in originals:
            setattr(module, name, function)
    print(f"\nParts of {runs} list requests after {warmup}, median ms (the request itself includes")
    print(f"the templates' second rendering): request {statistics.median(wall):.2f}")
    for label, samples in times.items():
        print(f"  {label:<32} {statistics.median(samples):6.2f}  ×{len(samples) // runs}")


def kind_of(filename, function):
    where = f"{filename} {function}"
    for label, needles in KINDS:
        if any(needle in where for needle in needles):
            return label
    return "other (Python, stdlib)"


def profile(client, listed, runs, top):
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(runs):
        client.get(listed)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = sum(entry[2] for entry in stats.stats.values())  # self time of everything
    by_kind = defaultdict(float)
    for (filename, _line, function), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():
        by_kind[kind_of(filename, function)] += tottime
    print(f"\ncProfile of {runs} list pages: self time by kind of code (ms per page)")
    for label, seconds in sorted(by_kind.items(), key=lambda item: -item[1]):
        print(f"  {label:<44} {seconds / runs * 1000:7.2f}  {seconds / total:5.1%}")
    print(f"  {'total':<44} {total / runs * 1000:7.2f}")
    print("\nTop functions by cumulative time (ms per page; calls per page), the app's and its libraries':")
    rows = []
    for (filename, line, function), (_cc, calls, tottime, cumtime, _callers) in stats.stats.items():
        if any(skip in filename for skip in ("cProfile", "flask/testing", "werkzeug/test")):
            continue
        short = filename.split("site-packages/")[-1].split("/salesdesk/")[-1]
        rows.append((cumtime, tottime, calls, f"{short}:{line}({function})", kind_of(filename, function)))

    def show(picked):
        for cumtime, tottime, calls, name, _kind in picked:
            print(
                f"  {cumtime / runs * 1000:7.2f} cum {tottime / runs * 1000:6.2f} self"
                f" {calls / runs:7.0f}×  {name[:100]}"
            )

    rows.sort(reverse=True)
    show(rows[:top])
    for label, _needles in KINDS[:7]:
        print(f"\n  {label}: the top functions by cumulative time")
        show([row for row in rows if row[4] == label][:8])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=_common.DEFAULT_SQLITE)
    parser.add_argument("--rounds", type=int, default=200, help="list/bare pairs timed")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--role", choices=("manager", "rep"), default="manager")
    views = ("mine", "collab", "team", "all", "pool")
    parser.add_argument("--view", choices=views, help="the list's view (default: the role's)")
    parser.add_argument("--profile-runs", type=int, default=100)
    parser.add_argument("--profile-only", action="store_true")
    parser.add_argument("--parts", type=int, default=0, help="list requests timed part by part (0: off)")
    parser.add_argument("--top", type=int, default=30, help="functions listed by cumulative time")
    args = parser.parse_args(argv)
    url = normalise_url(args.database_url)
    app = bench_app(url)
    from salesdesk.extensions import db

    with app.app_context():
        capture = Capture(db.engine)
        add_bare_route(app, capture)
        user = _common.user_by_email(MANAGER_EMAIL if args.role == "manager" else REP_EMAIL)
        client = logged_in_client(app, user)
        db.session.remove()
    listed = f"{LIST}?view={args.view}" if args.view else LIST
    timed_get(client, listed)  # captures the view's statements
    print(
        f"{backend(url)}, {args.role}, {listed}: list page 1 vs bare route"
        f" ({len(capture.statements)} statements); load {load()}",
        flush=True,
    )
    if not args.profile_only and args.rounds:
        samples = alternate(client, listed, args.rounds, args.warmup)
        print(f"{args.rounds} alternating rounds after {args.warmup} warm-up; ms")
        print(f"  {'':<6} {'p50':>7} {'p95':>7} {'cpu p50':>8} {'bytes':>8}")
        for name in ("list", "bare"):
            wall, cpu = summary(samples[name]), summary(samples[f"{name} cpu"])
            print(
                f"  {name:<6} {wall['p50']:7.2f} {wall['p95']:7.2f} {cpu['p50']:8.2f}"
                f" {samples[f'{name} bytes']:8,}"
            )
        ratio50 = summary(samples["list"])["p50"] / summary(samples["bare"])["p50"]
        ratio95 = summary(samples["list"])["p95"] / summary(samples["bare"])["p95"]
        cpu50 = summary(samples["list cpu"])["p50"] / summary(samples["bare cpu"])["p50"]
        print(f"  list / bare: p50 {ratio50:.2f}×, p95 {ratio95:.2f}×, CPU p50 {cpu50:.2f}×; load {load()}")
    if args.parts:
        time_parts(app, client, listed, args.parts)
    if args.profile_runs:
        profile(client, listed, args.profile_runs, args.top)


if __name__ == "__main__":
    main()
