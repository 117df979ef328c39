"""Search finds Chinese words of two characters, longer phrases, English in any case
and mixed text; ranks title matches first, then the most recent; hides drafts from
readers; and gives the same answer on SQLite and PostgreSQL (every test here runs on
both, against the same expected lists)."""

from datetime import UTC, datetime, timedelta

import pytest

from salesdesk.kb import search
from tests.fixtures.kb import edit, write

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

CORPUS = [
    # title, body, published
    ("报价单模板", "填写报价单时写明有效期、付款方式和交货期。", True),
    ("合同审批流程", "合同先由法务审核，再由财务确认回款条件。折扣需要写进合同。", True),
    ("回款跟进话术", "客户拖延回款时，先确认发票是否收到，再约定付款日期。", True),
    ("大客户折扣政策", "折扣超过 10% 需销售经理审批，超过 20% 需总监审批。", True),
    ("CRM 使用入门", "Salesdesk 是我们的 CRM。每次拜访后记录跟进，Follow-up 不要拖。", True),
    ("新人第一周", "第一周熟悉产品知识和报价流程，旁听三次客户电话。", True),
    ("售后服务承诺", "售后服务响应时间为 4 小时，增值税发票在回款后开具。", True),
    ("新产品定价（草稿）", "草稿：新产品报价尚未确定，折扣另行通知。", False),
]


@pytest.fixture
def corpus(world, frozen_clock):
    articles = {}
    for position, (title, body, published) in enumerate(CORPUS):
        frozen_clock(START + timedelta(days=position))
        articles[title] = write(world.manager_a, title, body, publish=published)
    frozen_clock(START + timedelta(days=30))
    return articles


def titles(user, query, **kwargs):
    return [hit.article.title for hit in search.search_articles(user, query, **kwargs).hits]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # Two-character words, also inside longer words (报价单 -> 报价).
        ("报价", ["报价单模板", "新人第一周"]),
        ("合同", ["合同审批流程"]),
        ("回款", ["回款跟进话术", "售后服务承诺", "合同审批流程"]),
        ("折扣", ["大客户折扣政策", "合同审批流程"]),
        # Longer phrases and several words: every word must be there.
        ("报价单", ["报价单模板"]),
        ("售后服务", ["售后服务承诺"]),
        ("合同审批", ["合同审批流程"]),
        ("折扣 审批", ["大客户折扣政策", "合同审批流程"]),
        ("报价单 有效期", ["报价单模板"]),
        ("回款 发票", ["售后服务承诺", "回款跟进话术"]),
        # English, whatever the case, and mixed with Chinese.
        ("crm", ["CRM 使用入门"]),
        ("SALESDESK", ["CRM 使用入门"]),
        ("follow-up", ["CRM 使用入门"]),
        ("CRM 跟进", ["CRM 使用入门"]),
        # Full-width letters are the same letters.
        ("ＣＲＭ", ["CRM 使用入门"]),
        # One character: a substring scan (税 is inside 增值税).
        ("税", ["售后服务承诺"]),
        # Nothing, and nonsense.
        ("", []),
        ("不存在的词", []),
        ('"*:() OR NOT', []),
    ],
)
def test_search_for_a_rep(world, corpus, query, expected):
    assert titles(world.rep_a, query) == expected


def test_title_matches_come_first_then_the_most_recent(world, corpus, frozen_clock):
    # 报价单模板 matches in its title; 新人第一周 only in its text.
    assert titles(world.rep_a, "报价") == ["报价单模板", "新人第一周"]
    # Among body matches the most recently updated comes first.
    frozen_clock(START + timedelta(days=40))
    edit(corpus["合同审批流程"], world.manager_a, body=corpus["合同审批流程"].body + "\n\n回款以到账为准。")
    assert titles(world.rep_a, "回款") == ["回款跟进话术", "合同审批流程", "售后服务承诺"]


def test_drafts_are_found_only_by_editors(world, corpus):
    assert "新产品定价（草稿）" not in titles(world.rep_a, "折扣")
    assert titles(world.support_a, "折扣") == ["大客户折扣政策", "新产品定价（草稿）", "合同审批流程"]
    assert titles(world.rep_a, "草稿") == []


def test_results_have_highlighted_titles_and_snippets(world, corpus):
    results = search.search_articles(world.rep_a, "回款")
    first = results.hits[0]
    assert str(first.title) == "<mark>回款</mark>跟进话术"
    assert "<mark>回款</mark>" in str(first.snippet)
    assert results.total == 3


def test_snippets_escape_the_text(world):
    write(world.admin, "危险的标题 <script>", "正文里有 <img src=x onerror=alert(1)> 和报价。")
    hit = search.search_articles(world.rep_a, "报价").hits[0]
    assert "<script>" not in str(hit.title) and "&lt;script&gt;" in str(hit.title)
    assert "<img" not in str(hit.snippet)


def test_index_follows_edits(world, corpus):
    article = corpus["回款跟进话术"]
    edit(article, world.manager_a, title="催款技巧", body="客户拖延付款时先确认发票。")
    assert "催款技巧" not in titles(world.rep_a, "回款")
    assert titles(world.rep_a, "催款") == ["催款技巧"]


def test_paging(world, corpus):
    first = search.search_articles(world.rep_a, "回款", per_page=2)
    second = search.search_articles(world.rep_a, "回款", per_page=2, page=2)
    assert first.total == 3 and first.pages == 2 and len(first.hits) == 2 and len(second.hits) == 1
    assert search.search_articles(world.rep_a, "回款", page=99).hits == []


def test_live_typing_matches_the_start_of_latin_words(world, corpus):
    assert titles(world.rep_a, "sales") == ["CRM 使用入门"]
    assert titles(world.rep_a, "sales ") == []  # a finished word must match whole


def test_query_parsing():
    assert search.parse_query("报价单 模板").terms == ("报价单", "模板")
    assert search.parse_query("如何 报价").terms == ("报价",)
    assert search.parse_query("税").substring
    assert search.parse_query("x" * 500).terms == ("x" * 100,)
    assert len(search.parse_query(" ".join(f"词{n}" for n in range(20))).terms) == search.MAX_TERMS


def test_counting_stops_past_the_cap(world, monkeypatch):
    monkeypatch.setattr(search, "MAX_COUNT", 3)
    for n in range(5):
        write(world.admin, f"回款第{n}条", "内容")
    results = search.search_articles(world.rep_a, "回款", per_page=2)
    assert results.total == 4 and results.more and results.shown_total == 3 and results.pages == 2
    assert len(search.search_articles(world.rep_a, "回款", per_page=2, page=3).hits) == 1  # still reachable
