"""A person logs in, sees the workbench, switches language and logs out."""

from playwright.sync_api import expect

from tests.helpers import browser_login


def test_login_workbench_language_logout(page, world):
    page.goto("/")
    assert page.url.endswith("/login?next=/")
    assert page.locator("h1").inner_text() == "登录"

    browser_login(page, "rep.a@test.example")
    assert page.locator("h1").inner_text() == "张三，你好"
    assert page.locator("nav.sidenav a[aria-current=page]").inner_text() == "工作台"

    page.click("details.menu summary")
    page.click("details.menu button[value=en]")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Good day, 张三"
    assert page.locator("html").get_attribute("lang") == "en"

    page.click("details.menu summary")
    page.click("text=Log out")
    page.wait_for_url("**/login")
    assert "You have logged out." in page.locator(".flashes").inner_text()
    page.goto("/")
    assert "/login" in page.url


def test_wrong_password_keeps_the_user_on_the_form(page, world):
    page.goto("/login")
    page.fill("#email", "rep.a@test.example")
    page.fill("#password", "not-the-password")
    page.click("form[action='/login'] button[type=submit]")
    assert "邮箱或密码错误" in page.locator(".form-errors").inner_text()
    assert page.input_value("#email") == "rep.a@test.example"
    page.reported_errors.clear()  # the 422 response is logged by Chromium


def test_htmx_search_updates_the_user_list(page, world):
    browser_login(page, "admin@test.example")
    page.goto("/admin/users")
    page.fill("input[name=q]", "黄")
    expect(page.locator("#user-rows tbody tr")).to_have_count(1)
    assert "黄经理" in page.locator("#user-rows").inner_text()
    assert "q=%E9%BB%84" in page.url
