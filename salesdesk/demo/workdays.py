"""The demo's calendar: the days nobody works (weekends, fixed public holidays and the
Spring Festival week), which the demo's history keeps clear of."""

from datetime import date

# Public holidays with fixed dates (month, first day, last day) and the first day of the
# Spring Festival (春节), when hardly anyone works for a week.
HOLIDAYS = [(1, 1, 1), (5, 1, 5), (10, 1, 7)]
SPRING_FESTIVALS = [
    date(2025, 1, 29),
    date(2026, 2, 17),
    date(2027, 2, 6),
    date(2028, 1, 26),
    date(2029, 2, 13),
]


def holiday(day):
    """Fixed public holidays and the Spring Festival week."""
    if any(day.month == m and a <= day.day <= b for m, a, b in HOLIDAYS):
        return True
    return any(-1 <= (day - first).days <= 6 for first in SPRING_FESTIVALS)


def day_off(day):
    return day.weekday() >= 5 or holiday(day)
