"""Chat groups in Chromium: an administrator connects a DingTalk robot with its 加签
secret, sends a test message and sees the robot's answer (signed as DingTalk checks it);
a rep wins a deal and the group hears the 喜报. And the test button without JavaScript."""

import base64
import hashlib
import hmac

from playwright.sync_api import expect
from sqlalchemy import select

from salesdesk.chat import outbox
from salesdesk.chat.models import Connection
from salesdesk.extensions import db
from tests.fixtures.ledger import make_customer
from tests.helpers import browser_login

KEY = "6f1c9a4e-1111-2222-3333-444455556666"
TOKEN = "ab" * 32
SECRET = "SEC0123456789abcdef0123456789abcdef"


def signed_by_dingtalk_rules(received):
    """DingTalk's check: sign = Base64(HMAC-SHA256(secret, "timestamp\nsecret")), URL-encoded
    in the query (the fake server's query is decoded already)."""
    timestamp = received.query["timestamp"]
    digest = hmac.new(SECRET.encode(), f"{timestamp}\n{SECRET}".encode(), hashlib.sha256).digest()
    return received.query["sign"] == base64.b64encode(digest).decode()


def test_an_admin_connects_a_group_tests_it_and_the_group_hears_a_win(
    app, browser, live_server, page, world, robot_server
):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    app.config["BASE_URL"] = live_server
    customer = make_customer(world.rep_a, "嘉兴南湖电子有限公司", expected_amount="56000")

    browser_login(page, "admin@test.example")
    page.goto("/admin/integrations")
    page.get_by_role("link", name="接入群机器人").first.click()
    page.get_by_label("群名称").fill("华东销售群")
    page.get_by_label("平台").select_option(label="钉钉自定义机器人")
    page.get_by_label("Webhook 地址").fill(robot_server.url(f"/robot/send?access_token={TOKEN}"))
    page.get_by_label("密钥").fill(SECRET)
    page.get_by_label("范围").select_option(label="团队：华东大区")
    page.get_by_role("button", name="保存").click()
    row = page.locator("tr", has_text="华东销售群")
    expect(row).to_contain_text("钉钉自定义机器人")
    expect(row).to_contain_text("abab…abab")
    expect(row).not_to_contain_text(TOKEN)

    row.get_by_role("link", name="华东销售群").click()
    expect(page.locator("body")).not_to_contain_text(SECRET)
    page.get_by_role("button", name="发送测试消息").click()
    expect(page.locator("#test-answer")).to_contain_text("机器人已接收测试消息")
    test_message = robot_server.requests[-1]
    assert test_message.json["msgtype"] == "markdown" and "测试消息" in test_message.json["markdown"]["text"]
    assert test_message.query["access_token"] == TOKEN and signed_by_dingtalk_rules(test_message)

    rep_context = browser.new_context(base_url=live_server)
    rep = rep_context.new_page()
    browser_login(rep, "rep.a@test.example")
    rep.goto(f"/customers/{customer.id}")
    stage = rep.locator("#change-stage")
    stage.get_by_label("阶段").select_option("won")
    stage.get_by_role("button", name="修改").click()
    expect(rep.locator("body")).to_contain_text("赢单")
    for thread in list(outbox.SENDERS):
        thread.join(30)
    (win,) = robot_server.requests[1:]  # the 喜报, once
    assert (
        "嘉兴南湖电子有限公司" in win.json["markdown"]["text"] and "56,000.00" in win.json["markdown"]["text"]
    )
    assert signed_by_dingtalk_rules(win)
    rep_context.close()


def test_the_test_button_works_without_javascript(app, browser, live_server, world, robot_server):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    page = context.new_page()
    browser_login(page, "admin@test.example")
    page.goto("/admin/integrations/new")
    page.get_by_label("群名称").fill("全公司群")
    page.get_by_label("Webhook 地址").fill(robot_server.url(f"/cgi-bin/webhook/send?key={KEY}"))
    page.get_by_role("button", name="保存").click()
    connection = db.session.scalars(select(Connection)).one()
    robot_server.behave("errcode", code=93000, message="invalid webhook url")
    page.goto(f"/admin/integrations/{connection.id}")
    page.get_by_role("button", name="发送测试消息").click()
    expect(page.locator("#test-answer")).to_contain_text("机器人拒绝了测试消息")
    expect(page.locator("#test-answer")).to_contain_text("93000")
    context.close()
