"""Search tokens and the queries built from what a user types."""

import json
import os
import subprocess
import sys
from pathlib import Path

from salesdesk.ledger import pinyin_phrases
from salesdesk.ledger.search import (
    _fts5_expression,
    _terms,
    _tsquery_expression,
    contact_fragment,
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
