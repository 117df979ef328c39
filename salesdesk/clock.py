"""The one source of "now". Tests set it; nothing else calls datetime.now()."""

from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from time import sleep
from zoneinfo import ZoneInfo

_frozen: datetime | None = None


def now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return _frozen or datetime.now(UTC)


def set_now(moment: datetime | None) -> None:
    """Freeze the clock at an aware datetime, or unfreeze it with None."""
    if moment is not None and moment.tzinfo is None:
        raise ValueError("the clock takes aware datetimes")
    global _frozen
    _frozen = moment.astimezone(UTC) if moment else None


def wait(seconds: float) -> bool:
    """Let `seconds` pass; False, at once, while the clock is frozen (a test moves it)."""
    if _frozen is not None:
        return False
    sleep(seconds)
    return True


@contextmanager
def at(moment: datetime):
    """Run the block as if it were `moment` (demo data with a history), then return
    to whatever the clock was."""
    previous = _frozen
    set_now(moment)
    try:
        yield
    finally:
        set_now(previous)


def today(timezone_name) -> date:
    """Today's date where the user is (a team's time zone)."""
    return now().astimezone(ZoneInfo(timezone_name)).date()


def from_local(moment: datetime, timezone_name) -> datetime:
    """A wall-clock time entered in a team's time zone, as an aware UTC datetime."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone_name))
    return moment.astimezone(UTC)


def month_starts(timezone_name, count):
    """The starts of the last `count` months where the user is, oldest first and this
    month last, as aware datetimes (local midnight of each month's first day)."""
    zone = ZoneInfo(timezone_name)
    first = today(timezone_name).replace(day=1)
    firsts = [first]
    for _month in range(count - 1):
        firsts.append((firsts[-1] - timedelta(days=1)).replace(day=1))
    return [datetime.combine(day, time(), tzinfo=zone) for day in reversed(firsts)]
