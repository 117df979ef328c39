"""协作之星 badges: when a month has ended, the company's top three (ties included) get
a badge, exactly once per month, by the app's periodic job or the close-month command."""

from datetime import date
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from .. import clock, signals
from ..auth.models import User
from ..database import write_transaction
from ..errors import DomainError
from ..extensions import db
from ..jobs import periodic
from ..notifications import link, notify, register_kinds
from .leaderboard import standings
from .models import MonthClosing, PointEntry, StarBadge
from .periods import Period, add_months, company_zone_name, month_bounds, month_label, month_start, this_month

BADGE_MESSAGE = _l("You are a Collaboration Star of %(month)s (rank %(rank)s)")


def badge_message(params):
    """The notification names the month as people do (2026年11月), not as it is stored (2026-11)."""
    month = date.fromisoformat(f"{params['month']}-01")
    return str(BADGE_MESSAGE) % {**params, "month": month_label(month)}


register_kinds({"badge.awarded": badge_message})


def close_month(month=None, *, now=None):
    """Award the month's 协作之星 badges: the company's top three, ties included.

    Exactly once per month: the month_closings primary key refuses a second closing,
    also from another process at the same moment. Returns (closing, badges, closed_now);
    closed_now is False (and badges empty) when the month was closed already.
    """
    now = now or clock.now()
    zone = ZoneInfo(company_zone_name())
    month = month_start(month) if month else add_months(this_month(now, zone), -1)
    start, end = month_bounds(month, zone)
    if end > now:
        raise DomainError(_("%(month)s has not ended yet.", month=f"{month:%Y-%m}"))
    try:
        with write_transaction() as session:
            closing = session.get(MonthClosing, month)
            if closing is not None:
                return closing, [], False
            winners = [s for s in standings(Period("month", start, end), session=session) if s.rank <= 3]
            closing = MonthClosing(month=month, closed_at=now, badge_count=len(winners))
            session.add(closing)
            session.flush()
            badges = [
                StarBadge(user_id=s.user_id, month=month, rank=s.rank, points=s.points, awarded_at=now)
                for s in winners
            ]
            session.add_all(badges)
            session.flush()
            for badge in badges:
                notify(
                    badge.user_id,
                    "badge.awarded",
                    link=link("recognition.person", user_id=badge.user_id),
                    dedupe_key=f"badge:{month:%Y-%m}:{badge.user_id}",
                    month=f"{month:%Y-%m}",
                    rank=badge.rank,
                )
            if badges:
                winners = [(session.get(User, badge.user_id), badge.rank, badge.points) for badge in badges]
                signals.stars_awarded.send(month, winners=winners)
    except IntegrityError:
        # Another process closed the month at the same moment.
        db.session.rollback()
        return db.session.get(MonthClosing, month), [], False
    return closing, badges, True


def due_months(now=None):
    """Ended months (at most a year back, from the first entry on) not closed yet."""
    now = now or clock.now()
    zone = ZoneInfo(company_zone_name())
    first = db.session.scalar(select(func.min(PointEntry.counted_at)))
    if first is None:
        return []
    current = this_month(now, zone)
    month = max(this_month(first, zone), add_months(current, -12))
    closed = set(db.session.scalars(select(MonthClosing.month).where(MonthClosing.month >= month)))
    due = []
    while month < current:
        if month not in closed:
            due.append(month)
        month = add_months(month, 1)
    return due


def close_due_months(now=None):
    now = now or clock.now()
    return [close_month(month, now=now) for month in due_months(now)]


@periodic("close-months")
def close_ended_months():
    """The app checks for ended months by itself (see jobs.py), cron may too."""
    return close_due_months()
