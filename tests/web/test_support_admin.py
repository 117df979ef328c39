"""The support desk's admin pages (issue 17): request types, the working calendar, the
desk's settings, and the support-lead flag on the user page. Administrators only;
every refusal says why and saves nothing."""

import re
from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import func, select

from salesdesk.audit import AuditEvent
from salesdesk.auth import services as accounts
from salesdesk.extensions import db
from salesdesk.support import holidays
from salesdesk.support.models import CalendarDay, RequestType, Settings
from tests.helpers import form_on_page

PAGES = (
    "/admin/support/types",
    "/admin/support/types/new",
    "/admin/support/types/{type_id}",
    "/admin/support/calendar",
    "/admin/support/calendar?year=2027",
    "/admin/support/settings",
)
POSTS = (
    "/admin/support/types/new",
    "/admin/support/types/{type_id}",
    "/admin/support/types/{type_id}/retire",
    "/admin/support/types/{type_id}/restore",
    "/admin/support/calendar",
    "/admin/support/settings",
)
TUESDAY, SATURDAY = date(2026, 3, 10), date(2026, 3, 14)


@pytest.fixture
def admin(world, client_as):
    """The administrator's client, in English: the messages are checked as written."""
    accounts.set_language(world.admin, "en")
    return client_as(world.admin)


def first_type():
    return db.session.scalars(select(RequestType).order_by(RequestType.id)).first()


def type_count():
    return db.session.scalar(select(func.count()).select_from(RequestType))


def audited(action):
    db.session.rollback()
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def type_form(**changes):
    return {
        "name": "投标支持",
        "prompts": "客户背景：\n招标文件要点：\n截止时间：",
        "team_id": "0",
        "routing": "least_open",
        "response_normal_hours": "4",
        "resolve_normal_hours": "16.5",
        "response_urgent_hours": "1",
        "resolve_urgent_hours": "3",
        "position": "20",
        **changes,
    }


def body(response):
    return response.get_data(as_text=True)


# ---- who may --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["rep_a", "support_a", "manager_a", "admin"])
def test_only_administrators_reach_the_support_admin_pages(world, client_as, role):
    client = client_as(getattr(world, role))
    type_id = first_type().id
    expected = 200 if role == "admin" else 403
    for page in PAGES:
        assert client.get(page.format(type_id=type_id)).status_code == expected, page
    if role == "admin":
        return
    before = type_count()
    for url in POSTS:
        response = client.post(url.format(type_id=type_id), data=type_form(action="load", year="2026"))
        assert response.status_code == 403, url
    assert type_count() == before
    assert not first_type().retired
    assert db.session.scalar(select(func.count()).select_from(CalendarDay)) == 0
    assert db.session.get(Settings, 1) is None


def test_the_administration_tabs_link_the_support_pages(admin):
    html = body(admin.get("/admin/users"))
    for link in ("/admin/support/types", "/admin/support/calendar", "/admin/support/settings"):
        assert f'href="{link}"' in html


# ---- request types --------------------------------------------------------------------------


def test_the_list_shows_the_shipped_types_with_their_levels(admin):
    html = body(admin.get("/admin/support/types"))
    for name in ("报价支持", "合同审核", "其他"):
        assert name in html
    assert "8 h / 18 h" in html and "2 h / 4 h" in html
    assert f'href="/admin/support/types/{first_type().id}"' in html
    assert "/retire" in html and "/restore" not in html


def test_a_new_type_starts_from_the_default_levels_last_in_the_list(admin):
    fields = form_on_page(body(admin.get("/admin/support/types/new")), None)
    assert fields["response_normal_hours"] == "8"
    assert fields["resolve_normal_hours"] == "18"
    assert fields["response_urgent_hours"] == "2"
    assert fields["resolve_urgent_hours"] == "4"
    assert fields["team_id"] == "0" and fields["routing"] == "round_robin"
    assert int(fields["position"]) > max(t.position for t in db.session.scalars(select(RequestType)))


def test_admin_creates_a_type_with_levels_in_working_hours(admin, world):
    response = admin.post("/admin/support/types/new", data=type_form(team_id=str(world.team_a.id)))
    assert response.status_code == 303 and response.headers["Location"] == "/admin/support/types"
    created = db.session.scalar(select(RequestType).where(RequestType.name == "投标支持"))
    assert created.team_id == world.team_a.id and created.routing == "least_open"
    assert created.levels("normal") == (240, 990)
    assert created.levels("urgent") == (60, 180)
    assert created.prompts == "客户背景：\n招标文件要点：\n截止时间：" and not created.retired
    [event] = audited("support.type_created")
    assert event.subject_id == created.id and event.actor_id == world.admin.id
    assert "投标支持" in body(admin.get("/admin/support/types"))


def test_the_edit_page_posted_as_it_is_changes_nothing(admin):
    request_type = first_type()
    url = f"/admin/support/types/{request_type.id}"
    fields = form_on_page(body(admin.get(url)), None)
    assert fields["name"] == request_type.name and fields["resolve_normal_hours"] == "18"
    assert admin.post(url, data=fields).status_code == 303
    assert audited("support.type_updated") == []


def test_admin_edits_a_type_and_the_change_is_audited(admin, world):
    request_type = first_type()
    response = admin.post(
        f"/admin/support/types/{request_type.id}",
        data=type_form(
            name="报价支持", team_id=str(world.team_b.id), routing="lead", response_urgent_hours="0.5"
        ),
    )
    assert response.status_code == 303
    db.session.refresh(request_type)
    assert (request_type.team_id, request_type.routing) == (world.team_b.id, "lead")
    assert request_type.response_urgent_minutes == 30
    [event] = audited("support.type_updated")
    assert event.details["changes"]["routing"] == ["round_robin", "lead"]
    assert event.details["changes"]["response_urgent_minutes"] == [120, 30]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": "合同审核"}, "name", "Another request type is called 合同审核."),
        ({"name": " 合同审核 "}, "name", "Another request type is called 合同审核."),
        ({"name": ""}, "name", None),
        ({"name": "名" * 41}, "name", None),
        ({"prompts": "问" * 2001}, "prompts", None),
        ({"response_normal_hours": "0.25"}, "response_normal_hours", None),
        ({"resolve_normal_hours": "2000.5"}, "resolve_normal_hours", None),
        ({"resolve_urgent_hours": "1.25"}, "resolve_urgent_hours", "in half hours"),
        ({"response_urgent_hours": "abc"}, "response_urgent_hours", None),
        ({"response_urgent_hours": "NaN"}, "response_urgent_hours", None),
        ({"response_urgent_hours": "Infinity"}, "response_urgent_hours", None),
        ({"response_urgent_hours": ""}, "response_urgent_hours", None),
        ({"resolve_normal_hours": "3"}, "resolve_normal_hours", "less time than the first response"),
        ({"team_id": "999999"}, "team_id", None),
        ({"team_id": "-1"}, "team_id", None),
        ({"routing": "whoever"}, "routing", None),
        ({"position": "-1"}, "position", None),
        ({"position": "1.5"}, "position", None),
    ],
)
def test_a_bad_type_is_refused_on_its_field_and_nothing_is_saved(admin, changes, field, message):
    before = type_count()
    request_type = first_type()
    for url in ("/admin/support/types/new", f"/admin/support/types/{request_type.id}"):
        response = admin.post(url, data=type_form(**changes))
        assert response.status_code == 422, url
        html = body(response)
        assert f'id="{field}-error"' in html, url
        if message:
            assert message in html
    assert type_count() == before
    db.session.refresh(request_type)
    assert request_type.name == "报价支持" and request_type.response_normal_minutes == 480
    assert audited("support.type_created") == audited("support.type_updated") == []


def test_an_unknown_type_is_a_404(admin):
    assert admin.get("/admin/support/types/999999").status_code == 404
    assert admin.post("/admin/support/types/999999", data=type_form()).status_code == 404
    assert admin.post("/admin/support/types/999999/retire").status_code == 404


def test_retire_and_restore(admin):
    request_type = first_type()
    response = admin.post(f"/admin/support/types/{request_type.id}/retire")
    assert response.status_code == 303 and response.headers["Location"] == "/admin/support/types"
    db.session.refresh(request_type)
    assert request_type.retired
    html = body(admin.get("/admin/support/types"))
    assert f"/admin/support/types/{request_type.id}/restore" in html and "Retired" in html
    # Retiring twice is no second event.
    admin.post(f"/admin/support/types/{request_type.id}/retire")
    assert len(audited("support.type_retired")) == 1
    assert admin.post(f"/admin/support/types/{request_type.id}/restore").status_code == 303
    db.session.refresh(request_type)
    assert not request_type.retired
    assert len(audited("support.type_restored")) == 1


def test_the_last_type_on_offer_cannot_be_retired(admin):
    types = db.session.scalars(select(RequestType).order_by(RequestType.id)).all()
    for request_type in types[1:]:
        assert admin.post(f"/admin/support/types/{request_type.id}/retire").status_code == 303
    response = admin.post(f"/admin/support/types/{types[0].id}/retire")
    assert response.status_code == 400
    assert "last type requesters can choose" in body(response)
    db.session.refresh(types[0])
    assert not types[0].retired


# ---- the working calendar -------------------------------------------------------------------


def day_form(day, kind, name="劳动节"):
    return {"action": "add", "day": day.isoformat(), "kind": kind, "name": name}


def calendar_days():
    db.session.rollback()
    return {row.day: (row.kind, row.name) for row in db.session.scalars(select(CalendarDay))}


def test_an_empty_year_says_so_and_offers_the_published_days(admin):
    html = body(admin.get("/admin/support/calendar?year=2026"))
    assert "No holidays entered for 2026: enter them from the State Council notice." in html
    assert 'name="action" value="load"' in html
    html = body(admin.get("/admin/support/calendar?year=2027"))
    assert "No holidays entered for 2027: enter them from the State Council notice." in html
    assert 'value="load"' not in html  # the app ships no notice for 2027
    assert 2027 not in holidays.published_years()


def test_loading_the_published_holidays_twice_enters_them_once(admin):
    response = admin.post("/admin/support/calendar?year=2026", data={"action": "load", "year": "2026"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/support/calendar?year=2026"
    published = holidays.published(2026)
    expected = {day: ("holiday", name) for day, name in published["holidays"]} | {
        day: ("workday", name) for day, name in published["workdays"]
    }
    assert calendar_days() == expected
    html = body(admin.get("/admin/support/calendar?year=2026"))
    assert "国庆节调休" in html and "No holidays entered" not in html and 'value="load"' not in html
    assert admin.post("/admin/support/calendar", data={"action": "load", "year": "2026"}).status_code == 303
    assert calendar_days() == expected
    [event] = audited("support.holidays_loaded")
    assert event.details["added"] == len(expected)


def test_loading_keeps_what_an_admin_entered_and_adds_the_rest(admin):
    admin.post("/admin/support/calendar", data=day_form(date(2026, 5, 4), "holiday", "五一"))
    admin.post("/admin/support/calendar", data={"action": "load", "year": "2026"})
    days = calendar_days()
    assert days[date(2026, 5, 4)] == ("holiday", "五一")
    assert days[date(2026, 5, 5)] == ("holiday", "劳动节")


def test_a_year_without_a_shipped_notice_cannot_be_loaded(admin):
    response = admin.post("/admin/support/calendar", data={"action": "load", "year": "2027"})
    assert response.status_code == 400
    assert "no published holidays for 2027" in body(response)
    assert calendar_days() == {}


def test_admin_adds_and_removes_a_holiday_and_a_make_up_day(admin):
    assert TUESDAY.weekday() == 1 and SATURDAY.weekday() == 5
    response = admin.post("/admin/support/calendar?year=2026", data=day_form(TUESDAY, "holiday", "公司年会"))
    assert response.status_code == 303
    response = admin.post("/admin/support/calendar", data=day_form(SATURDAY, "workday", "年会调休"))
    assert response.status_code == 303
    assert calendar_days() == {TUESDAY: ("holiday", "公司年会"), SATURDAY: ("workday", "年会调休")}
    html = body(admin.get("/admin/support/calendar?year=2026"))
    assert "公司年会" in html and "年会调休" in html
    response = admin.post("/admin/support/calendar", data={"action": "remove", "day": TUESDAY.isoformat()})
    assert response.status_code == 303
    assert calendar_days() == {SATURDAY: ("workday", "年会调休")}
    assert [len(audited(a)) for a in ("support.calendar_day_added", "support.calendar_day_removed")] == [2, 1]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (day_form(SATURDAY, "holiday"), "is a Saturday or Sunday, a day off already"),
        (day_form(TUESDAY, "workday"), "is a weekday, a working day already"),
        (day_form(TUESDAY, "holiday", ""), None),
        (day_form(TUESDAY, "holiday", "节" * 41), None),
        (day_form(TUESDAY, "bridge"), None),
        ({**day_form(TUESDAY, "holiday"), "day": "2026-02-30"}, None),
        ({**day_form(TUESDAY, "holiday"), "day": "1999-03-09"}, "Choose a year from 2000 to 2100"),
    ],
)
def test_a_bad_day_is_refused_with_a_message_and_nothing_is_saved(admin, data, message):
    response = admin.post("/admin/support/calendar", data=data)
    assert response.status_code == 422
    if message:
        assert message in body(response)
    assert calendar_days() == {}
    assert audited("support.calendar_day_added") == []


def test_a_day_entered_twice_is_refused(admin):
    admin.post("/admin/support/calendar", data=day_form(TUESDAY, "holiday", "公司年会"))
    response = admin.post("/admin/support/calendar", data=day_form(TUESDAY, "holiday", "别的"))
    assert response.status_code == 422
    assert "is already entered (公司年会)" in body(response)
    assert calendar_days() == {TUESDAY: ("holiday", "公司年会")}


@pytest.mark.parametrize(
    "data",
    [
        {"action": "remove", "day": TUESDAY.isoformat()},  # not in the calendar: 404
        {"action": "remove", "day": "tuesday"},
        {"action": "load", "year": "1999"},
        {"action": "load", "year": "abc"},
        {"action": "explode"},
        {},
    ],
)
def test_forged_calendar_posts_are_refused(admin, data):
    response = admin.post("/admin/support/calendar", data=data)
    assert 400 <= response.status_code < 500
    assert calendar_days() == {}


@pytest.mark.parametrize("year", ["1999", "2101", "abc", ""])
def test_a_year_out_of_range_is_not_found(admin, year):
    assert admin.get(f"/admin/support/calendar?year={year}").status_code == 404


def test_the_calendar_opens_on_this_year(admin, frozen_clock):
    frozen_clock(datetime(2026, 12, 31, 17, 0, tzinfo=UTC))  # 1 January 2027 in Shanghai
    assert "Working calendar 2027" in body(admin.get("/admin/support/calendar"))


# ---- settings -------------------------------------------------------------------------------


def settings_form(**changes):
    return {
        "day_start": "08:30",
        "day_end": "17:30",
        "warn_minutes": "120",
        "auto_close_days": "5",
        "reopen_days": "14",
        "five_star_points": "3",
        "five_star_monthly_cap": "30",
        **changes,
    }


def test_the_settings_page_shows_the_defaults_and_saves(admin):
    fields = form_on_page(body(admin.get("/admin/support/settings")), None)
    assert fields["day_start"] == "09:00" and fields["day_end"] == "18:00"
    assert fields["warn_minutes"] == "60" and fields["auto_close_days"] == "3"
    response = admin.post("/admin/support/settings", data=settings_form())
    assert response.status_code == 303
    saved = db.session.get(Settings, 1)
    assert (saved.day_start, saved.day_end) == (time(8, 30), time(17, 30))
    assert (saved.warn_minutes, saved.auto_close_days, saved.reopen_days) == (120, 5, 14)
    assert (saved.five_star_points, saved.five_star_monthly_cap) == (3, 30)
    [event] = audited("support.settings_changed")
    assert event.details["changes"]["day_start"] == ["09:00", "08:30"]
    # The page posted as it is changes nothing more.
    fields = form_on_page(body(admin.get("/admin/support/settings")), None)
    assert admin.post("/admin/support/settings", data=fields).status_code == 303
    assert len(audited("support.settings_changed")) == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"day_end": "08:00"}, "day_end"),
        ({"day_end": "08:30"}, "day_end"),
        ({"day_start": "25:00"}, "day_start"),
        ({"day_start": ""}, "day_start"),
        ({"warn_minutes": "-1"}, "warn_minutes"),
        ({"warn_minutes": "1441"}, "warn_minutes"),
        ({"auto_close_days": "0"}, "auto_close_days"),
        ({"auto_close_days": "31"}, "auto_close_days"),
        ({"reopen_days": "91"}, "reopen_days"),
        ({"five_star_points": "101"}, "five_star_points"),
        ({"five_star_monthly_cap": "10001"}, "five_star_monthly_cap"),
        ({"five_star_monthly_cap": "1.5"}, "five_star_monthly_cap"),
        ({"five_star_points": str(2**63)}, "five_star_points"),
    ],
)
def test_settings_out_of_range_are_refused(admin, changes, field):
    response = admin.post("/admin/support/settings", data=settings_form(**changes))
    assert response.status_code == 422
    assert f'id="{field}-error"' in body(response)
    assert db.session.get(Settings, 1) is None


# ---- the support-lead flag --------------------------------------------------------------------


def user_form(user, **changes):
    return {
        "email": user.email,
        "display_name": user.display_name,
        "role": user.role,
        "team_id": str(user.team_id),
        "locale": user.locale,
        "password": "",
        **changes,
    }


def test_admin_makes_a_support_user_a_lead_and_back(admin, world):
    support = world.support_a
    url = f"/admin/users/{support.id}"
    html = body(admin.get(url))
    assert 'name="support_lead"' in html and "Support lead" in html
    assert admin.post(url, data=user_form(support, support_lead="y")).status_code == 303
    db.session.refresh(support)
    assert support.support_lead
    [event] = audited("user.updated")
    assert event.details["changes"] == {"support_lead": [False, True]}
    assert re.search(r'<input[^>]* checked [^>]*id="support_lead"', body(admin.get(url)))
    # An unticked box is left out of the post: no longer the lead.
    assert admin.post(url, data=user_form(support)).status_code == 303
    db.session.refresh(support)
    assert not support.support_lead


def test_only_support_users_can_lead(admin, world):
    rep = world.rep_a
    url = f"/admin/users/{rep.id}"
    assert 'name="support_lead"' not in body(admin.get(url))
    assert admin.post(url, data=user_form(rep, support_lead="y")).status_code == 303
    db.session.refresh(rep)
    assert not rep.support_lead
    # A lead who becomes a rep leads no more.
    support = world.support_a
    admin.post(f"/admin/users/{support.id}", data=user_form(support, support_lead="y"))
    admin.post(f"/admin/users/{support.id}", data=user_form(support, role="rep", support_lead="y"))
    db.session.refresh(support)
    assert support.role == "rep" and not support.support_lead
