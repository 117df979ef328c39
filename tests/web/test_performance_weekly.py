"""The weekly report (每周协作报告): made on Monday from 08:30 in the team's zone (later
that week after downtime), once per manager and week even with several processes, with
last week's figures; read on its page by its manager and by admins; e-mailed when mail
is on."""

import email
import email.policy
import threading
from datetime import date
from decimal import Decimal

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select, update

from salesdesk import clock, jobs
from salesdesk.auth.models import Role, Team, User
from salesdesk.database import write_transaction
from salesdesk.extensions import db
from salesdesk.ledger import customers
from salesdesk.ledger.models import Customer
from salesdesk.notifications import Notification
from salesdesk.performance import report
from salesdesk.performance.models import Target, WeeklyReport
from salesdesk.support import breaches
from tests.fixtures.ledger import make_customer
from tests.fixtures.recognition import award_at
from tests.fixtures.support import file, local
from tests.helpers import make_user
from tests.web.test_notifications import mail_app, smtp_sink, wait_for  # noqa: F401 - a fixture

WEEK = date(2026, 3, 2)  # Monday 2 – Sunday 8 March 2026
MONDAY_0830 = local(2026, 3, 9, 8, 30)
URL = "/performance/weekly/2026-03-02"


def won_at(moment, user, name, amount):
    with clock.at(moment):
        return make_customer(user, name, stage="won", expected_amount=amount)


@pytest.fixture
def last_week(desk):
    """Team A's week: two deals won (one at 23:59 on Sunday), one more at 00:00 on the
    next Monday and one the Sunday before; a new lead; points; an overdue follow-up; a
    breach in team A's queue and one of team B's."""
    world = desk
    won_at(local(2026, 3, 1, 23, 59), world.rep_a, "上周日成交有限公司", "7000")
    won_at(local(2026, 3, 4, 11), world.rep_a2, "杭州云栖数据科技有限公司", "30000.50")
    won_at(local(2026, 3, 8, 23, 59), world.rep_a, "苏州恒达精密机械有限公司", "120000")
    won_at(local(2026, 3, 9, 0, 0), world.rep_a, "下周一成交有限公司", "5000")
    won_at(local(2026, 3, 5, 9), world.rep_b, "深圳市南方鑫材料有限公司", "88000")
    with clock.at(local(2026, 3, 3, 15)):
        lead = make_customer(world.rep_a, "无锡华光电子有限公司")
    db.session.execute(
        update(Customer).where(Customer.id == lead.id).values(next_follow_up_on=date(2026, 3, 6))
    )
    db.session.commit()
    award_at(local(2026, 3, 3, 10), world.admin, world.rep_a2, 20)
    award_at(local(2026, 3, 5, 10), world.admin, world.support_a, 5)
    award_at(local(2026, 3, 6, 10), world.admin, world.rep_b, 50)  # team B's
    clock.set_now(local(2026, 3, 2, 10))
    ours = file(world.rep_a, world.queue_a, title="请审核宁波项目的合同条款")
    theirs = file(world.rep_b, world.company, title="华南的资料准备")
    breaches.check_levels(local(2026, 3, 2, 18))  # both first responses late at 18:00
    with write_transaction() as session:
        session.add(
            Target(
                period="2026-03",
                team_id=world.team_a.id,
                user_id=world.rep_a.id,
                measure="won_count",
                value=4,
            )
        )
    clock.set_now(MONDAY_0830)
    world.breached = (ours, theirs)
    return world


def stored(manager):
    db.session.rollback()
    return db.session.get(WeeklyReport, (manager.id, WEEK))


def reports_told(manager=None):
    db.session.rollback()
    query = select(Notification).where(Notification.kind == report.KIND)
    if manager is not None:
        query = query.where(Notification.user_id == manager.id)
    return db.session.scalars(query).all()


# ---- when it is made -------------------------------------------------------------------


def test_made_on_monday_at_half_past_eight_local_not_a_minute_before(last_week, frozen_clock):
    world = last_week
    frozen_clock(local(2026, 3, 9, 8, 29))
    assert report.send_weekly_reports() == 0 and reports_told() == []
    frozen_clock(MONDAY_0830)
    assert report.send_weekly_reports() == 2
    assert report.send_weekly_reports() == 0, "once per manager and week"
    assert sorted(n.user_id for n in reports_told()) == sorted([world.manager_a.id, world.manager_b.id])
    (mine,) = reports_told(world.manager_a)
    assert mine.link == URL
    assert mine.params == {
        "week": "2026-03-02",
        "won_count": 2,
        "won_amount": "150000.50",
        "new_customers": 3,
        "breaches": 1,
    }
    with force_locale("en"):
        assert mine.message == (
            "Weekly report for the week of March 2, 2026: deals won 2 (CN¥150,000.50), "
            "new customers 3, service-level breaches 1"
        )


def test_made_later_in_the_week_when_the_server_was_down_on_monday(last_week, frozen_clock):
    frozen_clock(local(2026, 3, 11, 15))  # Wednesday
    assert report.send_weekly_reports() == 2
    assert stored(last_week.manager_a).figures["week_start"] == "2026-03-02"
    frozen_clock(local(2026, 3, 15, 23, 59))  # Sunday: that week's is made already
    assert report.send_weekly_reports() == 0
    frozen_clock(local(2026, 3, 16, 8, 29))
    assert report.send_weekly_reports() == 0
    frozen_clock(local(2026, 3, 16, 8, 30))  # the next week's
    assert report.send_weekly_reports() == 2
    assert db.session.scalar(select(func.count()).select_from(WeeklyReport)) == 4


def test_the_teams_zone_decides_the_morning(last_week, frozen_clock):
    world = last_week
    db.session.execute(update(Team).where(Team.id == world.team_b.id).values(timezone="Europe/Berlin"))
    db.session.commit()
    assert report.send_weekly_reports() == 1  # 08:30 in Shanghai is 01:30 in Berlin
    assert [n.user_id for n in reports_told()] == [world.manager_a.id]
    frozen_clock(local(2026, 3, 9, 15, 30))  # 08:30 in Berlin
    assert report.send_weekly_reports() == 1
    assert stored(world.manager_b).figures["team"]["name"] == world.team_b.name


def test_deactivated_managers_get_none_and_teamless_ones_get_the_companys(last_week):
    world = last_week
    # The services give every manager a team; an older database may hold one without.
    boss = make_user("boss@test.example", Role.MANAGER, world.team_a, "钱总")
    make_user("gone@test.example", Role.MANAGER, world.team_a, "离职经理")
    db.session.execute(update(User).where(User.id == boss.id).values(team_id=None))
    db.session.execute(update(User).where(User.email == "gone@test.example").values(active=False))
    db.session.commit()
    assert report.send_weekly_reports() == 3
    figures = stored(boss).figures
    assert figures["team"] is None
    assert figures["won"]["count"] == 3 and figures["won"]["amount"] == "238000.50"
    assert figures["breaches"]["count"] == 2


def test_several_processes_at_once_make_each_report_once(last_week, make_app):
    apps = [make_app() for _index in range(4)]
    barrier = threading.Barrier(len(apps))
    results, errors = [], []

    def run(other):
        with other.app_context():
            try:
                barrier.wait()
                results.append(report.send_weekly_reports())
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(other,)) for other in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sum(results) == 2
    assert len(reports_told()) == 2
    assert db.session.scalar(select(func.count()).select_from(WeeklyReport)) == 2


def test_the_periodic_job(last_week):
    interval, function = jobs.JOBS["performance-weekly-report"]
    assert function is report.run_weekly_reports and interval.total_seconds() <= 15 * 60
    jobs.run_if_leased("performance-weekly-report")
    assert len(reports_told()) == 2


# ---- what it says ----------------------------------------------------------------------


def test_the_figures_are_last_weeks(last_week):
    world = last_week
    report.send_weekly_reports()
    figures = stored(world.manager_a).figures
    won = figures["won"]
    assert (won["count"], won["amount"]) == (2, "150000.50")  # Sunday 23:59 in, Monday 00:00 out
    assert [deal["customer"] for deal in won["deals"]] == [
        "苏州恒达精密机械有限公司",
        "杭州云栖数据科技有限公司",
    ]
    assert won["deals"][0]["owner"] == "张三"
    assert figures["new_customers"]["count"] == 3
    assert {row["name"]: row["count"] for row in figures["new_customers"]["people"]} == {"张三": 2, "李四": 1}
    assert [(row["name"], row["points"]) for row in figures["collaborators"]] == [("李四", 20), ("赵支持", 5)]
    assert figures["overdue"]["total"] == 1 and figures["overdue"]["people"][0]["name"] == "张三"
    assert figures["breaches"]["count"] == 1
    assert [item["title"] for item in figures["breaches"]["requests"]] == ["请审核宁波项目的合同条款"]
    # This month's targets: 张三 has three of four deals (1 and 8 March, and Monday's).
    assert figures["targets"]["period"] == "2026-03"
    rep = next(row for row in figures["targets"]["people"] if row["name"] == "张三")
    assert rep["measures"]["won_count"] == {"target": 4, "actual": 3, "percent": 75, "status": "ahead"}
    assert {row["name"] for row in figures["targets"]["people"]} == {"王经理", "张三", "李四"}
    # Team B's manager sees team B's week, which filed a breach in the company queue.
    theirs = stored(world.manager_b).figures
    assert theirs["won"]["count"] == 1 and theirs["breaches"]["count"] == 1
    assert [row["name"] for row in theirs["collaborators"]] == ["王五"]


# ---- the page --------------------------------------------------------------------------


@pytest.fixture
def made(last_week):
    report.send_weekly_reports()
    return last_week


def test_the_manager_reads_their_report(made, client_as):
    world = made
    page = client_as(world.manager_a).get(URL)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for text in (
        "苏州恒达精密机械有限公司",
        "¥150,000.50",
        "李四",
        "请审核宁波项目的合同条款",
        world.team_a.name,
    ):
        assert text in html, text
    assert "深圳市南方鑫材料有限公司" not in html and "下周一成交有限公司" not in html


def test_the_page_is_the_snapshot_made_on_monday(made, client_as):
    world = made
    deal = db.session.scalar(select(Customer).where(Customer.name == "苏州恒达精密机械有限公司"))
    customers.change_stage(world.rep_a, deal.id, "negotiating", deal.version)  # reopened after the report
    html = client_as(world.manager_a).get(URL).get_data(as_text=True)
    assert "苏州恒达精密机械有限公司" in html and "¥150,000.50" in html


def test_admins_read_any_managers_and_list_the_week(made, client_as):
    world = made
    admin = client_as(world.admin)
    page = admin.get(f"{URL}?manager={world.manager_b.id}")
    assert page.status_code == 200 and "深圳市南方鑫材料有限公司" in page.get_data(as_text=True)
    listing = admin.get(URL).get_data(as_text=True)
    assert world.manager_a.display_name in listing and world.manager_b.display_name in listing
    assert f"manager={world.manager_a.id}" in listing
    assert admin.get("/performance/weekly/2026-02-23").status_code == 200  # an empty week's list
    for bad in ("abc", "99999999999", "-1", str(world.rep_a.id)):
        assert admin.get(f"{URL}?manager={bad}").status_code == 404, bad


def test_others_may_not_read_it(made, client_as, client):
    world = made
    assert client_as(world.manager_a).get(f"{URL}?manager={world.manager_b.id}").status_code == 403
    assert client_as(world.manager_a).get(f"{URL}?manager={world.manager_a.id}").status_code == 200
    for user in (world.rep_a, world.support_a):
        response = client_as(user).get(URL)
        assert response.status_code == 403
        assert world.team_a.name not in response.get_data(
            as_text=True
        ) or "苏州恒达" not in response.get_data(as_text=True)
    anonymous = client.get(URL)
    assert anonymous.status_code in (302, 303) and "/login" in anonymous.headers["Location"]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/performance/weekly/2026-03-03", 400),  # a Tuesday
        ("/performance/weekly/2026-13-02", 400),
        ("/performance/weekly/2026-3-2", 400),
        ("/performance/weekly/yesterday", 400),
        ("/performance/weekly/2026-03-02x", 400),
        ("/performance/weekly/%EF%BC%92026-03-02", 400),
        ("/performance/weekly/2026-02-23", 404),  # no report that week
        ("/performance/weekly/1999-01-04", 404),
    ],
)
def test_bad_addresses_get_a_clear_4xx(made, client_as, path, status):
    response = client_as(made.manager_a).get(path)
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert "Traceback" not in html
    if status == 400:
        assert "2026-03-02" in html or "Monday" in html or "周一" in html


def test_the_previous_and_next_weeks_are_linked_when_there(made, client_as, frozen_clock):
    frozen_clock(local(2026, 3, 16, 9))
    report.send_weekly_reports()
    client = client_as(made.manager_a)
    first = client.get(URL).get_data(as_text=True)
    assert 'href="/performance/weekly/2026-03-09"' in first and "2026-02-23" not in first
    second = client.get("/performance/weekly/2026-03-09").get_data(as_text=True)
    assert 'href="/performance/weekly/2026-03-02"' in second


# ---- e-mail ----------------------------------------------------------------------------


def test_the_report_is_mailed_once_when_mail_is_on(last_week, make_app, smtp_sink):  # noqa: F811
    other = mail_app(make_app, smtp_sink.port)
    with other.app_context():
        assert report.send_weekly_reports() == 2
        assert wait_for(lambda: len(smtp_sink.messages) == 2)
        assert report.send_weekly_reports() == 0
        db.session.remove()
    recipients = sorted(rcpt for rcpts, _content in smtp_sink.messages for rcpt in rcpts)
    assert recipients == ["manager.a@test.example", "manager.b@test.example"]
    raw = next(content for rcpts, content in smtp_sink.messages if rcpts == ["manager.a@test.example"])
    mail = email.message_from_string(raw, policy=email.policy.default)
    assert mail["Subject"].startswith("[Salesdesk] ") and "150,000.50" in mail["Subject"]
    assert f"https://desk.example.cn{URL}" in mail.get_content()


def test_amounts_in_the_params_are_exact(last_week):
    report.send_weekly_reports()
    (mine,) = reports_told(last_week.manager_a)
    assert Decimal(mine.params["won_amount"]) == Decimal("150000.50")
