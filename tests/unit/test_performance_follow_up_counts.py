"""Follow-ups counted ahead per person and month (performance/follow_up_counts.py): the
counts always say what the follow-ups themselves say, through backdated follow-ups, a
team's time zone edited and a move to a team elsewhere."""

import threading
import time
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from salesdesk.auth import services as accounts
from salesdesk.auth.models import User
from salesdesk.extensions import db
from salesdesk.ledger.followups import log_follow_up
from salesdesk.ledger.models import FollowUp
from salesdesk.performance import follow_up_counts, measures, periods
from salesdesk.performance.models import FollowUpCount, Measure
from tests.fixtures.ledger import make_customer
from tests.helpers import move_to_team

SHANGHAI = ZoneInfo("Asia/Shanghai")
PERIODS = [
    periods.parse(key, None) for key in ("2026-10", "2026-11", "2026-12", "2026-Q4", "2026", "2027-01")
]


def local(year, month, day, hour=10):
    return datetime(year, month, day, hour, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _late_clock(frozen_clock):
    frozen_clock(local(2027, 1, 15))


def from_the_follow_ups(user, period):
    """The definition, counted from the follow-ups themselves: by channel, and the
    customers touched (the follow-ups whose previous one is older than the period)."""
    start, end = period.bounds(user.timezone)
    rows = db.session.execute(
        select(FollowUp.channel, FollowUp.previous_at).where(
            FollowUp.author_id == user.id, FollowUp.occurred_at >= start, FollowUp.occurred_at < end
        )
    ).all()
    touched = sum(1 for _channel, previous_at in rows if previous_at is None or previous_at < start)
    return dict(Counter(channel for channel, _previous in rows)), touched


def kept(user, period):
    return follow_up_counts.by_author([user.id], user.timezone, period).get(user.id, ({}, 0))


def table():
    return sorted(
        (row.author_id, row.zone, row.month, row.channel, row.previous_month, row.count)
        for row in db.session.scalars(select(FollowUpCount))
    )


def counted_again():
    """The table as a count from scratch leaves it."""
    follow_up_counts.recount(db.session.scalars(select(FollowUp.author_id).distinct()).all())
    db.session.commit()
    return table()


def log(user, customer, when, channel="phone"):
    log_follow_up(user, customer.id, channel=channel, content="跟进", occurred_at=when)


def test_the_counts_follow_every_follow_up_backdated_ones_included(world):
    first = make_customer(world.rep_a, "宁波港城物流有限公司")
    second = make_customer(world.rep_a, "温州瓯江电器有限公司")
    for when, channel in [
        (local(2026, 11, 20), "phone"),
        (local(2026, 12, 5), "visit"),
        (local(2026, 12, 5), "wechat"),
        (local(2027, 1, 3), "phone"),
    ]:
        log(world.rep_a, first, when, channel)
    log(world.rep_a, second, local(2026, 12, 31, 23), "email")
    # Backdated between two: the 20 November one is no longer its customer's first of
    # November, and a first one before everything.
    log(world.rep_a, first, local(2026, 11, 3), "visit")
    log(world.rep_a, second, local(2026, 10, 1, 0), "meeting")
    log(world.manager_a, first, local(2026, 12, 6), "phone")
    # Earlier quarters and years: the previous month is kept as coarsely as periods start.
    log(world.rep_a, first, local(2026, 5, 6), "phone")
    log(world.rep_a, second, local(2025, 12, 10), "wechat")
    log(world.rep_a, second, local(2026, 10, 20), "phone")
    for user in (world.rep_a, world.manager_a, world.rep_a2):
        for period in PERIODS:
            assert kept(user, period) == from_the_follow_ups(user, period), (user.email, period.key)
    assert kept(world.rep_a, periods.parse("2026-11", None)) == ({"phone": 1, "visit": 1}, 1)
    assert kept(world.rep_a, periods.parse("2026-12", None)) == ({"visit": 1, "wechat": 1, "email": 1}, 2)
    before = table()
    assert before == counted_again()


def test_a_teams_zone_edited_cuts_its_peoples_months_at_the_new_midnight(world):
    customer = make_customer(world.rep_a, "苏州恒达精密机械有限公司")
    # 1 December at 01:00 in Shanghai is still 30 November in London.
    log(world.rep_a, customer, local(2026, 12, 1, 1), "visit")
    november, december = periods.parse("2026-11", None), periods.parse("2026-12", None)
    assert measures.progress([world.rep_a], december)[world.rep_a.id][Measure.VISITS] == 1
    accounts.update_team(world.team_a, name=world.team_a.name, timezone="Europe/London", actor=world.admin)
    db.session.expire_all()
    assert measures.progress([world.rep_a], december)[world.rep_a.id][Measure.VISITS] == 0
    assert measures.progress([world.rep_a], november)[world.rep_a.id][Measure.VISITS] == 1
    assert kept(world.rep_a, november) == from_the_follow_ups(world.rep_a, november) == ({"visit": 1}, 1)
    assert {row[1] for row in table()} == {"Europe/London"}
    before = table()
    assert before == counted_again()


def test_a_person_moved_to_a_team_elsewhere_is_counted_in_its_zone(world):
    accounts.update_team(world.team_b, name=world.team_b.name, timezone="America/New_York", actor=world.admin)
    customer = make_customer(world.rep_a, "杭州云栖数据科技有限公司")
    log(world.rep_a, customer, local(2026, 11, 1, 9), "phone")  # 31 October, 21:00 in New York
    move_to_team(world.rep_a, world.team_b, world.admin)
    db.session.expire_all()
    october, november = periods.parse("2026-10", None), periods.parse("2026-11", None)
    assert kept(world.rep_a, october) == from_the_follow_ups(world.rep_a, october) == ({"phone": 1}, 1)
    assert kept(world.rep_a, november) == ({}, 0)
    # Logged after the move: counted in the new zone straight away.
    log(world.rep_a, customer, local(2026, 11, 20), "wechat")
    assert kept(world.rep_a, november) == from_the_follow_ups(world.rep_a, november) == ({"wechat": 1}, 1)
    before = table()
    assert before == counted_again()


def test_the_counts_can_be_made_again_from_the_command_line(app, world):
    customer = make_customer(world.rep_a, "绍兴黄酒贸易有限公司")
    log(world.rep_a, customer, local(2026, 12, 3), "visit")
    kept_by_the_app = table()
    db.session.execute(FollowUpCount.__table__.delete())  # as if written around the app
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["salesdesk", "recount-follow-ups"])
    assert result.exit_code == 0, result.output
    assert "Counted again the follow-ups of everyone who logged any (1)." in result.output
    db.session.rollback()
    assert table() == kept_by_the_app


def _move_to_team_b(world):
    accounts.update_team(world.team_b, name=world.team_b.name, timezone="Europe/London", actor=world.admin)
    move_to_team(world.rep_a, world.team_b, world.admin)


def _edit_team_a(world):
    accounts.update_team(world.team_a, name=world.team_a.name, timezone="Europe/London", actor=world.admin)


@pytest.mark.parametrize("zone_change", [_edit_team_a, _move_to_team_b], ids=["team edited", "person moved"])
def test_a_follow_up_logged_while_its_authors_zone_changes_is_counted_in_the_new_zone(
    app, world, monkeypatch, zone_change
):
    """The rep's zone changes (their team's edited, or they move to a team elsewhere), and
    while that transaction is still open (the people being counted again) the rep logs a
    follow-up in another request: it waits, then counts in the new zone."""
    customer_id = make_customer(world.rep_a, "湖州丝绸有限公司").id
    rep_id = world.rep_a.id
    # 1 December at 01:00 in Shanghai is still 30 November in London.
    when = local(2026, 12, 1, 1)
    recount, logged, threads = follow_up_counts.recount, [], []

    def log_from_another_request():
        with app.app_context():
            rep = db.session.get(User, rep_id)
            log_follow_up(rep, customer_id, channel="visit", content="同时拜访", occurred_at=when)
            logged.append(True)

    def recount_while_the_rep_logs(user_ids):
        if rep_id in user_ids:
            other = threading.Thread(target=log_from_another_request)
            threads.append(other)
            other.start()
            time.sleep(0.5)  # the other request reaches the counts and waits for the zone
            assert not logged
        recount(user_ids)

    monkeypatch.setattr(follow_up_counts, "recount", recount_while_the_rep_logs)
    zone_change(world)
    threads[0].join(timeout=30)
    monkeypatch.undo()
    assert logged == [True]
    db.session.rollback()
    november = periods.parse("2026-11", None)
    assert kept(world.rep_a, november) == from_the_follow_ups(world.rep_a, november) == ({"visit": 1}, 1)
    before = table()
    assert before == counted_again()
