"""Administrators manage users and teams; every change lands in the audit log."""

from sqlalchemy import select

from salesdesk.audit import AuditEvent
from salesdesk.auth.models import Team, User
from salesdesk.extensions import db
from tests.helpers import login_form, recorded_statements


def audit_actions():
    db.session.commit()
    return db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()


def new_user_form(**overrides):
    return {
        "email": "New.Hire@Test.example",
        "display_name": "新同事",
        "role": "rep",
        "team_id": "1",
        "locale": "zh_Hans_CN",
        "password": "first-password",
        **overrides,
    }


def test_admin_creates_a_user_who_can_then_log_in(client_as, world, client):
    admin = client_as(world.admin)
    response = admin.post("/admin/users/new", data=new_user_form(team_id=str(world.team_a.id)))
    assert response.status_code == 303
    user = db.session.scalar(select(User).where(User.email == "new.hire@test.example"))
    assert user.team_id == world.team_a.id and user.role == "rep"
    assert "user.created" in audit_actions()
    login = client.post("/login", data=login_form("new.hire@test.example", "first-password"))
    assert login.status_code == 303


def test_duplicate_email_is_refused_whatever_the_case(client_as, world):
    response = client_as(world.admin).post("/admin/users/new", data=new_user_form(email="REP.A@test.example"))
    assert response.status_code == 422
    assert "该邮箱已被其他用户使用" in response.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count()).select_from(User)) == 7


def test_non_admins_need_a_team(client_as, world):
    response = client_as(world.admin).post("/admin/users/new", data=new_user_form(team_id="0"))
    assert response.status_code == 422
    assert "除管理员外，每个用户都必须属于一个团队" in response.get_data(as_text=True)


def test_short_initial_password_is_refused(client_as, world):
    response = client_as(world.admin).post("/admin/users/new", data=new_user_form(password="short"))
    assert response.status_code == 422


def test_admin_changes_role_and_team(client_as, world):
    admin = client_as(world.admin)
    response = admin.post(
        f"/admin/users/{world.rep_a.id}",
        data=new_user_form(
            email="rep.a@test.example",
            display_name="张三丰",
            role="manager",
            team_id=str(world.team_b.id),
            password="",
        ),
    )
    assert response.status_code == 303
    user = world.rep_a
    assert (user.role, user.team_id, user.display_name) == ("manager", world.team_b.id, "张三丰")
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.updated")).one()
    assert event.details["changes"]["role"] == ["rep", "manager"]
    assert event.actor_id == world.admin.id and event.subject_id == world.rep_a.id


def test_admin_resets_a_password_which_ends_their_sessions(client_as, world, client):
    rep = client_as(world.rep_a)
    assert rep.get("/").status_code == 200
    client_as(world.admin).post(
        f"/admin/users/{world.rep_a.id}",
        data=new_user_form(
            email="rep.a@test.example", team_id=str(world.team_a.id), password="reset-password-1"
        ),
    )
    assert rep.get("/").status_code == 302
    assert client.post("/login", data=login_form("rep.a@test.example", "reset-password-1")).status_code == 303


def test_deactivate_and_reactivate_are_audited(client_as, world):
    admin = client_as(world.admin)
    assert admin.post(f"/admin/users/{world.rep_a.id}/deactivate").status_code == 303
    assert world.rep_a.active is False
    assert admin.post(f"/admin/users/{world.rep_a.id}/reactivate").status_code == 303
    assert world.rep_a.active is True
    assert audit_actions()[-2:] == ["user.deactivated", "user.reactivated"]


def test_admins_cannot_lock_themselves_or_the_last_admin_out(client_as, world):
    admin = client_as(world.admin)
    assert admin.post(f"/admin/users/{world.admin.id}/deactivate").status_code == 403
    response = admin.post(
        f"/admin/users/{world.admin.id}",
        data=new_user_form(email="admin@test.example", role="rep", team_id=str(world.team_a.id), password=""),
    )
    assert response.status_code == 422
    assert "最后一位管理员" in response.get_data(as_text=True)
    assert world.admin.role == "admin" and world.admin.active


def test_user_list_filters_and_htmx_fragment(client_as, world):
    admin = client_as(world.admin)
    page = admin.get("/admin/users?role=manager")
    html = page.get_data(as_text=True)
    assert "<html" in html and "王经理" in html and "黄经理" in html and "张三" not in html
    assert "HX-Request" in page.headers["Vary"]
    fragment = admin.get(f"/admin/users?q=张&team={world.team_a.id}", htmx=True)
    html = fragment.get_data(as_text=True)
    assert "<html" not in html and "<table" in html and "张三" in html and "黄经理" not in html


def test_user_list_survives_garbage_filters(client_as, world):
    response = client_as(world.admin).get("/admin/users?team=abc&role=%00&status=x&page=-3&q=" + "x" * 5000)
    assert response.status_code in (200, 400, 404)


def test_teams_are_created_and_renamed(client_as, world):
    admin = client_as(world.admin)
    assert (
        admin.post("/admin/teams", data={"name": "西南大区", "timezone": "Asia/Chongqing"}).status_code == 303
    )
    team = db.session.scalar(select(Team).where(Team.name == "西南大区"))
    assert team.timezone == "Asia/Chongqing"
    duplicate = admin.post("/admin/teams", data={"name": "华东大区", "timezone": "Asia/Shanghai"})
    assert duplicate.status_code == 422
    assert (
        admin.post(f"/admin/teams/{team.id}", data={"name": "西南区", "timezone": "Mars/Olympus"}).status_code
        == 422
    )
    assert (
        admin.post(
            f"/admin/teams/{team.id}", data={"name": "西南区", "timezone": "Asia/Shanghai"}
        ).status_code
        == 303
    )
    assert team.name == "西南区"
    assert {"team.created", "team.updated"} <= set(audit_actions())


def test_audit_log_page_lists_and_filters(client_as, world, client):
    client.post("/login", data=login_form("rep.a@test.example", "wrong-password"))
    admin = client_as(world.admin)
    admin.post(f"/admin/users/{world.rep_b.id}/deactivate")
    html = admin.get("/admin/audit").get_data(as_text=True)
    assert "登录失败" in html and "停用用户" in html
    filtered = admin.get("/admin/audit?action=user.deactivated", htmx=True).get_data(as_text=True)
    assert "停用用户" in filtered and "登录失败" not in filtered
    by_actor = admin.get(f"/admin/audit?actor={world.admin.id}", htmx=True).get_data(as_text=True)
    assert "停用用户" in by_actor and "登录失败" not in by_actor


# ---- the audit log names what it is about (issue 16, item 11) -----------------------------


def record(action, subject_type, subject_id, **details):
    db.session.add(
        AuditEvent(action=action, subject_type=subject_type, subject_id=subject_id, details=details)
    )
    db.session.commit()


def subject_cells(html):
    return [cell.split("</td>")[0] for cell in html.split('<td data-label="对象">')[1:]]


def test_audit_log_names_people_customers_and_articles_with_links(client_as, world):
    from salesdesk.ledger.trash import delete_customer
    from tests.fixtures.kb import write
    from tests.fixtures.ledger import make_customer

    kept = make_customer(world.rep_a, "金华浙宏自动化设备有限公司")
    gone = make_customer(world.rep_a, "已删客户有限公司")
    delete_customer(world.manager_a, gone.id)
    article = write(world.manager_a, "报价规范", "报价单写明有效期。")
    record("customer.deleted", "customers", 999_999, name="早已清除有限公司")
    record("kb.article.published", "kb_articles", 888_888)
    html = client_as(world.admin).get("/admin/audit").get_data(as_text=True)
    cells = subject_cells(html)
    assert f'<a href="/admin/users/{world.rep_a.id}">张三</a>' in cells  # user.created
    assert f'<a href="/customers/{kept.id}">金华浙宏自动化设备有限公司</a>' in cells
    assert f'<a href="/kb/{article.id}">报价规范</a>' in cells
    # In the trash or gone: the name, without a link.
    assert '<span class="muted">已删客户有限公司</span>' in cells
    assert '<span class="muted">早已清除有限公司（已删除）</span>' in cells
    assert '<span class="muted">已删除的文章（#888888）</span>' in cells
    assert "users #" not in html and "customers #" not in html and "kb_articles #" not in html
    # The actor is a person too.
    assert f'<a href="/admin/users/{world.manager_a.id}">王经理</a>' in html


def test_people_and_teams_in_details_are_named(client_as, world):
    record("user.deactivated", "users", world.rep_b.id, successor=world.rep_a.id)
    record("rules.strategy_changed", None, None, team_id=world.team_b.id, changes=["pool", "round_robin"])
    html = client_as(world.admin).get("/admin/audit").get_data(as_text=True)
    assert f'<b>successor</b> <a href="/admin/users/{world.rep_a.id}">张三</a>' in html
    assert f'<b>team_id</b> <a href="/admin/teams/{world.team_b.id}">华南大区</a>' in html


def test_audit_log_reads_its_subjects_in_a_query_per_kind_not_per_row(app, client_as, world):
    from tests.fixtures.ledger import make_customer

    admin = client_as(world.admin)

    def statements_for_page():
        with recorded_statements() as seen:
            assert admin.get("/admin/audit").status_code == 200
        return len(seen)

    make_customer(world.rep_a, "第一家有限公司")
    few = statements_for_page()
    for number in range(10):
        make_customer(world.rep_a, f"第{number + 2}家客户有限公司")
    assert statements_for_page() == few
