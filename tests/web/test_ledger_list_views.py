"""The customer list's view switcher (我负责的 / 我协作的 / 团队 / 全部 / 公海), the column
chooser each user's list remembers (列设置), and bulk assignment of every matching
customer."""

import pytest
from sqlalchemy import select

from salesdesk.auth.models import User
from salesdesk.extensions import db
from salesdesk.ledger.models import Customer
from tests.fixtures.ledger import make_customer
from tests.helpers import recorded_statements

NAMES = ("张三自有有限公司", "张三协作有限公司", "李四同队有限公司", "外队客户有限公司", "公海里的有限公司")


def html_of(response):
    return response.get_data(as_text=True)


def shown(response):
    html = html_of(response)
    return {name for name in NAMES if name in html}


@pytest.fixture
def customers(world):
    return {
        "own": make_customer(world.rep_a, NAMES[0]),
        "collab": make_customer(world.rep_a2, NAMES[1], collaborators=[world.rep_a]),
        "team": make_customer(world.rep_a2, NAMES[2]),
        "other": make_customer(world.rep_b, NAMES[3]),
        "pool": make_customer(world.manager_a, NAMES[4], pool=True),
    }


@pytest.mark.parametrize(
    ("view", "expected"),
    [
        ("", {NAMES[0]}),  # a rep opens on their own customers
        ("mine", {NAMES[0]}),
        ("collab", {NAMES[1]}),
        ("team", {NAMES[0], NAMES[1], NAMES[2]}),
        ("all", set(NAMES)),
        ("pool", {NAMES[4]}),
        ("bogus", {NAMES[0]}),  # an unknown view is the default, never an error
    ],
)
def test_a_reps_views(client_as, world, customers, view, expected):
    response = client_as(world.rep_a).get("/customers", query_string={"view": view} if view else {})
    assert response.status_code == 200
    assert shown(response) == expected


def test_a_manager_opens_on_the_team_and_admins_on_everyone(client_as, world, customers):
    assert shown(client_as(world.manager_a).get("/customers")) == {NAMES[0], NAMES[1], NAMES[2]}
    assert shown(client_as(world.admin).get("/customers")) == set(NAMES)
    # Without a team there is no team view: the switcher leaves it out, the URL falls back.
    admin_page = html_of(client_as(world.admin).get("/customers?view=team"))
    assert "团队</a>" not in admin_page and "全部</a>" in admin_page
    assert shown(client_as(world.support_a).get("/customers")) == set(NAMES)


def test_the_view_stays_in_links_and_in_the_filter_form(client_as, world, customers):
    html = html_of(client_as(world.rep_a).get("/customers?view=all&stage=lead"))
    assert '<a href="/customers?view=all&amp;stage=lead" aria-current="page">全部</a>' in html
    # The default view is the plain address.
    assert '<a href="/customers?stage=lead">我负责的</a>' in html
    assert '<input type="hidden" name="view" value="all">' in html
    assert 'href="/customers?view=all&amp;stage=lead&amp;sort=name"' in html
    # Filters combine with the view.
    assert shown(client_as(world.rep_a).get(f"/customers?view=all&owner={world.rep_b.id}")) == {NAMES[3]}


def test_a_list_redrawn_by_htmx_sends_the_view_switcher_again_with_its_filters(client_as, world, customers):
    # The switcher sits outside the redrawn results: it comes again out of band, so
    # switching to another view after filtering keeps the filter.
    html = html_of(client_as(world.rep_a).get("/customers?stage=lead", headers={"HX-Request": "true"}))
    assert '<nav id="view-switcher" class="tabs view-switcher"' in html and 'hx-swap-oob="true"' in html
    assert '<a href="/customers?view=all&amp;stage=lead">全部</a>' in html
    assert '<a href="/customers?stage=lead" aria-current="page">我负责的</a>' in html
    # The whole page has it once, in place.
    page = html_of(client_as(world.rep_a).get("/customers?stage=lead"))
    assert page.count('id="view-switcher"') == 1 and "hx-swap-oob" not in page


def test_a_search_in_a_narrow_view_finds_only_there(client_as, world, customers):
    rep = client_as(world.rep_a)
    assert shown(rep.get("/customers?q=外队")) == set()
    assert shown(rep.get("/customers?view=all&q=外队")) == {NAMES[3]}


def columns_of(user):
    db.session.expire_all()
    return db.session.scalar(select(User.list_columns).where(User.id == user.id))


def header(html):
    start = html.index("<thead>")
    return html[start : html.index("</thead>")]


def test_the_column_chooser_is_remembered_per_user(client_as, world, customers):
    rep = client_as(world.rep_a)
    default = header(html_of(rep.get("/customers")))
    assert "回收日期" in default and "等级" not in default
    forged = rep.post("/customers/columns", data={"columns": ["grade", "<script>"], "next": "/customers"})
    assert forged.status_code == 400 and "列不存在" in html_of(forged)
    assert columns_of(world.rep_a) == ""
    response = rep.post(
        "/customers/columns", data={"columns": ["grade", "stage"], "next": "/customers?view=all"}
    )
    assert response.status_code == 303 and response.headers["Location"] == "/customers?view=all"
    assert columns_of(world.rep_a) == "stage,grade"  # in the list's order
    chosen = header(html_of(rep.get("/customers")))
    assert "等级" in chosen and "阶段" in chosen and "回收日期" not in chosen and "联系人" not in chosen
    # Another user keeps the defaults.
    assert "回收日期" in header(html_of(client_as(world.rep_a2).get("/customers")))
    # Nothing ticked: the name alone, which is a choice too.
    assert rep.post("/customers/columns", data={"next": "/customers"}).status_code == 400
    rep.post("/customers/columns", data={"columns": "name", "next": "/customers"})
    only_name = header(html_of(rep.get("/customers")))
    assert "客户" in only_name and "阶段" not in only_name
    # Back to the defaults.
    rep.post("/customers/columns", data={"reset": "1", "next": "/customers"})
    assert columns_of(world.rep_a) == ""
    assert "回收日期" in header(html_of(rep.get("/customers")))


def test_the_tags_column_shows_every_customers_tags_read_with_the_page(client_as, world):
    """Tags are read only for a list that shows them, and then with the page's
    customers, not one statement per row."""
    for n in range(5):
        make_customer(world.rep_a, f"带标签的客户{n}有限公司", tags=[f"重点{n}", "华东"])
    rep = client_as(world.rep_a)

    def list_statements():
        with recorded_statements() as statements:
            html = html_of(rep.get("/customers"))
        return html, [s for s, _parameters in statements if "customer_tags" in s]

    html, reading_tags = list_statements()
    assert "重点0" not in html and reading_tags == []
    rep.post("/customers/columns", data={"columns": ["tags"], "next": "/customers"})
    html, reading_tags = list_statements()
    assert all(f"华东 · 重点{n}" in html for n in range(5)) and len(reading_tags) == 1


def test_the_column_chooser_answers_htmx_with_the_list_and_refuses_other_sites(client_as, world, customers):
    rep = client_as(world.rep_a)
    response = rep.post(
        "/customers/columns", data={"columns": ["region"], "next": "/customers?view=all"}, htmx=True
    )
    html = html_of(response)
    assert response.status_code == 200 and "<html" not in html
    assert "地区" in header(html) and set(NAMES) == shown(response)  # the view=all list, redrawn
    away = rep.post("/customers/columns", data={"columns": ["region"], "next": "https://evil.example/"})
    assert away.status_code == 303 and away.headers["Location"] == "/customers"


def test_a_phone_card_always_has_stage_owner_and_next_follow_up(client_as, world, customers):
    rep = client_as(world.rep_a)
    rep.post("/customers/columns", data={"columns": ["grade"], "next": "/customers"})
    html = html_of(rep.get("/customers"))
    assert 'class="col-stage card-only' in html and 'class="col-owner card-only' in html
    assert 'class="col-next_follow_up card-only' in html


def test_names_are_one_line_with_the_full_name_on_hover(client_as, world, customers):
    html = html_of(client_as(world.rep_a).get("/customers"))
    assert f'title="{NAMES[0]}">{NAMES[0]}</a>' in html


def test_amounts_in_wan_and_none_as_a_dash(client_as, world):
    make_customer(world.rep_a, "金额测试有限公司", expected_amount="1280000.00")
    make_customer(world.rep_a, "没有金额有限公司")
    html = html_of(client_as(world.rep_a).get("/customers"))
    assert '<td class="col-amount num" data-label="预计金额">¥128万</td>' in html
    assert "¥0.00" not in html


def test_a_manager_assigns_every_customer_matching_the_filter(client_as, world):
    pooled = [make_customer(world.manager_a, f"批量公海{n}号有限公司", pool=True) for n in range(4)]
    kept = make_customer(world.manager_a, "另一阶段有限公司", pool=True, stage="quoted")
    manager = client_as(world.manager_a)
    page = html_of(manager.get("/customers?view=pool&stage=lead&per_page=25"))
    assert "已选" in page or "勾选" in page
    response = manager.post(
        "/customers/assign",
        data={
            "scope": "matching",
            "user_id": world.rep_a.id,
            "reason": "重新分配",
            "next": "/customers?view=pool&stage=lead",
        },
    )
    assert response.status_code == 303
    db.session.expire_all()
    owners = {c.id: c.owner_id for c in db.session.scalars(select(Customer))}
    assert all(owners[c.id] == world.rep_a.id for c in pooled)
    assert owners[kept.id] is None


def test_all_matching_is_offered_only_when_it_is_more_than_the_page_and_within_the_limit(
    app, client_as, world
):
    app.config["PAGE_SIZE"] = 2
    for n in range(3):
        make_customer(world.manager_a, f"分页公海{n}号有限公司", pool=True)
    manager = client_as(world.manager_a)
    assert "全部 3 个符合条件的客户" in html_of(manager.get("/customers?view=pool"))
    assert "符合条件的客户" not in html_of(manager.get("/customers?view=pool&per_page=25"))


def test_all_matching_beyond_the_limit_is_refused_without_moving_any(client_as, world, monkeypatch):
    from salesdesk.rules import assignment

    monkeypatch.setattr(assignment, "MAX_CUSTOMERS", 2)
    pooled = [make_customer(world.manager_a, f"超限公海{n}号有限公司", pool=True) for n in range(3)]
    response = client_as(world.manager_a).post(
        "/customers/assign",
        data={
            "scope": "matching",
            "user_id": world.rep_a.id,
            "reason": "重新分配",
            "next": "/customers?view=pool",
        },
    )
    assert response.status_code == 422 and "Select 1 to" not in html_of(response)
    db.session.expire_all()
    assert all(db.session.get(Customer, c.id).owner_id is None for c in pooled)
