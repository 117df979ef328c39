"""A rep claims from the pool and a second rep is refused; a manager arbitrates a
collision report."""

from playwright.sync_api import expect

from tests.fixtures.ledger import make_customer
from tests.helpers import browser_login


def test_claim_race_in_two_browsers(browser, live_server, page, world):
    customer = make_customer(world.manager_a, "公海精选贸易有限公司", phone="13600001111", pool=True)
    browser_login(page, "rep.a@test.example")
    page.goto("/pool")
    row = page.locator(f"#pool-{customer.id}")
    expect(row).to_contain_text("136****1111")

    # A second rep has the pool open too.
    other_context = browser.new_context(base_url=live_server)
    other = other_context.new_page()
    browser_login(other, "rep.a2@test.example")
    other.goto("/pool")

    row.locator("button", has_text="领取").click()
    expect(page.locator(f"#pool-{customer.id}")).to_contain_text("已领取")
    expect(page.locator("#toasts")).to_contain_text("已归你负责")

    other.locator(f"#pool-{customer.id} button", has_text="领取").click()
    expect(other.locator("#toasts")).to_contain_text("已被 张三 领取")
    other_context.close()
    page.reported_errors.clear()  # the refused claim is a 409 in the console of the other page only

    page.goto(f"/customers/{customer.id}")
    expect(page.locator(".contact")).to_contain_text("13600001111")
    expect(page.locator("#protection")).to_contain_text("回收到公海")


def test_manager_arbitrates_a_collision(page, world, client_as):
    customer = make_customer(world.rep_a, "宁波海港物流有限公司")
    client_as(world.rep_b).post(f"/customers/{customer.id}/collision", data={"reason": "去年展会就认识周总"})
    browser_login(page, "manager.a@test.example")
    page.goto("/collisions")
    page.click("text=宁波海港物流有限公司")
    expect(page.locator("h1")).to_contain_text("撞单申诉")
    expect(page.locator(".evidence-grid")).to_contain_text("张三")
    expect(page.locator(".evidence-grid")).to_contain_text("王五")
    page.check("input[value=transfer]")
    page.fill("#note", "申诉人接触更早")
    page.click("text=保存裁决")
    expect(page.locator(".decided")).to_contain_text("转给申诉人")
    expect(page.locator("#toasts, .flashes").first).to_be_visible()
