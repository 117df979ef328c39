"""Import hardening (issue 14): a workbook made to take a worker down is refused before
it is parsed, and what is accepted is read in the background (finding 4); a full disk
is named and leaves no file behind (finding 10); a long commit keeps its job alive
(finding 11)."""

import errno
import io
import os
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from salesdesk import clock, disk
from salesdesk.extensions import db
from salesdesk.ledger import customers, importer, spreadsheet
from salesdesk.ledger.models import Customer, ImportJob, ImportRow
from tests.helpers import LiveClient
from tests.web.test_ledger_import import (
    HEADERS,
    csv_bytes,
    existing,  # noqa: F401 - a fixture
    read_job,
    run_job,
    upload,
    xlsx_bytes,
)

CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/xl/workbook.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    b'<Override PartName="/xl/worksheets/sheet1.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
)
PACKAGE_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Target="xl/workbook.xml" '
    b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>'
    b"</Relationships>"
)
WORKBOOK = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    b'<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Target="worksheets/sheet1.xml" '
    b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"/>'
    b"</Relationships>"
)


def workbook(rows, sheet_start=b"", sheet_end=b""):
    """An .xlsx written directly: `rows` is an iterable of the sheet's XML in pieces."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", PACKAGE_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(
                b'<?xml version="1.0" encoding="UTF-8"?>'
                b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                + sheet_start
                + b"<sheetData>"
            )
            for piece in rows:
                sheet.write(piece)
            sheet.write(b"</sheetData>" + sheet_end + b"</worksheet>")
    return buffer.getvalue()


def fifteen_million_cells():
    """The workbook of the probe: 50,000 rows × 300 cells in about half a megabyte."""
    block = (b"<row>" + b"<c><v>1</v></c>" * 300 + b"</row>") * 100
    return workbook(block for _ in range(500))


@pytest.fixture(scope="module")
def probe_workbook():
    return fifteen_million_cells()


def imports_folder_listing():
    return set(importer.import_folder().iterdir())


def jobs_count():
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(ImportJob))


# ---- finding 4: bounded before parsing, parsed in the background ----------------------------------


def test_finding_4_the_probes_15_million_cell_workbook_is_refused_within_seconds(
    client_as, world, probe_workbook
):
    assert len(probe_workbook) < 1024 * 1024
    before = imports_folder_listing()
    started = time.monotonic()
    response = upload(client_as(world.rep_a), probe_workbook, "客户.xlsx")
    assert time.monotonic() - started < 5
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "压缩比为" in html and "另存为 CSV" in html  # what it is and what to do
    assert jobs_count() == 0 and imports_folder_listing() == before


def test_finding_4_four_such_uploads_in_parallel_leave_the_app_answering(world, live_server, probe_workbook):
    uploaders = [LiveClient(live_server, world.rep_a.email) for _ in range(4)]
    colleague = LiveClient(live_server, world.rep_b.email)
    go = threading.Barrier(5)

    def send(client):
        go.wait()
        started = time.monotonic()
        response = client.post("/customers/import", files={"file": ("客户.xlsx", probe_workbook)})
        return response.status_code, time.monotonic() - started

    with ThreadPoolExecutor(4) as pool:
        answers = [pool.submit(send, client) for client in uploaders]
        go.wait()
        started = time.monotonic()
        page = colleague.get("/customers")
        page_seconds = time.monotonic() - started
        results = [answer.result() for answer in answers]
    assert page.status_code == 200 and page_seconds < 5, page_seconds
    assert all(status == 413 and seconds < 5 for status, seconds in results), results
    for client in [*uploaders, colleague]:
        client.close()


def test_finding_4_a_zip_bomb_is_refused_before_it_is_unpacked(client_as, world, monkeypatch):
    # 50 MB of one byte packs into 50 KB: unpacking it is the whole attack.
    bomb = workbook([b"<row><c><v>1</v></c></row>", b" " * (50 * 1024 * 1024)])
    assert len(bomb) < 200 * 1024
    monkeypatch.setattr("openpyxl.load_workbook", None)  # never reached
    before = imports_folder_listing()
    started = time.monotonic()
    response = upload(client_as(world.rep_a), bomb, "bomb.xlsx")
    assert time.monotonic() - started < 5
    assert response.status_code == 413 and "压缩比" in response.get_data(as_text=True)
    assert jobs_count() == 0 and imports_folder_listing() == before


def test_finding_4_a_workbook_that_unpacks_past_the_limit_is_refused(app, client_as, world):
    app.config["IMPORT_MAX_UNPACKED_MB"] = 1
    cells = b"".join(f"<c t='inlineStr'><is><t>{n:08d}</t></is></c>".encode() for n in range(30_000))
    response = upload(client_as(world.rep_a), workbook([b"<row>", cells, b"</row>"]), "big.xlsx")
    assert response.status_code == 413 and "解压后" in response.get_data(as_text=True)
    assert jobs_count() == 0


def test_finding_4_cells_are_counted_before_anything_parses_the_file(app, client_as, world, monkeypatch):
    app.config["IMPORT_MAX_CELLS"] = 50
    monkeypatch.setattr("openpyxl.load_workbook", None)  # parsing would fail the request
    response = upload(client_as(world.rep_a), xlsx_bytes(), "客户.xlsx")  # 9 rows × 11 cells
    assert response.status_code == 413 and "50 个单元格" in response.get_data(as_text=True)
    assert jobs_count() == 0


@pytest.mark.parametrize(
    ("limit", "value", "message"),
    [("IMPORT_MAX_ROWS", 5, "超过 5 行"), ("IMPORT_MAX_COLUMNS", 10, "超过 10 列")],
)
@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_finding_4_rows_and_columns_past_the_limits_are_refused(
    app, client_as, world, limit, value, message, kind
):
    app.config[limit] = value
    data = csv_bytes() if kind == "csv" else xlsx_bytes()  # 8 data rows × 11 columns
    before = imports_folder_listing()
    response = upload(client_as(world.rep_a), data, f"客户.{kind}")
    assert response.status_code == 413 and message in response.get_data(as_text=True)
    assert jobs_count() == 0 and imports_folder_listing() == before


def test_finding_4_a_sheet_claiming_17_billion_cells_reads_only_what_is_there(client_as, world):
    # openpyxl would pad every row to the declared XFD column and fill the gap up to
    # row 1,048,576: the declared size is ignored.
    rows = [
        '<row r="1"><c r="A1" t="inlineStr"><is><t>客户名称</t></is></c></row>'.encode(),
        '<row r="900000"><c r="A900000" t="inlineStr"><is><t>云栖科技有限公司</t></is></c></row>'.encode(),
    ]
    data = workbook(rows, sheet_start=b'<dimension ref="A1:XFD1048576"/>')
    rep = client_as(world.rep_a)
    response = upload(rep, data, "sparse.xlsx")
    assert response.status_code == 303, response.get_data(as_text=True)
    job_id = int(response.headers["Location"].split("/")[3])
    importer.THREADS[job_id].join(30)
    job = db.session.get(ImportJob, job_id)
    assert (job.status, job.headers, job.total_rows) == ("uploaded", ["客户名称"], 1)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"PK\x03\x04" + b"\x00" * 200, "Excel 文件已损坏"),
        (workbook([b"<row><c><v>1</v></row>"]), "Excel 文件已损坏"),  # malformed XML
        (workbook([b"<row><c><v>1</v></c></row>"])[:-30], "Excel 文件已损坏"),  # cut short
    ],
    ids=["not-a-zip", "bad-xml", "truncated"],
)
def test_a_malformed_workbook_gets_422_and_leaves_no_file(client_as, world, data, message):
    before = imports_folder_listing()
    response = upload(client_as(world.rep_a), data, "broken.xlsx")
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert jobs_count() == 0 and imports_folder_listing() == before


def test_finding_4_a_file_that_takes_longer_is_read_in_the_background(client_as, world, monkeypatch):
    monkeypatch.setattr(importer, "READ_WAIT_SECONDS", 0)
    rep = client_as(world.rep_a)
    response = upload(rep, csv_bytes(), "客户.csv")
    assert response.status_code == 303
    job_id = int(response.headers["Location"].split("/")[3])
    assert response.headers["Location"] == f"/customers/import/{job_id}"
    importer.THREADS[job_id].join(30)
    # The page that polled while the file was read goes on to the mapping by itself…
    poll = rep.get(f"/customers/import/{job_id}", htmx=True)
    assert poll.headers["HX-Redirect"] == f"/customers/import/{job_id}/mapping"
    # …which shows the first rows, read once.
    mapping = rep.get(f"/customers/import/{job_id}/mapping").get_data(as_text=True)
    assert "杭州云栖数据科技有限公司" in mapping and "陈经理" in mapping


def test_finding_4_a_file_found_unreadable_in_the_background_is_deleted_at_once(
    client_as, world, monkeypatch
):
    monkeypatch.setattr(importer, "READ_WAIT_SECONDS", 0)
    before = imports_folder_listing()
    rep = client_as(world.rep_a)
    response = upload(rep, "客户名称\n".encode(), "header-only.csv")
    job_id = int(response.headers["Location"].split("/")[3])
    importer.THREADS[job_id].join(30)
    assert imports_folder_listing() == before
    page = rep.get(f"/customers/import/{job_id}")
    assert "只有表头" in page.get_data(as_text=True) and '/customers/import"' in page.get_data(as_text=True)
    assert rep.get(f"/customers/import/{job_id}/mapping").status_code == 303


def test_finding_4_uploads_never_imported_are_deleted_by_age(app, client_as, world, frozen_clock):
    start = clock.now()
    frozen_clock(start)
    rep = client_as(world.rep_a)
    job_id = int(upload(rep, csv_bytes(), "客户.csv").headers["Location"].split("/")[3])
    stored = importer.import_folder() / db.session.get(ImportJob, job_id).stored_as
    orphan = importer.import_folder() / "left-by-a-killed-worker.xlsx"
    orphan.write_bytes(b"PK")
    frozen_clock(start + timedelta(hours=23))
    importer.remove_abandoned_files()
    assert stored.exists() and orphan.exists()
    fresh = importer.import_folder() / "being-uploaded-now.csv"
    fresh.write_bytes(b"a")
    an_hour_ago = (start + timedelta(hours=24)).timestamp()
    os.utime(fresh, (an_hour_ago, an_hour_ago))

    frozen_clock(start + timedelta(hours=25))
    importer.remove_abandoned_files()
    assert not stored.exists() and not orphan.exists() and fresh.exists()
    fresh.unlink()
    db.session.rollback()
    assert db.session.get(ImportJob, job_id).status == "expired"
    assert "没有及时导入" in rep.get(f"/customers/import/{job_id}").get_data(as_text=True)
    again = rep.post(f"/customers/import/{job_id}/mapping", data={"map-name": "0"})
    assert again.status_code == 422 and "没有及时导入" in again.get_data(as_text=True)


def test_finding_4_a_previewed_import_left_alone_loses_its_file_and_dry_run(client_as, world, frozen_clock):
    start = clock.now()
    frozen_clock(start)
    rep = client_as(world.rep_a)
    job_id = run_job(rep, upload(rep, csv_bytes(), "客户.csv"))
    assert db.session.scalar(select(func.count()).where(ImportRow.job_id == job_id)) == 8
    frozen_clock(start + timedelta(hours=25))
    importer.remove_abandoned_files()
    db.session.rollback()
    assert db.session.scalar(select(func.count()).where(ImportRow.job_id == job_id)) == 0
    assert rep.post(f"/customers/import/{job_id}/commit").status_code == 400


def test_finding_4_the_limits_leave_room_for_100000_customers_of_20_columns(app):
    # What a real list of that size looks like: ~100 MB of sheet XML packed ~10:1.
    COLUMNS = [bytes([letter]) for letter in b"ABCDEFGHIJKLMNOPQRST"]

    def rows():
        for number in range(1, 100_002):
            yield b"".join(
                b'<c r="%s%d" t="inlineStr"><is><t>%d-%d</t></is></c>' % (column, number, number, index)
                for index, column in enumerate(COLUMNS)
            ).join((b'<row r="%d">' % number, b"</row>"))

    path = importer.import_folder() / "big-list-check.xlsx"
    path.write_bytes(workbook(rows()))
    try:
        spreadsheet.check_file(path, spreadsheet.Limits.configured())  # no TooLarge
    finally:
        path.unlink()


# ---- finding 10: a full disk -------------------------------------------------------------------------


class FullDiskFile:
    """A file opened for writing on a disk with no room left."""

    def __init__(self, file):
        self.file = file

    def write(self, _data):
        raise OSError(errno.ENOSPC, "No space left on device")

    def __getattr__(self, name):
        return getattr(self.file, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.file.close()


@pytest.fixture
def full_disk(monkeypatch):
    """Every file that salesdesk.disk writes fails with ENOSPC (after being created)."""

    def open_on_full_disk(path, mode="r", *args, **kwargs):
        file = open(path, mode, *args, **kwargs)  # noqa: SIM115 - closed by the caller
        return FullDiskFile(file) if any(flag in mode for flag in "wxa") else file

    monkeypatch.setattr(disk, "open", open_on_full_disk, raising=False)


def test_finding_10_an_upload_onto_a_full_disk_answers_503_and_leaves_no_file(client_as, world, full_disk):
    before = imports_folder_listing()
    response = upload(client_as(world.rep_a), csv_bytes(), "客户.csv")
    html = response.get_data(as_text=True)
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert "磁盘已满" in html and "Traceback" not in html
    assert imports_folder_listing() == before and jobs_count() == 0


def many_rows(count):
    rows = []
    for number in range(count):
        row = [""] * len(HEADERS)
        row[0], row[2], row[10] = f"满盘测试{number:05d}贸易有限公司", f"139{number:08d}", "备注" * 50
        rows.append(row)
    return rows


def test_finding_10_a_dry_run_on_a_full_database_disk_names_the_disk(full_sqlite_app, client_as, world):
    rep = client_as(world.rep_a)
    response = upload(rep, csv_bytes(rows=many_rows(2000)), "客户.csv")
    job_id = int(response.headers["Location"].split("/")[3])
    full = full_sqlite_app
    guessed = read_job(job_id).mapping
    mapping = {f"map-{field}": str(index) for field, index in guessed.items()}
    preview = full.test_client().login_as(world.rep_a)
    assert preview.post(f"/customers/import/{job_id}/mapping", data=mapping).status_code == 303
    importer.THREADS[job_id].join(60)
    db.session.rollback()
    job = db.session.get(ImportJob, job_id)
    assert job.status == "failed" and "磁盘已满" in job.error, job.error
    assert "磁盘已满" in rep.get(f"/customers/import/{job_id}").get_data(as_text=True)


def test_finding_10_a_dry_run_that_gets_enospc_names_the_disk(client_as, world, monkeypatch):
    def no_space(_prepared):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(customers, "index_names", no_space)
    rep = client_as(world.rep_a)
    job_id = run_job(rep, upload(rep, csv_bytes(), "客户.csv"))
    job = db.session.get(ImportJob, job_id)
    assert job.status == "failed" and "磁盘已满" in job.error and "意外" not in job.error


# ---- finding 11: a long commit stays alive ---------------------------------------------------------


def test_finding_11_a_commit_longer_than_the_stale_limit_is_not_reported_interrupted(
    client_as,
    world,
    existing,  # noqa: F811 - the fixture
    monkeypatch,
    frozen_clock,  # noqa: F811 - the fixture
):
    rep = client_as(world.rep_a)
    job_id = run_job(rep, upload(rep, csv_bytes(), "客户.csv"))
    start = clock.now()
    frozen_clock(start)
    monkeypatch.setattr(importer, "HEARTBEAT_EVERY", timedelta(seconds=0.02))
    inserting, finish = threading.Event(), threading.Event()
    original = customers.insert_customers

    def slow_insert(*args, **kwargs):
        original(*args, **kwargs)
        inserting.set()  # the commit's transaction is open and holds the write lock…
        assert finish.wait(30)  # …for longer than the stale limit

    monkeypatch.setattr(customers, "insert_customers", slow_insert)
    assert rep.post(f"/customers/import/{job_id}/commit").status_code == 303
    assert inserting.wait(30)
    frozen_clock(start + importer.STALE_AFTER + timedelta(minutes=3))
    time.sleep(0.2)  # a few heartbeats at the new time
    page = rep.get(f"/customers/import/{job_id}", htmx=True).get_data(as_text=True)
    finish.set()
    importer.THREADS[job_id].join(30)
    assert "正在导入" in page and "中断" not in page, page
    db.session.rollback()
    assert db.session.get(ImportJob, job_id).status == "done"
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 3
    # The heartbeat file goes with the job.
    assert not (importer.import_folder() / f"job-{job_id}.alive").exists()
