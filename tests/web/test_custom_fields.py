"""Custom fields (issue 20): the admin's pages, the customer forms and page, the inline
edit, the timeline, masking of sensitive fields, and uniqueness held by the database
under concurrent creates. The list, import and export have their own modules."""

import re

import pytest
from sqlalchemy import func, select

from salesdesk.audit import AuditEvent
from salesdesk.auth import services as accounts
from salesdesk.extensions import db
from salesdesk.fields import definitions
from salesdesk.fields.definitions import Values
from salesdesk.fields.models import CustomField
from salesdesk.ledger.models import Contact, Customer
from tests.fixtures.ledger import contact_form, make_customer, new_customer_form
from tests.helpers import browser_session, post_all_at_once

SIZES = [("", "50人以下", "Under 50", False), ("", "50-200人", "50-200", False), ("", "200人以上", "", False)]


def add(actor, label, kind, **values):
    return definitions.create_field(actor, Values(label_zh=label, type=kind, **values))


@pytest.fixture
def fields(world):
    """One field of each type on customers, and a sensitive one on contacts."""
    admin = world.admin
    return {
        "size": add(admin, "员工规模", "single_choice", key="size", choices=SIZES, required=True),
        "budget": add(admin, "年度预算", "money", key="budget"),
        "renewal": add(admin, "合同到期日", "date", key="renewal"),
        "products": add(
            admin,
            "关注产品",
            "multiple_choice",
            key="products",
            choices=[("", "CRM", "", False), ("", "ERP", "", False)],
        ),
        "nda": add(admin, "已签保密协议", "yes_no", key="nda"),
        "decider": add(admin, "决策人手机", "text", key="decider", sensitive=True, unique=True),
        "headcount": add(admin, "员工人数", "number", key="headcount"),
        "background": add(admin, "客户背景", "long_text", key="background"),
        "sales": add(admin, "对接销售", "user", key="sales"),
        "hobby": add(admin, "爱好", "text", key="hobby", entity="contact", sensitive=True),
    }


def custom_form(**values):
    """The custom inputs a browser posts: every one, empty unless given (a multiple choice
    with nothing ticked is left out, as browsers do)."""
    form = {
        f"custom_{key}": ""
        for key in ("size", "budget", "renewal", "nda", "decider", "headcount", "background", "sales")
    }
    form.update({f"custom_{key}": value for key, value in values.items()})
    return form


def text_of(html):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# ---- the admin's pages --------------------------------------------------------------


def test_an_admin_adds_a_choice_field_and_it_shows_in_the_list_of_fields(client_as, world):
    admin = client_as(world.admin)
    assert admin.get("/admin/fields/new").status_code == 200
    response = admin.post(
        "/admin/fields/new",
        data={
            "entity": "customer",
            "label_zh": "获客渠道",
            "label_en": "Channel",
            "type": "single_choice",
            "key": "",
            "help_text": "客户最初从哪里来",
            "required": "y",
            "new_choices": "展会 | Trade fair\n转介绍\n",
        },
    )
    assert response.status_code == 303
    made = db.session.scalar(select(CustomField).where(CustomField.label_zh == "获客渠道"))
    assert made.key == "huokequdao"
    assert [(c["key"], c["zh"], c["en"]) for c in made.choices] == [
        ("c1", "展会", "Trade fair"),
        ("c2", "转介绍", ""),
    ]
    assert made.required and made.entity == "customer"
    page = text_of(admin.get("/admin/fields").get_data(as_text=True))
    assert "获客渠道" in page and "huokequdao" in page
    assert db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "field.created")
    )


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"label_zh": "字" * 500}, "60"),
        ({"label_zh": " "}, "必填"),
        ({"key": "size"}, "已被其他字段使用"),
        ({"key": "9lives"}, "标识只能包含"),
        ({"type": "single_choice", "new_choices": "展会\n展会"}, "重复了"),
        ({"type": "single_choice", "new_choices": ""}, "至少添加一个选项"),
        ({"type": "bogus"}, ""),
        ({"type": "money", "unique": "y"}, "只有文本和数字字段"),
        ({"type": "date", "searchable": "y"}, "只有单行文本字段"),
        ({"entity": "deal"}, ""),
    ],
)
def test_a_bad_field_is_refused_with_a_message_and_nothing_saved(client_as, world, fields, changes, says):
    before = db.session.scalar(select(func.count()).select_from(CustomField))
    data = {
        "entity": "customer",
        "label_zh": "新字段",
        "label_en": "",
        "type": "text",
        "key": "",
        "help_text": "",
    }
    data["new_choices"] = ""
    response = client_as(world.admin).post("/admin/fields/new", data={**data, **changes})
    assert response.status_code in (409, 422)
    assert says in text_of(response.get_data(as_text=True))
    assert db.session.scalar(select(func.count()).select_from(CustomField)) == before


def test_only_admins_manage_fields(client_as, world, fields):
    for user in (world.rep_a, world.manager_a, world.support_a):
        client = client_as(user)
        assert client.get("/admin/fields").status_code == 403
        assert client.post(f"/admin/fields/{fields['size'].id}/retire").status_code == 403
    assert fields["size"].active


def test_a_renamed_choice_renames_every_value_and_a_dropped_one_is_retired(client_as, world, fields):
    customer = make_customer(world.rep_a, "杭州云栖数据科技有限公司", custom={"size": "50-200人"})
    size = fields["size"]
    admin = client_as(world.admin)
    data = {
        "label_zh": "员工规模",
        "label_en": "",
        "type": "single_choice",
        "help_text": "",
        "required": "y",
        "new_choices": "",
        "version": str(size.version),
        "choice-c1-zh": "50人以下",
        "choice-c1-order": "3",
        "choice-c2-zh": "中型（50-200人）",
        "choice-c2-order": "1",
        "choice-c3-zh": "200人以上",
        "choice-c3-order": "2",
        "choice-c3-retired": "1",
    }
    assert admin.post(f"/admin/fields/{size.id}", data=data).status_code == 303
    db.session.refresh(size)
    assert [(c["key"], c["zh"], c["retired"]) for c in size.choices] == [
        ("c2", "中型（50-200人）", False),
        ("c3", "200人以上", True),
        ("c1", "50人以下", False),
    ]
    page = client_as(world.rep_a).get(f"/customers/{customer.id}").get_data(as_text=True)
    assert "中型（50-200人）" in page
    form = client_as(world.rep_a).get(f"/customers/{customer.id}/edit").get_data(as_text=True)
    assert "200人以上" not in form  # a retired choice is no longer offered


def test_a_type_cannot_change_once_values_exist_and_a_shared_value_cannot_become_unique(
    client_as, world, fields
):
    make_customer(world.rep_a, "杭州云栖数据科技有限公司", custom={"size": "c1", "headcount": "120"})
    make_customer(world.rep_a, "宁波海港物流有限公司", custom={"size": "c1", "headcount": "120"})
    admin = client_as(world.admin)
    headcount = fields["headcount"]
    data = {
        "label_zh": "员工人数",
        "label_en": "",
        "help_text": "",
        "new_choices": "",
        "version": str(headcount.version),
    }
    response = admin.post(f"/admin/fields/{headcount.id}", data={**data, "type": "text"})
    assert response.status_code == 422
    assert "类型不能再改" in response.get_data(as_text=True)
    response = admin.post(f"/admin/fields/{headcount.id}", data={**data, "type": "number", "unique": "y"})
    assert response.status_code == 409
    assert "相同的值" in response.get_data(as_text=True)
    db.session.refresh(headcount)
    assert (headcount.type, headcount.unique) == ("number", False)


def test_an_edit_from_a_stale_page_is_refused(client_as, world, fields):
    budget = fields["budget"]
    data = {"label_zh": "预算", "label_en": "", "type": "money", "help_text": "", "new_choices": ""}
    admin = client_as(world.admin)
    assert (
        admin.post(f"/admin/fields/{budget.id}", data={**data, "version": str(budget.version)}).status_code
        == 303
    )
    response = admin.post(f"/admin/fields/{budget.id}", data={**data, "label_zh": "旧页面", "version": "1"})
    assert response.status_code == 409
    db.session.refresh(budget)
    assert budget.label_zh == "预算"


def test_retire_restore_and_move(client_as, world, fields):
    admin = client_as(world.admin)
    customer = make_customer(world.rep_a, "杭州云栖数据科技有限公司", custom={"size": "c1", "budget": "5万"})
    budget = fields["budget"]
    assert admin.post(f"/admin/fields/{budget.id}/retire").status_code == 303
    db.session.refresh(budget)
    assert not budget.active
    rep = client_as(world.rep_a)
    assert "custom_budget" not in rep.get("/customers/new").get_data(as_text=True)
    page = text_of(rep.get(f"/customers/{customer.id}").get_data(as_text=True))
    assert "年度预算 （已停用） ¥50,000.00" in page
    # A value for a retired field is refused, and the kept value stays.
    response = rep.post(
        f"/customers/{customer.id}/fields",
        data={**custom_form(size="c1"), "custom_budget": "9万", "version": "1"},
    )
    assert response.status_code == 422
    assert db.session.get(Customer, customer.id).custom["budget"] == 5_000_000
    assert admin.post(f"/admin/fields/{budget.id}/restore").status_code == 303
    assert "custom_budget" in rep.get("/customers/new").get_data(as_text=True)
    order = [f.key for f in definitions.active_fields("customer")]
    assert (
        admin.post(f"/admin/fields/{fields['renewal'].id}/move", data={"direction": "up"}).status_code == 303
    )
    moved = [f.key for f in definitions.active_fields("customer")]
    assert moved.index("renewal") == order.index("renewal") - 1
    assert admin.post(f"/admin/fields/{budget.id}/move", data={"direction": "sideways"}).status_code == 400


# ---- the customer forms ---------------------------------------------------------------


def test_a_rep_fills_every_type_on_a_new_customer(client_as, world, fields):
    rep = client_as(world.rep_a)
    page = rep.get("/customers/new").get_data(as_text=True)
    for key in ("size", "budget", "renewal", "nda", "decider", "headcount", "background", "sales"):
        assert f'name="custom_{key}"' in page
    assert 'type="date"' in page and 'type="checkbox"' in page
    form = new_customer_form(
        owner_id="",
        **custom_form(
            size="c2",
            budget="¥12,000.50",
            renewal="2027-01-31",
            nda="yes",
            decider="13800001111",
            headcount="120",
            background="老客户转介绍\n预算充足",
            sales=str(world.rep_a2.id),
        ),
    )
    form["custom_products"] = ["c1", "c2"]
    del form["owner_id"]
    response = rep.post("/customers/new", data=form)
    assert response.status_code == 303, text_of(response.get_data(as_text=True))[:500]
    customer = db.session.scalar(select(Customer).where(Customer.name == "杭州云栖数据科技有限公司"))
    assert customer.custom == {
        "size": "c2",
        "budget": 1_200_050,
        "renewal": "2027-01-31",
        "products": ["c1", "c2"],
        "nda": True,
        "decider": "13800001111",
        "headcount": 120,
        "background": "老客户转介绍\n预算充足",
        "sales": world.rep_a2.id,
    }
    page = text_of(rep.get(f"/customers/{customer.id}").get_data(as_text=True))
    for shown in ("50-200人", "¥12,000.50", "2027年1月31日", "CRM、ERP", "13800001111", "120", "李四"):
        assert shown in page


@pytest.mark.parametrize(
    ("values", "says"),
    [
        ({"size": ""}, "请填写员工规模"),
        ({"budget": "abc"}, "年度预算"),
        ({"budget": "-5"}, "不能为负数"),
        ({"renewal": "2026-02-30"}, "不是日期"),
        ({"headcount": "many"}, "不是数字"),
        ({"size": "c9"}, "不是可选项之一"),
        ({"nda": "maybe"}, "是"),
        ({"sales": "999999"}, "不是在职用户"),
        ({"decider": "字" * 201}, "200"),
    ],
)
def test_a_wrong_value_is_refused_on_its_field_and_nothing_saved(client_as, world, fields, values, says):
    form = {**new_customer_form(), **custom_form(**{"size": "c1", **values})}
    del form["owner_id"]
    response = client_as(world.rep_a).post("/customers/new", data=form)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert says in text_of(html)
    assert "has-error" in html  # on the field, with what was typed kept
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 0


def test_a_user_field_refuses_a_deactivated_user(client_as, world, fields):
    accounts.deactivate_user(world.rep_a2, actor=world.admin)
    form = {**new_customer_form(), **custom_form(size="c1", sales=str(world.rep_a2.id))}
    del form["owner_id"]
    response = client_as(world.rep_a).post("/customers/new", data=form)
    assert response.status_code == 422
    assert "不是在职用户" in response.get_data(as_text=True)


@pytest.mark.parametrize("forged", ["custom_hobby", "custom_nosuch"])
def test_a_forged_field_of_contacts_or_of_nothing_is_refused(client_as, world, fields, forged):
    form = {**new_customer_form(), **custom_form(size="c1"), forged: "x"}
    del form["owner_id"]
    response = client_as(world.rep_a).post("/customers/new", data=form)
    assert response.status_code == 422
    assert "这里没有这个字段" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 0


def test_the_edit_form_shows_the_values_and_records_each_change_on_the_timeline(client_as, world, fields):
    customer = make_customer(world.rep_a, "杭州云栖数据科技有限公司", custom={"size": "c1", "budget": "5万"})
    rep = client_as(world.rep_a)
    page = rep.get(f"/customers/{customer.id}/edit").get_data(as_text=True)
    assert 'value="50000.00"' in page
    form = {
        **new_customer_form(name="杭州云栖数据科技有限公司"),
        **custom_form(size="c3", budget="8万"),
        "version": str(customer.version),
    }
    del form["owner_id"]
    assert rep.post(f"/customers/{customer.id}/edit", data=form).status_code == 303
    timeline = text_of(rep.get(f"/customers/{customer.id}").get_data(as_text=True))
    assert "修改了" in timeline and "年度预算：¥50,000.00 → ¥80,000.00" in timeline
    assert "50人以下 → 200人以上" in timeline


def test_the_inline_edit_saves_with_htmx_and_without_javascript(client_as, world, fields):
    customer = make_customer(world.rep_a, "杭州云栖数据科技有限公司", custom={"size": "c1"})
    rep = client_as(world.rep_a)
    page = rep.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert f'action="/customers/{customer.id}/fields"' in page
    version = customer.version
    data = {**custom_form(size="c2", budget="3万"), "version": str(version)}
    response = rep.post(f"/customers/{customer.id}/fields", data=data, headers={"HX-Request": "true"})
    assert response.status_code == 200
    fragment = response.get_data(as_text=True)
    assert fragment.lstrip().startswith('<section class="card" id="details">') and "¥30,000.00" in fragment
    data = {**custom_form(size="c3"), "version": str(version + 1)}
    assert rep.post(f"/customers/{customer.id}/fields", data=data).status_code == 303
    assert db.session.get(Customer, customer.id).custom == {"size": "c3"}
    # From a stale page: refused, and the form says why.
    response = rep.post(f"/customers/{customer.id}/fields", data={**data, "version": "1"})
    assert response.status_code == 409
    # Someone who may not edit: refused before anything.
    assert client_as(world.rep_b).post(f"/customers/{customer.id}/fields", data=data).status_code == 403


def test_a_sensitive_value_is_masked_for_whoever_may_not_see_the_details(client_as, world, fields):
    customer = make_customer(
        world.rep_b,
        "深圳市腾飞科技有限公司",
        phone="13900001111",
        custom={"size": "c1", "decider": "13512345678"},
    )
    contacts_row = db.session.scalar(select(Contact).where(Contact.customer_id == customer.id))
    contacts_row.custom = {"hobby": "高尔夫"}
    db.session.commit()
    for user, sees in (
        (world.rep_b, True),
        (world.manager_b, True),
        (world.admin, True),
        (world.rep_a, False),
        (world.manager_a, False),
    ):
        html = client_as(user).get(f"/customers/{customer.id}").get_data(as_text=True)
        assert ("13512345678" in html) is sees, user.display_name
        assert ("高尔夫" in html) is sees, user.display_name
        assert "50人以下" in html, "a field that is not sensitive shows to everyone"


def test_a_contact_field_is_on_the_contact_form_and_the_page(client_as, world, fields):
    customer = make_customer(world.rep_a, "杭州云栖数据科技有限公司", custom={"size": "c1"})
    rep = client_as(world.rep_a)
    assert 'name="custom_hobby"' in rep.get(f"/customers/{customer.id}/contacts/new").get_data(as_text=True)
    response = rep.post(
        f"/customers/{customer.id}/contacts/new", data={**contact_form(name="周工"), "custom_hobby": "钓鱼"}
    )
    assert response.status_code == 303
    assert db.session.scalar(select(Contact.custom).where(Contact.name == "周工")) == {"hobby": "钓鱼"}
    assert "钓鱼" in rep.get(f"/customers/{customer.id}").get_data(as_text=True)
    response = rep.post(
        f"/customers/{customer.id}/contacts/new",
        data={**contact_form(name="吴工"), "custom_hobby": "x", "custom_size": "c1"},
    )
    assert response.status_code == 422  # a customer field on a contact


# ---- uniqueness --------------------------------------------------------------------------


def test_a_unique_value_taken_by_another_customer_is_refused_naming_it(client_as, world, fields):
    make_customer(world.rep_b, "深圳市腾飞科技有限公司", custom={"size": "c1", "decider": "13512345678"})
    form = {**new_customer_form(), **custom_form(size="c1", decider="13512345678")}
    del form["owner_id"]
    response = client_as(world.rep_a).post("/customers/new", data=form)
    assert response.status_code == 409
    assert "深圳市腾飞科技有限公司" in response.get_data(as_text=True)


def test_two_concurrent_creates_with_the_same_unique_value_leave_one(app, live_server, world, fields):
    requests = []
    for index, user in enumerate((world.rep_a, world.rep_a2, world.rep_b)):
        form = {
            **new_customer_form(name=f"并发测试{index}号贸易有限公司", contact_phone=f"1390000{index:04d}"),
            **custom_form(size="c1", decider="唯一值-001"),
        }
        form.pop("owner_id")
        form["contact_email"] = f"c{index}@example.com"
        form["confirm_similar"] = "y"  # the names look alike: only the unique value may refuse
        requests.append(("/customers/new", form, browser_session(app, user)))
    statuses = post_all_at_once(live_server, requests)
    assert sorted(statuses) == [303, 409, 409], statuses
    db.session.rollback()
    holders = db.session.scalars(select(Customer.name).where(Customer.custom.is_not(None))).all()
    assert len(holders) == 1


def test_the_live_duplicate_check_finds_a_unique_value_while_typing(client_as, world, fields):
    make_customer(world.rep_b, "深圳市腾飞科技有限公司", custom={"size": "c1", "decider": "13512345678"})
    form = {**new_customer_form(name="杭州"), **custom_form(decider="13512345678")}
    response = client_as(world.rep_a).post("/customers/duplicates", data=form)
    assert response.status_code == 200
    html = text_of(response.get_data(as_text=True))
    assert "深圳市腾飞科技有限公司" in html and "决策人手机相同" in html
    # Half typed: not a value yet, nothing found.
    form["custom_decider"] = "1351"
    assert (
        "深圳市腾飞科技有限公司" not in client_as(world.rep_a).post("/customers/duplicates", data=form).text
    )


def test_a_list_redrawn_by_htmx_exports_what_it_shows(client_as, world, fields):
    # The export links sit outside the redrawn results: they come again out of band.
    manager = client_as(world.manager_a)
    html = manager.get("/customers?grade=A&cf_size=c2", headers={"HX-Request": "true"}).get_data(as_text=True)
    menu = re.search(r'<details id="export-menu"[^>]*hx-swap-oob="true".*?</details>', html, re.S)
    assert menu is not None
    assert "grade=A" in menu.group(0) and "cf_size=c2" in menu.group(0)
