"""Support metrics for leads, managers and admins: per handler and per request type, for
a week or a month: requests received, first-response and resolution times (p50/p90
in working hours), service-level attainment, satisfaction, and the open backlog by age.

Which requests count (one rule, `_scope_clause`): an admin picks the whole desk, one
team or the company-wide queue; a manager sees their team's (its queue, and what its
people filed, the requests a manager may open); a support lead the queues they lead
(their team's and the company-wide one, as access.leads_queue says). Each figure
belongs to the period of its own moment: received by created_at, response by
accepted_at, resolution by resolved_at, satisfaction by closed_at. The backlog is the
open requests now, whatever the period.

A month holds a few thousand requests: the period's rows come back in one statement
(flags and minutes, compared in SQL) and the percentiles are taken in Python; the
backlog is counted in SQL."""

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import and_, case, false, func, or_, select

from .. import clock
from ..auth.models import Role, Team, User
from ..database import is_id
from ..extensions import db
from . import access, levels
from .calendar import add_working_minutes
from .models import Request, RequestType, Status

PERIODS = ("month", "week")
COMPANY = "company"  # the company-wide queue (types without a handler team)
# Boundaries of the backlog's age buckets, in working days: <1, 1–3, 3–5, 5 and more.
AGE_LIMITS = (1, 3, 5)
STARS = (1, 2, 3, 4, 5)
# Dates outside these years are typing mistakes, not periods anyone measured.
FIRST_YEAR, LAST_YEAR = 2000, 2100


def percentile(values, fraction):
    """Linear interpolation between the nearest ranks, as Excel's PERCENTILE.INC (and
    numpy's default), so a figure can be checked against the export. None for none."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def period_start(kind, day):
    """The first day of the week (Monday) or month that holds `day`."""
    return day - timedelta(days=day.weekday()) if kind == "week" else day.replace(day=1)


def period_end(kind, start):
    """The first day after the period that starts on `start`."""
    if kind == "week":
        return start + timedelta(days=7)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


@dataclass(frozen=True)
class MetricsFilters:
    """What the metrics page shows, read leniently from the URL: an unknown value is
    the default, so a bookmarked or hand-edited address never errors."""

    start: date  # the period's first day, in the viewer's time zone
    period: str = "month"
    # Admins: "" (the whole desk), COMPANY or a team id as text; others: their own scope.
    team: str = ""
    handler_id: int | None = None
    type_id: int | None = None

    @classmethod
    def from_args(cls, args, user):
        period = args.get("period", "")
        period = period if period in PERIODS else "month"
        today = clock.today(user.timezone)
        day = _date(args.get("on", "")) or today
        team = args.get("team", "").strip()
        if user.role != Role.ADMIN or not (team == COMPANY or (team.isdecimal() and _team(int(team)))):
            team = ""
        return cls(
            start=period_start(period, day),
            period=period,
            team=team,
            handler_id=_id(args.get("handler", "")),
            type_id=_id(args.get("type", "")),
        )

    @property
    def end(self):
        return period_end(self.period, self.start)

    @property
    def last_day(self):
        return self.end - timedelta(days=1)

    @property
    def previous(self):
        return period_start(self.period, self.start - timedelta(days=1))

    @property
    def following(self):
        return self.end

    @property
    def team_id(self):
        return int(self.team) if self.team.isdecimal() else None

    def label(self):
        """The period as people name it: 2026-11, or 2026-W48 (ISO week)."""
        if self.period == "week":
            year, week, _weekday = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.start:%Y-%m}"

    def args(self, **changes):
        """Query-string arguments for a link to these metrics with some changes."""
        values = {
            "period": self.period,
            "on": self.start.isoformat(),
            "team": self.team,
            "handler": self.handler_id,
            "type": self.type_id,
        } | changes
        return {key: value for key, value in values.items() if value not in ("", None)}


def _date(text):
    try:
        day = date.fromisoformat(text.strip()[:10])
    except ValueError:
        return None
    return day if FIRST_YEAR <= day.year <= LAST_YEAR else None


def _id(text):
    value = int(text) if text.strip().isdecimal() and len(text.strip()) <= 10 else None
    return value if is_id(value) else None


def _team(team_id):
    return db.session.get(Team, team_id) if is_id(team_id) else None


def _team_clause(team_id):
    """A team's requests: those in its queue and those its people filed."""
    people = select(User.id).where(User.team_id == team_id).scalar_subquery()
    return or_(Request.team_id == team_id, Request.requester_id.in_(people))


def _scope_clause(user, filters):
    if user.role == Role.ADMIN:
        if filters.team == COMPANY:
            return Request.team_id.is_(None)
        if filters.team_id:
            return _team_clause(filters.team_id)
        return Request.id.is_not(None)
    if user.role == Role.MANAGER:
        return _team_clause(user.team_id) if user.team_id else false()
    if access.is_support(user) and user.support_lead:
        # The queues a lead leads (access.leads_queue): their team's and the company-wide one.
        company = Request.team_id.is_(None)
        return or_(Request.team_id == user.team_id, company) if user.team_id else company
    return false()


def scope_name(user, filters):
    """What the figures cover, in words."""
    if user.role == Role.ADMIN:
        if filters.team == COMPANY:
            return _("The company-wide queue")
        team = _team(filters.team_id)
        return team.name if team else _("The whole desk")
    team = _team(user.team_id)
    if team is None:
        return _("The company-wide queue")
    if access.is_support(user):
        return _("%(team)s and the company-wide queue", team=team.name)
    return team.name


@dataclass
class Figures:
    """One row of the tables: a handler, a type, or everything."""

    key: int | None
    name: str
    received: int = 0
    response_minutes: list = field(default_factory=list)
    response_met: int = 0
    resolution_minutes: list = field(default_factory=list)
    resolution_met: int = 0
    stars: list = field(default_factory=lambda: [0] * len(STARS))  # counts of 1..5
    backlog: list = field(default_factory=lambda: [0] * (len(AGE_LIMITS) + 1))
    position: tuple = (0, 0)  # where a type's row goes: the admin's order

    def _hours(self, values, fraction):
        minutes = percentile(values, fraction)
        return None if minutes is None else minutes / 60

    @property
    def response_p50(self):
        return self._hours(self.response_minutes, 0.5)

    @property
    def response_p90(self):
        return self._hours(self.response_minutes, 0.9)

    @property
    def resolution_p50(self):
        return self._hours(self.resolution_minutes, 0.5)

    @property
    def resolution_p90(self):
        return self._hours(self.resolution_minutes, 0.9)

    @property
    def responded(self):
        return len(self.response_minutes)

    @property
    def resolved(self):
        return len(self.resolution_minutes)

    @property
    def response_attainment(self):
        """Percent of first responses within the service level (None: none made)."""
        return 100 * self.response_met / self.responded if self.responded else None

    @property
    def resolution_attainment(self):
        return 100 * self.resolution_met / self.resolved if self.resolved else None

    @property
    def rated(self):
        return sum(self.stars)

    @property
    def rating_average(self):
        if not self.rated:
            return None
        return sum(star * count for star, count in zip(STARS, self.stars, strict=True)) / self.rated

    @property
    def open_now(self):
        return sum(self.backlog)

    def merge(self, other):
        self.received += other.received
        self.response_minutes += other.response_minutes
        self.response_met += other.response_met
        self.resolution_minutes += other.resolution_minutes
        self.resolution_met += other.resolution_met
        self.stars = [mine + theirs for mine, theirs in zip(self.stars, other.stars, strict=True)]
        self.backlog = [mine + theirs for mine, theirs in zip(self.backlog, other.backlog, strict=True)]
        return self

    @property
    def empty(self):
        return not (self.received or self.responded or self.resolved or self.rated or self.open_now)


@dataclass
class Report:
    filters: MetricsFilters
    scope: str
    timezone: str
    now: datetime
    total: Figures
    by_handler: list
    by_type: list


def report(user, filters, now=None):
    """The figures `user` may see for `filters` (the view checked may_see_metrics)."""
    now = now or clock.now()
    zone = ZoneInfo(user.timezone)
    start = datetime.combine(filters.start, time(), tzinfo=zone)
    end = datetime.combine(filters.end, time(), tzinfo=zone)
    where = [_scope_clause(user, filters)]
    if filters.handler_id:
        where.append(Request.handler_id == filters.handler_id)
    if filters.type_id:
        where.append(Request.type_id == filters.type_id)
    # One Figures per (handler, type), merged into the rows at the end: the loops stay short.
    cells = {}

    def cell(handler_id, type_id):
        found = cells.get((handler_id, type_id))
        if found is None:
            found = cells[handler_id, type_id] = Figures(None, "")
        return found

    _count_period(where, start, end, cell)
    _count_backlog(where, now, cell)
    total, handlers, types = Figures(None, _("All requests")), {}, {}
    for (handler_id, type_id), figures in cells.items():
        total.merge(figures)
        handlers.setdefault(handler_id, Figures(handler_id, "")).merge(figures)
        types.setdefault(type_id, Figures(type_id, "")).merge(figures)
    _name(handlers, types)
    return Report(
        filters=filters,
        scope=scope_name(user, filters),
        timezone=user.timezone,
        now=now,
        total=total,
        by_handler=sorted(
            (row for row in handlers.values() if not row.empty),
            key=lambda row: (row.key is None, row.name, row.key or 0),
        ),
        by_type=sorted((row for row in types.values() if not row.empty), key=lambda row: row.position),
    )


# The moment each count goes by: a request counts in a period only for what happened
# to it then.
RECEIVED_AT, RESPONDED_AT, RESOLVED_AT, RATED_AT = (
    Request.created_at,
    Request.accepted_at,
    Request.resolved_at,
    Request.closed_at,
)


def _moments(start, end):
    """(received, responded, resolved, rated): what falls in [start, end)."""

    def within(moment):
        return and_(moment >= start, moment < end)

    return within(RECEIVED_AT), within(RESPONDED_AT), within(RESOLVED_AT), within(RATED_AT)


def _count_period(where, start, end, cell):
    """What happened in [start, end): each moment is compared in SQL, so only small
    integers come back (no datetimes to convert). No index covers the four moments: a
    table scan, one."""
    received, responded, resolved, rated = _moments(start, end)
    rows = db.session.execute(
        select(
            Request.handler_id,
            Request.type_id,
            case((received, 1), else_=0),
            case((responded, Request.response_minutes)),
            case((responded, Request.response_met)),
            case((resolved, Request.resolution_minutes)),
            case((resolved, Request.resolution_met)),
            case((rated, Request.rating)),
        ).where(*where, or_(received, responded, resolved, rated))
    )
    for handler_id, type_id, new, response, response_met, resolution, resolution_met, rating in rows:
        figures = cell(handler_id, type_id)
        figures.received += new
        if response is not None:
            figures.response_minutes.append(response)
            figures.response_met += bool(response_met)
        if resolution is not None:
            figures.resolution_minutes.append(resolution)
            figures.resolution_met += bool(resolution_met)
        if rating in STARS:
            figures.stars[rating - 1] += 1


@dataclass
class HandlerCounts:
    responded: int = 0
    response_met: int = 0
    resolved: int = 0
    resolution_met: int = 0
    rated: int = 0
    stars_total: int = 0


def handler_counts(handler_ids, spans):
    """{handler_id: [HandlerCounts of each (start, end) span]}, counted as the report
    counts them (each request by its own moments), grouped in SQL: for tables that
    need the counts and not the medians (the performance board asks for a period and
    the previous one). Each moment is read from its own index (handler, moment, …), a
    range of the spans: testing every request of the handlers against all three
    moments of both periods took twice as long (the company's quarter on SQLite,
    32 -> 17 ms)."""
    # (the moment, what else a request must be, the two figures and their fields)
    readings = (
        (
            RESPONDED_AT,
            (),
            func.count().filter(Request.response_met.is_(True)),
            "responded",
            "response_met",
        ),
        (
            RESOLVED_AT,
            (),
            func.count().filter(Request.resolution_met.is_(True)),
            "resolved",
            "resolution_met",
        ),
        (RATED_AT, (Request.rating.in_(STARS),), func.sum(Request.rating), "rated", "stars_total"),
    )
    result = {}
    for moment, also, figure, how_many, of_which in readings:
        which = case(
            *((and_(moment >= start, moment < end), index) for index, (start, end) in enumerate(spans))
        )
        query = (
            select(Request.handler_id, which, func.count(), figure)
            .where(
                Request.handler_id.in_(handler_ids),
                moment >= min(start for start, _end in spans),
                moment < max(end for _start, end in spans),
                *also,
            )
            .group_by(Request.handler_id, which)
        )
        for handler_id, index, total, part in db.session.execute(query):
            if index is None:  # between two spans that do not touch
                continue
            counts = result.setdefault(handler_id, [HandlerCounts() for _span in spans])[index]
            setattr(counts, how_many, total)
            setattr(counts, of_which, part or 0)
    return result


def _count_backlog(where, now, cell):
    """Open requests by working days since they were filed, in their queue's calendar
    (its team's time zone): the bucket is a CASE over the filing instants that make a
    request 1, 3 and 5 working days old, computed once per time zone."""
    settings = levels.desk_settings()
    zones = {}  # time zone -> (a team in it or None, [team ids])
    for team in db.session.scalars(select(Team)):
        zones.setdefault(team.timezone, (team, []))[1].append(team.id)
    zones.setdefault(levels.timezone_of(None), (None, []))
    whens = []
    for timezone, (team, team_ids) in zones.items():
        in_zone = Request.team_id.in_(team_ids)
        if timezone == levels.timezone_of(None):
            in_zone = or_(in_zone, Request.team_id.is_(None))
        calendar = levels.calendar_for(team, settings)
        limits = [_filed_by(calendar, now, days) for days in AGE_LIMITS]
        # Oldest first: the first matching WHEN wins.
        for bucket in range(len(limits), 0, -1):
            condition = Request.created_at <= limits[bucket - 1]
            whens.append((and_(in_zone, condition) if len(zones) > 1 else condition, bucket))
    bucket = case(*whens, else_=0)
    counted = db.session.execute(
        select(Request.handler_id, Request.type_id, bucket, func.count())
        .where(*where, Request.status.in_(sorted(Status.OPEN)))
        .group_by(Request.handler_id, Request.type_id, bucket)
    )
    for handler_id, type_id, age, count in counted:
        cell(handler_id, type_id).backlog[age] += count


def _filed_by(calendar, now, days):
    """The latest instant a request may have been filed to be at least `days` working
    days old at `now` (add_working_minutes is monotonic: a binary search to the
    microsecond, about 45 steps)."""
    minutes = days * calendar.minutes_per_day

    def old_enough(filed):
        return add_working_minutes(calendar, filed, minutes) <= now

    span = timedelta(days=days * 2 + 14)
    low = now - span
    while not old_enough(low):  # long holidays: look further back
        span *= 2
        low = now - span
    high = now
    while high - low > timedelta(microseconds=1):
        middle = low + (high - low) / 2
        if old_enough(middle):
            low = middle
        else:
            high = middle
    return low


def _name(handlers, types):
    ids = [key for key in handlers if key is not None]
    names = dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())
    for key, row in handlers.items():
        row.name = names.get(key, "") if key is not None else _("Not assigned yet")
    known = {
        request_type.id: request_type
        for request_type in db.session.scalars(select(RequestType).where(RequestType.id.in_(list(types))))
    }
    for key, row in types.items():
        request_type = known.get(key)
        row.name = request_type.name if request_type else ""
        row.position = (request_type.position, key) if request_type else (0, key)


# ---- the export -----------------------------------------------------------------------


def export_headers():
    return [
        _("Grouped by"),
        _("Name"),
        _("Received"),
        _("First responses"),
        _("First response p50 (working hours)"),
        _("First response p90 (working hours)"),
        _("First response on time (%)"),
        _("Resolved"),
        _("Resolution p50 (working hours)"),
        _("Resolution p90 (working hours)"),
        _("Resolution on time (%)"),
        _("Rated"),
        _("Average rating"),
        *(_("%(n)s stars", n=star) for star in STARS),
        *age_labels(),
    ]


def age_labels(short=False):
    if short:
        return [_("<1 day"), _("1–3 days"), _("3–5 days"), _("5+ days")]
    return [
        _("Open under 1 working day"),
        _("Open 1–3 working days"),
        _("Open 3–5 working days"),
        _("Open 5 working days or more"),
    ]


def _number(value, places=1):
    """A figure as a number cell (Decimal: the XLSX writer keeps it numeric); "" for none."""
    if value is None:
        return ""
    return Decimal(value).quantize(Decimal(1).scaleb(-places)) if places else Decimal(value)


def export_rows(report):
    """The report as the rows of one sheet: the total, then each handler and each type."""
    groups = [(_("Total"), [report.total]), (_("Handler"), report.by_handler), (_("Type"), report.by_type)]
    for group, rows in groups:
        for row in rows:
            yield [
                group,
                row.name,
                _number(row.received, 0),
                _number(row.responded, 0),
                _number(row.response_p50),
                _number(row.response_p90),
                _number(row.response_attainment),
                _number(row.resolved, 0),
                _number(row.resolution_p50),
                _number(row.resolution_p90),
                _number(row.resolution_attainment),
                _number(row.rated, 0),
                _number(row.rating_average, 2),
                *(_number(count, 0) for count in row.stars),
                *(_number(count, 0) for count in row.backlog),
            ]
