"""Pace (salesdesk/performance/pace.py): the share of a period's working days over by
today, on the support desk's calendar (weekends, holidays, make-up days), and the status
in words with its 10 % tolerance; reached early, closed periods, and percentages with no
target or a zero one."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from flask import Flask
from flask_babel import Babel

from salesdesk.performance import pace, periods
from salesdesk.performance.pace import AHEAD, BEHIND, MISSED, ON_TRACK, REACHED
from salesdesk.support.calendar import WorkCalendar

JUNE = periods.parse("2026-06", None)  # starts on a Monday: 22 weekdays
OCTOBER = periods.parse("2026-10", None)
PLAIN = WorkCalendar()
# October 2026 as China works it: the National Day days off on weekdays (1, 2, 5, 6, 7
# October), and Saturday 10 October a make-up working day (调休): 22 - 5 + 1 = 18.
GOLDEN_WEEK = WorkCalendar(
    holidays=frozenset(date(2026, 10, day) for day in (1, 2, 5, 6, 7)),
    workdays=frozenset({date(2026, 9, 27), date(2026, 10, 10)}),
)


@pytest.fixture(scope="module", autouse=True)
def _english():
    """The status labels are translated: a bare app in English, without a database."""
    bare = Flask(__name__)
    Babel(bare)
    with bare.app_context():
        yield


def share(calendar, period, today):
    return pace.elapsed_share(calendar, period, today)


# ---- the share of working days over ------------------------------------------------------


def test_the_first_morning_of_a_month_nothing_is_over_yet():
    assert share(PLAIN, JUNE, date(2026, 6, 1)) == 0
    # Before the period began, too.
    assert share(PLAIN, JUNE, date(2026, 5, 20)) == 0


def test_today_counts_once_it_is_over_and_weekends_do_not_count():
    assert share(PLAIN, JUNE, date(2026, 6, 2)) == Decimal(1) / 22
    # Saturday, Sunday and Monday morning: Monday to Friday of the first week are over.
    for day in (6, 7, 8):
        assert share(PLAIN, JUNE, date(2026, 6, day)) == Decimal(5) / 22
    assert share(PLAIN, JUNE, date(2026, 6, 30)) == Decimal(21) / 22


def test_after_the_period_all_of_it_is_over():
    assert share(PLAIN, JUNE, date(2026, 7, 1)) == 1
    assert share(PLAIN, JUNE, date(2027, 1, 1)) == 1


def test_holidays_are_not_working_days_and_make_up_days_are():
    # Friday 9 October: of the first working days only Thursday 8 October is over.
    assert share(GOLDEN_WEEK, OCTOBER, date(2026, 10, 9)) == Decimal(1) / 18
    # The 8th, the 9th and the make-up Saturday the 10th are over by Monday the 12th.
    assert share(GOLDEN_WEEK, OCTOBER, date(2026, 10, 12)) == Decimal(3) / 18
    assert share(GOLDEN_WEEK, OCTOBER, date(2026, 10, 11)) == Decimal(3) / 18
    # The holiday week itself: nothing is over, nobody is behind.
    for day in range(1, 9):
        assert share(GOLDEN_WEEK, OCTOBER, date(2026, 10, day)) == 0
    assert share(GOLDEN_WEEK, OCTOBER, date(2026, 10, 30)) == Decimal(17) / 18
    # Saturday the 31st is no make-up day: the month's work is all over by then.
    assert share(GOLDEN_WEEK, OCTOBER, date(2026, 10, 31)) == 1
    # The same days on a plain calendar: 22 working days, 5 of them over by the 8th.
    assert share(PLAIN, OCTOBER, date(2026, 10, 8)) == Decimal(5) / 22


def test_a_quarter_counts_its_months_working_days():
    q4 = periods.parse("2026-Q4", None)
    total = (
        sum(
            1
            for n in range((q4.end - q4.start).days)
            if (q4.start + timedelta(days=n)).weekday() < 5
            and q4.start + timedelta(days=n) not in GOLDEN_WEEK.holidays
        )
        + 1
    )  # the make-up Saturday
    assert total == 18 + 21 + 23
    assert share(GOLDEN_WEEK, q4, date(2026, 11, 1)) == Decimal(18) / total


def test_a_period_without_any_working_day():
    closed_june = WorkCalendar(
        holidays=frozenset(JUNE.start + timedelta(days=n) for n in range(30)),
    )
    assert share(closed_june, JUNE, date(2026, 6, 15)) == 0
    assert share(closed_june, JUNE, date(2026, 7, 1)) == 1


# ---- the status -------------------------------------------------------------------------


def test_nobody_is_behind_on_the_first_morning():
    first = share(PLAIN, JUNE, date(2026, 6, 1))
    nothing_yet = pace.pace(100, 0, first, closed=False)
    assert (nothing_yet.status, nothing_yet.expected, nothing_yet.percent) == (ON_TRACK, 0, 0)
    assert str(nothing_yet.status_label) == "On track"
    assert pace.pace(100, 1, first, closed=False).status == AHEAD


@pytest.mark.parametrize(
    ("actual", "status"),
    [
        (100, AHEAD),
        (56, AHEAD),
        (Decimal("55.01"), AHEAD),
        (55, ON_TRACK),  # expected 50, plus a tenth: still on track
        (50, ON_TRACK),
        (45, ON_TRACK),  # minus a tenth: still on track
        (Decimal("44.99"), BEHIND),
        (44, BEHIND),
        (0, BEHIND),
    ],
)
def test_ahead_on_track_and_behind_with_the_tenth_of_tolerance(actual, status):
    result = pace.pace(200, actual, Decimal("0.25"), closed=False)
    assert result.expected == 50
    assert result.status == status
    assert result.expected_percent == 25


def test_the_words_for_each_status():
    labels = {status: str(label) for status, label in pace.STATUS_LABELS.items()}
    assert labels == {
        AHEAD: "Ahead",
        ON_TRACK: "On track",
        BEHIND: "Behind",
        REACHED: "Reached",
        MISSED: "Missed",
    }


def test_reached_before_the_end_of_the_period():
    early = pace.pace(10, 10, Decimal("0.3"), closed=False)
    assert (early.status, early.percent) == (REACHED, 100)
    assert str(early.status_label) == "Reached"
    beyond = pace.pace(10, 13, Decimal("0.3"), closed=False)
    assert (beyond.status, beyond.percent) == (REACHED, 130)
    money = pace.pace(Decimal("50000.00"), Decimal("50000.00"), Decimal("0.9"), closed=False)
    assert money.status == REACHED


def test_a_closed_period_is_reached_or_missed():
    missed = pace.pace(10, 9, Decimal(1), closed=True)
    assert (missed.status, missed.percent, str(missed.status_label)) == (MISSED, 90, "Missed")
    assert pace.pace(10, 10, Decimal(1), closed=True).status == REACHED
    assert pace.pace(10, 25, Decimal(1), closed=True).status == REACHED
    # Far ahead at the end is still only "reached"; short by a fen is "missed".
    assert pace.pace(Decimal("100.00"), Decimal("99.99"), Decimal(1), closed=True).status == MISSED


def test_no_target_has_no_percent_and_no_status():
    result = pace.pace(None, 7, Decimal("0.5"), closed=False)
    assert (result.target, result.expected, result.status) == (None, None, None)
    assert (result.percent, result.expected_percent, result.status_label) == (None, None, "")
    assert pace.pace(None, 7, Decimal(1), closed=True).status is None


def test_a_zero_target_has_no_percent():
    open_period = pace.pace(0, 0, Decimal("0.5"), closed=False)
    assert (open_period.percent, open_period.expected_percent) == (None, None)
    assert open_period.status == ON_TRACK
    # Anything done against a zero target is more than expected, not "reached" early.
    assert pace.pace(0, 3, Decimal("0.5"), closed=False).status == AHEAD
    assert pace.pace(0, 0, Decimal(1), closed=True).status == REACHED
    assert pace.pace(Decimal("0.00"), Decimal("0.00"), Decimal(1), closed=True).percent is None


def test_percentages_are_whole_and_exact():
    assert pace.pace(Decimal("100000.00"), Decimal("50000.00"), Decimal("0.5"), False).percent == 50
    assert pace.pace(3, 2, Decimal("0.5"), False).percent == 66  # rounded down, never up to a goal
    assert pace.pace(Decimal("0.03"), Decimal("0.01"), Decimal(0), False).percent == 33
    assert pace.pace(Decimal("1000000000000.00"), Decimal("999999999999.99"), Decimal(1), True).percent == 99
    assert pace.pace(22, 5, Decimal(5) / 22, False).expected_percent == 22


def test_pace_on_the_golden_week_calendar():
    # 18 visits planned in October; by Monday 12 October 3 of 18 working days are over.
    monday = share(GOLDEN_WEEK, OCTOBER, date(2026, 10, 12))
    assert pace.pace(18, 3, monday, closed=False).status == ON_TRACK
    assert pace.pace(18, 2, monday, closed=False).status == BEHIND
    assert pace.pace(18, 4, monday, closed=False).status == AHEAD
    # On the 8th, after the holidays, nobody is behind for not visiting during them.
    assert pace.pace(18, 0, share(GOLDEN_WEEK, OCTOBER, date(2026, 10, 8)), closed=False).status == ON_TRACK
