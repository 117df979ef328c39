"""What a worker's memory is made of: RSS after each heavy thing a request can load,
in one process, in the order a worker meets them (bench/load.py reports the totals).

    .venv/bin/python -m bench.load_memory --database-url sqlite:///bench/data/ledger.db

Each line is VmRSS after the step and the growth it caused; VmHWM (peak) at the end.
"""

import argparse
import gc
from pathlib import Path

from . import _common
from ._common import REP_EMAIL, bench_app, logged_in_client, normalise_url, user_by_email


def rss_mb(field="VmRSS"):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=_common.DEFAULT_SQLITE)
    args = parser.parse_args(argv)
    last = rss_mb()
    print(f"{'step':<58} {'VmRSS':>7} {'growth':>7}  (MB)")

    def step(label):
        nonlocal last
        gc.collect()
        now = rss_mb()
        print(f"{label:<58} {now:7.1f} {now - last:+7.1f}", flush=True)
        last = now

    step("python + bench._common")
    app = bench_app(
        normalise_url(args.database_url), like_a_worker=False, TESTING=False, WTF_CSRF_ENABLED=False
    )
    step("create_app() (Flask, SQLAlchemy, every blueprint)")
    with app.app_context():
        rep = user_by_email(REP_EMAIL)
        client = logged_in_client(app, rep)
    client.get("/login")
    step("first request (Jinja, babel catalogs, a connection)")
    for path in ("/", "/customers", "/pool", "/leaderboard", "/kb/", "/notifications"):
        client.get(path)
    step("workbench, list, pool, leaderboard, KB index, notifications")
    client.get("/customers", query_string={"q": "科技"}, headers={"HX-Request": "true"})
    step("customer search 科技 (pypinyin? OpenCC t2s: query normalised)")
    client.get("/customers", query_string={"q": "ztsz"}, headers={"HX-Request": "true"})
    step("customer search by pinyin initials")
    from salesdesk.ledger import search

    search.index_values("深圳市腾飞科技有限公司")
    step("pypinyin used (search.index_values of one name)")
    client.get("/kb/search", query_string={"q": "报价 合同"})
    step("KB search (rjieba dictionary)")
    client.post("/customers/duplicates", data={"kind": "company", "name": "腾飞华瑞科技"})
    step("live duplicate check (fuzzy name index of every customer)")
    for _ in range(20):
        client.get("/customers", query_string={"page": 3})
        client.get("/customers/1")
    step("40 more list/customer pages")
    print(f"peak (VmHWM) {rss_mb('VmHWM'):.1f} MB")


if __name__ == "__main__":
    main()
