"""Amounts as people write them in sheets and forms, parsed exactly (Decimal, never
float); negative, absurd and unreadable values refused with a message that says why."""

from decimal import Decimal

import pytest

from salesdesk.errors import DomainError
from salesdesk.ledger.validation import parse_amount


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("120000.50", "120000.50"),
        ("12000", "12000.00"),
        ("12,000", "12000.00"),
        ("12,000.50", "12000.50"),
        ("1,200,000.5", "1200000.50"),
        ("¥12,000", "12000.00"),
        ("￥12,000", "12000.00"),
        ("¥ 1,200,000.50", "1200000.50"),
        ("￥3.5万", "35000.00"),
        ("5万", "50000.00"),
        ("5 万", "50000.00"),
        ("5万元", "50000.00"),
        ("12.34万", "123400.00"),
        ("1.2345万", "12345.00"),
        ("1.234567万", "12345.67"),
        ("1.2亿", "120000000.00"),
        ("0.5亿", "50000000.00"),
        ("3千", "3000.00"),
        ("1.5百万", "1500000.00"),
        ("2千万", "20000000.00"),
        ("5w", "50000.00"),
        ("5W", "50000.00"),
        ("8k", "8000.00"),
        ("12000元", "12000.00"),
        ("12000元整", "12000.00"),
        ("800块", "800.00"),
        ("RMB 5000", "5000.00"),
        ("5000 CNY", "5000.00"),
        ("人民币5万", "50000.00"),
        ("１２０００", "12000.00"),  # full-width digits
        ("１２，０００．５０", "12000.50"),  # full-width comma and point
        ("  88000\u3000", "88000.00"),  # ideographic space
        ("88\u200b000", "88000.00"),  # an invisible character pasted in
        (".5", "0.50"),
        ("12000.", "12000.00"),
        ("+500", "500.00"),
        ("1.2e+06", "1200000.00"),  # how a spreadsheet may give a number
        ("0", "0.00"),
        ("-0", "0.00"),
        ("", "0.00"),
        (None, "0.00"),
        ("—", "0.00"),
        ("-", "0.00"),
        ("无", "0.00"),
        ("999999999999.99", "999999999999.99"),
        ("9999亿", "999900000000.00"),
        (Decimal("42.1"), "42.10"),
    ],
)
def test_amounts_people_write(typed, amount):
    parsed = parse_amount(typed)
    assert isinstance(parsed, Decimal) and parsed == Decimal(amount) and str(parsed) == amount


def test_no_float_rounding():
    # 0.1 + 0.2 in floats is 0.30000000000000004; here sums stay exact.
    assert parse_amount("0.1") + parse_amount("0.2") == Decimal("0.30")
    assert parse_amount("1.1万") == Decimal("11000")  # 1.1 * 10000 in floats is 11000.000000000002


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("-5", "cannot be negative"),
        ("-5万", "cannot be negative"),
        ("¥-12,000", "cannot be negative"),
        ("−300", "cannot be negative"),  # the minus sign, not a hyphen
        ("1万亿", "not an amount"),
        ("10000亿", "too large"),
        ("1000000000000", "too large"),
        ("1e30", "too large"),
        ("1.234", "more than two decimals"),
        ("1.23456789万", "more than two decimals"),
        ("abc", "not an amount"),
        ("12,34", "not an amount"),  # a decimal comma would be read as thousands
        ("1,2345", "not an amount"),
        ("1.2.3", "not an amount"),
        ("5万5", "not an amount"),
        ("约5万", "not an amount"),
        ("NaN", "not an amount"),
        ("Infinity", "not an amount"),
        ("$500", "not an amount"),
        ("5美元", "not an amount"),
        ("١٢٣", "not an amount"),  # Arabic-Indic digits
    ],
)
def test_amounts_refused_with_a_reason(typed, says):
    with pytest.raises(DomainError) as refused:
        parse_amount(typed)
    assert says in refused.value.message and refused.value.field == "expected_amount"
    assert typed in refused.value.message  # the user sees what was refused


@pytest.mark.parametrize("locale_name", ["zh_Hans_CN", "en", "de", "fr"])
def test_amounts_are_shown_exactly_as_the_locale_writes_them(locale_name):
    """money() formats thousands of amounts a page without Babel's pattern where the
    locale writes numbers as Python does; whatever the route, the text is Babel's."""
    from babel import Locale

    from salesdesk.i18n import _currency_format

    locale = Locale.parse(locale_name)
    pattern = locale.currency_formats["standard"]
    amounts = ["0", "12.5", "-3.01", "1234567.899", "-0.004", "999.995", "-999.995", "0.125", "98765432109.1"]
    for amount in amounts:
        expected = pattern.apply(Decimal(amount), locale, currency="CNY", currency_digits=True)
        assert _currency_format(locale_name)(Decimal(amount)) == expected
