"""The security baseline: CSRF, headers, cookies, admin-only pages, error pages."""

import pytest
from flask import abort

from salesdesk import CONTENT_SECURITY_POLICY
from tests.helpers import PASSWORD, login_form

EXPECTED_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
)


class TestCsrf:
    def test_form_post_without_token_is_refused(self, client, world):
        response = client.post("/login", data=login_form("rep.a@test.example", PASSWORD), csrf=False)
        assert response.status_code == 400
        assert "会话已过期或表单已失效" in response.get_data(as_text=True)

    def test_form_post_with_a_forged_token_is_refused(self, client, world):
        response = client.post(
            "/login",
            data=login_form("rep.a@test.example", PASSWORD, csrf_token="forged"),
            csrf=False,
        )
        assert response.status_code == 400

    def test_a_token_from_another_session_is_refused(self, app, client, world):
        stolen = app.test_client().csrf_token()
        response = client.post(
            "/login",
            data=login_form("rep.a@test.example", PASSWORD, csrf_token=stolen),
            csrf=False,
        )
        assert response.status_code == 400

    def test_htmx_post_without_header_is_refused(self, client_as, world):
        admin = client_as(world.admin)
        response = admin.post(
            f"/admin/users/{world.rep_a.id}/deactivate", headers={"HX-Request": "true"}, csrf=False
        )
        assert response.status_code == 400
        # htmx shows the reason as a toast.
        assert "toast" in response.headers["HX-Trigger"]
        assert world.rep_a.active

    def test_htmx_post_with_header_passes(self, client_as, world):
        admin = client_as(world.admin)
        response = admin.post(f"/admin/users/{world.rep_a.id}/deactivate", htmx=True)
        assert response.status_code == 204
        assert response.headers["HX-Redirect"] == f"/admin/users/{world.rep_a.id}"

    def test_logout_without_token_is_refused(self, client_as, world):
        rep = client_as(world.rep_a)
        assert rep.post("/logout", csrf=False).status_code == 400
        assert rep.get("/").status_code == 200


class TestHeaders:
    def test_csp_and_friends_on_every_page(self, client, client_as, world):
        for response in (client.get("/login"), client_as(world.rep_a).get("/"), client.get("/missing")):
            headers = response.headers
            assert headers["Content-Security-Policy"] == EXPECTED_CSP == CONTENT_SECURITY_POLICY
            assert headers["X-Content-Type-Options"] == "nosniff"
            assert headers["Referrer-Policy"] == "same-origin"
            assert headers["X-Frame-Options"] == "DENY"

    def test_pages_are_not_cached(self, client_as, world):
        assert client_as(world.rep_a).get("/").headers["Cache-Control"] == "no-store"

    def test_no_inline_script_or_style_in_pages(self, client, client_as, world):
        for html in (
            client.get("/login").get_data(as_text=True),
            client_as(world.admin).get("/admin/users").get_data(as_text=True),
        ):
            assert "<script>" not in html and " style=" not in html and " onclick=" not in html
            assert '"allowEval":false' in html and '"includeIndicatorStyles":false' in html

    def test_session_cookie_flags(self, client, world):
        response = client.post("/login", data=login_form("rep.a@test.example", PASSWORD))
        cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("salesdesk_session="))
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie

    def test_https_setting_marks_cookies_secure(self, make_app, world, monkeypatch):
        monkeypatch.setenv("SALESDESK_HTTPS", "1")
        client = make_app().test_client()
        response = client.post("/login", data=login_form("rep.a@test.example", PASSWORD, remember="y"))
        cookies = response.headers.getlist("Set-Cookie")
        assert all("Secure" in cookie for cookie in cookies)
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")


ADMIN_GETS = [
    "/admin/users",
    "/admin/users/new",
    "/admin/users/{rep}",
    "/admin/teams",
    "/admin/teams/{team}",
    "/admin/audit",
]
ADMIN_POSTS = [
    "/admin/users/new",
    "/admin/users/{rep}",
    "/admin/users/{rep}/deactivate",
    "/admin/users/{rep}/reactivate",
    "/admin/teams",
    "/admin/teams/{team}",
]


@pytest.mark.parametrize("role", ["manager_a", "rep_a", "support_a"])
def test_admin_pages_are_forbidden_to_everyone_else(client_as, world, role):
    client = client_as(getattr(world, role))
    ids = {"rep": world.rep_a2.id, "team": world.team_a.id}
    for url in ADMIN_GETS:
        assert client.get(url.format(**ids)).status_code == 403, url
    for url in ADMIN_POSTS:
        assert (
            client.post(url.format(**ids), data={"role": "admin", "display_name": "x"}).status_code == 403
        ), url
    assert world.rep_a2.role == "rep" and world.rep_a2.active


def test_admin_pages_open_for_admins(client_as, world):
    client = client_as(world.admin)
    ids = {"rep": world.rep_a2.id, "team": world.team_a.id}
    for url in ADMIN_GETS:
        assert client.get(url.format(**ids)).status_code == 200, url


class TestErrorPages:
    def test_404_page_is_friendly_and_chinese(self, client_as, world):
        response = client_as(world.rep_a).get("/no/such/page")
        html = response.get_data(as_text=True)
        assert response.status_code == 404
        assert "页面或记录不存在" in html and "返回工作台" in html

    def test_unknown_ids_are_404(self, client_as, world):
        admin = client_as(world.admin)
        assert admin.get("/admin/users/999999").status_code == 404
        assert admin.get("/admin/users/abc").status_code == 404
        assert admin.post("/admin/users/999999/deactivate").status_code == 404

    def test_htmx_errors_come_as_fragment_and_toast(self, client_as, world):
        response = client_as(world.rep_a).get("/admin/users", htmx=True)
        assert response.status_code == 403
        assert "<html" not in response.get_data(as_text=True)
        assert "\\u4f60\\u6ca1\\u6709" in response.headers["HX-Trigger"]  # 你没有… as ASCII JSON

    def test_405(self, client_as, world):
        assert client_as(world.rep_a).delete("/account").status_code == 405

    def test_413_for_oversized_bodies(self, client, world):
        big = "x" * (21 * 1024 * 1024)
        response = client.post("/login", data=login_form(big, "x"), csrf=False)
        assert response.status_code == 413
        assert "20 MB" in response.get_data(as_text=True)

    def test_500_shows_a_page_not_a_traceback(self, make_app, world):
        app = make_app(TESTING=False)

        @app.get("/boom")
        def boom():
            raise RuntimeError("secret internals")

        @app.get("/teapot")
        def teapot():
            abort(429)

        client = app.test_client().login_as(world.rep_a)
        response = client.get("/boom")
        html = response.get_data(as_text=True)
        assert response.status_code == 500
        assert "出错了" in html and "secret internals" not in html and "Traceback" not in html
        assert client.get("/teapot").status_code == 429

    def test_forged_select_values_are_refused(self, client_as, world):
        admin = client_as(world.admin)
        response = admin.post(
            f"/admin/users/{world.rep_a.id}",
            data={
                "email": "rep.a@test.example",
                "display_name": "张三",
                "role": "superuser",
                "team_id": "abc",
                "locale": "xx",
            },
        )
        assert response.status_code == 422
        assert world.rep_a.role == "rep"
