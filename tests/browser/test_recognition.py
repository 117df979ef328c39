"""A manager awards points from a customer's award action; the recipient sees them in the
feed and on the leaderboard, and switches the period with htmx."""

from playwright.sync_api import expect

from tests.fixtures.ledger import make_customer
from tests.helpers import browser_login


def test_a_manager_awards_points_and_the_recipient_sees_them(page, world):
    customer = make_customer(world.rep_a, "宁波港通物流股份有限公司", collaborators=[world.rep_a2])

    browser_login(page, "manager.a@test.example")
    # What the customer page's "award points" button links to.
    page.goto(f"/recognition/award?customer_id={customer.id}&recipient_id={world.rep_a2.id}")
    expect(page.locator(".linked-customer")).to_have_text("客户：宁波港通物流股份有限公司")
    expect(page.locator("#recipient_id")).to_have_value(str(world.rep_a2.id))
    expect(page.locator(".budget-value")).to_have_text("500 / 500 积分")
    page.fill("#points", "35")
    page.select_option("#category", "deal")
    page.fill("#reason", "协助拿下宁波港通的年度框架合同")
    page.click("main form button[type=submit]")
    page.wait_for_url("**/recognition")
    expect(page.locator(".flashes")).to_contain_text("你给 李四 奖励了 35 积分。")

    page.context.clear_cookies()
    browser_login(page, "rep.a2@test.example")
    page.goto("/recognition")
    item = page.locator(".feed-item").first
    expect(item).to_contain_text("王经理 奖励了 李四")
    expect(item).to_contain_text("+35")
    expect(item).to_contain_text("协助拿下宁波港通的年度框架合同")
    expect(item).to_contain_text("客户：宁波港通物流股份有限公司")

    page.click("nav.sidenav >> text=排行榜")
    mine = page.locator("tr.is-me")
    expect(mine).to_contain_text("李四")
    expect(mine).to_contain_text("35")
    expect(mine.locator(".rank")).to_have_text("1")

    # htmx swaps the board and pushes a URL that reloads to the same view.
    page.locator(".segmented a", has_text="本周").click()
    page.wait_for_url("**/leaderboard?period=week")
    expect(page.locator(".segmented a[aria-current=true]")).to_have_text("本周")
    expect(page.locator("tr.is-me")).to_contain_text("35")
    # The scope form came with the swap: wait until htmx has settled (and bound it).
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')")
    page.select_option("#board-team", label="华南大区")
    expect(page.locator(".board-caption")).to_contain_text("华南大区")
    expect(page.locator("tr.is-me")).to_have_count(0)
    assert f"team={world.team_b.id}" in page.url
    page.reload()
    expect(page.locator("#board-team")).to_have_value(str(world.team_b.id))


def test_feed_loads_more_in_place(page, world):
    from tests.fixtures.recognition import award

    for number in range(23):
        award(world.admin, world.rep_a, 1, reason=f"第{number}次协作")
    browser_login(page, "rep.a2@test.example")
    page.goto("/recognition")
    expect(page.locator(".feed-item")).to_have_count(20)
    page.click("text=加载更多")
    expect(page.locator(".feed-item")).to_have_count(23)
    expect(page.locator(".feed-more")).to_have_count(0)
    assert page.url.endswith("/recognition")
