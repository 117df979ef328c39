"""The leaderboard, feed, person pages and the manager report over HTTP: full pages and
htmx fragments, access per role, and bad query strings."""

import re
from datetime import timedelta

import pytest

from salesdesk.recognition import badges, leaderboard
from salesdesk.recognition.entries import reverse_entry
from tests.fixtures.ledger import make_customer
from tests.fixtures.recognition import award, award_at, gift_form, local, thank

pytestmark = pytest.mark.usefixtures("mid_november")


def html(response):
    return response.get_data(as_text=True)


def board_rows(text):
    """(rank, name, points) of each leaderboard row, in order."""
    rows = re.findall(
        r'<span class="rank[^"]*">(\d+)</span></td>\s*'
        r'<td[^>]*><a href="/people/\d+">([^<]+)</a>.*?<strong>(\d+)</strong>',
        text,
        re.S,
    )
    return [(int(rank), name, int(points)) for rank, name, points in rows]


# ---- leaderboard --------------------------------------------------------------------------


def test_the_leaderboard_page_and_its_htmx_fragment(client_as, world):
    award(world.manager_a, world.rep_a, 30)
    award(world.manager_a, world.rep_a2, 20)
    award(world.manager_b, world.rep_b, 20)
    rep = client_as(world.rep_a2)
    page = rep.get("/leaderboard")
    assert page.status_code == 200 and "HX-Request" in page.headers["Vary"]
    text = html(page)
    assert "<html" in text and board_rows(text) == [(1, "张三", 30), (2, "李四", 20), (2, "王五", 20)]
    assert 'class="is-me" aria-current="true"' in text and "新上榜" in text
    assert 'hx-get="/leaderboard?period=week"' in text and 'hx-push-url="true"' in text
    fragment = html(rep.get(f"/leaderboard?period=week&team={world.team_b.id}", htmx=True))
    assert "<html" not in fragment and board_rows(fragment) == [(1, "王五", 20)]
    assert '<a href="/leaderboard?period=week&amp;team=' in fragment
    # The pushed URL reloads to the full page.
    full = html(rep.get(f"/leaderboard?period=week&team={world.team_b.id}"))
    assert "<html" in full and board_rows(full) == [(1, "王五", 20)]


def test_the_viewer_row_shows_below_the_top_list(client_as, world, monkeypatch):
    monkeypatch.setattr(leaderboard, "BOARD_LIMIT", 1)
    award(world.manager_a, world.rep_a, 30)
    award(world.manager_a, world.rep_a2, 20)
    text = html(client_as(world.rep_a2).get("/leaderboard"))
    assert board_rows(text) == [(1, "张三", 30), (2, "李四", 20)]
    assert 'class="board-gap"' in text
    no_points = html(client_as(world.rep_b).get("/leaderboard"))
    assert "你在这个周期内还没有积分" in no_points


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("period=decade", 200),
        ("team=abc", 200),
        ("team=999999", 404),
        ("team=-1", 404),
        ("period=%00&team=", 400),  # NUL bytes are refused app-wide
        ("period=" + "x" * 5000, 200),
    ],
)
def test_garbage_leaderboard_queries_are_harmless(client_as, world, query, status):
    assert client_as(world.rep_a).get(f"/leaderboard?{query}").status_code == status


def test_badges_show_on_the_leaderboard_and_person_page(client_as, world, frozen_clock):
    award_at(local(2026, 10, 10), world.manager_a, world.rep_a, 30)
    frozen_clock(local(2026, 11, 18, 10))
    award(world.manager_a, world.rep_a, 10)
    badges.close_ended_months()  # what the app's periodic job does
    rep = client_as(world.rep_a2)
    assert 'class="star-badge"' in html(rep.get("/leaderboard"))
    person = html(rep.get(f"/people/{world.rep_a.id}"))
    assert "2026年10月协作之星" in person and "第 1 名，30 积分" in person


def test_the_nav_leads_to_the_leaderboard(client_as, world):
    text = html(client_as(world.rep_a).get("/"))
    assert 'href="/leaderboard"' in text
    assert client_as(world.rep_a).get("/leaderboard").status_code == 200


# ---- feed ---------------------------------------------------------------------------------


def test_the_feed_shows_awards_and_thanks_and_marks_reversals(client_as, world):
    entry = award(world.manager_a, world.rep_a, 30, reason="连续三周攻坚华润项目")
    thank(world.rep_a2, world.rep_a, 2, reason="谢谢你帮我查开票信息")
    reverse_entry(world.admin, entry.id, reason="重复发放")
    text = html(client_as(world.rep_b).get("/recognition"))
    assert "连续三周攻坚华润项目" in text and "谢谢你帮我查开票信息" in text
    assert "王经理</a> 奖励了 <a" in text and "李四</a> 感谢了 <a" in text
    assert text.count("已撤销") == 1 and "is-reversed" in text
    assert "重复发放" not in text  # the reversal itself is not a feed item
    awards_only = html(client_as(world.rep_b).get("/recognition?kind=award"))
    assert "连续三周攻坚华润项目" in awards_only and "谢谢你帮我查开票信息" not in awards_only


def test_the_feed_loads_more_with_and_without_javascript(client_as, world):
    for number in range(25):
        award(world.admin, world.rep_a, 1, reason=f"感谢第{number}次")
    rep = client_as(world.rep_b)
    first = html(rep.get("/recognition"))
    assert "感谢第24次" in first and "感谢第5次" in first and "感谢第4次" not in first
    more = re.search(r'hx-get="(/recognition\?before=\d+)"', first).group(1)
    fragment = html(rep.get(more, htmx=True))
    assert "<html" not in fragment and "感谢第4次" in fragment and "感谢第0次" in fragment
    assert "感谢第5次" not in fragment and "加载更多" not in fragment
    page = html(rep.get(more))  # the link works without JavaScript
    assert "<html" in page and "感谢第4次" in page and "回到最新" in page
    assert rep.get("/recognition?before=abc&kind=xyz").status_code == 200
    assert rep.get("/recognition?before=abc&kind=%00").status_code == 400  # NUL: refused app-wide


def test_the_feed_is_empty_at_first(client_as, world):
    assert "去感谢一位帮过你的同事吧" in html(client_as(world.rep_a).get("/recognition"))


# ---- person page --------------------------------------------------------------------------


def test_a_person_page_shows_points_by_category_history_and_actions(client_as, world):
    award(world.manager_a, world.rep_a, 30, category="deal", reason="拿下华润首单")
    thank(world.rep_a2, world.rep_a, 2, category="knowledge", reason="谢谢分享报价模板")
    manager = html(client_as(world.manager_a).get(f"/people/{world.rep_a.id}"))
    assert "张三" in manager and "销售 · 华东大区" in manager
    assert "累计积分" in manager and ">32<" in manager and "全公司第 1 名" in manager
    assert "客户攻坚" in manager and "拿下华润首单" in manager and "谢谢分享报价模板" in manager
    assert f'href="/recognition/thank?recipient_id={world.rep_a.id}"' in manager
    assert f'href="/recognition/award?recipient_id={world.rep_a.id}"' in manager
    colleague = html(client_as(world.rep_a2).get(f"/people/{world.rep_a.id}"))
    assert "感谢张三" in colleague and "/recognition/award?" not in colleague
    own = html(client_as(world.rep_a).get(f"/people/{world.rep_a.id}"))
    assert "/recognition/thank?recipient_id" not in own


def test_the_customer_page_offers_an_award_only_where_the_award_would_be_accepted(client_as, world):
    # The page used to ask for the role alone and offered a manager to award themself.
    theirs = make_customer(world.rep_a, "苏州恒达精密机械有限公司")
    own = make_customer(world.manager_a, "无锡华光电子有限公司")
    manager = client_as(world.manager_a)
    assert "/recognition/award?" in html(manager.get(f"/customers/{theirs.id}"))
    assert "/recognition/award?" not in html(manager.get(f"/customers/{own.id}"))
    assert "/recognition/award?" in html(client_as(world.manager_b).get(f"/customers/{own.id}"))
    assert "/recognition/award?" not in html(client_as(world.rep_a2).get(f"/customers/{theirs.id}"))


def test_person_history_loads_more_as_a_fragment(client_as, world):
    for number in range(22):
        award(world.admin, world.rep_a, 1, reason=f"第{number}次")
    rep = client_as(world.rep_a2)
    page = html(rep.get(f"/people/{world.rep_a.id}"))
    more = re.search(r'hx-get="(/people/\d+\?before=\d+)"', page).group(1)
    fragment = html(rep.get(more, htmx=True))
    assert (
        "<html" not in fragment and "第0次" in fragment and "第1次" in fragment and "累计积分" not in fragment
    )


def test_unknown_people_are_404(client_as, world):
    rep = client_as(world.rep_a)
    assert rep.get("/people/999999").status_code == 404
    assert rep.get("/people/abc").status_code == 404


def test_a_deactivated_persons_history_stays_visible(client_as, world):
    from salesdesk.auth import services as accounts

    award(world.manager_a, world.rep_a2, 10, reason="老同事的贡献")
    accounts.deactivate_user(world.rep_a2, actor=world.admin)
    text = html(client_as(world.rep_a).get(f"/people/{world.rep_a2.id}"))
    assert "老同事的贡献" in text and "已停用" in text and "/recognition/thank?recipient_id" not in text


def test_system_entries_speak_the_readers_language(client_as, world):
    from salesdesk import signals
    from salesdesk.auth import services as accounts
    from tests.fixtures.ledger import make_customer

    customer = make_customer(world.rep_a, collaborators=[world.rep_a2])
    signals.customer_won.send(customer, actor=world.rep_a)
    accounts.set_language(world.rep_b, "en")
    text = html(client_as(world.rep_b).get(f"/people/{world.rep_a2.id}"))
    assert "Collaborated on 苏州恒达精密机械有限公司, which was won." in text
    assert "received automatic points" in text


# ---- mutual thanks report -----------------------------------------------------------------


def test_the_report_flags_pairs_who_thank_each_other_far_more_than_average(client_as, world, frozen_clock):
    extra = [world.support_a, world.manager_a]
    for week in range(6):
        frozen_clock(local(2026, 10, 5, 10) + timedelta(weeks=week))
        for _ in range(2):
            thank(world.rep_a, world.rep_a2, 1)
            thank(world.rep_a2, world.rep_a, 1)
    frozen_clock(local(2026, 11, 10, 10))
    thank(world.support_a, world.rep_a, 1)
    thank(world.rep_a, world.support_a, 1)
    thank(extra[1], world.rep_a2, 1)
    frozen_clock(local(2026, 11, 18, 10))
    text = html(client_as(world.manager_a).get("/recognition/report"))
    assert "张三</a> ⇄ <a" in text and "12 / 12" in text and "远高于平均" in text
    assert text.count("远高于平均") == 1 and "正常" in text


@pytest.mark.parametrize("role", ["rep_a", "support_a"])
def test_the_report_is_for_managers_and_administrators(client_as, world, role):
    assert client_as(getattr(world, role)).get("/recognition/report").status_code == 403


def test_managers_see_their_own_team_and_administrators_any(client_as, world):
    manager = client_as(world.manager_a)
    assert manager.get(f"/recognition/report?team={world.team_a.id}").status_code == 200
    assert manager.get(f"/recognition/report?team={world.team_b.id}").status_code == 403
    admin = client_as(world.admin)
    assert "华南大区" in html(admin.get(f"/recognition/report?team={world.team_b.id}"))
    assert admin.get("/recognition/report?team=999999").status_code == 404


# ---- security baseline on every recognition page ------------------------------------------


def test_no_inline_script_or_style_on_recognition_pages(client_as, world):
    entry = award(world.manager_a, world.rep_a, 10)
    admin = client_as(world.admin)
    for url in (
        "/leaderboard",
        "/recognition",
        "/recognition/award",
        "/recognition/thank",
        f"/people/{world.rep_a.id}",
        f"/recognition/entries/{entry.id}",
        "/recognition/report",
        "/recognition/settings",
    ):
        response = admin.get(url)
        text = html(response)
        assert response.status_code == 200, url
        assert "<script>" not in text and " style=" not in text and " hx-on" not in text, url
        assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")


def test_pages_need_a_login(client, world):
    for url in ("/leaderboard", "/recognition", "/recognition/award", f"/people/{world.rep_a.id}"):
        assert client.get(url).status_code == 302


def test_forged_huge_ids_are_not_found_never_a_server_error(client_as, world):
    huge = "9" * 20
    admin = client_as(world.admin)
    assert admin.get(f"/people/{huge}").status_code == 404
    assert admin.get(f"/recognition/entries/{huge}").status_code == 404
    assert admin.post(f"/recognition/entries/{huge}/reverse", data={"reason": "x"}).status_code == 404
    assert admin.get(f"/leaderboard?team={huge}").status_code == 404
    assert admin.get(f"/recognition/report?team={huge}").status_code == 404
    assert admin.get(f"/recognition?before={huge}").status_code == 200
    assert admin.get(f"/recognition/award?customer_id={huge}").status_code == 404
    response = admin.post("/recognition/award", data=gift_form(huge, 5, "other", "x"))
    assert response.status_code == 422 and "该同事不存在。" in html(response)
    response = admin.post(
        "/recognition/award", data=gift_form(world.rep_a, 5, "other", "x", customer_id=huge)
    )
    assert response.status_code == 422 and "该客户不存在。" in html(response)
