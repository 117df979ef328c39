"""The forms table: for every POST route a valid submission and forged values of its
fields (other users' and teams' ids, negative, zero, huge and non-numeric numbers,
unknown choices, impossible dates). Values name objects of the scene as "{name}";
callables make fresh values when the form is posted."""

import io
from dataclasses import dataclass
from datetime import timedelta

from salesdesk import clock
from salesdesk.auth.models import Team
from salesdesk.extensions import db
from salesdesk.fields.models import CustomField
from salesdesk.kb.models import Article
from salesdesk.ledger.models import Contact, Customer
from salesdesk.performance import target_table
from salesdesk.performance.models import Measure
from tests.fixtures.kb import png
from tests.fixtures.ledger import contact_form
from tests.fixtures.recognition import gift_form
from tests.fixtures.rules import rule_settings_form
from tests.helpers import PASSWORD, login_form
from tests.web.route_matrix.scene import CSV

NUMBERS = ("-1", "0", str(2**63), "1.5", "²")  # where a whole number or an id is expected
NOT_ZERO = tuple(n for n in NUMBERS if n != "0")  # where 0 is an offered choice ("none")
DATES = ("2026-02-30", "yesterday", "99999-01-01")

# A public address given as an IP (no DNS lookup); events none, so nothing is ever sent to it.
CHAT_FIELDS = {
    "name": "华南销售群",
    "platform": "dingtalk",
    "url": "https://93.184.216.34/robot/send?access_token=" + "a1" * 32,
    "secret": "SEC0123456789abcdef",
    "team_id": "{team_b}",
    "locale": "zh_Hans_CN",
    "enabled": "y",
}
CHAT_FORGERIES = {
    "name": ("", " ", "群" * 81),
    "platform": ("slack", ""),
    "url": (
        "not a url",
        "http://93.184.216.34/hook",  # http to a public host
        "https://127.0.0.1/hook",  # private, without the setting
        "https://169.254.169.254/latest/meta-data",
        "https://93.184.216.34/" + "k" * 2048,
        "https://user:pw@93.184.216.34/hook",
        "",
    ),
    "secret": ("SEC has spaces", "no-prefix", "S" * 201),
    "team_id": (*NOT_ZERO, "999999"),
    "events": ("bogus",),
    "locale": ("fr", ""),
}


@dataclass
class Form:
    actor: str  # a world attribute, or "anon"
    params: dict  # URL values, as in ROUTES
    valid: dict  # a submission that succeeds: the forgeries change one field of it
    forged: dict  # field -> forged values
    ok: int  # the status of the valid submission
    also: frozenset  # besides 4xx, what counts as a refusal (303 back with an error)
    changes: bool  # whether the valid submission writes rows
    records: frozenset  # tables a refusal writes to by design


def form(actor, valid=None, forged=None, ok=303, also=(), changes=True, records=(), **params):
    return Form(actor, params, valid or {}, forged or {}, ok, frozenset(also), changes, frozenset(records))


def version_of(name, model=Customer):
    """An object's current version, read when the form is posted."""

    def version(ids):
        db.session.rollback()
        return str(db.session.get(model, ids[name]).version)

    return version


def ids_of(*names):
    return tuple(f"{{{name}}}" for name in names)


def customer_fields(**overrides):
    return {
        "kind": "company",
        "name": "南京紫金软件有限公司",
        "credit_code": "",
        "industry": "软件和信息技术",
        "province": "江苏",
        "city": "南京",
        "source": "website",
        "grade": "B",
        "stage": "lead",
        "expected_amount": "88000.50",
        "tags": "重点客户",
        "next_follow_up_on": "",
        "notes": "",
        # The scene's custom fields (scene.custom_fields_scene); the multiple choices may be left out.
        "custom_budget": "8.8万",
        "custom_size": "c1",
        "custom_decider": "",
        **overrides,
    }


CUSTOM_FORGERIES = {
    "custom_budget": ("-1", "abc", str(2**63), "1e309", "NaN", "0.001"),
    "custom_size": ("bogus", "c2"),
    "custom_decider": ("字" * 201,),
}
CUSTOMER_FORGERIES = {
    **CUSTOM_FORGERIES,
    "kind": ("robot",),
    "source": ("bogus",),
    "grade": ("Z", "a"),
    "stage": ("won2", "Lead"),
    "province": ("火星",),
    "expected_amount": ("-1", "abc", str(2**63), "1e309", "NaN", "Infinity", "0.001"),
    "next_follow_up_on": DATES,
    "credit_code": ("91330100MA2B3C4D5X",),
    "name": ("", "有限公司"),
}
# A multiple choice: a form may leave it out, so the field the walk adds does not
# change what the customer forms must send.
FIELD_FIELDS = {
    "entity": "customer",
    "label_zh": "关注方向",
    "label_en": "Interests",
    "type": "multiple_choice",
    "key": "",
    "help_text": "",
    "new_choices": "价格 | Price\n服务 | Service",
}
FIELD_FORGERIES = {
    "label_zh": ("", " ", "字" * 500),
    "label_en": ("x" * 61,),
    "type": ("bogus", ""),
    "entity": ("lead", ""),
    "key": ("budget", "9abc", "Key!", "x" * 41),  # budget: the scene's field has it
    "help_text": ("说" * 201,),
    "new_choices": ("", "价格\n价格", "字" * 61),
}
USER_FIELDS = {"email": "new.rep@test.example", "display_name": "新人", "role": "rep", "locale": "en"}
USER_FORGERIES = {
    "role": ("superuser", "ADMIN", ""),
    "team_id": (*NUMBERS, "999999"),
    "locale": ("xx", ""),
    "email": ("not-an-email",),
}


def recognition_settings_form(ids):
    from salesdesk.recognition.models import RecognitionSettings

    values = RecognitionSettings.defaults()
    data = {name: str(getattr(values, name)) for name in RecognitionSettings.FIELDS}
    for name in ("helpful_enabled", "won_enabled"):
        data[name] = "y" if getattr(values, name) else ""
    return {**data, "award_max_points": "40"}


def due_date(days):
    return lambda ids: (clock.today("Asia/Shanghai") + timedelta(days=days)).isoformat()


# ---- support: admin (the request type form)
SUPPORT_TYPE_FIELDS = {
    "name": "投标支持",
    "prompts": "客户背景：\n截止时间：",
    "team_id": "{team_a}",
    "routing": "least_open",
    "response_normal_hours": "4",
    "resolve_normal_hours": "16.5",
    "response_urgent_hours": "1",
    "resolve_urgent_hours": "3",
    "position": "20",
}
HOURS = ("0", "-1", "0.25", "1.25", "2000.5", "NaN", "Infinity", "1e999", "abc", "")
SUPPORT_TYPE_FORGERIES = {
    "name": ("", " ", "合同审核", "名" * 41),
    "prompts": ("问" * 2001,),
    "team_id": (*NOT_ZERO, "999999"),
    "routing": ("bogus", ""),
    "response_normal_hours": HOURS,
    "resolve_urgent_hours": (*HOURS, "0.5"),  # shorter than the first response
    "position": ("-1", "10001", str(2**63), "1.5", "²"),
}


def targets_form(ids):
    """Every input of team A's targets table, one target typed."""
    team = db.session.get(Team, ids["team_a"])
    keys = [target_table.TEAM, *(user.id for user in target_table.members(team))]
    data = {target_table.input_name(key, measure): "" for key in keys for measure in Measure}
    data[target_table.input_name(ids["rep_a"], Measure.WON_AMOUNT)] = "120000.50"
    return data


FORMS = {
    # ---- administration (an administrator forges)
    "admin.new_user": form(
        "admin",
        {**USER_FIELDS, "team_id": "{team_a}", "password": "long-enough-42"},
        USER_FORGERIES,
    ),
    "admin.edit_user": form(
        "admin",
        {**USER_FIELDS, "email": "rep.a2@test.example", "team_id": "{team_a}", "password": ""},
        USER_FORGERIES,
        user_id="rep_a2",
    ),
    "admin.deactivate_user": form(
        "admin",
        {"successor_id": "{rep_a}"},
        {"successor_id": (*NUMBERS, "999999", *ids_of("leaver", "support_a", "returner", "admin"))},
        user_id="leaver",
    ),
    "admin.reactivate_user": form("admin", user_id="returner"),
    "admin.teams": form(
        "admin",
        {"name": "华北大区", "timezone": "Asia/Shanghai"},
        {"timezone": ("Mars/Olympus", ""), "name": ("",)},
    ),
    "admin.edit_team": form(
        "admin",
        {"name": "华南大区二部", "timezone": "Asia/Shanghai"},
        {"timezone": ("Mars/Olympus", ""), "name": ("华东大区",)},  # the other team's name
        team_id="team_b",
    ),
    # ---- own account
    "auth.login": form("anon", login_form("rep.a@test.example"), changes=False),
    "auth.logout": form("rep_a", changes=False),
    "auth.logout_everywhere": form("rep_a"),
    "auth.set_language": form("rep_a", {"locale": "en", "next": "/"}, {"locale": ("xx", "", "EN")}),
    "auth.account": form(
        "rep_a",
        {"current_password": PASSWORD, "password": "another-horse-43", "confirm": "another-horse-43"},
        {"current_password": ("wrong-horse-42",), "confirm": ("different-horse-44",)},
    ),
    # ---- knowledge base (manager A is an editor; rep A a reader)
    "kb.new": form(
        "manager_a",
        {
            "title": "回款流程",
            "body": "每月五日前催收。",
            "category_id": "{cat}",
            "tags": "回款",
            "stages": "won",
            "note": "",
        },
        {"category_id": (*NOT_ZERO, "999999"), "stages": ("bogus",), "title": ("",)},
    ),
    "kb.edit": form(
        "manager_a",
        {
            "title": "报价单填写规范",
            "body": "新的正文。",
            "base_version": version_of("article", Article),
            "category_id": "0",
            "tags": "",
            "note": "",
            "proposal_id": "",
        },
        {
            "base_version": (*NUMBERS, "1", "99"),
            "category_id": (*NOT_ZERO, "999999"),
            "stages": ("bogus",),
            "proposal_id": (*NUMBERS, *ids_of("prop_other")),
        },
        article_id="article",
    ),
    "kb.restore": form(
        "manager_a",
        {"base_version": version_of("article", Article), "note": ""},
        {"base_version": (*NUMBERS, "1", "99")},
        also=[303],  # a stale version: back to the history with a message
        article_id="article",
        number=1,
    ),
    "kb.publish": form("manager_a", article_id="draft_pub"),
    "kb.unpublish": form("manager_a", article_id="article_unpub"),
    "kb.propose": form(
        "rep_a",
        {
            "title": "报价单填写规范",
            "body": "我的修改。",
            "note": "补充",
            "base_version": version_of("article", Article),
        },
        {"base_version": (*NUMBERS, "99")},
        article_id="article",
    ),
    "kb.accept_proposal": form("manager_a", proposal_id="prop_accept"),
    "kb.decline_proposal": form("manager_a", {"reason": ""}, proposal_id="prop_decline"),
    "kb.vote": form(
        "rep_a", {"helpful": "yes", "comment": ""}, {"helpful": ("maybe", "1", "")}, article_id="article"
    ),
    "kb.mark_read": form(
        "rep_a",
        {"version": version_of("article", Article)},
        {"version": (*NUMBERS, "99")},
        article_id="article",
    ),
    "kb.preview": form("rep_a", {"body": "**粗**"}, ok=200, changes=False),
    "kb.upload_image": form(
        "support_a",
        {"image": lambda ids: (io.BytesIO(png()), "截图.png")},
        {
            "image": (
                lambda ids: (io.BytesIO(b"<svg><script>alert(1)</script></svg>"), "a.png"),
                lambda ids: (io.BytesIO(b""), "空.png"),
                "not a file",
            )
        },
        ok=201,
    ),
    "kb.categories": form(
        "manager_a",
        {"name": "新分类", "parent_id": "0"},
        {"parent_id": (*NOT_ZERO, "999999", *ids_of("cat_child"))},
    ),
    "kb.edit_category": form(
        "manager_a",
        {"name": "销售技巧与话术", "parent_id": "0"},
        {"parent_id": (*NOT_ZERO, "999999", *ids_of("cat", "cat_doomed"))},  # itself; under another
        category_id="cat",
    ),
    "kb.delete_category": form("manager_a", category_id="cat_doomed"),
    "kb.new_path": form("manager_a", {"name": "新路径", "description": ""}, {"name": ("", "第二周")}),
    "kb.edit_path": form(
        "manager_a", {"name": "新人第一周", "description": "入门"}, {"name": ("", "第二周")}, path_id="path"
    ),
    "kb.add_path_item": form(
        "manager_a",
        {"article_id": "{article3}"},
        {"article_id": (*NUMBERS, "999999", *ids_of("draft", "article"))},  # a draft; already in it
        path_id="path",
    ),
    "kb.move_path_item": form("manager_a", path_id="path", article_id="article2", direction="up"),
    "kb.remove_path_item": form("manager_a", path_id="path2", article_id="article"),
    "kb.assign_path": form(
        "manager_a",
        {"user_id": "{rep_a2}", "due_on": due_date(7)},
        {
            "user_id": (*NUMBERS, "999999", *ids_of("rep_b", "returner")),
            "due_on": (*DATES, due_date(-1), due_date(400)),
        },
        path_id="path",
    ),
    "kb.unassign": form("manager_a", assignment_id="assignment_a"),
    # ---- customer ledger
    "ledger.choose_columns": form(
        "rep_a", {"columns": "grade", "next": "/customers"}, {"columns": ("bogus", "", "grade,stage")}
    ),
    "ledger.new": form(
        "manager_a",
        {
            **customer_fields(),
            "owner_id": "{rep_a2}",
            "contact_name": "孙经理",
            "contact_title": "",
            "contact_phone": "13811119999",
            "contact_phone2": "",
            "contact_email": "sun@zijin.example",
            "contact_wechat": "",
        },
        {
            **CUSTOMER_FORGERIES,
            "owner_id": (*NUMBERS, "999999", *ids_of("rep_b", "support_a", "returner", "admin")),
            "contact_phone": ("12", "13900001111"),  # not a number; team B's customer's
            "contact_email": ("secret.b@example.com",),
        },
        records=["audit_events"],  # a blocked duplicate is counted for the managers
    ),
    "ledger.check_duplicates": form(
        "rep_a",
        customer_fields(),
        {**CUSTOMER_FORGERIES, "contact_phone": ("12",)},
        ok=200,
        also=[200],
        changes=False,
    ),
    "ledger.edit": form(
        "rep_a",
        {**customer_fields(name="杭州云栖数据科技有限公司"), "version": version_of("cust_a")},
        {**CUSTOMER_FORGERIES, "version": (*NUMBERS, "999")},
        customer_id="cust_a",
    ),
    "ledger.change_stage": form(
        "rep_a",
        {"stage": "contacted", "version": version_of("cust_a")},
        {"stage": ("bogus", ""), "version": (*NUMBERS, "999")},
        also=[303],  # a stale version: back to the customer with a message
        customer_id="cust_a",
    ),
    "ledger.save_custom_values": form(
        "rep_a",
        {"custom_budget": "15万", "custom_size": "c1", "custom_decider": "", "version": version_of("cust_a")},
        {**CUSTOM_FORGERIES, "version": (*NUMBERS, "999"), "custom_retired": ("x",), "custom_nosuch": ("x",)},
        customer_id="cust_a",
    ),
    "ledger.log_follow_up": form(
        "rep_a",
        {
            "channel": "phone",
            "content": "电话沟通了报价",
            "occurred_at": "",
            "next_step": "",
            "next_follow_up_on": "",
        },
        {
            "channel": ("pigeon",),
            "occurred_at": ("2999-01-01T10:00", "2026-02-30T10:00", "now"),
            "next_follow_up_on": (*DATES, "2000-01-01"),
            "content": ("",),
        },
        customer_id="cust_a",
    ),
    "ledger.new_contact": form(
        "rep_a",
        contact_form(name="周工", phone="13500005555", email="zhou@yunqi.example"),
        {"phone": ("12", "13900001111"), "email": ("secret.b@example.com", "not-an-email")},
        customer_id="cust_a",
    ),
    "ledger.edit_contact": form(
        "rep_a",
        {
            **contact_form(
                name="王总",
                title="总经理",
                phone="13911112222",
                phone2="13911113333",
                email="chen@yunqi.example",
            ),
            "version": version_of("contact_a", Contact),
        },
        {"phone": ("12", "13900001111"), "email": ("secret.b@example.com",), "version": (*NUMBERS, "999")},
        customer_id="cust_a",
        contact_id="contact_a",
    ),
    "ledger.delete_contact": form("rep_a", customer_id="cust_a", contact_id="contact_doomed"),
    "ledger.add_collaborator": form(
        "rep_a",
        {"user_id": "{support_a}"},
        {"user_id": (*NUMBERS, "999999", *ids_of("admin", "rep_a", "returner", "rep_a2"))},
        customer_id="cust_a",
    ),
    "ledger.request_collaboration": form(
        "manager_a", {"message": "我认识他们的采购"}, {"message": ("长" * 501,)}, customer_id="cust_b"
    ),
    "ledger.answer_collaboration": form("rep_a", customer_id="cust_a", user_id="rep_a2", answer="approve"),
    "ledger.remove_collaborator": form("rep_a", customer_id="cust_collab", user_id="support_a"),
    "ledger.delete": form("manager_a", customer_id="doomed_a"),
    "ledger.restore": form("admin", customer_id="trashed"),
    "ledger.import_upload": form(
        "rep_a",
        {"file": lambda ids: (io.BytesIO(CSV), "客户.csv")},
        {
            "file": (
                lambda ids: (io.BytesIO(b"\x00\x01garbage"), "客户.xlsx"),
                lambda ids: (io.BytesIO(b""), "空.csv"),
                "not a file",
            )
        },
    ),
    "ledger.import_mapping": form(
        "rep_a",
        {"map-name": "0", "map-phone": "1"},
        {"map-name": ("-1", "2", str(2**63), "abc", "1"), "map-phone": ("0",)},  # out of range; used twice
        job_id="job_a",
    ),
    "ledger.import_commit": form("rep_a", job_id="job_previewed"),
    # ---- assignment and anti-collision rules
    "rules.claim": form("rep_a", {"next": ""}, customer_id="pool_claim"),
    "rules.release": form(
        "rep_a", {"reason": "不再跟进"}, {"reason": ("", " ", "长" * 501)}, customer_id="release_a"
    ),
    "rules.request_extension": form(
        "rep_a",
        {"days": "7", "reason": "客户出差"},
        {"days": (*NUMBERS, "91"), "reason": ("",)},
        customer_id="ext_target",
    ),
    "rules.decide_extension": form(
        "manager_a",
        {"days": "7", "note": ""},
        {"days": (*NUMBERS, "91")},
        extension_id="ext_a",
        answer="grant",
    ),
    "rules.file_collision": form(
        "rep_a", {"reason": "我上个月就拜访过"}, {"reason": ("", "长" * 2001)}, customer_id="cust_b"
    ),
    "rules.collision": form(
        "manager_a",
        {"decision": "keep", "note": "跟进记录更早"},
        {"decision": ("bogus", "", "KEEP"), "note": ("",)},
        report_id="report_a",
    ),
    "rules.assign": form(
        "manager_a",
        {"user_id": "{rep_a2}", "reason": "区域对口", "customer_ids": ["{pool}"]},
        {
            "user_id": (*NUMBERS, "999999", *ids_of("rep_b", "support_a", "returner")),
            "customer_ids": (*NUMBERS, "999999", *ids_of("cust_b", "trashed_show")),
        },
    ),
    "rules.rule_settings": form(
        "admin",
        lambda ids: rule_settings_form(claims_per_day="21"),
        {
            "max_active_per_rep": (*NUMBERS, "100001"),
            "similarity_percent": ("49", "101", str(2**63)),
            "warning_days": ("-1",),
            "grade_A_follow_up_days": (*NUMBERS, "3651"),
        },
    ),
    "rules.set_strategy": form(
        "admin", {"strategy": "round_robin"}, {"strategy": ("bogus", "")}, team_id="team_a"
    ),
    "rules.set_territories": form(
        "admin",
        {"province": "浙江", "city": "杭州", "user_id": "{rep_a}"},
        {"user_id": ("-1", str(2**63), "999999", *ids_of("rep_b", "manager_a", "returner"))},
        team_id="team_a",
    ),
    # ---- recognition
    "recognition.award": form(
        "manager_a",
        gift_form("{rep_a}", 10),
        {
            "recipient_id": (*NUMBERS, "999999", *ids_of("manager_a", "returner", "admin")),
            "points": (*NUMBERS, "51"),
            "category": ("bogus", ""),
            "customer_id": (*NUMBERS, "999999", *ids_of("trashed_show")),
        },
    ),
    "recognition.thank": form(
        "rep_a",
        gift_form("{rep_a2}", 2, reason="谢谢你的帮忙"),
        {
            "recipient_id": (*NUMBERS, "999999", *ids_of("rep_a", "returner", "admin")),
            "points": (*NUMBERS, "6"),
            "category": ("bogus",),
            "customer_id": (*NUMBERS, "999999", *ids_of("trashed_show")),
        },
    ),
    "recognition.reverse": form("admin", {"reason": "误操作"}, {"reason": ("", " ")}, entry_id="entry"),
    "recognition.settings": form(
        "admin",
        recognition_settings_form,
        {
            "award_max_points": (*NUMBERS, "100000000000"),
            "thanks_max_points": ("-5",),
            "won_points": ("abc",),
        },
    ),
    # ---- workbench
    "workbench.log_follow_up": form(
        "rep_a",
        {"channel": "wechat", "content": "微信确认了需求", "next_follow_up_on": "", "next_step": ""},
        {
            "channel": ("pigeon",),
            "next_follow_up_on": (*DATES, "2000-01-01"),
            "content": ("",),
            "next_step": ("很" * 501,),
        },
        customer_id="cust_a",
    ),
    "workbench.read_notification": form("rep_a", {"next": ""}, notification_id="notif_a"),
    "workbench.read_all_notifications": form("rep_a"),
    # ---- support desk (each step on a request of its own: see scene.support_scene)
    "support.new": form(
        "rep_a",
        {
            "type_id": "{type_a}",
            "customer_id": "{cust_a}",
            "title": "华东项目报价",
            "details": "客户背景：老客户",
            "needed_by": "",
            "priority": "normal",
            "files": lambda ids: (io.BytesIO(b"%PDF-1.4 quote"), "报价.pdf"),
        },
        {
            "type_id": (*NUMBERS, "999999"),
            "customer_id": (*NUMBERS, "999999", *ids_of("cust_b")),
            "title": ("", "x" * 121),
            "needed_by": (*DATES, "2020-01-01"),
            "priority": ("extreme", "", "URGENT"),
            "files": (
                lambda ids: (io.BytesIO(b"MZ\x90\x00 not a pdf"), "合同.pdf"),
                lambda ids: (io.BytesIO(b"<html><script>alert(1)</script></html>"), "a.png"),
                lambda ids: (io.BytesIO(b""), "空.pdf"),
            ),
        },
    ),
    "support.accept": form("support_a", request_id="req_accept"),
    "support.assign": form(
        "admin",
        {"handler_id": "{support_a}"},
        {"handler_id": (*NUMBERS, "999999", *ids_of("rep_a", "manager_a", "admin"))},
        request_id="req_a",
    ),
    "support.reply": form(
        "rep_a",
        {"body": "客户补充了预算", "internal": ""},
        {"body": ("",), "internal": ("y",)},
        request_id="req_a",
    ),
    "support.send_back": form(
        "support_a", {"body": "请补充采购数量"}, {"body": ("",)}, request_id="req_return"
    ),
    "support.resolve": form("support_a", {"body": "报价单已发"}, {"body": ("",)}, request_id="req_resolve"),
    "support.confirm": form(
        "rep_a",
        {"rating": "5", "comment": "很及时"},
        {"rating": ("6", "0", "-1", "abc", "", "4.5"), "comment": ("x" * 501,)},
        request_id="req_resolved",
    ),
    "support.reopen": form("rep_a", {"body": "还缺一页"}, {"body": ("x" * 20_001,)}, request_id="req_reopen"),
    "support.cancel": form("rep_a", {"body": ""}, {"body": ("x" * 20_001,)}, request_id="req_cancel"),
    "support.kb_draft": form("support_a", request_id="req_kb"),
    "support.delete": form("admin", request_id="req_delete"),
    # ---- custom fields
    "fields.new": form("admin", FIELD_FIELDS, FIELD_FORGERIES),
    "fields.edit": form(
        "admin",
        {
            **FIELD_FIELDS,
            "label_zh": "年度预算（万）",
            "type": "money",
            "version": version_of("field_budget", CustomField),
        },
        {**FIELD_FORGERIES, "type": ("text",), "version": ("999",)},  # customers hold values
        field_id="field_budget",
    ),
    "fields.retire": form("admin", field_id="field_retire"),
    "fields.restore": form("admin", field_id="field_retired"),
    "fields.move": form(
        "admin", {"direction": "down"}, {"direction": ("sideways", "")}, field_id="field_budget"
    ),
    # ---- chat groups
    "chat.new": form("admin", CHAT_FIELDS, CHAT_FORGERIES),
    "chat.edit": form(
        "admin", {**CHAT_FIELDS, "name": "华东销售群"}, CHAT_FORGERIES, connection_id="chat_conn"
    ),
    "chat.test": form("admin", changes=False, ok=200, connection_id="chat_conn"),
    "chat.delete": form("admin", connection_id="chat_conn_delete"),
    # ---- support: admin (types, calendar, settings)
    "support.admin_new_type": form("admin", SUPPORT_TYPE_FIELDS, SUPPORT_TYPE_FORGERIES),
    "support.admin_edit_type": form(
        "admin", {**SUPPORT_TYPE_FIELDS, "name": "报价支持"}, SUPPORT_TYPE_FORGERIES, type_id="support_type"
    ),
    "support.admin_retire_type": form("admin", type_id="support_type_retire"),
    "support.admin_restore_type": form("admin", type_id="support_type_retired"),
    "support.admin_calendar": form(
        "admin",
        {"action": "add", "day": "2026-03-10", "kind": "holiday", "name": "公司年会"},
        {
            "day": (*DATES, "2026-03-14", "1999-03-09"),  # a Saturday; a year out of range
            "kind": ("bogus", "workday", ""),  # a make-up day on a Tuesday
            "name": ("", " ", "节" * 41),
            "action": ("bogus", ""),
        },
    ),
    "support.admin_settings": form(
        "admin",
        {
            "day_start": "08:30",
            "day_end": "17:30",
            "warn_minutes": "90",
            "auto_close_days": "3",
            "reopen_days": "7",
            "five_star_points": "2",
            "five_star_monthly_cap": "20",
        },
        {
            "day_start": ("25:00", "17:30", "abc", ""),
            "day_end": ("08:00", "24:00"),
            "warn_minutes": (*NOT_ZERO, "1441"),
            "auto_close_days": (*NUMBERS, "31"),
            "five_star_points": ("101", str(2**63)),
        },
    ),
    # ---- performance
    "performance.targets": form(
        "manager_a",
        targets_form,
        {
            "t-team-won_amount": ("-1", "1e15", "1" + "0" * 13, "12.345", "abc"),
            "t-team-visits": ("1.5", "-3"),
            "t-999999-visits": ("3",),  # nobody of this team
            "action": ("bogus",),
        },
    ),
    "performance.settings": form("admin", {"reps_see_ranking": "y"}),
}


# The walks over FORMS run one test a blueprint.
BLUEPRINTS = (
    "admin",
    "auth",
    "kb",
    "ledger",
    "rules",
    "recognition",
    "support",
    "performance",
    "workbench",
)


def resolve(value, ids):
    """Form data with scene names ("{rep_b}") filled in; callables make fresh values (files)."""
    if callable(value):
        return value(ids)
    if isinstance(value, dict):
        return {key: resolve(item, ids) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve(item, ids) for item in value]
    return value.format(**ids) if "{" in value else value


def without(data, name):
    return {key: value for key, value in data.items() if key != name}
