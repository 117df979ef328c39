"""The page shell on phones, as HTML: the bottom tab bar and its 我的 sheet per role, the
customer page's action bar (masked phones never linked), required marks and the focus
on the first invalid field after a refused form."""

import re

from tests.fixtures.ledger import contact_form, follow_up_form, make_customer
from tests.fixtures.recognition import award


def tabbar(html):
    return html[html.index('<nav class="tabbar"') : html.index("</nav>", html.index('<nav class="tabbar"'))]


def action_bar(html):
    start = html.find('<nav class="action-bar"')
    return "" if start < 0 else html[start : html.index("</nav>", start)]


def test_tab_bar_marks_the_current_tab_and_holds_the_rest_under_me(client_as, world):
    html = client_as(world.rep_a).get("/customers").get_data(as_text=True)
    bar = tabbar(html)
    tabs = re.findall(r'class="tab"[^>]*>.*?<span>(.*?)</span>', bar, re.S)
    assert tabs == ["工作台", "客户台账", "公海", "消息", "我的"]
    assert re.search(r'href="/customers" aria-current="page"', bar)
    sheet = bar[bar.index('class="sheet"') :]
    for name in ("撞单", "知识库", "排行榜", "我的账号", "退出登录", "English"):
        assert name in sheet
    assert "系统管理" not in sheet
    # The language switch is drawn twice (top bar, 我的): its hidden fields carry no ids.
    assert 'id="csrf_token"' not in html and 'id="next"' not in html


def test_me_is_current_on_its_pages_and_lists_administration_for_admins(client_as, world):
    html = client_as(world.admin).get("/admin/users").get_data(as_text=True)
    bar = tabbar(html)
    assert re.search(r'<summary class="tab" aria-current="true">', bar)
    assert re.search(r'href="/admin/users" aria-current="page"', bar)
    assert 'aria-current="page"' not in bar[: bar.index("<details")]


def test_unread_count_on_the_messages_tab(client_as, world):
    award(world.manager_a, world.rep_a)  # points received: a notification
    html = client_as(world.rep_a).get("/").get_data(as_text=True)
    count = '<span aria-hidden="true">1</span><span class="visually-hidden">1 条未读通知'
    assert '<span class="tab-count">' + count in tabbar(html)


def test_no_tab_bar_when_logged_out(client):
    assert 'class="tabbar"' not in client.get("/login").get_data(as_text=True)


def test_action_bar_calls_the_owner_s_visible_phone(client_as, world):
    customer = make_customer(world.rep_a, phone="13800138000")
    bar = action_bar(client_as(world.rep_a).get(f"/customers/{customer.id}").get_data(as_text=True))
    assert 'href="tel:13800138000"' in bar
    assert 'href="#activity"' in bar and 'href="#change-stage"' in bar


def test_masked_phones_are_never_linked(client_as, world):
    customer = make_customer(world.rep_a, phone="13800138000")
    html = client_as(world.rep_a2).get(f"/customers/{customer.id}").get_data(as_text=True)
    assert "13800138000" not in html and "tel:" not in html
    assert "拨打" not in action_bar(html)


def test_required_fields_are_marked(client_as, world):
    customer = make_customer(world.rep_a)
    html = client_as(world.rep_a).get(f"/customers/{customer.id}/contacts/new").get_data(as_text=True)
    mark = r'<span class="required-mark" aria-hidden="true">\*</span>'
    assert re.search(rf'<label for="name">联系人{mark}</label>', html)
    assert re.search(r'<input[^>]*id="name"[^>]*required', html)
    assert re.search(r'<label for="title">[^<]+</label>', html)  # optional: no mark


def test_a_refused_form_focuses_its_first_invalid_field(client_as, world):
    customer = make_customer(world.rep_a)
    client = client_as(world.rep_a)
    response = client.post(
        f"/customers/{customer.id}/contacts/new", data=contact_form(email="not-an-address", phone="x" * 200)
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    focused = re.findall(r"<input[^>]*\bautofocus\b[^>]*>", html)
    assert len(focused) == 1 and 'id="name"' in focused[0]

    # An htmx submission gets the fragment, its first invalid field focused too.
    response = client.post(f"/customers/{customer.id}/follow-ups", data=follow_up_form(content=""), htmx=True)
    html = response.get_data(as_text=True)
    assert "<html" not in html
    assert re.findall(r"<textarea[^>]*\bautofocus\b[^>]*>", html) and 'aria-invalid="true"' in html
