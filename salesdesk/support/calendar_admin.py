"""The working calendar and the desk's settings, as administrators keep them: a year's
public holidays and make-up working days (调休), entered by hand from the State
Council's notice or loaded from the notices shipped with the app, and the working
hours, warning time, auto-close and reopen periods and five-star points. Audited."""

from dataclasses import dataclass
from datetime import date, time

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..database import write_transaction
from ..errors import Conflict, DomainError, Forbidden, NotFound
from ..extensions import db
from . import access, holidays
from .levels import desk_settings
from .models import CalendarDay, Settings

YEAR_RANGE = (2000, 2100)
MAX_DAY_NAME = 40
KINDS = {"holiday": _l("Public holiday"), "workday": _l("Make-up working day")}
SETTING_RANGES = {
    "warn_minutes": (0, 1440),
    "auto_close_days": (1, 30),
    "reopen_days": (0, 90),
    "five_star_points": (0, 100),
    "five_star_monthly_cap": (0, 10_000),
}
SETTING_FIELDS = ("day_start", "day_end", *SETTING_RANGES)

audit.register_actions(
    {
        "support.calendar_day_added": _l("Calendar day added"),
        "support.calendar_day_removed": _l("Calendar day removed"),
        "support.holidays_loaded": _l("Published holidays loaded"),
        "support.settings_changed": _l("Support desk settings changed"),
    }
)


def _authorised(actor):
    if not access.may_manage_types(actor):
        raise Forbidden(_("Only administrators keep the working calendar."))


def _check_year(year):
    low, high = YEAR_RANGE
    if not isinstance(year, int) or not low <= year <= high:
        raise DomainError(_("Choose a year from %(low)s to %(high)s.", low=low, high=high), field="year")


# ---- the calendar ---------------------------------------------------------------------


@dataclass(frozen=True)
class Year:
    """What the calendar page shows of a year."""

    year: int
    days: list  # CalendarDay, by date
    published: dict | None  # holidays.published(year), when the app ships that notice
    missing: int  # published days not entered yet (0: nothing to load)

    @property
    def holidays(self):
        return [day for day in self.days if day.kind == "holiday"]

    @property
    def workdays(self):
        return [day for day in self.days if day.kind == "workday"]


def year_of(year):
    _check_year(year)
    days = db.session.scalars(
        select(CalendarDay)
        .where(CalendarDay.day.between(date(year, 1, 1), date(year, 12, 31)))
        .order_by(CalendarDay.day)
    ).all()
    published = holidays.published(year) if year in holidays.published_years() else None
    entered = {day.day for day in days}
    missing = (
        sum(day not in entered for day, _name in published["holidays"] + published["workdays"])
        if published
        else 0
    )
    return Year(year, days, published, missing)


def add_day(actor, day, kind, name):
    """A holiday on a weekday (a day off) or a make-up working day on a weekend."""
    _authorised(actor)
    if not isinstance(day, date):
        raise DomainError(_("Enter a date."), field="day")
    _check_year(day.year)
    name = " ".join((name or "").split())
    if not name:
        raise DomainError(_("Name the day (元旦, 春节调休, …)."), field="name")
    if len(name) > MAX_DAY_NAME:
        raise DomainError(_("The name is too long (at most %(n)s characters).", n=MAX_DAY_NAME), field="name")
    if kind not in KINDS:
        raise DomainError(_("Choose a holiday or a make-up working day."), field="kind")
    weekend = day.weekday() >= 5
    if kind == "holiday" and weekend:
        raise DomainError(
            _(
                "%(day)s is a Saturday or Sunday, a day off already: enter holidays that fall on weekdays.",
                day=day.isoformat(),
            ),
            field="day",
        )
    if kind == "workday" and not weekend:
        raise DomainError(
            _(
                "%(day)s is a weekday, a working day already: make-up working days are Saturdays or Sundays.",
                day=day.isoformat(),
            ),
            field="day",
        )
    try:
        with write_transaction() as session:
            existing = session.get(CalendarDay, day)
            if existing is not None:
                raise DomainError(
                    _(
                        "%(day)s is already entered (%(name)s). Remove it first to change it.",
                        day=day.isoformat(),
                        name=existing.name,
                    ),
                    field="day",
                )
            session.add(CalendarDay(day=day, kind=kind, name=name))
            audit.record("support.calendar_day_added", actor=actor, day=day.isoformat(), kind=kind, name=name)
    except IntegrityError as error:
        raise Conflict(
            _("Someone entered this day at the same moment. Look at the calendar again.")
        ) from error


def remove_day(actor, day):
    _authorised(actor)
    with write_transaction() as session:
        existing = session.get(CalendarDay, day) if isinstance(day, date) else None
        if existing is None:
            raise NotFound(_("This day is not in the calendar."))
        audit.record(
            "support.calendar_day_removed",
            actor=actor,
            day=day.isoformat(),
            kind=existing.kind,
            name=existing.name,
        )
        session.delete(existing)


def load_published(actor, year):
    """Enter the published holidays and make-up days of `year` that are not entered
    yet; days already in the calendar stay as they are (an admin may have corrected
    them). Loading twice adds nothing the second time. Returns how many were added."""
    _authorised(actor)
    _check_year(year)
    if year not in holidays.published_years():
        raise DomainError(
            _(
                "The app has no published holidays for %(year)s: enter them from the State Council notice.",
                year=year,
            )
        )
    published = holidays.published(year)
    wanted = [(day, "holiday", name) for day, name in published["holidays"]] + [
        (day, "workday", name) for day, name in published["workdays"]
    ]
    try:
        with write_transaction() as session:
            entered = set(
                session.scalars(
                    select(CalendarDay.day).where(CalendarDay.day.in_([day for day, *_ in wanted]))
                )
            )
            added = [
                CalendarDay(day=day, kind=kind, name=name) for day, kind, name in wanted if day not in entered
            ]
            session.add_all(added)
            if added:
                audit.record(
                    "support.holidays_loaded",
                    actor=actor,
                    year=year,
                    added=len(added),
                    source=published["source"],
                )
    except IntegrityError as error:
        raise Conflict(_("Someone changed the calendar at the same moment. Look at it again.")) from error
    return len(added)


# ---- settings -------------------------------------------------------------------------


def _shown(value):
    return value.strftime("%H:%M") if isinstance(value, time) else value


def update_settings(actor, values):
    """Save the desk's settings (audited). They apply to what happens from now on; due
    times already set stay."""
    _authorised(actor)
    start, end = values.get("day_start"), values.get("day_end")
    if not isinstance(start, time) or start.tzinfo is not None:
        raise DomainError(_("Enter a time such as 09:00."), field="day_start")
    if not isinstance(end, time) or end.tzinfo is not None:
        raise DomainError(_("Enter a time such as 18:00."), field="day_end")
    start, end = start.replace(second=0, microsecond=0), end.replace(second=0, microsecond=0)
    if not start < end:
        raise DomainError(_("The working day must end after it starts."), field="day_end")
    clean = {"day_start": start, "day_end": end}
    for name, (low, high) in SETTING_RANGES.items():
        value = values.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise DomainError(
                _("Enter a whole number from %(low)s to %(high)s.", low=low, high=high), field=name
            )
        clean[name] = value
    try:
        with write_transaction() as session:
            row = session.get(Settings, 1)
            before = desk_settings() if row is None else row
            changes = {
                name: [_shown(getattr(before, name)), _shown(clean[name])]
                for name in SETTING_FIELDS
                if getattr(before, name) != clean[name]
            }
            if row is None:
                row = Settings(id=1)
                session.add(row)
            for name, value in clean.items():
                setattr(row, name, value)
            if changes:
                audit.record("support.settings_changed", actor=actor, changes=changes)
    except IntegrityError as error:
        # Two administrators saved the very first settings at the same moment.
        raise Conflict(
            _("Someone else saved the settings at the same moment. Check them and save again.")
        ) from error
    return row
