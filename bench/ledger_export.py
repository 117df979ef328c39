"""Export all 100,000 customers as CSV and as XLSX: wall time and peak memory.

    .venv/bin/python -m bench.ledger_export --database-url sqlite:///bench/data/ledger.db
    .venv/bin/python -m bench.ledger_export --database-url postgresql://postgres@127.0.0.1:5432/salesdesk_bench

Each format runs in a subprocess of its own, so each peak belongs to one export alone.
The target is judged on the process's own memory (RssAnon, sampled every 10 ms); VmHWM
is printed beside it, and on SQLite it also counts the mapped database file. By default
the exporter is called as the view calls it (matching_ids, record_export, then
csv_chunks or xlsx_file), the output consumed chunk by chunk and counted, not kept;
--endpoint goes through GET /customers/export.<fmt> with the Flask test client instead
(see README: the CSV endpoint currently fails outside the tests' outer app context). The
baseline is the process's memory after the app is set up and the user loaded, just
before the request.
"""

import argparse
import json
import subprocess
import sys
import threading
import time
from datetime import datetime

from . import _common
from ._common import ADMIN_EMAIL, backend, bench_app, normalise_url

TARGET_MB = 200


def status_mb(field):
    for line in open("/proc/self/status").read().splitlines():  # noqa: SIM115
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


class AnonymousPeak(threading.Thread):
    """Samples RssAnon (the process's own heap) every 10 ms. VmHWM also counts the
    pages of the SQLite file the app maps (mmap_size): the kernel's page cache, shared
    by every worker and dropped under pressure, not memory the export holds."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak, self.done = status_mb("RssAnon"), threading.Event()

    def run(self):
        while not self.done.wait(0.01):
            self.peak = max(self.peak, status_mb("RssAnon"))

    def stop(self):
        self.done.set()
        self.join()
        return max(self.peak, status_mb("RssAnon"))


def child(url, fmt, email, endpoint):
    """Run one export in this process and print a JSON line with the figures. Without
    the shared dictionaries (like_a_worker=False): in a gunicorn worker they are the
    master's pages, and the export uses none of them."""
    app = bench_app(url, like_a_worker=False)
    from salesdesk.extensions import db

    with app.app_context():
        user = _common.user_by_email(email)
        client = _common.logged_in_client(app, user)
        db.session.remove()
    # Import what the export will import anyway, so the baseline is comparable.
    import openpyxl  # noqa: F401

    baseline, baseline_anon = status_mb("VmRSS"), status_mb("RssAnon")
    sampler = AnonymousPeak()
    sampler.start()
    cpu_started = time.process_time()
    started = time.perf_counter()
    first, size = None, 0
    if endpoint:
        response = client.get(f"/customers/export.{fmt}", buffered=False)
        for chunk in response.response:
            first = first or time.perf_counter() - started
            size += len(chunk)
        response.close()
        assert response.status_code == 200, response.status_code
        rows = None
    else:
        from salesdesk.ledger import exporter, queries

        with app.test_request_context():
            user = _common.user_by_email(email)
            filters = queries.Filters()
            ids = exporter.matching_ids(user, filters)
            rows = len(ids)
            exporter.record_export(user, filters, rows, fmt)
            user = _common.user_by_email(email)  # the commit above expired it
            if fmt == "csv":
                for chunk in exporter.csv_chunks(user, ids):
                    first = first or time.perf_counter() - started
                    size += len(chunk)
            else:
                with exporter.xlsx_file(user, ids) as target:
                    while chunk := target.read(64 * 1024):
                        first = first or time.perf_counter() - started
                        size += len(chunk)
            db.session.remove()
    elapsed = time.perf_counter() - started
    peak_anon = sampler.stop()
    print(
        json.dumps(
            {
                "format": fmt,
                "rows": rows,
                "seconds": elapsed,
                "cpu_seconds": time.process_time() - cpu_started,
                "first_byte_s": first,
                "bytes": size,
                "baseline_rss_mb": baseline,
                "peak_rss_mb": _common.peak_rss_mb(),
                "baseline_anon_mb": baseline_anon,
                "peak_anon_mb": peak_anon,
            }
        )
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=_common.DEFAULT_SQLITE)
    parser.add_argument("--formats", default="csv,xlsx")
    parser.add_argument(
        "--email", default=ADMIN_EMAIL, help="who exports (default: an admin, nothing masked)"
    )
    parser.add_argument(
        "--endpoint",
        action="store_true",
        help="go through GET /customers/export.<fmt> with the test client instead of calling the exporter",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    url = normalise_url(args.database_url)
    if args.child:
        child(url, args.child, args.email, args.endpoint)
        return
    print(
        f"Export on {backend(url)} — {_common.machine()} — {datetime.now():%Y-%m-%d %H:%M} — as {args.email}"
    )
    print(f"load average before: {_common.load()}")
    results = {}
    for fmt in args.formats.split(","):
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.ledger_export",
                "--database-url",
                url,
                "--email",
                args.email,
                "--child",
                fmt,
            ]
            + (["--endpoint"] if args.endpoint else []),
            cwd=_common.ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            print(completed.stderr)
            raise SystemExit(f"the {fmt} export failed")
        result = json.loads(completed.stdout.strip().splitlines()[-1])
        results[fmt] = result
        verdict = "meets" if result["peak_anon_mb"] <= TARGET_MB else "MISSES"
        print(
            f"  {fmt:<5} {result['seconds']:6.1f} s (cpu {result['cpu_seconds']:6.1f} s)  "
            f"{result['bytes'] / 2**20:6.1f} MB out  first byte {result['first_byte_s']:5.1f} s  "
            f"own memory (RssAnon) {result['baseline_anon_mb']:4.0f} -> "
            f"peak {result['peak_anon_mb']:4.0f} MB "
            f"({verdict} {TARGET_MB} MB)  VmRSS {result['baseline_rss_mb']:4.0f} -> VmHWM "
            f"{result['peak_rss_mb']:4.0f} MB",
            flush=True,
        )
    out = _common.ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"export-{backend(url)}.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
