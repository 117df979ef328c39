"""A new hire reads their onboarding path; an editor edits an article and sees the diff."""

import re
from datetime import timedelta

from playwright.sync_api import expect

from salesdesk import clock
from salesdesk.kb import paths
from tests.fixtures.kb import png, write
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


PASTE_IMAGE = """async ([bytes, type, name]) => {
  const file = new File([new Uint8Array(bytes)], name, {type});
  const data = new DataTransfer();
  data.items.add(file);
  const text = document.querySelector("#body");
  text.focus();
  text.dispatchEvent(new ClipboardEvent("paste", {clipboardData: data, bubbles: true, cancelable: true}));
}"""


def test_typing_shows_the_preview_and_a_pasted_image_goes_into_the_text(page, world):
    article = write(world.manager_a, "产品截图说明", "原来的正文。")
    browser_login(page, "support.a@test.example")
    page.goto(f"/kb/{article.id}/edit")
    preview = page.locator("#kb-preview")
    expect(preview).to_contain_text("原来的正文。")  # rendered with the page
    page.fill("#body", "## 报价步骤\n\n**先**确认折扣 <script>alert(1)</script>")
    expect(preview.locator("h3")).to_have_text("报价步骤")
    expect(preview.locator("strong")).to_have_text("先")
    expect(preview).to_contain_text("<script>alert(1)</script>")  # shown as text

    page.locator("#body").press("End")
    page.evaluate(PASTE_IMAGE, [list(png(4, 3)), "image/png", "截图.png"])
    expect(page.locator(".kb-editor-status")).to_have_text("图片已插入正文。")
    text = page.locator("#body").input_value()
    assert re.search(r"\n!\[\]\(/kb/images/\d+\)\n$", text), text
    image = preview.locator("img")
    expect(image).to_have_attribute("src", re.compile(r"^/kb/images/\d+$"))
    page.wait_for_function("() => document.querySelector('#kb-preview img').naturalWidth === 4")

    page.click("button:has-text('保存')")
    expect(page.locator(".kb-body img")).to_have_attribute("src", re.compile(r"^/kb/images/\d+$"))


def test_a_fake_image_is_refused_with_a_message_on_a_phone(page, world):
    article = write(world.manager_a, "手机上编辑", "正文。")
    page.set_viewport_size({"width": 390, "height": 844})
    browser_login(page, "manager.a@test.example")
    page.goto(f"/kb/{article.id}/edit")
    page.evaluate(PASTE_IMAGE, [list(b"<svg><script>alert(1)</script></svg>"), "image/png", "假图.png"])
    status = page.locator(".kb-editor-status")
    expect(status).to_have_text("这个文件不是 PNG、JPEG、GIF 或 WebP 图片。")
    expect(status).to_have_class(re.compile("error"))
    assert page.locator("#body").input_value() == "正文。"
    page.reported_errors.clear()  # the browser logs the refused upload's 422
    # The preview sits under the text on a phone, and follows it.
    page.fill("#body", "- 第一步")
    expect(page.locator("#kb-preview li")).to_have_text("第一步")
    box, text = page.locator(".kb-preview").bounding_box(), page.locator("#body").bounding_box()
    assert box["y"] > text["y"] + text["height"] - 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_the_editor_keeps_the_text_when_the_session_ends(page, world):
    article = write(world.manager_a, "会话过期", "正文。")
    browser_login(page, "manager.a@test.example")
    page.goto(f"/kb/{article.id}/edit")
    page.context.clear_cookies()
    page.fill("#body", "写了很久的正文")
    expect(page.locator("#toasts")).to_contain_text("会话已过期")  # the preview's CSRF error
    page.evaluate(PASTE_IMAGE, [list(png()), "image/png", "截图.png"])
    expect(page.locator(".kb-editor-status")).to_contain_text("你已退出登录")
    assert page.url.endswith(f"/kb/{article.id}/edit")
    assert page.locator("#body").input_value() == "写了很久的正文"
    page.reported_errors.clear()  # the browser logs the refused preview's 401
