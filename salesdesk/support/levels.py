"""Service levels: the desk's settings, the working calendar a request is timed in, and
the clock each request carries (due and warning instants, pauses, what was met).

A request has two clocks, both in working minutes from when it was filed: the first
response (stopped by accepting it) and the resolution (paused while it waits for the
requester, stopped when it is resolved, resumed when it is reopened)."""

from sqlalchemy import select

from ..auth.models import DEFAULT_TIMEZONE
from ..extensions import db
from .calendar import WorkCalendar, add_working_minutes, working_minutes_between
from .models import CalendarDay, Settings, Status

SETTING_DEFAULTS = {
    column.name: column.default.arg for column in Settings.__table__.columns if column.default is not None
}


def desk_settings():
    """The saved settings, or the defaults before an admin saved any."""
    return db.session.get(Settings, 1) or Settings(id=1, **SETTING_DEFAULTS)


def timezone_of(team):
    return team.timezone if team is not None else DEFAULT_TIMEZONE


def calendar_for(team, settings=None):
    """The working calendar of a queue: its team's time zone (the company's default for
    the company-wide queue), the desk's hours and the holidays an admin entered."""
    settings = settings or desk_settings()
    days = db.session.execute(select(CalendarDay.day, CalendarDay.kind)).all()
    return WorkCalendar(
        timezone=timezone_of(team),
        day_start=settings.day_start,
        day_end=settings.day_end,
        holidays=frozenset(day for day, kind in days if kind == "holiday"),
        workdays=frozenset(day for day, kind in days if kind == "workday"),
    )


def _due(calendar, start, minutes, warn_minutes):
    """(due, warn) instants `minutes` working minutes after `start`; the warning comes
    `warn_minutes` earlier, never before `start`."""
    minutes = max(minutes, 0)
    return (
        add_working_minutes(calendar, start, minutes),
        add_working_minutes(calendar, start, max(minutes - warn_minutes, 0)),
    )


def _set_next_due(request):
    pending = [request.resolution_due_at]
    # Waiting for the first response, unless cancelled before anyone accepted it.
    if request.accepted_at is None and request.status != Status.CANCELLED:
        pending.append(request.response_due_at)
    pending = [moment for moment in pending if moment is not None]
    request.next_due_at = min(pending) if pending else None


def start(request, now, calendar, settings):
    """A new request: both clocks start at `now`."""
    response, resolution = request.type.levels(request.priority)
    request.response_due_at, request.response_warn_at = _due(calendar, now, response, settings.warn_minutes)
    request.elapsed_minutes = 0
    request.clock_started_at = now
    request.resolution_due_at, request.resolution_warn_at = _due(
        calendar, now, resolution, settings.warn_minutes
    )
    _set_next_due(request)


def respond(request, now, calendar):
    """The first response (accepting the request): record how long it took and whether
    it was in time."""
    request.accepted_at = now
    request.response_minutes = working_minutes_between(calendar, request.created_at, now)
    request.response_met = now <= request.response_due_at
    _set_next_due(request)


def worked_minutes(request, now, calendar):
    """Working minutes on the resolution clock so far."""
    running = request.clock_started_at
    return request.elapsed_minutes + (working_minutes_between(calendar, running, now) if running else 0)


def pause(request, now, calendar):
    """Waiting for the requester (returned) or for their confirmation (resolved)."""
    request.elapsed_minutes = worked_minutes(request, now, calendar)
    request.clock_started_at = None
    request.resolution_due_at = request.resolution_warn_at = None
    _set_next_due(request)


def resolve(request, now, calendar):
    pause(request, now, calendar)
    _, resolution = request.type.levels(request.priority)
    request.resolution_minutes = request.elapsed_minutes
    request.resolution_met = request.elapsed_minutes <= resolution and request.resolution_breached_at is None


def resume(request, now, calendar, settings):
    """Back in the handler's hands: the resolution clock runs on from where it stopped."""
    _, resolution = request.type.levels(request.priority)
    request.clock_started_at = now
    request.resolution_due_at, request.resolution_warn_at = _due(
        calendar, now, resolution - request.elapsed_minutes, settings.warn_minutes
    )
    request.resolution_warned = request.resolution_warned and request.resolution_breached_at is not None
    _set_next_due(request)


def auto_close_at(resolved_at, calendar, settings):
    return add_working_minutes(calendar, resolved_at, settings.auto_close_days * calendar.minutes_per_day)


def remaining_minutes(request, now, calendar):
    """Working minutes left before the next due time (negative: overdue), or None when
    no clock runs."""
    if request.next_due_at is None:
        return None
    if now >= request.next_due_at:
        return -working_minutes_between(calendar, request.next_due_at, now)
    return working_minutes_between(calendar, now, request.next_due_at)
