"""The workbench (工作台): each panel of the rep's and the manager's home, for each role,
with the right people and counts and nothing from another team; the inline follow-up."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from salesdesk.extensions import db
from salesdesk.kb import paths
from salesdesk.ledger import collaborators, customers, duplicates
from salesdesk.ledger.models import Customer, FollowUp
from salesdesk.rules import collisions, pool
from salesdesk.workbench import services as workbench
from tests.fixtures.kb import write
from tests.fixtures.ledger import make_customer, quick_follow_up_form
from tests.fixtures.recognition import award
from tests.helpers import form_on_page

# Wednesday 4 March 2026, 10:00 in Shanghai: the week began on Monday 2 March.
T0 = datetime(2026, 3, 4, 2, 0, tzinfo=UTC)
TODAY = date(2026, 3, 4)


def set_follow_up(customer, day):
    db.session.execute(
        Customer.__table__.update().where(Customer.id == customer.id).values(next_follow_up_on=day)
    )
    db.session.commit()


@pytest.fixture
def ledger_of_two_teams(world, frozen_clock):
    """Customers of both teams with follow-ups due, overdue and ahead."""
    frozen_clock(T0 - timedelta(days=10))
    c = {
        "overdue": make_customer(world.rep_a, "苏州恒达精密机械有限公司", expected_amount="120000"),
        "today": make_customer(world.rep_a, "无锡华光电子有限公司", stage="quoted", expected_amount="80000"),
        "ahead": make_customer(world.rep_a, "常州天和医疗器械有限公司"),
        "colleague": make_customer(world.rep_a2, "南通海润医药连锁有限公司", stage="negotiating"),
        "other_team": make_customer(world.rep_b, "深圳市南方鑫材料有限公司", expected_amount="990000"),
        "pool_a": make_customer(world.manager_a, "杭州云栖数据科技有限公司", pool=True),
        "pool_b": make_customer(world.manager_b, "广州粤海贸易有限公司", pool=True),
    }
    set_follow_up(c["overdue"], TODAY - timedelta(days=2))
    set_follow_up(c["today"], TODAY)
    set_follow_up(c["ahead"], TODAY + timedelta(days=3))
    set_follow_up(c["colleague"], TODAY - timedelta(days=1))
    set_follow_up(c["other_team"], TODAY - timedelta(days=5))
    frozen_clock(T0)
    return c


def section(html, heading):
    """The HTML of the card whose heading contains `heading`."""
    start = html.index(heading)
    start = html.rindex("<section", 0, start)
    return html[start : html.index("</section>", start)]


# ---- the rep's home -----------------------------------------------------------------------


def test_rep_sees_their_own_due_and_overdue_follow_ups(world, ledger_of_two_teams, client_as):
    html = client_as(world.rep_a).get("/").get_data(as_text=True)
    due = section(html, "待跟进")
    assert "苏州恒达精密机械有限公司" in due and "无锡华光电子有限公司" in due
    assert due.index("苏州恒达") < due.index("无锡华光"), "the most overdue first"
    assert "已逾期" in due and "今天" in due
    for name in ("常州天和医疗器械有限公司", "南通海润医药连锁有限公司", "深圳市南方鑫材料有限公司"):
        assert name not in due
    assert '<span class="count-badge">2</span>' in due
    assert "follow_up=due_or_overdue" in due and "owner=me" in due
    assert "销售漏斗" not in html


def test_the_due_panel_shows_a_few_and_links_to_the_rest(world, client_as, frozen_clock):
    frozen_clock(T0 - timedelta(days=10))
    for number in range(workbench.PANEL_LIMIT + 3):
        set_follow_up(make_customer(world.rep_a, f"测试客户{number:02d}有限公司"), TODAY)
    frozen_clock(T0)
    due = section(client_as(world.rep_a).get("/").get_data(as_text=True), "待跟进")
    assert due.count('class="due-item"') == workbench.PANEL_LIMIT
    assert f'<span class="count-badge">{workbench.PANEL_LIMIT + 3}</span>' in due
    assert "查看其余 3 个待跟进客户" in due


def test_rep_sees_customers_about_to_return_to_the_pool(world, client_as, frozen_clock):
    frozen_clock(T0 - timedelta(days=13))  # 15 days without follow-up: back on 6 March
    soon = make_customer(world.rep_a, "苏州恒达精密机械有限公司")
    frozen_clock(T0 - timedelta(days=5))
    later = make_customer(world.rep_a, "无锡华光电子有限公司")
    make_customer(world.rep_a2, "南通海润医药连锁有限公司")
    frozen_clock(T0)
    panel = section(client_as(world.rep_a).get("/").get_data(as_text=True), "即将回收")
    assert soon.name in panel and later.name not in panel and "南通海润" not in panel
    assert "2026/3/6" in panel or "2026年3月6日" in panel
    assert "reclaim=soon" in panel


def test_rep_sees_collisions_and_collaboration_requests_involving_them(world, client_as, frozen_clock):
    frozen_clock(T0)
    mine = make_customer(world.rep_a, "苏州恒达精密机械有限公司")
    theirs = make_customer(world.rep_a2, "无锡华光电子有限公司")
    collisions.file_collision(world.rep_a2, mine.id, "我上个月在展会上先接触的这家客户。")
    collaborators.request_collaboration(world.rep_a2, mine.id, "我认识他们的技术负责人")
    collaborators.request_collaboration(world.rep_a, theirs.id, "我可以帮忙做方案")
    owner_html = section(client_as(world.rep_a).get("/").get_data(as_text=True), "撞单与申请")
    assert "「苏州恒达精密机械有限公司」的撞单申诉" in owner_html
    assert "李四 申请协作跟进「苏州恒达精密机械有限公司」" in owner_html
    assert "你加入「无锡华光电子有限公司」的协作申请待处理" in owner_html
    reporter_html = client_as(world.rep_a2).get("/").get_data(as_text=True)
    assert "「苏州恒达精密机械有限公司」的撞单申诉" in section(reporter_html, "撞单与申请")
    assert "撞单与申请" not in client_as(world.rep_b).get("/").get_data(as_text=True)


def test_rep_sees_their_reading_and_their_points(world, client_as, frozen_clock):
    frozen_clock(T0)
    path = paths.create_path(name="新人第一周", actor=world.manager_a)
    for number in range(2):
        paths.add_to_path(
            path, write(world.manager_a, f"入门文章{number}", "正文。").id, actor=world.manager_a
        )
    paths.assign_path(path, user_id=world.rep_a.id, due_on=TODAY + timedelta(days=5), actor=world.manager_a)
    award(world.manager_a, world.rep_a, points=20)
    award(world.manager_a, world.rep_a2, points=30)
    html = client_as(world.rep_a).get("/").get_data(as_text=True)
    learning = section(html, "我的学习")
    assert "新人第一周" in learning and "已读 0 / 2 篇" in learning and "2026年3月9日" in learning
    points = section(html, "本月我的积分")
    assert '<p class="big-number">20</p>' in points and "排名 2 / 2" in points
    colleague = section(client_as(world.rep_a2).get("/").get_data(as_text=True), "我的学习")
    assert "你还没有学习任务" in colleague


# ---- the manager's home -------------------------------------------------------------------


def stat(html, label):
    match = re.search(re.escape(label) + r'</span>\s*<span class="stat-value">([\d,]+)</span>', html)
    assert match, f"no stat {label}"
    return int(match.group(1).replace(",", ""))


def test_manager_home_counts_only_their_team(world, ledger_of_two_teams, client_as, frozen_clock):
    c = ledger_of_two_teams
    pool.claim(world.rep_a2, c["pool_a"].id)  # this week, team A
    pool.claim(world.rep_b, c["pool_b"].id)  # this week, team B
    collisions.file_collision(world.rep_a2, c["overdue"].id, "我先联系的")
    collisions.file_collision(world.rep_a2, c["other_team"].id, "华南的撞单，不该算在华东")
    report = duplicates.check_duplicates(name_key=c["today"].name_key, with_similar=False)
    duplicates.record_blocked_duplicate(world.rep_a, report)
    duplicates.record_blocked_duplicate(world.rep_b, report)
    duplicates.record_blocked_duplicate(world.rep_b, report)

    home = workbench.manager_home(world.manager_a, world.team_a)
    stages = {row.stage.value: (row.count, row.amount) for row in home.pipeline}
    assert stages["lead"][0] == 3 and stages["quoted"] == (1, 80000) and stages["negotiating"][0] == 1
    assert sum(count for count, _amount in stages.values()) == 5, "owned team-A customers only"
    assert sorted((user.display_name, count) for user, count in home.overdue_by_rep) == [
        ("张三", 1),
        ("李四", 1),
    ]
    assert (home.pool_size, home.team_pool_size) == (0, 0)
    assert home.claims_this_week == 1 and home.blocked_this_month == 1 and home.open_collisions == 1

    html = client_as(world.manager_a).get("/").get_data(as_text=True)
    assert (
        stat(html, "本周领取") == 1 and stat(html, "本月拦截重复录入") == 1 and stat(html, "待裁决撞单") == 1
    )
    nudges = section(html, "各销售逾期跟进")
    assert "张三" in nudges and "李四" in nudges and "王五" not in nudges
    for name in ("深圳市南方鑫材料有限公司", "王五", "99万", "990,000"):
        assert name not in html.split("我自己的客户")[0], name
    assert 'name="team"' not in html, "only admins switch teams"


def test_manager_home_trend_counts_wins_by_month(world, client_as, frozen_clock):
    frozen_clock(datetime(2026, 1, 15, 2, 0, tzinfo=UTC))
    january = make_customer(world.rep_a, "苏州恒达精密机械有限公司", expected_amount="100000")
    customers.change_stage(world.rep_a, january.id, "won", january.version)
    frozen_clock(T0 - timedelta(days=1))
    march = make_customer(world.rep_a, "无锡华光电子有限公司", expected_amount="50000")
    customers.change_stage(world.rep_a, march.id, "won", march.version)
    other = make_customer(world.rep_b, "深圳市南方鑫材料有限公司", expected_amount="70000")
    customers.change_stage(world.rep_b, other.id, "won", other.version)
    frozen_clock(T0)
    trend = workbench.manager_home(world.manager_a, world.team_a).trend
    assert [month for month, _count, _amount in trend] == [
        date(2025, 10, 1),
        date(2025, 11, 1),
        date(2025, 12, 1),
        date(2026, 1, 1),
        date(2026, 2, 1),
        date(2026, 3, 1),
    ]
    assert [(count, amount) for _month, count, amount in trend][-3:] == [(1, 100000), (0, 0), (1, 50000)]
    company = workbench.manager_home(world.admin, None).trend
    assert company[-1][1:] == (2, 120000)
    # A deal reopened is no longer won; won again, it counts in the month it was won.
    customers.change_stage(world.rep_b, other.id, "negotiating", db.session.get(Customer, other.id).version)
    assert db.session.get(Customer, other.id).won_at is None
    assert workbench.manager_home(world.admin, None).trend[-1][1:] == (1, 50000)
    html = client_as(world.manager_a).get("/").get_data(as_text=True)
    chart = section(html, "每月赢单")
    assert "<svg" in chart and "1月" in chart
    # The bar's height is the amount, so its label is the amount (not the count).
    assert re.findall(r'class="chart-value chart-amount">([^<]*)<', chart) == ["¥10万", "¥5万"]
    assert re.findall(r'class="chart-small chart-count">([^<]*)<', chart) == ["0 单"] * 3 + [
        "1 单",
        "0 单",
        "1 单",
    ]


def test_chart_amounts_are_short(app):
    from flask_babel import force_locale

    from salesdesk.i18n import compact_money

    with app.test_request_context(), force_locale("zh_Hans_CN"):
        assert [compact_money(v) for v in (1280000, 125000, 123456789, 0, None)] == [
            "¥128万",
            "¥12.5万",
            "¥1.2亿",
            "—",
            "—",
        ]
    with app.test_request_context(), force_locale("en"):
        assert compact_money(1280000) == "¥1.3M"


def test_manager_sees_new_hires_learning_and_the_team_top_five(world, client_as, frozen_clock):
    frozen_clock(T0)
    path = paths.create_path(name="新人第一周", actor=world.manager_a)
    paths.add_to_path(path, write(world.manager_a, "入门文章", "正文。").id, actor=world.manager_a)
    paths.assign_path(path, user_id=world.rep_a2.id, due_on=TODAY + timedelta(days=5), actor=world.manager_a)
    paths.assign_path(path, user_id=world.rep_b.id, due_on=TODAY + timedelta(days=5), actor=world.admin)
    award(world.manager_a, world.rep_a, points=20)
    award(world.manager_b, world.rep_b, points=50)
    html = client_as(world.manager_a).get("/").get_data(as_text=True)
    learning = section(html, "新人学习进度")
    assert "李四" in learning and "新人第一周" in learning and "王五" not in learning
    top = section(html, "本月前五名")
    assert "张三" in top and "20" in top and "王五" not in top


def test_admin_sees_the_company_and_switches_team(world, ledger_of_two_teams, client_as):
    admin = client_as(world.admin)
    html = admin.get("/").get_data(as_text=True)
    assert 'name="team"' in html and "全公司" in html
    assert stat(html, "公海客户") == 2
    nudges = section(html, "各销售逾期跟进")
    assert "王五" in nudges and "张三" in nudges

    team_b = admin.get(f"/?team={world.team_b.id}").get_data(as_text=True)
    nudges = section(team_b, "各销售逾期跟进")
    assert "王五" in nudges and "张三" not in nudges
    assert "其中 1 个来自本团队" in team_b

    fragment = admin.get(f"/?team={world.team_a.id}", htmx=True).get_data(as_text=True)
    assert "<html" not in fragment and "各销售逾期跟进" in fragment and "王五" not in fragment
    assert admin.get("/?team=999999").status_code == 404
    assert admin.get("/?team=abc").status_code == 200  # not a number: the whole company


def test_a_manager_cannot_look_at_another_team(world, ledger_of_two_teams, client_as):
    html = client_as(world.manager_a).get(f"/?team={world.team_b.id}").get_data(as_text=True)
    nudges = section(html, "各销售逾期跟进")
    assert "张三" in nudges and "王五" not in nudges


def test_support_sees_no_manager_view_and_no_customers(world, ledger_of_two_teams, client_as):
    response = client_as(world.support_a).get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "销售漏斗" not in html
    assert "今天没有待跟进的客户" in html


# ---- the inline follow-up ---------------------------------------------------------------


def follow_up_form(**overrides):
    return quick_follow_up_form(**{"content": "电话沟通了报价，下周再约", **overrides})


def test_inline_follow_up_with_htmx_swaps_the_panel(world, ledger_of_two_teams, client_as):
    customer = ledger_of_two_teams["overdue"]
    client = client_as(world.rep_a)
    response = client.post(f"/workbench/follow-ups/{customer.id}", data=follow_up_form(), htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith(
        '<section class="card panel" id="due-panel">'
    )
    assert customer.name not in html and "无锡华光电子有限公司" in html
    assert '<span class="count-badge">1</span>' in html
    db.session.refresh(customer)
    assert customer.next_follow_up_on is None and customer.last_follow_up_at is not None
    entry = db.session.scalar(select(FollowUp).where(FollowUp.customer_id == customer.id))
    assert entry.content == "电话沟通了报价，下周再约" and entry.author_id == world.rep_a.id


def test_finding_5_the_inline_follow_up_sends_every_field_its_form_asks_for(
    world, ledger_of_two_teams, client_as
):
    # The panel shows channel, next date and text only; its form once also wanted `when`
    # and a next step, so every follow-up typed there was refused as incomplete.
    customer = ledger_of_two_teams["overdue"]
    client = client_as(world.rep_a)
    action = f"/workbench/follow-ups/{customer.id}"
    posted = form_on_page(client.get("/").get_data(as_text=True), action)
    assert {"channel", "content", "next_follow_up_on", "next_step", "submission_token", "csrf_token"} <= set(
        posted
    )
    response = client.post(action, data={**posted, "content": "电话沟通了报价"})
    assert response.status_code == 303
    logged = select(FollowUp).where(FollowUp.customer_id == customer.id, FollowUp.content == "电话沟通了报价")
    assert db.session.scalar(logged) is not None


def test_inline_follow_up_can_set_the_next_date(world, ledger_of_two_teams, client_as):
    customer = ledger_of_two_teams["today"]
    client_as(world.rep_a).post(
        f"/workbench/follow-ups/{customer.id}", data=follow_up_form(next_follow_up_on="2026-03-11"), htmx=True
    )
    db.session.refresh(customer)
    assert customer.next_follow_up_on == date(2026, 3, 11)


def test_inline_follow_up_without_javascript_redirects_home(world, ledger_of_two_teams, client_as):
    customer = ledger_of_two_teams["overdue"]
    response = client_as(world.rep_a).post(f"/workbench/follow-ups/{customer.id}", data=follow_up_form())
    assert response.status_code == 303 and response.headers["Location"] == "/"


def test_invalid_inline_follow_up_keeps_the_form_open_with_the_error(world, ledger_of_two_teams, client_as):
    customer = ledger_of_two_teams["overdue"]
    client = client_as(world.rep_a)
    response = client.post(f"/workbench/follow-ups/{customer.id}", data=follow_up_form(content=""), htmx=True)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert '<details class="inline-action" open>' in html and customer.name in html
    past = client.post(
        f"/workbench/follow-ups/{customer.id}", data=follow_up_form(next_follow_up_on="2026-03-01"), htmx=True
    )
    assert past.status_code == 422 and "下次跟进日期不能早于本次跟进" in past.get_data(as_text=True)
    huge = client.post(f"/workbench/follow-ups/{customer.id}", data=follow_up_form(content="很" * 6000))
    assert huge.status_code == 422
    assert db.session.scalar(select(FollowUp.id).where(FollowUp.customer_id == customer.id)) is None


def test_inline_follow_up_on_someone_elses_customer_is_refused(world, ledger_of_two_teams, client_as):
    for key in ("other_team", "colleague"):
        customer = ledger_of_two_teams[key]
        response = client_as(world.rep_a).post(
            f"/workbench/follow-ups/{customer.id}", data=follow_up_form(), htmx=True
        )
        assert response.status_code == 403, (key, response.status_code)
        assert db.session.scalar(select(FollowUp.id).where(FollowUp.customer_id == customer.id)) is None
    missing = client_as(world.rep_a).post("/workbench/follow-ups/999999", data=follow_up_form())
    assert missing.status_code == 404


# ---- what each due item shows: the contact, the last note; the quick log's date and next step -------


def log(customer, content, when, next_step=""):
    db.session.add(
        FollowUp(
            customer_id=customer.id,
            author_id=customer.owner_id,
            channel="phone",
            content=content,
            next_step=next_step,
            occurred_at=when,
            created_at=when,
        )
    )
    db.session.commit()


@pytest.fixture
def due_with_contacts(world, frozen_clock):
    frozen_clock(T0 - timedelta(days=10))
    customer = make_customer(world.rep_a, "苏州恒达精密机械有限公司", phone="13912345678")
    set_follow_up(customer, TODAY)
    log(customer, "第一次电话，没人接", T0 - timedelta(days=9))
    log(
        customer,
        "\n   约了周五去工厂看设备  \n带上报价单和样品",
        T0 - timedelta(days=3),
        next_step="周五前发正式报价",
    )
    log(customer, "更早的一条（后来补录）", T0 - timedelta(days=20))
    frozen_clock(T0)
    return customer


def test_a_due_item_shows_the_contact_with_a_call_link_and_the_last_note(world, due_with_contacts, client_as):
    item = section(client_as(world.rep_a).get("/").get_data(as_text=True), "待跟进")
    assert "王总 · 总经理" in item
    assert 'href="tel:13912345678"' in item and "拨打 王总 的电话 13912345678" in item
    assert "上次记录：</span>约了周五去工厂看设备<" in item, "the first line of the latest, trimmed"
    assert "带上报价单" not in item and "没人接" not in item and "补录" not in item
    assert "下一步：</span>周五前发正式报价" in item


def test_a_masked_contact_is_never_a_link_and_its_notes_stay_hidden(
    world, due_with_contacts, client_as, monkeypatch
):
    # The panel takes visibility from the ledger's rule: were it to say "masked", the
    # phone shows masked and is no link, and the note is not shown either.
    monkeypatch.setattr(workbench.ledger_access, "details_visible_ids", lambda user, ids: set())
    item = section(client_as(world.rep_a).get("/").get_data(as_text=True), "待跟进")
    assert "139****5678" in item and "tel:" not in item and "13912345678" not in item
    assert "约了周五" not in item and "上次记录" not in item


def test_the_quick_log_has_a_labelled_date_with_quick_picks_and_a_next_step(
    world, due_with_contacts, client_as
):
    item = section(client_as(world.rep_a).get("/").get_data(as_text=True), "待跟进")
    customer_id = due_with_contacts.id
    assert f'<label for="next-{customer_id}">下次跟进</label>' in item
    assert f'<label for="step-{customer_id}">下一步</label>' in item
    picks = re.findall(r'data-fill-date="([\d-]+)" aria-controls="next-(\d+)"[^>]*>([^<]+)<', item)
    assert picks == [
        ("2026-03-05", str(customer_id), "明天"),
        ("2026-03-07", str(customer_id), "3天后"),
        ("2026-03-11", str(customer_id), "下周"),
    ]
    assert "data-date-picks hidden" in item, "without JavaScript the picks stay hidden"


def test_the_quick_log_without_javascript_stores_the_date_and_the_next_step(
    world, due_with_contacts, client_as
):
    client = client_as(world.rep_a)
    action = f"/workbench/follow-ups/{due_with_contacts.id}"
    posted = form_on_page(client.get("/").get_data(as_text=True), action)
    response = client.post(
        action,
        data={
            **posted,
            "content": "电话确认了周五拜访",
            "next_follow_up_on": "2026-03-06",
            "next_step": "带样品去工厂",
        },
    )
    assert response.status_code == 303 and response.headers["Location"] == "/"
    entry = db.session.scalar(select(FollowUp).where(FollowUp.content == "电话确认了周五拜访"))
    assert entry.next_step == "带样品去工厂" and entry.next_follow_up_on == date(2026, 3, 6)
    db.session.refresh(due_with_contacts)
    assert due_with_contacts.next_follow_up_on == date(2026, 3, 6)
    too_long = client.post(action, data={**posted, "content": "再次确认", "next_step": "很" * 501})
    assert too_long.status_code == 422


def test_the_quick_log_with_htmx_shows_the_new_note(world, due_with_contacts, client_as):
    client = client_as(world.rep_a)
    response = client.post(
        f"/workbench/follow-ups/{due_with_contacts.id}",
        data=follow_up_form(
            content="客户要求再降价 5%\n细节见邮件", next_follow_up_on="2026-03-04", next_step="请示经理"
        ),
        htmx=True,
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "上次记录：</span>客户要求再降价 5%<" in html and "下一步：</span>请示经理" in html
    assert "data-fill-date" in html
