"""Import of a 10,000-row XLSX with five custom columns (issue 20), against the same
file without them, on the 100,000-customer ledger.

    .venv/bin/python -m bench.custom_fields_import --database-url sqlite:////work/benchdata/cf_app.db
    .venv/bin/python -m bench.custom_fields_import --database-url postgresql://postgres@127.0.0.1:5432/salesdesk_cf_app
    # options: --rows 10000 --rounds 1 --variants custom,plain --profile

The ten customer fields of bench/custom_fields_list.py are created first when missing
(through fields.definitions.create_field, in the seeded database itself; their values
are that script's business). Then the rows of bench/ledger_import.py (same seed: 8,900
new customers, 300 repeats within the file, 400 already in the ledger, 400 invalid
rows) are written twice: bench/data/import-cf-<rows>.xlsx with five more columns headed
by the fields' Chinese labels — 获客渠道 (single choice, by its label), 年度预算 (money
as people type it: ¥12,000, one in five ¥12,000.50), 合同到期日 (a real Excel date
cell), 已签保密协议 (是/否), 员工人数 (a number cell), each filled on ~60 % of the rows,
and a wrong value in one of them on 1 % of the rows (a choice that is not offered,
"也许", a date in words, money in words, a number in words) — and
bench/data/import-cf-<rows>-plain.xlsx, the same rows without those columns.

Each file is imported in a child process of its own (so that each has its own peak
RSS) into a throw-away copy of the seed (a file copy on SQLite, CREATE DATABASE …
TEMPLATE on PostgreSQL), as manager1, through the importer's service as
bench/ledger_import.py does: start_job (upload, read in the background, mapping
guessed from the headers: the custom columns must be recognised by their labels) →
set_mapping (the guessed one) → preview (the dry run: every value converted and
checked) → start_commit → commit. Each phase: wall, process CPU, and the peak memory
during it: RssAnon sampled every 10 ms (the process's own heap, as bench/ledger_export.py
judges it) and VmHWM (reset before each phase through /proc/self/clear_refs; on SQLite
it also counts the pages of the mapped database file). After the
commit, how many of the new customers hold each custom value is counted. --rounds N
imports each file N times, the order alternating. Results go to
bench/results/custom-fields-import-<backend>.json.
"""

import argparse
import json
import random
import subprocess
import sys
import time
from contextlib import suppress
from datetime import date, datetime, timedelta
from pathlib import Path

from . import _common
from ._common import ADMIN_EMAIL, DATA, MANAGER_EMAIL, backend, bench_app, copy_database, normalise_url
from .custom_fields_list import CHOICE, DATE, NUMBER, YES_NO, app_version, ensure_fields
from .custom_fields_storage import CHOICE_LABELS, CHOICE_WEIGHTS
from .ledger_export import AnonymousPeak
from .ledger_import import HEADERS, TARGET_S, build_rows

BUDGET = "年度预算"
CUSTOM_HEADERS = [CHOICE, BUDGET, DATE, YES_NO, NUMBER]
FILLED = 0.6
WRONG = 0.01  # rows with a custom value the dry run must refuse
WRONG_VALUES = {CHOICE: "直播带货", BUDGET: "一万二", DATE: "下个月底", YES_NO: "也许", NUMBER: "十几个"}


def custom_cells(rng):
    """The five custom cells of a row, as a person or Excel writes them."""
    cells = [None] * len(CUSTOM_HEADERS)
    if rng.random() < FILLED:
        cells[0] = rng.choices(CHOICE_LABELS[8], weights=CHOICE_WEIGHTS)[0]
    if rng.random() < FILLED:
        yuan = int(rng.lognormvariate(10, 1.5)) + 1
        cells[1] = f"¥{yuan:,}.50" if rng.random() < 0.2 else f"¥{yuan:,}"
    if rng.random() < FILLED:
        cells[2] = date(2026, 12, 6) + timedelta(days=rng.randint(-365, 3 * 365))  # an Excel date
    if rng.random() < FILLED:
        cells[3] = "是" if rng.random() < 0.35 else "否"
    if rng.random() < FILLED:
        cells[4] = min(100_000, int(rng.lognormvariate(4, 1.2)) + 1)  # a number cell
    if rng.random() < WRONG:
        column = rng.randrange(len(CUSTOM_HEADERS))
        cells[column] = WRONG_VALUES[CUSTOM_HEADERS[column]]
    return cells


def write_xlsx(path, headers, rows):
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("客户")
    sheet.append(headers)
    for row in rows:
        sheet.append([None if cell == "" else cell for cell in row])
    workbook.save(path)


def make_files(url, rows_wanted):
    """Both files from the same rows (bench/ledger_import.py's, same seed); returns
    (custom file, plain file, expected kinds, {label: key} of the custom columns)."""
    from flask_babel import force_locale

    from salesdesk.extensions import db

    app = bench_app(url, like_a_worker=False)
    with app.app_context(), app.test_request_context(), force_locale("zh_Hans_CN"):
        fields = ensure_fields(_common.user_by_email(ADMIN_EMAIL))
        keys = {label: fields[label].key for label in CUSTOM_HEADERS}
        user = _common.user_by_email(MANAGER_EMAIL)
        started = time.perf_counter()
        rows, expected = build_rows(db, rows_wanted, random.Random(11), user.team_id)
        rng = random.Random(20)
        custom_rows = [row + custom_cells(rng) for row in rows]
        custom_path = DATA / f"import-cf-{rows_wanted}.xlsx"
        plain_path = DATA / f"import-cf-{rows_wanted}-plain.xlsx"
        write_xlsx(custom_path, HEADERS + CUSTOM_HEADERS, custom_rows)
        write_xlsx(plain_path, HEADERS, rows)
        wrong = sum(1 for row in custom_rows for cell in row[len(HEADERS) :] if cell in WRONG_VALUES.values())
        print(
            f"  generated {custom_path.name} ({custom_path.stat().st_size / 2**20:.1f} MB) and "
            f"{plain_path.name} ({plain_path.stat().st_size / 2**20:.1f} MB) in "
            f"{time.perf_counter() - started:.1f} s: {expected}, {wrong} rows with a wrong custom value",
            flush=True,
        )
        db.session.remove()
    # No connection left on the seed: CREATE DATABASE … TEMPLATE needs none.
    with app.app_context():
        db.engine.dispose()
    return custom_path, plain_path, expected, keys


# ---- the child: one import into one copy -----------------------------------------------


def reset_peak():
    """Start VmHWM again from the current RSS (Linux: clear_refs 5)."""
    with suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def child(args):
    from flask_babel import force_locale
    from sqlalchemy import text

    from salesdesk.extensions import db
    from salesdesk.fields import sql as field_sql
    from salesdesk.fields.definitions import active_fields
    from salesdesk.ledger import importer
    from salesdesk.ledger.models import ImportJob

    path = Path(args.file)
    app = bench_app(args.database_url)
    profiler = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.002)
    steps = {}
    with app.app_context(), app.test_request_context(), force_locale("zh_Hans_CN"):
        before = db.session.execute(text("SELECT count(*), max(id) FROM customers")).one()
        fields = {f.key: f for f in active_fields("customer")}
        db.session.remove()
        user = _common.user_by_email(MANAGER_EMAIL)
        if profiler:
            profiler.start()
        total_started = t = time.perf_counter()
        cpu_started = c = time.process_time()
        reset_peak()
        sampler = AnonymousPeak()
        sampler.start()

        def lap(label):
            nonlocal t, c, sampler
            now, cpu = time.perf_counter(), time.process_time()
            peak, anon = _common.peak_rss_mb(), sampler.stop()
            steps[label] = {"wall": now - t, "cpu": cpu - c, "peak_rss_mb": peak, "peak_anon_mb": anon}
            print(
                f"  {label:<34} {now - t:7.2f} s  (cpu {cpu - c:6.2f} s)  peak RssAnon {anon:5.0f} MB, "
                f"VmHWM {peak:5.0f} MB",
                flush=True,
            )
            reset_peak()
            sampler = AnonymousPeak()
            sampler.start()
            t, c = time.perf_counter(), time.process_time()

        with path.open("rb") as stream:
            job_id = importer.start_job(user, path.name, stream).id
        importer.THREADS[job_id].join()  # the file is read in the background
        db.session.remove()
        job = db.session.get(ImportJob, job_id)
        mapping, headers = dict(job.mapping), list(job.headers)
        user = _common.user_by_email(MANAGER_EMAIL)
        lap("start_job (upload, read, map)")
        unmapped = [h for i, h in enumerate(headers) if i not in mapping.values()]
        custom_mapped = {
            target: headers[index] for target, index in mapping.items() if target.startswith("custom:")
        }
        assert not unmapped, f"headers not recognised: {unmapped}"
        importer.set_mapping(user, job_id, mapping)
        lap("set_mapping")
        importer.preview(job_id)
        db.session.remove()  # the preview ran in its own session
        lap("preview (dry run, store verdicts)")
        user = _common.user_by_email(MANAGER_EMAIL)  # the next request loads its user
        counts = dict(db.session.get(ImportJob, job_id).counts)
        importer.start_commit(user, job_id)
        lap("start_commit")
        importer.commit(job_id)
        lap("commit (check again, insert)")
        total = time.perf_counter() - total_started
        total_cpu = time.process_time() - cpu_started
        sampler.stop()
        if profiler:
            profiler.stop()
        db.session.remove()
        job = db.session.get(ImportJob, job_id)
        status = job.status
        after = db.session.execute(text("SELECT count(*) FROM customers")).scalar()
        held = {}
        for target in custom_mapped:
            f = fields[target.removeprefix("custom:")]
            held[f.label_zh] = db.session.execute(
                text(
                    f"SELECT count(*) FROM customers WHERE id > :id AND {field_sql.value_sql(f)} IS NOT NULL"
                ),
                {"id": before[1]},
            ).scalar()
        invalid_custom = db.session.execute(
            text(
                "SELECT count(*) FROM import_rows WHERE job_id = :job AND status = 'invalid' AND ("
                + " OR ".join(f"message LIKE '%{f.label_zh}%'" for f in fields.values())
                + ")"
            ),
            {"job": job_id},
        ).scalar()
        db.session.remove()
    print(f"  mapped custom columns: {sorted(custom_mapped.values())}")
    print(f"  preview counts: {counts} ({invalid_custom} invalid for a custom value); job {status}")
    print(f"  customers {before[0]:,} -> {after:,}; new customers holding each custom value: {held}")
    print(
        f"  TOTAL upload -> preview -> commit: {total:.1f} s, cpu {total_cpu:.1f} s "
        f"({'meets' if total <= TARGET_S else 'MISSES'} the ledger's {TARGET_S} s target)",
        flush=True,
    )
    if profiler:
        print(profiler.output_text(unicode=True, color=False))
    Path(args.json).write_text(
        json.dumps(
            {
                "steps": steps,
                "total": total,
                "total_cpu": total_cpu,
                "peak_rss_mb": max(step["peak_rss_mb"] for step in steps.values()),
                "peak_anon_mb": max(step["peak_anon_mb"] for step in steps.values()),
                "counts": counts,
                "invalid_for_custom_value": invalid_custom,
                "status": status,
                "created": after - before[0],
                "custom_columns": sorted(custom_mapped.values()),
                "new_customers_holding": held,
            },
            ensure_ascii=False,
            indent=1,
        )
    )


# ---- the parent ------------------------------------------------------------------------


def run_variant(url, variant, path, round_number, args):
    copy, cleanup = copy_database(url, "cfimport")
    out = _common.ROOT / "bench" / "results" / f"custom-fields-import-{variant}.part.json"
    try:
        print(
            f"== {variant} ({path.name}), round {round_number + 1}, load average {_common.load()}", flush=True
        )
        command = [
            sys.executable,
            "-m",
            "bench.custom_fields_import",
            "--child",
            "--database-url",
            copy,
            "--file",
            str(path),
            "--json",
            str(out),
        ]
        if args.profile:
            command.append("--profile")
        subprocess.run(command, check=True, cwd=_common.ROOT)
        result = json.loads(out.read_text())
        out.unlink()
        return result
    finally:
        cleanup()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=_common.DEFAULT_SQLITE)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=1, help="imports of each file, the order alternating")
    parser.add_argument("--variants", default="custom,plain", help="custom, plain or both (comma-separated)")
    parser.add_argument("--profile", action="store_true", help="a pyinstrument profile of each import")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--json", help=argparse.SUPPRESS)
    parser.add_argument("--tag", default="", help="suffix for the results file name")
    args = parser.parse_args(argv)
    if args.child:
        return child(args)
    url = normalise_url(args.database_url)
    print(
        f"Import with custom columns on {backend(url)} — {_common.machine()} — "
        f"{datetime.now():%Y-%m-%d %H:%M} — app at {app_version()} — load average {_common.load()}",
        flush=True,
    )
    (_common.ROOT / "bench" / "results").mkdir(parents=True, exist_ok=True)
    custom_path, plain_path, expected, keys = make_files(url, args.rows)
    files = {"custom": custom_path, "plain": plain_path}
    variants = [v for v in args.variants.split(",") if v in files]
    results = {variant: [] for variant in variants}
    for round_number in range(args.rounds):
        order = variants if round_number % 2 == 0 else variants[::-1]
        for variant in order:
            results[variant].append(run_variant(url, variant, files[variant], round_number, args))
    print(f"load average after: {_common.load()}")
    phases = list(next(iter(results.values()))[0]["steps"])
    header = f"{'phase (best of the rounds)':<36}"
    header += "".join(f" {variant + ' s':>10} {'cpu':>7} {'anon MB':>8} {'VmHWM':>6}" for variant in variants)
    print(header)
    print("-" * len(header))
    for phase in [*phases, "TOTAL"]:
        line = f"{phase:<36}"
        for variant in variants:
            best = min(results[variant], key=lambda r: r["total"])
            step = best["steps"].get(phase) or {
                "wall": best["total"],
                "cpu": best["total_cpu"],
                "peak_anon_mb": best["peak_anon_mb"],
                "peak_rss_mb": best["peak_rss_mb"],
            }
            line += f" {step['wall']:10.2f} {step['cpu']:7.2f}"
            line += f" {step['peak_anon_mb']:8.0f} {step['peak_rss_mb']:6.0f}"
        print(line)
    path = _common.ROOT / "bench" / "results" / f"custom-fields-import-{backend(url)}{args.tag}.json"
    path.write_text(
        json.dumps(
            {
                "when": datetime.now().isoformat(timespec="seconds"),
                "machine": _common.machine(),
                "load": _common.load(),
                "app": app_version(),
                "expected": expected,
                "custom_keys": keys,
                "results": results,
            },
            ensure_ascii=False,
            indent=1,
        )
    )
    print(f"(written to {path.relative_to(_common.ROOT)})")


if __name__ == "__main__":
    main()
