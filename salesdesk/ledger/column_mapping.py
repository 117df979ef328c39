"""Which column of an imported file holds which field: the built-in fields' names
and spellings, the custom fields as targets, the mapping guessed from the headers and
the one the user chose, checked.

A mapping is {target: column index}: a built-in field's name (FIELDS), "custom:<key>"
for a customer custom field or "contact:<key>" for a contact's (the row's contact),
matched by its label."""

import re
import unicodedata
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..errors import DomainError
from ..fields.definitions import active_fields, all_fields
from . import exporter

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
# The target of a custom field in a mapping: custom:<key> for a customer's, contact:<key>
# for a contact's (keys are [a-z0-9_]).
CUSTOM = "custom:"
CONTACT = "contact:"
CUSTOM_PREFIXES = {"customer": CUSTOM, "contact": CONTACT}


def normalize_header(text):
    text = unicodedata.normalize("NFKC", str(text or "")).lower()
    return re.sub(r"[\s_\-:：*()（）/]", "", text)


def custom_target(field):
    return CUSTOM_PREFIXES[field.entity] + field.key


def is_custom_target(target):
    return target.startswith((CUSTOM, CONTACT))


def mapping_fields():
    """The custom fields an import can fill: the active ones of customers, then of
    contacts, in their order."""
    return active_fields("customer") + active_fields("contact")


@dataclass
class CustomTarget:
    """A custom field as the import pages offer it: its target, its column's name (as
    exports write it) and whether a file must have the column."""

    key: str
    label: str
    field: object

    @property
    def required(self):
        # A required contact field is asked of a contact the row has, not of every file.
        return self.field.required and self.field.entity == "customer"


def custom_targets(fields=None):
    return [
        CustomTarget(custom_target(f), exporter.custom_header(f), f)
        for f in (mapping_fields() if fields is None else fields)
    ]


def _labels(field):
    """A custom field's labels as headers: a contact's also as exports name its column."""
    labels = {field.label_zh, field.label_en}
    if field.entity == "contact":
        labels |= {"联系人" + field.label_zh, "contact" + (field.label_en or "")}
    return [s for s in map(normalize_header, labels) if s and s != "contact"]


def _spellings(fields, exact):
    """(target, normalized spellings) to match headers with. Exact: the built-in fields,
    then each custom field by its labels. Contained: the custom fields first, since an
    admin's label (签约金额) is more telling than a built-in word in it (金额)."""
    builtin = [(target, spellings) for target, (_label, spellings) in FIELDS.items()]
    custom = [(custom_target(f), _labels(f)) for f in fields]
    return builtin + custom if exact else custom + builtin


def guess_mapping(headers, fields=()):
    """{target: column index} for the headers we recognise; each column used once.
    fields: the custom fields an import can fill (mapping_fields), matched by label."""
    normalized = [normalize_header(h) for h in headers]
    mapping = {}
    for exact in (True, False):
        for target, spellings in _spellings(fields, exact):
            if target in mapping:
                continue
            for index, header in enumerate(normalized):
                if index in mapping.values() or not header:
                    continue
                if header in spellings if exact else any(s in header for s in spellings if len(s) > 1):
                    mapping[target] = index
                    break
    return mapping


def posted_mapping(form):
    """{target: column index} from the mapping form's map-<target> selects; a select
    left at "not imported" (or holding no column number) is left out."""
    return {
        name.removeprefix("map-"): int(value)
        for name, value in form.items()
        if name.startswith("map-") and value.isdecimal()
    }


def clean_mapping(mapping, width, fields=None):
    """The chosen {target: column index}, checked against a file `width` columns wide
    and the custom fields an import can fill (default: mapping_fields()). A column for
    a retired or unknown field is refused: the page that offered it is out of date."""
    fields = mapping_fields() if fields is None else fields
    custom = {custom_target(f): f for f in fields}
    clean = {}
    for target, index in mapping.items():
        if not (isinstance(index, int) and 0 <= index < width):
            continue
        if target not in FIELDS and target not in custom:
            raise _not_a_target(target)
        if index in clean.values():
            raise DomainError(_("Each column can be used for one field only."))
        clean[target] = index
    missing = [str(FIELDS[f][0]) for f in REQUIRED if f not in clean]
    missing += [t.label for t in custom_targets(fields) if t.required and t.key not in clean]
    if missing:
        raise DomainError(_("Choose the column for: %(fields)s.", fields=", ".join(missing)))
    return clean


def _not_a_target(target):
    every = all_fields("customer") + all_fields("contact")
    retired = next((f for f in every if target == custom_target(f) and not f.active), None)
    if retired is not None:
        return DomainError(_("The field %(field)s is retired: it takes no new values.", field=retired.label))
    return DomainError(_("There is no such field here. Reload the page and try again."))


def check_custom_targets(mapping, fields):
    """DomainError when the mapping names a custom field that was retired (or removed)
    since it was chosen: the mapping must be chosen again."""
    custom = {custom_target(f) for f in fields}
    for target in mapping:
        if is_custom_target(target) and target not in custom:
            raise _not_a_target(target)
