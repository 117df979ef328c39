"""Giving points over HTTP: the award and thanks forms, reversal and settings, as users
and attackers see them (status, HTML, rows)."""

import pytest
from sqlalchemy import select

from salesdesk.extensions import db
from salesdesk.recognition.models import PointEntry
from tests.fixtures.ledger import make_customer
from tests.fixtures.recognition import (
    award,
    entry_count,
    gift_form,
    points_of,
    thank,
)

pytestmark = pytest.mark.usefixtures("mid_november")


def award_form(recipient, points="20", **overrides):
    return gift_form(recipient, points, **overrides)


def html(response):
    return response.get_data(as_text=True)


# ---- the award form -------------------------------------------------------------------


def test_a_manager_sees_the_form_with_the_remaining_budget(client_as, world):
    for points in (50, 50, 20):
        award(world.manager_a, world.rep_b, points)
    page = client_as(world.manager_a).get("/recognition/award")
    assert page.status_code == 200
    text = html(page)
    assert "本月剩余" in text and "380 / 500 积分" in text
    assert "每次奖励最多 50 积分。" in text
    assert f'value="{world.manager_a.id}"' not in text  # not offered to themselves
    assert "张三 · 华东大区" in text


def test_a_manager_awards_points_and_is_sent_to_the_feed(client_as, world):
    manager = client_as(world.manager_a)
    response = manager.post("/recognition/award", data=award_form(world.rep_a))
    assert response.status_code == 303 and response.headers["Location"] == "/recognition"
    entry = db.session.scalars(select(PointEntry)).one()
    assert (entry.giver_id, entry.recipient_id, entry.points) == (world.manager_a.id, world.rep_a.id, 20)
    feed = manager.get("/recognition")
    assert "你给 张三 奖励了 20 积分。" in html(feed)


@pytest.mark.parametrize("role", ["rep_a", "support_a"])
def test_reps_and_support_cannot_award_over_http(client_as, world, role):
    client = client_as(getattr(world, role))
    assert client.get("/recognition/award").status_code == 403
    response = client.post("/recognition/award", data=award_form(world.rep_a2))
    assert response.status_code == 403
    assert entry_count() == 0
    assert 'href="/recognition/award"' not in html(client.get("/leaderboard"))


def test_self_award_is_refused_with_a_message(client_as, world):
    response = client_as(world.manager_a).post("/recognition/award", data=award_form(world.manager_a))
    assert response.status_code == 422 and "不能给自己积分。" in html(response)
    assert entry_count() == 0


@pytest.mark.parametrize(
    ("points", "message"),
    [
        ("51", "积分必须是 1 到 50 之间的整数。"),
        ("0", "积分必须是 1 到 50 之间的整数。"),
        ("-20", "积分必须是 1 到 50 之间的整数。"),
        ("99999999999999999999999999", "积分必须是 1 到 50 之间的整数。"),
        ("9" * 5000, None),
        ("abc", None),
        ("2.5", None),
        ("", "积分请输入整数。"),
    ],
)
def test_bad_points_are_refused_and_nothing_is_written(client_as, world, points, message):
    response = client_as(world.manager_a).post(
        "/recognition/award", data=award_form(world.rep_a, points=points)
    )
    assert response.status_code == 422
    if message:
        assert message in html(response)
    assert entry_count() == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("recipient_id", "999999", "该同事不存在。"),
        ("recipient_id", "abc", None),
        ("recipient_id", "", "请选择同事。"),
        ("category", "bribe", "请选择类别。"),
        ("reason", "", "请填写理由。"),
        ("reason", "长" * 501, "理由最多 500 个字符。"),
        ("customer_id", "999999", "该客户不存在。"),
        ("customer_id", "x", None),
    ],
)
def test_bad_fields_are_refused_with_a_message(client_as, world, field, value, message):
    response = client_as(world.manager_a).post(
        "/recognition/award", data=award_form(world.rep_a, **{field: value})
    )
    assert response.status_code == 422
    if message:
        assert message in html(response)
    assert entry_count() == 0


def test_a_forged_giver_is_ignored(client_as, world):
    data = award_form(world.rep_a, giver_id=str(world.manager_b.id), kind="auto", points="10")
    assert client_as(world.manager_a).post("/recognition/award", data=data).status_code == 303
    entry = db.session.scalars(select(PointEntry)).one()
    assert (entry.giver_id, entry.kind) == (world.manager_a.id, "award")


def test_the_budget_is_enforced_over_http(client_as, world):
    manager = client_as(world.manager_a)
    for _ in range(10):
        assert (
            manager.post("/recognition/award", data=award_form(world.rep_a, points="50")).status_code == 303
        )
    response = manager.post("/recognition/award", data=award_form(world.rep_a2, points="1"))
    assert response.status_code == 422
    assert "预算不足：本月 500 积分预算只剩 0。" in html(response)
    assert points_of(world.rep_a2) == 0


def test_the_customer_page_action_prefills_and_links_the_customer(client_as, world):
    customer = make_customer(world.rep_a, collaborators=[world.rep_a2])
    manager = client_as(world.manager_a)
    query = f"customer_id={customer.id}&recipient_id={world.rep_a2.id}&next=/customers/{customer.id}"
    page = html(manager.get(f"/recognition/award?{query}"))
    assert "客户：苏州恒达精密机械有限公司" in page
    assert f'<option selected value="{world.rep_a2.id}">' in page
    assert f'name="customer_id" type="hidden" value="{customer.id}"' in page
    response = manager.post(
        "/recognition/award",
        data=award_form(world.rep_a2, customer_id=str(customer.id), next=f"/customers/{customer.id}"),
    )
    assert response.status_code == 303 and response.headers["Location"] == f"/customers/{customer.id}"
    assert db.session.scalars(select(PointEntry.customer_id)).one() == customer.id
    assert "客户：苏州恒达精密机械有限公司" in html(manager.get("/recognition"))


def test_unknown_customers_and_foreign_redirects(client_as, world):
    manager = client_as(world.manager_a)
    assert manager.get("/recognition/award?customer_id=999999").status_code == 404
    assert manager.get("/recognition/award?customer_id=abc&recipient_id=xyz").status_code == 200
    trashed = make_customer(world.admin, pool=True, deleted=True)
    assert manager.get(f"/recognition/award?customer_id={trashed.id}").status_code == 404
    response = manager.post("/recognition/award", data=award_form(world.rep_a, next="//evil.example/x"))
    assert response.headers["Location"] == "/recognition"


def test_the_award_form_works_with_htmx(client_as, world):
    manager = client_as(world.manager_a)
    response = manager.post("/recognition/award", data=award_form(world.rep_a), htmx=True)
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/recognition"
    refused = manager.post("/recognition/award", data=award_form(world.manager_a), htmx=True)
    assert refused.status_code == 422


def test_without_csrf_nothing_is_written(client_as, world):
    response = client_as(world.manager_a).post("/recognition/award", data=award_form(world.rep_a), csrf=False)
    assert response.status_code == 400
    assert entry_count() == 0


# ---- the thanks form -------------------------------------------------------------------


def thanks_form(recipient, points="3", **overrides):
    return gift_form(recipient, points, **{"category": "knowledge", "reason": "谢谢分享", **overrides})


def test_everyone_thanks_colleagues(client_as, world):
    rep = client_as(world.rep_a)
    page = html(rep.get(f"/recognition/thank?recipient_id={world.rep_a2.id}"))
    assert "本月剩余感谢额度" in page and "20 / 20 积分" in page
    assert "每周最多感谢同一位同事 2 次。" in page
    response = rep.post("/recognition/thank", data=thanks_form(world.rep_a2))
    assert response.status_code == 303
    assert "你感谢了 李四，送出 3 积分。" in html(rep.get("/recognition"))
    assert points_of(world.rep_a2) == 3


@pytest.mark.parametrize(("points", "status"), [("6", 422), ("0", 422), ("-1", 422), ("x", 422), ("5", 303)])
def test_thanks_points_are_1_to_5(client_as, world, points, status):
    response = client_as(world.rep_a).post(
        "/recognition/thank", data=thanks_form(world.rep_a2, points=points)
    )
    assert response.status_code == status


def test_thanks_limits_over_http(client_as, world):
    rep = client_as(world.rep_a)
    assert rep.post("/recognition/thank", data=thanks_form(world.rep_a2, points="1")).status_code == 303
    assert rep.post("/recognition/thank", data=thanks_form(world.rep_a2, points="1")).status_code == 303
    third = rep.post("/recognition/thank", data=thanks_form(world.rep_a2, points="1"))
    assert third.status_code == 422 and "你本周已感谢 李四 2 次，每周上限为 2 次。" in html(third)
    for colleague in (world.support_a, world.manager_a, world.rep_b):
        assert rep.post("/recognition/thank", data=thanks_form(colleague, points="5")).status_code == 303
    over = rep.post("/recognition/thank", data=thanks_form(world.manager_b, points="4"))
    assert over.status_code == 422 and "感谢额度不足：本月 20 积分额度只剩 3。" in html(over)
    self_thanks = rep.post("/recognition/thank", data=thanks_form(world.rep_a, points="1"))
    assert self_thanks.status_code == 422 and "不能给自己积分。" in html(self_thanks)


# ---- reversal ---------------------------------------------------------------------------


def test_an_administrator_reverses_an_entry_from_its_page(client_as, world):
    entry = award(world.manager_a, world.rep_a, 30)
    admin = client_as(world.admin)
    page = html(admin.get(f"/recognition/entries/{entry.id}"))
    assert "撤销这条记录" in page and "撤销 30 积分" in page
    assert admin.post(f"/recognition/entries/{entry.id}/reverse", data={"reason": ""}).status_code == 422
    response = admin.post(f"/recognition/entries/{entry.id}/reverse", data={"reason": "重复发放"})
    assert response.status_code == 303 and response.headers["Location"] == f"/recognition/entries/{entry.id}"
    assert points_of(world.rep_a) == 0
    page = html(admin.get(f"/recognition/entries/{entry.id}"))
    assert "已撤销" in page and "重复发放" in page and "撤销这条记录" not in page
    again = admin.post(f"/recognition/entries/{entry.id}/reverse", data={"reason": "再来一次"})
    assert again.status_code == 409 and "该记录已被撤销过。" in html(again)
    assert "已撤销" in html(client_as(world.rep_b).get("/recognition"))


@pytest.mark.parametrize("role", ["manager_a", "rep_a", "support_a"])
def test_only_administrators_reverse(client_as, world, role):
    entry = award(world.manager_a, world.rep_a2, 30)
    client = client_as(getattr(world, role))
    assert "撤销这条记录" not in html(client.get(f"/recognition/entries/{entry.id}"))
    assert client.post(f"/recognition/entries/{entry.id}/reverse", data={"reason": "x"}).status_code == 403
    assert points_of(world.rep_a2) == 30


def test_unknown_entries_are_404(client_as, world):
    admin = client_as(world.admin)
    assert admin.get("/recognition/entries/999999").status_code == 404
    assert admin.get("/recognition/entries/abc").status_code == 404
    assert admin.post("/recognition/entries/999999/reverse", data={"reason": "x"}).status_code == 404


# ---- settings ---------------------------------------------------------------------------


def settings_form(**overrides):
    return {
        "award_monthly_budget": "300",
        "award_max_points": "30",
        "thanks_monthly_budget": "20",
        "thanks_max_points": "5",
        "thanks_per_colleague_weekly": "2",
        "helpful_enabled": "y",
        "helpful_points": "1",
        "helpful_monthly_cap": "5",
        "won_points": "10",
        **overrides,
    }


def test_administrators_change_settings(client_as, world):
    admin = client_as(world.admin)
    assert "每位经理的月度预算" in html(admin.get("/recognition/settings"))
    assert admin.post("/recognition/settings", data=settings_form()).status_code == 303
    page = html(client_as(world.manager_a).get("/recognition/award"))
    assert "300 / 300 积分" in page and "每次奖励最多 30 积分。" in page
    bad = admin.post("/recognition/settings", data=settings_form(award_max_points="0"))
    assert bad.status_code == 422 and "请输入 1 到 10000 之间的整数。" in html(bad)
    assert admin.post("/recognition/settings", data=settings_form(won_points="lots")).status_code == 422
    audit = html(admin.get("/admin/audit"))
    assert "修改积分设置" in audit


@pytest.mark.parametrize("role", ["manager_a", "rep_a"])
def test_settings_are_for_administrators(client_as, world, role):
    client = client_as(getattr(world, role))
    assert client.get("/recognition/settings").status_code == 403
    assert (
        client.post("/recognition/settings", data=settings_form(award_max_points="5000")).status_code == 403
    )
    thank(world.rep_a2, world.rep_b)  # still the defaults
