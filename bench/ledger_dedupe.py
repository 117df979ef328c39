"""Duplicate check at 100,000 customers: services.check_duplicates, and the live-check
endpoint the new-customer form calls while the user types.

    .venv/bin/python -m bench.ledger_dedupe --database-url sqlite:///bench/data/ledger.db
    .venv/bin/python -m bench.ledger_dedupe --database-url postgresql://postgres@127.0.0.1:5432/salesdesk_bench

First the cold start of the in-process fuzzy name index (similar.NameIndex: the first
similar-name check of a process loads every name key) is timed --cold times, each on
a fresh index. Then each scenario runs --warmup times untimed and --runs times timed,
each call in a fresh database session, as a request would be.

The trade-name (字号) rule: scenarios typing a seeded company's trade name alone (浙宏),
with its region (金华浙宏), and with its first industry word and the region in
parentheses (浙宏自动化（金华）). Then the warning rate: --rate-sample seeded customers
are checked, by name, against all the others (exclude_id = itself), as if each were
typed in again; how many would see a warning, and why (trade name, similar name).
The seeded names are random (bench/ledger_seed.py: two characters from ~190 for the
trade name, an industry word, a region in one of five styles), so every warning
between two of them is a false one.
"""

import argparse
import json
import random
import secrets
import time
from datetime import datetime

from . import _common
from ._common import MANAGER_EMAIL, backend, bench_app, logged_in_client, normalise_url, summary

TARGET_MS = 10


def examples(db, rng):
    from sqlalchemy import text

    from salesdesk.ledger import company_names, keys

    session = db.session
    n = session.execute(text("SELECT max(id) FROM customers")).scalar()

    def one(sql, **params):
        return session.execute(text(sql), params).scalar()

    existing = [
        one("SELECT name_key FROM customers WHERE id >= :id ORDER BY id LIMIT 1", id=rng.randrange(1, n))
        for _ in range(50)
    ]
    trade_names = []  # (typed, as the form sends it: its key and the name)
    while len(trade_names) < 150:
        name = one("SELECT name FROM customers WHERE id >= :id ORDER BY id LIMIT 1", id=rng.randrange(1, n))
        parsed = company_names.parse(name)
        if parsed.distinctive and parsed.region and parsed.industry:
            trade_names.append(parsed)
    typed = {
        "trade name alone": [p.trade for p in trade_names[:50]],
        "region + trade name": [p.region + p.trade for p in trade_names[50:100]],
        "trade name + industry (region)": [
            f"{p.trade}{p.industry[0]}（{p.region}）" for p in trade_names[100:]
        ],
    }
    # Similar names: a long key with one character changed (ratio ≥ 0.85 needs ≥ 7 characters).
    long_keys = session.execute(
        text("SELECT name_key FROM customers WHERE length(name_key) >= 8 ORDER BY id LIMIT 50")
    ).scalars()
    similar = [key[:-3] + "泓" + key[-2:] for key in long_keys]
    misses = []
    while len(misses) < 50:
        key = keys.company_key(
            f"{rng.choice('甲乙丙丁戊己庚辛')}{rng.choice('子丑寅卯辰巳午未')}量子科技有限公司"
        )
        key = f"{key}{rng.randrange(10**6)}"
        if one("SELECT id FROM customers WHERE name_key = :k", k=key) is None:
            misses.append(key)
    phones = (
        session.execute(text("SELECT key FROM contact_phones WHERE id % 997 = 0 LIMIT 50")).scalars().all()
    )
    emails = (
        session.execute(
            text("SELECT email_key FROM contacts WHERE email_key IS NOT NULL AND id % 997 = 0 LIMIT 50")
        )
        .scalars()
        .all()
    )
    codes = (
        session.execute(
            text("SELECT credit_code FROM customers WHERE credit_code IS NOT NULL AND id % 97 = 0 LIMIT 50")
        )
        .scalars()
        .all()
    )
    return {
        "typed": {label: [(keys.company_key(t), t) for t in names] for label, names in typed.items()},
        "existing": existing,
        "similar": similar,
        "misses": misses,
        "phones": phones,
        "emails": emails,
        "codes": codes,
    }


def time_calls(db, calls, warmup, runs):
    samples, cpu = [], []
    for i in range(warmup + runs):
        call = calls[i % len(calls)]
        db.session.remove()
        cpu_started = time.process_time()
        started = time.perf_counter()
        report = call()
        elapsed = (time.perf_counter() - started) * 1000
        if i >= warmup:
            samples.append(elapsed)
            cpu.append((time.process_time() - cpu_started) * 1000)
    db.session.remove()
    result = summary(samples)
    result["cpu_p50"], result["cpu_p95"] = summary(cpu)["p50"], summary(cpu)["p95"]
    return result, report


def warning_rate(db, rng, sample):
    """Each of `sample` seeded customers checked by its name against all the others, as
    the form would on submit: how many would be warned, by which rule, with examples."""
    from sqlalchemy import bindparam, text

    from salesdesk.ledger.duplicates import check_duplicates

    session = db.session
    top = session.execute(text("SELECT max(id) FROM customers")).scalar()
    ids = sorted(rng.sample(range(1, top + 1), sample))
    rows = []
    for chunk in range(0, len(ids), 500):
        rows += session.execute(
            text(
                "SELECT id, name, name_key FROM customers WHERE deleted_at IS NULL AND id IN :ids"
            ).bindparams(bindparam("ids", expanding=True)),
            {"ids": ids[chunk : chunk + 500]},
        ).all()
    warned, by_reason, examples, samples, cpu = 0, {}, [], [], []
    for customer_id, name, name_key in rows:
        db.session.remove()
        cpu_started, started = time.process_time(), time.perf_counter()
        report = check_duplicates(name_key=name_key, name=name, exclude_id=customer_id)
        samples.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
        if report.similar:
            warned += 1
            for reason in {match.reason for match in report.similar}:
                by_reason[reason] = by_reason.get(reason, 0) + 1
            if len(examples) < 8:
                examples.append([name, *[(m.customer.name, m.reason) for m in report.similar[:2]]])
    db.session.remove()
    return {
        "checked": len(rows),
        "warned": warned,
        "rate": warned / len(rows),
        "by_reason": by_reason,
        "examples": examples,
        "timing": {**summary(samples), "cpu_p50": summary(cpu)["p50"], "cpu_p95": summary(cpu)["p95"]},
    }


def print_rate(rate):
    print(
        f"warning rate: {rate['warned']:,} of {rate['checked']:,} seeded names checked against the others "
        f"would be warned ({rate['rate']:.1%}); by reason (a name may have several): {rate['by_reason']}"
    )
    for example in rate["examples"]:
        print("   ", example[0], "→", "; ".join(f"{other} ({reason})" for other, reason in example[1:]))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=_common.DEFAULT_SQLITE)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--cold", type=int, default=5, help="cold starts of the name index to time")
    parser.add_argument(
        "--rate-sample",
        type=int,
        default=2000,
        help="seeded customers checked for the warning rate (0: none)",
    )
    args = parser.parse_args(argv)
    url = normalise_url(args.database_url)
    app = bench_app(url)
    rng = random.Random(7)
    from salesdesk import settings
    from salesdesk.extensions import db
    from salesdesk.ledger import similar
    from salesdesk.ledger.duplicates import check_duplicates

    print(f"Duplicate check on {backend(url)} — {_common.machine()} — {datetime.now():%Y-%m-%d %H:%M}")
    print(f"load average before: {_common.load()}")
    results = {}
    with app.app_context(), app.test_request_context():
        ex = examples(db, rng)
        threshold = settings.current().similarity_percent / 100

        cold, cold_cpu = [], []
        for _ in range(args.cold):
            similar.forget_name_indexes()
            db.session.remove()
            cpu_started = time.process_time()
            started = time.perf_counter()
            similar.name_index().similar(ex["misses"][0], threshold)
            cold.append((time.perf_counter() - started) * 1000)
            cold_cpu.append((time.process_time() - cpu_started) * 1000)
        result = summary(cold)
        result["cpu_p50"], result["cpu_p95"] = summary(cold_cpu)["p50"], summary(cold_cpu)["p95"]
        results["cold start: first similar-name check (loads the index)"] = result
        index = similar.name_index()
        keys = sum(len(group.ids) for group in index.by_length.values())
        print(f"name index: {keys:,} keys in {len(index.by_length)} length groups")

        def cycle(values, make):
            return [lambda v=v: make(v) for v in values]

        scenarios = {
            "exact name hit (+similar)": cycle(ex["existing"], lambda k: check_duplicates(name_key=k)),
            "exact name miss (+similar)": cycle(ex["misses"], lambda k: check_duplicates(name_key=k)),
            "similar name (warns)": cycle(ex["similar"], lambda k: check_duplicates(name_key=k)),
            "exact name only, no fuzzy": cycle(
                ex["existing"], lambda k: check_duplicates(name_key=k, with_similar=False)
            ),
            **{
                f"trade-name rule: {label}": cycle(
                    values, lambda v: check_duplicates(name_key=v[0], name=v[1])
                )
                for label, values in ex["typed"].items()
            },
            "phone hit": cycle(ex["phones"], lambda k: check_duplicates(phone_keys=[k])),
            "e-mail hit": cycle(ex["emails"], lambda k: check_duplicates(email_keys=[k])),
            "credit code hit": cycle(ex["codes"], lambda k: check_duplicates(credit_code=k)),
            "form submit, all keys, all miss": cycle(
                list(zip(ex["misses"], range(50), strict=True)),
                lambda v: check_duplicates(
                    name_key=v[0],
                    credit_code=None,
                    phone_keys=[f"139{v[1]:08d}", f"0755{v[1]:08d}"],
                    email_keys=[f"nobody{v[1]}@example.com"],
                ),
            ),
        }
        checks = {}
        for label, calls in scenarios.items():
            result, report = time_calls(db, calls, args.warmup, args.runs)
            checks[label] = (len(report.blocking), len(report.similar))
            results[label] = result
        rate = warning_rate(db, rng, args.rate_sample) if args.rate_sample else None
        if rate:
            results["seeded names checked against the others"] = rate.pop("timing")

    # The live check as the browser calls it (htmx POST while typing).
    with app.app_context():
        manager = _common.user_by_email(MANAGER_EMAIL)
        client = logged_in_client(app, manager)
        db.session.remove()
    with client.session_transaction() as session:
        raw = session.setdefault("csrf_token", secrets.token_hex(20))
    from itsdangerous import URLSafeTimedSerializer

    token = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(raw)
    names = [*ex["similar"][:25], *ex["misses"][:25]]
    samples = []
    for i in range(args.warmup + args.runs):
        data = {"name": names[i % len(names)] + "有限公司", "kind": "company", "contact_phone": "1390000"}
        started = time.perf_counter()
        response = client.post(
            "/customers/duplicates", data=data, headers={"HX-Request": "true", "X-CSRFToken": token}
        )
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, response.status_code
        if i >= args.warmup:
            samples.append(elapsed)
    results["live check endpoint POST /customers/duplicates"] = summary(samples)

    header = f"{'scenario':<52} {'n':>4} {'p50':>7} {'p95':>7} {'max':>7} {'cpu p50':>8} {'cpu p95':>8}"
    header += "  found (blocking, similar)"
    print(header)
    print("-" * len(header))
    for label, result in results.items():
        flag = (
            "  MISSES 10 ms"
            if "cold" not in label and "endpoint" not in label and result["p95"] > TARGET_MS
            else ""
        )
        found = checks.get(label, "")
        print(
            f"{label:<52} {result['n']:>4} {result['p50']:7.2f} {result['p95']:7.2f} "
            f"{result['max']:7.2f} {result.get('cpu_p50', 0):8.2f} {result.get('cpu_p95', 0):8.2f}"
            f"  {found}{flag}"
        )
    if rate:
        print_rate(rate)
    print(f"load average after: {_common.load()}")
    out = _common.ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"dedupe-{backend(url)}.json").write_text(
        json.dumps(
            {"when": datetime.now().isoformat(timespec="seconds"), "results": results, "warning_rate": rate},
            indent=1,
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
