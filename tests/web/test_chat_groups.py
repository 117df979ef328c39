"""Chat groups (issue 19): the admin pages, the events each group hears, and the outbox
that posts them after the commit, with retries, rate limits and at most one post per
message across processes. Robots are tests/fixtures/chat.py's local fake server."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from salesdesk.chat import connections, outbox
from salesdesk.chat.addresses import mask
from salesdesk.chat.models import ChatMessage, Connection
from salesdesk.database import write_transaction
from salesdesk.extensions import db
from salesdesk.ledger.customers import change_stage
from salesdesk.ledger.models import Customer
from salesdesk.notifications import Notification
from salesdesk.performance import report
from salesdesk.recognition import badges
from salesdesk.rules import collisions
from salesdesk.support import breaches
from tests.fixtures.ledger import make_customer
from tests.fixtures.recognition import award
from tests.fixtures.support import file, make_type
from tests.helpers import make_user

KEY = "6f1c9a4e-1111-2222-3333-444455556666"
PUBLIC_URL = "https://93.184.216.34/cgi-bin/webhook/send?key=" + KEY  # an IP: no DNS lookup


@pytest.fixture
def private_ok(app):
    """The fake robot listens on 127.0.0.1: allowed as for an intranet robot."""
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    app.config["BASE_URL"] = "https://crm.example.com"
    return app


def connect(robot_server, *, name="华东销售群", platform="wecom", team=None, events=("deal_won",), **fields):
    values = connections.Values(
        name=name,
        platform=platform,
        url=robot_server.url(f"/cgi-bin/webhook/send?key={KEY}") if robot_server else fields.pop("url"),
        secret=fields.pop("secret", ""),
        team_id=team.id if team else None,
        events=tuple(events),
        locale=fields.pop("locale", "zh_Hans_CN"),
        enabled=fields.pop("enabled", True),
    )
    return connections.create_connection(None, values)


def win(actor, customer):
    change_stage(actor, customer.id, "won", db.session.get(Customer, customer.id).version)


def wait_for_senders():
    for thread in list(outbox.SENDERS):
        thread.join(30)


def messages(**where):
    db.session.rollback()
    query = select(ChatMessage).order_by(ChatMessage.id)
    for key, value in where.items():
        query = query.where(getattr(ChatMessage, key) == value)
    return db.session.scalars(query).all()


def form_data(robot_server=None, **overrides):
    return {
        "name": "华东销售群",
        "platform": "wecom",
        "url": robot_server.url(f"/cgi-bin/webhook/send?key={KEY}") if robot_server else PUBLIC_URL,
        "secret": "",
        "team_id": "0",
        "events": ["deal_won", "urgent_request"],
        "locale": "zh_Hans_CN",
        "enabled": "y",
        **overrides,
    }


# ---- the admin pages ---------------------------------------------------------------------


def test_an_admin_connects_a_group_and_the_key_is_shown_masked(private_ok, world, client_as, robot_server):
    admin = client_as(world.admin)
    response = admin.post("/admin/integrations/new", data=form_data(robot_server))
    assert response.status_code == 303
    connection = db.session.scalars(select(Connection)).one()
    assert connection.events == ["deal_won", "urgent_request"] and connection.team_id is None
    page = admin.get("/admin/integrations").get_data(as_text=True)
    assert "华东销售群" in page and "企业微信群机器人" in page and "尚未发送" in page
    assert KEY not in page and "6f1c…6666" in page
    edit = admin.get(f"/admin/integrations/{connection.id}").get_data(as_text=True)
    assert KEY not in edit


def test_a_secret_is_never_rendered_again_and_an_empty_field_keeps_it(
    private_ok, world, client_as, robot_server
):
    admin = client_as(world.admin)
    secret = "SECabcdef0123456789"
    admin.post("/admin/integrations/new", data=form_data(robot_server, platform="dingtalk", secret=secret))
    connection = db.session.scalars(select(Connection)).one()
    page = admin.get(f"/admin/integrations/{connection.id}").get_data(as_text=True)
    assert secret not in page and "已保存密钥" in page
    # The page sends the masked address back: the saved one stays.
    masked = mask(connection.url)
    saved = admin.post(
        f"/admin/integrations/{connection.id}",
        data=form_data(platform="dingtalk", url=masked, name="改名了", secret=""),
    )
    assert saved.status_code == 303
    db.session.refresh(connection)
    assert connection.secret == secret and connection.name == "改名了" and KEY in connection.url
    admin.post(
        f"/admin/integrations/{connection.id}",
        data=form_data(platform="dingtalk", url=masked, secret="SECnew"),
    )
    db.session.refresh(connection)
    assert connection.secret == "SECnew"


@pytest.mark.parametrize(
    ("changes", "field_message"),
    [
        ({"url": "not a url"}, "请填写完整的 Webhook 地址"),
        ({"url": "http://93.184.216.34/hook"}, "须以 https:// 开头"),
        ({"url": "https://127.0.0.1/hook"}, "只能推送到公网地址"),
        ({"url": "https://localhost:8443/hook"}, "只能推送到公网地址"),  # a name that resolves to 127.0.0.1
        ({"url": "https://169.254.169.254/latest/meta-data"}, "只能推送到公网地址"),
        ({"url": "https://93.184.216.34/" + "k" * 2048}, "地址太长"),
        ({"platform": "slack"}, 'id="platform-error"'),
        ({"team_id": "999999"}, 'id="team_id-error"'),
        ({"events": ["deal_won", "bogus"]}, 'id="events-error"'),
        ({"platform": "dingtalk", "secret": "SEC has spaces"}, "不能包含空格"),
        ({"platform": "webhook", "secret": ""}, "需要密钥"),
        ({"platform": "wecom", "secret": "SECxyz"}, "没有密钥"),
        ({"name": "群" * 81}, "名称太长"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_nothing_saved(world, client_as, changes, field_message):
    """Without the private-address setting, as in production."""
    response = client_as(world.admin).post("/admin/integrations/new", data=form_data(**changes))
    assert response.status_code == 422
    assert field_message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Connection)) == 0


def test_unknown_and_forged_ids_are_404_and_others_are_refused(world, client_as, private_ok, robot_server):
    connection = connect(robot_server)
    admin = client_as(world.admin)
    assert admin.get("/admin/integrations/999999").status_code == 404
    assert admin.post("/admin/integrations/999999/test").status_code == 404
    assert admin.post("/admin/integrations/999999/delete").status_code == 404
    for user in (world.rep_a, world.manager_a, world.support_a):
        client = client_as(user)
        assert client.get("/admin/integrations").status_code == 403
        assert client.post(f"/admin/integrations/{connection.id}/delete").status_code == 403
    assert db.session.get(Connection, connection.id) is not None


def test_the_test_button_shows_the_platforms_answer(private_ok, world, client_as, robot_server):
    connection = connect(robot_server)
    admin = client_as(world.admin)
    page = admin.post(f"/admin/integrations/{connection.id}/test").get_data(as_text=True)
    assert "机器人已接收测试消息" in page and "errcode" in page
    sent = robot_server.requests[-1].json
    assert sent["msgtype"] == "markdown" and "来自 Salesdesk 的测试消息" in sent["markdown"]["content"]
    assert "https://crm.example.com/" in sent["markdown"]["content"]
    robot_server.behave("errcode", code=93000, message="invalid webhook url")
    fragment = admin.post(f"/admin/integrations/{connection.id}/test", htmx=True)
    text = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in text
    assert "机器人拒绝了测试消息" in text and "93000" in text and KEY not in text
    db.session.refresh(connection)
    assert "93000" in connection.last_error


def test_without_a_base_url_messages_have_no_link_and_the_page_warns(app, world, client_as, robot_server):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    connection = connect(robot_server)
    page = client_as(world.admin).get("/admin/integrations").get_data(as_text=True)
    assert "SALESDESK_BASE_URL" in page
    client_as(world.admin).post(f"/admin/integrations/{connection.id}/test")
    assert "](" not in robot_server.requests[-1].json["markdown"]["content"]


def test_delete_drops_the_connection_and_its_waiting_messages(private_ok, world, client_as, robot_server):
    connection = connect(robot_server)
    robot_server.behave("error", status=500)
    win(world.rep_a, make_customer(world.rep_a))
    wait_for_senders()
    assert messages(connection_id=connection.id)
    connection_id = connection.id
    response = client_as(world.admin).post(f"/admin/integrations/{connection_id}/delete")
    assert response.status_code == 303
    assert not messages() and db.session.get(Connection, connection_id) is None


# ---- events ---------------------------------------------------------------------------------


def test_a_deal_won_is_posted_after_the_commit_without_slowing_the_request(
    private_ok, world, client_as, robot_server
):
    connect(robot_server)
    robot_server.behave("slow", seconds=3)  # twice the time the request gets below: room for a busy machine
    customer = make_customer(
        world.rep_a, "宁波海曙精工有限公司", phone="13812345678", expected_amount="128000.50"
    )
    rep = client_as(world.rep_a)
    started = time.monotonic()
    response = rep.post(
        f"/customers/{customer.id}/stage",
        data={"stage": "won", "version": str(db.session.get(Customer, customer.id).version)},
    )
    took = time.monotonic() - started
    assert response.status_code in (200, 303) and took < 1.5
    wait_for_senders()
    (received,) = robot_server.requests
    content = received.json["markdown"]["content"]
    assert "宁波海曙精工有限公司" in content and "128,000.50" in content and "张三" in content
    assert "13812345678" not in content
    (message,) = messages()
    assert message.sent_at is not None and message.attempts == 0


def test_a_rolled_back_event_leaves_nothing_to_post(private_ok, world, robot_server):
    connect(robot_server)
    customer = make_customer(world.rep_a)
    with pytest.raises(RuntimeError), write_transaction():
        win(world.rep_a, customer)
        raise RuntimeError("the change failed after the event")
    wait_for_senders()
    assert not messages() and not robot_server.requests


def test_each_group_hears_its_own_team_and_the_company_hears_all(private_ok, world, robot_server):
    team_a = connect(robot_server, name="A 群", team=world.team_a)
    team_b = connect(robot_server, name="B 群", team=world.team_b)
    company = connect(robot_server, name="全公司群")
    quiet = connect(robot_server, name="只要周报", events=("weekly_report",))
    off = connect(robot_server, name="停用", enabled=False)
    win(world.rep_a, make_customer(world.rep_a))
    wait_for_senders()
    heard = {message.connection_id for message in messages()}
    assert heard == {team_a.id, company.id}
    assert team_b.id not in heard and quiet.id not in heard and off.id not in heard


def test_messages_are_in_the_groups_language(private_ok, world, robot_server):
    connect(robot_server, locale="en")
    win(world.rep_a, make_customer(world.rep_a, "温州瓯海电器有限公司"))
    wait_for_senders()
    (message,) = messages()
    assert message.content["title"].startswith("🎉 Deal won") and "Amount" in message.content["lines"][1]


def test_an_urgent_request_and_a_breach_are_posted_without_the_details(
    private_ok, world, frozen_clock, robot_server
):
    frozen_clock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))  # Monday 10:00 in Shanghai
    connect(robot_server, events=("urgent_request", "breach"))
    queue = make_type("华东合同审核", world.team_a)
    file(world.rep_a, queue, title="普通请求")
    urgent = file(
        world.rep_a, queue, title="合同今天必须盖章", priority="urgent", details="客户电话 13900001111"
    )
    (message,) = messages()
    assert message.event == "urgent_request" and "合同今天必须盖章" in message.content["title"]
    assert "13900001111" not in str(message.content)
    frozen_clock(datetime(2026, 3, 4, 2, 0, tzinfo=UTC))
    breaches.check_levels()
    breached = [m for m in messages() if m.event == "breach"]
    assert any(m.dedupe_key == f"breach:{urgent.id}:response" for m in breached)
    assert "13900001111" not in str([m.content for m in breached])
    breaches.check_levels()  # flipped once: posted once
    assert len([m for m in messages() if m.event == "breach"]) == len(breached)


def test_a_collision_is_posted_without_its_reason(private_ok, world, robot_server):
    connect(robot_server, team=world.team_a, events=("collision",))
    customer = make_customer(world.rep_a, "绍兴柯桥纺织有限公司")
    collisions.file_collision(world.rep_a2, customer.id, "客户的王总手机 13700002222 是我先打通的")
    (message,) = messages()
    assert "绍兴柯桥纺织有限公司" in message.content["title"]
    assert "13700002222" not in str(message.content) and "李四" in str(message.content)


def test_the_months_stars_are_posted_once_to_every_group_that_wants_them(
    private_ok, world, frozen_clock, robot_server
):
    frozen_clock(datetime(2026, 2, 10, 4, 0, tzinfo=UTC))
    team_b = connect(robot_server, team=world.team_b, events=("stars",))
    company = connect(robot_server, events=("stars",))
    award(world.manager_a, world.rep_a, 10)
    frozen_clock(datetime(2026, 3, 2, 4, 0, tzinfo=UTC))
    badges.close_due_months()
    badges.close_due_months()
    stars = messages(event="stars")
    assert {message.connection_id for message in stars} == {team_b.id, company.id}
    assert "张三" in stars[0].content["lines"][0]


def test_the_weekly_report_is_posted_once_per_team(private_ok, world, frozen_clock, robot_server, make_app):
    connect(robot_server, team=world.team_a, events=("weekly_report",))
    make_user("manager.a2@test.example", world.manager_a.role, world.team_a, "第二经理")
    frozen_clock(datetime(2026, 3, 9, 1, 0, tzinfo=UTC))  # Monday 09:00 in Shanghai
    report.send_weekly_reports()
    report.send_weekly_reports()
    (message,) = messages(event="weekly_report")
    assert "华东大区" in message.content["title"] and message.dedupe_key.startswith(
        f"weekly:{world.team_a.id}:"
    )


# ---- the outbox ------------------------------------------------------------------------------


def queued(connection, count=1):
    with write_transaction() as session:
        for number in range(count):
            outbox.add(session, connection, connections.sample_message(connection), dedupe_key=f"t{number}")
        session.info.pop("chat_messages")  # no background sender: the test posts
    return messages(connection_id=connection.id)


def test_a_failing_robot_is_retried_with_back_off_then_given_up_and_the_admins_told_once(
    private_ok, world, frozen_clock, robot_server
):
    start = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    frozen_clock(start)
    connection = connect(robot_server)
    (message,) = queued(connection)
    robot_server.behave("html")
    assert outbox.send_due() == 0
    db.session.refresh(message)
    assert message.attempts == 1 and message.next_attempt_at == start + timedelta(minutes=1)
    assert outbox.send_due() == 0 and message.attempts == 1  # not due yet
    assert connections.status_of(db.session.get(Connection, connection.id), start) == "errors"
    moment = start
    while True:
        db.session.refresh(message)
        if message.gave_up_at is not None:
            break
        moment = message.next_attempt_at
        frozen_clock(moment)
        outbox.send_due()
    assert moment - start >= timedelta(hours=24) and message.attempts < 40
    connection = db.session.get(Connection, connection.id)
    db.session.refresh(connection)
    assert connections.status_of(connection, moment) == "failing" and connection.failing_announced
    told = db.session.scalars(select(Notification).where(Notification.kind == "chat.failing")).all()
    assert [n.user_id for n in told] == [world.admin.id]


def test_a_robot_that_recovers_is_working_again(private_ok, world, frozen_clock, robot_server):
    frozen_clock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    connection = connect(robot_server)
    (message,) = queued(connection)
    robot_server.behave("error", status=500)
    outbox.send_due()
    robot_server.behave("ok")
    frozen_clock(datetime(2026, 3, 2, 2, 1, tzinfo=UTC))
    assert outbox.send_due() == 1
    connection = db.session.get(Connection, connection.id)
    db.session.refresh(connection)
    assert connections.status_of(connection) == "ok" and connection.failing_since is None


def test_a_robot_gets_no_more_than_its_limit_a_minute(private_ok, world, frozen_clock, robot_server):
    frozen_clock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    connection = connect(robot_server)
    queued(connection, 25)
    assert outbox.send_due() == 20
    assert len(robot_server.requests) == 20
    frozen_clock(datetime(2026, 3, 2, 2, 1, 1, tzinfo=UTC))
    assert outbox.send_due() == 5


def test_a_feishu_robot_gets_five_a_second_and_a_hundred_a_minute(
    private_ok, world, frozen_clock, robot_server
):
    start = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    frozen_clock(start)
    robot_server.answer(json_body={"code": 0, "msg": "success"})
    connection = connect(robot_server, platform="feishu")
    queued(connection, 120)
    assert outbox.send_due() == 5  # the clock does not move: the rest waits for the next second
    sent = 5
    for second in range(1, 60):
        frozen_clock(start + timedelta(seconds=second, milliseconds=1))
        sent += outbox.send_due()
    assert sent == 100 and len(robot_server.requests) == 100
    frozen_clock(start + timedelta(seconds=61))
    assert outbox.send_due() == 5


def test_a_rate_limited_answer_waits_as_long_as_the_robot_asks(private_ok, world, frozen_clock, robot_server):
    start = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    frozen_clock(start)
    connection = connect(robot_server)
    (message,) = queued(connection)
    robot_server.behave("errcode", code=45009, message="api freq out of limit")
    outbox.send_due()
    db.session.refresh(message)
    assert message.next_attempt_at - start >= timedelta(seconds=60)


def test_two_senders_post_each_message_once(private_ok, world, robot_server, make_app):
    connection = connect(robot_server, platform="webhook", secret="topsecret")
    queued(connection, 15)
    robot_server.behave("slow", seconds=0.05)
    others = [make_app(WEBHOOK_ALLOW_PRIVATE=True) for _ in range(2)]
    barrier = threading.Barrier(2)

    def run(other):
        with other.app_context():
            barrier.wait()
            outbox.send_due()
            db.session.remove()

    threads = [threading.Thread(target=run, args=(other,)) for other in others]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    bodies = [received.json["data"]["connection"] for received in robot_server.requests]
    assert len(bodies) == 15  # fifteen messages, fifteen posts: none twice
    assert all(message.sent_at is not None for message in messages())


def test_messages_are_kept_30_days(private_ok, world, frozen_clock, robot_server):
    frozen_clock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    connection = connect(robot_server)
    queued(connection, 2)
    outbox.send_due()
    frozen_clock(datetime(2026, 4, 2, 2, 0, tzinfo=UTC))
    outbox.send_due()
    assert not messages()


def test_a_private_address_is_refused_again_at_send_time(world, frozen_clock, robot_server, app):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    connection = connect(robot_server)
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    (message,) = queued(connection)
    outbox.send_due()
    db.session.refresh(message)
    assert not robot_server.requests and message.attempts == 1 and message.sent_at is None
