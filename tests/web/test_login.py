"""Logging in and out, throttling, deactivation and sessions, as a browser sees them."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from salesdesk.audit import AuditEvent
from salesdesk.auth.models import LoginFailure, UserSession
from tests.helpers import PASSWORD, login_form, recorded_statements


def login(client, email, password=PASSWORD, address="127.0.0.1", **extra):
    data = login_form(email, password, **extra)
    return client.post("/login", data=data, environ_base={"REMOTE_ADDR": address})


def test_login_page_is_chinese_by_default(client):
    response = client.get("/login")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="zh-Hans-CN">' in html
    assert "<h1>登录</h1>" in html
    assert 'name="email"' in html and 'name="password"' in html


def test_login_then_workbench(client, world):
    response = login(client, "rep.a@test.example")
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    home = client.get("/").get_data(as_text=True)
    assert "张三，你好" in home


def test_email_is_case_insensitive(client, world):
    assert login(client, "  Rep.A@TEST.example ").status_code == 303


def test_wrong_password_is_refused_with_a_message(client, world):
    response = login(client, "rep.a@test.example", "nope-nope")
    assert response.status_code == 422
    assert "邮箱或密码错误" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_unknown_account_gets_the_same_message(client, world):
    response = login(client, "nobody@test.example")
    assert response.status_code == 422
    assert "邮箱或密码错误" in response.get_data(as_text=True)


def test_the_users_team_comes_with_the_user_not_in_a_query_of_its_own(client_as, world):
    # Every page's account menu names the team: loaded with the user, once a request.
    rep = client_as(world.rep_a)
    with recorded_statements() as statements:
        html = rep.get("/account").get_data(as_text=True)
    assert world.team_a.name in html
    assert not [sql for sql, _ in statements if sql.lstrip().startswith("SELECT teams.")]


def test_anonymous_visitors_are_sent_to_login(client, world):
    response = client.get("/admin/users?role=rep")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/admin/users?role%3Drep"


def test_anonymous_htmx_request_gets_a_full_page_redirect(client):
    response = client.get(
        "/admin/users", htmx=True, headers={"HX-Current-URL": "http://localhost/admin/users?q=x"}
    )
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login?next=/admin/users?q%3Dx"


def test_login_follows_a_local_next(client, world):
    response = login(client, "admin@test.example", next="/admin/users?role=rep")
    assert response.headers["Location"] == "/admin/users?role=rep"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/path",
        "/\\evil.example",
        "\\\\evil.example",
        "http:/evil.example",
        "javascript:alert(1)",
        " //evil.example",
        "evil.example",
        "/\tevil",
    ],
)
def test_next_never_leaves_the_app(client, world, target):
    response = login(client, "rep.a@test.example", next=target)
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_logout_needs_post_and_ends_the_session(client, world):
    login(client, "rep.a@test.example")
    assert client.get("/logout").status_code == 405
    response = client.post("/logout")
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert client.get("/").status_code == 302


def test_remember_me_sets_a_lasting_httponly_cookie(client, world):
    login(client, "rep.a@test.example", remember="y")
    cookie = client.get_cookie("salesdesk_remember")
    assert cookie is not None and cookie.http_only and cookie.expires is not None


class TestThrottling:
    def fail(self, client, times, email="rep.a@test.example", address="127.0.0.1"):
        return [login(client, email, "wrong-password", address).status_code for _ in range(times)]

    def test_five_failures_lock_the_account_even_for_the_right_password(self, client, world):
        assert self.fail(client, 5) == [422] * 5
        response = login(client, "rep.a@test.example")
        assert response.status_code == 429
        assert "登录失败次数过多" in response.get_data(as_text=True)
        assert client.get("/").status_code == 302

    def test_other_accounts_are_not_affected(self, client, world):
        self.fail(client, 5)
        assert login(client, "rep.a2@test.example").status_code == 303

    def test_the_lock_holds_across_app_processes(self, app, world, make_app):
        # Two app instances on one database stand in for two gunicorn workers.
        first, second = app.test_client(), make_app().test_client()
        assert self.fail(first, 3) == [422] * 3
        assert self.fail(second, 2) == [422] * 2
        assert login(first, "rep.a@test.example").status_code == 429
        assert login(second, "rep.a@test.example").status_code == 429

    def test_the_lock_ends_after_the_window(self, client, world, frozen_clock):
        start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
        frozen_clock(start)
        self.fail(client, 5)
        frozen_clock(start + timedelta(minutes=14))
        assert login(client, "rep.a@test.example").status_code == 429
        frozen_clock(start + timedelta(minutes=15, seconds=1))
        assert login(client, "rep.a@test.example").status_code == 303

    def test_a_success_clears_earlier_failures(self, app, client, world):
        self.fail(client, 4)
        assert login(client, "rep.a@test.example").status_code == 303
        remaining = app.extensions["sqlalchemy"].session.scalars(select(LoginFailure)).all()
        assert remaining == []

    def test_finding_7_an_outsider_cannot_lock_a_colleague_out_of_the_office(self, client, world):
        outsider, office = "203.0.113.9", "198.51.100.20"
        assert self.fail(client, 5, address=outsider) == [422] * 5
        assert login(client, "rep.a@test.example", address=outsider).status_code == 429
        assert login(client, "rep.a@test.example", address=office).status_code == 303

    def test_finding_7_password_spraying_from_one_address_is_slowed(self, app, client, world):
        sprayer, office = "203.0.113.9", "198.51.100.20"
        limit = app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"]
        accounts = [f"user{number}@test.example" for number in range(limit)]
        sprayed = [login(client, email, "Winter2026!", sprayer).status_code for email in accounts]
        assert sprayed == [422] * limit
        # Each account failed once only, yet the address is refused, even a right password.
        response = login(client, "rep.a@test.example", address=sprayer)
        assert response.status_code == 429 and "网络" in response.get_data(as_text=True)
        assert login(client, "rep.a@test.example", address=office).status_code == 303

    def test_finding_7_the_forwarded_address_counts_behind_the_proxy(self, make_app, world):
        client = make_app(BEHIND_PROXY=True).test_client()

        def attempt(forwarded, password="wrong-password"):
            return client.post(
                "/login",
                data=login_form("rep.a@test.example", password),
                headers={"X-Forwarded-For": forwarded},
            ).status_code

        assert [attempt("203.0.113.9") for _ in range(5)] == [422] * 5
        assert attempt("203.0.113.9", PASSWORD) == 429
        assert attempt("198.51.100.20", PASSWORD) == 303

    def test_failures_and_successes_are_audited(self, app, client, world):
        self.fail(client, 1)
        login(client, "rep.a@test.example")
        actions = app.extensions["sqlalchemy"].session.scalars(select(AuditEvent.action)).all()
        assert "login.failure" in actions and "login.success" in actions


def test_deactivated_user_cannot_log_in(client, client_as, world):
    admin = client_as(world.admin)
    assert admin.post(f"/admin/users/{world.rep_a.id}/deactivate").status_code == 303
    response = login(client, "rep.a@test.example")
    assert response.status_code == 422
    assert "该账号已停用" in response.get_data(as_text=True)


def test_deactivation_ends_open_sessions_and_remember_cookies(client, client_as, world):
    login(client, "rep.a@test.example", remember="y")
    assert client.get("/").status_code == 200
    client_as(world.admin).post(f"/admin/users/{world.rep_a.id}/deactivate")
    assert client.get("/").status_code == 302
    # Even with the session cookie gone, the remember-me cookie must not log back in.
    client.delete_cookie("salesdesk_session")
    assert client.get("/").status_code == 302


def test_changing_password_ends_other_sessions_but_keeps_this_one(app, world):
    here, elsewhere = app.test_client(), app.test_client()
    login(here, "rep.a@test.example")
    login(elsewhere, "rep.a@test.example")
    response = here.post(
        "/account",
        data={"current_password": PASSWORD, "password": "new-password-99", "confirm": "new-password-99"},
    )
    assert response.status_code == 303
    assert here.get("/").status_code == 200
    assert elsewhere.get("/").status_code == 302
    assert login(app.test_client(), "rep.a@test.example", "new-password-99").status_code == 303


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"current_password": "wrong", "password": "new-password-99", "confirm": "new-password-99"},
            "当前密码不正确",
        ),
        ({"current_password": PASSWORD, "password": "short", "confirm": "short"}, "至少需要 8 个字符"),
        (
            {"current_password": PASSWORD, "password": "new-password-99", "confirm": "other-password"},
            "不一致",
        ),
    ],
)
def test_password_change_refusals(client_as, world, fields, message):
    response = client_as(world.rep_a).post("/account", data=fields)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def cookies_of(client):
    return {name: client.get_cookie(name).value for name in ("salesdesk_session", "salesdesk_remember")}


def copy_into(client, cookies):
    for name, value in cookies.items():
        client.set_cookie(name, value)
    return client


def test_finding_3_logout_ends_the_session_and_its_copied_cookies(app, client, world):
    login(client, "rep.a@test.example", remember="y")
    stolen = cookies_of(client)
    assert client.post("/logout").status_code == 303
    thief = copy_into(app.test_client(), stolen)
    assert thief.get("/").status_code == 302, "the copied session cookie still logs in"
    thief.delete_cookie("salesdesk_session")
    assert thief.get("/").status_code == 302, "the copied remember-me cookie still logs in"


def test_finding_3_logout_ends_only_this_login(app, world):
    phone, desk = app.test_client(), app.test_client()
    login(phone, "rep.a@test.example")
    login(desk, "rep.a@test.example")
    phone.post("/logout")
    assert phone.get("/").status_code == 302 and desk.get("/").status_code == 200


def test_finding_3_log_out_everywhere_ends_every_login(app, client, world):
    phone, desk = app.test_client(), app.test_client()
    login(phone, "rep.a@test.example", remember="y")
    login(desk, "rep.a@test.example")
    phone_cookies = cookies_of(phone)
    assert "退出所有设备" in desk.get("/account").get_data(as_text=True)
    response = desk.post("/account/logout-everywhere")
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert desk.get("/").status_code == 302
    assert phone.get("/").status_code == 302
    phone = copy_into(app.test_client(), phone_cookies)
    phone.delete_cookie("salesdesk_session")
    assert phone.get("/").status_code == 302
    assert login(app.test_client(), "rep.a@test.example").status_code == 303


def test_finding_3_the_database_keeps_only_a_hash_of_the_login_token(app, client, world):
    login(client, "rep.a@test.example")
    token = client.get_cookie("salesdesk_session")
    hashes = app.extensions["sqlalchemy"].session.scalars(select(UserSession.token_hash)).all()
    assert len(hashes) == 1 and len(hashes[0]) == 64 and token is not None
    with client.session_transaction() as session:
        assert session["_user_id"].split(".", 2)[2] not in hashes
