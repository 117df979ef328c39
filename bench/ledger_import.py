"""Import a 10,000-row XLSX against the 100,000-customer ledger, end to end.

    .venv/bin/python -m bench.ledger_import --database-url sqlite:///bench/data/ledger.db
    .venv/bin/python -m bench.ledger_import --database-url postgresql://postgres@127.0.0.1:5432/salesdesk_bench

Generates bench/data/import-10000.xlsx (Chinese headers; new customers, rows that
repeat an earlier row, customers already in the ledger and invalid rows), then runs
the importer's steps directly, in this thread — start_job (upload), set_mapping,
preview, start_commit, commit — timing each. By default it works on a copy of the
seeded database (a file copy on SQLite, CREATE DATABASE … TEMPLATE on PostgreSQL),
so the seeded data stays as it was; --in-place imports into the seeded database itself.
"""

import argparse
import json
import random
import time
from datetime import date, timedelta

from salesdesk.demo.words import INDUSTRIES

from . import _common
from ._common import DATA, MANAGER_EMAIL, backend, bench_app, copy_database, normalise_url
from .ledger_seed import EMAIL_DOMAINS, GIVEN, REGIONS, SURNAMES, TITLES, random_company

TARGET_S = 30
HEADERS = [
    "客户名称",
    "联系人",
    "职位",
    "手机",
    "邮箱",
    "微信",
    "行业",
    "地区",
    "来源",
    "等级",
    "阶段",
    "预计金额",
    "标签",
    "下次跟进",
    "负责人",
    "备注",
]
SOURCE_WORDS = ["官网", "展会", "转介绍", "电话开发", "广告", "其他", ""]
STAGE_WORDS = ["线索", "初步接触", "需求确认", "方案报价", "商务谈判", "赢单", ""]


def build_rows(db, count, rng, team_id):
    """(rows, expected counts). Kinds: new, repeated, existing, invalid."""
    from sqlalchemy import text

    from salesdesk.ledger import keys

    session = db.session
    taken_names = set(session.execute(text("SELECT name_key FROM customers")).scalars())
    taken_phones = set(session.execute(text("SELECT key FROM contact_phones")).scalars())
    existing = session.execute(
        text(
            "SELECT c.name, p.key FROM customers c JOIN contacts k ON k.customer_id = c.id "
            "JOIN contact_phones p ON p.contact_id = k.id WHERE c.id % 211 = 0"
        )
    ).all()
    reps = (
        session.execute(
            text("SELECT display_name FROM users WHERE team_id = :t AND role = 'rep' AND active"),
            {"t": team_id},
        )
        .scalars()
        .all()
    )

    def new_phone():
        while True:
            key = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
            if key not in taken_phones:
                taken_phones.add(key)
                return key

    def base_row(name):
        province = rng.choice(list(REGIONS))
        city = rng.choice(REGIONS[province])
        surname, given = rng.choice(SURNAMES), "".join(rng.sample(GIVEN, 2))
        phone = new_phone()
        return [
            name,
            surname + given,
            rng.choice(TITLES),
            phone if rng.random() < 0.8 else f"{phone[:3]}-{phone[3:7]}-{phone[7:]}",
            f"{phone}@{rng.choice(EMAIL_DOMAINS)}" if rng.random() < 0.6 else "",
            "",
            rng.choice(INDUSTRIES),
            f"{province}{'' if not city else ' ' + city}",
            rng.choice(SOURCE_WORDS),
            rng.choice("ABCD"),
            rng.choice(STAGE_WORDS),
            str(rng.randrange(0, 2_000_000)) if rng.random() < 0.7 else "",
            rng.choice(["", "", "展会线索", "重点客户"]),
            (date.today() + timedelta(days=rng.randint(1, 60))).isoformat() if rng.random() < 0.3 else "",
            rng.choice(reps) if rng.random() < 0.7 else "",
            "",
        ]

    rows, kinds = [], []
    n_invalid, n_existing, n_repeated = count * 4 // 100, count * 4 // 100, count * 3 // 100
    n_new = count - n_invalid - n_existing - n_repeated
    while len(rows) < n_new:
        name, _province, _city = random_company(rng)
        key = keys.company_key(name)
        if key and key not in taken_names:
            taken_names.add(key)
            rows.append(base_row(name))
            kinds.append("new")
    for i in range(n_repeated):  # the same company again, or another company with a phone seen before
        earlier = rows[rng.randrange(n_new)]
        if i % 2:
            row = list(earlier)
        else:
            while True:
                name, _p, _c = random_company(rng)
                key = keys.company_key(name)
                if key and key not in taken_names:
                    taken_names.add(key)
                    break
            row = base_row(name)
            row[3] = earlier[3]
        rows.append(row)
        kinds.append("repeated")
    for i in range(n_existing):  # in the ledger already: same name, or a known phone
        name, phone = existing[i % len(existing)]
        row = base_row(name if i % 2 else f"{name}（分公司）")
        if i % 3 == 0:
            name, _p, _c = random_company(rng)
            row = base_row(f"{name}{i}号")
            row[3] = phone
        rows.append(row)
        kinds.append("existing")
    bad = [
        (3, "1234"),  # not a phone (too few digits)
        (4, "someone@"),  # not an e-mail
        (10, "跑路了"),  # unknown stage
        (11, "一百万"),  # not an amount
        (0, ""),  # no name
        (14, "不存在的人"),  # unknown owner
        (13, "下周三"),  # not a date
    ]
    for i in range(n_invalid):
        name, _p, _c = random_company(rng)
        row = base_row(f"{name}{i}")
        column, value = bad[i % len(bad)]
        row[column] = value
        rows.append(row)
        kinds.append("invalid")
    order = list(range(len(rows)))
    # Shuffle, but keep each repeated row after the row it repeats.
    head, tail = order[:n_new], order[n_new:]
    rng.shuffle(head)
    rng.shuffle(tail)
    order = head[: n_new // 2] + tail + head[n_new // 2 :]
    return [rows[i] for i in order], {
        kind: kinds.count(kind) for kind in ("new", "repeated", "existing", "invalid")
    }


def write_xlsx(path, rows):
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("客户")
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(row)
    workbook.save(path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=_common.DEFAULT_SQLITE)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--in-place", action="store_true", help="import into the seeded database itself")
    parser.add_argument("--profile", action="store_true", help="print a pyinstrument profile of the steps")
    args = parser.parse_args(argv)
    url = normalise_url(args.database_url)
    cleanup = None
    if not args.in_place:
        url, cleanup = copy_database(url, "import")
    try:
        run(url, args)
    finally:
        if cleanup:
            cleanup()


def run(url, args):
    from flask_babel import force_locale

    from salesdesk.extensions import db
    from salesdesk.ledger import importer
    from salesdesk.ledger.models import ImportJob

    app = bench_app(url)
    rng = random.Random(11)
    path = DATA / f"import-{args.rows}.xlsx"
    print(f"Import on {backend(url)} — {_common.machine()} — load average {_common.load()}")
    with app.app_context():
        user = _common.user_by_email(MANAGER_EMAIL)
        started = time.perf_counter()
        rows, expected = build_rows(db, args.rows, rng, user.team_id)
        write_xlsx(path, rows)
        print(
            f"  generated {path.relative_to(_common.ROOT)} ({path.stat().st_size / 2**20:.1f} MB, "
            f"{time.perf_counter() - started:.1f} s): {expected}"
        )
        before = db.session.execute(db.text("SELECT count(*) FROM customers")).scalar()
        db.session.remove()

    profiler = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.002)
    steps = {}
    with app.app_context(), app.test_request_context(), force_locale("zh_Hans_CN"):
        user = _common.user_by_email(MANAGER_EMAIL)
        if profiler:
            profiler.start()
        total_started = t = time.perf_counter()
        cpu_started = c = time.process_time()

        def lap(label):
            nonlocal t, c
            now, cpu = time.perf_counter(), time.process_time()
            steps[label] = now - t
            print(f"  {label:<34} {now - t:7.2f} s  (cpu {cpu - c:6.2f} s)", flush=True)
            t, c = now, cpu

        with path.open("rb") as stream:
            job_id = importer.start_job(user, path.name, stream).id
        importer.THREADS[job_id].join()  # the file is read in the background
        db.session.remove()
        mapping = dict(db.session.get(ImportJob, job_id).mapping)
        user = _common.user_by_email(MANAGER_EMAIL)
        lap("start_job (upload, read, map)")
        unmapped = [h for i, h in enumerate(HEADERS) if i not in mapping.values()]
        assert not unmapped, f"headers not recognised: {unmapped}"
        importer.set_mapping(user, job_id, mapping)
        lap("set_mapping")
        importer.preview(job_id)
        db.session.remove()  # the preview ran in its own thread and session
        lap("preview (classify, store verdicts)")
        user = _common.user_by_email(MANAGER_EMAIL)  # the next request loads its user
        counts = dict(db.session.get(ImportJob, job_id).counts)
        importer.start_commit(user, job_id)
        lap("start_commit")
        importer.commit(job_id)
        lap("commit (classify again, insert)")
        total = time.perf_counter() - total_started
        total_cpu = time.process_time() - cpu_started
        if profiler:
            profiler.stop()
        db.session.remove()
        job = db.session.get(ImportJob, job_id)
        after = db.session.execute(db.text("SELECT count(*) FROM customers")).scalar()
        status = job.status
    print(f"  preview counts: {counts}; job {status}; customers {before:,} -> {after:,}")
    verdict = "meets" if total <= TARGET_S else "MISSES"
    print(
        f"  TOTAL upload -> preview -> commit: {total:.1f} s, cpu {total_cpu:.1f} s "
        f"({verdict} the {TARGET_S} s target); load average {_common.load()}"
    )
    if profiler:
        print(profiler.output_text(unicode=True, color=False))
    out = _common.ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"import-{backend(url)}.json").write_text(
        json.dumps({"steps": steps, "total": total, "counts": counts, "expected": expected}, indent=1)
    )


if __name__ == "__main__":
    main()
