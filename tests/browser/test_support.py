"""The support desk end to end in Chromium: a rep files a request with a file, the
support user accepts, replies and resolves, the rep rates it, and the metrics page
counts it."""

import re

from playwright.sync_api import expect

from salesdesk.auth.models import Role
from salesdesk.database import write_transaction
from tests.fixtures.ledger import make_customer
from tests.fixtures.support import make_type
from tests.helpers import browser_login, make_user

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_a_request_from_filing_to_five_stars(browser, live_server, page, world, tmp_path):
    customer = make_customer(world.rep_a, "杭州明途科技有限公司")
    make_type("华东报价支持", world.team_a, prompts="客户背景：\n需要报价的产品和数量：")
    lead = make_user("lead.a@test.example", Role.SUPPORT, world.team_a, "孙组长")
    with write_transaction():
        lead.support_lead = True
    draft = tmp_path / "报价草稿.pdf"
    draft.write_bytes(PDF)

    browser_login(page, "rep.a@test.example")
    page.goto(f"/customers/{customer.id}")
    page.get_by_role("link", name="找销售支持").click()
    page.get_by_label("请求类型").select_option(label="华东报价支持")
    expect(page.get_by_label("详情")).to_have_value(re.compile("需要报价的产品和数量"))
    page.get_by_label("需要什么支持？").fill("明途科技年度框架报价")
    page.get_by_label("详情").fill("客户背景：老客户续约\n需要报价的产品和数量：200 套")
    page.get_by_label("附件").set_input_files(str(draft))
    page.get_by_role("button", name="提交请求").click()
    expect(page.locator("h1")).to_contain_text("明途科技年度框架报价")
    expect(page.locator(".attachments")).to_contain_text("报价草稿.pdf")
    request_url = page.url

    support_context = browser.new_context(base_url=live_server)
    support = support_context.new_page()
    browser_login(support, "support.a@test.example")
    support.goto("/support")
    support.get_by_role("link", name="明途科技年度框架报价").click()
    expect(support.locator(".req-customer")).to_contain_text("杭州明途科技有限公司")
    support.get_by_role("button", name="受理").click()
    expect(support.locator(".request-state")).to_contain_text("处理中")
    support.locator(".reply-form").get_by_label("留言").fill("报价已在做，明天给你")
    support.get_by_role("button", name="发送").click()
    support.get_by_label("答复和处理结果").fill("报价单已发到你的邮箱")
    support.get_by_role("button", name="标记已解决").click()
    expect(support.locator(".request-state")).to_contain_text("待确认")
    support_context.close()

    page.goto(request_url)
    expect(page.locator(".req-timeline")).to_contain_text("报价已在做，明天给你")
    page.locator(".stars-input label").first.click()  # 5 stars come first
    page.get_by_label("评论（选填）").fill("很及时")
    page.get_by_role("button", name="确认并评价").click()
    expect(page.locator(".request-state")).to_contain_text("已完成")

    lead_context = browser.new_context(base_url=live_server)
    lead_page = lead_context.new_page()
    browser_login(lead_page, "lead.a@test.example")
    lead_page.goto("/support/metrics")
    expect(lead_page.locator("main")).to_contain_text("赵支持")
    expect(lead_page.locator("main")).to_contain_text("5.0")
    lead_context.close()


def test_a_type_chosen_before_the_forms_script_ran_fills_the_details(live_server, page, world):
    make_type("华东报价支持", world.team_a, prompts="需要报价的产品和数量：")
    browser_login(page, "rep.a@test.example")
    held = []
    # The form's script arrives late (a slow line): the type is chosen before it runs.
    page.route("**/js/support.js*", lambda route: held.append(route))
    page.goto("/support/new", wait_until="commit")
    page.get_by_label("请求类型").select_option(label="华东报价支持")
    expect(page.get_by_label("详情")).to_have_value("")
    for _ in range(100):  # the handler runs while Playwright waits
        if held:
            break
        page.wait_for_timeout(50)
    held[0].continue_()
    expect(page.get_by_label("详情")).to_have_value(re.compile("需要报价的产品和数量"))
