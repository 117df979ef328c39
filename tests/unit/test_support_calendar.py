"""Working-time arithmetic (support/calendar.py) and the shipped holiday file."""

import random
import time as timer
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest

from salesdesk.support import holidays
from salesdesk.support.calendar import (
    WorkCalendar,
    add_working_minutes,
    is_working_day,
    working_minutes_between,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")

PLAIN = WorkCalendar()  # Asia/Shanghai, 9:00–18:00, no holidays


def _published_calendar(timezone="Asia/Shanghai"):
    year = holidays.published(2026)
    return WorkCalendar(
        timezone=timezone,
        holidays=frozenset(day for day, _ in year["holidays"]),
        workdays=frozenset(day for day, _ in year["workdays"]),
    )


CN2026 = _published_calendar()


def sh(*args):
    return datetime(*args, tzinfo=SHANGHAI)


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def between(start, end, calendar=PLAIN):
    return working_minutes_between(calendar, start, end)


def add(start, minutes, calendar=PLAIN):
    return add_working_minutes(calendar, start, minutes)


# 2026-01-05 is a Monday; 2026-01-09 a Friday.
MON, TUE, FRI, NEXT_MON = (2026, 1, 5), (2026, 1, 6), (2026, 1, 9), (2026, 1, 12)


# --- working days ------------------------------------------------------------------


def test_weekdays_work_and_weekends_do_not():
    assert [is_working_day(PLAIN, date(2026, 1, 5) + timedelta(n)) for n in range(7)] == [
        True, True, True, True, True, False, False,
    ]  # fmt: skip


def test_a_holiday_is_off_and_a_make_up_day_works():
    assert not is_working_day(CN2026, date(2026, 10, 1))  # Thursday, 国庆节
    assert is_working_day(CN2026, date(2026, 10, 10))  # Saturday, 国庆节调休
    assert is_working_day(CN2026, date(2026, 9, 20))  # Sunday, 国庆节调休
    assert not is_working_day(CN2026, date(2026, 10, 3))  # a Saturday inside the break
    assert is_working_day(PLAIN, date(2026, 10, 1))  # no holidays loaded


def test_is_working_day_refuses_a_datetime():
    with pytest.raises(TypeError):
        is_working_day(PLAIN, datetime(2026, 1, 5, 10))


# --- minutes between ---------------------------------------------------------------


def test_within_a_day():
    assert between(sh(*MON, 10), sh(*MON, 11, 30)) == 90


def test_no_lunch_break():
    assert between(sh(*MON, 11), sh(*MON, 14)) == 180


def test_a_whole_day_is_540_minutes():
    assert between(sh(*MON, 9), sh(*MON, 18)) == 540
    assert between(sh(*MON, 0), sh(*MON, 23, 59)) == 540


def test_before_opening_and_after_closing_do_not_count():
    assert between(sh(*MON, 7), sh(*MON, 10)) == 60
    assert between(sh(*MON, 17), sh(*MON, 21)) == 60
    assert between(sh(*MON, 19), sh(*TUE, 10)) == 60
    assert between(sh(*MON, 18), sh(*TUE, 9)) == 0


def test_across_a_weekend():
    assert between(sh(*FRI, 17), sh(*NEXT_MON, 10)) == 120
    assert between(sh(*FRI, 18), sh(*NEXT_MON, 9)) == 0


def test_minutes_are_whole_and_rounded_down():
    assert between(sh(*MON, 10), sh(*MON, 10, 1, 59, 999999)) == 1
    assert between(sh(*MON, 10, 0, 30), sh(*MON, 10, 1)) == 0


def test_an_end_before_or_at_the_start_is_zero():
    assert between(sh(*MON, 12), sh(*MON, 10)) == 0
    assert between(sh(*MON, 12), sh(*MON, 12)) == 0


def test_instants_in_any_zone():
    start = sh(*MON, 10).astimezone(NEW_YORK)  # Sunday 21:00 in New York
    end = sh(*MON, 12).astimezone(UTC)
    assert between(start, end) == 120


def test_national_day_week():
    assert between(sh(2026, 9, 30, 9), sh(2026, 10, 9, 18), CN2026) == 3 * 540
    # Friday afternoon, the make-up Saturday, Monday morning.
    assert between(sh(2026, 10, 9, 17), sh(2026, 10, 12, 10), CN2026) == 60 + 540 + 60
    assert between(sh(2026, 9, 18, 17), sh(2026, 9, 21, 10), CN2026) == 60 + 540 + 60  # Sunday 9-20


def test_a_year_with_the_published_holidays():
    year = (sh(2026, 1, 1), sh(2027, 1, 1))
    assert between(*year) == 261 * 540  # weekdays in 2026
    assert between(*year, CN2026) == 248 * 540  # 19 weekday holidays off, 6 make-up days on


# --- adding minutes ----------------------------------------------------------------


def test_add_within_a_day_answers_in_utc():
    due = add(sh(*MON, 10), 90)
    assert due == sh(*MON, 11, 30)
    assert due.tzinfo is UTC


def test_add_zero_inside_hours_is_the_start():
    assert add(sh(*MON, 9), 0) == sh(*MON, 9)
    assert add(sh(*MON, 13, 7, 5), 0) == sh(*MON, 13, 7, 5)


def test_add_zero_outside_hours_is_the_next_opening():
    assert add(sh(*MON, 7), 0) == sh(*MON, 9)
    assert add(sh(*MON, 19), 0) == sh(*TUE, 9)
    assert add(sh(*MON, 18), 0) == sh(*TUE, 9)


def test_filed_late_on_friday_the_clock_starts_monday():
    filed = sh(*FRI, 23, 59)
    assert add(filed, 0) == sh(*NEXT_MON, 9) == utc(*NEXT_MON, 1)
    assert add(filed, 480) == sh(*NEXT_MON, 17)
    assert between(filed, sh(*NEXT_MON, 9)) == 0


def test_before_opening_and_after_closing():
    assert add(sh(*MON, 7), 60) == sh(*MON, 10)
    assert add(sh(*MON, 19), 60) == sh(*TUE, 10)


def test_landing_on_closing_time_stays_on_that_day():
    assert add(sh(*MON, 9), 540) == sh(*MON, 18)
    assert add(sh(*MON, 17), 60) == sh(*MON, 18)
    assert add(sh(*FRI, 9), 540) == sh(*FRI, 18)
    assert add(sh(*MON, 9), 541) == sh(*TUE, 9, 1)
    assert add(sh(*MON, 18), 1) == sh(*TUE, 9, 1)


def test_add_across_a_weekend():
    assert add(sh(*FRI, 17), 120) == sh(*NEXT_MON, 10)


def test_add_over_national_day_and_spring_festival():
    assert add(sh(2026, 9, 30, 17), 120, CN2026) == sh(2026, 10, 8, 10)
    assert add(sh(2026, 10, 9, 17), 120, CN2026) == sh(2026, 10, 10, 10)  # the make-up Saturday
    assert add(sh(2026, 2, 13, 17), 60 + 540 + 60, CN2026) == sh(2026, 2, 24, 10)


def test_large_counts():
    assert add(sh(*MON, 9), 1620) == sh(2026, 1, 7, 18)  # three working days
    # 10,000 = 18 whole days and 280 minutes: Thursday of the fourth week, 13:40.
    assert add(sh(*MON, 9), 10_000) == sh(2026, 1, 29, 13, 40)
    assert between(sh(*MON, 9), sh(2026, 1, 29, 13, 40)) == 10_000


def test_negative_minutes_are_refused():
    with pytest.raises(ValueError):
        add(sh(*MON, 10), -1)


# --- daylight saving time ----------------------------------------------------------

# Berlin's clocks go forward on Sunday 2026-03-29 and back on Sunday 2026-10-25.


def berlin(*args):
    return datetime(*args, tzinfo=BERLIN)


BERLIN_CAL = WorkCalendar(timezone="Europe/Berlin")
BERLIN_CHANGE_DAYS = WorkCalendar(
    timezone="Europe/Berlin", workdays=frozenset({date(2026, 3, 29), date(2026, 10, 25)})
)


@pytest.mark.parametrize("day", [date(2026, 3, 29), date(2026, 10, 25)])
def test_a_working_day_on_a_clock_change_is_still_540_minutes(day):
    midnight = datetime.combine(day, time(0), BERLIN)
    assert between(midnight, midnight + timedelta(hours=23), BERLIN_CHANGE_DAYS) == 540
    assert add(midnight, 540, BERLIN_CHANGE_DAYS) == datetime.combine(day, time(18), BERLIN)


def test_working_days_around_the_changes_keep_local_hours():
    assert add(berlin(2026, 3, 27, 9), 0, BERLIN_CAL) == utc(2026, 3, 27, 8)  # CET
    assert add(berlin(2026, 3, 30, 0), 0, BERLIN_CAL) == utc(2026, 3, 30, 7)  # CEST
    assert add(berlin(2026, 10, 26, 0), 0, BERLIN_CAL) == utc(2026, 10, 26, 8)  # CET again


def test_overnight_spans_across_the_changes():
    # Friday 17:00 to Monday 10:00 local: one hour each side, whatever the clocks did.
    assert between(berlin(2026, 3, 27, 17), berlin(2026, 3, 30, 10), BERLIN_CAL) == 120
    assert add(berlin(2026, 3, 27, 17), 120, BERLIN_CAL) == berlin(2026, 3, 30, 10)
    assert between(berlin(2026, 10, 23, 17), berlin(2026, 10, 26, 10), BERLIN_CAL) == 120
    assert add(berlin(2026, 10, 23, 17), 120, BERLIN_CAL) == berlin(2026, 10, 26, 10)
    # Saturday night to Sunday morning on the change days themselves.
    assert between(berlin(2026, 3, 28, 18), berlin(2026, 3, 29, 10), BERLIN_CHANGE_DAYS) == 60
    assert between(berlin(2026, 10, 24, 18), berlin(2026, 10, 25, 10), BERLIN_CHANGE_DAYS) == 60


def test_new_york_across_its_changes():
    calendar = WorkCalendar(timezone="America/New_York")
    # 2026-03-08 and 2026-11-01 are the change Sundays.
    start = datetime(2026, 3, 6, 17, tzinfo=NEW_YORK)
    assert add(start, 120, calendar) == datetime(2026, 3, 9, 10, tzinfo=NEW_YORK) == utc(2026, 3, 9, 14)
    start = datetime(2026, 10, 30, 17, tzinfo=NEW_YORK)
    assert add(start, 120, calendar) == datetime(2026, 11, 2, 10, tzinfo=NEW_YORK) == utc(2026, 11, 2, 15)


def test_a_boundary_in_the_spring_gap_reads_with_the_old_offset():
    # 02:30 does not exist on 2026-03-29 in Berlin; fold=0 reads it as 02:30 CET = 03:30 CEST.
    early = WorkCalendar("Europe/Berlin", time(2, 30), time(18), workdays=frozenset({date(2026, 3, 29)}))
    assert add(berlin(2026, 3, 29, 0), 0, early) == utc(2026, 3, 29, 1, 30)
    assert between(berlin(2026, 3, 29, 0), berlin(2026, 3, 29, 23), early) == 14 * 60 + 30


def test_a_boundary_in_the_autumn_overlap_is_its_first_occurrence():
    early = WorkCalendar("Europe/Berlin", time(2, 30), time(18), workdays=frozenset({date(2026, 10, 25)}))
    assert add(berlin(2026, 10, 25, 0), 0, early) == utc(2026, 10, 25, 0, 30)  # 02:30 CEST
    assert between(berlin(2026, 10, 25, 0), berlin(2026, 10, 25, 23), early) == 16 * 60 + 30


def test_hours_that_vanish_in_the_gap_leave_the_day_without_working_time():
    # 02:30 (gap, read as 01:30 UTC) to 03:00 CEST (01:00 UTC): nothing.
    odd = WorkCalendar("Europe/Berlin", time(2, 30), time(3), workdays=frozenset({date(2026, 3, 29)}))
    assert between(berlin(2026, 3, 29, 0), berlin(2026, 3, 29, 23), odd) == 0
    assert add(berlin(2026, 3, 29, 0), 0, odd) == berlin(2026, 3, 30, 2, 30)


# --- properties --------------------------------------------------------------------


def _random_instant(rng, zone):
    day = date(2026, 1, 1) + timedelta(days=rng.randrange(365))
    return datetime.combine(day, time(0), zone) + timedelta(seconds=rng.randrange(86400))


@pytest.mark.parametrize("calendar", [CN2026, BERLIN_CAL, _published_calendar("America/New_York")])
def test_between_undoes_add(calendar):
    rng = random.Random(17)
    zone = ZoneInfo(calendar.timezone)
    for _ in range(1000):
        start = _random_instant(rng, zone)
        minutes = rng.choice([0, 1, 59, 540, 541, 1620]) if rng.random() < 0.3 else rng.randrange(20_000)
        assert between(start, add(start, minutes, calendar), calendar) == minutes, (start, minutes)


def test_adding_in_two_steps_is_adding_once():
    rng = random.Random(4)
    for _ in range(500):
        start = _random_instant(rng, SHANGHAI)
        first, second = rng.randrange(3000), rng.randrange(1, 3000)
        assert add(add(start, first, CN2026), second, CN2026) == add(start, first + second, CN2026)


def test_between_adds_up_over_a_split():
    rng = random.Random(9)
    for _ in range(500):
        a, b, c = sorted(_random_instant(rng, BERLIN).replace(second=0) for _ in range(3))
        assert between(a, c, BERLIN_CAL) == between(a, b, BERLIN_CAL) + between(b, c, BERLIN_CAL)


def test_a_year_is_counted_per_day_not_per_minute():
    start, end = utc(2026, 1, 1), utc(2027, 1, 1)
    runs = []
    for _ in range(20):
        began = timer.perf_counter()
        between(start, end, CN2026)
        runs.append(timer.perf_counter() - began)
    assert min(runs) < 0.001


# --- refused input -----------------------------------------------------------------


def test_naive_datetimes_are_refused():
    naive = datetime(2026, 1, 5, 10)
    with pytest.raises(ValueError):
        between(naive, sh(*MON, 12))
    with pytest.raises(ValueError):
        between(sh(*MON, 9), naive)
    with pytest.raises(ValueError):
        add(naive, 10)


def test_a_calendar_must_make_sense():
    with pytest.raises(ValueError):
        WorkCalendar(day_start=time(18), day_end=time(9))
    with pytest.raises(ValueError):
        WorkCalendar(day_start=time(9), day_end=time(9))
    with pytest.raises(ZoneInfoNotFoundError):
        WorkCalendar(timezone="Mars/Olympus_Mons")


def test_calendars_are_values():
    assert WorkCalendar() == PLAIN
    assert hash(_published_calendar()) == hash(CN2026)
    with pytest.raises(AttributeError):
        PLAIN.day_start = time(8)


# --- the shipped holidays ----------------------------------------------------------


def test_published_years():
    assert 2026 in holidays.published_years()
    assert holidays.published_years() == sorted(holidays.published_years())
    with pytest.raises(KeyError):
        holidays.published(1999)


@pytest.mark.parametrize("year", holidays.published_years())
def test_the_holiday_file_is_sound(year):
    entry = holidays.published(year)
    assert entry["source"].startswith(f"国务院办公厅关于{year}年部分节假日安排的通知")
    off = [day for day, _ in entry["holidays"]]
    on = [day for day, _ in entry["workdays"]]
    assert off and all(day.year == year for day in off + on)
    assert len(set(off)) == len(off) and len(set(on)) == len(on)
    assert not set(off) & set(on)
    assert all(day.weekday() >= 5 for day in on)  # make-up days fall on weekends
    assert all(name and len(name) <= 40 for _, name in entry["holidays"] + entry["workdays"])


def test_2026_matches_the_notice():
    entry = holidays.published(2026)
    off = {day for day, _ in entry["holidays"]}
    assert len(off) == 3 + 9 + 3 + 5 + 3 + 3 + 7
    assert {date(2026, 10, d) for d in range(1, 8)} <= off
    assert {date(2026, 2, 15) + timedelta(n) for n in range(9)} <= off
    assert [day for day, _ in entry["workdays"]] == [
        date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28),
        date(2026, 5, 9), date(2026, 9, 20), date(2026, 10, 10),
    ]  # fmt: skip
