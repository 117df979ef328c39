"""What may be entered for a customer and its contacts: the limits, and the checks that
turn a form's, an import row's or the demo's input into values with their duplicate
keys (Prepared). The forms import the limits from here. No database, no HTTP."""

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..errors import DomainError
from ..fields import values as custom_values
from . import keys
from .models import GRADES, KIND_LABELS, SOURCE_LABELS, Stage

MAX_NAME = 200
MAX_INDUSTRY = 50
MAX_PROVINCE = 20
MAX_CITY = 30
MAX_NOTES = 5000
MAX_AMOUNT = Decimal("1000000000000")  # one trillion CNY: beyond any real deal
MAX_TAG = 30
MAX_TAGS = 10
MAX_CONTACT_NAME = 50
MAX_TITLE = 50
MAX_PHONE = 40  # as typed: extensions, spaces and dashes included
MAX_PHONES = 5
MAX_EMAIL = 254  # the longest address email_validator accepts
MAX_WECHAT = 64


@dataclass
class ContactInput:
    name: str
    title: str = ""
    phones: list[str] = field(default_factory=list)
    email: str = ""
    wechat: str = ""
    # Custom fields: {key: raw value}; None where the form shows none (a new customer's
    # first contact, an import), so that a required contact field does not refuse those.
    custom: dict | None = None


@dataclass
class CustomerInput:
    name: str
    kind: str = "company"
    credit_code: str = ""
    industry: str = ""
    province: str = ""
    city: str = ""
    source: str = "other"
    grade: str = "C"
    stage: str = Stage.LEAD
    expected_amount: str | Decimal = "0"
    tags: list[str] = field(default_factory=list)
    next_follow_up_on: date | None = None
    notes: str = ""
    contacts: list[ContactInput] = field(default_factory=list)
    # Custom fields: {key: raw value} (fields/values.py checks them).
    custom: dict = field(default_factory=dict)


@dataclass
class Prepared:
    """Validated values with their duplicate keys."""

    fields: dict
    name_key: str | None
    credit_code: str | None
    tags: list[str]
    contacts: list[dict]
    # Custom fields: {key: kept value, None for an emptied one}, merged on save.
    custom: dict = field(default_factory=dict)

    @property
    def phone_keys(self):
        return [key for contact in self.contacts for _number, key in contact["phones"]]

    @property
    def email_keys(self):
        return [contact["email_key"] for contact in self.contacts if contact["email_key"]]

    def to_json(self):
        """For an import's dry run to hand to its commit."""
        fields = dict(self.fields, expected_amount=str(self.fields["expected_amount"]))
        if fields["next_follow_up_on"] is not None:
            fields["next_follow_up_on"] = fields["next_follow_up_on"].isoformat()
        return {
            "fields": fields,
            "name_key": self.name_key,
            "credit_code": self.credit_code,
            "tags": self.tags,
            "contacts": self.contacts,
            "custom": self.custom,
        }

    @classmethod
    def from_json(cls, data):
        fields = dict(data["fields"], expected_amount=Decimal(data["fields"]["expected_amount"]))
        if fields["next_follow_up_on"] is not None:
            fields["next_follow_up_on"] = date.fromisoformat(fields["next_follow_up_on"])
        contacts = [
            dict(contact, phones=[tuple(phone) for phone in contact["phones"]])
            for contact in data["contacts"]
        ]
        return cls(
            fields, data["name_key"], data["credit_code"], data["tags"], contacts, data.get("custom") or {}
        )


def clean_text(value, limit, field_name, label, required=False):
    """Free text, stripped; DomainError on `field_name` when missing or too long."""
    value = (value or "").strip()
    if required and not value:
        raise DomainError(_("%(field)s is required.", field=label), field=field_name)
    if len(value) > limit:
        raise DomainError(
            _("%(field)s is too long (at most %(n)s characters).", field=label, n=limit), field=field_name
        )
    return value


def clean_line(value, limit, field_name, label, required=False):
    """A name or other short value that lists show and compare: stored as it looks, so
    that no invisible character makes two equal-looking values differ."""
    return clean_text(keys.visible(value), limit, field_name, label, required)


def clean_choice(value, allowed, field_name):
    if value not in allowed:
        raise DomainError(_("Choose one of the offered values."), field=field_name)
    return value


# How people write amounts in sheets and forms: ¥12,000 / ￥3.5万 / 1.2亿 / 12000元 / 5w.
# NFKC has already made full-width digits, commas, points and ￥ half-width; Excel's own
# numbers may come as 1.2e+16.
_AMOUNT = re.compile(
    r"(?P<sign>[-+−]?)\s*(?:¥|rmb|cny|人民币)?\s*(?P<sign2>[-+−]?)\s*"
    r"(?P<number>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?e[-+]?\d+|\d+(?:\.\d*)?|\.\d+)"
    r"\s*(?P<unit>千|k|百万|千万|万|w|亿)?\s*(?:元整|元|块|rmb|cny)?",
    re.IGNORECASE | re.ASCII,
)
_AMOUNT_UNITS = {
    "": 1,
    "千": 1_000,
    "k": 1_000,
    "万": 10_000,
    "w": 10_000,
    "百万": 1_000_000,
    "千万": 10_000_000,
    "亿": 100_000_000,
}
_NO_AMOUNT = ("", "-", "—", "——", "无")


def parse_amount(value):
    """An amount in CNY as people write it, exact (Decimal, never float): 120000.50,
    12,000.50, ¥12,000, ￥3.5万, 5万, 1.2亿, 12000元; empty or a dash is 0. Negative,
    too large, more than two decimals or anything else: DomainError saying which."""
    typed = keys.visible(str(value if value is not None else "")).strip()
    text = unicodedata.normalize("NFKC", typed).replace(" ", "")
    if text in _NO_AMOUNT:
        return Decimal("0.00")
    match = _AMOUNT.fullmatch(text)
    if match is None:
        raise DomainError(
            _("%(value)s is not an amount: write it as 120000.50, 12万 or ¥12,000.", value=typed),
            field="expected_amount",
        )
    amount = Decimal(match["number"].replace(",", "")) * _AMOUNT_UNITS[(match["unit"] or "").lower()]
    if amount and {"-", "−"} & set(match["sign"] + match["sign2"]):
        raise DomainError(
            _("The amount cannot be negative (%(value)s).", value=typed), field="expected_amount"
        )
    if amount >= MAX_AMOUNT:
        raise DomainError(
            _("%(value)s is too large: an amount is below 1,000,000,000,000 (1万亿) yuan.", value=typed),
            field="expected_amount",
        )
    if amount != amount.quantize(Decimal("0.01")):
        raise DomainError(
            _("%(value)s has more than two decimals: amounts are exact to the fen.", value=typed),
            field="expected_amount",
        )
    return amount.quantize(Decimal("0.01"))


def parse_tags(values):
    tags = []
    for raw in values:
        for tag in keys.visible(str(raw)).replace("，", ",").split(","):
            tag = tag.strip()
            if tag and tag not in tags:
                if len(tag) > MAX_TAG:
                    raise DomainError(_("A tag has at most %(n)s characters.", n=MAX_TAG), field="tags")
                tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise DomainError(_("At most %(n)s tags.", n=MAX_TAGS), field="tags")
    return tags


def _of(entity, custom_fields):
    return None if custom_fields is None else [f for f in custom_fields if f.entity == entity]


def prepare_contact(contact, index=0, custom_fields=None, users=None):
    """custom_fields, users: as for prepare."""
    prefix = f"contacts-{index}-"
    name = clean_line(contact.name, MAX_CONTACT_NAME, prefix + "name", _l("Contact name"), required=True)
    phones = []
    for number in contact.phones:
        number = keys.visible(number).strip()
        if not number:
            continue
        key = keys.phone_key(number)
        if key is None:
            raise DomainError(_("%(number)s is not a phone number.", number=number), field=prefix + "phones")
        if key not in [k for _n, k in phones]:
            phones.append((number[:MAX_PHONE], key))
    if len(phones) > MAX_PHONES:
        raise DomainError(
            _("At most %(n)s phone numbers per contact.", n=MAX_PHONES), field=prefix + "phones"
        )
    email = keys.visible(contact.email).strip()
    if email:
        try:
            email = validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError:
            raise DomainError(
                _("%(email)s is not an e-mail address.", email=email), field=prefix + "email"
            ) from None
    return {
        "name": name,
        "title": clean_line(contact.title, MAX_TITLE, prefix + "title", _l("Job title")),
        "phones": phones,
        "email": email or None,
        "email_key": keys.email_key(email),
        "wechat": clean_line(contact.wechat, MAX_WECHAT, prefix + "wechat", _l("WeChat ID")),
        "custom": {}
        if contact.custom is None
        else custom_values.prepare(
            "contact", contact.custom, fields=_of("contact", custom_fields), users=users
        ),
    }


def prepare(data, custom_fields=None, users=None):
    """Validate a CustomerInput; DomainError names the field that is wrong.
    custom_fields (customers' and contacts'), users: read once for many rows
    (fields/values.prepare)."""
    name = clean_line(data.name, MAX_NAME, "name", _l("Customer name"), required=True)
    kind = clean_choice(data.kind, KIND_LABELS, "kind")
    try:
        credit_code = keys.credit_code_key(data.credit_code)
    except ValueError as error:
        message = (
            _(
                "A unified social credit code has 18 characters: "
                "digits and capital letters except I, O, S, V, Z."
            )
            if str(error) == "format"
            else _("This unified social credit code is not valid: its check character does not match.")
        )
        raise DomainError(message, field="credit_code") from None
    name_key = keys.company_key(name) if kind == "company" else None
    if kind == "company" and not name_key:
        raise DomainError(_("Enter the company's name, not only its legal form."), field="name")
    contacts = [prepare_contact(contact, i, custom_fields, users) for i, contact in enumerate(data.contacts)]
    phone_keys = [key for contact in contacts for _n, key in contact["phones"]]
    if len(set(phone_keys)) != len(phone_keys):
        raise DomainError(_("The same phone number is entered twice."), field="contacts-0-phones")
    fields = {
        "name": name,
        "kind": kind,
        "industry": clean_line(data.industry, MAX_INDUSTRY, "industry", _l("Industry")),
        "province": clean_line(data.province, MAX_PROVINCE, "province", _l("Province")),
        "city": clean_line(data.city, MAX_CITY, "city", _l("City")),
        "source": clean_choice(data.source, SOURCE_LABELS, "source"),
        "grade": clean_choice(data.grade, GRADES, "grade"),
        "stage": clean_choice(data.stage, [s.value for s in Stage], "stage"),
        "expected_amount": parse_amount(data.expected_amount),
        "next_follow_up_on": data.next_follow_up_on,
        "notes": clean_text(data.notes, MAX_NOTES, "notes", _l("Notes")),
    }
    custom = custom_values.prepare(
        "customer", data.custom, fields=_of("customer", custom_fields), users=users
    )
    return Prepared(fields, name_key, credit_code, parse_tags(data.tags), contacts, custom)
