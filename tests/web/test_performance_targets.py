"""The targets table (/targets) and the performance settings (/performance/settings):
who opens and saves which team's table, what it lists, saving and its history, bad
figures and forged inputs (nothing saved), "copy last period" and "split evenly" (only
the form), closed periods (an admin with a reason), quarters adding up their months,
progress and pace in words on the table and on both homes, and two saves at once."""

import re
from datetime import datetime
from decimal import Decimal
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from salesdesk import clock
from salesdesk.audit import AuditEvent
from salesdesk.auth import services as accounts
from salesdesk.extensions import db
from salesdesk.ledger.customers import change_stage
from salesdesk.ledger.followups import log_follow_up
from salesdesk.ledger.models import Customer
from salesdesk.performance import periods, target_table, targets
from salesdesk.performance.models import Measure, PerformanceSettings, Target, TargetChange
from tests.fixtures.ledger import make_customer
from tests.helpers import browser_session, form_on_page, move_to_team, post_all_at_once

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Monday 16 November 2026: 10 of November's 21 working days are over.
TODAY = datetime(2026, 11, 16, 10, tzinfo=SHANGHAI)
MEASURES = [measure.value for measure in Measure]


def local(month, day, hour=10, year=2026):
    return datetime(year, month, day, hour, tzinfo=SHANGHAI)


@pytest.fixture
def desk(world, frozen_clock):
    """The world on Monday 16 November 2026, everyone reading English."""
    frozen_clock(TODAY)
    for user in (world.admin, world.manager_a, world.manager_b, world.rep_a, world.rep_a2, world.support_a):
        user.locale = "en"
    db.session.commit()
    return world


def url(period="2026-11", team=None):
    query = f"?period={period}" + (f"&team={team.id}" if team is not None else "")
    return "/targets" + query


def action_of(period, team):
    """The table form's action, as the page writes it."""
    return f"/targets?period={period}&team={team.id}"


def body(response):
    return response.get_data(as_text=True)


def text_of(html):
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def input_names(html):
    return re.findall(r'<input id="(t-[^"]+)" name="\1"', html)


def row_order(html):
    """The person rows' user ids, as the table lists them."""
    return [int(key) for key in re.findall(r'name="t-(\d+)-won_amount"', html)]


def table_form(client, period="2026-11", team=None, **typed):
    """What the table's form posts as the page shows it, with `typed` inputs changed
    (t_<id>_<measure>=... or by full input name through **{"t-5-visits": ...})."""
    response = client.get(url(period, team))
    assert response.status_code == 200, body(response)[:2000]
    team = team or _team_of(body(response))
    fields = form_on_page(body(response), action_of(period, team))
    assert fields, "the page has no targets form"
    for name, value in typed.items():
        assert name in fields, name
        fields[name] = value
    return fields


def _team_of(html):
    team_id = re.search(r'<form method="post" action="/targets\?period=[^&]+&amp;team=(\d+)"', html).group(1)
    return type("TeamRef", (), {"id": int(team_id)})


def name(user, measure):
    return target_table.input_name(user.id if user is not None else target_table.TEAM, measure)


def post(client, fields, period="2026-11", team=None, action="save", **extra):
    team_id = team.id if team is not None else None
    path = url(period) + (f"&team={team_id}" if team_id else "")
    return client.post(path, data={**fields, "action": action, **extra})


def stored(period="2026-11"):
    db.session.rollback()
    return {
        (target.user_id, target.measure): target.value
        for target in db.session.scalars(select(Target).where(Target.period == period))
    }


def changes():
    db.session.rollback()
    return db.session.scalars(select(TargetChange).order_by(TargetChange.id)).all()


def count(model):
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def error_of(html, input_name):
    match = re.search(rf'<p class="error" id="{re.escape(input_name)}-error">([^<]*)</p>', html)
    return unescape(match.group(1)) if match else None


def value_of(html, input_name):
    match = re.search(
        rf'<input id="{re.escape(input_name)}" name="{re.escape(input_name)}" value="([^"]*)"', html
    )
    return unescape(match.group(1)) if match else None


# ---- who opens which table -----------------------------------------------------------------


@pytest.mark.parametrize("role", ["rep_a", "support_a"])
def test_reps_and_support_users_may_not_open_the_table(desk, client_as, role):
    client = client_as(getattr(desk, role))
    assert client.get("/targets").status_code == 403
    assert client.get(url(team=desk.team_a)).status_code == 403
    assert client.post("/targets", data={"action": "save"}).status_code == 403
    assert count(Target) == 0


def test_the_table_needs_a_login(client):
    response = client.get("/targets")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_manager_opens_their_own_teams_table(desk, client_as):
    html = body(client_as(desk.manager_a).get(url()))
    assert "华东大区 · 11/2026" in text_of(html)
    assert {"张三", "李四", "王经理"} <= set(re.findall(r'period=2026-11">([^<]+)</a>', html))
    assert "王五" not in html
    # No team picker for a manager.
    assert '<select id="team"' not in html


def test_a_manager_asking_for_another_team_still_gets_their_own(desk, client_as):
    """As the board and the manager home do, the team a manager sees is their own
    whatever the address says: another team's table never shows (nor a 404 for an
    unknown one, which would tell team numbers apart)."""
    manager = client_as(desk.manager_a)
    for query in (f"team={desk.team_b.id}", "team=999999", "team=abc"):
        response = manager.get(f"/targets?period=2026-11&{query}")
        assert response.status_code == 200
        html = body(response)
        assert "王五" not in html and "黄经理" not in html
        assert "张三" in html
        assert f'action="{action_of("2026-11", desk.team_a)}"'.replace("&", "&amp;") in html
    # Saving through such an address saves for their own team, never the other.
    fields = table_form(manager, team=desk.team_a, **{name(desk.rep_a, "visits"): "5"})
    response = post(manager, fields, team=desk.team_b)
    assert response.status_code == 303
    assert stored() == {(desk.rep_a.id, "visits"): Decimal(5)}
    forged = {**fields, name(desk.rep_b, "visits"): "5"}
    assert post(manager, forged, team=desk.team_b).status_code == 400
    assert (desk.rep_b.id, "visits") not in stored()


def test_an_admin_opens_any_team_and_the_first_by_default(desk, client_as):
    admin = client_as(desk.admin)
    first = sorted(accounts.teams(), key=lambda team: (team.name, team.id))[0]
    html = body(admin.get("/targets"))
    assert f"{first.name} · " in text_of(html)
    assert f'<option value="{desk.team_a.id}" selected>' in html
    assert f'<option value="{desk.team_b.id}">' in html
    html = body(admin.get(url(team=desk.team_b)))
    assert "华南大区 · 11/2026" in text_of(html)
    assert "王五" in html and "黄经理" in html and "张三" not in html
    assert f'<option value="{desk.team_b.id}" selected>' in html


@pytest.mark.parametrize("team", ["999999", "abc", "0", "99999999999999999999"])
def test_an_unknown_team_is_a_404(desk, client_as, team):
    response = client_as(desk.admin).get(f"/targets?period=2026-11&team={team}")
    assert response.status_code == 404
    assert "This team does not exist." in body(response)


@pytest.mark.parametrize(
    ("period", "message"),
    [
        ("2026-13", "A month is 1 to 12."),
        ("2026-Q5", "A quarter is Q1 to Q4."),
        ("abc", "Write the period as 2026-12, 2026-Q4 or 2026."),
        ("1999", "Choose a year between 2000 and 2100."),
    ],
)
@pytest.mark.parametrize("role", ["manager_a", "admin"])
def test_a_bad_period_is_a_clear_400(desk, client_as, period, message, role):
    client = client_as(getattr(desk, role))
    response = client.get(f"/targets?period={period}")
    assert response.status_code == 400
    assert message in body(response)
    response = client.post(f"/targets?period={period}", data={"action": "save"})
    assert response.status_code == 400
    assert count(Target) == 0


def test_no_period_is_the_current_month_and_others_are_linked(desk, client_as):
    html = body(client_as(desk.manager_a).get("/targets"))
    assert "华东大区 · 11/2026" in text_of(html)
    assert f'href="/targets?period=2026-10&amp;team={desk.team_a.id}" rel="prev"' in html
    assert f'href="/targets?period=2026-12&amp;team={desk.team_a.id}" rel="next"' in html
    html = body(client_as(desk.manager_a).get("/targets?period=2026-Q4"))
    assert "Q4 2026" in html and "period=2026-Q3" in html and "period=2027-Q1" in html


# ---- what the table lists ----------------------------------------------------------------------


def test_the_table_lists_the_teams_active_reps_and_managers_only(desk, client_as):
    accounts.deactivate_user(desk.rep_a2, actor=desk.admin)
    html = body(client_as(desk.manager_a).get(url()))
    assert sorted(row_order(html)) == sorted([desk.rep_a.id, desk.manager_a.id])
    shown = set(re.findall(r'period=2026-11">([^<]+)</a>', html))
    assert {"张三", "王经理"} <= shown
    assert not {"李四", "赵支持", "王五", "黄经理", "管理员"} & shown
    # One input per person and measure, and the team's own row; named so autofill and
    # a keyboard move through them in order.
    expected = [f"t-{key}-{measure}" for key in (*row_order(html), "team") for measure in MEASURES]
    assert input_names(html) == expected
    # Each has a label naming the person and the measure.
    for input_name in expected:
        label = re.search(rf'<label class="visually-hidden" for="{input_name}">([^<]+)</label>', html)
        assert label, input_name
    assert "张三 · Won amount" in unescape(html)
    assert "Team target · Visits" in unescape(html)
    # Money takes decimals, counts whole numbers (the phone's keypad).
    assert re.search(
        rf'name="t-{desk.rep_a.id}-won_amount" value="" class="target-input"\s+inputmode="decimal"', html
    )
    assert re.search(
        rf'name="t-{desk.rep_a.id}-visits" value="" class="target-input"\s+inputmode="numeric"', html
    )


def test_a_team_without_sellers_says_so(desk, client_as):
    empty = accounts.get_or_create_team("西北大区")
    html = body(client_as(desk.admin).get(url(team=empty)))
    assert "Nobody in this team holds customers yet" in text_of(html)
    assert "t-team-won_amount" not in html


# ---- saving and its history ------------------------------------------------------------


def test_saving_stores_shows_and_records_who_changed_what(desk, client_as):
    manager = client_as(desk.manager_a)
    fields = table_form(
        manager,
        **{
            name(desk.rep_a, "won_amount"): "¥1,200,000.5",
            name(desk.rep_a, "visits"): " 12 ",
            name(desk.rep_a2, "follow_ups"): "40",
            name(None, "new_customers"): "30",
        },
    )
    response = post(manager, fields)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/targets?period=2026-11&team={desk.team_a.id}")
    assert stored() == {
        (desk.rep_a.id, "won_amount"): Decimal("1200000.50"),
        (desk.rep_a.id, "visits"): Decimal(12),
        (desk.rep_a2.id, "follow_ups"): Decimal(40),
        (None, "new_customers"): Decimal(30),
    }
    rows = db.session.scalars(select(Target)).all()
    assert {target.team_id for target in rows} == {desk.team_a.id}
    assert {target.updated_by_id for target in rows} == {desk.manager_a.id}
    assert {target.updated_at for target in rows} == {clock.now()}

    page = manager.get(url())
    html = body(page)
    assert "Saved 4 targets." in text_of(html)
    assert value_of(html, name(desk.rep_a, "won_amount")) == "1200000.50"
    assert value_of(html, name(desk.rep_a, "visits")) == "12"
    assert value_of(html, name(None, "new_customers")) == "30"
    assert value_of(html, name(desk.rep_a, "follow_ups")) == ""
    history = [(c.actor_id, c.user_id, c.measure, c.old_value, c.new_value) for c in changes()]
    assert sorted(history, key=str) == sorted(
        [
            (desk.manager_a.id, desk.rep_a.id, "won_amount", None, Decimal("1200000.50")),
            (desk.manager_a.id, desk.rep_a.id, "visits", None, Decimal(12)),
            (desk.manager_a.id, desk.rep_a2.id, "follow_ups", None, Decimal(40)),
            (desk.manager_a.id, None, "new_customers", None, Decimal(30)),
        ],
        key=str,
    )
    shown = text_of(html.split('id="history-title"', 1)[1])
    assert "王经理: 张三 · Won amount – → 1200000.50" in shown
    assert "王经理: Team target · New customers – → 30" in shown
    audited = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "targets.saved")).all()
    assert len(audited) == 1

    # Changed, then cleared: each kept in the history, from what to what.
    fields = table_form(manager, **{name(desk.rep_a, "won_amount"): "1300000"})
    assert post(manager, fields).status_code == 303
    fields = table_form(manager, **{name(desk.rep_a, "visits"): ""})
    assert post(manager, fields).status_code == 303
    assert stored() == {
        (desk.rep_a.id, "won_amount"): Decimal("1300000.00"),
        (desk.rep_a2.id, "follow_ups"): Decimal(40),
        (None, "new_customers"): Decimal(30),
    }
    later = changes()[-2:]
    assert [(c.measure, c.old_value, c.new_value) for c in later] == [
        ("won_amount", Decimal("1200000.50"), Decimal("1300000.00")),
        ("visits", Decimal(12), None),
    ]
    shown = text_of(body(manager.get(url())).split('id="history-title"', 1)[1])
    assert "张三 · Won amount 1200000.50 → 1300000.00" in shown
    assert "张三 · Visits 12 → –" in shown
    # The newest change first.
    assert shown.index("Visits 12 → –") < shown.index("1200000.50 → 1300000.00")


def test_saving_the_table_unchanged_changes_nothing(desk, client_as):
    manager = client_as(desk.manager_a)
    assert post(manager, table_form(manager, **{name(desk.rep_a, "visits"): "3"})).status_code == 303
    response = post(manager, table_form(manager))
    assert response.status_code == 303
    assert "Nothing changed." in text_of(body(manager.get(url())))
    assert len(changes()) == 1


def test_an_admin_saves_any_teams_table(desk, client_as):
    admin = client_as(desk.admin)
    fields = table_form(admin, team=desk.team_b, **{name(desk.rep_b, "won_count"): "7"})
    response = post(admin, fields, team=desk.team_b)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/targets?period=2026-11&team={desk.team_b.id}")
    assert stored() == {(desk.rep_b.id, "won_count"): Decimal(7)}
    assert db.session.scalars(select(Target)).one().team_id == desk.team_b.id


# ---- bad figures and forged inputs: nothing saved ------------------------------------------


@pytest.mark.parametrize(
    ("measure", "typed", "message"),
    [
        ("won_amount", "-5", "Enter a number of zero or more, such as 120000."),
        ("visits", "-5", "Enter a number of zero or more, such as 120000."),
        ("won_amount", "1e15", "Enter a number of zero or more, such as 120000."),
        ("won_amount", "10000000000000", "A target above 10^12 is surely a typing mistake."),
        ("follow_ups", "1000000000001", "A target above 10^12 is surely a typing mistake."),
        ("won_amount", "12.345", "An amount has at most two decimals (fen)."),
        ("won_count", "1.5", "A count is a whole number."),
        ("new_customers", "十", "Enter a number of zero or more, such as 120000."),
        ("visits", "abc", "Enter a number of zero or more, such as 120000."),
        ("won_amount", "1.2.3", "Enter a number of zero or more, such as 120000."),
        ("won_amount", "NaN", "Enter a number of zero or more, such as 120000."),
    ],
)
def test_a_bad_figure_is_marked_on_its_input_and_nothing_is_saved(desk, client_as, measure, typed, message):
    manager = client_as(desk.manager_a)
    bad = name(desk.rep_a2, measure)
    fields = table_form(
        manager,
        **{bad: typed, name(desk.rep_a, "won_amount"): "50000", name(None, "visits"): "9"},
    )
    response = post(manager, fields)
    assert response.status_code == 422
    html = body(response)
    assert "Some targets could not be saved; see the marked fields." in text_of(html)
    assert error_of(html, bad) == message
    assert re.search(
        rf'name="{bad}" value="[^"]*"[^>]*aria-invalid="true" aria-describedby="{bad}-error"', html
    )
    # What was typed is shown again, the bad figure and the good ones.
    assert value_of(html, bad) == typed
    assert value_of(html, name(desk.rep_a, "won_amount")) == "50000"
    # Only the bad input is marked.
    assert len(re.findall(r'class="error" id="t-', html)) == 1
    assert count(Target) == 0 and count(TargetChange) == 0


def test_the_largest_target_is_accepted(desk, client_as):
    manager = client_as(desk.manager_a)
    fields = table_form(
        manager,
        **{name(desk.rep_a, "won_amount"): "1000000000000.00", name(desk.rep_a, "follow_ups"): "0"},
    )
    assert post(manager, fields).status_code == 303
    assert stored() == {
        (desk.rep_a.id, "won_amount"): Decimal("1000000000000.00"),
        (desk.rep_a.id, "follow_ups"): Decimal(0),
    }


def test_every_bad_input_of_one_post_is_marked(desk, client_as):
    manager = client_as(desk.manager_a)
    fields = table_form(
        manager,
        **{
            name(desk.rep_a, "won_amount"): "-1",
            name(desk.manager_a, "visits"): "2.5",
            name(None, "won_amount"): "12.345",
            name(desk.rep_a2, "visits"): "8",
        },
    )
    html = body(post(manager, fields))
    assert error_of(html, name(desk.rep_a, "won_amount")).startswith("Enter a number")
    assert error_of(html, name(desk.manager_a, "visits")) == "A count is a whole number."
    assert error_of(html, name(None, "won_amount")) == "An amount has at most two decimals (fen)."
    assert error_of(html, name(desk.rep_a2, "visits")) is None
    assert count(Target) == 0


@pytest.mark.parametrize(
    "who", ["rep_b", "manager_b", "leaver", "support_a", "admin", "made_up", "not_a_number"]
)
def test_a_forged_input_for_anyone_outside_the_table_refuses_the_whole_post(desk, client_as, who):
    manager = client_as(desk.manager_a)
    if who == "leaver":
        accounts.deactivate_user(desk.rep_a2, actor=desk.admin)
    fields = table_form(manager, **{name(desk.rep_a, "won_amount"): "50000"})
    key = {"made_up": "999999", "not_a_number": "abc", "leaver": str(desk.rep_a2.id)}.get(who)
    key = key or str(getattr(desk, who).id)
    fields[f"t-{key}-visits"] = "5"
    response = post(manager, fields)
    assert response.status_code == 400
    assert "Targets are only for the team's active reps and managers" in unescape(body(response))
    assert count(Target) == 0 and count(TargetChange) == 0


def test_a_post_missing_inputs_of_the_table_is_refused(desk, client_as):
    """A page opened before someone joined the team would otherwise clear their targets."""
    manager = client_as(desk.manager_a)
    fields = table_form(manager, **{name(desk.rep_a, "won_amount"): "50000"})
    del fields[name(desk.rep_a2, "visits")]
    response = post(manager, fields)
    assert response.status_code == 400
    assert "The table changed since it was opened" in unescape(body(response))
    assert count(Target) == 0


def test_an_unknown_action_is_refused(desk, client_as):
    manager = client_as(desk.manager_a)
    fields = table_form(manager, **{name(desk.rep_a, "won_amount"): "50000"})
    assert post(manager, fields, action="delete").status_code == 400
    assert count(Target) == 0


def test_a_post_without_its_csrf_token_saves_nothing(desk, client_as):
    manager = client_as(desk.manager_a)
    fields = table_form(manager, **{name(desk.rep_a, "won_amount"): "50000"})
    fields.pop("csrf_token")
    response = manager.post(url(), data={**fields, "action": "save"}, csrf=False)
    assert response.status_code in (400, 422)
    assert count(Target) == 0


# ---- copy last period, split evenly: the form only ------------------------------------------


def test_copy_fills_the_form_from_the_previous_period_without_saving(desk, client_as):
    db.session.add_all(
        [
            Target(
                period="2026-10",
                team_id=desk.team_a.id,
                user_id=desk.rep_a.id,
                measure="won_amount",
                value=Decimal("80000.50"),
            ),
            Target(
                period="2026-10",
                team_id=desk.team_a.id,
                user_id=desk.rep_a2.id,
                measure="visits",
                value=Decimal(6),
            ),
            Target(
                period="2026-10", team_id=desk.team_a.id, user_id=None, measure="won_count", value=Decimal(9)
            ),
            # Another team's and another period's stay out of it.
            Target(
                period="2026-10",
                team_id=desk.team_b.id,
                user_id=desk.rep_b.id,
                measure="visits",
                value=Decimal(4),
            ),
            Target(
                period="2026-09",
                team_id=desk.team_a.id,
                user_id=desk.rep_a.id,
                measure="visits",
                value=Decimal(3),
            ),
        ]
    )
    db.session.commit()
    manager = client_as(desk.manager_a)
    fields = table_form(manager, **{name(desk.rep_a, "follow_ups"): "99"})
    response = post(manager, fields, action="copy")
    assert response.status_code == 200
    html = body(response)
    assert "Copied the targets of 10/2026: check them and save." in text_of(html)
    assert value_of(html, name(desk.rep_a, "won_amount")) == "80000.50"
    assert value_of(html, name(desk.rep_a2, "visits")) == "6"
    assert value_of(html, name(None, "won_count")) == "9"
    assert value_of(html, name(desk.rep_a, "visits")) == ""
    # What was typed before the copy is replaced by last period's (empty there).
    assert value_of(html, name(desk.rep_a, "follow_ups")) == ""
    assert stored("2026-11") == {} and count(TargetChange) == 0
    # Saving the copied form stores it.
    fields = form_on_page(html, action_of("2026-11", desk.team_a))
    assert post(manager, fields).status_code == 303
    assert stored("2026-11") == {
        (desk.rep_a.id, "won_amount"): Decimal("80000.50"),
        (desk.rep_a2.id, "visits"): Decimal(6),
        (None, "won_count"): Decimal(9),
    }


def test_copy_of_a_quarter_takes_the_previous_quarter(desk, client_as):
    db.session.add(
        Target(
            period="2026-Q3",
            team_id=desk.team_a.id,
            user_id=desk.rep_a.id,
            measure="visits",
            value=Decimal(30),
        )
    )
    db.session.commit()
    manager = client_as(desk.manager_a)
    html = body(post(manager, table_form(manager, period="2026-Q4"), period="2026-Q4", action="copy"))
    assert "Copied the targets of Q3 2026" in text_of(html)
    assert value_of(html, name(desk.rep_a, "visits")) == "30"
    assert stored("2026-Q4") == {}


def test_split_spreads_the_team_totals_evenly_to_the_fen_without_saving(desk, client_as):
    manager = client_as(desk.manager_a)
    fields = table_form(
        manager,
        **{
            name(None, "won_amount"): "100000.02",
            name(None, "visits"): "10",
            name(None, "won_count"): "2",
            name(desk.rep_a, "follow_ups"): "15",  # no team total: kept as typed
        },
    )
    response = post(manager, fields, action="split")
    assert response.status_code == 200
    html = body(response)
    assert "Split the team's totals evenly: check them and save." in unescape(html)
    people = row_order(html)
    assert len(people) == 3
    amounts = [value_of(html, f"t-{key}-won_amount") for key in people]
    visits = [value_of(html, f"t-{key}-visits") for key in people]
    deals = [value_of(html, f"t-{key}-won_count") for key in people]
    # 100000.02 / 3 = 33333.34 (remainder 2 fen, to the first rows); 10 / 3 and 2 / 3:
    # the remainder on the first rows.
    assert amounts == ["33333.34", "33333.34", "33333.34"] or amounts == ["33333.35", "33333.34", "33333.33"]
    assert sum(Decimal(amount) for amount in amounts) == Decimal("100000.02")
    assert visits == ["4", "3", "3"]
    assert deals == ["1", "1", "0"]
    assert value_of(html, name(desk.rep_a, "follow_ups")) == "15"
    # The team row keeps its totals.
    assert value_of(html, name(None, "won_amount")) == "100000.02"
    assert count(Target) == 0 and count(TargetChange) == 0


@pytest.mark.parametrize(
    ("total", "shares"),
    [
        ("100", ["33.34", "33.33", "33.33"]),
        ("0.02", ["0.01", "0.01", "0.00"]),
        ("90000", ["30000.00", "30000.00", "30000.00"]),
        ("1000000000000", ["333333333333.34", "333333333333.33", "333333333333.33"]),
    ],
)
def test_split_money_adds_up_exactly(desk, client_as, total, shares):
    manager = client_as(desk.manager_a)
    html = body(post(manager, table_form(manager, **{name(None, "won_amount"): total}), action="split"))
    split = [value_of(html, f"t-{key}-won_amount") for key in row_order(html)]
    assert split == shares
    assert sum(Decimal(share) for share in split) == Decimal(total)


def test_split_with_a_bad_team_total_marks_it_and_saves_nothing(desk, client_as):
    manager = client_as(desk.manager_a)
    response = post(manager, table_form(manager, **{name(None, "visits"): "-10"}), action="split")
    assert response.status_code == 422
    assert error_of(body(response), name(None, "visits")).startswith("Enter a number")
    assert count(Target) == 0


# ---- closed periods: an admin corrects, with a reason ---------------------------------------


@pytest.fixture
def october(desk):
    """Targets of October 2026, over since the 1st of November."""
    db.session.add(
        Target(
            period="2026-10",
            team_id=desk.team_a.id,
            user_id=desk.rep_a.id,
            measure="visits",
            value=Decimal(8),
        )
    )
    db.session.commit()
    return desk


def test_a_manager_sees_a_closed_period_read_only_and_may_not_save_it(october, client_as):
    manager = client_as(october.manager_a)
    html = body(manager.get(url("2026-10")))
    assert (
        "This period is over: its targets are kept as they were. Only an administrator may correct them."
        in text_of(html)
    )
    inputs = re.findall(r"<input id=\"t-[^>]+>", html)
    assert inputs and all(" readonly" in tag for tag in inputs)
    assert value_of(html, name(october.rep_a, "visits")) == "8"
    assert 'value="save"' not in html and 'name="reason"' not in html
    fields = form_on_page(html, action_of("2026-10", october.team_a))
    fields[name(october.rep_a, "visits")] = "20"
    response = post(manager, fields, period="2026-10")
    assert response.status_code == 403
    assert "This period is over: only an administrator may correct its targets." in body(response)
    assert stored("2026-10") == {(october.rep_a.id, "visits"): Decimal(8)}
    assert count(TargetChange) == 0


def test_an_admin_corrects_a_closed_period_only_with_a_reason(october, client_as):
    admin = client_as(october.admin)
    html = body(admin.get(url("2026-10", october.team_a)))
    assert "This period is over. Corrections are kept in the history with their reason." in text_of(html)
    assert 'name="reason"' in html
    assert " readonly" not in "".join(re.findall(r"<input id=\"t-[^>]+>", html))
    fields = form_on_page(html, action_of("2026-10", october.team_a))
    fields[name(october.rep_a, "visits")] = "6"

    for reason in ("", "   "):
        response = post(admin, {**fields, "reason": reason}, period="2026-10", team=october.team_a)
        assert response.status_code == 422
        assert "Say why a closed period's targets are corrected." in unescape(body(response))
        # What was typed stays in the form.
        assert value_of(body(response), name(october.rep_a, "visits")) == "6"
    response = post(admin, {**fields, "reason": "x" * 501}, period="2026-10", team=october.team_a)
    assert response.status_code == 422
    assert stored("2026-10") == {(october.rep_a.id, "visits"): Decimal(8)}
    assert count(TargetChange) == 0

    response = post(
        admin, {**fields, "reason": "客户合同延期，按实际调整"}, period="2026-10", team=october.team_a
    )
    assert response.status_code == 303
    assert stored("2026-10") == {(october.rep_a.id, "visits"): Decimal(6)}
    change = changes()[0]
    assert (change.actor_id, change.old_value, change.new_value, change.reason) == (
        october.admin.id,
        Decimal(8),
        Decimal(6),
        "客户合同延期，按实际调整",
    )
    shown = text_of(body(admin.get(url("2026-10", october.team_a))).split('id="history-title"', 1)[1])
    assert "管理员: 张三 · Visits 8 → 6 (客户合同延期，按实际调整)" in shown


def test_the_current_period_needs_no_reason(desk, client_as):
    html = body(client_as(desk.admin).get(url(team=desk.team_a)))
    assert 'name="reason"' not in html


# ---- quarters add up their months ----------------------------------------------------------------


def test_a_quarter_without_its_own_target_is_the_sum_of_its_months(desk, client_as):
    for month, amount in (("2026-10", "10000.25"), ("2026-11", "20000.50")):
        db.session.add(
            Target(
                period=month,
                team_id=desk.team_a.id,
                user_id=desk.rep_a.id,
                measure="won_amount",
                value=Decimal(amount),
            )
        )
    db.session.add(
        Target(
            period="2026-12",
            team_id=desk.team_a.id,
            user_id=desk.rep_a.id,
            measure="visits",
            value=Decimal(7),
        )
    )
    db.session.commit()
    q4 = periods.parse("2026-Q4", None)
    of = targets.targets_of([desk.rep_a.id, desk.rep_a2.id], q4)
    assert of[desk.rep_a.id][Measure.WON_AMOUNT] == Decimal("30000.75")
    assert of[desk.rep_a.id][Measure.VISITS] == 7
    assert of[desk.rep_a.id][Measure.FOLLOW_UPS] is None
    assert all(value is None for value in of[desk.rep_a2.id].values())
    year = targets.targets_of([desk.rep_a.id], periods.parse("2026", None))[desk.rep_a.id]
    assert (year[Measure.WON_AMOUNT], year[Measure.VISITS]) == (Decimal("30000.75"), 7)
    standing = targets.standings([desk.rep_a], q4)[desk.rep_a.id]
    assert standing.targets[Measure.WON_AMOUNT] == Decimal("30000.75")
    assert standing.paces[Measure.WON_AMOUNT].status is not None

    # The quarter's table shows the derived sum, with its own inputs empty.
    html = body(client_as(desk.manager_a).get(url("2026-Q4")))
    assert value_of(html, name(desk.rep_a, "won_amount")) == ""
    sums = text_of(html.split('class="sum-row"', 1)[1].split("</tr>", 1)[0])
    assert "30000.75" in sums and "7" in sums

    # The quarter's own target wins over the sum.
    db.session.add(
        Target(
            period="2026-Q4",
            team_id=desk.team_a.id,
            user_id=desk.rep_a.id,
            measure="won_amount",
            value=Decimal(50000),
        )
    )
    db.session.commit()
    assert targets.targets_of([desk.rep_a.id], q4)[desk.rep_a.id][Measure.WON_AMOUNT] == Decimal(50000)


# ---- progress and pace, on the table and the homes ------------------------------------------


@pytest.fixture
def november(desk):
    """张三's November targets and what he did by Monday the 16th (10 of 21 working days
    over, expected 47.6 %): won ¥50,000 of ¥100,000 (50 %, on track), two visits of
    three (66 %, ahead) and three follow-ups of twenty (15 %, behind); deals won: 1 of 1
    (reached). The team has no targets of its own: the sum of its people's."""
    db.session.add_all(
        [
            Target(
                period="2026-11",
                team_id=desk.team_a.id,
                user_id=desk.rep_a.id,
                measure=measure,
                value=Decimal(value),
            )
            for measure, value in (
                ("won_amount", 100000),
                ("visits", 3),
                ("follow_ups", 20),
                ("won_count", 1),
            )
        ]
    )
    db.session.commit()
    with clock.at(local(10, 20)):
        customer = make_customer(desk.rep_a, "苏州恒达精密机械有限公司", expected_amount="50000")
    db.session.expire_all()
    with clock.at(local(11, 10)):
        change_stage(desk.rep_a, customer.id, "won", db.session.get(Customer, customer.id).version)
    log_follow_up(desk.rep_a, customer.id, channel="visit", content="上门拜访", occurred_at=local(11, 3))
    log_follow_up(desk.rep_a, customer.id, channel="visit", content="技术交流", occurred_at=local(11, 5))
    log_follow_up(desk.rep_a, customer.id, channel="phone", content="电话确认合同", occurred_at=local(11, 12))
    # Last month's follow-up counts for October, not November.
    log_follow_up(desk.rep_a, customer.id, channel="visit", content="初次拜访", occurred_at=local(10, 25))
    return desk


def card(html, title):
    section = html.split(title, 1)[1].split("</section>", 1)[0]
    return {
        text_of(item.split('class="stat-label">', 1)[1].split("</span>", 1)[0]).strip(): text_of(item)
        for item in section.split('<div class="card stat target-card">')[1:]
    }


def test_progress_and_pace_in_words_on_the_table(november, client_as):
    html = body(client_as(november.manager_a).get(url()))
    cell = lambda measure: text_of(  # noqa: E731
        html.split(f'name="{name(november.rep_a, measure)}"', 1)[1].split("</td>", 1)[0]
    )
    assert re.search(r"Done \S*50,000\.00 50% On track", cell("won_amount"))
    assert "50% On track" in cell("won_amount")
    assert "66% Ahead" in cell("visits")
    assert "15% Behind" in cell("follow_ups")
    assert "100% Reached" in cell("won_count")
    # No target: the figure alone, no percent and no status.
    assert "%" not in cell("new_customers")
    # The status is written, not only coloured.
    assert re.search(r'<span class="badge badge-warn pace-status pace-behind">Behind</span>', html)


def test_the_reps_home_shows_my_targets(november, client_as):
    html = body(client_as(november.rep_a).get("/"))
    assert "My targets of 11/2026" in html
    cards = card(html, "My targets of 11/2026")
    assert set(cards) == {"Won amount", "Deals won", "Follow-ups", "Visits"}
    assert "50% On track" in cards["Won amount"]
    assert "Expected by today: 47%" in cards["Won amount"]
    assert "66% Ahead" in cards["Visits"]
    assert "15% Behind" in cards["Follow-ups"]
    assert "100% Reached" in cards["Deals won"]
    assert "/ 20" in cards["Follow-ups"]
    # 李四 has no targets: says so, and offers nothing to set.
    html = body(client_as(november.rep_a2).get("/"))
    section = html.split("My targets of 11/2026", 1)[1].split("</section>", 1)[0]
    assert "No targets set for this month yet." in section
    assert "/targets" not in section


def test_nothing_won_yet_reads_as_an_amount_on_the_home(desk, client_as):
    """A won-amount target with nothing won: ¥0.00 on the card, like every other amount
    (not a bare 0.00, nor the dash that means "no figure")."""
    db.session.add(
        Target(
            period="2026-11",
            team_id=desk.team_a.id,
            user_id=desk.rep_a.id,
            measure="won_amount",
            value=Decimal(80000),
        )
    )
    db.session.commit()
    with clock.at(local(11, 16)):
        cards = card(body(client_as(desk.rep_a).get("/")), "My targets of 11/2026")
    assert re.search(r"Won amount \S*¥0\.00 / ¥80K", cards["Won amount"]), cards["Won amount"]
    assert "0% Behind" in cards["Won amount"]


def test_the_managers_home_shows_the_teams_targets(november, client_as):
    html = body(client_as(november.manager_a).get("/"))
    cards = card(html, "Team targets of 11/2026")
    assert "50% On track" in cards["Won amount"]
    assert "15% Behind" in cards["Follow-ups"]
    assert "66% Ahead" in cards["Visits"]
    section = html.split("Team targets of 11/2026", 1)[1].split("</section>", 1)[0]
    assert f"/targets?period=2026-11&amp;team={november.team_a.id}" in section
    # Team B's manager sees no targets for his team and is offered to set them.
    html = body(client_as(november.manager_b).get("/"))
    section = html.split("Team targets of 11/2026", 1)[1].split("</section>", 1)[0]
    assert "No targets set for this month yet." in section
    assert "Set the team's targets" in unescape(section)


def test_the_teams_own_target_wins_over_the_sum_on_the_home(november, client_as):
    db.session.add(
        Target(
            period="2026-11",
            team_id=november.team_a.id,
            user_id=None,
            measure="won_amount",
            value=Decimal(200000),
        )
    )
    db.session.commit()
    cards = card(body(client_as(november.manager_a).get("/")), "Team targets of 11/2026")
    assert "25% Behind" in cards["Won amount"]


def test_a_closed_month_says_reached_or_missed(november, client_as, frozen_clock):
    frozen_clock(local(12, 2))
    html = body(client_as(november.manager_a).get(url()))
    cell = lambda measure: text_of(  # noqa: E731
        html.split(f'name="{name(november.rep_a, measure)}"', 1)[1].split("</td>", 1)[0]
    )
    assert "50% Missed" in cell("won_amount")
    assert "100% Reached" in cell("won_count")


def test_the_first_morning_of_the_month_nobody_is_behind(november, client_as, frozen_clock):
    frozen_clock(local(12, 1, hour=8))
    db.session.add(
        Target(
            period="2026-12",
            team_id=november.team_a.id,
            user_id=november.rep_a.id,
            measure="visits",
            value=Decimal(10),
        )
    )
    db.session.commit()
    cards = card(body(client_as(november.rep_a).get("/")), "My targets of 12/2026")
    assert "0% On track" in cards["Visits"]


# ---- settings --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["rep_a", "support_a", "manager_a"])
def test_only_admins_change_the_settings(desk, client_as, role):
    client = client_as(getattr(desk, role))
    assert client.post("/performance/settings", data={}).status_code == 403
    assert client.post("/performance/settings", data={"reps_see_ranking": "y"}).status_code == 403
    assert db.session.get(PerformanceSettings, 1) is None
    assert "/performance/settings" not in body(client_as(desk.manager_a).get(url()))


def test_the_admin_toggles_whether_reps_see_the_ranking(desk, client_as):
    admin = client_as(desk.admin)
    html = body(admin.get(url(team=desk.team_a)))
    fields = form_on_page(html, "/performance/settings")
    assert fields.get("reps_see_ranking") == "y"  # on by default
    del fields["reps_see_ranking"]  # untick
    response = admin.post("/performance/settings", data=fields)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/targets")
    db.session.rollback()
    settings = db.session.get(PerformanceSettings, 1)
    assert settings.reps_see_ranking is False and settings.updated_by_id == desk.admin.id
    fields = form_on_page(body(admin.get(url(team=desk.team_a))), "/performance/settings")
    assert "reps_see_ranking" not in fields
    assert admin.post("/performance/settings", data={**fields, "reps_see_ranking": "y"}).status_code == 303
    db.session.rollback()
    assert db.session.get(PerformanceSettings, 1).reps_see_ranking is True
    assert "Settings saved." in text_of(body(admin.get("/targets")))


def test_the_settings_without_a_csrf_token_are_refused(desk, client_as):
    response = client_as(desk.admin).post("/performance/settings", data={}, csrf=False)
    assert response.status_code == 400
    assert db.session.get(PerformanceSettings, 1) is None


# ---- two saves at once ------------------------------------------------------------------------


def test_two_saves_of_the_same_new_targets_at_once_leave_one_row_each(app, desk, client_as, live_server):
    fields = table_form(
        client_as(desk.manager_a),
        **{
            name(desk.rep_a, "won_amount"): "120000.50",
            name(desk.rep_a2, "visits"): "9",
            name(None, "won_count"): "12",
        },
    )
    del fields["csrf_token"]
    fields["action"] = "save"
    path = action_of("2026-11", desk.team_a)
    sessions = [browser_session(app, desk.manager_a), browser_session(app, desk.admin)]
    for _round in range(3):
        db.session.execute(Target.__table__.delete())
        db.session.execute(TargetChange.__table__.delete())
        db.session.commit()
        statuses = post_all_at_once(live_server, [(path, fields, session) for session in sessions])
        assert sorted(statuses) in ([303, 303], [303, 409]), statuses
        assert stored() == {
            (desk.rep_a.id, "won_amount"): Decimal("120000.50"),
            (desk.rep_a2.id, "visits"): Decimal(9),
            (None, "won_count"): Decimal(12),
        }
        db.session.rollback()
        rows = db.session.execute(select(Target.period, Target.user_id, Target.measure)).all()
        assert len(rows) == len(set(rows)) == 3
        # Whoever saved first is in the history once per target; the other changed nothing.
        assert len(changes()) == 3


def test_someone_who_left_with_a_target_is_shown_read_only_and_the_table_still_saves(desk, client_as):
    """李四 had a November target and was deactivated, 王五 of team B had one set while in
    team A: both are shown (the month still adds up) but the page posts no input for
    them, so saving the others works."""
    manager = client_as(desk.manager_a)
    fields = table_form(manager, **{name(desk.rep_a2, "visits"): "6", name(desk.rep_a, "visits"): "4"})
    assert post(manager, fields).status_code == 303
    db.session.add(
        Target(
            period="2026-11",
            team_id=desk.team_a.id,
            user_id=desk.rep_b.id,
            measure="visits",
            value=Decimal(2),
        )
    )
    db.session.commit()
    accounts.deactivate_user(desk.rep_a2, actor=desk.admin)
    html = body(manager.get(url()))
    assert "no longer in the team" in html
    former = re.findall(rf'<input id="t-(?:{desk.rep_a2.id}|{desk.rep_b.id})-[^>]+>', html)
    assert len(former) == 10 and all(" readonly" in tag and " name=" not in tag for tag in former)
    fields = form_on_page(html, action_of("2026-11", desk.team_a))
    fields[name(desk.rep_a, "visits")] = "5"
    assert post(manager, fields).status_code == 303
    assert stored() == {
        (desk.rep_a.id, "visits"): Decimal(5),
        (desk.rep_a2.id, "visits"): Decimal(6),
        (desk.rep_b.id, "visits"): Decimal(2),
    }
    # Their targets still count in the sum row.
    sums = text_of(html.split('class="sum-row"', 1)[1].split("</tr>", 1)[0])
    assert "12" in sums


def test_someone_who_joined_from_another_team_mid_period_keeps_and_gets_targets(desk, client_as):
    """王五's November target was set in team B; he moves to team A (调岗). Team A's
    table shows it in his row, and his new manager changes it: one target, now team A's."""
    db.session.add(
        Target(
            period="2026-11",
            team_id=desk.team_b.id,
            user_id=desk.rep_b.id,
            measure="visits",
            value=Decimal(4),
        )
    )
    db.session.commit()
    rep_b = desk.rep_b
    move_to_team(rep_b, desk.team_a, desk.admin)
    manager = client_as(desk.manager_a)
    html = body(manager.get(url()))
    assert value_of(html, name(rep_b, "visits")) == "4"
    fields = table_form(manager, **{name(rep_b, "visits"): "6", name(rep_b, "won_count"): "2"})
    response = post(manager, fields)
    assert response.status_code == 303, body(response)[:2000]
    assert stored() == {(rep_b.id, "visits"): Decimal(6), (rep_b.id, "won_count"): Decimal(2)}
    assert {target.team_id for target in db.session.scalars(select(Target))} == {desk.team_a.id}
    assert [(c.old_value, c.new_value) for c in changes() if c.measure == "visits"] == [
        (Decimal(4), Decimal(6))
    ]
    # Team B's table no longer lists him.
    assert "王五" not in body(client_as(desk.manager_b).get(url()))
