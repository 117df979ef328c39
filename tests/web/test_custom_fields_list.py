"""Custom fields in the customer list (issue 20): their columns in the column chooser,
sorting by them, filters of each type, the search box over searchable text, and
sensitive values that neither show nor can be guessed by those who see them masked."""

import re
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import select, text

from salesdesk.auth.models import User
from salesdesk.database import write_transaction
from salesdesk.extensions import db
from salesdesk.fields import sql as field_sql
from salesdesk.fields.definitions import Values, create_field, restore_field, retire_field, update_field
from salesdesk.fields.values import MASK
from salesdesk.ledger import queries
from tests.fixtures.ledger import make_customer
from tests.helpers import recorded_statements

HUAWEI, TENGFEI, YUNQI, POOL = (
    "华为科技有限公司",
    "深圳市腾飞科技有限公司",
    "杭州云栖数据有限公司",
    "公海贸易有限公司",
)
NAMES = (HUAWEI, TENGFEI, YUNQI, POOL)


def html_of(response):
    assert response.status_code == 200
    return response.get_data(as_text=True)


def shown(html):
    """The customers a list page shows, in its order."""
    return [name for _at, name in sorted((html.find(name), name) for name in NAMES if name in html)]


def choices(*labels):
    return [("", zh, en, False) for zh, en in labels]


@pytest.fixture
def fields(world):
    def make(key, label, kind, **options):
        return create_field(world.admin, Values(label_zh=label, key=key, type=kind, **options))

    return SimpleNamespace(
        level=make(
            "level", "客户级别", "single_choice", choices=choices(("战略", "Strategic"), ("普通", "Regular"))
        ),
        products=make(
            "products",
            "意向产品",
            "multiple_choice",
            choices=choices(("云服务器", "Servers"), ("数据库", "Databases"), ("存储", "Storage")),
        ),
        budget=make("budget", "年度预算", "money"),
        staff=make("staff", "员工人数", "number"),
        signed=make("signed", "签约日期", "date"),
        listed=make("listed", "是否上市", "yes_no"),
        liaison=make("liaison", "对接人", "user"),
        code=make("code", "内部编号", "text", searchable=True),
        bank=make("bank", "银行账号", "text", sensitive=True, searchable=True),
        credit=make("credit", "授信额度", "money", sensitive=True),
        memo=make("memo", "背景说明", "long_text"),
    )


@pytest.fixture
def ledger(world, fields, frozen_clock):
    frozen_clock(datetime(2026, 6, 10, 2, 0, tzinfo=UTC))
    return {
        HUAWEI: make_customer(
            world.rep_a,
            HUAWEI,
            custom={
                "level": "c1",
                "products": ["c1", "c2"],
                "budget": "120万",
                "staff": "5000",
                "signed": "2026-03-01",
                "listed": "是",
                "liaison": str(world.rep_a2.id),
                "code": "HW-001",
                "bank": "6222000011112222",
                "credit": "800000",
                "memo": "老客户",
            },
        ),
        TENGFEI: make_customer(
            world.rep_a2,
            TENGFEI,
            custom={
                "level": "c2",
                "products": ["c2"],
                "budget": "30000.50",
                "staff": "80.5",
                "signed": "2025-12-20",
                "listed": "否",
                "code": "tf_100%",
                "bank": "6222999988887777",
                "credit": "100000",
            },
        ),
        YUNQI: make_customer(
            world.rep_b,
            YUNQI,
            custom={
                "level": "c1",
                "products": ["c3"],
                "budget": "500000",
                "staff": "300",
                "signed": "2026-05-05",
                "listed": "否",
                "liaison": str(world.rep_b.id),
                "code": "YQ-ABC",
                "credit": "300000",
            },
        ),
        POOL: make_customer(world.manager_a, POOL, pool=True),
    }


def listed(client, **query):
    return shown(html_of(client.get("/customers", query_string={"view": "all", **query})))


def choose_columns(client, *keys):
    response = client.post("/customers/columns", data={"columns": ["name", *keys], "next": "/customers"})
    assert response.status_code == 303


def cells(html, key):
    """{customer name: the text of its cell in column `key`}, for the rows shown."""
    found = {}
    for row in html.split("<tr>")[1:]:
        name = next((n for n in NAMES if f'title="{n}"' in row), None)
        marker = f'<td class="col-{key} '
        if name is None or marker not in row:
            continue
        cell = row[row.index(marker) :]
        cell = cell[cell.index(">") + 1 : cell.index("</td>")]
        found[name] = cell.strip()
    return found


# ---- columns ------------------------------------------------------------------------------


def test_every_listed_field_is_a_column_to_choose_not_shown_by_default(client_as, world, ledger):
    rep = client_as(world.rep_a)
    html = html_of(rep.get("/customers?view=all"))
    for key in (
        "level",
        "products",
        "budget",
        "staff",
        "signed",
        "listed",
        "liaison",
        "code",
        "bank",
        "credit",
    ):
        assert f'name="columns" value="cf_{key}"' in html
        assert f'class="col-cf_{key}' not in html  # not shown until chosen
    assert 'value="cf_memo"' not in html  # long text is no column
    choose_columns(
        rep, "stage", "cf_level", "cf_budget", "cf_signed", "cf_listed", "cf_liaison", "cf_products"
    )
    assert db.session.scalar(select(User.list_columns).where(User.id == world.rep_a.id)) == (
        "stage,cf_level,cf_products,cf_budget,cf_signed,cf_listed,cf_liaison"
    )
    for htmx in (False, True):
        html = html_of(rep.get("/customers?view=all", htmx=htmx))
        assert cells(html, "cf_level") == {HUAWEI: "战略", TENGFEI: "普通", YUNQI: "战略", POOL: "—"}
        assert cells(html, "cf_products")[HUAWEI] == "云服务器、数据库"
        # Money as the expected amount shows it, dates as the other date cells.
        assert cells(html, "cf_budget") == {HUAWEI: "¥120万", TENGFEI: "¥3万", YUNQI: "¥50万", POOL: "—"}
        assert cells(html, "cf_signed")[HUAWEI] == "3/1" and cells(html, "cf_signed")[TENGFEI] == "2025/12/20"
        # 是 / 否 once the catalog has them (fields/types.display).
        listed_cells = cells(html, "cf_listed")
        assert listed_cells[HUAWEI] in ("是", "Yes") and listed_cells[TENGFEI] in ("否", "No")
        assert cells(html, "cf_liaison") == {HUAWEI: "李四", TENGFEI: "—", YUNQI: "王五", POOL: "—"}
        assert 'class="col-cf_level' in html and 'class="col-grade' not in html


def test_sensitive_values_are_masked_where_details_are(client_as, world, ledger):
    def bank_cells(user):
        rep = client_as(user)
        choose_columns(rep, "cf_bank", "cf_credit", "cf_code")
        return rep, html_of(rep.get("/customers?view=all"))

    rep, html = bank_cells(world.rep_a)
    assert cells(html, "cf_bank") == {HUAWEI: "6222000011112222", TENGFEI: MASK, YUNQI: "—", POOL: "—"}
    assert cells(html, "cf_credit") == {HUAWEI: "¥80万", TENGFEI: MASK, YUNQI: MASK, POOL: "—"}
    assert "6222999988887777" not in html and "¥10万" not in html and "¥30万" not in html
    assert cells(html, "cf_code")[TENGFEI] == "tf_100%"  # not sensitive: shown to everyone
    assert "6222999988887777" not in html_of(rep.get("/customers?view=all", htmx=True))
    _manager, html = bank_cells(world.manager_a)  # the team's customers, not team B's
    assert cells(html, "cf_credit") == {HUAWEI: "¥80万", TENGFEI: "¥10万", YUNQI: MASK, POOL: "—"}
    _admin, html = bank_cells(world.admin)
    assert cells(html, "cf_credit") == {HUAWEI: "¥80万", TENGFEI: "¥10万", YUNQI: "¥30万", POOL: "—"}


def test_a_retired_or_unknown_column_in_a_saved_choice_is_left_out(client_as, world, fields, ledger):
    rep = client_as(world.rep_a)
    choose_columns(rep, "stage", "cf_level")
    retire_field(world.admin, fields.level.id)
    html = html_of(rep.get("/customers?view=all"))
    assert "col-cf_level" not in html and 'value="cf_level"' not in html and "col-stage" in html
    # A retired field's column is no choice; saving again keeps what still exists.
    refused = rep.post("/customers/columns", data={"columns": ["name", "cf_level"], "next": "/customers"})
    assert refused.status_code == 400
    restore_field(world.admin, fields.level.id)
    assert cells(html_of(rep.get("/customers?view=all")), "cf_level")[HUAWEI] == "战略"
    with write_transaction():
        db.session.get(User, world.rep_a.id).list_columns = "stage,cf_gone,,cf_memo,cf_level,<b>"
    html = html_of(rep.get("/customers?view=all"))
    assert (
        "col-stage" in html and "col-cf_level" in html and "cf_gone" not in html and "col-cf_memo" not in html
    )


# ---- sorting ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "ascending"),
    [
        ("budget", [TENGFEI, YUNQI, HUAWEI]),
        ("staff", [TENGFEI, YUNQI, HUAWEI]),  # 80.5 < 300 < 5000: as numbers, not text
        ("signed", [TENGFEI, HUAWEI, YUNQI]),
        ("code", [HUAWEI, YUNQI, TENGFEI]),
    ],
)
def test_sorting_by_a_custom_column(client_as, world, ledger, key, ascending):
    manager = client_as(world.manager_a)

    def order(direction):
        # The pool's customer has no value: databases put empties at different ends.
        return [n for n in listed(manager, sort=f"cf_{key}", direction=direction) if n != POOL]

    assert order("asc") == ascending
    assert order("desc") == ascending[::-1]
    choose_columns(manager, f"cf_{key}")
    html = html_of(manager.get(f"/customers?view=all&sort=cf_{key}&direction=asc"))
    header = html[html.index(f'<th scope="col" class="col-cf_{key}') :]
    header = header[: header.index("</th>")]
    # Ascending now; the header's link asks for the other way (desc, the default: unsaid).
    assert 'aria-sort="ascending"' in header and f'href="/customers?view=all&amp;sort=cf_{key}"' in header


def test_ties_are_ordered_by_id_and_a_choice_sorts_by_its_key(client_as, world, ledger):
    manager = client_as(world.manager_a)
    level = [n for n in listed(manager, sort="cf_level", direction="asc") if n != POOL]
    assert level == [HUAWEI, YUNQI, TENGFEI]  # c1, c1 (by id), c2
    level = [n for n in listed(manager, sort="cf_level", direction="desc") if n != POOL]
    assert level == [TENGFEI, YUNQI, HUAWEI]


def test_a_custom_sort_pages_alike_through_its_index_or_from_the_matches(
    app, client_as, world, fields, monkeypatch
):
    """Past COUNT_LIMIT the page walks the field's index (INDEXED BY on SQLite); below
    FEW_MATCHES it sorts the matches: the same customers in the same order either way."""
    app.config["PAGE_SIZE"] = 2
    for number in range(5):
        make_customer(
            world.rep_a, f"排序{number}号有限公司", custom={"staff": str((number * 7) % 5), "level": "c1"}
        )
    rep = client_as(world.rep_a)

    def pages(count_limit, few):
        monkeypatch.setattr(queries, "COUNT_LIMIT", count_limit)
        monkeypatch.setattr(queries, "FEW_MATCHES", few)
        found = []
        for number in (1, 2, 3):
            query = {"sort": "cf_staff", "direction": "desc", "page": number, "cf_level": "c1"}
            html = html_of(rep.get("/customers", query_string=query))
            found.append(sorted((html.find(f"排序{n}号"), n) for n in range(5) if f"排序{n}号" in html))
        return [[n for _at, n in page] for page in found]

    exact = pages(10_000, 2_000)
    assert exact == [[2, 4], [1, 3], [0]]  # staff 0 2 4 1 3 (n × 7 mod 5), most first
    assert pages(1, 2_000) == exact  # counted to its limit only: the index is walked
    assert pages(10_000, 1) == exact


def test_an_unknown_or_retired_sort_is_the_default_sort(client_as, world, fields, ledger):
    manager = client_as(world.manager_a)
    default = listed(manager)
    for sort in ("cf_nope", "cf_memo", "cf_products", "cf_", "cf_level;drop", "cf_" + "x" * 500):
        assert listed(manager, sort=sort) == default
    retire_field(world.admin, fields.budget.id)
    assert listed(manager, sort="cf_budget", direction="asc") == listed(manager, direction="asc")


# ---- filters ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"cf_level": "c1"}, {HUAWEI, YUNQI}),
        ({"cf_level": "c2"}, {TENGFEI}),
        ({"cf_products": "c2"}, {HUAWEI, TENGFEI}),  # has this choice
        ({"cf_products": "c3"}, {YUNQI}),
        ({"cf_listed": "yes"}, {HUAWEI}),
        ({"cf_listed": "no"}, {TENGFEI, YUNQI}),
        ({"cf_budget_min": "30000.50"}, {HUAWEI, TENGFEI, YUNQI}),  # yuan, inclusive
        ({"cf_budget_min": "30000.51"}, {HUAWEI, YUNQI}),
        ({"cf_budget_min": "10万", "cf_budget_max": "50万"}, {YUNQI}),
        ({"cf_budget_max": "1,200,000"}, {HUAWEI, TENGFEI, YUNQI}),
        ({"cf_staff_min": "80.5", "cf_staff_max": "300"}, {TENGFEI, YUNQI}),
        ({"cf_staff_min": "81"}, {HUAWEI, YUNQI}),
        ({"cf_signed_min": "2026-01-01"}, {HUAWEI, YUNQI}),
        ({"cf_signed_max": "2026/3/1"}, {HUAWEI, TENGFEI}),
        ({"cf_signed_min": "2026-03-02", "cf_signed_max": "2026-05-05"}, {YUNQI}),
        ({"cf_code": "hw-0"}, {HUAWEI}),  # contains, whatever the case
        ({"cf_code": "yq-abc"}, {YUNQI}),
        ({"cf_code": "Hw"}, {HUAWEI}),  # two characters: written otherwise on PostgreSQL
        ({"cf_code": "100%"}, {TENGFEI}),  # % and _ are themselves
        ({"cf_code": "_"}, {TENGFEI}),
        ({"cf_code": "%"}, {TENGFEI}),
        ({"cf_code": "-"}, {HUAWEI, YUNQI}),
        ({"cf_level": "c1", "cf_staff_min": "1000"}, {HUAWEI}),
        ({"cf_level": "c1", "cf_listed": "no", "grade": "C"}, {YUNQI}),
        ({"cf_level": "c1", "q": "云栖"}, {YUNQI}),
    ],
)
def test_filters_on_each_type(client_as, world, ledger, query, expected):
    assert set(listed(client_as(world.manager_a), **query)) == expected


def test_a_user_field_filters_by_the_user_chosen(client_as, world, ledger):
    manager = client_as(world.manager_a)
    assert set(listed(manager, cf_liaison=world.rep_a2.id)) == {HUAWEI}
    assert set(listed(manager, cf_liaison=world.rep_b.id)) == {YUNQI}
    assert set(listed(manager, cf_liaison=world.admin.id)) == set()
    html = html_of(manager.get("/customers?view=all"))
    select_html = html[html.index('name="cf_liaison"') :]
    select_html = select_html[: select_html.index("</select>")]
    assert f'<option value="{world.rep_b.id}">王五</option>' in select_html


def test_the_filter_form_offers_each_field_and_keeps_what_was_chosen(client_as, world, ledger):
    html = html_of(
        client_as(world.manager_a).get(
            "/customers",
            query_string={
                "cf_level": "c2",
                "cf_budget_min": "10万",
                "cf_signed_max": "2026/3/1",
                "cf_code": "a<b",
            },
        )
    )
    form = html[
        html.index('<form class="filters') : html.index("</form>", html.index('<form class="filters'))
    ]
    assert '<details class="more-filters" open>' in form
    assert '<option value="c2" selected>普通</option>' in form
    assert 'name="cf_budget_min" value="10万"' in form
    assert 'type="date" name="cf_signed_max" value="2026-03-01"' in form
    assert 'name="cf_code" value="a&lt;b"' in form
    assert 'name="cf_products"' in form and 'name="cf_listed"' in form and 'name="cf_staff_min"' in form
    assert 'name="cf_memo"' not in form  # long text: no filter


def test_links_and_pages_carry_the_custom_filters(app, client_as, world, ledger):
    app.config["PAGE_SIZE"] = 1
    manager = client_as(world.manager_a)
    for htmx in (False, True):
        html = html_of(manager.get("/customers?view=all&cf_level=c1&cf_staff_min=1&sort=cf_staff", htmx=htmx))
        assert "共 2 个客户" in html
        assert "/customers?view=all&amp;sort=cf_staff&amp;cf_level=c1&amp;cf_staff_min=1&amp;page=2" in html
        assert "/customers?view=all&amp;sort=name&amp;cf_level=c1&amp;cf_staff_min=1" in html
        assert htmx or "/customers?view=pool&amp;sort=cf_staff&amp;cf_level=c1&amp;cf_staff_min=1" in html
    second = html_of(manager.get("/customers?view=all&cf_level=c1&cf_staff_min=1&sort=cf_staff&page=2"))
    assert shown(second) == [YUNQI]  # by staff, most first: 5000, then 300
    assert queries.Filters.from_args({"cf_level": "c1", "cf_budget_max": "5万"}).args() == {
        "cf_level": "c1",
        "cf_budget_max": "5万",
    }


def test_an_export_takes_the_custom_filters_and_sort(client_as, world, ledger):
    admin = client_as(world.admin)
    response = admin.get("/customers/export.csv?view=all&cf_level=c1&sort=cf_budget&direction=asc")
    assert response.status_code == 200
    exported = response.get_data(as_text=True)
    assert shown(exported) == [YUNQI, HUAWEI] and TENGFEI not in exported


def test_a_retired_fields_filters_are_ignored(client_as, world, fields, ledger):
    manager = client_as(world.manager_a)
    assert set(listed(manager, cf_level="c2")) == {TENGFEI}
    retire_field(world.admin, fields.level.id)
    assert set(listed(manager, cf_level="c2")) == set(NAMES)
    html = html_of(manager.get("/customers?view=all&cf_level=c2"))
    assert '<select name="cf_level"' not in html and "sort=name&amp;cf_level" not in html


@pytest.mark.parametrize(
    "query",
    [
        "cf_level=c9",
        "cf_level=",
        "cf_level=%ff%fe",
        "cf_products=nope",
        "cf_listed=maybe",
        "cf_liaison=abc",
        "cf_liaison=-1",
        "cf_liaison=99999999999999999999999",
        "cf_budget_min=abc",
        "cf_budget_min=-5",
        "cf_budget_max=1e400",
        "cf_budget_min=NaN",
        "cf_budget_min=99999999999999999999999999",
        "cf_staff_min=Infinity",
        "cf_staff_min=1e999999",
        "cf_staff_max=0x10",
        "cf_staff_min=" + "9" * 5000,
        "cf_signed_min=2026-13-45",
        "cf_signed_max=yesterday",
        "cf_signed_min=99999-01-01",
        "cf_code=" + "x" * 5000,
        "cf_code=a%00b",
        "cf_nope=1",
        "cf_=1",
        "cf_memo=老客户",
        "cf_level_min=c1",
        "cf_level=c1&cf_level=c2",
    ],
)
def test_garbage_in_custom_params_never_breaks_the_list(client_as, world, ledger, query):
    manager = client_as(world.manager_a)
    # 400: a NUL byte, refused before the list (as in test_ledger_list).
    assert manager.get(f"/customers?view=all&{query}").status_code in (200, 400)
    assert manager.get(f"/customers?view=all&{query}", htmx=True).status_code in (200, 400)
    assert manager.get(f"/pool?{query}").status_code in (200, 400)


def test_unusable_range_ends_are_no_filter(client_as, world, ledger):
    manager = client_as(world.manager_a)
    for query in ({"cf_budget_min": "abc"}, {"cf_staff_max": "NaN"}, {"cf_signed_min": "2026-13-45"}):
        assert set(listed(manager, **query)) == set(NAMES)


# ---- sensitive fields: neither a filter nor an order for those who see them masked --------


def test_a_rep_cannot_filter_or_sort_on_a_sensitive_field(client_as, world, ledger):
    rep = client_as(world.rep_a)
    everyone = set(NAMES)
    # The filter is ignored: the answer is the same whatever the rep guesses.
    for query in (
        {"cf_credit_min": "50万"},
        {"cf_credit_max": "1"},
        {"cf_bank": "6222999"},
        {"cf_bank": "zzz"},
    ):
        assert set(listed(rep, **query)) == everyone
        assert set(listed(client_as(world.manager_a), **query)) == everyone  # a manager sees team A's only
    # Nor an order: the sort falls back to the default, and no link carries it.
    html = html_of(rep.get("/customers?view=all&sort=cf_credit&direction=asc"))
    assert shown(html) == listed(rep, direction="asc")
    assert not [link for link in re.findall(r'href="([^"]*)"', html) if "cf_credit" in link]
    # The form does not offer them.
    html = html_of(rep.get("/customers?view=all"))
    assert 'name="cf_bank"' not in html and 'name="cf_credit_min"' not in html
    assert 'name="cf_code"' in html


def test_those_who_see_every_detail_filter_and_sort_on_sensitive_fields(client_as, world, ledger):
    for user in (world.admin, world.support_a):
        client = client_as(user)
        assert set(listed(client, cf_credit_min="50万")) == {HUAWEI}
        assert set(listed(client, cf_bank="9999")) == {TENGFEI}
        assert [n for n in listed(client, sort="cf_credit", direction="asc") if n != POOL] == [
            TENGFEI,
            YUNQI,
            HUAWEI,
        ]
        assert 'name="cf_credit_min"' in html_of(client.get("/customers?view=all"))


def test_the_pool_page_ignores_sensitive_filters_for_a_rep(client_as, world, ledger):
    rep = client_as(world.rep_a)
    html = html_of(rep.get("/pool?cf_bank=nothing-like-this"))
    assert POOL in html
    assert POOL not in html_of(client_as(world.admin).get("/pool?cf_bank=nothing-like-this"))


def test_filter_args_of_a_user_who_may_not_use_a_sensitive_field_drop_it(app, world, ledger):
    args = {"cf_bank": "6222", "cf_code": "hw", "sort": "cf_credit"}
    rep_filters = queries.Filters.from_args(args, world.rep_a)
    assert rep_filters.args() == {"cf_code": "hw"}
    admin_filters = queries.Filters.from_args(args, world.admin)
    assert admin_filters.args() == {"cf_code": "hw", "cf_bank": "6222", "sort": "cf_credit"}


# ---- the search box -----------------------------------------------------------------------


def test_the_search_box_finds_searchable_text(client_as, world, ledger):
    manager = client_as(world.manager_a)
    assert set(listed(manager, q="hw-001")) == {HUAWEI}
    assert set(listed(manager, q="YQ-abc")) == {YUNQI}
    assert set(listed(manager, q="tf_100%")) == {TENGFEI}
    assert set(listed(manager, q="100%")) == {TENGFEI}
    assert set(listed(manager, q="100_")) == set()


def test_a_sensitive_searchable_field_finds_only_what_the_user_sees(client_as, world, ledger):
    # rep_a owns 华为 and sees its account; 腾飞's (rep_a2's) is masked to them.
    assert set(listed(client_as(world.rep_a), q="0000111122")) == {HUAWEI}
    assert set(listed(client_as(world.rep_a), q="99998888")) == set()
    assert set(listed(client_as(world.rep_b), q="0000111122")) == set()
    assert set(listed(client_as(world.manager_a), q="99998888")) == {TENGFEI}
    assert set(listed(client_as(world.admin), q="6222")) == {HUAWEI, TENGFEI}


def test_a_retired_field_is_not_searched(client_as, world, fields, ledger):
    retire_field(world.admin, fields.code.id)
    assert set(listed(client_as(world.manager_a), q="hw-001")) == set()


# ---- staying fast ---------------------------------------------------------------------------


def plans(user, args):
    """The customers listed under `args` and the plans of the statements that read the
    custom fields' values."""
    with recorded_statements() as statements:
        page = queries.list_customers(user, queries.Filters.from_args(args, user))
    seen = [(statement, parameters) for statement, parameters in statements if "json_extract" in statement]
    connection = db.session.connection()
    found = [
        " ".join(
            str(row) for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
        )
        for statement, parameters in seen
    ]
    return [c.name for c in page.items], found


@pytest.mark.parametrize(
    ("args", "index", "expected"),
    [
        ({"cf_level": "c2", "sort": "cf_budget"}, "ix_custom_customer_level", [TENGFEI]),
        # A text field's "contains" reads the values from its index, not every customer's row.
        ({"cf_code": "hw"}, "ix_custom_customer_code", [HUAWEI]),
        ({"q": "YQ-abc"}, "ix_custom_customer_code", [YUNQI]),
    ],
)
def test_custom_filters_read_the_fields_index_on_sqlite(world, fields, ledger, args, index, expected):
    if field_sql.is_postgresql():
        pytest.skip("SQLite's plans; PostgreSQL's depend on its statistics")
    listed_names, found = plans(world.admin, args)
    assert listed_names == expected
    assert found and all(index in plan for plan in found)  # the capped count and the page


def test_every_text_field_has_a_trigram_index_on_postgresql(world, fields):
    """The filters offer "contains" on every text field: without its trigram index one
    that is not searchable read the whole table. A field whose type changes loses it."""
    if not field_sql.is_postgresql():
        pytest.skip("PostgreSQL's trigram indexes; SQLite reads the expression index")
    plain = create_field(world.admin, Values(label_zh="细分行业", key="segment"))

    def trigram_indexes():
        found = text("SELECT indexname FROM pg_indexes WHERE indexname LIKE 'tg\\_custom\\_%'")
        return set(db.session.scalars(found))

    made = {"tg_custom_customer_code", "tg_custom_customer_bank", "tg_custom_customer_segment"}
    assert trigram_indexes() == made
    update_field(world.admin, plain.id, plain.version, Values(label_zh="细分行业", type="number"))
    assert "tg_custom_customer_segment" not in trigram_indexes()


def test_a_custom_filter_counts_and_pages_its_matches_in_one_reading(world, fields, ledger):
    """A custom filter is checked on each candidate's row: the count and the page read
    the matches once, not once each."""
    with recorded_statements() as statements:
        filters = queries.Filters.from_args({"cf_level": "c1", "sort": "cf_budget"}, world.admin)
        page = queries.list_customers(world.admin, filters)
    assert [c.name for c in page.items] == [HUAWEI, YUNQI] and page.total == 2
    reading = [s for s, _parameters in statements if "'$.level'" in s or "'level'" in s]
    assert len(reading) == 1


def test_a_page_past_the_last_with_a_custom_filter_shows_the_last(app, client_as, world, ledger):
    app.config["PAGE_SIZE"] = 1
    manager = client_as(world.manager_a)
    last = listed(manager, cf_level="c1", sort="name", page=2)
    assert listed(manager, cf_level="c1", sort="name", page=99) == last
    assert len(last) == 1 and set(last) < {HUAWEI, YUNQI}
    past = html_of(manager.get("/customers", query_string={"view": "all", "cf_level": "c1", "page": 99}))
    assert "共 2 个客户" in past


def test_without_custom_fields_their_params_are_nothing(client_as, world):
    make_customer(world.rep_a, HUAWEI)
    rep = client_as(world.rep_a)
    assert listed(rep, cf_level="c1", sort="cf_level", cf_x_min="1") == [HUAWEI]
