"""Working time: the service-level clock runs only inside working hours on working days.

Pure arithmetic, no database: `calendar_store.py` builds a `WorkCalendar` from the
settings and the holiday table. A working day is Monday to Friday unless it is a
holiday, or any day listed as a make-up working day (调休, usually a weekend day).
Hours run from `day_start` to `day_end` local time, with no lunch break.

Day boundaries are local wall-clock times in the calendar's zone, turned into instants
with zoneinfo, so a working day on a DST change day is as long as the clocks say it is
(9:00–18:00 is 540 real minutes whichever day the clocks change at night). A boundary
that falls in a DST gap (a wall time that does not exist) is resolved as zoneinfo does
for fold=0: with the offset in force before the change, so 02:30 on a spring-forward
night means 03:30 of the new offset; a repeated wall time (autumn) means its first
occurrence. A day whose boundaries resolve to an empty span has no working time.

Instants may be in any zone; they are compared in UTC. Naive datetimes are refused:
a time without a zone is ambiguous in a desk whose teams sit in different zones.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_DAY = timedelta(days=1)
_MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class WorkCalendar:
    timezone: str = "Asia/Shanghai"
    day_start: time = time(9)
    day_end: time = time(18)
    holidays: frozenset[date] = frozenset()  # days off that would be weekdays
    workdays: frozenset[date] = frozenset()  # make-up working days (调休)

    def __post_init__(self):
        ZoneInfo(self.timezone)  # an unknown zone fails here, not in the middle of a job
        if self.day_start.tzinfo or self.day_end.tzinfo:
            raise ValueError("day_start and day_end are local wall-clock times, without a zone")
        if not self.day_start < self.day_end:
            raise ValueError("the working day must start before it ends")

    @property
    def minutes_per_day(self):
        """The length of a working day (a "working day" in service levels)."""
        start, end = (moment.hour * 60 + moment.minute for moment in (self.day_start, self.day_end))
        return end - start


def is_working_day(calendar: WorkCalendar, day: date) -> bool:
    """Whether `day` (a local date in the calendar's zone) has working hours."""
    if isinstance(day, datetime):
        # A datetime never equals a date, so the holiday sets would silently miss it.
        raise TypeError("is_working_day takes a date, not a datetime")
    if day in calendar.workdays:
        return True
    return day.weekday() < 5 and day not in calendar.holidays


def working_minutes_between(calendar: WorkCalendar, start: datetime, end: datetime) -> int:
    """Whole working minutes (rounded down) from `start` to `end`; 0 when end <= start."""
    start, end = _naive_utc(start), _naive_utc(end)
    if end <= start:
        return 0
    zone = ZoneInfo(calendar.timezone)
    day = _local_date(start, zone)
    last = _local_date(end, zone)
    total = timedelta()
    while day <= last:
        hours = _hours(calendar, zone, day)
        if hours:
            lo, hi = max(hours[0], start), min(hours[1], end)
            if hi > lo:
                total += hi - lo
        day += _DAY
    return total // _MINUTE


def add_working_minutes(calendar: WorkCalendar, start: datetime, minutes: int) -> datetime:
    """The UTC instant `minutes` working minutes after `start`.

    Counting starts at the first working instant at or after `start`, so 0 minutes from
    outside working hours (18:00 included) is the next opening. A count that runs out
    exactly at a day's end returns that day's end, not the next morning.
    """
    if minutes < 0:
        raise ValueError("minutes must not be negative")
    start = _naive_utc(start)
    zone = ZoneInfo(calendar.timezone)
    day = _local_date(start, zone)
    left = timedelta(minutes=minutes)
    while True:
        hours = _hours(calendar, zone, day)
        if hours:
            opening, closing = max(hours[0], start), hours[1]
            if opening < closing:
                if left <= closing - opening:
                    return (opening + left).replace(tzinfo=UTC)
                left -= closing - opening
        day += _DAY


# Inside, instants are naive datetimes in UTC: about twice as fast as aware ones, and
# aware datetimes sharing a tzinfo compare by wall clock, which is wrong across DST.


def _hours(calendar: WorkCalendar, zone: ZoneInfo, day: date) -> tuple[datetime, datetime] | None:
    """The day's working span in naive UTC, or None on a day off (or an empty span)."""
    if not is_working_day(calendar, day):
        return None
    opening = datetime.combine(day, calendar.day_start)
    closing = datetime.combine(day, calendar.day_end)
    # utcoffset of a naive wall time is zoneinfo's fold=0 reading (see the module doc).
    opening -= zone.utcoffset(opening)
    closing -= zone.utcoffset(closing)
    return (opening, closing) if opening < closing else None


def _naive_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("working time needs aware datetimes")
    return moment.astimezone(UTC).replace(tzinfo=None)


def _local_date(naive_utc: datetime, zone: ZoneInfo) -> date:
    return naive_utc.replace(tzinfo=UTC).astimezone(zone).date()
