"""A rep creates a customer, sees the duplicate warning appear while typing, and logs
a follow-up on the customer page without leaving it."""

from playwright.sync_api import expect

from tests.fixtures.ledger import make_customer
from tests.helpers import browser_login


def test_create_with_live_duplicate_check_then_log_a_follow_up(page, world):
    make_customer(world.rep_b, "深圳市腾飞科技有限公司", phone="13800138000")
    browser_login(page, "rep.a@test.example")
    page.goto("/customers/new")
    expect(page.locator("#duplicate-check")).to_contain_text("实时在台账中查重")

    # Another spelling of an existing company: the block appears while typing.
    page.fill("#name", "腾飞科技（深圳）有限公司")
    block = page.locator(".duplicate-block")
    expect(block).to_contain_text("台账中已有该客户")
    expect(block).to_contain_text("深圳市腾飞科技有限公司")
    expect(block).to_contain_text("王五")

    # A new company: the block goes away.
    page.fill("#name", "宁波海港物流有限公司")
    expect(page.locator(".duplicate-ok")).to_be_visible()
    # Its phone belongs to the existing customer: blocked again, while typing.
    page.fill("#contact_name", "周总")
    page.fill("#contact_phone", "+86 138 0013 8000")
    expect(block).to_contain_text("电话相同")
    page.fill("#contact_phone", "13655556666")
    expect(page.locator(".duplicate-ok")).to_be_visible()

    page.click("text=创建客户")
    page.wait_for_url("**/customers/*")
    expect(page.locator("h1")).to_have_text("宁波海港物流有限公司")
    url = page.url

    page.select_option("#channel", "visit")
    page.fill("#content", "上门拜访周总，了解仓储需求")
    page.fill("#next_step", "下周发方案")
    page.click("text=记录跟进")
    expect(page.locator(".timeline")).to_contain_text("上门拜访周总，了解仓储需求")
    expect(page.locator("#toasts")).to_contain_text("跟进记录已保存")
    assert page.url == url  # no page load: htmx swapped the activity
    expect(page.locator("#content")).to_have_value("")


def test_customer_list_search_as_you_type(page, world):
    make_customer(world.rep_a, "华为科技有限公司")
    make_customer(world.rep_a, "阿里巴巴网络技术有限公司")
    browser_login(page, "rep.a@test.example")
    page.goto("/customers")
    page.fill("input[name=q]", "hwkj")
    expect(page.locator("#results tbody tr")).to_have_count(1)
    expect(page.locator("#results")).to_contain_text("华为科技有限公司")
    assert "q=hwkj" in page.url
