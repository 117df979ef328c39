"""Duplicate keys: what counts as the same company, phone, e-mail, credit code."""

import pytest

from salesdesk.ledger import keys
from salesdesk.ledger.access import mask_phone
from salesdesk.ledger.keys import company_key, credit_code_check_char, credit_code_key, email_key, phone_key

SAME_COMPANY = [
    # the three spellings
    ("深圳市腾飞科技有限公司", "腾飞科技（深圳）有限公司"),
    ("深圳市腾飞科技有限公司", "騰飛科技有限公司"),
    # region with and without 省/市, more than one region, bare region
    ("广东省深圳市腾飞科技股份有限公司", "腾飞科技"),
    ("深圳腾飞科技有限公司", "腾飞科技有限责任公司"),
    ("北京华源信息技术有限公司", "华源信息技术公司"),
    # full-width letters, digits and brackets; spaces and punctuation
    ("ＡＢＣ科技有限公司", "abc科技有限公司"),
    ("腾飞 科技·有限公司", "腾飞科技有限公司"),
    ("腾飞科技(集团)有限公司", "腾飞科技集团有限公司"),
    ("阿里巴巴（中国）网络技术有限公司", "阿里巴巴网络技术有限公司"),
    # English legal suffixes
    ("Tengfei Tech Co., Ltd.", "TENGFEI TECH LIMITED"),
    ("Acme Inc.", "acme, llc"),
    ("Acme Corporation", "ACME"),
]

DIFFERENT_COMPANY = [
    # a bare region is kept when little would remain: banks of different cities differ
    ("北京银行", "南京银行"),
    ("上海汽车集团股份有限公司", "北京汽车集团有限公司"),
    ("中山大学", "大学"),
    ("华为技术有限公司", "华为终端有限公司"),
    ("Costco", "Cost"),
]


@pytest.mark.parametrize(("a", "b"), SAME_COMPANY)
def test_same_company_same_key(a, b):
    assert company_key(a) == company_key(b) is not None


@pytest.mark.parametrize(("a", "b"), DIFFERENT_COMPANY)
def test_different_companies_keep_different_keys(a, b):
    assert company_key(a) != company_key(b)


def test_keys_are_readable():
    assert company_key("深圳市腾飞科技有限公司") == "腾飞科技"
    assert company_key("北京银行股份有限公司") == "北京银行"
    assert company_key("The Coca-Cola Company") == "thecocacola"


@pytest.mark.parametrize(
    ("number", "key"),
    [
        ("13800138000", "13800138000"),
        ("138-0013-8000", "13800138000"),
        ("+86 138 0013 8000", "13800138000"),
        ("0086 13800138000", "13800138000"),
        ("8613800138000", "13800138000"),
        ("１３８００１３８０００", "13800138000"),
        ("0755-12345678", "075512345678"),
        ("(0755) 1234 5678", "075512345678"),
        ("+86 755 1234 5678", "075512345678"),
        ("+86-10-6552-9988", "01065529988"),
        ("400-800-8888", "4008008888"),
        ("1234", None),
        ("", None),
        ("call me", None),
        ("1" * 25, None),
    ],
)
def test_phone_keys(number, key):
    assert phone_key(number) == key


def test_email_keys():
    assert email_key("  Zhang.San@Example.COM ") == "zhang.san@example.com"
    assert email_key("") is None


VALID_CODES = ["91350100M000100Y43", "91110000802100433B", "9144030071526726XG"]


@pytest.mark.parametrize("code", VALID_CODES)
def test_valid_credit_codes(code):
    assert credit_code_key(code.lower()) == code
    assert credit_code_check_char(code[:17]) == code[17]


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("91350100M000100Y44", "check"),  # wrong check character
        ("91350100M000100Y4", "format"),  # 17 characters
        ("91350100M000100Y433", "format"),  # 19 characters
        ("91350100I000100Y43", "format"),  # I is not in the alphabet
        ("9135010０M000100Y4", "format"),  # too short after NFKC
    ],
)
def test_invalid_credit_codes(code, reason):
    with pytest.raises(ValueError, match=reason):
        credit_code_key(code)


def test_empty_credit_code_is_none():
    assert credit_code_key("  ") is None


# ---- finding 6: characters that change nothing on screen --------------------------------

# Each looks like nothing, or like part of the character before it: a combining accent
# on a Chinese character, variation selectors, a combining grapheme joiner, an enclosing
# circle, Hangul fillers. (Zero-width and other format characters were dropped already.)
UNSEEN = ["\u0301", "\ufe00", "\ufe0f", "\U000e0100", "\u034f", "\u20dd", "\u3164", "\uffa0", "\u115f"]


@pytest.mark.parametrize("unseen", UNSEEN)
def test_finding_6_an_unseen_character_leaves_the_company_key_alone(unseen):
    assert company_key(f"深圳市腾飞{unseen}科技有限公司{unseen}") == "腾飞科技"


@pytest.mark.parametrize(
    "number",
    [
        "١٣٨٠٠١٣٨٠٠٠",  # Arabic-Indic
        "۱۳۸ ۰۰۱۳ ۸۰۰۰",  # Extended Arabic-Indic (Persian, Urdu)
        "+٨٦ ١٣٨-٠٠١٣-٨٠٠٠",
        "१३८००१३८०००",  # Devanagari
        "1٣8００1３8٠0\u200b0",  # mixed, with a zero-width space
    ],
)
def test_finding_6_phone_keys_read_every_kind_of_digit(number):
    assert phone_key(number) == "13800138000"


def test_finding_6_email_and_credit_code_keys_ignore_unseen_characters_and_read_every_digit():
    assert email_key("wang\u200b@tengfei\u2060.example\ufeff") == email_key("wang@tengfei.example")
    assert email_key("wang@\u0301tengfei.example") == "wang@tengfei.example"
    assert credit_code_key("٩١٣٥٠١٠٠M٠٠٠١٠٠Y٤٣") == "91350100M000100Y43"
    assert credit_code_key("9135\u200b0100M000100Y43\ufe0f") == "91350100M000100Y43"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("腾飞\u200b科技\u200d有限公司\ufeff", "腾飞科技有限公司"),
        ("腾飞科技\u0301\ufe00有限公司", "腾飞科技有限公司"),
        ("\u3164腾飞\uffa0科技\u115f\u1160", "腾飞科技"),
        ("\u202e腾飞科技\u202c\u2066\u2069\u200e\u200f\u061c", "腾飞科技"),
        ("腾飞\U000e0041\U000e007f科技", "腾飞科技"),
        ("腾飞\x00科技\n有限公司", "腾飞科技 有限公司"),
        ("\u0301Acme", "Acme"),
        # Accents of real letters stay, composed (NFC).
        ("Cafe\u0301", "Café"),
        ("Café Müller", "Café Müller"),
        ("Nguyễn", "Nguyễn"),
        ("ẹ\u0301", "ẹ\u0301"),  # Yoruba: no composed form exists
        ("か\u3099", "が"),
    ],
)
def test_finding_6_display_values_are_stored_as_they_look(typed, stored):
    assert keys.visible(typed) == stored
    assert company_key(typed) == company_key(stored)


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("+86 139 0000 1111", "139****1111"),
        ("0086-139-0000-1111", "139****1111"),
        ("13900001111", "139****1111"),
        ("+86 755 1234 5678", "075****5678"),
        ("0755-12345678", "075****5678"),
        ("١٣٩٠٠٠٠١١١١", "139****1111"),
        ("12345", "*****"),
    ],
)
def test_a_phone_is_masked_on_its_national_number(number, masked):
    # Found by the hardening probe: +86 139 0000 1111 was shown as 861****1111.
    assert mask_phone(number) == masked
