"""Search tokens and the queries built from what a user types."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from salesdesk.ledger import pinyin_phrases
from salesdesk.ledger.search import (
    _fts5_expression,
    _terms,
    _tsquery_expression,
    contact_fragment,
    contact_name_tokens,
    contact_search_text,
    name_tokens,
    sort_key,
)

ROOT = Path(__file__).resolve().parents[2]


def test_name_tokens_cover_bigrams_pinyin_and_initials():
    tokens = name_tokens("深圳市腾飞科技有限公司").split()
    assert {"腾飞", "飞科", "科技"} <= set(tokens)
    assert {"tengfeikejiyouxiangongsi", "feikejiyouxiangongsi"} <= set(tokens)
    assert {"szstfkjyxgs", "tfkjyxgs", "kjyxgs"} <= set(tokens)


def test_traditional_and_full_width_names_index_like_simplified():
    assert name_tokens("騰飛科技") == name_tokens("腾飞科技")
    assert "abc" in name_tokens("ＡＢＣ科技").split()


def test_queries():
    assert _terms("腾飞科 TFKJ") == ([["腾飞", "飞科"]], ["tfkj"])
    assert _terms("腾") == ([["腾"]], [])
    phrases, prefixes = _terms("華為 huawei")
    assert _fts5_expression(phrases, prefixes) == '"华为" AND "huawei"*'
    assert _tsquery_expression(phrases, prefixes) == "('华为') & 'huawei':*"


def test_punctuation_cannot_break_out_of_the_query():
    assert _terms('"; DROP TABLE customers; --') == ([], ["drop", "table", "customers"])
    assert _terms("* OR NEAR(a b)") == ([], ["or", "near", "a", "b"])


def test_contact_fragments():
    assert contact_fragment("138-0013") == "1380013"
    assert contact_fragment("+86 138 0013 8000") == "13800138000"
    assert contact_fragment("123") is None
    assert contact_fragment("wang@") == "wang@"
    assert contact_fragment("ab") is None


def test_finding_6_unseen_characters_and_other_digits_search_like_plain_ones():
    assert name_tokens("腾飞\u0301科\ufe00技\u3164") == name_tokens("腾飞科技")
    assert sort_key("腾飞\u0301科技") == sort_key("腾飞科技")
    assert _terms("腾飞\u0301科技") == _terms("腾飞科技")
    assert contact_fragment("١٣٨-٠٠١٣") == "1380013"
    assert contact_fragment("+٨٦ ١٣٨ ٠٠١٣ ٨٠٠٠") == "13800138000"
    assert contact_search_text(["13800138000"], "wang\u200b@tengfei.example", "Wang\ufe0fWx") == (
        "13800138000 wang@tengfei.example wangwx"
    )


def test_sort_key_is_pinyin():
    assert sort_key("阿里巴巴") < sort_key("百度") < sort_key("腾讯")
    assert sort_key("Apple") == "apple"


def test_names_read_with_the_phrases_that_change_a_reading():
    assert sort_key("重庆银行").startswith("chongqingyinhang")  # 重 chóng, 行 háng: phrases
    assert sort_key("杭州市长安科技有限公司").startswith("hangzhoushichangan")  # not 市长 + 安


def test_the_phrase_file_is_what_pypinyin_s_whole_table_gives():
    # A fresh process with pypinyin's own table, as after an upgrade of pypinyin.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYPINYIN_")}
    result = subprocess.run(
        [sys.executable, "-m", "salesdesk.ledger.pinyin_phrases"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(result.stdout) == json.loads(pinyin_phrases.DATA.read_text(encoding="utf-8"))


def test_contact_names_index_as_bigrams_and_latin_words():
    assert contact_name_tokens("郭子豪") == "郭子 子豪"
    assert contact_name_tokens("王总") == "王总"
    assert contact_name_tokens("王") == "王"
    assert contact_name_tokens("郭 子豪") == "郭 子豪"  # each run of Chinese on its own
    assert contact_name_tokens("Alice Chen 陈") == "陈 alice chen"
    assert contact_name_tokens("郭子豪") == contact_name_tokens("郭子豪\u200b")  # unseen characters


# ---- the same customers found on SQLite and PostgreSQL -------------------------------

# Customers by key: (name, owner, [(contact name, phones, e-mail, WeChat)]). The owner is
# a `world` attribute, or "pool".
SEARCHED = {
    "tengfei": (
        "深圳市腾飞科技有限公司",
        "rep_a",
        [("郭子豪", ["138 1234 7949"], "guo@tengfei.cn", "")],
    ),
    "huawei": ("华为科技有限公司", "rep_a", [("王总", ["13900007949"], "wang@huawei.example", "")]),
    "yunqi": ("杭州云栖数据有限公司", "rep_b", [("李娜", ["0571-88886666"], "", "")]),
    "beike": ("北京科技大学", "rep_b", [("Alice Chen", [], "", "alice_wx")]),
    "studio": ("7949设计工作室", "rep_b", []),
    "pool": ("公海贸易有限公司", "pool", [("赵敏", ["13600001111"], "", "")]),
    "keyan": ("科研仪器有限公司", "rep_a", [("王总监", [], "keji@keyan.example", "")]),
}
# (query, kind, what an administrator finds, what rep_b finds). rep_b sees the contact
# details of their own customers only; names and contact names are everyone's.
QUERIES = [
    ("腾飞", "name substring", {"tengfei"}, {"tengfei"}),
    ("騰飛", "Traditional characters", {"tengfei"}, {"tengfei"}),
    ("科技", "name substring", {"tengfei", "huawei", "beike"}, {"tengfei", "huawei", "beike"}),
    ("tfkj", "pinyin initials", {"tengfei"}, {"tengfei"}),
    ("kj", "pinyin initials", {"tengfei", "huawei", "beike"}, {"tengfei", "huawei", "beike"}),
    ("huawei", "full pinyin", {"huawei"}, {"huawei"}),
    # Full pinyin, and an e-mail holding it: found only where the e-mail can be seen.
    ("keji", "full pinyin", {"tengfei", "huawei", "beike", "keyan"}, {"tengfei", "huawei", "beike"}),
    ("keyan", "full pinyin", {"keyan"}, {"keyan"}),
    ("7949", "phone digits", {"tengfei", "huawei", "studio"}, {"studio"}),
    ("1234-7949", "phone digits", {"tengfei"}, set()),
    ("88886666", "phone digits", {"yunqi"}, {"yunqi"}),
    ("13600001111", "phone digits", {"pool"}, set()),
    ("wang@huawei", "e-mail", {"huawei"}, set()),
    ("tengfei.cn", "e-mail", {"tengfei"}, set()),  # not the name: it lacks "cn"
    ("alice_wx", "WeChat", {"beike"}, {"beike"}),
    ("郭子豪", "contact name", {"tengfei"}, {"tengfei"}),
    ("子豪", "contact name", {"tengfei"}, {"tengfei"}),
    ("王总", "contact name", {"huawei", "keyan"}, {"huawei", "keyan"}),
    ("赵敏", "contact name", {"pool"}, {"pool"}),
    ("alice", "contact name", {"beike"}, {"beike"}),
    ("腾飞 tfkj", "mixed", {"tengfei"}, {"tengfei"}),
    ("科技 huawei", "mixed", {"huawei"}, {"huawei"}),
    ("云栖 李娜", "mixed: a name and a contact", set(), set()),
    ("不存在", "nothing", set(), set()),
    ('"* OR', "syntax", set(), set()),
]


@pytest.fixture
def searched(world):
    from salesdesk.ledger.customers import create_customer
    from salesdesk.ledger.validation import ContactInput, CustomerInput

    ids = {}
    for key, (name, owner, contacts) in SEARCHED.items():
        customer = create_customer(
            world.admin,
            CustomerInput(
                name=name,
                contacts=[
                    ContactInput(name=person, phones=phones, email=email, wechat=wechat)
                    for person, phones, email, wechat in contacts
                ],
            ),
            owner_id=None if owner == "pool" else getattr(world, owner).id,
            confirm_similar=True,
        )
        ids[customer.id] = key
    return ids


@pytest.mark.parametrize(("query", "kind", "for_admin", "for_rep_b"), QUERIES, ids=[q[0] for q in QUERIES])
def test_each_kind_of_query_finds_the_same_customers_on_every_database(
    world, searched, query, kind, for_admin, for_rep_b
):
    from salesdesk.ledger.queries import Filters, list_customers

    for viewer, expected in ((world.admin, for_admin), (world.rep_b, for_rep_b)):
        page = list_customers(viewer, Filters(q=query, per_page=100))
        assert {searched[customer.id] for customer in page.items} == expected, (kind, viewer.email)
        assert page.total == len(expected)


def test_a_broad_search_finds_the_same_customers_counted_or_not(world, searched, monkeypatch):
    """Past the count limit, the page is read another way (through the sort's index):
    it holds the same customers."""
    from salesdesk.ledger import queries

    counted = queries.list_customers(world.admin, queries.Filters(q="keji", per_page=100))
    monkeypatch.setattr(queries, "SEARCH_COUNT_LIMIT", 2)
    capped = queries.list_customers(world.admin, queries.Filters(q="keji", per_page=100))
    assert capped.total is None and capped.more_than == 2
    assert [c.id for c in capped.items] == [c.id for c in counted.items] and len(counted.items) == 4
