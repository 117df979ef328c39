"""Custom fields in a real browser (issue 20): an administrator adds a choice field, a
rep fills it on a new customer, filters the list on it and exports what the list shows."""

import csv
import io

from playwright.sync_api import expect

from tests.fixtures.ledger import make_customer
from tests.helpers import browser_login


def test_an_admin_adds_a_choice_field_and_a_rep_fills_filters_and_exports_it(page, world):
    make_customer(world.rep_a, "宁波海港物流有限公司")  # no value: filtered out

    browser_login(page, "admin@test.example")
    page.goto("/admin/fields")
    page.click("text=添加字段 >> nth=0")
    page.fill("input[name=label_zh]", "获客渠道")
    page.fill("input[name=label_en]", "Channel")
    page.select_option("select[name=type]", "single_choice")
    page.fill("textarea[name=new_choices]", "展会 | Trade fair\n转介绍 | Referral")
    page.check("input[name=required]")
    page.click("button:has-text('保存')")
    expect(page.locator(".custom-fields")).to_contain_text("获客渠道")
    page.context.clear_cookies()

    browser_login(page, "rep.a@test.example")
    page.goto("/customers/new")
    page.fill("input[name=name]", "杭州云栖数据科技有限公司")
    field = page.get_by_label("获客渠道")
    expect(field).to_be_visible()
    # Required: saving without it says so on the field, and keeps what was typed.
    page.click("button:has-text('创建客户')")
    expect(page.locator(".has-error")).to_contain_text("请填写获客渠道")
    expect(page.locator("input[name=name]")).to_have_value("杭州云栖数据科技有限公司")
    page.reported_errors.clear()  # the refused post's 422
    page.get_by_label("获客渠道").select_option(label="转介绍")
    page.click("button:has-text('创建客户')")
    expect(page.locator("#details")).to_contain_text("转介绍")

    page.goto("/customers?view=mine")
    page.click("summary:has-text('更多筛选')")
    page.locator("select[name^=cf_]").select_option(label="转介绍")
    page.click("button:has-text('筛选')")
    table = page.locator(".customers-table")
    expect(table).to_contain_text("杭州云栖数据科技有限公司")
    expect(table).not_to_contain_text("宁波海港物流有限公司")

    page.click("summary:has-text('导出')")
    with page.expect_download() as download:
        page.click("a:has-text('CSV')")
    with open(download.value.path(), encoding="utf-8-sig") as exported:
        rows = list(csv.reader(io.StringIO(exported.read())))
    header, *body = rows
    column = header.index("获客渠道")
    assert [(row[0], row[column]) for row in body] == [("杭州云栖数据科技有限公司", "转介绍")]
