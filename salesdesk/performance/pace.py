"""Pace: how far along a target should be by today, in working days elapsed, and the
status in words (领先 / 正常 / 落后) that the pages show next to any colour.

Working days are the support desk's calendar (weekends, public holidays and make-up
days, in the team's zone). Today counts once it is over: on the first morning of a
month nobody is behind yet."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from flask_babel import lazy_gettext as _l

from ..support.calendar import is_working_day

AHEAD, ON_TRACK, BEHIND, REACHED, MISSED = "ahead", "on_track", "behind", "reached", "missed"
STATUS_LABELS = {
    AHEAD: _l("Ahead"),
    ON_TRACK: _l("On track"),
    BEHIND: _l("Behind"),
    REACHED: _l("Reached"),
    MISSED: _l("Missed"),
}
# Within a tenth of the expected figure either way is "on track": a rep one visit short
# on the tenth of the month is not behind in any sense a manager acts on.
TOLERANCE = Decimal("0.1")


@dataclass(frozen=True)
class Pace:
    target: Decimal | int | None
    actual: Decimal | int
    expected: Decimal | None  # what should be reached by today; None without a target
    status: str | None

    @property
    def percent(self):
        """Progress in whole percent of the target (None without one; 0 target: None)."""
        if not self.target:
            return None
        return int(Decimal(self.actual) * 100 / Decimal(self.target))

    @property
    def expected_percent(self):
        if not self.target or self.expected is None:
            return None
        return int(self.expected * 100 / Decimal(self.target))

    @property
    def status_label(self):
        return STATUS_LABELS[self.status] if self.status else ""


def elapsed_share(calendar, period, today):
    """The share (0–1) of the period's working days over by the end of yesterday."""
    days = [period.start + timedelta(days=n) for n in range((period.end - period.start).days)]
    working = [day for day in days if is_working_day(calendar, day)]
    if not working:
        return Decimal(1) if today >= period.end else Decimal(0)
    over = sum(1 for day in working if day < today)
    return Decimal(over) / Decimal(len(working))


def pace(target, actual, share, closed):
    """The pace of one figure against its target, `share` of the period being over."""
    if target is None:
        return Pace(None, actual, None, None)
    target = Decimal(target)
    expected = target * share
    if closed:
        status = REACHED if actual >= target else MISSED
    elif actual >= target and target > 0:
        status = REACHED
    elif actual > expected * (1 + TOLERANCE):
        status = AHEAD
    elif actual >= expected * (1 - TOLERANCE):
        status = ON_TRACK
    else:
        status = BEHIND
    return Pace(target, actual, expected, status)
