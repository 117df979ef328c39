"""The desk's minute job: warn the handler and the queue's leads before a due time,
record a breach when it passes, and close resolved requests nobody rated in time.

Every warning and breach is flipped by a conditional UPDATE that repeats the whole
condition, so when two processes (or a re-run) find the same request, exactly one
flips it and only that one writes the event and the notifications, in the same
transaction."""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, select, update

from .. import clock, signals
from ..database import write_transaction
from ..extensions import db
from ..jobs import periodic
from ..notifications import link, notify, register_kinds
from . import lifecycle
from .models import Event, EventKind, Request, Status
from .requests import leads_of

register_kinds(
    {
        "support.warned_response": _l("The first response is due soon: %(title)s"),
        "support.warned_resolution": _l("The resolution is due soon: %(title)s"),
        "support.breached_response": _l("The first response is overdue: %(title)s"),
        "support.breached_resolution": _l("The resolution is overdue: %(title)s"),
    }
)

# An event's detail names the clock ("response" or "resolution"); timelines show these.
CLOCK_LABELS = {"response": _l("first response"), "resolution": _l("resolution")}


@dataclass(frozen=True)
class _Check:
    """One flag to flip: the requests it applies to and the values that flip it."""

    kind: str  # the event's kind
    clock: str  # "response" or "resolution"
    condition: ColumnElement
    values: dict


def _checks(now):
    # The response clock runs while nobody accepted (status new); the resolution
    # clock while clock_started_at is set (new and in progress, not paused).
    response = Request.status == Status.NEW
    resolution = Request.clock_started_at.is_not(None)
    # Breaches first: a request found past its due time (the job did not run for a
    # while) gets the breach, not a late warning as well.
    return [
        _Check(
            EventKind.BREACHED,
            "response",
            response & Request.response_breached_at.is_(None) & (Request.response_due_at <= now),
            # Warned too: no late warning follows a breach.
            {"response_breached_at": now, "response_warned": True},
        ),
        _Check(
            EventKind.BREACHED,
            "resolution",
            resolution & Request.resolution_breached_at.is_(None) & (Request.resolution_due_at <= now),
            {"resolution_breached_at": now, "resolution_warned": True},
        ),
        _Check(
            EventKind.WARNED,
            "response",
            response & Request.response_warned.is_(False) & (Request.response_warn_at <= now),
            {"response_warned": True},
        ),
        _Check(
            EventKind.WARNED,
            "resolution",
            resolution & Request.resolution_warned.is_(False) & (Request.resolution_warn_at <= now),
            {"resolution_warned": True},
        ),
    ]


def _candidates(check, now):
    """The requests a check may flip. Only requests whose clock runs (status new or in
    progress: the status index); a breach also needs a due time passed, and the next due
    time is the earliest of them (the status and next-due index)."""
    query = select(Request.id).where(Request.status.in_(sorted(Status.CLOCK_RUNS)), check.condition)
    if check.kind == EventKind.BREACHED:
        query = query.where(Request.next_due_at <= now)
    return db.session.scalars(query.order_by(Request.id)).all()


def _flip(check, request_id, now):
    """Flip one request's flag; the event and notifications only when this call flipped it."""
    with write_transaction() as session:
        flipped = session.execute(
            update(Request)
            .where(Request.id == request_id, check.condition)
            .values(**check.values)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not flipped:
            return False
        request = session.get(Request, request_id, populate_existing=True)
        session.add(Event(request_id=request.id, kind=check.kind, detail=check.clock, created_at=now))
        recipients = {lead.id for lead in session.scalars(leads_of(request.team_id))}
        for user_id in sorted((recipients | {request.handler_id}) - {None}):
            notify(
                user_id,
                f"support.{check.kind}_{check.clock}",
                link=link("support.show", request_id=request.id),
                title=request.title,
            )
        if check.kind == EventKind.BREACHED:
            signals.support_breached.send(request, clock=check.clock)
    return True


def check_levels(now=None):
    """Warnings and breaches due at `now`; returns how many flags this call flipped."""
    now = now or clock.now()
    flipped = 0
    for check in _checks(now):
        request_ids = _candidates(check, now)
        flipped += sum(_flip(check, request_id, now) for request_id in request_ids)
    return flipped


@periodic("support-levels")
def run_support_levels():
    """The periodic job (every minute): warnings, breaches, then requests that close
    by themselves."""
    now = clock.now()
    return check_levels(now), lifecycle.close_unrated(now)
