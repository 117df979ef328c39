"""Targets end to end in Chromium: a manager sets a rep's won-amount target in the team
table, the rep marks a customer won on its page, and both homes and the rep's
performance page show the new percentage with a pace in words."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from salesdesk.extensions import db
from salesdesk.performance.models import Target
from tests.fixtures.ledger import make_customer
from tests.helpers import browser_login

# Monday 16 November 2026: 10 of November's 21 working days are over (47 % expected).
TODAY = datetime(2026, 11, 16, 10, tzinfo=ZoneInfo("Asia/Shanghai"))
PACE_WORDS = re.compile("领先|正常|落后|已达成")


def test_a_manager_sets_a_target_the_rep_wins_and_both_homes_show_it(
    browser, live_server, page, world, frozen_clock
):
    frozen_clock(TODAY)
    rep = world.rep_a
    customer = make_customer(rep, "苏州恒达精密机械有限公司", expected_amount="50000")

    # The manager types 张三's won-amount target for November and saves.
    browser_login(page, world.manager_a.email)
    page.goto("/targets?period=2026-11")
    expect(page.locator("h1")).to_contain_text("目标")
    target = page.get_by_label("张三 · 赢单金额", exact=True)
    target.fill("100000")
    page.get_by_role("button", name="保存目标").click()
    expect(page.locator("body")).to_contain_text("已保存 1 项目标。")
    expect(page.get_by_label("张三 · 赢单金额", exact=True)).to_have_value("100000.00")
    db.session.rollback()  # read afresh what the server wrote
    assert db.session.query(Target).filter_by(user_id=rep.id, measure="won_amount").one().value == 100000

    # The rep, in a browser of their own, marks the customer won on its page.
    rep_context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    rep_page = rep_context.new_page()
    browser_login(rep_page, rep.email)
    rep_page.goto("/")
    mine = rep_page.locator(".targets-panel")
    expect(mine).to_contain_text("我的2026年11月目标")
    expect(mine.locator(".target-card")).to_contain_text("0%")
    rep_page.goto(f"/customers/{customer.id}")
    stage = rep_page.locator("#change-stage")
    stage.get_by_label("阶段").select_option("won")
    stage.get_by_role("button", name="修改").click()
    expect(rep_page.locator("body")).to_contain_text("赢单")

    # The rep's home: 50 % of the target, with the pace written out.
    rep_page.goto("/")
    card = rep_page.locator(".targets-panel .target-card", has_text="赢单金额")
    expect(card.locator(".pace-percent")).to_have_text("50%")
    expect(card.locator(".pace-status")).to_have_text(PACE_WORDS)
    expect(card.locator(".pace-status")).to_have_text("正常")
    rep_context.close()

    # The manager's home: the team's card says the same.
    page.goto("/")
    team_card = page.locator(".targets-panel", has_text="团队2026年11月目标").locator(
        ".target-card", has_text="赢单金额"
    )
    expect(team_card.locator(".pace-percent")).to_have_text("50%")
    expect(team_card.locator(".pace-status")).to_have_text("正常")

    # The table shows the progress next to the input.
    page.goto("/targets?period=2026-11")
    cell = page.locator("td", has=page.get_by_label("张三 · 赢单金额", exact=True))
    expect(cell.locator(".pace-percent")).to_have_text("50%")
    expect(cell.locator(".pace-status")).to_have_text("正常")

    # And the rep's performance page, for the manager.
    page.goto(f"/performance/reps/{rep.id}?period=2026-11")
    targets = page.locator(".board-targets")
    expect(targets).to_contain_text(re.compile(r"50\s?%"))
    expect(targets).to_contain_text("正常")
