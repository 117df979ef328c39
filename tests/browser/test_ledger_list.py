"""The customer list in a real browser: it fits 1,366 px without the page scrolling
sideways, the view switcher and the column chooser work, and a phone shows each
customer as a three-line card with the filters in a drawer."""

from playwright.sync_api import expect

from tests.fixtures.ledger import make_customer
from tests.helpers import browser_login

DESK = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
LONG_NAME = "金华浙宏自动化设备制造与进出口贸易集团股份有限公司华东区域营销服务分公司"


def page_width(page):
    return page.evaluate("document.documentElement.scrollWidth")


def test_the_list_fits_a_desk_and_switches_views_and_columns(page, world):
    make_customer(world.rep_a, LONG_NAME, phone="13800138000", expected_amount="1280000")
    make_customer(world.rep_b, "外队的客户有限公司")
    page.set_viewport_size(DESK)
    browser_login(page, "rep.a@test.example")
    page.goto("/customers")
    assert page_width(page) <= DESK["width"]
    # Every default column is inside the card: nothing hidden off to the right.
    card = page.locator(".customers-scroll").bounding_box()
    last = page.locator(".customers-table thead th").last.bounding_box()
    assert last["x"] + last["width"] <= card["x"] + card["width"] + 1
    # One line per name, the whole name on hover.
    name = page.locator(".customer-name").first
    assert name.bounding_box()["height"] < 30
    expect(name).to_have_attribute("title", LONG_NAME)
    expect(page.locator(".customers-table")).to_contain_text("¥128万")
    # The view switcher: a rep opens on their own customers.
    expect(page.locator(".customers-table")).not_to_contain_text("外队的客户有限公司")
    page.click(".view-switcher >> text=全部")
    page.wait_for_url("**/customers?view=all")
    expect(page.locator(".customers-table")).to_contain_text("外队的客户有限公司")
    # Sorted in place by htmx, the switcher's links take the sort along.
    page.click(".customers-table thead >> text=客户")
    expect(page.locator(".view-switcher >> text=我负责的")).to_have_attribute("href", "/customers?sort=name")
    # The column chooser: add 等级, drop 联系人; the list redraws in place and remembers.
    page.click(".column-chooser summary")
    page.check(".column-chooser input[value=grade]")
    page.uncheck(".column-chooser input[value=contact]")
    page.click(".column-chooser button:has-text('保存')")
    head = page.locator(".customers-table thead")
    expect(head).to_contain_text("等级")
    expect(head).not_to_contain_text("联系人")
    page.goto("/customers")
    expect(page.locator(".customers-table thead")).to_contain_text("等级")


def test_the_header_and_names_stay_in_view_while_scrolling(page, world):
    for number in range(30):
        make_customer(world.rep_a, f"滚动测试{number:02d}号有限公司")
    page.set_viewport_size(DESK)
    browser_login(page, "rep.a@test.example")
    page.goto("/customers")
    scroller = page.locator(".customers-scroll")
    header_before = page.locator(".customers-table thead th").first.bounding_box()["y"]
    scroller.evaluate("element => element.scrollTop = 600")
    assert abs(page.locator(".customers-table thead th").first.bounding_box()["y"] - header_before) < 2


def test_a_phone_shows_three_line_cards_and_a_filter_drawer(page, world):
    for number in range(5):
        make_customer(world.rep_a, f"手机卡片{number}号有限公司", phone=f"1380013800{number}")
    page.set_viewport_size(PHONE)
    browser_login(page, "rep.a@test.example")
    page.goto("/customers")
    assert page_width(page) <= PHONE["width"]
    row = page.locator(".customers-table tbody tr").first
    # name / stage · owner / next follow-up: three lines, the contact not among them.
    assert row.bounding_box()["height"] < 110
    expect(row.locator(".col-stage")).to_be_visible()
    expect(row.locator(".col-owner")).to_be_visible()
    expect(row.locator(".col-next_follow_up")).to_be_visible()
    expect(row.locator(".col-contact")).to_be_hidden()
    # The filters wait behind one button and open as a drawer at the bottom.
    stage = page.locator("select[name=stage]")
    expect(stage).to_be_hidden()
    page.click(".filter-drawer summary")
    expect(stage).to_be_visible()
    drawer = page.locator(".filter-drawer-body").bounding_box()
    assert drawer["y"] + drawer["height"] <= PHONE["height"] + 1
    stage.select_option("won")
    expect(page.locator("#results")).to_contain_text("没有符合条件的客户")


def test_a_manager_ticks_customers_on_two_pages_and_assigns_them_together(app, page, world):
    from salesdesk.extensions import db
    from salesdesk.ledger.models import Customer

    app.config["PAGE_SIZE"] = 2
    pooled = [make_customer(world.manager_a, f"勾选公海{n}号有限公司", pool=True) for n in range(4)]
    page.set_viewport_size(DESK)
    browser_login(page, "manager.a@test.example")
    page.goto("/customers?view=pool&sort=name&direction=asc")
    count = page.locator(".selected-count")
    page.check(".select-page")  # the whole page: two customers
    expect(count).to_have_text("已选 2 个")
    page.click(".pagination >> text=下一页")
    page.wait_for_url("**page=2**")
    page.locator('input[name="customer_ids"]').first.check()
    expect(count).to_have_text("已选 3 个")
    # The bar stays on screen under the list.
    bar = page.locator("#bulk-assign").bounding_box()
    assert bar["y"] + bar["height"] <= DESK["height"] + 1
    page.select_option("#bulk-user", str(world.rep_a.id))
    page.fill("#bulk-reason", "重新分配")
    page.click("#bulk-assign button[type=submit]")
    expect(page.locator(".flash-success")).to_contain_text("已分配 3 个客户")
    db.session.rollback()  # a new snapshot: the server wrote in another connection
    owners = [db.session.get(Customer, customer.id).owner_id for customer in pooled]
    assert sorted(owner is not None for owner in owners) == [False, True, True, True]
