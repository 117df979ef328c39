"""Estimate the effect of the proposed list-page fixes without touching application code.

    .venv/bin/python -m bench.ledger_whatif --database-url sqlite:///bench/data/ledger.db
    .venv/bin/python -m bench.ledger_whatif --database-url postgresql://postgres@127.0.0.1:5432/salesdesk_bench

Works on a throw-away copy of the seeded database. It times the statements the list page
runs today for a few scenarios, then applies the proposed indexes (sort indexes partial
on `deleted_at IS NULL`, the trash index partial on `deleted_at IS NOT NULL`; on
PostgreSQL also a stored tsvector column) and times the same statements again, plus the
proposed rewrite of a text search as one `id IN (name matches UNION visible contact
matches)`. With --keep the copy stays, so bench.ledger_list can be run against it
(its statements are the app's, so only the index changes show there).
"""

import argparse
import statistics
import time

from . import _common
from ._common import backend, copy_database, normalise_url

SORT_INDEXES = {
    "ix_customers_updated": "updated_at, id",
    "ix_customers_created": "created_at, id",
    "ix_customers_sort_name": "sort_name, id",
    "ix_customers_amount": "expected_amount, id",
    "ix_customers_next_follow_up": "next_follow_up_on, id",
    "ix_customers_last_follow_up": "last_follow_up_at, id",
}


def ddl(kind):
    statements = ["DROP INDEX ix_customers_deleted"]
    statements.append(
        "CREATE INDEX ix_customers_trash ON customers (deleted_at) WHERE deleted_at IS NOT NULL"
    )
    for name, columns in SORT_INDEXES.items():
        statements.append(f"DROP INDEX {name}")
        statements.append(f"CREATE INDEX {name} ON customers ({columns}) WHERE deleted_at IS NULL")
    if kind == "postgresql":
        statements += [
            "ALTER TABLE customers ADD COLUMN search_vector tsvector "
            "GENERATED ALWAYS AS (to_tsvector('simple', search_tokens)) STORED",
            "CREATE INDEX ix_customers_search_vector ON customers USING gin (search_vector)",
            "VACUUM ANALYZE customers",
        ]
    return statements


def statements(kind, manager_id, team_id):
    """(label, today's SQL, proposed SQL or None, parameters)."""
    p = "?" if kind == "sqlite" else "%s"
    visible = (
        f"(u.owner_id = {p} OR u.id IN (SELECT customer_id FROM collaborators WHERE user_id = {p} "
        f"AND status = 'active') OR (u.owner_id IS NOT NULL AND u.owner_id IN "
        f"(SELECT id FROM users WHERE team_id = {p})))"
    )
    visible_c = visible.replace("u.", "customers.")
    if kind == "sqlite":
        name_ids = f"SELECT rowid FROM customer_search WHERE customer_search MATCH {p}"
        contact_ids = f"SELECT rowid FROM contact_search WHERE search_text LIKE {p}"
        # Today's statement has ESCAPE '\\' (search.contact_customer_ids), which keeps FTS5
        # from using the trigram index; the proposed one leaves it out.
        contact_ids_now = contact_ids + " ESCAPE '\\'"
        new_name_ids = name_ids
        name_now = f"customers.id IN ({name_ids})"
    else:
        name_now = f"to_tsvector('simple', customers.search_tokens) @@ to_tsquery('simple', {p})"
        name_ids = None
        new_name_ids = f"SELECT id FROM customers WHERE search_vector @@ to_tsquery('simple', {p})"
        contact_ids = contact_ids_now = None
    contact_now = "customers.id IN (SELECT contacts.customer_id FROM contacts WHERE " + (
        f"contacts.id IN ({contact_ids_now}))" if kind == "sqlite" else f"contacts.search_text LIKE {p})"
    )
    contact_new = (
        "SELECT c.customer_id FROM contacts c JOIN customers u ON u.id = c.customer_id WHERE "
        + (f"c.id IN ({contact_ids})" if kind == "sqlite" else f"c.search_text LIKE {p}")
        + f" AND {visible}"
    )
    order = "ORDER BY customers.updated_at DESC, customers.id DESC LIMIT 50"
    fts = '"致家 家新 新能"' if kind == "sqlite" else "'致家' <-> '家新' <-> '新能'"
    common = '"科技"' if kind == "sqlite" else "'科技'"
    vis = (manager_id, manager_id, team_id)
    search_now = (
        f"SELECT customers.id FROM customers WHERE customers.deleted_at IS NULL AND ({name_now} OR "
        f"({contact_now} AND {visible_c})) {order}"
    )
    search_new = (
        f"SELECT customers.id FROM customers WHERE customers.deleted_at IS NULL AND customers.id IN "
        f"({new_name_ids} UNION {contact_new}) {order}"
    )
    count_now = search_now.replace("SELECT customers.id", "SELECT count(*)").replace(order, "")
    count_new = search_new.replace("SELECT customers.id", "SELECT count(*)").replace(order, "")
    common_now = (
        f"SELECT customers.id FROM customers WHERE customers.deleted_at IS NULL AND {name_now} {order}"
    )
    common_new = (
        f"SELECT customers.id FROM customers WHERE customers.deleted_at IS NULL AND customers.id IN "
        f"({new_name_ids}) {order}"
    )
    return [
        ("count, unfiltered", "SELECT count(*) FROM customers WHERE deleted_at IS NULL", None, ()),
        (
            "first page ids, unfiltered",
            "SELECT id FROM customers WHERE deleted_at IS NULL ORDER BY updated_at DESC, id DESC LIMIT 50",
            None,
            (),
        ),
        (
            "page 1,000 ids",
            "SELECT id FROM customers WHERE deleted_at IS NULL ORDER BY updated_at DESC, id DESC "
            "LIMIT 50 OFFSET 49950",
            None,
            (),
        ),
        (
            "sort by name, page 1,000 ids",
            "SELECT id FROM customers WHERE deleted_at IS NULL ORDER BY sort_name, id LIMIT 50 OFFSET 49950",
            None,
            (),
        ),
        ("search 致家新能: ids", search_now, search_new, (fts, "%致家新能%", *vis)),
        ("search 致家新能: count", count_now, count_new, (fts, "%致家新能%", *vis)),
        (
            "search 0214: ids",
            search_now,
            search_new,
            ('"0214"*' if kind == "sqlite" else "'0214':*", "%0214%", *vis),
        ),
        ("search 科技 (name only): ids", common_now, common_new, (common,)),
        (
            "search 科技 (name only): count",
            common_now.replace("SELECT customers.id", "SELECT count(*)").replace(order, ""),
            common_new.replace("SELECT customers.id", "SELECT count(*)").replace(order, ""),
            (common,),
        ),
    ]


def best_of(cursor, sql, params, repeat):
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        cursor.execute(sql, params)
        cursor.fetchall()
        timings.append((time.perf_counter() - started) * 1000)
    return min(timings), statistics.median(timings)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=_common.DEFAULT_SQLITE)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the modified copy")
    args = parser.parse_args(argv)
    url, cleanup = copy_database(normalise_url(args.database_url), "whatif")
    kind = backend(url)
    from sqlalchemy import create_engine

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    print(f"What-if on a copy ({kind}) — {_common.machine()} — load average {_common.load()}")
    try:
        raw = engine.raw_connection()
        cursor = raw.cursor()
        cursor.execute(
            "SELECT id, team_id FROM users WHERE email = " + ("?" if kind == "sqlite" else "%s"),
            (_common.MANAGER_EMAIL,),
        )
        manager_id, team_id = cursor.fetchone()
        listed = statements(kind, manager_id, team_id)
        before = {}
        for label, now_sql, _new, params in listed:
            before[label] = best_of(cursor, now_sql, params, args.repeat if "致家" not in label else 1)
        raw.commit()
        if kind == "postgresql":
            raw.driver_connection.autocommit = True
        for statement in ddl(kind):
            cursor.execute(statement)
        if kind == "sqlite":
            raw.commit()
        print(
            f"{'statement':<34} {'today (best/median ms)':>24} {'indexes changed':>18}"
            f" {'+ query rewrite':>16}"
        )
        for label, now_sql, new_sql, params in listed:
            if "致家" in label and kind == "postgresql":
                after = best_of(cursor, now_sql, params, 1)
            else:
                after = best_of(cursor, now_sql, params, args.repeat)
            rewritten = best_of(cursor, new_sql, params, args.repeat) if new_sql else None
            print(
                f"{label:<34} {before[label][0]:10.1f} / {before[label][1]:9.1f}   {after[0]:14.1f}   "
                + (f"{rewritten[0]:14.1f}" if rewritten else f"{'–':>14}"),
                flush=True,
            )
        raw.close()
        if args.keep:
            print(f"kept: {url}")
    finally:
        engine.dispose()
        if not args.keep:
            cleanup()


if __name__ == "__main__":
    main()
