"""Target periods (salesdesk/performance/periods.py): what a URL may name (2026-12, 2026-1,
2026-Q4, 2026), what it may not, the periods before and after across years, their
instants as local midnights (Asia/Shanghai and a zone with summer time), and the months
a quarter or a year is made of."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask_babel import Babel

from salesdesk.performance import periods
from salesdesk.performance.periods import MONTH, QUARTER, YEAR, BadPeriod

TODAY = date(2026, 5, 20)


@pytest.fixture(scope="module", autouse=True)
def _english():
    """Messages are translated: a bare app in English reads them as written, without a
    database."""
    bare = Flask(__name__)
    Babel(bare)
    with bare.app_context():
        yield


@pytest.mark.parametrize(
    ("text", "kind", "start", "end", "key"),
    [
        ("2026-12", MONTH, date(2026, 12, 1), date(2027, 1, 1), "2026-12"),
        ("2026-1", MONTH, date(2026, 1, 1), date(2026, 2, 1), "2026-01"),
        ("2026-01", MONTH, date(2026, 1, 1), date(2026, 2, 1), "2026-01"),
        ("2026-2", MONTH, date(2026, 2, 1), date(2026, 3, 1), "2026-02"),
        ("2026-Q4", QUARTER, date(2026, 10, 1), date(2027, 1, 1), "2026-Q4"),
        ("2026-q1", QUARTER, date(2026, 1, 1), date(2026, 4, 1), "2026-Q1"),
        ("2026", YEAR, date(2026, 1, 1), date(2027, 1, 1), "2026"),
        (" 2026-Q2 ", QUARTER, date(2026, 4, 1), date(2026, 7, 1), "2026-Q2"),
        ("2000", YEAR, date(2000, 1, 1), date(2001, 1, 1), "2000"),
        ("2100-12", MONTH, date(2100, 12, 1), date(2101, 1, 1), "2100-12"),
    ],
)
def test_what_a_url_may_name(text, kind, start, end, key):
    period = periods.parse(text, TODAY)
    assert (period.kind, period.start, period.end, period.key, str(period)) == (kind, start, end, key, key)
    # The key reads back as the same period.
    assert periods.parse(period.key, TODAY) == period


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-13", "A month is 1 to 12."),
        ("2026-00", "A month is 1 to 12."),
        ("2026-0", "A month is 1 to 12."),
        ("2026-Q5", "A quarter is Q1 to Q4."),
        ("2026-Q0", "A quarter is Q1 to Q4."),
        ("abc", "Write the period as 2026-12, 2026-Q4 or 2026."),
        ("2026-", "Write the period as 2026-12, 2026-Q4 or 2026."),
        ("2026-123", "Write the period as 2026-12, 2026-Q4 or 2026."),
        ("2026-Q", "Write the period as 2026-12, 2026-Q4 or 2026."),
        ("2026-W12", "Write the period as 2026-12, 2026-Q4 or 2026."),
        ("26-12", "Write the period as 2026-12, 2026-Q4 or 2026."),
        ("2026/12", "Write the period as 2026-12, 2026-Q4 or 2026."),
        ("1999", "Choose a year between 2000 and 2100."),
        ("2101-01", "Choose a year between 2000 and 2100."),
        ("0000-Q1", "Choose a year between 2000 and 2100."),
    ],
)
def test_what_it_may_not_and_why(text, message):
    with pytest.raises(BadPeriod) as raised:
        periods.parse(text, TODAY)
    assert raised.value.message == message
    assert raised.value.field == "period"
    assert raised.value.status == 400


@pytest.mark.parametrize("text", ["", "   ", None])
def test_nothing_named_is_the_current_month(text):
    period = periods.parse(text, TODAY)
    assert (period.kind, period.key) == (MONTH, "2026-05")
    assert periods.parse(text, date(2026, 12, 31)).key == "2026-12"
    assert periods.parse(text, date(2027, 1, 1)).key == "2027-01"


@pytest.mark.parametrize(
    ("text", "previous", "following"),
    [
        ("2026-01", "2025-12", "2026-02"),
        ("2026-12", "2026-11", "2027-01"),
        ("2026-06", "2026-05", "2026-07"),
        ("2026-Q1", "2025-Q4", "2026-Q2"),
        ("2026-Q4", "2026-Q3", "2027-Q1"),
        ("2026", "2025", "2027"),
    ],
)
def test_previous_and_next_across_years(text, previous, following):
    period = periods.parse(text, TODAY)
    assert period.previous.key == previous
    assert period.next.key == following
    assert period.previous.kind == period.next.kind == period.kind
    assert period.previous.end == period.start
    assert period.next.start == period.end
    assert period.next.previous == period == period.previous.next


def test_bounds_are_local_midnights_in_shanghai():
    december = periods.parse("2026-12", TODAY)
    start, end = december.bounds("Asia/Shanghai")
    assert start == datetime(2026, 11, 30, 16, tzinfo=UTC)
    assert end == datetime(2026, 12, 31, 16, tzinfo=UTC)
    assert start.utcoffset() == end.utcoffset() == timedelta(hours=8)
    # The last second of December there is inside; the first of January is not.
    last = datetime(2026, 12, 31, 23, 59, 59, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert start <= last < end
    assert not last + timedelta(seconds=1) < end


def test_bounds_follow_summer_time_in_berlin():
    # Clocks go forward on 29 March 2026: March is an hour short there, and October
    # (back on 25 October) an hour long.
    march = periods.parse("2026-03", TODAY)
    start, end = march.bounds("Europe/Berlin")
    assert start == datetime(2026, 2, 28, 23, tzinfo=UTC)
    assert end == datetime(2026, 3, 31, 22, tzinfo=UTC)
    # (Python subtracts aware times of one zone by wall clock: compare them in UTC.)
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(days=31, hours=-1)
    assert (start.utcoffset(), end.utcoffset()) == (timedelta(hours=1), timedelta(hours=2))
    october_start, october_end = periods.parse("2026-10", TODAY).bounds("Europe/Berlin")
    assert october_end.astimezone(UTC) - october_start.astimezone(UTC) == timedelta(days=31, hours=1)
    # A quarter's bounds are its first and last months' outer bounds.
    q1_start, q1_end = periods.parse("2026-Q1", TODAY).bounds("Europe/Berlin")
    assert q1_start == datetime(2025, 12, 31, 23, tzinfo=UTC)
    assert q1_end == end


def test_the_months_of_a_quarter_a_year_and_a_month():
    assert [month.key for month in periods.parse("2026-Q4", TODAY).months] == [
        "2026-10",
        "2026-11",
        "2026-12",
    ]
    assert [month.key for month in periods.parse("2026-Q1", TODAY).months] == [
        "2026-01",
        "2026-02",
        "2026-03",
    ]
    year = periods.parse("2026", TODAY).months
    assert [month.key for month in year] == [f"2026-{n:02d}" for n in range(1, 13)]
    assert all(month.kind == MONTH for month in year)
    assert year[0].start == date(2026, 1, 1) and year[-1].end == date(2027, 1, 1)
    assert [month.key for month in periods.parse("2026-07", TODAY).months] == ["2026-07"]


def test_holds_and_current():
    quarter = periods.current(QUARTER, date(2026, 11, 15))
    assert quarter.key == "2026-Q4"
    assert quarter.holds(date(2026, 10, 1)) and quarter.holds(date(2026, 12, 31))
    assert not quarter.holds(date(2027, 1, 1)) and not quarter.holds(date(2026, 9, 30))
    assert periods.current(YEAR, date(2026, 11, 15)).key == "2026"
    assert periods.current(MONTH, date(2026, 11, 15)).key == "2026-11"


def test_labels():
    assert periods.parse("2026-12", TODAY).label == "12/2026"
    assert periods.parse("2026-Q4", TODAY).label == "Q4 2026"
    assert periods.parse("2026", TODAY).label == "2026"


def test_the_weekly_reports_week_runs_monday_to_monday():
    assert periods.week_of(date(2026, 12, 2)) == (date(2026, 11, 30), date(2026, 12, 7))
    assert periods.week_of(date(2026, 11, 30)) == (date(2026, 11, 30), date(2026, 12, 7))
    assert periods.week_of(date(2027, 1, 3)) == (date(2026, 12, 28), date(2027, 1, 4))
