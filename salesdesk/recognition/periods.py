"""Leaderboard periods in a time zone: this week (from Monday), month, quarter, all time.

Bounds are aware UTC datetimes, the end exclusive; `None` means open-ended."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton
from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

PERIODS = ("week", "month", "quarter", "all")
PERIOD_LABELS = {
    "week": _l("This week"),
    "month": _l("This month"),
    "quarter": _l("This quarter"),
    "all": _l("All time"),
}
# What the movement column compares with.
PREVIOUS_LABELS = {
    "week": _l("Compared with last week"),
    "month": _l("Compared with last month"),
    "quarter": _l("Compared with last quarter"),
    "all": _l("Compared with the standings last Monday"),
}


def user_zone(user):
    """A person's periods are in their own time zone (the company's without a person)."""
    return ZoneInfo(user.timezone if user is not None else company_zone_name())


def company_zone_name():
    """Months close company-wide in the default time zone."""
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


@dataclass(frozen=True)
class Period:
    key: str
    start: datetime | None
    end: datetime | None
    # Local calendar days, for display (None for all time).
    first_day: date | None = None
    last_day: date | None = None


def local_midnight(day, zone):
    """The UTC instant at which `day` begins in `zone`."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def month_label(month):
    """2026年10月 / Oct 2026: a month as people name it, in the reader's language."""
    return format_skeleton("yMMM", month, locale=get_locale())


def month_start(day):
    return day.replace(day=1)


def add_months(day, months):
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _span(key, first, next_first, zone):
    return Period(
        key,
        local_midnight(first, zone),
        local_midnight(next_first, zone),
        first,
        next_first - timedelta(days=1),
    )


def current_and_previous(key, now, zone):
    """The period `key` containing `now` in `zone`, and the one before it."""
    if isinstance(zone, str):
        zone = ZoneInfo(zone)
    today = now.astimezone(zone).date()
    week = today - timedelta(days=today.weekday())
    if key == "week":
        current = _span(key, week, week + timedelta(days=7), zone)
        previous = _span(key, week - timedelta(days=7), week, zone)
        return current, previous
    if key == "all":
        # All time, compared with the standings when this week began.
        return Period(key, None, None), Period(key, None, local_midnight(week, zone))
    step = {"month": 1, "quarter": 3}[key]
    first = month_start(today)
    if key == "quarter":
        first = first.replace(month=(first.month - 1) // 3 * 3 + 1)
    current = _span(key, first, add_months(first, step), zone)
    previous = _span(key, add_months(first, -step), first, zone)
    return current, previous


def month_bounds(month, zone):
    """[start, end) in UTC of the calendar month beginning on `month` in `zone`."""
    if isinstance(zone, str):
        zone = ZoneInfo(zone)
    return local_midnight(month, zone), local_midnight(add_months(month, 1), zone)


def week_start(now, zone):
    if isinstance(zone, str):
        zone = ZoneInfo(zone)
    today = now.astimezone(zone).date()
    return local_midnight(today - timedelta(days=today.weekday()), zone)


def this_month(now, zone):
    """First day (local) of the month containing `now`."""
    if isinstance(zone, str):
        zone = ZoneInfo(zone)
    return month_start(now.astimezone(zone).date())
