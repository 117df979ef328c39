"""A rep's morning: an overdue follow-up logged from the workbench without leaving the
page, and the bell counting down as notifications are read."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from salesdesk import clock
from salesdesk.extensions import db
from salesdesk.ledger.models import Customer, FollowUp
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


# ---- the quick log: date quick picks, next step; with and without JavaScript, both sizes ----


def due_today_with_a_contact(world):
    today = clock.today("Asia/Shanghai")
    customer = make_customer(world.rep_a, "苏州恒达精密机械有限公司", phone="13912345678")
    due_on(customer, today)
    return customer, today


@pytest.mark.parametrize("size", [(1366, 768), (390, 844)], ids=["desktop", "phone"])
def test_a_quick_pick_fills_the_date_and_the_next_step_is_saved(browser, live_server, world, size):
    customer, today = due_today_with_a_contact(world)
    context = browser.new_context(base_url=live_server, viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        browser_login(page, "rep.a@test.example")
        page.goto("/")
        item = page.locator(".due-item", has_text=customer.name)
        expect(item.locator("a[href='tel:13912345678']")).to_be_visible()
        item.locator("summary", has_text="记录跟进").click()
        item.get_by_role("button", name="3天后").click()
        expect(item.get_by_label("下次跟进", exact=True)).to_have_value(
            (today + timedelta(days=3)).isoformat()
        )
        item.get_by_role("button", name="明天").click()
        expect(item.get_by_label("下次跟进", exact=True)).to_have_value(
            (today + timedelta(days=1)).isoformat()
        )
        item.get_by_label("跟进内容", exact=True).fill("电话约了明天上门")
        item.get_by_label("下一步", exact=True).fill("带报价单上门")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= size[0], f"the page scrolls sideways ({width} px)"
        item.get_by_role("button", name="保存").click()
        expect(page.locator("#due-panel")).not_to_contain_text(customer.name)
    finally:
        context.close()
    assert not errors, errors
    db.session.rollback()  # a fresh snapshot: the server wrote it
    entry = db.session.scalar(select(FollowUp).where(FollowUp.customer_id == customer.id))
    assert entry.next_step == "带报价单上门" and entry.next_follow_up_on == today + timedelta(days=1)


def test_without_javascript_the_quick_log_still_works(browser, live_server, world):
    customer, today = due_today_with_a_contact(world)
    context = browser.new_context(
        base_url=live_server, viewport={"width": 390, "height": 844}, java_script_enabled=False
    )
    page = context.new_page()
    try:
        browser_login(page, "rep.a@test.example")
        page.goto("/")
        item = page.locator(".due-item", has_text=customer.name)
        item.locator("summary", has_text="记录跟进").click()
        expect(item.locator("[data-date-picks]")).to_be_hidden()
        item.get_by_label("下次跟进", exact=True).fill((today + timedelta(days=5)).isoformat())
        item.get_by_label("跟进内容", exact=True).fill("客户在外地出差")
        item.get_by_label("下一步", exact=True).fill("下周再打")
        item.get_by_role("button", name="保存").click()
        page.wait_for_url(f"{live_server}/")  # posted, redirected home
        expect(page.locator("#due-panel")).not_to_contain_text(customer.name)
        expect(page.locator("main")).to_contain_text("跟进记录已保存")
    finally:
        context.close()
    db.session.rollback()  # a fresh snapshot: the server wrote it
    entry = db.session.scalar(select(FollowUp).where(FollowUp.customer_id == customer.id))
    assert entry.next_step == "下周再打" and entry.next_follow_up_on == today + timedelta(days=5)
