"""Duplicate keys: what counts as the same company, phone, e-mail, credit code."""

import pytest

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
