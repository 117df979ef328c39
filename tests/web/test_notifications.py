"""Notifications: every kind the features create has its message and link; the bell and
its unread count; mark read and mark all read; the morning follow-up digest (每日跟进提醒);
e-mail copies sent only after the transaction commits."""

import email
import email.policy
import threading
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from flask_babel import force_locale
from sqlalchemy import func, select

from salesdesk import jobs, notifications
from salesdesk.auth.models import User
from salesdesk.extensions import db
from salesdesk.kb import paths
from salesdesk.ledger import collaborators, followups
from salesdesk.ledger.models import Customer
from salesdesk.notifications import Notification, notify
from salesdesk.rules import assignment, collisions, reclaim
from salesdesk.workbench import digest
from tests.conftest import free_port
from tests.fixtures.kb import write
from tests.fixtures.ledger import make_customer
from tests.fixtures.recognition import award, thank

T0 = datetime(2026, 3, 4, 2, 0, tzinfo=UTC)  # Wednesday, 10:00 in Shanghai
TODAY = date(2026, 3, 4)


def notifications_of(user):
    db.session.rollback()
    return db.session.scalars(
        select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
    ).all()


def kinds_of(user):
    return [n.kind for n in notifications_of(user)]


# ---- every kind: created by the features, shown with its message and link -------------------


def test_every_kind_the_features_create_reads_well_and_links_somewhere(world, client_as, frozen_clock):
    frozen_clock(T0 - timedelta(days=20))
    pool = make_customer(world.manager_a, "杭州云栖数据科技有限公司", pool=True)
    make_customer(world.rep_a, "苏州恒达精密机械有限公司")  # never followed up: reclaimed
    frozen_clock(T0 - timedelta(days=13))
    warned = make_customer(world.rep_a, "无锡华光电子有限公司")
    frozen_clock(T0)
    assignment.assign(world.manager_a, [pool.id], world.rep_a.id, "区域对口")  # customer.assigned
    reclaim.warn_due()  # reclaim.warning (due in two days)
    reclaim.reclaim_due()  # reclaim.done (15 days without a follow-up)
    report = collisions.file_collision(world.rep_a2, warned.id, "我先接触的")  # collision.filed
    collisions.decide_collision(world.manager_a, report.id, "keep", "跟进记录更早")  # collision.decided
    collaborators.request_collaboration(world.rep_a2, pool.id, "我认识他们的老板")  # collaboration.requested
    collaborators.answer_collaboration(world.rep_a, pool.id, world.rep_a2.id, approve=True)  # .approved
    award(world.manager_a, world.rep_a, points=20, reason="帮忙准备了报价方案")  # points.received
    thank(world.rep_a2, world.rep_a, points=2, reason="谢谢你的帮忙")  # points.thanked
    path = paths.create_path(name="新人第一周", actor=world.manager_a)
    paths.add_to_path(path, write(world.manager_a, "入门文章", "正文。").id, actor=world.manager_a)
    paths.assign_path(path, user_id=world.rep_a.id, due_on=TODAY + timedelta(days=5), actor=world.manager_a)
    db.session.execute(
        Customer.__table__.update().where(Customer.id == pool.id).values(next_follow_up_on=TODAY)
    )
    db.session.commit()
    frozen_clock(T0 - timedelta(hours=2))  # 08:00 in Shanghai
    digest.send_follow_up_digests()  # follow_up.digest

    expected = {
        "customer.assigned": "王经理 把「杭州云栖数据科技有限公司」分配给了你",
        "reclaim.warning": "「无锡华光电子有限公司」将于 2026年3月6日 回收到公海",
        "reclaim.done": "「苏州恒达精密机械有限公司」已回收到公海",
        "collision.decided": "「无锡华光电子有限公司」的撞单申诉已裁决",
        "collision.filed": "李四 对「无锡华光电子有限公司」提交了撞单申诉",
        "collaboration.requested": "李四 申请协作跟进「杭州云栖数据科技有限公司」",
        "points.received": "王经理 奖励了你 20 积分：帮忙准备了报价方案",
        "points.thanked": "李四 感谢了你，送出 2 积分：谢谢你的帮忙",
        "reading.assigned": "王经理 给你安排了学习路径「新人第一周」，请在 2026年3月9日 前完成",
        "follow_up.digest": "今日待跟进 1 个",
    }
    mine = {n.kind: n for n in notifications_of(world.rep_a)}
    assert set(expected) <= set(mine), set(expected) - set(mine)
    assert "collaboration.approved" in kinds_of(world.rep_a2)
    client = client_as(world.rep_a)
    html = client.get("/notifications").get_data(as_text=True)
    for kind, text in expected.items():
        assert text in html, (kind, mine[kind].message)
        assert mine[kind].link and mine[kind].link.startswith("/"), kind
        assert client.get(mine[kind].link).status_code == 200, (kind, mine[kind].link)


# Sample parameters for every registered kind: a new kind without a sample fails here.
SAMPLES = {
    "customer.assigned": {"actor": "王经理", "customer": "甲公司"},
    "reclaim.warning": {"customer": "甲公司", "date": "2026-03-06"},
    "reclaim.done": {"customer": "甲公司", "rule_code": "reclaim_no_follow_up"},
    "collision.filed": {"reporter": "李四", "customer": "甲公司"},
    "chat.failing": {"name": "华东销售群"},
    "collision.decided": {"customer": "甲公司", "decision": "transfer"},
    "extension.requested": {"owner": "张三", "days": 7, "customer": "甲公司"},
    "extension.granted": {"days": 7, "customer": "甲公司"},
    "extension.declined": {"customer": "甲公司"},
    "collaboration.added": {"actor": "王经理", "customer": "甲公司"},
    "collaboration.requested": {"actor": "李四", "customer": "甲公司"},
    "collaboration.approved": {"actor": "张三", "customer": "甲公司"},
    "collaboration.declined": {"actor": "张三", "customer": "甲公司"},
    "points.received": {"giver": "王经理", "points": 20, "reason": "帮忙"},
    "points.thanked": {"giver": "李四", "points": 2, "reason": "谢谢"},
    "points.customer_won": {"points": 10, "customer": "甲公司"},
    "points.article_helpful": {"points": 1},
    "points.reversed": {"points": -20, "reason": "误发"},
    "badge.awarded": {"month": "2026-02", "rank": 1},  # stored as the month, shown as people name it
    "reading.assigned": {"by": "王经理", "path": "新人第一周", "due": "2026-03-09"},
    "reading.reread": {"title": "报价规范"},
    "kb.proposal": {"by": "李四", "title": "报价规范"},
    "kb.proposal.accepted": {"title": "报价规范"},
    "kb.proposal.declined": {"title": "报价规范"},
    "follow_up.due": {"customer": "甲公司", "due": "2026-03-02", "today": "2026-03-04"},
    "follow_up.digest": {"due": 5, "overdue": 4, "day": "2026-03-04"},
    "points.support_rated": {"points": 2, "requester": "张三"},
    **{
        f"support.{step}": {"actor": "赵支持", "title": "年度报价"}
        for step in ("accepted", "assigned", "reply", "returned", "resolved", "reopened", "cancelled")
    },
    "support.confirmed": {"actor": "张三", "title": "年度报价", "rating": 5},
    "support.filed": {"requester": "张三", "title": "年度报价"},
    "support.filed_urgent": {"requester": "张三", "title": "年度报价"},
    **{
        f"support.{kind}": {"title": "年度报价"}
        for kind in ("breached_resolution", "breached_response", "warned_resolution", "warned_response")
    },
    "performance.milestone_half": {
        "name": "张三",
        "measure": "won_amount",
        "period": "2026-03",
        "user_id": 42,
    },
    "performance.milestone_reached": {
        "name": "张三",
        "measure": "visits",
        "period": "2026-Q1",
        "user_id": 42,
    },
    "performance.weekly_report": {
        "week": "2026-03-02",
        "won_count": 2,
        "won_amount": "150000.50",
        "new_customers": 3,
        "breaches": 1,
    },
}


def has_chinese(text):
    return any("\u4e00" <= character <= "\u9fff" for character in text)


def test_every_registered_kind_has_a_chinese_and_an_english_message(app, world):
    assert set(notifications.KINDS) == set(SAMPLES), "add a sample for each new kind"
    for kind, params in SAMPLES.items():
        notification = Notification(user_id=world.rep_a.id, kind=kind, params=params)
        messages = {}
        for locale in ("zh_Hans_CN", "en"):
            with app.test_request_context(), force_locale(locale):
                text = notification.message
            for value in params.values():
                text = text.replace(str(value), "")
            messages[locale] = text
        assert kind not in messages["zh_Hans_CN"] and has_chinese(messages["zh_Hans_CN"]), kind
        assert messages["en"].strip() and not has_chinese(messages["en"]), (kind, messages["en"])


# ---- the bell and the list --------------------------------------------------------------------


def add(user, count=1, kind="customer.assigned"):
    for _i in range(count):
        notify(user, kind, link="/customers", actor="王经理", customer="甲公司")
    db.session.commit()


def test_the_bell_shows_the_unread_count_and_answers_304_when_nothing_changed(world, client_as):
    client = client_as(world.rep_a)
    add(world.rep_a, 3)
    add(world.rep_a2, 5)
    page = client.get("/").get_data(as_text=True)
    assert '<span class="bell-count" aria-hidden="true">3</span>' in page and "3 条未读通知" in page

    bell = client.get("/notifications/bell", htmx=True)
    assert bell.status_code == 200 and bell.headers["ETag"]
    assert "private" in bell.headers["Cache-Control"] and "no-cache" in bell.headers["Cache-Control"]
    assert 'hx-trigger="every 60s"' in bell.get_data(as_text=True)
    again = client.get("/notifications/bell", htmx=True, headers={"If-None-Match": bell.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""

    add(world.rep_a)
    changed = client.get("/notifications/bell", htmx=True, headers={"If-None-Match": bell.headers["ETag"]})
    assert changed.status_code == 200 and ">4</span>" in changed.get_data(as_text=True)
    # Another user's new notification does not change my bell.
    add(world.rep_a2)
    assert (
        client.get("/notifications/bell", headers={"If-None-Match": changed.headers["ETag"]}).status_code
        == 304
    )


def test_the_bell_caps_its_number_and_disappears_at_zero(world, client_as):
    client = client_as(world.rep_a)
    assert "bell-count" not in client.get("/notifications/bell").get_data(as_text=True)
    add(world.rep_a, 120)
    assert ">99+</span>" in client.get("/notifications/bell").get_data(as_text=True)


def test_mark_read_with_htmx_updates_the_item_and_the_bell(world, client_as):
    add(world.rep_a, 2)
    first = notifications_of(world.rep_a)[0]
    client = client_as(world.rep_a)
    response = client.post(f"/notifications/{first.id}/read", htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'id="notification-{first.id}"' in html and "unread" not in html.split("</li>")[0]
    assert 'hx-swap-oob="true"' in html and ">1</span>" in html
    assert notifications_of(world.rep_a)[0].read_at is not None
    assert notifications.unread_count(world.rep_a) == 1


def test_mark_read_without_javascript_and_opening_a_notification(world, client_as):
    add(world.rep_a, 2)
    first, second = notifications_of(world.rep_a)
    client = client_as(world.rep_a)
    back = client.post(f"/notifications/{first.id}/read", data={"next": "/notifications?show=unread"})
    assert back.status_code == 303 and back.headers["Location"] == "/notifications?show=unread"
    opened = client.post(f"/notifications/{second.id}/read", data={"open": "1"})
    assert opened.status_code == 303 and opened.headers["Location"] == "/customers"
    assert notifications.unread_count(world.rep_a) == 0
    # A forged "next" never leads off the site.
    add(world.rep_a)
    third = notifications_of(world.rep_a)[-1]
    evil = client.post(f"/notifications/{third.id}/read", data={"next": "https://evil.example/"})
    assert evil.headers["Location"] == "/notifications"


def test_another_users_notification_is_a_404_and_stays_unread(world, client_as):
    add(world.rep_a2)
    theirs = notifications_of(world.rep_a2)[0]
    client = client_as(world.rep_a)
    assert client.post(f"/notifications/{theirs.id}/read", htmx=True).status_code == 404
    assert client.post(f"/notifications/{theirs.id}/read", data={"open": "1"}).status_code == 404
    assert client.post("/notifications/999999/read").status_code == 404
    assert client.post("/notifications/abc/read").status_code == 404
    assert notifications_of(world.rep_a2)[0].read_at is None


def test_mark_all_read_touches_only_my_notifications(world, client_as):
    add(world.rep_a, 4)
    add(world.rep_a2, 2)
    client = client_as(world.rep_a)
    response = client.post("/notifications/read-all")
    assert response.status_code == 303 and response.headers["Location"] == "/notifications"
    assert "已将 4 条通知标为已读" in client.get("/notifications").get_data(as_text=True)
    assert notifications.unread_count(world.rep_a) == 0 and notifications.unread_count(world.rep_a2) == 2


def test_the_list_pages_and_filters_unread(world, client_as):
    add(world.rep_a, 35)
    first = notifications_of(world.rep_a)[0]
    client = client_as(world.rep_a)
    client.post(f"/notifications/{first.id}/read")
    page_one = client.get("/notifications").get_data(as_text=True)
    assert page_one.count('<li class="notification') == 30 and "下一页" in page_one
    page_two = client.get("/notifications?page=2").get_data(as_text=True)
    assert page_two.count('<li class="notification') == 5
    unread = client.get("/notifications?show=unread&page=2").get_data(as_text=True)
    assert unread.count('<li class="notification') == 4
    assert client.get("/notifications?page=999999999999").status_code == 200
    assert client.get("/notifications?page=-3").status_code == 200
    assert "暂无通知" in client_as(world.rep_a2).get("/notifications").get_data(as_text=True)


def test_notifications_need_a_login(client, world):
    for url in ("/notifications", "/notifications/bell"):
        response = client.get(url)
        assert response.status_code in (302, 303, 401) and "/login" in response.headers.get(
            "Location", "/login"
        )
    assert client.post("/notifications/read-all").status_code in (302, 303, 400, 401)


# ---- the morning digest (每日跟进提醒) -------------------------------------------------------------


@pytest.fixture
def due_customers(world, frozen_clock):
    frozen_clock(T0 - timedelta(days=1))
    customers = {
        "today": make_customer(world.rep_a, "苏州恒达精密机械有限公司"),
        "two_days_ago": make_customer(world.rep_a, "无锡华光电子有限公司"),
        "long_ago": make_customer(world.rep_a, "常州天和医疗器械有限公司"),
        "tomorrow": make_customer(world.rep_a, "南通海润医药连锁有限公司"),
        "pool": make_customer(world.manager_a, "杭州云栖数据科技有限公司", pool=True),
        "team_b": make_customer(world.rep_b, "深圳市南方鑫材料有限公司"),
    }
    days = {"today": 0, "two_days_ago": -2, "long_ago": -10, "tomorrow": 1, "pool": 0, "team_b": 0}
    for key, customer in customers.items():
        db.session.execute(
            Customer.__table__.update()
            .where(Customer.id == customer.id)
            .values(next_follow_up_on=TODAY + timedelta(days=days[key]))
        )
    db.session.commit()
    frozen_clock(T0)
    return customers


def digests(user):
    return [n for n in notifications_of(user) if n.kind == digest.KIND]


def test_one_digest_a_day_counts_what_the_workbench_shows(world, due_customers, frozen_clock, client_as):
    assert digest.send_follow_up_digests() == 2
    (mine,) = digests(world.rep_a)
    assert (mine.params["due"], mine.params["overdue"]) == (1, 2)
    assert mine.message == "今日待跟进 1 个，逾期 2 个"
    assert [n.message for n in digests(world.rep_b)] == ["今日待跟进 1 个"]
    assert digests(world.manager_a) == [], "a pool customer is nobody's task"
    assert kinds_of(world.rep_a) == [digest.KIND], "no notification per customer any more"
    assert "follow-up-digest" in jobs.JOBS and "follow-up-reminders" not in jobs.JOBS

    # The workbench counts the same three; the digest leads to them in the list.
    client = client_as(world.rep_a)
    assert '<span class="count-badge">3</span>' in client.get("/").get_data(as_text=True)
    listed = client.get(mine.link).get_data(as_text=True)
    for key in ("today", "two_days_ago", "long_ago"):
        assert due_customers[key].name in listed
    assert due_customers["tomorrow"].name not in listed

    # Once a day: again the same morning, nothing; the next morning, a new one.
    frozen_clock(T0 + timedelta(hours=1))
    assert digest.send_follow_up_digests() == 0
    frozen_clock(T0 + timedelta(days=1))
    assert digest.send_follow_up_digests() == 2
    assert [(n.params["due"], n.params["overdue"]) for n in digests(world.rep_a)] == [(1, 2), (1, 3)]


def test_the_digest_is_a_morning_message(world, due_customers, frozen_clock):
    frozen_clock(datetime(2026, 3, 3, 23, 30, tzinfo=UTC))  # 07:30 in Shanghai
    assert digest.send_follow_up_digests() == 0
    frozen_clock(datetime(2026, 3, 4, 4, 0, tzinfo=UTC))  # noon: the workbench has the tasks
    assert digest.send_follow_up_digests() == 0
    frozen_clock(datetime(2026, 3, 4, 0, 0, tzinfo=UTC))  # 08:00
    assert digest.send_follow_up_digests() == 2


def test_nobody_with_nothing_due_gets_a_digest_and_overdue_alone_reads_well(world, due_customers):
    followups.log_follow_up(world.rep_b, due_customers["team_b"].id, channel="phone", content="聊过了")
    for key in ("today",):
        followups.log_follow_up(world.rep_a, due_customers[key].id, channel="visit", content="拜访了")
    assert digest.send_follow_up_digests() == 1
    assert digests(world.rep_b) == []
    assert [n.message for n in digests(world.rep_a)] == ["逾期待跟进 2 个"]


def test_an_inactive_person_gets_no_digest(world, due_customers):
    db.session.execute(User.__table__.update().where(User.id == world.rep_b.id).values(active=False))
    db.session.commit()
    assert digest.send_follow_up_digests() == 1 and digests(world.rep_b) == []


def test_the_bell_counts_one_digest_not_one_per_customer(world, due_customers, client_as):
    digest.send_follow_up_digests()
    client = client_as(world.rep_a)
    page = client.get("/notifications").get_data(as_text=True)
    assert page.count('<li class="notification') == 1 and "今日待跟进 1 个，逾期 2 个" in page
    assert "苏州恒达精密机械有限公司" not in page
    assert ">1</span>" in client.get("/notifications/bell").get_data(as_text=True)


def test_digests_sent_concurrently_still_send_one_each(world, due_customers, make_app):
    results, errors = [], []
    barrier = threading.Barrier(4)

    # Apps are made here: building several at once in threads trips CPython's compiler.
    apps = [make_app() for _i in range(4)]

    def run(other):
        with other.app_context():
            try:
                barrier.wait()
                results.append(digest.send_follow_up_digests())
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(other,)) for other in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert sum(results) == 2
    assert len(digests(world.rep_a)) == 1 and len(digests(world.rep_b)) == 1


def test_old_per_customer_reminders_still_read_well(world):
    old = Notification(user_id=world.rep_a.id, kind="follow_up.due", params=SAMPLES["follow_up.due"])
    with force_locale("zh_Hans_CN"):
        assert old.message == "「甲公司」的跟进已逾期（应于 2026年3月2日 跟进）"


# ---- e-mail ------------------------------------------------------------------------------------


class Sink:
    """An SMTP server that keeps what it receives."""

    def __init__(self, delay=0.0):
        self.messages = []
        self.delay = delay

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        if self.delay:
            import asyncio

            await asyncio.sleep(self.delay)
        self.messages.append((envelope.rcpt_tos, envelope.content.decode("utf-8", "replace")))
        return "250 OK"


@pytest.fixture
def smtp_sink():
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    sink.port = port
    yield sink
    controller.stop()


def ids(*objects):
    """Ids read in the test's own app context: inside another app's context an expired
    object would refresh through that app's engine and keep one of its connections."""
    return [obj.id for obj in objects]


def mail_app(make_app, port):
    return make_app(
        MAIL_ENABLED=True, MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_BASE_URL="https://desk.example.cn"
    )


def wait_for(condition, seconds=10):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_mail_is_off_by_default(app, world, smtp_sink):
    add(world.rep_a)
    assert notifications.send_notification_mail() == 0
    time.sleep(0.3)
    assert smtp_sink.messages == []


def test_a_notification_is_mailed_after_its_transaction_commits(world, make_app, smtp_sink, frozen_clock):
    frozen_clock(T0)
    customer = make_customer(world.manager_a, "杭州云栖数据科技有限公司", pool=True)
    customer_id, manager_id, rep_id = ids(customer, world.manager_a, world.rep_a)
    other = mail_app(make_app, smtp_sink.port)
    with other.app_context():
        assignment.assign(db.session.get(User, manager_id), [customer_id], rep_id, "区域对口")
        assert wait_for(lambda: len(smtp_sink.messages) == 1)
        recipients, content = smtp_sink.messages[0]
        assert recipients == ["rep.a@test.example"]
        assert "王经理" in content or "=E7=8E=8B" in content or "utf-8" in content.lower()
        assert f"https://desk.example.cn/customers/{customer_id}" in content
        # Sent once: the periodic run finds nothing left.
        assert notifications.send_notification_mail() == 0
        db.session.remove()
    assert len(smtp_sink.messages) == 1


def test_a_rolled_back_notification_is_never_mailed(world, make_app, smtp_sink):
    (rep_id,) = ids(world.rep_a)
    other = mail_app(make_app, smtp_sink.port)
    with other.app_context():
        notify(rep_id, "customer.assigned", link="/customers", actor="王经理", customer="甲公司")
        db.session.flush()
        db.session.rollback()
        assert notifications.send_notification_mail() == 0
        db.session.remove()
    time.sleep(0.3)
    assert smtp_sink.messages == []


def test_mail_waits_for_the_commit_not_the_flush(world, make_app, smtp_sink):
    (rep_id,) = ids(world.rep_a)
    other = mail_app(make_app, smtp_sink.port)
    with other.app_context():
        notify(rep_id, "customer.assigned", link="/customers", actor="王经理", customer="甲公司")
        db.session.flush()
        time.sleep(0.3)
        assert smtp_sink.messages == [], "nothing is sent before the commit"
        db.session.commit()
        assert wait_for(lambda: len(smtp_sink.messages) == 1)
        db.session.remove()


def test_a_slow_mail_server_does_not_slow_the_request(world, make_app, frozen_clock):
    sink = Sink(delay=3.0)  # twice the time the request gets below: room for a busy machine
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        frozen_clock(T0)
        customer = make_customer(world.rep_a, "苏州恒达精密机械有限公司")
        other = mail_app(make_app, port)
        client = other.test_client().login_as(world.rep_a2)
        started = time.monotonic()
        response = client.post(
            f"/customers/{customer.id}/collaborators/request", data={"message": "我认识他们的老板"}
        )
        elapsed = time.monotonic() - started
        assert response.status_code in (200, 303)
        assert elapsed < 1.5, f"the request waited for the mail server ({elapsed:.1f} s)"
        assert wait_for(lambda: len(sink.messages) == 1, seconds=15)
    finally:
        controller.stop()


def test_an_unreachable_mail_server_is_tried_again_later(world, make_app, smtp_sink):
    (rep_id,) = ids(world.rep_a)
    closed_port = free_port()
    broken = mail_app(make_app, closed_port)
    with broken.app_context():
        notify(rep_id, "customer.assigned", link="/customers", actor="王经理", customer="甲公司")
        db.session.commit()
        for sender in notifications.SENDERS:
            sender.join(30)  # the send started by the commit failed too
        assert notifications.send_notification_mail() == 0
        db.session.remove()
    db.session.rollback()  # a fresh snapshot
    assert db.session.scalar(select(func.count()).where(Notification.emailed_at.is_(None))) == 1
    working = mail_app(make_app, smtp_sink.port)
    with working.app_context():
        assert notifications.send_notification_mail() == 1
        db.session.remove()
    assert len(smtp_sink.messages) == 1


def test_old_notifications_are_not_mailed_when_mail_is_switched_on(world, make_app, smtp_sink, frozen_clock):
    frozen_clock(T0 - timedelta(days=3))
    add(world.rep_a, 5)
    frozen_clock(T0)
    other = mail_app(make_app, smtp_sink.port)
    with other.app_context():
        assert notifications.send_notification_mail() == 0
        db.session.remove()
    assert smtp_sink.messages == []


def test_the_digest_is_mailed_once_when_mail_is_on(world, due_customers, make_app, smtp_sink):
    other = mail_app(make_app, smtp_sink.port)
    with other.app_context():
        assert digest.send_follow_up_digests() == 2
        assert wait_for(lambda: len(smtp_sink.messages) == 2)
        assert digest.send_follow_up_digests() == 0
        assert notifications.send_notification_mail() == 0
        db.session.remove()
    time.sleep(0.3)
    recipients = sorted(rcpt for rcpts, _content in smtp_sink.messages for rcpt in rcpts)
    assert recipients == ["rep.a@test.example", "rep.b@test.example"]
    raw = next(content for rcpts, content in smtp_sink.messages if rcpts == ["rep.a@test.example"])
    mail = email.message_from_string(raw, policy=email.policy.default)
    assert mail["Subject"] == "[Salesdesk] 今日待跟进 1 个，逾期 2 个"
    assert "https://desk.example.cn/customers?owner=me&follow_up=due_or_overdue" in mail.get_content()
