"""A rep claims from the pool and a second rep is refused; a manager arbitrates a
collision report."""

import pytest
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


def _overlap(a, b):
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and (a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"])
    )


@pytest.mark.parametrize("size", [(1366, 768), (390, 844)], ids=["desktop", "phone"])
def test_a_claim_updates_count_and_standing_and_the_toast_leaves_the_buttons_free(page, world, size):
    customers = [
        make_customer(world.manager_a, f"公海{n}号精密机械有限公司", phone=f"1360000{n:04d}", pool=True)
        for n in range(12)
    ]
    page.set_viewport_size({"width": size[0], "height": size[1]})
    browser_login(page, "rep.a@test.example")
    page.goto("/pool")
    expect(page.locator("#claim-standing")).to_contain_text("今日已领 0/20 · 保有 0/200")
    expect(page.locator("#pool-count")).to_contain_text("公海共 12 个客户")

    first = page.locator(f"#pool-{customers[0].id}")
    first.scroll_into_view_if_needed()
    first.locator("button", has_text="领取").click()
    expect(first).to_contain_text("已领取")
    expect(page.locator("#pool-count")).to_contain_text("公海共 11 个客户")
    expect(page.locator("#claim-standing")).to_contain_text("今日已领 1/20 · 保有 1/200")
    toast = page.locator("#toasts .toast")
    expect(toast).to_be_visible()
    toast_box = toast.bounding_box()
    for box in _claim_buttons_in_sight(page):
        assert not _overlap(toast_box, box), (toast_box, box)


def _claim_buttons_in_sight(page):
    """The boxes of the claim buttons a user would see without the toasts: on screen
    and not behind the sticky top bar."""
    return page.evaluate(
        """() => {
        const toasts = document.getElementById("toasts");
        toasts.style.visibility = "hidden";
        const boxes = [...document.querySelectorAll(".pool-table button")].map((button) => {
            const r = button.getBoundingClientRect();
            const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
            return hit && button.contains(hit) ? {x: r.x, y: r.y, width: r.width, height: r.height} : null;
        }).filter(Boolean);
        toasts.style.visibility = "";
        return boxes;
    }"""
    )


def test_support_reads_the_pool_without_being_promised_customers(page, world):
    make_customer(world.manager_a, "公海精选贸易有限公司", pool=True)
    browser_login(page, "support.a@test.example")
    page.goto("/pool")
    expect(page.locator(".page-header")).to_contain_text("由销售和经理在这里领取")
    expect(page.locator(".page-header")).not_to_contain_text("归你负责")
    expect(page.locator(".pool-table button")).to_have_count(0)
