"""Import jobs, from CSV (UTF-8, UTF-8 with BOM, GBK) and XLSX: store the upload, read
it, dry-run every row (import_rows.py), then write all accepted rows in one transaction
or none.

The upload request only stores the file and checks what costs milliseconds (the size
and packing of a workbook, its number of cells); reading, preview and commit run in a
background thread of the process that received the request, and the job row carries
status and progress for the page that polls it.
"""

import os
import threading
import uuid
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import RequestEntityTooLarge

from .. import audit, clock, disk
from ..auth.models import Role, User
from ..config import MEGABYTE
from ..database import write_transaction
from ..errors import DomainError, NotFound
from ..extensions import db
from ..jobs import periodic
from . import column_mapping, customers, exporter, import_rows, keys
from .models import ImportJob, ImportRow
from .ownership import AUTO
from .spreadsheet import ImportError_, Limits, check_file, read_rows
from .validation import Prepared

audit.register_actions({"customer.imported": _l("Customers imported")})

# The thread working on each job in this process (tests wait on them).
THREADS = {}
STALE_AFTER = timedelta(minutes=2)
# Beats of a running job, in a file: see keep_alive.
HEARTBEAT_EVERY = STALE_AFTER / 4
RUNNING = ("reading", "previewing", "committing")
# The upload answers at once when its file is read within this time (most are).
READ_WAIT_SECONDS = 1.5


class DiskFull(disk.DiskFull, ImportError_):
    """A full disk, refused as the upload's other problems are (ImportError_)."""


def import_folder():
    folder = Path(current_app.instance_path) / "imports"
    folder.mkdir(exist_ok=True)
    return folder


def start_job(user, filename, stream, locale=None):
    """Store the upload, check it, and read it in the background: the job comes back
    'uploaded' (header row read, mapping guessed) when that took a moment, else
    'reading'. A file that cannot be imported leaves neither a job nor a file."""
    if user.role == Role.SUPPORT:
        raise DomainError(_("Sales support does not import customers."))
    stored = import_folder() / f"{uuid.uuid4().hex}{Path(filename).suffix.lower()[:6]}"
    try:
        disk.write_stream(stream, stored, current_app.config["UPLOAD_LIMIT_MB"] * MEGABYTE)
    except disk.TooLarge:
        raise RequestEntityTooLarge() from None
    except OSError as error:
        if disk.is_full(error):
            raise DiskFull(
                _(
                    "The server's disk is full: your file was not saved. "
                    "Please tell your administrator, and upload it again later."
                )
            ) from None
        raise
    try:
        check_file(stored, Limits.configured())
        with write_transaction() as session:
            now = clock.now()
            job = ImportJob(
                user_id=user.id,
                filename=Path(filename).name[:255] or "upload",
                stored_as=stored.name,
                status="reading",
                created_at=now,
                heartbeat_at=now,
            )
            session.add(job)
    except BaseException:
        stored.unlink(missing_ok=True)
        raise
    worker = run_in_background(read, job.id, locale)
    worker.join(READ_WAIT_SECONDS)
    if not worker.is_alive() and isinstance(worker.error, DomainError):
        with write_transaction() as session:
            session.delete(session.get(ImportJob, job.id))
        raise worker.error
    return job


def read(job_id):
    """Background step 1: read the file once for its header row, first rows and size.
    A file that cannot be read is deleted at once."""
    job = db.session.get(ImportJob, job_id)
    path = import_folder() / job.stored_as
    try:
        rows = read_rows(path, Limits.configured())
        width = max(map(len, rows))
        headers = [h or f"#{i + 1}" for i, h in enumerate(rows[0] + [""] * (width - len(rows[0])))]
        with write_transaction() as session:
            job = session.get(ImportJob, job_id)
            mapping = column_mapping.guess_mapping(headers, column_mapping.mapping_fields())
            job.headers, job.mapping, job.samples = headers, mapping, rows[1:4]
            job.total_rows, job.status, job.heartbeat_at = len(rows) - 1, "uploaded", clock.now()
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def get_job_for(user, job_id):
    job = db.session.get(ImportJob, job_id)
    if job is None or (job.user_id != user.id and user.role != Role.ADMIN):
        raise NotFound(_("This import does not exist."))
    return job


def _heartbeat_file(job_id):
    return import_folder() / f"job-{job_id}.alive"


def is_stale(job):
    """A job left 'running' by a process that died (a restart, a crash)."""
    if job.status not in RUNNING:
        return False
    beats = [job.heartbeat_at] if job.heartbeat_at else []
    with suppress(OSError):
        beats.append(datetime.fromtimestamp(_heartbeat_file(job.id).stat().st_mtime, UTC))
    return not beats or clock.now() - max(beats) > STALE_AFTER


@contextmanager
def keep_alive(job_id):
    """Beat while a job runs. The beat goes to a file in the imports folder, which
    every process sees at once: the job row cannot take it while the commit's one
    transaction holds SQLite's single write lock (and readers would not see it before
    that commits), and a commit longer than STALE_AFTER must not look interrupted.
    The first beat comes after HEARTBEAT_EVERY, when the row's own beat gets old."""
    path, done = _heartbeat_file(job_id), threading.Event()

    def beat():
        while not done.wait(HEARTBEAT_EVERY.total_seconds()):
            moment = clock.now().timestamp()
            with suppress(OSError):  # a full disk: the job may then look interrupted
                path.touch()
                os.utime(path, (moment, moment))

    beater = threading.Thread(target=beat, name=f"import-{job_id}-heartbeat", daemon=True)
    beater.start()
    try:
        yield
    finally:
        done.set()
        beater.join()
        path.unlink(missing_ok=True)


def set_mapping(user, job_id, mapping):
    with write_transaction():
        job = get_job_for(user, job_id)
        if job.status == "expired":
            raise DomainError(
                _("This upload was deleted because it was not imported in time. Upload the file again.")
            )
        if job.status not in ("uploaded", "previewed", "failed") and not is_stale(job):
            raise DomainError(_("This import is already running."))
        if not job.headers:
            raise DomainError(_("This file could not be read. Upload it again."))
        job.mapping = column_mapping.clean_mapping(mapping, len(job.headers))
        job.status = "previewing"
        job.processed_rows = 0
        job.counts = {}
        job.error = ""
        job.heartbeat_at = clock.now()
        db.session.execute(ImportRow.__table__.delete().where(ImportRow.job_id == job.id))
    return job


class Worker(threading.Thread):
    """A job's background thread; `error` is what ended the job, if anything did."""

    error = None


def run_in_background(target, job_id, locale=None):
    app = current_app._get_current_object()
    locale = locale or app.config["BABEL_DEFAULT_LOCALE"]

    def work():
        with app.app_context(), app.test_request_context(), force_locale(locale):
            try:
                with keep_alive(job_id):
                    target(job_id)
            except Exception as error:  # noqa: BLE001 - any failure must end the job visibly
                db.session.rollback()
                worker.error = _as_domain_error(error)
                if not isinstance(error, DomainError):
                    app.logger.exception("import job %s failed", job_id)
                _fail(job_id, worker.error)
            finally:
                db.session.remove()

    worker = Worker(target=work, name=f"import-{job_id}", daemon=True)
    THREADS[job_id] = worker
    worker.start()
    return worker


def _as_domain_error(error):
    if isinstance(error, DomainError):
        return error
    if disk.is_full(error):
        return DiskFull(
            _(
                "The server's disk is full: the import stopped and nothing was written. "
                "Please tell your administrator, then start it again."
            )
        )
    return DomainError(_("The import failed unexpectedly; nothing was written."))


def _fail(job_id, error):
    try:
        with write_transaction() as session:
            job = session.get(ImportJob, job_id)
            job.status, job.error = "failed", str(error.message)
    except Exception:  # noqa: BLE001 - the database may be what failed; the job then goes stale
        current_app.logger.exception("import job %s: the failure could not be recorded", job_id)


def _progress(job_id, processed, status=None):
    with write_transaction() as session:
        job = session.get(ImportJob, job_id)
        job.processed_rows, job.heartbeat_at = processed, clock.now()
        if status:
            job.status = status


def preview(job_id):
    """Background step 2: classify every row and store the verdicts, with each new
    row's prepared values (names indexed too), so the commit does no work twice."""
    job = db.session.get(ImportJob, job_id)
    user = db.session.get(User, job.user_id)
    rows = read_rows(import_folder() / job.stored_as, Limits.configured())
    verdicts = import_rows.classify(user, rows, job.mapping, on_progress=lambda n: _progress(job_id, n))
    customers.index_names([v.prepared for v in verdicts if v.status == "new"])
    counts = dict.fromkeys(import_rows.STATUS_LABELS, 0)
    for start in range(0, len(verdicts), 1000):
        with write_transaction() as session:
            for verdict in verdicts[start : start + 1000]:
                counts[verdict.status] += 1
                values = {
                    "name": (
                        verdict.prepared.fields["name"]
                        if verdict.prepared
                        else keys.visible(import_rows.cell(rows[verdict.row_number - 1], job.mapping, "name"))
                    )[:200]
                }
                if verdict.status == "new":
                    values["prepared"] = verdict.prepared.to_json()
                    values["owner_id"] = verdict.owner.id if verdict.owner else None
                elif verdict.status == "invalid":
                    # As uploaded, for the file of invalid rows to fix (the upload is
                    # deleted after the commit, the rows are kept).
                    values["cells"] = rows[verdict.row_number - 1]
                session.add(
                    ImportRow(
                        job_id=job_id,
                        row_number=verdict.row_number,
                        status=verdict.status,
                        values=values,
                        message=verdict.message[:500],
                        duplicate_of_id=verdict.duplicate_of,
                        duplicate_of_row=verdict.earlier_row,
                    )
                )
            job = session.get(ImportJob, job_id)
            job.processed_rows = (job.total_rows + min(job.total_rows, start + 1000)) // 2
            job.heartbeat_at = clock.now()
    with write_transaction() as session:
        job = session.get(ImportJob, job_id)
        job.counts, job.status, job.processed_rows = counts, "previewed", job.total_rows


def invalid_rows_file(user, job_id):
    """The checked file's invalid rows as an .xlsx to fix and upload again: the
    uploaded columns, each row as it was, and first a column saying what is wrong.
    NotFound when the file has none (or is not checked yet)."""
    job = get_job_for(user, job_id)
    invalid = db.session.scalars(
        select(ImportRow)
        .where(ImportRow.job_id == job.id, ImportRow.status == "invalid")
        .order_by(ImportRow.row_number)
    ).all()
    if job.status not in ("previewed", "committing", "done") or not invalid:
        raise NotFound(_("This import has no invalid rows."))
    width = len(job.headers)
    rows = ([row.message, *(row.values.get("cells") or [])][: width + 1] for row in invalid)
    # What is wrong is read first, in a column wide enough to read it.
    return exporter.write_xlsx(_("Rows to fix"), [_("What is wrong"), *job.headers], rows, widths=[48])


def invalid_rows_filename(job):
    """The uploaded file's name and “to fix” (待修改), so that the two are not confused."""
    suffix = _("to-fix")
    return f"{Path(job.filename).stem}-{suffix}.xlsx"


def start_commit(user, job_id):
    with write_transaction():
        job = get_job_for(user, job_id)
        if job.status != "previewed":
            raise DomainError(_("Preview the file first."))
        if not job.counts.get("new"):
            raise DomainError(_("There is no new customer to import."))
        job.status, job.processed_rows, job.heartbeat_at = "committing", 0, clock.now()
    return job


def commit(job_id):
    """Background step 3: all new rows of the dry run in one transaction, or nothing.

    The ledger may have changed since the preview: the rows' keys and owners are
    checked again (a few queries for the whole file) before the write transaction, so
    the database is locked only for the inserts.
    """
    job = db.session.get(ImportJob, job_id)
    user = db.session.get(User, job.user_id)
    stored = db.session.scalars(
        select(ImportRow.values)
        .where(ImportRow.job_id == job_id, ImportRow.status == "new")
        .order_by(ImportRow.row_number)
    ).all()
    prepared = [Prepared.from_json(values["prepared"]) for values in stored]
    fields = column_mapping.mapping_fields()
    _raise_if_fields_changed(prepared, fields)
    unique = import_rows.unique_fields(fields)
    allowed = {owner.id: owner for owner in import_rows.owners_by_name(user).values()}
    taken = import_rows.existing_keys(prepared, unique_fields=unique)
    if any(key in taken for item in prepared for key in import_rows.row_keys(item, unique)) or any(
        values["owner_id"] and values["owner_id"] not in allowed for values in stored
    ):
        raise DomainError(_("The ledger changed since the preview. Check the preview again."))
    # Reps import for themselves; managers' and admins' rows without an owner follow
    # the team's assignment strategy.
    default_owner = user if user.role == Role.REP else AUTO
    items = [
        (item, allowed[values["owner_id"]] if values["owner_id"] else default_owner)
        for item, values in zip(prepared, stored, strict=True)
    ]
    _progress(job_id, job.total_rows * 3 // 4)
    now = clock.now()
    try:
        with write_transaction() as session:
            customers.insert_customers(user, items, now, reason="import")
            job = session.get(ImportJob, job_id)
            job.status, job.processed_rows, job.committed_at = "done", job.total_rows, now
            audit.record("customer.imported", actor=user, subject=job, rows=len(items), filename=job.filename)
    except IntegrityError:
        # A unique key (a name, a code, a unique custom field) taken by another save
        # between the check above and these inserts: nothing was written.
        raise DomainError(_("The ledger changed since the preview. Check the preview again.")) from None
    if db.engine.dialect.name == "postgresql" and len(items) >= 1000:
        # Fresh statistics after a big load, or the planner guesses badly for a while.
        with db.engine.connect() as connection:
            connection.execute(text("ANALYZE customers, contacts, contact_phones"))
            connection.commit()
    (import_folder() / job.stored_as).unlink(missing_ok=True)


def _raise_if_fields_changed(prepared, fields):
    """The dry run checked each row against the custom fields of its time: a field
    retired or made required since then needs another look at the rows."""
    active = {entity: {f.key for f in fields if f.entity == entity} for entity in ("customer", "contact")}
    required = [f.key for f in fields if f.required and f.entity == "customer"]
    for item in prepared:
        contacts = {key for contact in item.contacts for key in contact["custom"]}
        if (
            set(item.custom) - active["customer"]
            or contacts - active["contact"]
            or any(item.custom.get(key) is None for key in required)
        ):
            raise DomainError(_("The custom fields changed since the preview. Check the preview again."))


@periodic("import-files", interval=timedelta(hours=1))
def remove_abandoned_files():
    """Delete the files (and dry-run rows) of imports nobody finished within
    IMPORT_KEEP_HOURS, and files no job owns (an upload whose worker died before its
    job was written). A failed read deletes its file at once; a failed preview or
    commit keeps it for another try until then."""
    now = clock.now()
    keep = timedelta(hours=current_app.config["IMPORT_KEEP_HOURS"])
    folder = import_folder()
    unfinished = db.session.scalars(
        select(ImportJob).where(ImportJob.status.notin_(("done", "expired")))
    ).all()
    owned = {job.stored_as for job in unfinished}
    for job in unfinished:
        last_seen = max(filter(None, (job.created_at, job.heartbeat_at)))
        if now - last_seen > keep and (job.status not in RUNNING or is_stale(job)):
            with write_transaction() as session:
                session.execute(ImportRow.__table__.delete().where(ImportRow.job_id == job.id))
                session.get(ImportJob, job.id).status = "expired"
            (folder / job.stored_as).unlink(missing_ok=True)
            owned.discard(job.stored_as)
    db.session.rollback()
    for path in folder.iterdir():
        with suppress(OSError):  # gone meanwhile
            if path.name not in owned and now.timestamp() - path.stat().st_mtime > keep.total_seconds():
                path.unlink()
