"""The scene the route matrix walks: real objects of team A and team B, made through the
services, and the strings only some roles may ever see."""

import io
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select, text

from salesdesk import clock, jobs
from salesdesk.auth.models import Role
from salesdesk.chat.models import Connection as ChatConnection
from salesdesk.database import write_transaction
from salesdesk.extensions import db
from salesdesk.fields import definitions as field_definitions
from salesdesk.kb import articles, categories, images, paths, proposals
from salesdesk.ledger import collaborators, contacts, importer, trash, validation
from salesdesk.notifications import notify
from salesdesk.rules import collisions, extensions
from salesdesk.support import files, lifecycle, types_admin
from salesdesk.support import requests as support_requests
from salesdesk.support.models import Attachment, RequestType, Routing
from tests.fixtures.kb import png, write
from tests.fixtures.ledger import make_customer
from tests.fixtures.recognition import award
from tests.fixtures.support import draft, make_type
from tests.helpers import make_user

CSV = "客户名称,手机\n杭州新客户有限公司,13511112222\n".encode()
# Who plays each role of routes.ROLES (anonymous visitors are nobody).
ACTORS = {"rep": "rep_a", "support": "support_a", "manager": "manager_a", "admin": "admin"}

# Strings only some roles may ever see; every response to anyone else is searched.
SECRETS = {
    "13900001111": {"support", "admin"},  # phone of team B's customer
    "secret.b@example.com": {"support", "admin"},
    "wx_secret_b": {"support", "admin"},
    "机密备注乙": {"support", "admin"},  # notes of team B's customer
    "机密字段乙": {"support", "admin"},  # a sensitive custom field of team B's customer
    "13700002222": {"support", "admin"},  # phone of a pool customer (masked until claimed)
    "草稿机密定价": {"support", "manager", "admin"},  # a draft article: editors only
    "撞单机密乙": {"admin"},  # a collision report inside team B
    "延期机密乙": {"admin"},  # an extension request inside team B
    "提议机密乙": {"support", "manager", "admin"},  # rep B's proposed edit: editors and rep B
    "机密导入乙": {"admin"},  # rep B's import file
    "通知机密乙": set(),  # a notification of rep B
    "支持机密乙": {"admin"},  # a support request in team B's queue
    "内部支持甲": {"support", "manager", "admin"},  # an internal note on rep A's request
}


def build_scene(world):
    """Real objects of team A and team B, made through the services; {name: id}.

    Routes that change something even with an empty form (delete, claim, publish, …)
    get objects of their own, so the walk's order does not matter."""
    a, b, a2 = world.rep_a, world.rep_b, world.rep_a2
    ids = {"team_a": world.team_a.id, "team_b": world.team_b.id}
    for name in ("admin", "manager_a", "rep_a", "rep_a2", "support_a", "manager_b", "rep_b"):
        ids[name] = getattr(world, name).id
    ids["leaver"] = make_user("leaver@test.example", Role.REP, world.team_a, "离职人").id
    returner = make_user("returner@test.example", Role.REP, world.team_a, "回归人")
    with write_transaction():
        returner.active = False
    ids["returner"] = returner.id

    custom_fields_scene(world, ids)

    # Customers
    cust_a = make_customer(
        a,
        "杭州云栖数据科技有限公司",
        phone="13911112222",
        email="chen@yunqi.example",
        custom={"budget": "12万", "size": "中型"},
    )
    cust_b = make_customer(
        b,
        "深圳市腾飞科技有限公司",
        phone="13900001111",
        email="secret.b@example.com",
        notes="机密备注乙",
        custom={"decider": "机密字段乙"},
    )
    contacts.update_contact(
        b,
        cust_b.id,
        cust_b.contacts[0].id,
        cust_b.contacts[0].version,
        validation.ContactInput(
            name="王总",
            title="总经理",
            phones=["13900001111"],
            email="secret.b@example.com",
            wechat="wx_secret_b",
        ),
    )
    pool = make_customer(world.manager_a, "宁波海港物流有限公司", phone="13700002222", pool=True)
    ids.update(cust_a=cust_a.id, cust_b=cust_b.id, pool=pool.id)
    ids["contact_a"] = cust_a.contacts[0].id
    ids["contact_b"] = cust_b.contacts[0].id
    ids["contact_doomed"] = contacts.add_contact(
        a, cust_a.id, validation.ContactInput(name="李工", phones=["13600003333"])
    ).id
    ids["contact_b_doomed"] = contacts.add_contact(
        b, cust_b.id, validation.ContactInput(name="陈工", phones=["13600004444"])
    ).id
    ids["pool_claim"] = make_customer(world.manager_a, "温州瓯江贸易有限公司", pool=True).id
    ids["doomed_a"] = make_customer(a, "金华双龙五金有限公司").id
    ids["doomed_b"] = make_customer(b, "佛山南海陶瓷有限公司").id
    for name, customer_name in (
        ("trashed", "绍兴柯桥纺织有限公司"),
        ("trashed_show", "湖州安吉竹业有限公司"),
    ):
        ids[name] = make_customer(a, customer_name).id
        trash.delete_customer(world.admin, ids[name])
    cust_collab = make_customer(a, "嘉兴南湖电子有限公司")
    collaborators.add_collaborator(a, cust_collab.id, world.support_a.id)
    ids["cust_collab"] = cust_collab.id
    collaborators.request_collaboration(a2, cust_a.id, "我认识采购")  # pending on team A's customer
    collaborators.request_collaboration(a, cust_b.id, "我认识老板")  # rep A asks on team B's customer
    collaborators.add_collaborator(b, cust_b.id, a2.id)  # a collaborator across teams

    # Rules: extension requests and collision reports, in both teams
    ids["ext_a"] = extensions.request_extension(a, cust_a.id, 7, "客户出差").id
    ids["ext_a_decline"] = extensions.request_extension(a, ids["doomed_a"], 7, "客户出差").id
    ids["ext_b"] = extensions.request_extension(b, cust_b.id, 7, "延期机密乙").id
    ids["report_a"] = collisions.file_collision(a2, cust_a.id, "我先联系的").id
    ids["report_b"] = collisions.file_collision(world.manager_b, cust_b.id, "撞单机密乙").id

    # Imports (not previewed yet)
    ids["job_a"] = importer.start_job(a, "客户.csv", io.BytesIO(CSV)).id
    ids["job_b"] = importer.start_job(b, "机密导入乙.csv", io.BytesIO(CSV)).id

    # Notifications
    with write_transaction():
        ids["notif_a"] = notify(a, "customer.assigned", link="/customers", actor="王经理", customer="某公司")
        ids["notif_b"] = notify(
            b, "customer.assigned", link="/customers", actor="黄经理", customer="通知机密乙"
        )
    ids["notif_a"], ids["notif_b"] = ids["notif_a"].id, ids["notif_b"].id

    # Knowledge base
    article = write(world.manager_a, "报价单填写规范", "报价单必须写明有效期。")
    articles.save_article(
        article,
        editor=world.manager_a,
        base_version=1,
        title=article.title,
        body="报价单必须写明有效期和付款方式。",
        category_id=None,
        tags="",
        stages=[],
    )
    ids["article"] = article.id
    ids["article2"] = write(world.manager_a, "合同审批流程", "合同须经法务审核。").id
    ids["draft"] = write(world.support_a, "草稿机密定价", "尚未发布。", publish=False).id
    ids["draft_pub"] = write(world.support_a, "待发布的文章", "即将发布。", publish=False).id
    ids["article_unpub"] = write(world.manager_a, "待撤回的文章", "即将撤回。").id
    ids["cat"] = categories.create_category(name="销售技巧", actor=world.manager_a).id
    ids["image"] = images.store_image(io.BytesIO(png()), user=world.manager_a).id
    ids["cat_doomed"] = categories.create_category(name="待删除", actor=world.manager_a).id
    path = paths.create_path(name="新人第一周", actor=world.manager_a)
    paths.add_to_path(path, article.id, actor=world.manager_a)
    paths.add_to_path(path, ids["article2"], actor=world.manager_a)
    path2 = paths.create_path(name="第二周", actor=world.manager_a)
    paths.add_to_path(path2, article.id, actor=world.manager_a)
    ids.update(path=path.id, path2=path2.id)
    due = clock.today(world.manager_a.timezone) + timedelta(days=7)
    ids["assignment_a"] = paths.assign_path(path, user_id=a.id, due_on=due, actor=world.manager_a).id
    ids["assignment_b"] = paths.assign_path(path, user_id=b.id, due_on=due, actor=world.admin).id
    for name, proposer in (("prop_a", a), ("prop_b", b), ("prop_decline", a)):
        body = "提议机密乙" if name == "prop_b" else f"报价单必须写明有效期和付款方式（{name}）。"
        ids[name] = proposals.propose_edit(
            articles.get_article_for(proposer, article.id),
            proposer=proposer,
            base_version=2,
            title=article.title,
            body=body,
        ).id

    ids["article3"] = write(world.manager_a, "回款跟进要点", "每月对账。").id
    ids["prop_accept"] = proposals.propose_edit(  # on an article nobody edits, so it never goes stale
        articles.get_article_for(a, ids["article3"]),
        proposer=a,
        base_version=1,
        title="回款跟进要点",
        body="每月五日对账。",
    ).id
    ids["cat_child"] = categories.create_category(
        name="电话话术", parent_id=ids["cat"], actor=world.manager_a
    ).id
    ids["prop_other"] = proposals.propose_edit(
        articles.get_article_for(b, ids["article2"]),
        proposer=b,
        base_version=1,
        title="合同审批流程",
        body="改一下。",
    ).id

    # Recognition
    ids["entry"] = award(world.manager_a, a, 10).id
    ids["entry_b"] = award(world.manager_b, b, 10).id

    # ---- support: requests in team A's queue (the lead picks: nobody has them yet)
    # and in team B's; steps that change something get a request of their own.
    ids.update(support_scene(world, ids))

    # For the forged-field tests: objects a valid submission may use up
    ids["release_a"] = make_customer(a, "台州黄岩模具有限公司").id
    ids["ext_target"] = make_customer(a, "丽水青田石材有限公司").id
    job = importer.start_job(a, "客户.csv", io.BytesIO(CSV))
    importer.set_mapping(a, job.id, {"name": 0, "phone": 1})
    importer.preview(job.id)
    ids["job_previewed"] = job.id

    # ---- support: admin (types, calendar, settings)
    ids["support_type"] = db.session.scalar(select(RequestType.id).order_by(RequestType.id))
    for name, label in (("support_type_retire", "退役测试"), ("support_type_retired", "已退役测试")):
        ids[name] = types_admin.create_type(world.admin, replace(types_admin.default_values(), name=label)).id
    types_admin.set_retired(world.admin, ids["support_type_retired"], True)

    # ---- chat groups: robots on this machine, saved while private addresses were
    # allowed; now that they are not, a test message is refused at send time and no
    # request leaves the machine.
    with write_transaction() as session:
        for name in ("chat_conn", "chat_conn_delete"):
            connection = ChatConnection(
                name=name,
                platform="wecom",
                url="https://127.0.0.1:9/cgi-bin/webhook/send?key=6f1c9a4e-1111-2222-3333-444455556666",
                events=["weekly_report"],  # nothing the walks do: no background posts
                locale="zh_Hans_CN",
                enabled=True,
                failing_announced=False,
            )
            session.add(connection)
            session.flush()
            ids[name] = connection.id
    return ids


def custom_fields_scene(world, ids):
    """Custom fields of customers: a money field, a choice, a sensitive text (team B's
    value is a secret), and two multiple choices to retire and restore (a form may leave
    a multiple choice out, so whether they show does not change the other forms)."""
    Values = field_definitions.Values

    def made(name, **values):
        ids[name] = field_definitions.create_field(world.admin, Values(**values)).id

    made("field_budget", label_zh="年度预算", key="budget", type="money")
    made(
        "field_size", label_zh="企业规模", key="size", type="single_choice", choices=[("", "中型", "", False)]
    )
    made("field_decider", label_zh="决策人", key="decider", type="text", sensitive=True)
    for name, label in (("field_retire", "关注产品"), ("field_retired", "旧分类")):
        made(name, label_zh=label, type="multiple_choice", choices=[("", "甲", "", False)])
    field_definitions.retire_field(world.admin, ids["field_retired"])


def support_scene(world, ids):
    a, b = world.rep_a, world.rep_b
    type_a = make_type("华东报价支持", world.team_a, Routing.LEAD)
    type_b = make_type("华南报价支持", world.team_b, Routing.LEAD)
    found = {"type_a": type_a.id, "type_b": type_b.id}

    def filed(name, requester=a, request_type=type_a, **fields):
        request = support_requests.file_request(requester, draft(request_type, **fields))
        found[name] = request.id
        return request

    pdf = files.read_upload(io.BytesIO(b"%PDF-1.4 quote draft"), "报价草稿.pdf")
    req_a = filed("req_a", customer_id=ids["cust_a"], uploads=[pdf])
    lifecycle.reply(world.support_a, req_a.id, "内部支持甲", internal=True)
    secret = files.read_upload(io.BytesIO(b"%PDF-1.4 contract b"), "乙方合同.pdf")
    filed("req_b", b, type_b, details="支持机密乙", uploads=[secret])
    both = Attachment.request_id.in_([found["req_a"], found["req_b"]])
    found["att_a"], found["att_b"] = db.session.scalars(
        select(Attachment.id).where(both).order_by(Attachment.id)
    )
    filed("req_accept")
    for name in ("req_progress", "req_return", "req_resolve"):
        lifecycle.accept(world.support_a, filed(name).id)
    for name in ("req_resolved", "req_reopen", "req_kb"):
        request = filed(name)
        lifecycle.accept(world.support_a, request.id)
        lifecycle.resolve(world.support_a, request.id, "报价单已发")
    filed("req_cancel")
    filed("req_delete")
    return found


def snapshot():
    """Every row of every table, to tell whether a request wrote anything."""
    for thread in [*importer.THREADS.values(), *jobs.THREADS.values()]:
        thread.join(30)  # what a request started in the background has finished
    db.session.rollback()
    # Every post logs in afresh, and each login is a row: that is not the request's doing.
    tables = [table for table in db.metadata.sorted_tables if table.name != "user_sessions"]
    if db.engine.dialect.name == "postgresql":
        # One round trip instead of one per table: a digest of each table's rows.
        digests = ", ".join(
            f"(SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM \"{table.name}\" t)"
            for table in tables
        )
        return dict(
            zip(
                [table.name for table in tables],
                db.session.execute(text(f"SELECT {digests}")).one(),
                strict=True,
            )
        )
    return {
        table.name: sorted((tuple(row) for row in db.session.execute(select(table))), key=repr)
        for table in tables
    }


def changed_tables(before, after):
    return sorted(name for name in before if before[name] != after[name])
