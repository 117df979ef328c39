"""Chinese by default; English for users who choose it (and on the login page)."""

from tests.helpers import login_form


def test_anonymous_visitor_switches_the_login_page_to_english(client):
    response = client.post("/language", data={"locale": "en", "next": "/login"})
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in html and "<h1>Log in</h1>" in html


def test_user_preference_is_stored_and_used(client_as, world):
    rep = client_as(world.rep_a)
    assert "待跟进" in rep.get("/").get_data(as_text=True)
    rep.post("/language", data={"locale": "en", "next": "/"})
    assert world.rep_a.locale == "en"
    html = rep.get("/").get_data(as_text=True)
    assert "Follow-ups due" in html and "Log out" in html


def test_unknown_language_is_refused(client_as, world):
    rep = client_as(world.rep_a)
    assert rep.post("/language", data={"locale": "fr", "next": ""}).status_code == 400
    assert world.rep_a.locale == "zh_Hans_CN"


def test_language_switch_does_not_redirect_outside(client):
    response = client.post("/language", data={"locale": "en", "next": "https://evil.example/"})
    assert response.headers["Location"] == "/"


def test_messages_from_services_are_translated(client, world):
    client.post("/language", data={"locale": "en", "next": ""})
    response = client.post("/login", data=login_form("rep.a@test.example", "wrong-password"))
    assert "Wrong e-mail address or password." in response.get_data(as_text=True)


def test_templates_follow_a_forced_language_within_a_request(app):
    """Templates find the catalogue once per request, yet a forced language (e-mails
    to a user who reads English) still renders in it, and the request's after."""
    from flask import render_template_string
    from flask_babel import force_locale

    page = "{{ _('Customer') }} · {{ ngettext('%(num)s article', '%(num)s articles', 2) }}"
    with app.test_request_context("/"):
        assert render_template_string(page) == "客户 · 2 篇文章"
        with force_locale("en"):
            assert render_template_string(page) == "Customer · 2 articles"
        assert render_template_string(page) == "客户 · 2 篇文章"


def test_every_page_offers_the_switch_back_to_where_it_was(client_as, world):
    rep = client_as(world.rep_a)
    html = rep.get("/customers?stage=open&owner=me").get_data(as_text=True)
    assert html.count('<input name="next" type="hidden" value="/customers?stage=open&amp;owner=me">') == 2
    assert html.count('value="zh_Hans_CN" lang="zh-Hans-CN" aria-pressed="true" disabled>简体中文') == 2
    token = html.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = rep.post(
        "/language", data={"csrf_token": token, "locale": "en", "next": "/customers?stage=open&owner=me"}
    )
    assert response.headers["Location"] == "/customers?stage=open&owner=me"
    assert 'value="en" lang="en" aria-pressed="true" disabled>English' in rep.get("/").get_data(as_text=True)
