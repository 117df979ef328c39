"""The trade-name (字号) warning of the duplicate check, as the new-customer and edit
forms show it: while typing (htmx), on submit without JavaScript, right under the name."""

import re

import pytest
from sqlalchemy import func, select

from salesdesk.extensions import db
from salesdesk.ledger import followups
from salesdesk.ledger.models import Customer
from tests.fixtures.ledger import make_customer, new_customer_form
from tests.web.test_ledger_customers import edit_form


def html_of(response):
    return response.get_data(as_text=True)


def customers():
    return db.session.scalar(select(func.count()).select_from(Customer))


@pytest.fixture
def zhehong(world):
    customer = make_customer(world.rep_b, "金华浙宏自动化设备有限公司", stage="qualified")
    followups.log_follow_up(world.rep_b, customer.id, channel="phone", content="约了下周演示")
    return customer


TYPED = ["浙宏", "金华浙宏", "浙宏自动化", "浙宏自动化 (金华)", "浙宏自动化（金华）"]


@pytest.mark.parametrize("typed", TYPED)
def test_the_live_check_warns_of_the_same_trade_name(client_as, world, zhehong, typed):
    response = client_as(world.rep_a).post(
        "/customers/duplicates", data={"name": typed, "kind": "company"}, htmx=True
    )
    html = html_of(response)
    assert response.status_code == 200 and "<html" not in html  # the fragment only
    assert "相似客户" in html and "暂未发现重复客户" not in html
    assert "金华浙宏自动化设备有限公司" in html
    assert "字号相同：浙宏" in html
    assert "王五" in html  # the owner
    assert "需求确认" in html  # the stage
    assert "最近跟进" in html and "暂无" not in html  # the last follow-up date


@pytest.mark.parametrize("typed", ["浙", "浙宏贸易（温州）有限公司", "杭州浙宏科技", "恒达自动化设备"])
def test_another_company_or_a_single_character_finds_nothing(client_as, world, zhehong, typed):
    response = client_as(world.rep_a).post(
        "/customers/duplicates", data={"name": typed, "kind": "company"}, htmx=True
    )
    assert "暂未发现重复客户" in html_of(response)


def test_a_trade_name_inside_another_says_which(client_as, world, zhehong):
    response = client_as(world.rep_a).post(
        "/customers/duplicates", data={"name": "浙宏精工", "kind": "company"}, htmx=True
    )
    assert "金华浙宏自动化设备有限公司" in html_of(response)
    assert "字号相近：都含“浙宏”" in html_of(response)


def test_a_trashed_customer_with_the_trade_name_does_not_warn(client_as, world, zhehong):
    client_as(world.admin).post(f"/customers/{zhehong.id}/delete")
    response = client_as(world.rep_a).post(
        "/customers/duplicates", data={"name": "浙宏", "kind": "company"}, htmx=True
    )
    assert "暂未发现重复客户" in html_of(response)


def test_without_javascript_the_form_warns_under_the_name_and_creates_once_confirmed(
    client_as, world, zhehong
):
    rep = client_as(world.rep_a)
    warned = rep.post("/customers/new", data=new_customer_form(name="浙宏自动化（金华）"))
    html = html_of(warned)
    assert warned.status_code == 422 and customers() == 1
    assert "金华浙宏自动化设备有限公司" in html and "字号相同：浙宏" in html
    # Right after the name field, before the next field (the credit code).
    name_input = html.index('id="name"')
    assert (
        name_input
        < html.index('id="duplicate-check"')
        < html.index("confirm_similar")
        < html.index('id="credit_code"')
    )
    confirmed = rep.post(
        "/customers/new", data=new_customer_form(name="浙宏自动化（金华）", confirm_similar="y")
    )
    assert confirmed.status_code == 303 and customers() == 2


def test_the_new_customer_page_holds_the_live_region_under_the_name(client_as, world):
    html = html_of(client_as(world.rep_a).get("/customers/new"))
    between = html[html.index('id="name"') : html.index('id="credit_code"')]
    assert 'id="duplicate-check"' in between
    assert re.search(r'<aside class="form-side">\s*<div class="form-actions', html)  # not in the side column


def test_an_edit_to_the_trade_name_of_another_warns_under_the_name(client_as, world, zhehong):
    other = make_customer(world.rep_a, "宁波海港物流有限公司")
    rep = client_as(world.rep_a)
    warned = rep.post(f"/customers/{other.id}/edit", data=edit_form(other, name="浙宏自动化（杭州）分公司"))
    html = html_of(warned)
    assert warned.status_code == 422 and "字号相同：浙宏" in html
    assert html.index('id="name"') < html.index("金华浙宏自动化设备有限公司") < html.index('id="credit_code"')
    db.session.refresh(other)
    assert other.name == "宁波海港物流有限公司"


def test_a_customer_is_never_warned_of_itself(client_as, world, zhehong):
    rep_b = client_as(world.rep_b)
    saved = rep_b.post(f"/customers/{zhehong.id}/edit", data=edit_form(zhehong, notes="年底有预算"))
    assert saved.status_code == 303
