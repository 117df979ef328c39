"""A rep's morning: an overdue follow-up logged from the workbench without leaving the
page, and the bell counting down as notifications are read."""

from datetime import timedelta

from playwright.sync_api import expect

from salesdesk import clock
from salesdesk.extensions import db
from salesdesk.ledger.models import Customer
from salesdesk.notifications import notify
from tests.fixtures.ledger import make_customer
from tests.helpers import browser_login


def due_on(customer, day):
    db.session.execute(
        Customer.__table__.update().where(Customer.id == customer.id).values(next_follow_up_on=day)
    )
    db.session.commit()


def test_rep_logs_an_overdue_follow_up_inline(page, world):
    today = clock.today("Asia/Shanghai")
    overdue = make_customer(world.rep_a, "苏州恒达精密机械有限公司")
    later = make_customer(world.rep_a, "无锡华光电子有限公司")
    due_on(overdue, today - timedelta(days=2))
    due_on(later, today)
    browser_login(page, "rep.a@test.example")
    page.goto("/")
    panel = page.locator("#due-panel")
    expect(panel.locator(".count-badge")).to_have_text("2")
    item = panel.locator(".due-item", has_text=overdue.name)
    expect(item).to_contain_text("已逾期")

    page.evaluate("window.stillTheSamePage = true")
    item.locator("summary", has_text="记录跟进").click()
    item.locator("textarea").fill("电话沟通了报价，客户下周给答复")
    item.locator("button", has_text="保存").click()

    expect(panel.locator(".count-badge")).to_have_text("1")
    expect(panel).not_to_contain_text(overdue.name)
    expect(panel).to_contain_text(later.name)
    expect(page.locator("#toasts")).to_contain_text("跟进记录已保存")
    assert page.evaluate("window.stillTheSamePage") is True, "the panel updated without a page load"

    page.goto(f"/customers/{overdue.id}")
    expect(page.locator("main")).to_contain_text("电话沟通了报价，客户下周给答复")


def test_the_bell_counts_down_when_a_notification_is_read(page, world):
    for name in ("甲公司", "乙公司"):
        notify(world.rep_a, "customer.assigned", link="/customers", actor="王经理", customer=name)
    db.session.commit()
    browser_login(page, "rep.a@test.example")
    page.goto("/notifications")
    bell = page.locator("#bell .bell-count")
    expect(bell).to_have_text("2")

    page.evaluate("window.stillTheSamePage = true")
    first = page.locator("li.notification.unread").first
    first.locator("button", has_text="标为已读").click()
    expect(bell).to_have_text("1")
    expect(page.locator("li.notification.unread")).to_have_count(1)
    assert page.evaluate("window.stillTheSamePage") is True

    page.locator("button", has_text="全部标为已读").click()
    expect(page.locator("#bell .bell-count")).to_have_count(0)
    expect(page.locator("li.notification.unread")).to_have_count(0)
