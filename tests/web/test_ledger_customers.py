"""The customer pages: create through the duplicate check, edit, stage, follow-ups,
collaborators, trash, as each role sees them."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from salesdesk.audit import AuditEvent
from salesdesk.extensions import db
from salesdesk.ledger.models import (
    Collaborator,
    ContactPhone,
    Customer,
    FollowUp,
    OwnershipChange,
    StageChange,
)
from salesdesk.notifications import Notification
from tests.fixtures.ledger import contact_form, follow_up_form, make_customer, new_customer_form
from tests.helpers import LiveClient


def count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def html_of(response):
    return response.get_data(as_text=True)


# ---- create ----------------------------------------------------------------------------


def test_a_rep_creates_a_customer_and_owns_it(client_as, world):
    response = client_as(world.rep_a).post("/customers/new", data=new_customer_form())
    assert response.status_code == 303
    customer = db.session.scalar(select(Customer))
    assert response.headers["Location"] == f"/customers/{customer.id}"
    assert customer.owner_id == world.rep_a.id and customer.team_id == world.team_a.id
    assert str(customer.expected_amount) == "88000.50"
    assert customer.tag_names == ["华东", "重点客户"]
    assert [p.key for p in customer.contacts[0].phones] == ["13911112222"]
    assert count(OwnershipChange, OwnershipChange.reason == "create") == 1
    assert count(StageChange) == 1
    assert count(AuditEvent, AuditEvent.action == "customer.created") == 1


def test_a_manager_may_create_into_the_pool_or_for_a_rep(client_as, world):
    manager = client_as(world.manager_a)
    manager.post("/customers/new", data=new_customer_form())
    manager.post(
        "/customers/new",
        data=new_customer_form(
            name="宁波海港物流有限公司",
            contact_phone="13922223333",
            contact_email="",
            owner_id=str(world.rep_a2.id),
        ),
    )
    owners = dict(db.session.execute(select(Customer.name, Customer.owner_id)).all())
    assert owners == {"杭州云栖数据科技有限公司": None, "宁波海港物流有限公司": world.rep_a2.id}


def test_finding_6_names_are_stored_without_unseen_characters(client_as, world):
    form = new_customer_form(
        name="\u3164宁波\u200b海港物流\ufe0f有限公司\u0301\u202e",
        industry="物流\u200d",
        tags="重点\u2060客户, 华东\ufeff",
        contact_name="陈\u3164经理\u200b",
        contact_title="采购\u034f经理",
        contact_phone="١٣٩ ١١١١ ٢٢٢٢\u200f",
        contact_wechat="chen_yq\ufe0f",
    )
    response = client_as(world.rep_a).post("/customers/new", data=form)
    assert response.status_code == 303
    customer = db.session.scalar(select(Customer))
    contact = customer.contacts[0]
    assert (customer.name, customer.name_key) == ("宁波海港物流有限公司", "海港物流")
    assert customer.industry == "物流"
    assert customer.tag_names == ["华东", "重点客户"]
    assert (contact.name, contact.title, contact.wechat) == ("陈经理", "采购经理", "chen_yq")
    assert [(p.number, p.key) for p in contact.phones] == [("١٣٩ ١١١١ ٢٢٢٢", "13911112222")]


def test_a_manager_cannot_assign_into_another_team(client_as, world):
    response = client_as(world.manager_a).post(
        "/customers/new", data=new_customer_form(owner_id=str(world.rep_b.id))
    )
    assert response.status_code in (403, 422)
    assert count(Customer) == 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": ""}, "该字段是必填字段"),
        ({"name": "有限公司"}, "不只是"),
        ({"credit_code": "91350100M000100Y44"}, "校验码不匹配"),
        ({"credit_code": "123"}, "18 位"),
        ({"contact_phone": "12"}, "不是有效的电话号码"),
        ({"contact_email": "not-an-email"}, "不是有效的邮箱地址"),
        ({"expected_amount": "abc"}, "不是有效的金额"),
        ({"expected_amount": "-5"}, "金额不能为负数"),
        ({"expected_amount": "1e30"}, "金额必须小于 1 万亿元"),
        ({"expected_amount": "1.234"}, "两位小数"),
        ({"stage": "bought"}, "Not a valid choice"),
        ({"tags": ",".join(f"t{i}" for i in range(20))}, "最多 10 个标签"),
        ({"name": "x" * 300}, "200"),
        ({"next_follow_up_on": "2026-02-31"}, "日期"),
    ],
)
def test_bad_input_is_refused_with_a_message(client_as, world, changes, message):
    response = client_as(world.rep_a).post("/customers/new", data=new_customer_form(**changes))
    assert response.status_code == 422
    assert message in html_of(response) or message == "Not a valid choice"
    assert count(Customer) == 0


def test_the_form_libraries_own_messages_follow_each_users_language(client_as, world):
    # WTForms' catalogue is read once per language and process: a second language in the
    # same process gets its own.
    chinese, english = client_as(world.rep_a), client_as(world.rep_b)
    english.post("/language", data={"locale": "en", "next": "/"})
    for _ in range(2):
        assert "该字段是必填字段" in html_of(chinese.post("/customers/new", data=new_customer_form(name="")))
        assert "This field is required." in html_of(
            english.post("/customers/new", data=new_customer_form(name=""))
        )


class TestDuplicateCheck:
    @pytest.fixture
    def existing(self, world):
        customer = make_customer(
            world.rep_b, "深圳市腾飞科技有限公司", phone="+86 138 0013 8000", email="Wang@Tengfei.example"
        )
        from salesdesk.ledger import followups

        followups.log_follow_up(world.rep_b, customer.id, channel="phone", content="报价已发")
        return customer

    @pytest.mark.parametrize(
        "changes",
        [
            {"name": "腾飞科技（深圳）有限公司"},
            {"name": "騰飛科技有限公司"},
            {"contact_phone": "13800138000"},
            {"contact_phone2": "0086-138-0013-8000"},
            {"contact_email": " wang@tengfei.EXAMPLE "},
        ],
    )
    def test_an_exact_key_blocks(self, client_as, world, existing, changes):
        form = new_customer_form(contact_phone="13911110000", contact_email="")
        response = client_as(world.rep_a).post("/customers/new", data={**form, **changes})
        html = html_of(response)
        assert response.status_code == 409
        assert "台账中已有该客户" in html and "深圳市腾飞科技有限公司" in html
        assert "王五" in html  # the owner
        assert "线索" in html  # the stage
        assert "查看或申请协作" in html
        # Never the existing customer's contacts (the form echoes only what this user typed).
        assert "王总" not in html and "138****8000" not in html and "Wang@tengfei.example" not in html
        assert count(Customer) == 1
        assert count(AuditEvent, AuditEvent.action == "customer.duplicate_blocked") == 1

    @pytest.mark.parametrize(
        "changes",
        [
            {"name": "深圳市腾飞科技\u0301有限公司"},  # a combining accent
            {"name": "深圳市腾飞科技有限公司\ufe00"},  # a variation selector
            {"name": "深圳市腾\u3164飞科技有限公司"},  # a Hangul filler
            {"contact_phone": "١٣٨٠٠١٣٨٠٠٠"},  # Arabic-Indic digits
            {"contact_phone2": "+٨٦ ۱۳۸ ۰۰۱۳ ۸۰۰۰"},  # Extended Arabic-Indic digits
        ],
    )
    def test_finding_6_a_copy_that_looks_the_same_is_blocked(self, client_as, world, existing, changes):
        form = new_customer_form(contact_phone="13911110000", contact_email="")
        response = client_as(world.rep_a).post("/customers/new", data={**form, **changes})
        assert response.status_code == 409
        assert "台账中已有该客户" in html_of(response) and "深圳市腾飞科技有限公司" in html_of(response)
        assert count(Customer) == 1
        assert count(AuditEvent, AuditEvent.action == "customer.duplicate_blocked") == 1

    def test_finding_6_an_edit_to_a_copy_that_looks_the_same_is_blocked(self, client_as, world, existing):
        other = make_customer(world.rep_a, "宁波海港物流有限公司")
        form = edit_form(other, name="深圳市腾飞\ufe0f科技\u0301有限公司")
        response = client_as(world.rep_a).post(f"/customers/{other.id}/edit", data=form)
        assert response.status_code == 409 and "台账中已有该客户" in html_of(response)
        db.session.refresh(other)
        assert other.name == "宁波海港物流有限公司"

    def test_a_trashed_customer_still_blocks(self, client_as, world, existing):
        client_as(world.admin).post(f"/customers/{existing.id}/delete")
        response = client_as(world.rep_a).post(
            "/customers/new", data=new_customer_form(name="腾飞科技有限公司")
        )
        assert response.status_code == 409 and "在回收站中" in html_of(response)

    def test_a_similar_name_warns_and_can_be_confirmed(self, client_as, world):
        make_customer(world.rep_b, "杭州云栖大数据科技有限公司")
        rep = client_as(world.rep_a)
        warned = rep.post("/customers/new", data=new_customer_form(name="杭州云栖大数据技术有限公司"))
        assert warned.status_code == 422
        assert "相似客户" in html_of(warned) and "杭州云栖大数据科技有限公司" in html_of(warned)
        assert count(Customer) == 1
        confirmed = rep.post(
            "/customers/new", data=new_customer_form(name="杭州云栖大数据技术有限公司", confirm_similar="y")
        )
        assert confirmed.status_code == 303
        assert count(Customer) == 2

    def test_finding_6_unseen_characters_do_not_hide_a_similar_name(self, client_as, world):
        make_customer(world.rep_b, "杭州云栖大数据科技有限公司")
        name = "杭州云栖大数据技术\u0301\ufe00\u3164有限公司"
        warned = client_as(world.rep_a).post("/customers/new", data=new_customer_form(name=name))
        assert warned.status_code == 422
        assert "相似客户" in html_of(warned) and "杭州云栖大数据科技有限公司" in html_of(warned)
        assert count(Customer) == 1

    def test_the_live_check_answers_while_typing(self, client_as, world, existing):
        rep = client_as(world.rep_a)
        partial = rep.post(
            "/customers/duplicates",
            data={"name": "", "kind": "company", "contact_phone": "138 0013 8000"},
            htmx=True,
        )
        assert partial.status_code == 200
        assert "<html" not in html_of(partial) and "深圳市腾飞科技有限公司" in html_of(partial)
        clear = rep.post("/customers/duplicates", data={"name": "全新客户", "kind": "company"}, htmx=True)
        assert "暂未发现重复客户" in html_of(clear)

    def test_concurrent_creates_of_one_customer_yield_exactly_one(self, app, world, live_server):
        clients = [
            LiveClient(live_server, email)
            for email in [
                "rep.a@test.example",
                "rep.a2@test.example",
                "rep.b@test.example",
                "manager.a@test.example",
            ]
            * 2
        ]
        form = new_customer_form(name="并发科技有限公司", contact_phone="13700000001")
        with ThreadPoolExecutor(len(clients)) as pool:
            statuses = list(pool.map(lambda c: c.post("/customers/new", data=form).status_code, clients))
        for client in clients:
            client.close()
        # One wins. The others are refused: 409 when they lost the race at the insert,
        # or 422 (the form with the duplicate shown) when the winner had committed
        # before their duplicate check ran.
        assert statuses.count(303) == 1
        assert set(statuses) - {303} <= {409, 422}
        assert count(Customer) == 1 and count(ContactPhone) == 1


# ---- the customer page and visibility --------------------------------------------------


@pytest.fixture
def customer(world):
    customer = make_customer(
        world.rep_a,
        "苏州恒达精密机械有限公司",
        phone="13812345678",
        email="zhao@hengda.example",
        notes="关注交期",
    )
    from salesdesk.ledger import followups

    followups.log_follow_up(world.rep_a, customer.id, channel="visit", content="拜访赵总，确认需求")
    return customer


@pytest.mark.parametrize(
    ("role", "sees_details"),
    [
        ("rep_a", True),
        ("manager_a", True),
        ("support_a", True),
        ("admin", True),
        ("rep_a2", False),
        ("manager_b", False),
        ("rep_b", False),
    ],
)
def test_who_sees_contact_details(client_as, world, customer, role, sees_details):
    html = html_of(client_as(getattr(world, role)).get(f"/customers/{customer.id}"))
    assert "苏州恒达精密机械有限公司" in html and "张三" in html  # existence and owner: everyone
    assert ("13812345678" in html) == sees_details
    assert ("138****5678" in html) == (not sees_details)
    assert ("zhao@hengda.example" in html) == sees_details
    assert ("z***@hengda.example" in html) == (not sees_details)
    assert ("拜访赵总" in html) == sees_details  # the timeline
    assert ("关注交期" in html) == sees_details  # notes


def test_collaborators_see_details(client_as, world, customer):
    rep2 = client_as(world.rep_a2)
    assert "138****5678" in html_of(rep2.get(f"/customers/{customer.id}"))
    client_as(world.rep_a).post(f"/customers/{customer.id}/collaborators", data={"user_id": world.rep_a2.id})
    assert "13812345678" in html_of(rep2.get(f"/customers/{customer.id}"))


def test_pool_customers_are_masked_until_claimed(client_as, world):
    pooled = make_customer(world.manager_a, "公海测试有限公司", phone="13600001111", pool=True)
    assert "136****1111" in html_of(client_as(world.manager_a).get(f"/customers/{pooled.id}"))
    assert "136****1111" in html_of(client_as(world.rep_a).get(f"/customers/{pooled.id}"))
    assert "13600001111" in html_of(client_as(world.support_a).get(f"/customers/{pooled.id}"))


def test_unknown_and_deleted_customers_are_404(client_as, world, customer):
    rep = client_as(world.rep_a)
    assert rep.get("/customers/999999").status_code == 404
    assert rep.get("/customers/abc").status_code == 404
    client_as(world.admin).post(f"/customers/{customer.id}/delete")
    assert rep.get(f"/customers/{customer.id}").status_code == 404


# ---- edit, stage, follow-ups -------------------------------------------------------------


def edit_form(customer, **changes):
    return {
        "kind": customer.kind,
        "name": customer.name,
        "credit_code": customer.credit_code or "",
        "industry": customer.industry,
        "province": customer.province,
        "city": customer.city,
        "source": customer.source,
        "grade": customer.grade,
        "stage": customer.stage,
        "expected_amount": str(customer.expected_amount),
        "tags": ", ".join(customer.tag_names),
        "next_follow_up_on": customer.next_follow_up_on.isoformat() if customer.next_follow_up_on else "",
        "notes": customer.notes,
        "version": customer.version,
        **changes,
    }


def test_owner_edits_fields(client_as, world, customer):
    response = client_as(world.rep_a).post(
        f"/customers/{customer.id}/edit", data=edit_form(customer, grade="A", expected_amount="500000")
    )
    assert response.status_code == 303
    assert customer.grade == "A" and str(customer.expected_amount) == "500000.00" and customer.version == 2


def test_a_stale_edit_is_refused_with_the_fresh_values(client_as, world, customer):
    stale = edit_form(customer)
    manager, rep = client_as(world.manager_a), client_as(world.rep_a)
    assert (
        manager.post(
            f"/customers/{customer.id}/edit", data=edit_form(customer, industry="机械制造")
        ).status_code
        == 303
    )
    response = rep.post(f"/customers/{customer.id}/edit", data={**stale, "industry": "电子", "grade": "D"})
    html = html_of(response)
    assert response.status_code == 409
    assert "其他人已保存了该客户" in html
    assert 'value="机械制造"' in html  # the current value in the form
    assert "电子" in html  # what the rep typed, shown beside it
    assert customer.industry == "机械制造" and customer.grade == "C"


@pytest.mark.parametrize("role", ["rep_a2", "rep_b", "support_a", "manager_b"])
def test_others_cannot_edit(client_as, world, customer, role):
    client = client_as(getattr(world, role))
    assert client.get(f"/customers/{customer.id}/edit").status_code == 403
    assert (
        client.post(f"/customers/{customer.id}/edit", data=edit_form(customer, grade="A")).status_code == 403
    )
    assert (
        client.post(
            f"/customers/{customer.id}/stage", data={"stage": "won", "version": customer.version}
        ).status_code
        == 403
    )
    assert customer.grade == "C" and customer.stage == "lead"


def test_stage_changes_are_recorded(client_as, world, customer):
    rep = client_as(world.rep_a)
    assert (
        rep.post(
            f"/customers/{customer.id}/stage", data={"stage": "quoted", "version": customer.version}
        ).status_code
        == 303
    )
    rows = db.session.execute(
        select(StageChange.from_stage, StageChange.to_stage).order_by(StageChange.id)
    ).all()
    assert rows == [(None, "lead"), ("lead", "quoted")]
    assert "将阶段从「线索」改为「方案报价」" in html_of(rep.get(f"/customers/{customer.id}"))


def test_each_stage_change_keeps_when_the_stage_it_leaves_was_entered(
    client_as, world, customer, frozen_clock
):
    """What the board's funnel reads for the days spent in a stage."""
    rep = client_as(world.rep_a)
    created = db.session.scalar(select(StageChange.at))
    for days, stage in ((3, "quoted"), (10, "won")):
        frozen_clock(created + timedelta(days=days))
        rep.post(f"/customers/{customer.id}/stage", data={"stage": stage, "version": customer.version})
    rows = db.session.execute(select(StageChange.at, StageChange.entered_at).order_by(StageChange.id)).all()
    assert [entered for _at, entered in rows] == [None, rows[0].at, rows[1].at]
    assert rows[2].at - rows[2].entered_at == timedelta(days=7)


def test_stage_change_with_an_old_version_is_refused(client_as, world, customer):
    rep = client_as(world.rep_a)
    old = customer.version
    rep.post(f"/customers/{customer.id}/stage", data={"stage": "quoted", "version": old})
    rep.post(f"/customers/{customer.id}/stage", data={"stage": "lost", "version": old})
    assert customer.stage == "quoted"


def test_winning_sends_the_signal_inside_the_transaction(client_as, world, customer):
    from salesdesk import signals

    received = []
    with signals.customer_won.connected_to(lambda sender, actor: received.append((sender.id, actor.id))):
        client_as(world.rep_a).post(
            f"/customers/{customer.id}/stage", data={"stage": "won", "version": customer.version}
        )
    assert received == [(customer.id, world.rep_a.id)]


def test_logging_a_follow_up_updates_the_customer(client_as, world, frozen_clock):
    frozen_clock(datetime(2026, 5, 6, 2, 0, tzinfo=UTC))  # 10:00 in Shanghai
    customer = make_customer(world.rep_a, "苏州恒达精密机械有限公司")
    rep = client_as(world.rep_a)
    response = rep.post(
        f"/customers/{customer.id}/follow-ups",
        data=follow_up_form(
            channel="wechat",
            content="微信发了报价单",
            occurred_at="2026-05-06T09:30",
            next_step="等回复",
            next_follow_up_on="2026-05-08",
        ),
    )
    assert response.status_code == 303
    row = db.session.scalar(select(FollowUp).where(FollowUp.content == "微信发了报价单"))
    assert row.occurred_at == datetime(2026, 5, 6, 1, 30, tzinfo=UTC)  # entered in Asia/Shanghai
    assert customer.next_follow_up_on == date(2026, 5, 8)
    assert customer.last_follow_up_at == row.occurred_at


def test_follow_up_by_htmx_returns_the_activity_fragment(client_as, world, customer):
    response = client_as(world.rep_a).post(
        f"/customers/{customer.id}/follow-ups",
        data=follow_up_form(content="电话确认到货"),
        htmx=True,
    )
    html = html_of(response)
    assert response.status_code == 200
    assert "<html" not in html and "电话确认到货" in html and "记录跟进" in html
    assert "toast" in response.headers["HX-Trigger"]


@pytest.mark.parametrize(
    "data",
    [
        follow_up_form(content=""),
        follow_up_form(channel="pigeon"),
        follow_up_form(occurred_at="2099-01-01T10:00"),
        follow_up_form(content="x" * 6000),
        follow_up_form(next_follow_up_on="yesterday"),
    ],
)
def test_bad_follow_ups_are_refused(client_as, world, customer, data):
    response = client_as(world.rep_a).post(f"/customers/{customer.id}/follow-ups", data=data)
    assert response.status_code == 422
    assert count(FollowUp) == 1


def test_follow_ups_need_a_right_to_log(client_as, world, customer):
    for role in ("rep_a2", "rep_b", "support_a"):
        response = client_as(getattr(world, role)).post(
            f"/customers/{customer.id}/follow-ups", data=follow_up_form()
        )
        assert response.status_code == 403
    client_as(world.rep_a).post(
        f"/customers/{customer.id}/collaborators", data={"user_id": world.support_a.id}
    )
    response = client_as(world.support_a).post(
        f"/customers/{customer.id}/follow-ups", data=follow_up_form(content="支持同事跟进")
    )
    assert response.status_code == 303


# ---- contacts -----------------------------------------------------------------------------


def test_contacts_are_added_edited_and_deleted(client_as, world, customer):
    rep = client_as(world.rep_a)
    added = rep.post(
        f"/customers/{customer.id}/contacts/new",
        data=contact_form(name="钱会计", title="财务", phone="0512-6666 8888", email="qian@hengda.example"),
    )
    assert added.status_code == 303
    contact = customer.contacts[-1]
    assert [p.key for p in contact.phones] == ["051266668888"]
    edited = rep.post(
        f"/customers/{customer.id}/contacts/{contact.id}/edit",
        data=contact_form(name="钱会计", title="财务经理", phone="13700001234", version=str(contact.version)),
    )
    assert edited.status_code == 303
    assert [p.key for p in contact.phones] == ["13700001234"] and contact.email is None
    assert rep.post(f"/customers/{customer.id}/contacts/{contact.id}/delete").status_code == 303
    assert len(customer.contacts) == 1


def test_a_phone_of_another_customer_is_refused_on_contacts_too(client_as, world, customer):
    other = make_customer(world.rep_b, "另一家有限公司", phone="13566667777")
    response = client_as(world.rep_a).post(
        f"/customers/{customer.id}/contacts/new", data=contact_form(name="某人", phone="135-6666-7777")
    )
    assert response.status_code == 422
    assert "另一家有限公司" in html_of(response)
    assert other.contacts[0].phones[0].key == "13566667777"


def test_finding_6_a_phone_of_another_customer_in_other_digits_is_refused(client_as, world, customer):
    make_customer(world.rep_b, "另一家有限公司", phone="13566667777")
    response = client_as(world.rep_a).post(
        f"/customers/{customer.id}/contacts/new", data=contact_form(name="某人", phone="١٣٥-٦٦٦٦-٧٧٧٧")
    )
    assert response.status_code == 422
    assert "另一家有限公司" in html_of(response)
    assert count(ContactPhone) == 2


def test_contacts_of_another_customer_cannot_be_touched(client_as, world, customer):
    other = make_customer(world.rep_a, "自己的另一家有限公司", phone="13566667777")
    rep = client_as(world.rep_a)
    contact_id = other.contacts[0].id
    assert rep.post(f"/customers/{customer.id}/contacts/{contact_id}/delete").status_code == 400
    assert rep.get(f"/customers/{customer.id}/contacts/{contact_id}/edit").status_code == 404
    assert len(other.contacts) == 1


# ---- collaborators ----------------------------------------------------------------------------


def test_ask_to_join_then_owner_approves(client_as, world, customer):
    rep2 = client_as(world.rep_a2)
    assert (
        rep2.post(
            f"/customers/{customer.id}/collaborators/request", data={"message": "我有这家的人脉"}
        ).status_code
        == 303
    )
    requested = db.session.scalar(select(Notification).where(Notification.user_id == world.rep_a.id))
    assert (requested.kind, requested.link) == ("collaboration.requested", f"/customers/{customer.id}")
    owner_page = html_of(client_as(world.rep_a).get(f"/customers/{customer.id}"))
    assert "我有这家的人脉" in owner_page
    # Only the owner's side can answer.
    assert rep2.post(f"/customers/{customer.id}/collaborators/{world.rep_a2.id}/approve").status_code == 403
    assert (
        client_as(world.rep_a)
        .post(f"/customers/{customer.id}/collaborators/{world.rep_a2.id}/approve")
        .status_code
        == 303
    )
    assert db.session.scalar(select(Collaborator.status)) == "active"
    assert "13812345678" in html_of(rep2.get(f"/customers/{customer.id}"))
    assert (
        count(
            Notification,
            Notification.user_id == world.rep_a2.id,
            Notification.kind == "collaboration.approved",
        )
        == 1
    )


def test_declined_request_leaves_no_access(client_as, world, customer):
    client_as(world.rep_b).post(f"/customers/{customer.id}/collaborators/request", data={"message": ""})
    assert count(Collaborator) == 1
    client_as(world.rep_a).post(f"/customers/{customer.id}/collaborators/{world.rep_b.id}/decline")
    assert count(Collaborator) == 0
    assert "138****5678" in html_of(client_as(world.rep_b).get(f"/customers/{customer.id}"))


def test_collaborator_refusals(client_as, world, customer):
    rep = client_as(world.rep_a)
    assert rep.post(f"/customers/{customer.id}/collaborators/request").status_code == 422  # no message field
    own = rep.post(f"/customers/{customer.id}/collaborators/request", data={"message": "我也来"})
    assert own.status_code == 422 and "你是该客户的负责人。" in html_of(own)  # own customer
    assert (
        rep.post(f"/customers/{customer.id}/collaborators", data={"user_id": world.rep_a.id}).status_code
        == 422
    )
    assert rep.post(f"/customers/{customer.id}/collaborators", data={"user_id": 999999}).status_code == 422
    assert count(Collaborator) == 0
    assert (
        client_as(world.rep_b)
        .post(f"/customers/{customer.id}/collaborators", data={"user_id": world.rep_b.id})
        .status_code
        == 403
    )


# ---- inline forms refused without JavaScript ------------------------------------------------------
# The customer page's small forms post without htmx too: a refusal shows the page again
# with the form's errors (422) and what was typed, not a bare error page.


def refused_page(response):
    assert response.status_code == 422
    page = html_of(response)
    assert "<html" in page  # the whole page, not an error page nor a fragment
    return page


def test_a_refused_request_to_join_keeps_the_message(client_as, world, customer):
    rep2 = client_as(world.rep_a2)
    page = refused_page(
        rep2.post(f"/customers/{customer.id}/collaborators/request", data={"message": "长" * 501})
    )
    assert (
        "字段长度不能超过 500 个字符。" in page and "长" * 501 in page and "苏州恒达精密机械有限公司" in page
    )
    pool = make_customer(world.manager_a, "宁波港通物流股份有限公司", pool=True)
    page = refused_page(
        rep2.post(f"/customers/{pool.id}/collaborators/request", data={"message": "我认识老板"})
    )
    assert "该客户在公海中，请直接领取。" in page and 'value="我认识老板"' in page
    assert count(Collaborator) == 0


def test_a_refused_collaborator_shows_the_form_again(client_as, world, customer):
    rep = client_as(world.rep_a)
    page = refused_page(rep.post(f"/customers/{customer.id}/collaborators", data={"user_id": world.admin.id}))
    assert f'action="/customers/{customer.id}/collaborators"' in page and "不是有效的选择。" in page
    assert f'<option value="{world.support_a.id}">' in page  # the choices are still there
    assert count(Collaborator) == 0


def test_a_refused_stage_change_shows_the_page_again(client_as, world, customer):
    rep = client_as(world.rep_a)
    page = refused_page(
        rep.post(f"/customers/{customer.id}/stage", data={"stage": "bogus", "version": customer.version})
    )
    assert f'action="/customers/{customer.id}/stage"' in page and "不是有效的选择。" in page
    assert customer.stage == "lead"
    assert rep.post(f"/customers/{customer.id}/stage", data={"stage": "won"}).status_code == 422  # no version
    assert client_as(world.rep_b).post(f"/customers/{customer.id}/stage").status_code == 403


def test_a_refused_follow_up_keeps_what_was_typed(client_as, world, customer):
    response = client_as(world.rep_a).post(
        f"/customers/{customer.id}/follow-ups",
        data=follow_up_form(content="电话确认了交期", occurred_at="2099-01-01T10:00", next_step="下周寄样品"),
    )
    page = refused_page(response)
    assert "跟进时间不能晚于现在。" in page and "电话确认了交期" in page and 'value="下周寄样品"' in page
    assert count(FollowUp) == 1


# ---- trash ---------------------------------------------------------------------------------------


def test_trash_and_restore(client_as, world, customer):
    assert client_as(world.rep_a).post(f"/customers/{customer.id}/delete").status_code == 403
    assert client_as(world.manager_b).post(f"/customers/{customer.id}/delete").status_code == 403
    assert client_as(world.manager_a).post(f"/customers/{customer.id}/delete").status_code == 303
    assert customer.deleted_at is not None
    assert "苏州恒达" not in html_of(client_as(world.rep_a).get("/customers"))
    admin = client_as(world.admin)
    assert client_as(world.manager_a).get("/customers/trash").status_code == 403
    assert "苏州恒达精密机械有限公司" in html_of(admin.get("/customers/trash"))
    assert client_as(world.manager_a).post(f"/customers/{customer.id}/restore").status_code == 403
    assert admin.post(f"/customers/{customer.id}/restore").status_code == 303
    assert customer.deleted_at is None and len(customer.contacts) == 1 and count(FollowUp) == 1
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.subject_type == "customers")
    ).all()
    assert {"customer.deleted", "customer.restored"} <= set(actions)


def test_the_trash_pages_through_every_deleted_customer(client_as, world, monkeypatch):
    from salesdesk.ledger import views

    monkeypatch.setattr(views, "TRASH_PER_PAGE", 2)
    for number in range(3):
        customer = make_customer(world.rep_a, f"回收站测试{number}号有限公司")
        assert client_as(world.manager_a).post(f"/customers/{customer.id}/delete").status_code == 303
    admin = client_as(world.admin)
    first, second = html_of(admin.get("/customers/trash")), html_of(admin.get("/customers/trash?page=2"))
    # Newest first: the third deleted is on page 1, the first deleted on page 2.
    assert "回收站测试2号" in first and "回收站测试0号" not in first and 'rel="next"' in first
    assert "回收站测试0号" in second and 'rel="prev"' in second
    assert world.manager_a.display_name in second


def test_the_customer_page_shows_the_playbooks_of_its_stage(client_as, world, customer):
    from tests.fixtures.kb import write

    write(world.manager_a, "方案报价阶段怎么做", "先确认预算，再发报价单。", stages=["quoted"])
    write(world.manager_a, "线索阶段的第一通电话", "介绍自己，确认需求。", stages=["lead"])
    write(world.support_a, "线索阶段草稿", "还没写完。", stages=["lead"], publish=False)
    rep = client_as(world.rep_a)
    html = html_of(rep.get(f"/customers/{customer.id}"))
    assert "线索阶段的第一通电话" in html and "方案报价阶段怎么做" not in html
    assert "线索阶段草稿" not in html  # drafts only for editors
    rep.post(f"/customers/{customer.id}/stage", data={"stage": "quoted", "version": customer.version})
    assert "方案报价阶段怎么做" in html_of(rep.get(f"/customers/{customer.id}"))
