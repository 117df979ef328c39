"""Support metrics (/support/metrics and its XLSX export): the figures on a small known
set of requests, who may see them and whose requests they count, and lenient filters."""

import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from salesdesk.auth.models import Role
from salesdesk.extensions import db
from salesdesk.support import levels, metrics
from salesdesk.support.calendar import working_minutes_between
from salesdesk.support.models import Request, RequestType, Status
from tests.helpers import make_user

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Friday 20 November 2026, 10:00 in Shanghai: November has no public holiday.
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI)


def local(month, day, hour=10, minute=0):
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def desk(world, frozen_clock):
    """Team A's queue with a known month of requests, and two in the company-wide queue."""
    frozen_clock(NOW)
    lead = make_user("lead.a@test.example", Role.SUPPORT, world.team_a, "钱组长")
    lead.support_lead = True
    type_a = RequestType(name="华东报价", team_id=world.team_a.id, position=0)
    type_b = RequestType(name="华南报价", team_id=world.team_b.id, position=0)
    company_type = db.session.query(RequestType).filter(RequestType.team_id.is_(None)).first()
    db.session.add_all([type_a, type_b])
    # English pages and sheets: the assertions read msgids, whatever the catalogs say.
    for user in (lead, world.admin, world.manager_a, world.manager_b):
        user.locale = "en"
    db.session.commit()
    support = world.support_a

    def add(created, status=Status.CLOSED, handler=support, requester=world.rep_a, kind=type_a, **values):
        request = Request(
            requester_id=requester.id,
            type_id=kind.id,
            team_id=kind.team_id,
            handler_id=handler.id if handler else None,
            title="报价",
            status=status,
            created_at=created,
            updated_at=created,
            **values,
        )
        db.session.add(request)
        return request

    def done(created, accepted, response, response_met, resolved=None, resolution=None, met=None, **values):
        return add(
            created,
            accepted_at=accepted,
            response_minutes=response,
            response_met=response_met,
            resolved_at=resolved,
            resolution_minutes=resolution,
            resolution_met=met,
            **values,
        )

    # Responded, resolved and rated in November.
    done(local(11, 2), local(11, 2, 11), 60, True, local(11, 3), 300, True, closed_at=local(11, 5), rating=5)
    done(local(11, 3), local(11, 3, 12), 120, True, local(11, 4), 600, True, closed_at=local(11, 6), rating=4)
    late = {"closed_at": local(11, 9), "rating": 2}
    done(local(11, 4), local(11, 4, 14), 240, False, local(11, 9), 1200, False, **late)
    # Filed on 30 October, first answered in November: a response, not a receipt.
    done(local(10, 30), local(11, 2, 9), 600, False, status=Status.IN_PROGRESS)
    # All of it in October: counts nowhere in November.
    done(local(10, 1), local(10, 1, 11), 45, True, local(10, 2), 100, True, closed_at=local(10, 3), rating=1)
    # Open now, one per age: <1, 1–3, 3–5, exactly 5 working days (5 or more), and older.
    add(local(11, 20, 9, 30), status=Status.NEW, handler=None)
    add(local(11, 19, 17), status=Status.RETURNED)
    add(local(11, 18), status=Status.NEW)
    add(local(11, 16), status=Status.IN_PROGRESS, handler=lead)
    add(local(11, 13), status=Status.IN_PROGRESS)
    done(local(11, 5), local(11, 5, 10, 30), 30, True, status=Status.IN_PROGRESS, handler=lead)
    # The company-wide queue: team B's rep, and team A's rep; and team B's own queue.
    add(local(11, 10), requester=world.rep_b, kind=company_type, status=Status.NEW, handler=None)
    add(local(11, 11), requester=world.rep_a, kind=company_type, status=Status.NEW, handler=None)
    add(local(11, 12), requester=world.rep_b, kind=type_b, status=Status.NEW, handler=None)
    db.session.commit()
    world.lead, world.type_a = lead, type_a
    return world


def month_report(user, **args):
    return metrics.report(user, metrics.MetricsFilters.from_args(_Args(args), user))


def queue_a_report(desk, **args):
    """The lead's figures on team A's queue alone (the known set)."""
    return month_report(desk.lead, type=str(desk.type_a.id), **args)


class _Args(dict):
    def get(self, key, default=None, type=None):  # noqa: A002 - as werkzeug's MultiDict
        return super().get(key, default)


def test_percentiles_interpolate_like_excel():
    assert metrics.percentile([], 0.5) is None
    assert metrics.percentile([7], 0.9) == 7
    assert metrics.percentile([1, 2, 3, 4], 0.5) == 2.5
    assert metrics.percentile([30, 60, 120, 240, 600], 0.9) == pytest.approx(456)


def test_the_lead_sees_the_months_figures_of_their_queue(desk):
    report = queue_a_report(desk)
    total = report.total
    assert (report.filters.start.isoformat(), report.filters.end.isoformat()) == ("2026-11-01", "2026-12-01")
    # Filed in November: 3 done, 1 open since the 5th, 5 open of every age.
    assert total.received == 9
    # Responses in November: 30, 60, 120, 240, 600 minutes.
    assert total.responded == 5
    assert total.response_p50 == pytest.approx(2.0)
    assert total.response_p90 == pytest.approx(7.6)
    assert total.response_attainment == pytest.approx(60)
    # Resolutions: 300, 600, 1200 minutes.
    assert total.resolution_p50 == pytest.approx(10)
    assert total.resolution_p90 == pytest.approx(18)
    assert total.resolution_attainment == pytest.approx(200 / 3)
    assert total.stars == [0, 1, 0, 1, 1]
    assert total.rating_average == pytest.approx(11 / 3)
    assert total.backlog == [2, 1, 1, 3]  # the 30 October one is still open


def test_backlog_buckets_match_working_days_since_filing(desk):
    calendar = levels.calendar_for(desk.team_a)
    now = NOW.astimezone(UTC)
    for created, bucket in ((local(11, 13), 3), (local(11, 13, 10, 1), 2), (local(11, 18), 1)):
        days = working_minutes_between(calendar, created, now) / calendar.minutes_per_day
        limits = [metrics._filed_by(calendar, now, limit) for limit in metrics.AGE_LIMITS]
        assert sum(created <= limit for limit in limits) == bucket, days


def test_rows_per_handler_and_per_type(desk):
    report = queue_a_report(desk)
    handlers = {row.name: row for row in report.by_handler}
    assert set(handlers) == {"赵支持", "钱组长", "尚未分配"}
    support = handlers["赵支持"]
    assert support.received == 6
    assert sorted(support.response_minutes) == [60, 120, 240, 600]  # gathered in the scan's order
    assert support.response_p50 == pytest.approx(3.0)
    assert support.backlog == [1, 1, 0, 2]
    assert handlers["钱组长"].backlog == [0, 0, 1, 1]
    assert [row.name for row in report.by_type] == ["华东报价"]
    assert report.by_type[0].received == 9


def test_the_boards_counts_of_two_periods_at_once(desk):
    """handler_counts (the performance board's support columns): November and October
    at once, each request counted by its own moments, as the report counts them."""
    november, october = (local(11, 1, 0), local(12, 1, 0)), (local(10, 1, 0), local(11, 1, 0))
    counts = metrics.handler_counts([desk.support_a.id, desk.lead.id], [november, october])
    figures = {
        handler_id: [
            (c.responded, c.response_met, c.resolved, c.resolution_met, c.rated, c.stars_total) for c in spans
        ]
        for handler_id, spans in counts.items()
    }
    # The request filed on 30 October and answered in November is November's response.
    assert figures[desk.support_a.id] == [(4, 2, 3, 2, 3, 11), (1, 1, 1, 1, 1, 1)]
    assert figures[desk.lead.id] == [(1, 1, 0, 0, 0, 0), (0, 0, 0, 0, 0, 0)]
    assert metrics.handler_counts([desk.manager_a.id], [november, october]) == {}
    # Spans apart: what happened between them (October) counts for neither.
    september = (local(9, 1, 0), local(10, 1, 0))
    apart = metrics.handler_counts([desk.support_a.id], [november, september])[desk.support_a.id]
    assert [(c.responded, c.resolved, c.rated) for c in apart] == [(4, 3, 3), (0, 0, 0)]


def test_filters_by_handler_type_and_week(desk):
    assert month_report(desk.lead, handler=str(desk.lead.id)).total.received == 2
    assert month_report(desk.lead, type="999").total.received == 0
    week = queue_a_report(desk, period="week", on="2026-11-04")
    assert (week.filters.start.isoformat(), week.filters.label()) == ("2026-11-02", "2026-W45")
    assert week.total.received == 4  # the 2nd, 3rd, 4th and 5th
    assert week.total.stars == [0, 0, 0, 1, 1]


def test_whose_requests_count(desk):
    # A lead: the queues they lead, their team's and the company-wide one; not team B's.
    assert month_report(desk.lead).total.received == 9 + 2
    # A manager: their team's queue and what their people filed; never team B's.
    assert month_report(desk.manager_a).total.received == 9 + 1
    assert month_report(desk.manager_b).total.received == 2
    assert month_report(desk.admin).total.received == 12
    assert month_report(desk.admin, team="company").total.received == 2
    assert month_report(desk.admin, team=str(desk.team_a.id)).total.received == 10
    assert month_report(desk.admin, team=str(desk.team_b.id)).total.received == 2
    # Only admins choose: a manager asking for the whole desk or another team sees their own.
    assert month_report(desk.manager_a, team="").total.received == 10
    assert month_report(desk.manager_b, team=str(desk.team_a.id)).total.received == 2


@pytest.mark.parametrize(
    ("who", "status"),
    [("rep_a", 403), ("support_a", 403), ("lead", 200), ("manager_a", 200), ("admin", 200)],
)
def test_who_may_see_the_page_and_the_export(desk, client_as, who, status):
    client = client_as(getattr(desk, who))
    assert client.get("/support/metrics").status_code == status
    assert client.get("/support/metrics.xlsx").status_code == status


def test_anonymous_visitors_are_sent_to_login(desk, client):
    assert client.get("/support/metrics").headers["Location"].startswith("/login")


def test_the_page_shows_the_figures_and_charts(desk, client_as):
    page = client_as(desk.lead).get(f"/support/metrics?type={desk.type_a.id}").get_data(as_text=True)
    assert "华东报价" in page and "赵支持" in page
    assert "2.0 · 7.6" in page  # first response p50 · p90, working hours
    assert "10.0 · 18.0" in page
    assert "60 %" in page
    assert "2 · 1 · 1 · 3" in page  # the backlog by age
    assert page.count('<svg viewBox="0 0 360') == 4
    assert 'role="img"' in page and "<title" in page
    # A manager of team B sees none of team A's queue.
    other = client_as(desk.manager_b).get("/support/metrics").get_data(as_text=True)
    assert "华南报价" in other and '<td data-label="Type">华东报价' not in other
    assert ">华东报价</th>" not in other


def test_the_export_has_the_same_figures(desk, client_as):
    url = f"/support/metrics.xlsx?period=month&on=2026-11-15&type={desk.type_a.id}"
    response = client_as(desk.lead).get(url)
    assert response.status_code == 200
    assert "support-metrics-2026-11.xlsx" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    headers = rows[0]
    total = dict(zip(headers, rows[1], strict=True))
    assert total["Grouped by"] == "Total"
    assert total["Received"] == 9
    assert total["First response p50 (working hours)"] == 2
    assert total["First response p90 (working hours)"] == pytest.approx(7.6)
    assert total["Resolution on time (%)"] == pytest.approx(66.7)
    assert total["Average rating"] == pytest.approx(3.67)
    assert [total[f"{n} stars"] for n in range(1, 6)] == [0, 1, 0, 1, 1]
    assert total["Open 5 working days or more"] == 3
    names = [row[1] for row in rows[2:]]
    assert "赵支持" in names and "华东报价" in names


def test_names_cannot_become_formulas_in_the_export(desk, client_as):
    desk.type_a.name = "=HYPERLINK(1)"
    db.session.commit()
    sheet = load_workbook(io.BytesIO(client_as(desk.lead).get("/support/metrics.xlsx").data)).active
    assert "'=HYPERLINK(1)" in [row[1].value for row in sheet.iter_rows()]


@pytest.mark.parametrize(
    "query",
    [
        "period=year&on=yesterday",
        "on=2026-02-30",
        "on=0001-01-01",
        "on=9999-12-31&period=week",
        "team=abc&handler=-5&type=99999999999999999999",
        "team=999&handler=0&type=0",
        "handler=%E4%B8%AD",
        "on=" + "9" * 500,
    ],
)
def test_bad_filters_fall_back_to_defaults(desk, client_as, query):
    for who in (desk.admin, desk.manager_a):
        client = client_as(who)
        assert client.get(f"/support/metrics?{query}").status_code == 200
        assert client.get(f"/support/metrics.xlsx?{query}").status_code == 200


def test_a_period_without_requests_says_so(desk, client_as):
    client = client_as(desk.admin)
    assert "No requests in this period." in client.get("/support/metrics?type=99").get_data(as_text=True)
    # Another period: nothing received, and the backlog as it is now.
    page = client.get("/support/metrics?on=2025-01-10").get_data(as_text=True)
    assert "No requests in this period." not in page and "2 · 1 · 1 · 6" in page
