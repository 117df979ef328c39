"""Every route for every role, and forged form fields (issue 8).

ROUTES says for every endpoint what anonymous visitors, a rep, sales support, a
manager and an administrator get for GET and for a POST with a valid CSRF token and
no other data, on objects of their own and on another team's or another user's. A
route missing from the table fails the walk, so no new route can be forgotten. The
walk also searches every response for secrets its reader may not see.

FORMS gives every POST route a valid submission and forged values of its fields:
other users' and teams' ids, negative, zero, huge and non-numeric numbers, unknown
choices, impossible dates, 10 MB, no CSRF token. Each is refused and writes no row;
then the valid submission succeeds, so the refusals were the forgeries' doing."""

import io
import zipfile
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from jinja2 import BytecodeCache
from sqlalchemy import select, text
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from salesdesk import clock, jobs
from salesdesk.auth.models import Role
from salesdesk.database import write_transaction
from salesdesk.extensions import db
from salesdesk.kb import services as kb
from salesdesk.kb.models import Article
from salesdesk.ledger import collaborators, contacts, importer, trash, validation
from salesdesk.ledger.models import Contact, Customer
from salesdesk.notifications import notify
from salesdesk.rules import services as rules
from salesdesk.rules.models import Territory
from tests.fixtures.kb import write
from tests.fixtures.ledger import contact_form, make_customer
from tests.fixtures.recognition import award, gift_form
from tests.fixtures.rules import rule_settings_form
from tests.helpers import PASSWORD, login_form, make_user

ROLES = ("anon", "rep", "support", "manager", "admin")
CSV = "客户名称,手机\n杭州新客户有限公司,13511112222\n".encode()
ACTORS = {"rep": "rep_a", "support": "support_a", "manager": "manager_a", "admin": "admin"}

# Strings only some roles may ever see; every response to anyone else is searched.
SECRETS = {
    "13900001111": {"support", "admin"},  # phone of team B's customer
    "secret.b@example.com": {"support", "admin"},
    "wx_secret_b": {"support", "admin"},
    "机密备注乙": {"support", "admin"},  # notes of team B's customer
    "13700002222": {"support", "admin"},  # phone of a pool customer (masked until claimed)
    "草稿机密定价": {"support", "manager", "admin"},  # a draft article: editors only
    "撞单机密乙": {"admin"},  # a collision report inside team B
    "延期机密乙": {"admin"},  # an extension request inside team B
    "提议机密乙": {"support", "manager", "admin"},  # rep B's proposed edit: editors and rep B
    "机密导入乙": {"admin"},  # rep B's import file
    "通知机密乙": set(),  # a notification of rep B
}


class SharedBytecode(BytecodeCache):
    """Compiled templates kept across this module's apps: compiling them anew for each
    test's app took a fifth of the walk's time."""

    def __init__(self):
        self.compiled = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket):
        self.compiled[bucket.key] = bucket.bytecode_to_string()


TEMPLATES = SharedBytecode()


@pytest.fixture(autouse=True)
def _templates_compiled_once(app):
    app.jinja_env.bytecode_cache = TEMPLATES


# ---- the objects the URLs point at ------------------------------------------------------------


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

    # Customers
    cust_a = make_customer(a, "杭州云栖数据科技有限公司", phone="13911112222", email="chen@yunqi.example")
    cust_b = make_customer(
        b, "深圳市腾飞科技有限公司", phone="13900001111", email="secret.b@example.com", notes="机密备注乙"
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
    ids["ext_a"] = rules.request_extension(a, cust_a.id, 7, "客户出差").id
    ids["ext_a_decline"] = rules.request_extension(a, ids["doomed_a"], 7, "客户出差").id
    ids["ext_b"] = rules.request_extension(b, cust_b.id, 7, "延期机密乙").id
    ids["report_a"] = rules.file_collision(a2, cust_a.id, "我先联系的").id
    ids["report_b"] = rules.file_collision(world.manager_b, cust_b.id, "撞单机密乙").id

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
    kb.save_article(
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
    ids["cat"] = kb.create_category(name="销售技巧", actor=world.manager_a).id
    ids["cat_doomed"] = kb.create_category(name="待删除", actor=world.manager_a).id
    path = kb.create_path(name="新人第一周", actor=world.manager_a)
    kb.add_to_path(path, article.id, actor=world.manager_a)
    kb.add_to_path(path, ids["article2"], actor=world.manager_a)
    path2 = kb.create_path(name="第二周", actor=world.manager_a)
    kb.add_to_path(path2, article.id, actor=world.manager_a)
    ids.update(path=path.id, path2=path2.id)
    due = clock.today(world.manager_a.timezone) + timedelta(days=7)
    ids["assignment_a"] = kb.assign_path(path, user_id=a.id, due_on=due, actor=world.manager_a).id
    ids["assignment_b"] = kb.assign_path(path, user_id=b.id, due_on=due, actor=world.admin).id
    for name, proposer in (("prop_a", a), ("prop_b", b), ("prop_decline", a)):
        body = "提议机密乙" if name == "prop_b" else f"报价单必须写明有效期和付款方式（{name}）。"
        ids[name] = kb.propose_edit(
            kb.get_article_for(proposer, article.id),
            proposer=proposer,
            base_version=2,
            title=article.title,
            body=body,
        ).id

    ids["article3"] = write(world.manager_a, "回款跟进要点", "每月对账。").id
    ids["prop_accept"] = kb.propose_edit(  # on an article nobody edits, so it never goes stale
        kb.get_article_for(a, ids["article3"]),
        proposer=a,
        base_version=1,
        title="回款跟进要点",
        body="每月五日对账。",
    ).id
    ids["cat_child"] = kb.create_category(name="电话话术", parent_id=ids["cat"], actor=world.manager_a).id
    ids["prop_other"] = kb.propose_edit(
        kb.get_article_for(b, ids["article2"]),
        proposer=b,
        base_version=1,
        title="合同审批流程",
        body="改一下。",
    ).id

    # Recognition
    ids["entry"] = award(world.manager_a, a, 10).id
    ids["entry_b"] = award(world.manager_b, b, 10).id

    # For the forged-field tests: objects a valid submission may use up
    ids["release_a"] = make_customer(a, "台州黄岩模具有限公司").id
    ids["ext_target"] = make_customer(a, "丽水青田石材有限公司").id
    job = importer.start_job(a, "客户.csv", io.BytesIO(CSV))
    importer.set_mapping(a, job.id, {"name": 0, "phone": 1})
    importer.preview(job.id)
    ids["job_previewed"] = job.id
    return ids


# ---- the table -------------------------------------------------------------------------------


@dataclass
class Case:
    """One URL of a route and what each role gets. `get`/`post`: five tokens in ROLES
    order; "L" is the redirect to /login, a number the exact status."""

    get: str | None
    post: str | None
    params: dict = field(default_factory=dict)
    query: str = ""


def case(get=None, post=None, query="", **params):
    return Case(get, post, params, query)


LOGIN = "L 200 200 200 200"  # any logged-in user
EVERYONE = case(LOGIN)
ADMINS = "L 403 403 403 200"
EDITORS = "L 403 200 200 200"
MANAGERS = "L 403 403 200 200"

ROUTES = {
    # ---- administration
    "admin.audit_log": [case(ADMINS)],
    "admin.users": [case(ADMINS)],
    "admin.new_user": [case(ADMINS, "L 403 403 403 422")],
    # An edit form posted without its fields is empty, not the object's values (issue 14, finding 5).
    "admin.edit_user": [case(ADMINS, "L 403 403 403 422", user_id="rep_a2")],
    "admin.deactivate_user": [
        case(post="L 403 403 403 303", user_id="leaver"),
        case(post="L 403 403 403 403", user_id="admin"),  # nobody deactivates themselves
    ],
    "admin.reactivate_user": [case(post="L 403 403 403 303", user_id="returner")],
    "admin.teams": [case(ADMINS, "L 403 403 403 422")],
    "admin.edit_team": [case(ADMINS, "L 403 403 403 422", team_id="team_b")],
    # ---- login and own account
    "auth.login": [case("200 302 302 302 302", "422 422 422 422 422")],
    "auth.logout": [case(post="L 303 303 303 303")],
    "auth.logout_everywhere": [case(post="L 303 303 303 303")],
    "auth.set_language": [case(post="400 400 400 400 400")],
    # ---- monitoring: public, no session
    "health.healthz": [case("200 200 200 200 200")],
    "auth.account": [case(LOGIN, "L 422 422 422 422")],
    # ---- knowledge base
    "kb.index": [EVERYONE],
    "kb.search": [case(LOGIN, query="q=报价")],
    "kb.playbooks": [EVERYONE],
    "kb.insights": [case(EDITORS)],
    "kb.new": [case(EDITORS, "L 403 422 422 422")],
    "kb.article": [
        case(LOGIN, article_id="article"),
        case("L 404 200 200 200", article_id="draft"),
    ],
    "kb.edit": [
        case(EDITORS, "L 403 400 400 400", article_id="article"),
        case(EDITORS, "L 403 400 400 400", article_id="draft"),
    ],
    "kb.history": [case(EDITORS, article_id="article")],
    "kb.compare": [case(EDITORS, article_id="article")],
    "kb.revision": [
        case(EDITORS, article_id="article", number=1),
        case("L 403 404 404 404", article_id="article", number=99),
    ],
    "kb.restore": [case(post="L 403 400 400 400", article_id="article", number=1)],
    "kb.publish": [case(post="L 403 303 303 303", article_id="draft_pub")],
    "kb.unpublish": [case(post="L 403 303 303 303", article_id="article_unpub")],
    "kb.propose": [
        case("L 200 303 303 303", "L 400 303 303 303", article_id="article"),
        case("L 404 303 303 303", "L 404 303 303 303", article_id="draft"),
    ],
    "kb.proposals": [EVERYONE],
    "kb.proposal": [
        case(LOGIN, proposal_id="prop_a"),  # rep A's own proposal
        case("L 404 200 200 200", proposal_id="prop_b"),  # rep B's
    ],
    "kb.accept_proposal": [case(post="L 403 303 303 303", proposal_id="prop_accept")],
    # A post without the form's fields is refused (issue 14, finding 5).
    "kb.decline_proposal": [case(post="L 403 400 400 400", proposal_id="prop_decline")],
    "kb.vote": [
        case(post="L 400 400 400 400", article_id="article"),
        case(post="L 404 400 400 400", article_id="draft"),
    ],
    "kb.mark_read": [
        case(post="L 400 400 400 400", article_id="article"),
        case(post="L 404 400 400 400", article_id="draft"),
    ],
    "kb.categories": [case(EDITORS, "L 403 422 422 422")],
    "kb.edit_category": [case(EDITORS, "L 403 422 422 422", category_id="cat")],
    "kb.delete_category": [case(post="L 403 303 303 303", category_id="cat_doomed")],
    "kb.paths": [EVERYONE],
    "kb.new_path": [case(EDITORS, "L 403 422 422 422")],
    "kb.path": [case(LOGIN, path_id="path")],
    "kb.edit_path": [case(EDITORS, "L 403 422 422 422", path_id="path")],
    "kb.add_path_item": [case(post="L 403 422 422 422", path_id="path")],
    "kb.move_path_item": [
        case(post="L 403 303 303 303", path_id="path", article_id="article2", direction="up"),
        case(post="L 403 404 404 404", path_id="path", article_id="draft", direction="down"),
    ],
    "kb.remove_path_item": [case(post="L 403 303 303 303", path_id="path2", article_id="article")],
    "kb.assign_path": [case(post="L 403 403 422 422", path_id="path")],
    "kb.unassign": [
        case(post="L 403 403 303 303", assignment_id="assignment_a"),  # rep A's, by manager A
        case(post="L 403 403 403 303", assignment_id="assignment_b"),  # rep B's
    ],
    # ---- customer ledger
    "ledger.index": [EVERYONE],
    "ledger.export": [case(LOGIN, fmt="csv"), case(LOGIN, fmt="xlsx")],
    "ledger.new": [case(LOGIN, "L 422 422 422 422")],
    "ledger.check_duplicates": [case(post="L 200 200 200 200")],
    "ledger.show": [
        case(LOGIN, customer_id="cust_a"),
        case(LOGIN, customer_id="cust_b"),  # everyone sees it exists; details are masked
        case(LOGIN, customer_id="pool"),
        case("L 404 404 404 404", customer_id="trashed_show"),
    ],
    "ledger.edit": [
        case("L 200 403 200 200", "L 422 403 422 422", customer_id="cust_a"),
        case("L 403 403 403 200", "L 403 403 403 422", customer_id="cust_b"),
        case("L 403 403 403 200", "L 403 403 403 422", customer_id="pool"),
    ],
    "ledger.change_stage": [
        case(post="L 422 403 422 422", customer_id="cust_a"),
        case(post="L 403 403 403 422", customer_id="cust_b"),
    ],
    "ledger.log_follow_up": [
        case(post="L 422 403 422 422", customer_id="cust_a"),
        case(post="L 403 403 403 422", customer_id="cust_b"),
    ],
    "ledger.new_contact": [
        case("L 200 403 200 200", "L 422 403 422 422", customer_id="cust_a"),
        case("L 403 403 403 200", "L 403 403 403 422", customer_id="cust_b"),
    ],
    "ledger.edit_contact": [
        case("L 200 403 200 200", "L 422 403 422 422", customer_id="cust_a", contact_id="contact_a"),
        case("L 404 403 404 404", "L 404 403 404 404", customer_id="cust_a", contact_id="contact_b"),
        case("L 403 403 403 200", "L 403 403 403 422", customer_id="cust_b", contact_id="contact_b"),
    ],
    "ledger.delete_contact": [
        case(post="L 303 403 303 303", customer_id="cust_a", contact_id="contact_doomed"),
        case(post="L 400 403 400 400", customer_id="cust_a", contact_id="contact_b"),
        case(post="L 403 403 403 303", customer_id="cust_b", contact_id="contact_b_doomed"),
    ],
    "ledger.add_collaborator": [
        case(post="L 422 403 422 422", customer_id="cust_a"),
        case(post="L 403 403 403 422", customer_id="cust_b"),
    ],
    "ledger.request_collaboration": [
        case(post="L 422 422 422 422", customer_id="cust_b"),  # no message field (finding 5)
        case(post="L 422 422 422 422", customer_id="pool"),
    ],
    "ledger.answer_collaboration": [
        case(post="L 303 403 303 303", customer_id="cust_a", user_id="rep_a2", answer="approve"),
        case(post="L 403 403 403 303", customer_id="cust_b", user_id="rep_a", answer="decline"),
    ],
    "ledger.remove_collaborator": [
        case(post="L 303 303 303 303", customer_id="cust_collab", user_id="support_a"),
        case(post="L 403 403 403 303", customer_id="cust_b", user_id="rep_a2"),
    ],
    "ledger.delete": [
        case(post="L 403 403 303 303", customer_id="doomed_a"),
        case(post="L 403 403 403 303", customer_id="doomed_b"),
    ],
    "ledger.trash": [case(ADMINS)],
    "ledger.restore": [case(post="L 403 403 403 303", customer_id="trashed")],
    "ledger.import_upload": [case(LOGIN, "L 422 422 422 422")],
    "ledger.import_mapping": [
        case("L 200 404 404 200", "L 422 404 404 422", job_id="job_a"),
        case("L 404 404 404 200", "L 404 404 404 422", job_id="job_b"),
    ],
    "ledger.import_job": [
        case("L 200 404 404 200", job_id="job_a"),
        case("L 404 404 404 200", job_id="job_b"),
    ],
    "ledger.import_commit": [
        case(post="L 400 404 404 400", job_id="job_a"),
        case(post="L 404 404 404 400", job_id="job_b"),
    ],
    # ---- recognition
    "recognition.leaderboard": [EVERYONE, case(LOGIN, query="period=all&team={team_b}")],
    "recognition.feed": [EVERYONE],
    "recognition.person": [case(LOGIN, user_id="rep_b")],
    "recognition.award": [case(MANAGERS, "L 403 403 422 422")],
    "recognition.thank": [case(LOGIN, "L 422 422 422 422")],
    "recognition.entry": [case(LOGIN, entry_id="entry"), case(LOGIN, entry_id="entry_b")],
    "recognition.reverse": [case(post="L 403 403 403 422", entry_id="entry")],
    "recognition.report": [case(MANAGERS), case("L 403 403 403 200", query="team={team_b}")],
    "recognition.settings": [case(ADMINS, "L 403 403 403 422")],
    # ---- assignment and anti-collision rules
    "rules.pool": [EVERYONE],
    "rules.claim": [
        case(post="L 303 403 303 403", customer_id="pool_claim"),
        case(post="L 409 403 409 403", customer_id="cust_b"),
    ],
    "rules.release": [case(post="L 400 400 400 400", customer_id="cust_a")],
    "rules.request_extension": [case(post="L 400 400 400 400", customer_id="cust_a")],
    # Who may decide is asked first (403); an empty post is then refused for its missing
    # fields (finding 5).
    "rules.decide_extension": [
        case(post="L 403 403 400 400", extension_id="ext_a", answer="grant"),
        case(post="L 403 403 400 400", extension_id="ext_a_decline", answer="decline"),
        case(post="L 403 403 403 400", extension_id="ext_b", answer="grant"),
    ],
    "rules.file_collision": [case("L 200 403 200 403", "L 422 403 422 403", customer_id="cust_b")],
    "rules.collisions": [EVERYONE, case(LOGIN, query="status=decided")],
    "rules.collision": [
        case("L 200 403 200 200", "L 403 403 422 422", report_id="report_a"),
        case("L 403 403 403 200", "L 403 403 403 422", report_id="report_b"),
    ],
    "rules.assign": [case(post="L 403 403 400 400")],
    "rules.rule_settings": [case(ADMINS, "L 403 403 403 422")],
    "rules.set_strategy": [case(post="L 403 403 403 400", team_id="team_a")],
    "rules.set_territories": [case(post="L 403 403 403 303", team_id="team_b")],
    "rules.ownership_report": [case(ADMINS)],
    # ---- workbench and notifications
    "workbench.home": [EVERYONE, case(LOGIN, query="team={team_b}")],
    "workbench.log_follow_up": [
        case(post="L 422 403 422 422", customer_id="cust_a"),
        case(post="L 403 403 403 422", customer_id="cust_b"),
    ],
    "workbench.notification_bell": [EVERYONE],
    "workbench.notification_list": [EVERYONE],
    "workbench.read_notification": [
        case(post="L 303 404 404 404", notification_id="notif_a"),
        case(post="L 404 404 404 404", notification_id="notif_b"),
    ],
    "workbench.read_all_notifications": [case(post="L 303 303 303 303")],
}
IGNORED = {"static"}
# A wrong method is refused (405) before anything looks at the user: checked for two roles.
METHOD_CHECKS = {"anon", "rep"}


def rules_by_endpoint(app):
    found = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint not in IGNORED:
            found.setdefault(rule.endpoint, []).append(rule)
    return found


def test_the_table_names_every_route_and_only_real_ones(app):
    routes = rules_by_endpoint(app)
    missing = sorted(set(routes) - set(ROUTES))
    assert not missing, f"routes missing from ROUTES in {__name__}: {', '.join(missing)}"
    stale = sorted(set(ROUTES) - set(routes))
    assert not stale, f"ROUTES names endpoints that do not exist: {', '.join(stale)}"
    for endpoint, cases in ROUTES.items():
        methods = set().union(*(rule.methods for rule in routes[endpoint]))
        for item in cases:
            assert (item.get is not None) == ("GET" in methods), f"{endpoint}: GET expectation vs {methods}"
            assert (item.post is not None) == ("POST" in methods), (
                f"{endpoint}: POST expectation vs {methods}"
            )
            assert methods <= {"GET", "POST", "HEAD", "OPTIONS"}, f"{endpoint}: untested methods {methods}"


# ---- the walk --------------------------------------------------------------------------------


def expected_for(tokens, role):
    return dict(zip(ROLES, tokens.split(), strict=True))[role]


def build_url(adapter, endpoint, item, ids):
    values = {
        key: ids.get(value, value) if isinstance(value, str) else value for key, value in item.params.items()
    }
    url = adapter.build(endpoint, values)
    return url + ("?" + item.query.format(**ids) if item.query else "")


def check(response, expected, method, url, role, failures, seen):
    status = response.status_code
    if status >= 500:
        failures.append(f"{role} {method} {url}: {status} (server error)")
    elif expected == "L":
        location = response.headers.get("Location", "")
        if status != 302 or not location.startswith("/login"):
            failures.append(f"{role} {method} {url}: {status} {location}, expected the redirect to /login")
    elif status != int(expected):
        failures.append(f"{role} {method} {url}: {status}, expected {expected}")
    body = body_text(response)
    for secret, allowed in SECRETS.items():
        if secret in body:
            seen.add(secret)
            if role not in allowed:
                failures.append(f"{role} {method} {url}: shows {secret!r}")


@pytest.mark.parametrize("role", ROLES)
def test_every_route_answers_every_role_as_the_table_says(app, world, role):
    ids = build_scene(world)
    user = getattr(world, ACTORS[role]) if role != "anon" else None
    adapter = app.url_map.bind("localhost")
    failures, seen = [], set()

    def client():
        # A fresh client each time: logging out or switching language stays local.
        fresh = app.test_client()
        return fresh.login_as(user) if user else fresh

    for endpoint, rules_ in sorted(rules_by_endpoint(app).items()):
        if endpoint not in ROUTES:
            failures.append(f"{endpoint} is missing from ROUTES in {__name__}")
            continue
        methods = set().union(*(rule.methods for rule in rules_))
        for item in ROUTES[endpoint]:
            url = build_url(adapter, endpoint, item, ids)
            if item.get is not None:
                expected = expected_for(item.get, role)
                check(client().get(url), expected, "GET", url, role, failures, seen)
                if expected == "L":
                    check_htmx_login(client().get(url, htmx=True), "GET", url, failures)
            elif role in METHOD_CHECKS:
                check(client().get(url), "405", "GET", url, role, failures, seen)
            if item.post is not None:
                expected = expected_for(item.post, role)
                check(client().post(url), expected, "POST", url, role, failures, seen)
                if expected == "L":
                    check_htmx_login(client().post(url, htmx=True), "POST", url, failures)
            elif "POST" not in methods and role in METHOD_CHECKS:
                check(client().post(url), "405", "POST", url, role, failures, seen)
    # The search for secrets would find them: who may see one does, somewhere.
    failures += [
        f"{role} never sees {secret!r}"
        for secret, allowed in SECRETS.items()
        if role in allowed and secret not in seen
    ]
    assert not failures, "\n".join(failures)


def body_text(response):
    """The text a user would read: spreadsheets are unzipped."""
    data = response.get_data()
    if data.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "".join(
                archive.read(name).decode() for name in archive.namelist() if name.endswith(".xml")
            )
    return data.decode("utf-8-sig")


def check_htmx_login(response, method, url, failures):
    if response.status_code != 401 or not response.headers.get("HX-Redirect", "").startswith("/login"):
        failures.append(f"anon htmx {method} {url}: {response.status_code}, expected 401 with HX-Redirect")


# ---- forged fields -----------------------------------------------------------------------------

TEN_MB = "x" * (10 * 1024 * 1024)  # over MAX_FORM_MEMORY_SIZE: 413
URLENCODED = "application/x-www-form-urlencoded"
NUMBERS = ("-1", "0", str(2**63), "1.5", "²")  # where a whole number or an id is expected
NOT_ZERO = tuple(n for n in NUMBERS if n != "0")  # where 0 is an offered choice ("none")
DATES = ("2026-02-30", "yesterday", "99999-01-01")


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
        **overrides,
    }


CUSTOMER_FORGERIES = {
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
        {"channel": "wechat", "content": "微信确认了需求", "next_follow_up_on": ""},
        {"channel": ("pigeon",), "next_follow_up_on": (*DATES, "2000-01-01"), "content": ("",)},
        customer_id="cust_a",
    ),
    "workbench.read_notification": form("rep_a", {"next": ""}, notification_id="notif_a"),
    "workbench.read_all_notifications": form("rep_a"),
}


def post_routes(app):
    return sorted(
        endpoint
        for endpoint, rules_ in rules_by_endpoint(app).items()
        if any("POST" in r.methods for r in rules_)
    )


def test_every_form_has_its_forgeries(app):
    missing = sorted(set(post_routes(app)) - set(FORMS))
    assert not missing, f"POST routes missing from FORMS in {__name__}: {', '.join(missing)}"
    assert not set(FORMS) - set(post_routes(app))


def resolve(value, ids):
    """Form data with scene names ("{rep_b}") filled in; callables make fresh values (files)."""
    if callable(value):
        return value(ids)
    if isinstance(value, dict):
        return {key: resolve(item, ids) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve(item, ids) for item in value]
    return value.format(**ids) if "{" in value else value


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


def without(data, name):
    return {key: value for key, value in data.items() if key != name}


def changed_tables(before, after):
    return sorted(name for name in before if before[name] != after[name])


BLUEPRINTS = ("admin", "auth", "kb", "ledger", "rules", "recognition", "workbench")


@pytest.mark.parametrize("blueprint", BLUEPRINTS)
def test_forged_fields_are_refused_and_change_nothing(app, world, blueprint):
    ids = build_scene(world)
    failures = []
    for endpoint, spec in FORMS.items():
        if endpoint.split(".")[0] == blueprint:
            forge(app, world, ids, endpoint, spec, failures)
    assert not failures, "\n".join(failures)


def forge(app, world, ids, endpoint, spec, failures):
    """Post each forgery of one form; then the valid submission, which must succeed."""
    user = None if spec.actor == "anon" else getattr(world, spec.actor)
    url = build_url(app.url_map.bind("localhost"), endpoint, Case(None, None, spec.params), ids)

    def post(data, csrf=True):
        client = app.test_client()
        client = client.login_as(user) if user else client
        data = resolve(data, ids)
        token = {"csrf_token": client.csrf_token()} if csrf else {}
        big = [name for name, value in data.items() if value is TEN_MB]
        if big and not any(isinstance(value, tuple) for value in data.values()):
            # Encoded here: the test client's encoder takes a tenth of a second for 10 MB.
            body = urlencode({**without(data, big[0]), **token}, doseq=True) + f"&{big[0]}=" + TEN_MB
            return client.post(url, data=body.encode(), content_type=URLENCODED, csrf=False)
        if not any(isinstance(value, tuple) for value in data.values()):
            return client.post(url, data=data, csrf=csrf)
        # A file: encoded in memory, since the test client spools big bodies to a file it never closes.
        fields = {
            key: FileStorage(*value) if isinstance(value, tuple) else value for key, value in data.items()
        }
        boundary, body = encode_multipart({**fields, **token})
        return client.post(
            url, data=body, content_type=f"multipart/form-data; boundary={boundary}", csrf=False
        )

    valid = spec.valid(ids) if callable(spec.valid) else spec.valid
    big_field = next((name for name, value in valid.items() if isinstance(value, str)), "reason")
    # The big field goes first: werkzeug leaves a spooled upload unclosed when it stops at 413.
    attempts = [
        ("without a CSRF token", valid, False),
        ("with 10 MB", {big_field: TEN_MB, **without(valid, big_field)}, True),
    ]
    for name, values in spec.forged.items():
        attempts += [(f"{name}={str(value)[:30]!r}", {**valid, name: value}, True) for value in values]
    before = snapshot()
    for label, data, csrf in attempts:
        response = post(data, csrf)
        status = response.status_code
        if label == "with 10 MB" and status != 413:
            failures.append(f"{endpoint} {label}: {status}, expected 413")
        elif not (400 <= status < 500 or status in spec.also):
            failures.append(f"{endpoint} {label}: {status}")
        location = response.headers.get("Location", "")
        if location and not location.startswith("/"):
            failures.append(f"{endpoint} {label}: redirects off the site to {location}")
        after = snapshot()
        changed = [name for name in changed_tables(before, after) if name not in spec.records]
        if changed:
            failures.append(f"{endpoint} {label}: {status}, changed {changed}")
        before = after
    # The valid submission succeeds: the refusals above were the forged field's doing.
    response = post(valid)
    if response.status_code != spec.ok:
        failures.append(f"{endpoint} valid submission: {response.status_code}, expected {spec.ok}")
    elif spec.changes and snapshot() == before:
        failures.append(f"{endpoint} valid submission changed nothing")


# ---- regressions: what the walks above found ----------------------------------------------------


def test_the_collisions_page_answers_200_with_the_shown_tab_marked(client_as, world):
    # The filter went to render() as `status`, which is the HTTP status: "0 open".
    manager = client_as(world.manager_a)
    for query, link in (("", '"/collisions"'), ("?status=decided", '"/collisions?status=decided"')):
        response = manager.get("/collisions" + query)
        assert response.status_code == 200
        assert f'href={link} aria-current="page"' in response.get_data(as_text=True)


def test_a_10_mb_form_is_refused_before_it_is_read(client_as, world):
    # Werkzeug applies MAX_FORM_MEMORY_SIZE to multipart fields only; an urlencoded
    # 10 MB field reached the view, which took it for "no successor".
    admin = client_as(world.admin)
    url = f"/admin/users/{world.rep_a.id}/deactivate"
    assert admin.post(url, data={"successor_id": TEN_MB}).status_code == 413
    assert admin.post(url, data={"successor_id": TEN_MB}, htmx=True).status_code == 413
    db.session.refresh(world.rep_a)
    assert world.rep_a.active
    # The largest real form, an article of 100,000 Chinese characters (0.9 MB encoded), still goes.
    manager = client_as(world.manager_a)
    article = {"title": "长文", "body": "报" * 100_000, "category_id": "0", "tags": "", "note": ""}
    response = manager.post("/kb/new", data=article)
    assert response.status_code == 303


@pytest.mark.parametrize("successor", ["0", "abc", "1.5", "-1", str(2**63)])
def test_a_forged_successor_is_refused_not_taken_for_the_pool(client_as, world, successor):
    customer = make_customer(world.rep_a, "杭州云栖数据科技有限公司")
    response = client_as(world.admin).post(
        f"/admin/users/{world.rep_a.id}/deactivate", data={"successor_id": successor}
    )
    assert response.status_code == 400
    db.session.refresh(world.rep_a)
    assert world.rep_a.active
    assert db.session.get(Customer, customer.id).owner_id == world.rep_a.id


def test_unicode_digits_in_ids_are_refused_not_a_server_error(client_as, world):
    # "²".isdigit() is true, but int("²") raises.
    pool = make_customer(world.manager_a, "宁波海港物流有限公司", pool=True)
    manager = client_as(world.manager_a)
    data = {"user_id": str(world.rep_a2.id), "reason": "区域对口", "customer_ids": ["²"]}
    assert manager.post("/customers/assign", data=data).status_code == 400
    assert db.session.get(Customer, pool.id).owner_id is None
    job = importer.start_job(world.rep_a, "客户.csv", io.BytesIO(CSV))
    response = client_as(world.rep_a).post(f"/customers/import/{job.id}/mapping", data={"map-name": "²"})
    assert response.status_code == 422


def test_a_forged_rep_in_the_territories_is_refused_and_the_old_ones_stay(client_as, world):
    admin = client_as(world.admin)
    url = f"/rules/teams/{world.team_a.id}/territories"

    def territories():
        db.session.rollback()
        return db.session.execute(select(Territory.province, Territory.city, Territory.user_id)).all()

    assert (
        admin.post(url, data={"province": "浙江", "city": "", "user_id": world.rep_a.id}).status_code == 303
    )
    for forged in ("-1", "abc", "²", "1.5"):
        response = admin.post(url, data={"province": "浙江", "city": "", "user_id": forged})
        assert response.status_code == 400, forged
        assert territories() == [("浙江", "", world.rep_a.id)]
    # A row left without a rep ("—") is dropped, as before.
    assert admin.post(url, data={"province": "浙江", "city": "", "user_id": ""}).status_code == 303
    assert territories() == []
