"""On a phone (390×844): the bottom tab bar replaces the side menu, 我的 holds the other
sections and the account (with and without JavaScript), and the customer page keeps
call / log a follow-up / change stage in a fixed bar. On a desktop neither bar shows."""

import pytest
from playwright.sync_api import expect

from tests.fixtures.ledger import make_customer
from tests.helpers import browser_login

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}
MIN_TAP = 44


@pytest.fixture
def phone_page(browser, live_server):
    def open_page(viewport=PHONE, javascript=True):
        context = browser.new_context(base_url=live_server, viewport=viewport, java_script_enabled=javascript)
        context.set_default_timeout(10_000)
        opened.append(context)
        page = context.new_page()
        page.reported_errors = []
        page.on("pageerror", lambda error: page.reported_errors.append(str(error)))
        return page

    opened = []
    yield open_page
    for context in opened:
        assert not context.pages or not context.pages[0].reported_errors, context.pages[0].reported_errors
        context.close()


def box(locator):
    return locator.bounding_box()


def assert_fixed_and_inside(page, locator):
    """Visible, position: fixed, wholly inside the viewport."""
    expect(locator).to_be_visible()
    assert locator.evaluate("element => getComputedStyle(element).position") == "fixed"
    frame, viewport = box(locator), page.viewport_size
    assert frame["x"] >= 0 and frame["y"] >= 0
    assert frame["x"] + frame["width"] <= viewport["width"] + 0.5
    assert frame["y"] + frame["height"] <= viewport["height"] + 0.5
    return frame


def assert_tappable(locator):
    for index in range(locator.count()):
        target = locator.nth(index)
        frame = box(target)
        assert frame["width"] >= MIN_TAP and frame["height"] >= MIN_TAP, (target.inner_text(), frame)


def test_tab_bar_on_a_phone(phone_page, world):
    page = phone_page()
    browser_login(page, "rep.a@test.example")
    tabbar = page.locator("nav.tabbar")
    frame = assert_fixed_and_inside(page, tabbar)
    assert frame["y"] + frame["height"] == pytest.approx(PHONE["height"], abs=1)  # at the bottom
    expect(page.locator("nav.sidenav")).to_be_hidden()

    tabs = tabbar.locator(".tab")
    expect(tabs).to_have_text(["工作台", "客户台账", "公海", "消息", "我的"])
    assert_tappable(tabs)
    expect(tabbar.locator("[aria-current=page]")).to_have_text("工作台")

    # Still there, and marking the right tab, after scrolling a long page.
    page.click("nav.tabbar >> text=客户台账")
    page.wait_for_url("**/customers")
    page.mouse.wheel(0, 3000)
    assert_fixed_and_inside(page, tabbar)
    expect(tabbar.locator("[aria-current=page]")).to_have_text("客户台账")

    # 我的: the other sections and the account, over the page.
    page.click("nav.tabbar summary")
    sheet = tabbar.locator(".sheet")
    assert_fixed_and_inside(page, sheet)
    for name in ("撞单", "知识库", "排行榜", "我的账号", "退出登录"):
        expect(sheet).to_contain_text(name)
    expect(sheet).not_to_contain_text("系统管理")  # a rep is no administrator
    page.click(".sheet >> text=知识库")
    page.wait_for_url("**/kb/")
    expect(tabbar.locator("summary")).to_have_attribute("aria-current", "true")
    page.click("nav.tabbar summary")
    expect(sheet.locator("a[aria-current=page]")).to_have_text("知识库")
    page.keyboard.press("Escape")
    expect(sheet).to_be_hidden()


def test_the_sheet_opens_without_javascript_and_lists_administration_for_admins(phone_page, world):
    page = phone_page(javascript=False)
    browser_login(page, "admin@test.example")
    page.click("nav.tabbar summary")
    sheet = page.locator("nav.tabbar .sheet")
    expect(sheet).to_be_visible()
    page.click(".sheet >> text=系统管理")
    page.wait_for_url("**/admin/users")
    page.click("nav.tabbar summary")
    page.click(".sheet >> text=退出登录")
    page.wait_for_url("**/login")


def test_desktop_keeps_its_side_menu(phone_page, world):
    page = phone_page(viewport=DESKTOP)
    browser_login(page, "rep.a@test.example")
    expect(page.locator("nav.sidenav")).to_be_visible()
    expect(page.locator("nav.tabbar")).to_be_hidden()
    expect(page.locator("details.menu summary .menu-name")).to_have_text("张三")


def test_customer_action_bar_on_a_phone(phone_page, world):
    customer = make_customer(world.rep_a, phone="13800138000", stage="negotiating")
    page = phone_page()
    browser_login(page, "rep.a@test.example")
    page.goto(f"/customers/{customer.id}")

    bar = page.locator("nav.action-bar")
    frame = assert_fixed_and_inside(page, bar)
    tabbar = box(page.locator("nav.tabbar"))
    assert frame["y"] + frame["height"] <= tabbar["y"] + 0.5  # above the tab bar, not under it
    actions = bar.locator(".action")
    expect(actions).to_have_text(["拨打 王总 13800138000", "记录跟进", "改阶段"])
    assert_tappable(actions)
    expect(bar.locator("a[href^='tel:']")).to_have_attribute("href", "tel:13800138000")

    # Stays put while the page scrolls; its links bring the forms into view.
    page.mouse.wheel(0, 2000)
    assert_fixed_and_inside(page, bar)
    page.click("nav.action-bar >> text=改阶段")
    expect(page.locator("#stage")).to_be_in_viewport()
    page.click("nav.action-bar >> text=记录跟进")
    expect(page.locator("#content")).to_be_in_viewport()


def test_several_phones_open_a_list_to_call(phone_page, world):
    customer = make_customer(world.rep_a, phone="13800138000")
    page = phone_page()
    browser_login(page, "rep.a@test.example")
    page.goto(f"/customers/{customer.id}/contacts/new")
    page.fill("#name", "李经理")
    page.fill("#phone", "13911112222")
    page.click("main form button[type=submit]")
    page.wait_for_url(f"**/customers/{customer.id}")

    page.click("nav.action-bar summary")
    numbers = page.locator(".call-sheet a")
    expect(numbers).to_have_count(2)
    assert sorted(numbers.evaluate_all("links => links.map(link => link.href)")) == [
        "tel:13800138000",
        "tel:13911112222",
    ]
    assert_tappable(numbers)
    assert_fixed_and_inside(page, page.locator(".call-sheet"))


def test_no_action_bar_on_a_desktop(phone_page, world):
    customer = make_customer(world.rep_a, phone="13800138000")
    page = phone_page(viewport=DESKTOP)
    browser_login(page, "rep.a@test.example")
    page.goto(f"/customers/{customer.id}")
    expect(page.locator("nav.action-bar")).to_be_hidden()
