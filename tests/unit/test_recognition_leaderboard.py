"""The leaderboard: competition ranking with ties, periods in the team's time zone,
movement, scope, and sums that stay exact (checked against the raw entries)."""

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from salesdesk import clock
from salesdesk.auth import services as accounts
from salesdesk.errors import NotFound
from salesdesk.extensions import db
from salesdesk.recognition import giving, leaderboard, summaries
from salesdesk.recognition.entries import reverse_entry
from salesdesk.recognition.models import PointEntry
from salesdesk.recognition.periods import PERIODS, current_and_previous
from tests.fixtures.recognition import (
    assert_summaries_exact,
    award_at,
    board,
    local,
    order,
)
from tests.helpers import make_user

WEDNESDAY = local(2026, 11, 18, 10)


@pytest.fixture(autouse=True)
def wednesday(frozen_clock):
    frozen_clock(WEDNESDAY)


def test_equal_points_share_a_rank_and_are_listed_by_who_reached_them_first(world, frozen_clock):
    award_at(local(2026, 11, 16, 9), world.manager_a, world.rep_a, 30)  # 张三 30
    award_at(local(2026, 11, 16, 10), world.manager_a, world.support_a, 10)  # 赵支持 10 …
    award_at(local(2026, 11, 16, 11), world.manager_a, world.rep_a2, 20)  # 李四 20 at 11:00
    award_at(local(2026, 11, 17, 9), world.manager_a, world.support_a, 10)  # … 赵支持 20 at 17th 9:00
    award_at(local(2026, 11, 17, 10), world.manager_b, world.rep_b, 10)  # 王五 10
    frozen_clock(WEDNESDAY)
    assert order(world.rep_a) == [("张三", 1, 30), ("李四", 2, 20), ("赵支持", 2, 20), ("王五", 4, 10)]


def test_a_reversal_can_change_who_reached_a_total_first(world, frozen_clock):
    award_at(local(2026, 11, 16, 9), world.manager_a, world.rep_a, 10)
    award_at(local(2026, 11, 16, 10), world.manager_a, world.rep_a2, 10)
    late = award_at(local(2026, 11, 17, 9), world.manager_a, world.rep_a, 10)
    award_at(local(2026, 11, 17, 10), world.manager_a, world.rep_a2, 10)
    frozen_clock(WEDNESDAY)
    # 张三 reached 20 first (17th 9:00), 李四 at 10:00.
    assert order(world.rep_a) == [("张三", 1, 20), ("李四", 1, 20)]
    award_at(local(2026, 11, 18, 9), world.manager_a, world.rep_a, 10)
    assert order(world.rep_a)[0] == ("张三", 1, 30)
    reverse_entry(world.admin, late.id, reason="重复")
    # Without the 17th's award 张三 has 20 since 18th 9:00: 李四 got there first now.
    assert order(world.rep_a) == [("李四", 1, 20), ("张三", 1, 20)]
    assert order(world.rep_a, "all") == [("李四", 1, 20), ("张三", 1, 20)]
    assert_summaries_exact()


def test_an_award_at_2330_on_sunday_in_shanghai_counts_in_that_week(world, frozen_clock):
    award_at(local(2026, 11, 22, 23, 30), world.manager_a, world.rep_a, 10)  # Sunday 15:30 UTC
    award_at(local(2026, 11, 23, 0, 30), world.manager_a, world.rep_a2, 20)  # Monday 16:30 UTC the day before
    frozen_clock(local(2026, 11, 22, 23, 45))
    rows, result = board(world.rep_a, "week")
    assert rows == {"张三": (1, 10, None)}
    assert (result.period.first_day.isoformat(), result.period.last_day.isoformat()) == (
        "2026-11-16",
        "2026-11-22",
    )
    frozen_clock(local(2026, 11, 23, 9))
    rows, _result = board(world.rep_a, "week")
    assert rows == {"李四": (1, 20, None)}


def test_month_and_quarter_boundaries_are_local(world, frozen_clock):
    award_at(local(2026, 9, 30, 23, 59), world.manager_a, world.rep_a, 10)  # Q3 in Shanghai, 15:59 UTC
    award_at(local(2026, 10, 1, 0, 1), world.manager_a, world.rep_a2, 20)  # Q4, though 30 Sep in UTC
    frozen_clock(local(2026, 10, 20))
    assert order(world.rep_a, "month") == [("李四", 1, 20)]
    assert order(world.rep_a, "quarter") == [("李四", 1, 20)]
    assert order(world.rep_a, "all") == [("李四", 1, 20), ("张三", 2, 10)]
    frozen_clock(local(2026, 9, 30, 23, 59))
    assert order(world.rep_a, "quarter") == [("张三", 1, 10)]


def test_periods_follow_the_viewers_team_time_zone_even_half_hour_ones(world, frozen_clock):
    accounts.update_team(world.team_b, name=world.team_b.name, timezone="Asia/Kolkata", actor=world.admin)
    kolkata = ZoneInfo("Asia/Kolkata")
    # Sunday 23:10 in Kolkata is Sunday 17:40 UTC and already Monday 01:40 in Shanghai.
    award_at(local(2026, 11, 22, 23, 10, zone=kolkata), world.manager_a, world.rep_a, 10)
    award_at(local(2026, 11, 23, 0, 20, zone=kolkata), world.manager_a, world.rep_a2, 20)
    frozen_clock(local(2026, 11, 23, 12, zone=kolkata))
    assert order(world.rep_b, "week") == [("李四", 1, 20)]  # Kolkata: 张三's award was last week
    assert order(world.rep_a, "week") == [("李四", 1, 20), ("张三", 2, 10)]  # Shanghai: both this week


def test_movement_against_the_previous_period(world, frozen_clock):
    award_at(local(2026, 11, 10), world.manager_a, world.rep_a, 30)
    award_at(local(2026, 11, 10), world.manager_a, world.rep_a2, 20)
    award_at(local(2026, 11, 11), world.manager_a, world.support_a, 10)
    award_at(local(2026, 11, 16), world.manager_a, world.support_a, 40)
    award_at(local(2026, 11, 16), world.manager_a, world.rep_a2, 30)
    award_at(local(2026, 11, 17), world.manager_a, world.rep_a, 20)
    award_at(local(2026, 11, 17), world.manager_b, world.rep_b, 5)
    frozen_clock(WEDNESDAY)
    rows, _result = board(world.rep_a, "week")
    # Last week: 张三 1, 李四 2, 赵支持 3; this week: 赵支持 40, 李四 30, 张三 20, 王五 new.
    assert rows == {"赵支持": (1, 40, 2), "李四": (2, 30, 0), "张三": (3, 20, -2), "王五": (4, 5, None)}
    # All time is compared with the standings when this week began.
    # Three share the first place, listed by who reached 50 first (李四 and 赵支持 on
    # Monday at the same moment, then by id; 张三 on Tuesday).
    rows, _result = board(world.rep_a, "all")
    assert rows == {"李四": (1, 50, 1), "赵支持": (1, 50, 2), "张三": (1, 50, 0), "王五": (4, 5, None)}
    assert list(rows) == ["李四", "赵支持", "张三", "王五"]


def test_scope_is_the_whole_company_or_one_team(world):
    award_at(WEDNESDAY, world.manager_a, world.rep_a, 10)
    award_at(WEDNESDAY, world.manager_b, world.rep_b, 20)
    assert order(world.rep_a) == [("王五", 1, 20), ("张三", 2, 10)]
    assert order(world.rep_a, team_id=world.team_a.id) == [("张三", 1, 10)]
    assert order(world.rep_a, team_id=world.team_b.id) == [("王五", 1, 20)]
    with pytest.raises(NotFound):
        leaderboard.leaderboard(world.rep_a, "month", 999_999)


def test_a_teams_standings_taken_from_the_companys_are_its_own(world):
    """The manager's home ranks the team from the company's standings it has already."""
    award_at(WEDNESDAY, world.manager_a, world.rep_a2, 10)
    award_at(local(2026, 11, 18, 9), world.manager_b, world.rep_b, 20)
    award_at(local(2026, 11, 18, 8), world.manager_a, world.rep_a, 10)

    def ranked(standings):
        return [(s.user_id, s.rank, s.points, s.reached_at) for s in standings]

    company = leaderboard.current_standings(world.manager_a)
    assert [s.rank for s in company] == [1, 2, 2]
    for team in (world.team_a, world.team_b):
        direct = leaderboard.current_standings(world.manager_a, team.id)
        assert ranked(leaderboard.team_standings(company, team.id)) == ranked(direct)
    assert [s.name for s in leaderboard.team_standings(company, world.team_a.id)] == ["张三", "李四"]


def test_the_viewers_own_row_shows_even_outside_the_top(world):
    for points, user in ((40, world.rep_a2), (30, world.support_a), (20, world.rep_b), (10, world.rep_a)):
        award_at(WEDNESDAY, world.admin, user, points)
    rows, result = board(world.rep_a, limit=2)
    assert list(rows) == ["李四", "赵支持"]
    assert (result.me.name, result.me.rank, result.me_in_rows) == ("张三", 4, False)
    _rows, result = board(world.rep_a2, limit=2)
    assert result.me_in_rows and result.me.is_viewer
    _rows, result = board(world.manager_a)
    assert result.me is None  # no points, so not ranked


def test_ties_at_the_limit_are_all_shown(world):
    for user in (world.rep_a, world.rep_a2, world.support_a):
        award_at(WEDNESDAY, world.admin, user, 10)
    rows, _result = board(world.rep_b, limit=2)
    assert len(rows) == 3


def test_deactivated_people_leave_the_board(world):
    award_at(WEDNESDAY, world.manager_a, world.rep_a, 30)
    award_at(WEDNESDAY, world.manager_a, world.rep_a2, 20)
    accounts.deactivate_user(world.rep_a, actor=world.admin)
    assert order(world.rep_a2) == [("李四", 1, 20)]


def test_unknown_periods_fall_back_to_the_month(world):
    award_at(WEDNESDAY, world.manager_a, world.rep_a, 30)
    _rows, result = board(world.rep_a, "decade")
    assert result.period.key == "month"


# ---- exactness against the raw entries ------------------------------------------------


def raw_sums(start, end):
    """The slow, obviously-right sum: every entry counted in [start, end)."""
    query = select(PointEntry.recipient_id, func.sum(PointEntry.points)).group_by(PointEntry.recipient_id)
    if start is not None:
        query = query.where(PointEntry.counted_at >= start)
    if end is not None:
        query = query.where(PointEntry.counted_at < end)
    return {user_id: points for user_id, points in db.session.execute(query) if points}


def test_summaries_stay_exact_with_many_entries_and_reversals(world, frozen_clock):
    """Random awards over four months at all hours, some reversed; every period in several
    time zones (including a half-hour one) must equal the raw sum."""
    rng = random.Random(5)
    extra = [make_user(f"rep{i}@test.example", "rep", world.team_b, f"销售{i}") for i in range(6)]
    people = [world.rep_a, world.rep_a2, world.support_a, world.rep_b, *extra]
    start = datetime(2026, 8, 1, tzinfo=UTC)
    moments = sorted(start + timedelta(minutes=rng.randrange(0, 110 * 24 * 60)) for _ in range(160))
    entries = []
    for moment in moments:
        clock.set_now(moment)
        entries.append(
            giving.award_points(
                world.admin,
                recipient_id=rng.choice(people).id,
                points=rng.randint(1, 5),
                category="other",
                reason="测",
            )
        )
    for entry in rng.sample(entries, 25):
        reverse_entry(world.admin, entry.id, reason="撤销")
    assert_summaries_exact()
    for now in (datetime(2026, 11, 18, 2, tzinfo=UTC), datetime(2026, 10, 4, 16, 30, tzinfo=UTC)):
        for zone in ("Asia/Shanghai", "Asia/Kolkata", "America/New_York", "UTC"):
            for key in PERIODS:
                for period in current_and_previous(key, now, ZoneInfo(zone)):
                    got = {
                        u: p
                        for u, (p, _r) in summaries.sums(db.session, period.start, period.end).items()
                        if p
                    }
                    assert got == raw_sums(period.start, period.end), (zone, key, period)


def test_blocks_cover_a_range_of_days_exactly_and_briefly():
    for first in range(20_000, 20_200, 7):
        for length in range(0, 130, 3):
            runs = summaries.blocks(first, first + length)
            days = []
            count = 0
            for level, ranges in runs.items():
                size = summaries.DAYS[level]
                for low, high in ranges:
                    assert low % size == 0 and (high - low) % size == 0
                    for start in range(low, high, size):
                        days.extend(range(start, start + size))
                        count += 1
            assert sorted(days) == list(range(first, first + length))
            assert count <= 30  # a quarter is ~20 blocks, not ~90 days


def test_rebuilding_the_summaries_gives_what_the_writes_maintained(world):
    from salesdesk.database import write_transaction
    from salesdesk.recognition.models import PointBucket, PointTotal

    rng = random.Random(11)
    people = [world.rep_a, world.rep_a2, world.support_a, world.rep_b]
    entries = []
    for minutes in sorted(rng.randrange(0, 200 * 24 * 60) for _ in range(60)):
        clock.set_now(datetime(2026, 5, 1, tzinfo=UTC) + timedelta(minutes=minutes))
        entries.append(
            giving.award_points(
                world.admin,
                recipient_id=rng.choice(people).id,
                points=rng.randint(1, 9),
                category="other",
                reason="测",
            )
        )
    for entry in rng.sample(entries, 8):
        reverse_entry(world.admin, entry.id, reason="撤销")

    def snapshot():
        db.session.rollback()
        buckets = db.session.execute(
            select(PointBucket.__table__).order_by(*PointBucket.__table__.primary_key)
        ).all()
        return buckets, db.session.execute(select(PointTotal.__table__).order_by(PointTotal.user_id)).all()

    maintained = snapshot()
    with write_transaction() as session:
        summaries.rebuild(session)
    assert snapshot() == maintained
