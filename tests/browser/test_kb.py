"""A new hire reads their onboarding path; an editor edits an article and sees the diff."""

from datetime import timedelta

from playwright.sync_api import expect

from salesdesk import clock
from salesdesk.kb import paths
from tests.fixtures.kb import write
from tests.helpers import browser_login


def test_new_hire_reads_the_path_and_sees_progress(page, world):
    path = paths.create_path(name="新人第一周", actor=world.manager_a)
    first = write(world.manager_a, "新人第一周日程", "第一天开通账号，第二天学习产品。")
    write(world.manager_a, "电话开场白", "先说清楚你是谁。")
    for article_id in (first.id, first.id + 1):
        paths.add_to_path(path, article_id, actor=world.manager_a)
    paths.assign_path(
        path,
        user_id=world.rep_a.id,
        due_on=clock.today(world.rep_a.timezone) + timedelta(days=7),
        actor=world.manager_a,
    )

    browser_login(page, "rep.a@test.example")
    page.goto("/kb/paths")
    progress = page.locator(".kb-progress progress").first
    assert progress.get_attribute("value") == "0" and progress.get_attribute("max") == "2"
    page.click("text=新人第一周 >> nth=0")
    page.click("a:has-text('新人第一周日程')")
    expect(page.locator("h1")).to_contain_text("新人第一周日程")
    page.click("button:has-text('已读并理解')")
    # htmx swaps the reading box: confirmation and the bar at 1 of 2.
    expect(page.locator("#read-status .kb-read-done")).to_be_visible()
    expect(page.locator("#read-status progress")).to_have_attribute("value", "1")
    page.goto(f"/kb/paths/{path.id}")
    expect(page.locator(".kb-my-progress progress")).to_have_attribute("value", "1")
    expect(page.locator(".kb-my-progress")).to_contain_text("已读 1 / 2 篇")


def test_editor_edits_and_sees_the_diff(page, world):
    article = write(world.manager_a, "折扣审批权限", "折扣超过 10% 需经理审批。\n\n超过 20% 需总监审批。")
    browser_login(page, "support.a@test.example")
    page.goto(f"/kb/{article.id}")
    page.click("a:has-text('编辑')")
    page.fill("#body", "折扣超过 5% 需经理审批。\n\n超过 20% 需总监审批。")
    page.fill("#note", "收紧权限")
    page.click("button:has-text('保存')")
    expect(page.locator(".flashes")).to_contain_text("已保存为第 2 版")
    page.click("a:has-text('历史版本')")
    expect(page.locator("table.kb-history")).to_contain_text("收紧权限")
    page.click("button:has-text('对比')")
    expect(page.locator(".kb-diff del").first).to_have_text("10%")
    expect(page.locator(".kb-diff ins").first).to_have_text("5%")


def test_live_search_shows_results_while_typing(page, world):
    write(world.manager_a, "报价单填写规范", "报价单必须写明有效期。")
    browser_login(page, "rep.a@test.example")
    page.goto("/kb/")
    page.fill("#kb-q", "报价")
    expect(page.locator("#kb-live .kb-live-panel")).to_contain_text("报价单填写规范")
    expect(page.locator("#kb-live mark").first).to_have_text("报价")
