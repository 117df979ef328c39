"""The performance board (/performance), its XLSX export and one person's detail
(/performance/reps/<id>): who sees what, the figures on a small known history, sorting,
totals, the export's cells and formats, and bad input."""

import io
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from salesdesk import clock
from salesdesk.extensions import db
from salesdesk.ledger.customers import change_stage
from salesdesk.ledger.followups import log_follow_up
from salesdesk.ledger.models import Customer, FollowUp
from salesdesk.performance import board, periods
from salesdesk.performance.models import FollowUpCount, PerformanceSettings, Target
from tests.fixtures.ledger import follow_up_form, make_customer
from tests.helpers import LiveClient

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(month, day, hour=10, year=2026):
    return datetime(year, month, day, hour, tzinfo=SHANGHAI)


def win(actor, customer, when):
    db.session.expire_all()
    with clock.at(when):
        change_stage(actor, customer.id, "won", db.session.get(Customer, customer.id).version)


@pytest.fixture
def sales(world, frozen_clock):
    """Team A in November 2026 (and a win in October): 张三 wins two deals (¥30,000.50),
    李四 one (¥5,000) and loses one; team B's 王五 wins one (¥99,999)."""
    frozen_clock(local(11, 20))
    for user in (world.admin, world.manager_a, world.manager_b, world.rep_a, world.rep_a2, world.support_a):
        user.locale = "en"
    db.session.commit()
    with clock.at(local(10, 1)):
        one = make_customer(world.rep_a, "苏州恒达精密机械有限公司", expected_amount="10000.25")
        two = make_customer(world.rep_a, "=cmd|' /C calc'!A0 有限公司", expected_amount="20000.25")
        three = make_customer(world.rep_a2, "杭州云栖数据科技有限公司", expected_amount="5000")
        lost = make_customer(world.rep_a2, "宁波港城物流有限公司")
        old = make_customer(world.rep_a2, "无锡太湖环保科技有限公司", expected_amount="700")
        other = make_customer(world.rep_b, "广州珠江电器有限公司", expected_amount="99999")
    win(world.rep_a2, old, local(10, 20))
    win(world.rep_a, one, local(11, 5))
    win(world.rep_a, two, local(11, 6))
    win(world.rep_a2, three, local(11, 7))
    win(world.rep_b, other, local(11, 8))
    db.session.expire_all()
    with clock.at(local(11, 9)):
        change_stage(world.rep_a2, lost.id, "lost", db.session.get(Customer, lost.id).version)
    for when, channel in ((local(11, 3), "visit"), (local(11, 4), "phone"), (local(10, 4), "phone")):
        log_follow_up(world.rep_a, one.id, channel=channel, content="沟通报价", occurred_at=when)
    db.session.add_all(
        [
            Target(
                period="2026-11",
                team_id=world.team_a.id,
                user_id=world.rep_a.id,
                measure="won_amount",
                value=Decimal("60000"),
            ),
            Target(
                period="2026-11", team_id=world.team_a.id, user_id=world.rep_a.id, measure="visits", value=2
            ),
        ]
    )
    db.session.commit()
    world.one, world.two = one, two
    return world


def get(client_as, user, path, status=200):
    response = client_as(user).get(path)
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return response


def text_of(html):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def body_rows(html):
    """The names of the people table's rows, in order."""
    table = html.split('class="table compact-table board-table"', 1)[1].split("</table>", 1)[0]
    tbody = table.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'<th scope="row" class="board-name"><a [^>]*>([^<]+)</a>', tbody)


def test_the_manager_sees_the_teams_figures_totals_and_targets(sales, client_as):
    html = get(client_as, sales.manager_a, "/performance?period=2026-11").get_data(as_text=True)
    text = text_of(html)
    assert "Performance board" in text and "华东大区" in text
    # Results: 张三 two deals worth ¥30,000.50; 李四 won one of two closed (50 %).
    assert "¥30,000.50" in text and "¥35,000.50" in text  # 张三, and the team's total
    assert "50 %" in text
    assert "王五" not in text and "¥99,999.00" not in text  # team B
    # The previous period (October) beside the main figures: 李四's ¥700.00.
    assert re.search(r"prev\. \S*¥700\.00", text)
    # Targets with the pace in words.
    assert re.search(r"¥30,000\.50 / \S*¥60,000\.00 50 %", text)
    assert re.search(r"Reached|Ahead|On track|Behind", text)
    # Collaboration for the support user, in a section of its own.
    assert 'id="support"' in html and "赵支持" in text
    # Overdue, funnel, charts and the note on who gets the credit.
    assert 'id="funnel"' in html and html.count("<svg") >= 2
    assert "owned the customer at the moment it was won" in text
    assert body_rows(html) == ["张三", "李四", "王经理"]  # by won amount, largest first
    totals = html.split('<tr class="board-total">', 1)[1].split("</tr>", 1)[0]
    assert "¥35,000.50" in totals and re.search(r'col-won_count">3\s', totals)


def test_sorting_by_any_column_and_an_unknown_one(sales, client_as):
    client = client_as(sales.manager_a)
    html = client.get("/performance?period=2026-11&sort=name&direction=asc").get_data(as_text=True)
    names = body_rows(html)
    assert names == sorted(names)
    assert 'aria-sort="ascending"' in html
    html = client.get("/performance?period=2026-11&sort=won_amount&direction=asc").get_data(as_text=True)
    assert body_rows(html)[-1] == "张三"
    html = client.get("/performance?period=2026-11&sort=visits").get_data(as_text=True)
    assert body_rows(html)[0] == "张三"
    assert 'aria-sort="descending"' in html
    # Every column heading is a link that sorts.
    assert html.count("sort=") >= 20
    response = client.get("/performance?period=2026-11&sort=drop+table&direction=sideways")
    assert response.status_code == 200
    assert body_rows(response.get_data(as_text=True)) == ["张三", "李四", "王经理"]


def test_a_rep_sees_only_the_ranking_by_won_amount(sales, client_as):
    html = get(client_as, sales.rep_a2, "/performance?period=2026-11").get_data(as_text=True)
    text = text_of(html.split("Ranking by won amount", 1)[1])
    assert text.index("张三") < text.index("李四")
    assert "¥30,000.50" in text and "¥5,000.00" in text
    assert "Win rate" not in html and "Follow-ups" not in html and "export.xlsx" not in html
    assert f"/performance/reps/{sales.rep_a2.id}" in html
    get(client_as, sales.rep_a2, "/performance/export.xlsx", 403)


def test_a_rep_without_the_ranking_setting_and_support_users_go_to_their_own_page(sales, client_as):
    db.session.add(PerformanceSettings(id=1, reps_see_ranking=False))
    db.session.commit()
    for user in (sales.rep_a, sales.support_a):
        response = get(client_as, user, "/performance?period=2026-11", 303)
        assert response.headers["Location"] == f"/performance/reps/{user.id}?period=2026-11"
    get(client_as, sales.support_a, "/performance/export.xlsx", 403)


def test_a_manager_sees_their_own_team_whatever_the_address_says(sales, client_as):
    html = get(client_as, sales.manager_b, f"/performance?period=2026-11&team={sales.team_a.id}").get_data(
        as_text=True
    )
    text = text_of(html)
    assert "华南大区" in text and "王五" in text and "¥99,999.00" in text
    assert "张三" not in text


def test_the_admin_picks_a_team_or_the_whole_company(sales, client_as):
    client = client_as(sales.admin)
    html = client.get("/performance?period=2026-11").get_data(as_text=True)
    text = text_of(html)
    assert "The whole company" in text and "王五" in text and "张三" in text
    assert "¥134,999.50" in text  # everyone's won amount
    html = client.get(f"/performance?period=2026-11&team={sales.team_b.id}").get_data(as_text=True)
    assert "王五" in html and "张三" not in html
    assert client.get("/performance?team=99999").status_code == 404
    assert client.get("/performance?team=abc").status_code == 404


@pytest.mark.parametrize("period", ["2026-13", "2026-Q5", "1999", "12-2026", "2026-00"])
def test_a_bad_period_is_a_clear_400(sales, client_as, period):
    response = get(client_as, sales.manager_a, f"/performance?period={period}", 400)
    assert re.search(r"month|quarter|year|period", response.get_data(as_text=True), re.I)
    get(client_as, sales.manager_a, f"/performance/export.xlsx?period={period}", 400)
    get(client_as, sales.rep_a, f"/performance/reps/{sales.rep_a.id}?period={period}", 400)


def test_quarters_years_and_no_comparison(sales, client_as):
    client = client_as(sales.manager_a)
    quarter = text_of(client.get("/performance?period=2026-Q4").get_data(as_text=True))
    assert "¥35,700.50" in quarter  # October's win too
    year = client.get("/performance?period=2026&compare=none").get_data(as_text=True)
    assert "¥35,700.50" in year and "prev." not in year


@pytest.mark.parametrize("compare", ["previous", "none"])
def test_the_board_shows_the_figures_of_a_full_reading(sales, compare):
    """The board reads the previous period only for the families it compares (its main
    columns), or not at all without comparison; one person's page reads everything
    (collect). What the board shows is the same either way."""
    sellers, supporters = board.people(sales.team_a, False)
    full = board.collect(sellers, supporters, periods.parse("2026-11", date(2026, 11, 20)))
    shown = board.board(sales.manager_a, {"period": "2026-11", "compare": compare})
    compared = 0
    for rows, columns in ((shown.rows, board.COLUMNS), (shown.support_rows, board.SUPPORT_COLUMNS)):
        for row in rows:
            for column in columns:
                cell, everything = row.cell(column), full[row.user.id].cell(column)
                assert cell.value == everything.value, (row.user.display_name, column.key)
                if compare == "previous" and column.main:
                    assert cell.previous == everything.previous, (row.user.display_name, column.key)
                    compared += bool(everything.previous)
    assert compared >= (3 if compare == "previous" else 0)  # October's win and new customers


def test_the_export_holds_the_board_with_number_formats(sales, client_as):
    response = get(client_as, sales.manager_a, "/performance/export.xlsx?period=2026-11")
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames[:2] == ["Performance", "Targets"] and "Funnel" in book.sheetnames
    sheet = book["Performance"]
    headers = [cell.value for cell in sheet[1]]
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    assert set(rows) == {"张三", "李四", "王经理", "Total"}
    amount = rows["张三"][headers.index("Won amount")]
    assert amount.value == pytest.approx(30000.50) and amount.number_format == "#,##0.00"
    previous = rows["李四"][headers.index("Won amount, previous period")]
    assert previous.value == pytest.approx(700)
    rate = rows["李四"][headers.index("Win rate")]
    assert rate.value == pytest.approx(0.5) and rate.number_format == "0.0%"
    assert rows["Total"][headers.index("Won amount")].value == pytest.approx(35000.50)
    assert rows["Total"][headers.index("Deals won")].value == 3
    targets = book["Targets"]
    target_headers = [cell.value for cell in targets[1]]
    zhang = next(row for row in targets.iter_rows(min_row=2) if row[0].value == "张三")
    assert zhang[target_headers.index("Won amount: target")].value == pytest.approx(60000)
    assert zhang[target_headers.index("Won amount: progress %")].value == pytest.approx(0.5)
    assert zhang[target_headers.index("Won amount: pace")].value
    assert "赵支持" in [row[0].value for row in book["Support"].iter_rows(min_row=2)]


def test_the_export_neutralises_text_that_looks_like_a_formula(world, client_as, frozen_clock):
    frozen_clock(local(11, 20))
    world.rep_a.display_name = '=HYPERLINK("http://evil")'
    world.manager_a.locale = "en"
    db.session.commit()
    book = load_workbook(io.BytesIO(get(client_as, world.manager_a, "/performance/export.xlsx").data))
    names = [row[0].value for row in book["Performance"].iter_rows(min_row=2)]
    assert '\'=HYPERLINK("http://evil")' in names


def test_a_persons_detail_for_them_their_manager_and_admins(sales, client_as):
    path = f"/performance/reps/{sales.rep_a.id}?period=2026-11"
    for viewer in (sales.rep_a, sales.manager_a, sales.admin):
        text = text_of(get(client_as, viewer, path).get_data(as_text=True))
        assert "张三" in text and re.search(r"¥30,000\.50 / \S*¥60,000\.00", text)
    html = get(client_as, sales.rep_a, path).get_data(as_text=True)
    assert f'href="/customers/{sales.one.id}"' in html and "¥10,000.25" in html
    assert "Deals won" in html and "Previous period" in html and "Change" in html
    for viewer in (sales.rep_a2, sales.manager_b, sales.support_a):
        get(client_as, viewer, path, 403)
    get(client_as, sales.admin, "/performance/reps/99999", 404)
    get(client_as, sales.admin, "/performance/reps/99999999999999", 404)


def test_a_support_users_own_detail(sales, client_as):
    html = get(client_as, sales.support_a, f"/performance/reps/{sales.support_a.id}").get_data(as_text=True)
    assert "Requests resolved" in html and "Deals won" not in html


def test_the_board_needs_a_login(client):
    response = client.get("/performance")
    assert response.status_code in (302, 303) and "/login" in response.headers["Location"]


def test_a_missing_figure_is_a_dash_read_as_none_not_escaped_markup(sales, client_as):
    """A person without a closed deal has no win rate: the page shows "–" (read "none"),
    never the markup of that mark as text."""
    html = get(client_as, sales.manager_a, "/performance?period=2026-11").get_data(as_text=True)
    assert '<span aria-label="none">–</span>' in html
    assert "&lt;span" not in html


def test_follow_ups_logged_at_the_same_time_are_all_counted(app, world, live_server):
    """Follow-ups of one person posted at once (six browsers, one customer each) add to
    the same counts kept ahead: none is lost (performance/follow_up_counts.py)."""
    customers = [make_customer(world.rep_a, f"并发跟进客户{n}有限公司").id for n in range(6)]
    clients = [LiveClient(live_server, "rep.a@test.example") for _ in customers]
    form = follow_up_form(channel="visit", content="同时拜访")
    with ThreadPoolExecutor(len(clients)) as pool:
        statuses = list(
            pool.map(
                lambda pair: pair[0].post(f"/customers/{pair[1]}/follow-ups", data=form).status_code,
                zip(clients, customers, strict=True),
            )
        )
    for client in clients:
        client.close()
    assert statuses == [303] * len(customers)
    db.session.rollback()  # a fresh snapshot: the requests committed after this session's
    logged = db.session.scalar(select(func.count()).where(FollowUp.author_id == world.rep_a.id))
    counted = db.session.scalar(
        select(func.sum(FollowUpCount.count)).where(
            FollowUpCount.author_id == world.rep_a.id, FollowUpCount.channel == "visit"
        )
    )
    assert logged == counted == len(customers)
