"""The customer list: search (name, pinyin, initials, phone, e-mail), filters, sorting,
pages, and masking in pages and htmx fragments."""

from datetime import UTC, date, datetime

import pytest

from salesdesk.ledger import followups, queries
from tests.fixtures.ledger import make_customer


def html_of(response):
    return response.get_data(as_text=True)


@pytest.fixture
def ledger(world, frozen_clock):
    frozen_clock(datetime(2026, 6, 10, 2, 0, tzinfo=UTC))
    customers = {
        "huawei": make_customer(
            world.rep_a,
            "华为科技有限公司",
            phone="13812345678",
            email="li@huawei.example",
            grade="A",
            province="广东",
            city="深圳",
            source="referral",
            tags=["重点客户"],
            expected_amount="900000",
            next_follow_up_on=date(2026, 6, 10),
        ),
        "tengfei": make_customer(
            world.rep_a2,
            "深圳市腾飞科技有限公司",
            phone="13987654321",
            grade="B",
            province="广东",
            city="深圳",
            stage="quoted",
            next_follow_up_on=date(2026, 6, 1),
        ),
        "yunqi": make_customer(
            world.rep_b,
            "杭州云栖数据有限公司",
            phone="0571-88886666",
            grade="A",
            province="浙江",
            city="杭州",
            source="website",
            expected_amount="120000",
        ),
        "pool": make_customer(world.manager_a, "公海贸易有限公司", phone="13600001111", pool=True, grade="D"),
    }
    followups.log_follow_up(world.rep_b, customers["yunqi"].id, channel="phone", content="电话沟通")
    return customers


def names(html):
    order = ["华为科技有限公司", "深圳市腾飞科技有限公司", "杭州云栖数据有限公司", "公海贸易有限公司"]
    return {name for name in order if name in html}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("腾飞", {"深圳市腾飞科技有限公司"}),  # two characters inside the name
        ("科技", {"华为科技有限公司", "深圳市腾飞科技有限公司"}),
        ("騰飛", {"深圳市腾飞科技有限公司"}),  # Traditional characters
        ("hwkj", {"华为科技有限公司"}),  # pinyin initials
        ("huawei", {"华为科技有限公司"}),  # full pinyin
        ("HuaWei", {"华为科技有限公司"}),
        ("tengfei", {"深圳市腾飞科技有限公司"}),  # pinyin from inside the name
        ("tfkj", {"深圳市腾飞科技有限公司"}),
        ("云栖 数据", {"杭州云栖数据有限公司"}),
        ("不存在的公司", set()),
        ('"*', set()),
    ],
)
def test_name_search(client_as, world, ledger, query, expected):
    response = client_as(world.manager_a).get("/customers", query_string={"view": "all", "q": query})
    assert response.status_code == 200
    assert names(html_of(response)) == expected


def everyone_finds(client_as, user, query):
    """The names `user` finds with `query` among everyone's customers (view=all)."""
    return names(html_of(client_as(user).get("/customers", query_string={"view": "all", "q": query})))


def test_phone_digits_search_only_where_details_are_visible(client_as, world, ledger):
    # rep_a owns 华为 (138 1234 5678): four digits from the middle find it...
    assert everyone_finds(client_as, world.rep_a, "1234") == {"华为科技有限公司"}
    assert everyone_finds(client_as, world.manager_a, "138-1234") == {"华为科技有限公司"}
    # ...but not for a rep who sees the number masked (138****5678): hidden digits stay hidden.
    assert everyone_finds(client_as, world.rep_b, "1234") == set()
    assert everyone_finds(client_as, world.manager_b, "5678") == set()
    # Landline digits with the area code, for the owner.
    assert everyone_finds(client_as, world.rep_b, "057188886666") == {"杭州云栖数据有限公司"}
    # Pool numbers: masked for reps, searchable for support.
    assert everyone_finds(client_as, world.rep_a, "00001111") == set()
    assert everyone_finds(client_as, world.support_a, "00001111") == {"公海贸易有限公司"}


def test_email_search(client_as, world, ledger):
    assert everyone_finds(client_as, world.rep_a, "li@huawei") == {"华为科技有限公司"}
    assert everyone_finds(client_as, world.rep_b, "li@huawei") == set()


def test_masking_in_the_list_and_its_fragment(client_as, world, ledger):
    for htmx in (False, True):
        html = html_of(client_as(world.rep_b).get("/customers?view=all", htmx=htmx))
        assert "138****5678" in html and "13812345678" not in html
        assert "0571-88886666" in html  # rep_b's own customer
    html = html_of(client_as(world.manager_a).get("/customers?view=all"))
    assert "13812345678" in html and "13987654321" in html  # team A's customers
    assert "057****6666" in html  # team B's


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"stage": "quoted"}, {"深圳市腾飞科技有限公司"}),
        (
            {"stage": "open"},
            {"华为科技有限公司", "深圳市腾飞科技有限公司", "杭州云栖数据有限公司", "公海贸易有限公司"},
        ),
        ({"owner": "pool"}, {"公海贸易有限公司"}),
        ({"grade": "A"}, {"华为科技有限公司", "杭州云栖数据有限公司"}),
        ({"province": "浙江"}, {"杭州云栖数据有限公司"}),
        ({"source": "referral"}, {"华为科技有限公司"}),
        ({"tag": "重点客户"}, {"华为科技有限公司"}),
        ({"follow_up": "due"}, {"华为科技有限公司"}),
        ({"follow_up": "overdue"}, {"深圳市腾飞科技有限公司"}),
        ({"follow_up": "due_or_overdue"}, {"华为科技有限公司", "深圳市腾飞科技有限公司"}),
        ({"grade": "A", "province": "广东", "source": "referral"}, {"华为科技有限公司"}),
        ({"grade": "A", "q": "hz"}, {"杭州云栖数据有限公司"}),  # hz: 杭州 by initials
        ({"grade": "B", "q": "hz"}, set()),
    ],
)
def test_filters(client_as, world, ledger, query, expected):
    response = client_as(world.manager_a).get("/customers", query_string={"view": "all", **query})
    assert names(html_of(response)) == expected


def test_owner_and_team_filters(client_as, world, ledger):
    rep = client_as(world.rep_a)
    assert names(html_of(rep.get("/customers?view=all&owner=me"))) == {"华为科技有限公司"}
    assert names(html_of(rep.get(f"/customers?view=all&owner={world.rep_b.id}"))) == {"杭州云栖数据有限公司"}
    assert names(html_of(rep.get(f"/customers?view=all&team={world.team_b.id}"))) == {"杭州云栖数据有限公司"}


def test_sorting_by_columns(client_as, world, ledger):
    manager = client_as(world.manager_a)

    def order(**query):
        html = html_of(manager.get("/customers", query_string={"view": "all", **query}))
        found = [(html.find(name), name) for name in names(html)]
        return [name for _position, name in sorted(found)]

    assert order(sort="amount", direction="desc")[:2] == ["华为科技有限公司", "杭州云栖数据有限公司"]
    # By pinyin: gong(公海) < hang(杭州) < hua(华为) < shen(深圳)
    assert order(sort="name", direction="asc") == [
        "公海贸易有限公司",
        "杭州云栖数据有限公司",
        "华为科技有限公司",
        "深圳市腾飞科技有限公司",
    ]
    assert order(sort="stage", direction="desc")[0] == "深圳市腾飞科技有限公司"


def test_pages_and_shareable_urls(app, client_as, world):
    app.config["PAGE_SIZE"] = 2
    for number in range(5):
        make_customer(world.rep_a, f"分页测试{number}号有限公司")
    rep = client_as(world.rep_a)
    first = html_of(rep.get("/customers?sort=name&direction=asc"))
    assert "共 5 个客户" in first and "第 1 / 3 页" in first
    assert 'href="/customers?sort=name&amp;direction=asc&amp;page=2"' in first
    last = html_of(rep.get("/customers?sort=name&direction=asc&page=3"))
    assert "分页测试4号有限公司" in last and "第 3 / 3 页" in last
    # Beyond the last page: the last page, not an error.
    assert "第 3 / 3 页" in html_of(rep.get("/customers?page=99999"))


@pytest.mark.parametrize("sort", ["updated", "name", "amount", "stage"])
def test_a_broad_search_counts_up_to_its_limit_and_pages_in_order(app, client_as, world, monkeypatch, sort):
    """Past the search's count limit the list says "more than", and (on SQLite) reads
    the matches through the sort's index: the pages hold the same customers, in order."""
    app.config["PAGE_SIZE"] = 2
    for number in range(7):
        make_customer(world.rep_a, f"广域{number}号科技有限公司", expected_amount=str(1000 * (number % 3)))
    make_customer(world.rep_a, "无关贸易有限公司")
    rep = client_as(world.rep_a)

    def shown(limit):
        """The first page's summary and the customers of every page, following "next"."""
        monkeypatch.setattr(queries, "SEARCH_COUNT_LIMIT", limit)
        pages, number, summary = [], 1, None
        while True:
            query = {"view": "all", "q": "广域", "sort": sort, "page": number}
            html = html_of(rep.get("/customers", query_string=query))
            summary = summary or html[html.index('class="results-summary"') :][:80]
            pages.append([n for n in range(7) if f"广域{n}号" in html])
            if 'rel="next"' not in html:
                return summary, pages
            number += 1

    exact_summary, exact = shown(100)
    capped_summary, capped = shown(3)
    assert "共 7 个客户" in exact_summary and "超过 3 个客户" in capped_summary
    assert capped == exact and sorted(n for page in exact for n in page) == list(range(7))


def test_a_filter_sorts_counts_and_pages_alike_with_few_or_many_matches(app, client_as, world, monkeypatch):
    """Up to FEW_MATCHES a filtered page is sorted from all its matches; beyond, read
    through the sort's index: the same customers, in the same order."""
    app.config["PAGE_SIZE"] = 2
    for number in range(5):
        make_customer(world.rep_a, f"筛选{number}号有限公司", grade="B", expected_amount=str(number % 2))
    rep = client_as(world.rep_a)

    def shown(few):
        monkeypatch.setattr(queries, "FEW_MATCHES", few)
        pages = []
        for number in (1, 2, 3, 4):
            query = {"grade": "B", "sort": "amount", "page": number}
            html = html_of(rep.get("/customers", query_string=query))
            pages.append(([n for n in range(5) if f"筛选{n}号" in html], "共 5 个客户" in html))
        return pages

    few = shown(100)
    assert few == shown(2)
    assert sorted(n for page, _counted in few[:3] for n in page) == list(range(5))
    assert all(counted for _page, counted in few)
    assert few[3] == few[2]  # past the last page: the last page


def test_the_user_picks_how_many_customers_a_page_shows(client_as, world):
    for number in range(30):
        make_customer(world.rep_a, f"每页测试{number:02d}号有限公司")
    rep = client_as(world.rep_a)
    first = html_of(rep.get("/customers?sort=name&direction=asc"))
    assert first.count('class="customer-name"') == 25 and "第 1 / 2 页" in first
    assert 'href="/customers?sort=name&amp;direction=asc&amp;per_page=50"' in first
    fifty = html_of(rep.get("/customers?sort=name&direction=asc&per_page=50"))
    assert fifty.count('class="customer-name"') == 30 and "第 1 / 1 页" in fifty
    assert '<strong aria-current="true">50</strong>' in fifty
    # Only the offered sizes: anything else is the default, never a 10,000-row page.
    for forged in ("10000", "-1", "abc", "26"):
        assert html_of(rep.get(f"/customers?per_page={forged}")).count('class="customer-name"') == 25


def test_links_keep_every_filter_and_the_page_size():
    filters = queries.Filters.from_args({"reclaim": "soon", "owner": "me", "per_page": "50", "page": "3"})
    kept = {"owner": "me", "reclaim": "soon"}
    assert filters.args(sort="name", page=None) == {**kept, "sort": "name", "per_page": 50}
    assert filters.args(page=None, per_page=None) == kept


def test_htmx_gets_the_results_fragment_and_full_page_otherwise(client_as, world, ledger):
    rep = client_as(world.rep_a)
    fragment = rep.get("/customers?view=all&q=腾飞", htmx=True)
    assert "<html" not in html_of(fragment) and "深圳市腾飞科技有限公司" in html_of(fragment)
    assert "HX-Request" in fragment.headers["Vary"]
    page = rep.get("/customers?view=all&q=腾飞")
    assert "<html" in html_of(page) and 'value="腾飞"' in html_of(page)
    assert 'hx-push-url="true"' in html_of(page)


@pytest.mark.parametrize(
    "query",
    [
        "page=-1",
        "page=abc",
        "page=99999999999999999999",
        "sort=password_hash",
        "direction=sideways",
        "owner=abc",
        "team=-5",
        "stage=nope",
        "grade=Z",
        "follow_up=yesterday",
        "q=" + "x" * 5000,
        "q=%ff%fe",
        "q=a%00b",
        "tag=" + "t" * 200,
        "q=NEAR(a+b)",
        "q=a*",
        "q=%22",
    ],
)
def test_garbage_in_the_url_never_breaks_the_list(client_as, world, ledger, query):
    assert client_as(world.rep_a).get(f"/customers?view=all&{query}").status_code in (200, 400)


def test_the_bulk_assign_form_offers_a_manager_the_team_and_an_admin_everyone(client_as, world, ledger):
    def offered(user):
        html = html_of(client_as(user).get("/customers?view=all"))
        select = html[html.index('id="bulk-user"') :]
        select = select[: select.index("</select>")]
        people = (world.rep_a, world.rep_a2, world.rep_b)
        return {person.id for person in people if f'value="{person.id}"' in select}

    assert offered(world.manager_a) == {world.rep_a.id, world.rep_a2.id}
    assert offered(world.admin) == {world.rep_a.id, world.rep_a2.id, world.rep_b.id}
    assert 'id="bulk-user"' not in html_of(client_as(world.rep_a).get("/customers?view=all"))
