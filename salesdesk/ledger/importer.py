"""Import from CSV (UTF-8, UTF-8 with BOM, GBK) and XLSX: read, map columns, dry-run
every row, then write all accepted rows in one transaction or none.

The upload request only stores the file and checks what costs milliseconds (the size
and packing of a workbook, its number of cells); reading, preview and commit run in a
background thread of the process that received the request, and the job row carries
status and progress for the page that polls it.
"""

import os
import re
import threading
import unicodedata
import uuid
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, text
from werkzeug.exceptions import RequestEntityTooLarge

from .. import audit, clock, disk
from ..auth.models import Role, User
from ..config import MEGABYTE
from ..database import write_transaction
from ..errors import DomainError, NotFound
from ..extensions import db
from ..jobs import periodic
from . import access, keys, services
from .models import Contact, ContactPhone, Customer, ImportJob, ImportRow, Stage
from .spreadsheet import ImportError_, Limits, check_file, read_rows

audit.register_actions({"customer.imported": _l("Customers imported")})

# Target field -> header spellings we recognise (compared after normalize_header).
FIELDS = {
    "name": (
        _l("Customer name"),
        [
            "客户名称",
            "公司名称",
            "企业名称",
            "单位名称",
            "客户",
            "公司",
            "名称",
            "name",
            "company",
            "customer",
            "companyname",
            "customername",
        ],
    ),
    "credit_code": (
        _l("Unified social credit code"),
        ["统一社会信用代码", "社会信用代码", "信用代码", "creditcode", "uscc"],
    ),
    "industry": (_l("Industry"), ["行业", "所属行业", "industry"]),
    "region": (
        _l("Region (province and city)"),
        ["地区", "区域", "所在地区", "省市", "所在地", "region", "location"],
    ),
    "province": (_l("Province"), ["省份", "省", "province"]),
    "city": (_l("City"), ["城市", "市", "city"]),
    "source": (_l("Source"), ["来源", "客户来源", "线索来源", "source"]),
    "grade": (_l("Grade"), ["等级", "客户等级", "级别", "grade", "level"]),
    "stage": (_l("Stage"), ["阶段", "销售阶段", "跟进阶段", "状态", "stage", "status"]),
    "expected_amount": (
        _l("Expected amount (CNY)"),
        ["预计金额", "预计成交金额", "商机金额", "金额", "amount", "expectedamount", "dealsize"],
    ),
    "tags": (_l("Tags"), ["标签", "tags", "tag"]),
    "notes": (_l("Notes"), ["备注", "说明", "notes", "note", "remark", "remarks"]),
    "next_follow_up_on": (
        _l("Next follow-up"),
        ["下次跟进", "下次跟进日期", "下次跟进时间", "下次联系时间", "nextfollowup"],
    ),
    "owner": (
        _l("Owner"),
        ["负责人", "销售", "业务员", "归属人", "跟进人", "客户经理", "owner", "salesrep", "rep"],
    ),
    "contact_name": (_l("Contact name"), ["联系人", "联系人姓名", "姓名", "contact", "contactname"]),
    "contact_title": (_l("Job title"), ["职位", "职务", "title", "position", "jobtitle"]),
    "phone": (
        _l("Phone"),
        [
            "手机",
            "电话",
            "手机号",
            "手机号码",
            "联系电话",
            "电话号码",
            "mobile",
            "phone",
            "tel",
            "telephone",
            "cellphone",
        ],
    ),
    "phone2": (_l("Second phone"), ["座机", "固定电话", "电话2", "备用电话", "landline", "phone2"]),
    "email": (_l("E-mail"), ["邮箱", "电子邮件", "电子邮箱", "邮件", "email", "mail"]),
    "wechat": (_l("WeChat ID"), ["微信", "微信号", "wechat", "weixin"]),
}
REQUIRED = ("name",)
STATUS_LABELS = {
    "new": _l("New"),
    "existing": _l("Already in the ledger"),
    "repeated": _l("Repeats an earlier row"),
    "invalid": _l("Invalid"),
}
SOURCE_WORDS = {
    "官网": "website",
    "网站": "website",
    "展会": "exhibition",
    "转介绍": "referral",
    "介绍": "referral",
    "电话开发": "cold_call",
    "陌拜": "cold_call",
    "广告": "advertising",
    "其他": "other",
}
STAGE_WORDS = {
    "线索": "lead",
    "初步接触": "contacted",
    "接触": "contacted",
    "需求确认": "qualified",
    "方案报价": "quoted",
    "报价": "quoted",
    "商务谈判": "negotiating",
    "谈判": "negotiating",
    "赢单": "won",
    "成交": "won",
    "输单": "lost",
    "丢单": "lost",
}
# The thread working on each job in this process (tests wait on them).
THREADS = {}
PROGRESS_EVERY = 250
STALE_AFTER = timedelta(minutes=2)
# Beats of a running job, in a file: see keep_alive.
HEARTBEAT_EVERY = STALE_AFTER / 4
RUNNING = ("reading", "previewing", "committing")
# The upload answers at once when its file is read within this time (most are).
READ_WAIT_SECONDS = 1.5


class DiskFull(ImportError_):
    """The server's disk is full: nothing was stored or written; try again later."""

    status = 503


def normalize_header(text):
    text = unicodedata.normalize("NFKC", str(text or "")).lower()
    return re.sub(r"[\s_\-:：*()（）/]", "", text)


def guess_mapping(headers):
    """{field: column index} for the headers we recognise; each column used once."""
    normalized = [normalize_header(h) for h in headers]
    mapping = {}
    for exact in (True, False):
        for field, (_label, spellings) in FIELDS.items():
            if field in mapping:
                continue
            for index, header in enumerate(normalized):
                if index in mapping.values() or not header:
                    continue
                if header in spellings if exact else any(s in header for s in spellings if len(s) > 1):
                    mapping[field] = index
                    break
    return mapping


# ---- jobs ----------------------------------------------------------------------------


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
            job.headers, job.mapping, job.samples = headers, guess_mapping(headers), rows[1:4]
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
        clean = {}
        for field, index in mapping.items():
            if field in FIELDS and isinstance(index, int) and 0 <= index < len(job.headers):
                if index in clean.values():
                    raise DomainError(_("Each column can be used for one field only."))
                clean[field] = index
        missing = [str(FIELDS[f][0]) for f in REQUIRED if f not in clean]
        if missing:
            raise DomainError(_("Choose the column for: %(fields)s.", fields=", ".join(missing)))
        job.mapping = clean
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


# ---- dry run -------------------------------------------------------------------------


def _value(row, mapping, field):
    index = mapping.get(field)
    return row[index].strip() if index is not None and index < len(row) else ""


def _split_region(text):
    text = re.sub(r"[\s/,，\-]+", " ", text).strip()
    for province in sorted(keys.PROVINCES, key=len, reverse=True):
        for prefix in (province + "省", province + "市", province + "自治区", province):
            if text.startswith(prefix):
                return province, text[len(prefix) :].strip().removesuffix("市")
    return "", text.removesuffix("市")


def _code(text, words, allowed, field, label):
    if not text:
        return None
    lowered = text.strip().lower()
    if lowered in allowed:
        return lowered
    for word, code in words.items():
        if word in text:
            return code
    raise DomainError(_("Unknown %(field)s: %(value)s", field=label, value=text), field=field)


def _date(text):
    if not text:
        return None
    text = (
        text.strip()
        .replace("/", "-")
        .replace(".", "-")
        .replace("年", "-")
        .replace("月", "-")
        .replace("日", "")
    )
    try:
        return date.fromisoformat("-".join(part.zfill(2) for part in text.split(" ")[0].split("-")))
    except ValueError:
        raise DomainError(
            _("Not a date: %(value)s (use 2026-03-31)", value=text), field="next_follow_up_on"
        ) from None


def row_input(row, mapping):
    """A CustomerInput (and the owner's name or e-mail) from one row."""
    region = _value(row, mapping, "region")
    province, city = _split_region(region) if region else ("", "")
    grade = _value(row, mapping, "grade").upper().rstrip("级类")
    contact_fields = [_value(row, mapping, f) for f in ("contact_name", "phone", "phone2", "email", "wechat")]
    contacts = []
    if any(contact_fields):
        name, phone, phone2, email, wechat = contact_fields
        contacts.append(
            services.ContactInput(
                name=name or _("Contact"),
                title=_value(row, mapping, "contact_title"),
                phones=[p for p in re.split(r"[;；,，/、]", phone) + [phone2] if p.strip()],
                email=email,
                wechat=wechat,
            )
        )
    data = services.CustomerInput(
        name=_value(row, mapping, "name"),
        credit_code=_value(row, mapping, "credit_code"),
        industry=_value(row, mapping, "industry"),
        province=_value(row, mapping, "province") or province,
        city=_value(row, mapping, "city") or city,
        source=_code(
            _value(row, mapping, "source"), SOURCE_WORDS, services.SOURCE_LABELS, "source", _("source")
        )
        or "other",
        grade=grade or "C",
        stage=_code(_value(row, mapping, "stage"), STAGE_WORDS, [s.value for s in Stage], "stage", _("stage"))
        or Stage.LEAD,
        expected_amount=_value(row, mapping, "expected_amount") or "0",
        tags=[_value(row, mapping, "tags")],
        next_follow_up_on=_date(_value(row, mapping, "next_follow_up_on")),
        notes=_value(row, mapping, "notes"),
        contacts=contacts,
    )
    return data, _value(row, mapping, "owner")


def _owners_by_name(user):
    """Whom an importer may name as owner: display name or e-mail -> User. Reps own
    what they create: they may name only themselves."""
    query = select(User).where(User.can_hold_customers)
    if not access.can_choose_owner(user):
        query = query.where(User.id == user.id)
    elif user.role != Role.ADMIN:
        query = query.where(User.team_id == user.team_id)
    found = {}
    for owner in db.session.scalars(query):
        found[owner.display_name] = owner
        found[owner.email] = owner
    return found


@dataclass
class Verdict:
    row_number: int
    status: str  # new, existing, repeated, invalid
    prepared: services.Prepared | None = None
    owner: User | None = None
    message: str = ""
    duplicate_of: int | None = None
    earlier_row: int | None = None


def classify(user, rows, mapping, on_progress=None):
    """Dry-run every data row and return one Verdict per row.

    Exact duplicate keys are looked up for the whole file at once, so ten thousand
    rows cost a handful of queries rather than tens of thousands.
    """
    owners = _owners_by_name(user)
    verdicts = []
    for number, row in enumerate(rows[1:], start=2):
        try:
            data, owner_name = row_input(row, mapping)
            prepared = services.prepare(data)
            owner = owners.get(owner_name) or owners.get(owner_name.lower()) if owner_name else None
            if owner_name and owner is None:
                raise DomainError(
                    _(
                        "Unknown owner %(name)s (not an active rep or manager you may assign to).",
                        name=owner_name,
                    )
                )
            verdicts.append(Verdict(number, "new", prepared, owner))
        except DomainError as error:
            verdicts.append(Verdict(number, "invalid", message=error.message))
        if on_progress and number % PROGRESS_EVERY == 0:
            on_progress(number // 2)
    existing = _existing_keys([v.prepared for v in verdicts if v.prepared is not None])
    seen = {}
    for verdict in verdicts:
        if verdict.prepared is None:
            continue
        row_keys = _row_keys(verdict.prepared)
        verdict.duplicate_of = next((existing[k] for k in row_keys if k in existing), None)
        verdict.earlier_row = (
            None if verdict.duplicate_of else next((seen[k] for k in row_keys if k in seen), None)
        )
        if verdict.duplicate_of:
            verdict.status = "existing"
        elif verdict.earlier_row:
            verdict.status = "repeated"
        else:
            for key in row_keys:
                seen[key] = verdict.row_number
    return verdicts


def _row_keys(prepared):
    return (
        ([("name", prepared.name_key)] if prepared.name_key else [])
        + ([("credit_code", prepared.credit_code)] if prepared.credit_code else [])
        + [("phone", key) for key in prepared.phone_keys]
        + [("email", key) for key in prepared.email_keys]
    )


def _existing_keys(prepared_list, chunk=500):
    """{(kind, key): customer id} for every key of the file already in the ledger."""
    wanted = {"name": set(), "credit_code": set(), "phone": set(), "email": set()}
    for prepared in prepared_list:
        for kind, key in _row_keys(prepared):
            wanted[kind].add(key)
    lookups = {
        "name": (Customer.name_key, select(Customer.name_key, Customer.id)),
        "credit_code": (Customer.credit_code, select(Customer.credit_code, Customer.id)),
        "phone": (ContactPhone.key, select(ContactPhone.key, Contact.customer_id).join(Contact)),
        "email": (Contact.email_key, select(Contact.email_key, Contact.customer_id)),
    }
    found = {}
    for kind, values in wanted.items():
        column, query = lookups[kind]
        values = sorted(values)
        for start in range(0, len(values), chunk):
            for key, customer_id in db.session.execute(
                query.where(column.in_(values[start : start + chunk]))
            ):
                found[(kind, key)] = customer_id
    return found


def preview(job_id):
    """Background step 1: classify every row and store the verdicts, with each new
    row's prepared values (names indexed too), so the commit does no work twice."""
    job = db.session.get(ImportJob, job_id)
    user = db.session.get(User, job.user_id)
    rows = read_rows(import_folder() / job.stored_as, Limits.configured())
    verdicts = classify(user, rows, job.mapping, on_progress=lambda n: _progress(job_id, n))
    services.index_names([v.prepared for v in verdicts if v.status == "new"])
    counts = dict.fromkeys(STATUS_LABELS, 0)
    for start in range(0, len(verdicts), 1000):
        with write_transaction() as session:
            for verdict in verdicts[start : start + 1000]:
                counts[verdict.status] += 1
                values = {
                    "name": (
                        verdict.prepared.fields["name"]
                        if verdict.prepared
                        else keys.visible(_value(rows[verdict.row_number - 1], job.mapping, "name"))
                    )[:200]
                }
                if verdict.status == "new":
                    values["prepared"] = verdict.prepared.to_json()
                    values["owner_id"] = verdict.owner.id if verdict.owner else None
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


# ---- commit --------------------------------------------------------------------------


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
    """Background step 2: all new rows of the dry run in one transaction, or nothing.

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
    prepared = [services.Prepared.from_json(values["prepared"]) for values in stored]
    allowed = {owner.id: owner for owner in _owners_by_name(user).values()}
    taken = _existing_keys(prepared)
    if any(key in taken for item in prepared for key in _row_keys(item)) or any(
        values["owner_id"] and values["owner_id"] not in allowed for values in stored
    ):
        raise DomainError(_("The ledger changed since the preview. Check the preview again."))
    # Reps import for themselves; managers' and admins' rows without an owner follow
    # the team's assignment strategy.
    default_owner = user if user.role == Role.REP else services.AUTO
    items = [
        (item, allowed[values["owner_id"]] if values["owner_id"] else default_owner)
        for item, values in zip(prepared, stored, strict=True)
    ]
    _progress(job_id, job.total_rows * 3 // 4)
    now = clock.now()
    with write_transaction() as session:
        services.insert_customers(user, items, now, reason="import")
        job = session.get(ImportJob, job_id)
        job.status, job.processed_rows, job.committed_at = "done", job.total_rows, now
        audit.record("customer.imported", actor=user, subject=job, rows=len(items), filename=job.filename)
    if db.engine.dialect.name == "postgresql" and len(items) >= 1000:
        # Fresh statistics after a big load, or the planner guesses badly for a while.
        with db.engine.connect() as connection:
            connection.execute(text("ANALYZE customers, contacts, contact_phones"))
            connection.commit()
    (import_folder() / job.stored_as).unlink(missing_ok=True)


# ---- clean-up ------------------------------------------------------------------------


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
