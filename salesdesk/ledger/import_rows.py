"""The rows of an imported file as customers: which column holds which field (guessed
from the headers, then chosen by the user), each row read into a CustomerInput, and the
dry run that classifies every row as new, already in the ledger, repeated or invalid.
No files, no jobs: importer.py runs these in the background."""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..auth.models import Role, User
from ..errors import DomainError
from ..extensions import db
from ..paging import paginate
from . import access, exporter, keys
from .models import SOURCE_LABELS, Contact, ContactPhone, Customer, ImportRow, Stage
from .validation import ContactInput, CustomerInput, Prepared, prepare

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
PROGRESS_EVERY = 250  # rows classified between two progress reports


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


def clean_mapping(mapping, width):
    """The chosen {field: column index}, checked against a file `width` columns wide."""
    clean = {}
    for field, index in mapping.items():
        if field in FIELDS and isinstance(index, int) and 0 <= index < width:
            if index in clean.values():
                raise DomainError(_("Each column can be used for one field only."))
            clean[field] = index
    missing = [str(FIELDS[f][0]) for f in REQUIRED if f not in clean]
    if missing:
        raise DomainError(_("Choose the column for: %(fields)s.", fields=", ".join(missing)))
    return clean


def cell(row, mapping, field):
    index = mapping.get(field)
    return exporter.unneutralise(row[index].strip()) if index is not None and index < len(row) else ""


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
    region = cell(row, mapping, "region")
    province, city = _split_region(region) if region else ("", "")
    grade = cell(row, mapping, "grade").upper().rstrip("级类")
    contact_fields = [cell(row, mapping, f) for f in ("contact_name", "phone", "phone2", "email", "wechat")]
    contacts = []
    if any(contact_fields):
        name, phone, phone2, email, wechat = contact_fields
        contacts.append(
            ContactInput(
                name=name or _("Contact"),
                title=cell(row, mapping, "contact_title"),
                phones=[p for p in re.split(r"[;；,，/、]", phone) + [phone2] if p.strip()],
                email=email,
                wechat=wechat,
            )
        )
    data = CustomerInput(
        name=cell(row, mapping, "name"),
        credit_code=cell(row, mapping, "credit_code"),
        industry=cell(row, mapping, "industry"),
        province=cell(row, mapping, "province") or province,
        city=cell(row, mapping, "city") or city,
        source=_code(cell(row, mapping, "source"), SOURCE_WORDS, SOURCE_LABELS, "source", _("source"))
        or "other",
        grade=grade or "C",
        stage=_code(cell(row, mapping, "stage"), STAGE_WORDS, [s.value for s in Stage], "stage", _("stage"))
        or Stage.LEAD,
        expected_amount=cell(row, mapping, "expected_amount") or "0",
        tags=[cell(row, mapping, "tags")],
        next_follow_up_on=_date(cell(row, mapping, "next_follow_up_on")),
        notes=cell(row, mapping, "notes"),
        contacts=contacts,
    )
    return data, cell(row, mapping, "owner")


def owners_by_name(user, everyone=False):
    """Whom an importer may name as owner: display name or e-mail -> User. Reps own
    what they import, managers assign within their team, admins to anyone (the same
    rules as the new-customer form). everyone: every active seller, whom the importer
    may or may not name (to say why a name is refused)."""
    query = select(User).where(User.can_hold_customers)
    if not everyone and not access.can_choose_owner(user):
        query = query.where(User.id == user.id)
    elif not everyone and user.role != Role.ADMIN:
        query = query.where(User.team_id == user.team_id)
    found = {}
    for owner in db.session.scalars(query):
        found[owner.display_name] = owner
        found[owner.email] = owner
    return found


def owner_hint(user):
    """What the owner column may say, for the import pages."""
    if not access.can_choose_owner(user):
        return _("Customers you import are yours: the owner column may name only you, or be left empty.")
    if user.role != Role.ADMIN:
        return _(
            "The owner column may name the reps and managers of your team; "
            "rows without an owner follow your team's assignment rule."
        )
    return _("The owner column may name any active rep or manager; rows without one follow the team's rule.")


def _owner(user, name, allowed, everyone):
    """The owner a row names, or DomainError saying why the importer may not name them."""
    if not name:
        return None
    owner = allowed.get(name) or allowed.get(name.lower())
    if owner is not None:
        return owner
    if (everyone.get(name) or everyone.get(name.lower())) is None:
        message = _("Unknown owner %(name)s (not an active rep or manager).", name=name)
    elif not access.can_choose_owner(user):
        message = _(
            "You cannot make %(name)s the owner: customers you import are yours. "
            "Clear the owner cell, or ask your manager to assign them afterwards.",
            name=name,
        )
    else:
        message = _("%(name)s is not in your team: managers assign within their own team.", name=name)
    raise DomainError(message, field="owner")


@dataclass
class Verdict:
    row_number: int
    status: str  # new, existing, repeated, invalid
    prepared: Prepared | None = None
    owner: User | None = None
    message: str = ""
    duplicate_of: int | None = None
    earlier_row: int | None = None


def classify(user, rows, mapping, on_progress=None):
    """Dry-run every data row and return one Verdict per row.

    Exact duplicate keys are looked up for the whole file at once, so ten thousand
    rows cost a handful of queries rather than tens of thousands.
    """
    owners, everyone = owners_by_name(user), owners_by_name(user, everyone=True)
    verdicts = []
    for number, row in enumerate(rows[1:], start=2):
        try:
            data, owner_name = row_input(row, mapping)
            prepared = prepare(data)
            owner = _owner(user, owner_name, owners, everyone)
            verdicts.append(Verdict(number, "new", prepared, owner))
        except DomainError as error:
            verdicts.append(Verdict(number, "invalid", message=error.message))
        if on_progress and number % PROGRESS_EVERY == 0:
            on_progress(number // 2)
    existing = existing_keys([v.prepared for v in verdicts if v.prepared is not None])
    seen = {}
    for verdict in verdicts:
        if verdict.prepared is None:
            continue
        keys_of_row = row_keys(verdict.prepared)
        verdict.duplicate_of = next((existing[k] for k in keys_of_row if k in existing), None)
        verdict.earlier_row = (
            None if verdict.duplicate_of else next((seen[k] for k in keys_of_row if k in seen), None)
        )
        if verdict.duplicate_of:
            verdict.status = "existing"
        elif verdict.earlier_row:
            verdict.status = "repeated"
        else:
            for key in keys_of_row:
                seen[key] = verdict.row_number
    return verdicts


def row_keys(prepared):
    """A row's duplicate keys, as (kind, key) pairs."""
    return (
        ([("name", prepared.name_key)] if prepared.name_key else [])
        + ([("credit_code", prepared.credit_code)] if prepared.credit_code else [])
        + [("phone", key) for key in prepared.phone_keys]
        + [("email", key) for key in prepared.email_keys]
    )


def existing_keys(prepared_list, chunk=500):
    """{(kind, key): customer id} for every key of the file already in the ledger."""
    wanted = {"name": set(), "credit_code": set(), "phone": set(), "email": set()}
    for prepared in prepared_list:
        for kind, key in row_keys(prepared):
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


def rows_page(job, status, page, per_page):
    """One page of a checked file's rows in file order, only those of `status` if it is one."""
    query = select(ImportRow).where(ImportRow.job_id == job.id)
    if status in STATUS_LABELS:
        query = query.where(ImportRow.status == status)
    return paginate(query.order_by(ImportRow.row_number), page, per_page)
