"""Target periods: a month (2026-12), a quarter (2026-Q4) or a year (2026), as written
in the URL. Pure date arithmetic; instants are local midnights in the team's zone, so a
deal won at 23:59:59 on 31 December in Shanghai belongs to December there."""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _

from ..errors import DomainError

MONTH, QUARTER, YEAR = "month", "quarter", "year"
_PATTERN = re.compile(r"(?P<year>\d{4})(?:-(?:(?P<month>\d{1,2})|[Qq](?P<quarter>\d)))?")
# Years outside this range are typing mistakes, not periods anyone plans.
FIRST_YEAR, LAST_YEAR = 2000, 2100


class BadPeriod(DomainError):
    def __init__(self, message):
        super().__init__(message, field="period")


@dataclass(frozen=True, order=True)
class Period:
    start: date  # the first day
    end: date  # the day after the last
    kind: str

    @property
    def key(self):
        """As the URL and the targets table write it."""
        if self.kind == YEAR:
            return f"{self.start.year}"
        if self.kind == QUARTER:
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start.year}-{self.start.month:02d}"

    @property
    def label(self):
        if self.kind == YEAR:
            return _("%(year)s", year=self.start.year)
        if self.kind == QUARTER:
            return _("Q%(quarter)s %(year)s", quarter=(self.start.month - 1) // 3 + 1, year=self.start.year)
        return _("%(month)s/%(year)s", month=self.start.month, year=self.start.year)

    def __str__(self):
        return self.key

    @property
    def previous(self):
        return _span(self.kind, _add_months(self.start, -_MONTHS[self.kind]))

    @property
    def next(self):
        return _span(self.kind, self.end)

    @property
    def months(self):
        """The months it is made of (itself for a month)."""
        return [_span(MONTH, _add_months(self.start, n)) for n in range(_MONTHS[self.kind])]

    def bounds(self, zone_name):
        """[start, end) as instants in the zone's local midnights."""
        zone = ZoneInfo(zone_name)
        return tuple(datetime.combine(day, time(), tzinfo=zone) for day in (self.start, self.end))

    def holds(self, day):
        return self.start <= day < self.end


_MONTHS = {MONTH: 1, QUARTER: 3, YEAR: 12}


def _add_months(day, months):
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _span(kind, first):
    if kind == QUARTER:
        first = date(first.year, (first.month - 1) // 3 * 3 + 1, 1)
    elif kind == YEAR:
        first = date(first.year, 1, 1)
    else:
        first = first.replace(day=1)
    return Period(first, _add_months(first, _MONTHS[kind]), kind)


def current(kind, today):
    return _span(kind, today)


def parse(text, today):
    """The period a URL names; the current month when it names none. BadPeriod for
    2026-13, 2026-Q5 or a year no one plans for."""
    text = (text or "").strip()
    if not text:
        return current(MONTH, today)
    match = _PATTERN.fullmatch(text)
    if match is None:
        raise BadPeriod(_("Write the period as 2026-12, 2026-Q4 or 2026."))
    year = int(match["year"])
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise BadPeriod(_("Choose a year between %(first)s and %(last)s.", first=FIRST_YEAR, last=LAST_YEAR))
    if match["month"] is not None:
        month = int(match["month"])
        if not 1 <= month <= 12:
            raise BadPeriod(_("A month is 1 to 12."))
        return _span(MONTH, date(year, month, 1))
    if match["quarter"] is not None:
        quarter = int(match["quarter"])
        if not 1 <= quarter <= 4:
            raise BadPeriod(_("A quarter is Q1 to Q4."))
        return _span(QUARTER, date(year, quarter * 3 - 2, 1))
    return _span(YEAR, date(year, 1, 1))


def week_of(day):
    """[Monday, next Monday) holding `day`: the weekly report's week."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=7)
