"""Each custom field type's values: what a form, an import cell or an inline edit gives,
read into the kept value or refused with a message naming the field; and shown again."""

from datetime import date, datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest

from salesdesk.errors import DomainError
from salesdesk.fields import types
from salesdesk.fields.definitions import key_from_label
from salesdesk.fields.models import CustomField

CHOICES = [
    {"key": "c1", "zh": "展会", "en": "Trade fair", "retired": False},
    {"key": "c2", "zh": "转介绍", "en": "Referral", "retired": False},
    {"key": "c3", "zh": "旧渠道", "en": "", "retired": True},
]


def field(kind, required=False, choices=CHOICES):
    return CustomField(
        entity="customer",
        key="k",
        label_zh="字段",
        label_en="",
        type=kind,
        required=required,
        choices=choices,
    )


def parse(kind, raw, users=None, **options):
    return types.parse(field(kind, **options), raw, users)


@pytest.mark.parametrize(
    ("kind", "raw", "kept"),
    [
        ("text", "  华东 区 ", "华东 区"),
        ("text", "a\u200bb", "ab"),  # invisible characters dropped
        ("long_text", "第一行\n第二行", "第一行\n第二行"),
        ("number", "1,200", 1200),
        ("number", "-3.25", -3.25),
        ("number", "１２", 12),  # full-width digits
        ("number", 7, 7),
        ("number", 2.5, 2.5),
        ("money", "¥12,000", 1_200_000),
        ("money", "3.5万", 3_500_000),
        ("money", "0.01", 1),
        ("money", 1234.5, 123_450),  # an Excel number cell
        ("date", "2026-12-06", "2026-12-06"),
        ("date", "2026/12/6", "2026-12-06"),
        ("date", "2026.1.5", "2026-01-05"),
        ("date", "2026年12月6日", "2026-12-06"),
        ("date", "2026-12-06 00:00:00", "2026-12-06"),
        ("date", "46362", "2026-12-06"),  # an Excel serial day
        ("date", date(2026, 12, 6), "2026-12-06"),
        ("date", datetime(2026, 12, 6, 9, 30), "2026-12-06"),
        ("single_choice", "c2", "c2"),
        ("single_choice", "转介绍", "c2"),
        ("single_choice", "trade fair", "c1"),
        ("multiple_choice", ["c2", "c1"], ["c1", "c2"]),  # in the field's order
        ("multiple_choice", "转介绍、展会", ["c1", "c2"]),
        ("multiple_choice", "展会;展会", ["c1"]),
        ("yes_no", "是", True),
        ("yes_no", "否", False),
        ("yes_no", "yes", True),
        ("yes_no", "N", False),
        ("yes_no", "✓", True),
        ("yes_no", ["no", "yes"], True),  # a checkbox after its hidden "no"
    ],
)
def test_a_value_is_kept_as_its_type_keeps_it(kind, raw, kept):
    assert parse(kind, raw) == kept


@pytest.mark.parametrize(
    ("kind", "raw", "says"),
    [
        ("text", "字" * 201, "too long"),
        ("long_text", "字" * 5001, "too long"),
        ("number", "abc", "not a number"),
        ("number", "1e400", "too large"),
        ("number", "NaN", "not a number"),
        ("number", "1" * 16, "too large"),
        ("number", "0.00001", "decimals"),
        ("number", True, "not a number"),
        ("money", "-5", "negative"),
        ("money", "abc", "not an amount"),
        ("money", "0.001", "two decimals"),
        ("money", str(2**63), "too large"),
        ("date", "2026-02-30", "not a date"),
        ("date", "tomorrow", "not a date"),
        ("date", "99999-01-01", "not a date"),
        ("single_choice", "c9", "not one of its choices"),
        ("single_choice", "旧渠道", "no longer offered"),  # a retired choice
        ("multiple_choice", "展会,火星", "not one of its choices"),
        ("multiple_choice", ",".join(["展会"] * 51), "too many"),
        ("yes_no", "maybe", "是"),
        ("user", "999", "not an active user"),
        ("user", "nobody", "not an active user"),
    ],
)
def test_a_wrong_value_is_refused_naming_the_field(kind, raw, says):
    with pytest.raises(DomainError) as refused:
        parse(kind, raw, users={})
    assert "字段" in refused.value.message
    assert says in refused.value.message
    assert refused.value.field == "custom_k"


def test_an_empty_value_is_none_and_a_required_one_is_refused():
    for empty in ("", "  ", None, [], [""]):
        assert parse("text", empty) is None
    with pytest.raises(DomainError, match="required"):
        parse("number", " ", required=True)


def test_a_user_is_found_by_id_name_or_email_among_the_active_users():
    user = SimpleNamespace(id=7, display_name="张三", email="zhang@x.example")
    users = {7: user, "张三": user, "zhang@x.example": user}
    assert [parse("user", raw, users=users) for raw in ("7", "张三", "ZHANG@x.example")] == [7, 7, 7]


def test_values_show_as_a_page_and_a_sheet_show_them(app):
    money = field("money")
    assert types.display(money, 1_200_050) == "¥12,000.50"
    assert types.export_value(money, 1_200_050) == Decimal("12000.50")
    assert types.form_value(money, 1_200_050) == "12000.50"
    assert types.display(field("number"), 1234567) == "1,234,567"
    assert types.form_value(field("number"), 0.25) == "0.25"
    assert types.export_value(field("date"), "2026-12-06") == date(2026, 12, 6)
    assert types.display(field("multiple_choice"), ["c1", "c3"]) == "展会、旧渠道"
    assert types.export_value(field("yes_no"), False) == "否"
    assert types.display(field("user"), 7, {7: "张三"}) == "张三"
    assert types.display(field("text"), None) == ""


@pytest.mark.parametrize(
    ("label", "key"),
    [
        ("年度预算", "nianduyusuan"),
        ("Budget 2026", "budget_2026"),
        ("2026预算", "f_2026_yusuan"),
        ("！", "f"),
    ],
)
def test_a_key_is_made_from_the_label(app, label, key):
    assert key_from_label(label) == key
