"""Each field type's values: reading what a form, an import cell or the demo gives into
the value kept in the JSON column, and showing a kept value. One function per direction,
so a form, an import and an inline edit accept and refuse exactly the same things.

Kept values: text and long text as strings; a number as a JSON number (int, or a float
of at most 15 significant digits, which a float keeps exactly); money as integer fen,
exact; a date as its ISO string (sorts as it reads); a choice by its key, a multiple
choice as a list of keys in the field's order; yes/no as true/false; a user by id."""

import re
import unicodedata
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _

from ..errors import DomainError
from .models import FieldType

MAX_TEXT = 200
MAX_LONG_TEXT = 5000
MAX_NUMBER = Decimal("1000000000000000")  # 10^15: beyond any count or measure
MAX_DIGITS = 15  # what a float keeps exactly
MAX_NUMBER_DECIMALS = 4
MAX_MONEY = Decimal("1000000000000")  # as the expected amount: one trillion CNY
MAX_CHOSEN = 50
EXCEL_EPOCH = date(1899, 12, 30)  # day 0 of Excel's serial dates (1900 system)

YES_WORDS = {"是", "有", "对", "y", "yes", "true", "1", "✓", "√", "on"}
NO_WORDS = {"否", "无", "没有", "不是", "n", "no", "false", "0", "✗", "×", "off"}
_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T].*)?")
_SEPARATORS = re.compile(r"[,，;；、|\n]+")


def _visible(value):
    """The text as it looks: NFC, no invisible characters, stripped."""
    text = unicodedata.normalize("NFC", str(value))
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cf", "Cc") or ch in "\n\t")
    return text.strip()


def is_empty(raw):
    if raw is None:
        return True
    if isinstance(raw, list | tuple):
        return not any(not is_empty(item) for item in raw)
    return isinstance(raw, str) and not raw.strip()


def parse(field, raw, users=None):
    """The kept value of `raw` for `field`, or None when it is empty. DomainError on the
    field's form name, in words a user can act on. users: {id: User} of active users,
    and {name or e-mail: User}, for a user field (values.active_users)."""
    if is_empty(raw):
        if field.required:
            raise DomainError(_("%(field)s is required.", field=field.label), field=field.form_name)
        return None
    return _PARSERS[FieldType(field.type)](field, raw, users)


def _text(limit):
    def parse_text(field, raw, _users):
        if isinstance(raw, list | tuple):
            raw = raw[0]
        text = _visible(raw)
        if limit == MAX_TEXT:
            text = " ".join(text.split())  # one line
        if len(text) > limit:
            raise DomainError(
                _("%(field)s is too long (at most %(n)s characters).", field=field.label, n=limit),
                field=field.form_name,
            )
        return text

    return parse_text


def _decimal(field, raw):
    if isinstance(raw, bool):
        raise _not_a_number(field, raw)
    if isinstance(raw, int | float | Decimal):
        return Decimal(str(raw))
    text = unicodedata.normalize("NFKC", _visible(raw)).replace(",", "").replace(" ", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise _not_a_number(field, raw) from None
    if not number.is_finite():
        raise _not_a_number(field, raw)
    return number


def _not_a_number(field, raw):
    return DomainError(
        _("%(field)s: %(value)s is not a number.", field=field.label, value=str(raw)[:40]),
        field=field.form_name,
    )


def _number(field, raw, _users):
    number = _decimal(field, raw)
    if abs(number) >= MAX_NUMBER:
        raise DomainError(
            _("%(field)s is too large (below 10^15).", field=field.label), field=field.form_name
        )
    if number != number.quantize(Decimal(1).scaleb(-MAX_NUMBER_DECIMALS)):
        raise DomainError(
            _("%(field)s has at most %(n)s decimals.", field=field.label, n=MAX_NUMBER_DECIMALS),
            field=field.form_name,
        )
    number = number.normalize()
    if number == number.to_integral_value():
        return int(number)
    if len(number.as_tuple().digits) > MAX_DIGITS:
        raise DomainError(
            _("%(field)s has at most %(n)s digits.", field=field.label, n=MAX_DIGITS), field=field.form_name
        )
    return float(number)


def _money(field, raw, _users):
    from ..ledger.validation import parse_amount  # the ledger's own amounts: ¥12,000 / 3.5万

    if isinstance(raw, int | float | Decimal) and not isinstance(raw, bool):
        raw = str(raw)
    try:
        amount = parse_amount(raw)
    except DomainError as error:
        raise DomainError(f"{field.label}: {error.message}", field=field.form_name) from None
    if amount >= MAX_MONEY:
        raise DomainError(_("%(field)s is too large.", field=field.label), field=field.form_name)
    return int(amount * 100)


def parse_date(text):
    """A date as people and Excel write it: 2026-12-06, 2026/12/6, 2026.12.6, 2026年12月6日,
    an Excel serial day (46362) or a date or datetime; None when it is none of those."""
    if isinstance(text, datetime):
        return text.date()
    if isinstance(text, date):
        return text
    text = unicodedata.normalize("NFKC", _visible(text))
    match = _DATE.fullmatch(text)
    try:
        if match:
            return date(int(match[1]), int(match[2]), int(match[3]))
        if text.isdigit() and 20_000 <= int(text) <= 80_000:  # 1954–2119 as serial days
            return EXCEL_EPOCH + timedelta(days=int(text))
    except ValueError:
        return None
    return None


def _date(field, raw, _users):
    if isinstance(raw, list | tuple):
        raw = raw[0]
    day = parse_date(raw)
    if day is None or not 1900 <= day.year <= 2200:
        raise DomainError(
            _(
                "%(field)s: %(value)s is not a date (write 2026-12-31).",
                field=field.label,
                value=str(raw)[:40],
            ),
            field=field.form_name,
        )
    return day.isoformat()


def _choice_key(field, raw):
    """A choice by its key (forms) or its label in either language (imports)."""
    text = _visible(raw)
    folded = text.casefold()
    for choice in field.choices:
        if text == choice["key"] or folded in (choice["zh"].casefold(), (choice.get("en") or "").casefold()):
            if choice.get("retired"):
                raise DomainError(
                    _("%(field)s: %(value)s is no longer offered.", field=field.label, value=choice["zh"]),
                    field=field.form_name,
                )
            return choice["key"]
    raise DomainError(
        _("%(field)s: %(value)s is not one of its choices.", field=field.label, value=text[:40]),
        field=field.form_name,
    )


def _single_choice(field, raw, _users):
    if isinstance(raw, list | tuple):
        raw = next(item for item in raw if not is_empty(item))
    return _choice_key(field, raw)


def _multiple_choice(field, raw, _users):
    items = raw if isinstance(raw, list | tuple) else _SEPARATORS.split(str(raw))
    items = [item for item in items if not is_empty(item)]
    if len(items) > MAX_CHOSEN:
        raise DomainError(_("%(field)s: too many choices.", field=field.label), field=field.form_name)
    chosen = {_choice_key(field, item) for item in items}
    return [choice["key"] for choice in field.choices if choice["key"] in chosen]


def _yes_no(field, raw, _users):
    if isinstance(raw, list | tuple):
        raw = raw[-1]  # a checkbox after its hidden "no": the last one says
    if isinstance(raw, bool):
        return raw
    word = unicodedata.normalize("NFKC", _visible(raw)).casefold()
    if word in YES_WORDS:
        return True
    if word in NO_WORDS:
        return False
    raise DomainError(
        _("%(field)s: write 是 or 否, not %(value)s.", field=field.label, value=str(raw)[:40]),
        field=field.form_name,
    )


def _user(field, raw, users):
    if isinstance(raw, list | tuple):
        raw = raw[0]
    text = _visible(raw)
    user = (users or {}).get(int(text)) if text.isdigit() else (users or {}).get(text.casefold())
    if user is None:
        raise DomainError(
            _("%(field)s: %(value)s is not an active user.", field=field.label, value=text[:60]),
            field=field.form_name,
        )
    return user.id


_PARSERS = {
    FieldType.TEXT: _text(MAX_TEXT),
    FieldType.LONG_TEXT: _text(MAX_LONG_TEXT),
    FieldType.NUMBER: _number,
    FieldType.MONEY: _money,
    FieldType.DATE: _date,
    FieldType.SINGLE_CHOICE: _single_choice,
    FieldType.MULTIPLE_CHOICE: _multiple_choice,
    FieldType.YES_NO: _yes_no,
    FieldType.USER: _user,
}


def money_of(fen):
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))


def display(field, value, user_names=None):
    """A kept value as a page shows it; "" when there is none."""
    if value is None or value == []:
        return ""
    # Here, not at the top: i18n imports the accounts, whose views import i18n, and the
    # ledger can be imported before either (python -m salesdesk.ledger.pinyin_phrases).
    from ..i18n import format_date, money

    kind = FieldType(field.type)
    if kind == FieldType.MONEY:
        return money(money_of(value))
    if kind == FieldType.NUMBER:
        return f"{Decimal(str(value)):,f}" if isinstance(value, float) else f"{value:,}"
    if kind == FieldType.DATE:
        return format_date(date.fromisoformat(value), "medium")
    if kind == FieldType.SINGLE_CHOICE:
        return field.choice_label(value)
    if kind == FieldType.MULTIPLE_CHOICE:
        return "、".join(field.choice_label(key) for key in value)
    if kind == FieldType.YES_NO:
        return _("Yes") if value else _("No")
    if kind == FieldType.USER:
        return (user_names or {}).get(value, f"#{value}")
    return str(value)


def export_value(field, value, user_names=None):
    """A kept value as a spreadsheet cell: numbers stay numbers, money in yuan, dates
    as dates; the rest as the page shows it."""
    if value is None or value == []:
        return ""
    kind = FieldType(field.type)
    if kind == FieldType.MONEY:
        return money_of(value)
    if kind == FieldType.NUMBER:
        return value
    if kind == FieldType.DATE:
        return date.fromisoformat(value)
    if kind == FieldType.YES_NO:
        return "是" if value else "否"
    return display(field, value, user_names)


def form_value(field, value):
    """A kept value as its input shows it again."""
    if value is None:
        return [] if field.type == FieldType.MULTIPLE_CHOICE else ""
    kind = FieldType(field.type)
    if kind == FieldType.MONEY:
        return str(money_of(value))
    if kind == FieldType.NUMBER:
        return f"{Decimal(str(value)):f}" if isinstance(value, float) else str(value)
    if kind == FieldType.YES_NO:
        return "yes" if value else "no"
    return value if isinstance(value, list) else str(value)
