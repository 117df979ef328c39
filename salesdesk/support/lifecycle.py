"""A request's steps after filing: accept, assign, reply (or an internal note), return
for information, resolve, confirm with a rating, reopen, cancel, and closing by itself.

Each step is checked here (who, from which state), bumps the request's version in one
conditional UPDATE so that of two people acting at once exactly one wins (the other
gets a Conflict and looks again), is written on the request's timeline, and is
notified to the other side."""

from contextlib import contextmanager
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from .. import clock, signals
from ..auth.models import Role, User
from ..database import is_id, write_transaction
from ..errors import Conflict, DomainError, Forbidden
from ..notifications import link, notify, register_kinds
from . import access, attachments, levels
from .models import Event, EventKind, Request, Status
from .requests import get_request_for

MAX_MESSAGE = 20_000
MAX_RATING_COMMENT = 500

register_kinds(
    {
        "support.accepted": _l("%(actor)s is working on your request: %(title)s"),
        "support.assigned": _l("%(actor)s gave you a support request: %(title)s"),
        "support.reply": _l("%(actor)s replied to the request: %(title)s"),
        "support.returned": _l("%(actor)s needs more information for your request: %(title)s"),
        "support.resolved": _l("%(actor)s answered your request; please confirm and rate it: %(title)s"),
        "support.confirmed": _l("%(actor)s rated your work %(rating)s of 5: %(title)s"),
        "support.reopened": _l("%(actor)s reopened the request: %(title)s"),
        "support.cancelled": _l("%(actor)s cancelled the request: %(title)s"),
    }
)

# Steps that are refused because the request moved on, with what to tell the user.
WRONG_STATE = _l("This request is now “%(status)s”: this step no longer applies. Look at it again.")


def _refuse(request, allowed_states):
    """A Conflict when the request is in another state (someone acted first), else a
    Forbidden: this person may not take the step."""
    if request.status not in allowed_states:
        return Conflict(str(WRONG_STATE) % {"status": request.status_label})
    return Forbidden(_("You may not take this step on this request."))


def _claim_version(session, request):
    """Bump the version the request was read with; a Conflict when someone else
    changed it in between (on PostgreSQL the second UPDATE waits for the first to
    commit, then matches nothing)."""
    seen = request.version
    bumped = session.execute(
        update(Request).where(Request.id == request.id, Request.version == seen).values(version=seen + 1)
    ).rowcount
    if bumped != 1:
        raise Conflict(_("Someone else changed this request just now. Look at it again."))
    session.expire(request, ["version"])


def _may_reopen(user, request):
    reopen_days = levels.desk_settings().reopen_days
    if access.may_reopen(user, request, clock.now(), reopen_days):
        return True
    if request.requester_id == user.id and request.status == Status.CLOSED:
        # Not a vague "you may not": the requester needs to hear why, and what to do.
        message = _(
            "A closed request can be reopened for %(days)s days. File a new request instead.",
            days=reopen_days,
        )
        raise Conflict(message)
    return False


# Each step: the states it starts from, and who may take it.
STEPS = {
    "accept": ({Status.NEW}, access.may_accept),
    "assign": (Status.OPEN, access.may_assign),
    "reply": (Status.OPEN | {Status.RESOLVED}, access.may_reply),
    "note": (set(Status) - {Status.CANCELLED}, access.may_write_note),
    "return": ({Status.IN_PROGRESS}, access.may_return),
    "resolve": ({Status.IN_PROGRESS}, access.may_resolve),
    "confirm": ({Status.RESOLVED}, access.may_confirm),
    "reopen": ({Status.RESOLVED, Status.CLOSED}, _may_reopen),
    "cancel": (Status.OPEN, access.may_cancel),
}


def refuse(actor, request, step):
    """Raise what taking `step` on `request` now would be refused with: views ask before
    they read the step's form, so a forbidden or stale post is told so, not that a field
    is wrong."""
    states, may = STEPS[step]
    if not may(actor, request):
        raise _refuse(request, states)


def _tell(user_ids, kind, request, actor, **params):
    for user_id in sorted({user_id for user_id in user_ids if user_id and user_id != actor.id}):
        notify(
            user_id,
            kind,
            link=link("support.show", request_id=request.id),
            actor=actor.display_name,
            title=request.title,
            **params,
        )


def _message(text, field="body", required=True):
    text = (text or "").strip()
    if required and not text:
        raise DomainError(_("Write a message."), field=field)
    if len(text) > MAX_MESSAGE:
        raise DomainError(_("The message is too long (at most 20,000 characters)."), field=field)
    return text


@dataclass
class _Step:
    """One step's transaction: the request (checked, its version claimed), the moment,
    the queue's calendar and the desk's settings."""

    actor: User
    session: object
    request: Request
    now: object
    calendar: object
    settings: object

    def record(self, kind, *, body="", detail=""):
        event = Event(
            request_id=self.request.id,
            actor_id=self.actor.id,
            kind=kind,
            body=body,
            detail=detail,
            created_at=self.now,
        )
        self.session.add(event)
        self.session.flush()
        self.request.updated_at = self.now
        return event


@contextmanager
def _transition(actor, request_id, step):
    with write_transaction() as session:
        request = get_request_for(actor, request_id)
        refuse(actor, request, step)
        _claim_version(session, request)
        settings = levels.desk_settings()
        calendar = levels.calendar_for(request.team, settings)
        yield _Step(actor, session, request, clock.now(), calendar, settings)


def accept(actor, request_id):
    with _transition(actor, request_id, "accept") as step:
        request = step.request
        request.handler_id = actor.id
        request.status = Status.IN_PROGRESS
        levels.respond(request, step.now, step.calendar)
        step.record(EventKind.ACCEPTED)
        _tell([request.requester_id], "support.accepted", request, actor)
    return request


def assign(actor, request_id, handler_id):
    with _transition(actor, request_id, "assign") as step:
        request = step.request
        handler = step.session.get(User, handler_id) if is_id(handler_id) else None
        if (
            handler is None
            or not handler.active
            or handler.role != Role.SUPPORT
            or not access.serves_queue(handler, request.team_id)
        ):
            raise DomainError(_("Choose a support user of this request's queue."), field="handler_id")
        if handler.id == request.handler_id:
            message = _("%(name)s already handles this request.", name=handler.display_name)
            raise DomainError(message, field="handler_id")
        before = request.handler.display_name if request.handler else "—"
        request.handler_id = handler.id
        step.record(EventKind.ASSIGNED, detail=f"{before} → {handler.display_name}")
        _tell([handler.id], "support.assigned", request, actor)
    return request


def reply(actor, request_id, body, *, internal=False, uploads=()):
    """A reply the requester sees, or an internal note. A requester's reply to a request
    sent back for information puts it back in the handler's hands."""
    body = _message(body, required=not uploads)
    with _transition(actor, request_id, "note" if internal else "reply") as step:
        request = step.request
        attachments.check_room(step.session, request, len(uploads))
        event = step.record(EventKind.NOTE if internal else EventKind.REPLY, body=body)
        attachments.attach(step.session, request, event, uploads, actor)
        if internal:
            return request
        if request.status == Status.RETURNED and actor.id == request.requester_id:
            request.status = Status.IN_PROGRESS
            levels.resume(request, step.now, step.calendar, step.settings)
        if actor.id == request.requester_id:
            _tell([request.handler_id], "support.reply", request, actor)
        else:
            _tell([request.requester_id], "support.reply", request, actor)
    return request


def send_back(actor, request_id, body):
    """需补充: the handler needs more information; the clock pauses until the requester
    answers."""
    body = _message(body)
    with _transition(actor, request_id, "return") as step:
        request = step.request
        request.status = Status.RETURNED
        levels.pause(request, step.now, step.calendar)
        step.record(EventKind.RETURNED, body=body)
        _tell([request.requester_id], "support.returned", request, actor)
    return request


def resolve(actor, request_id, body):
    """The answer: the clock stops; the requester confirms and rates, or it closes by
    itself after the settings' working days."""
    body = _message(body)
    with _transition(actor, request_id, "resolve") as step:
        request = step.request
        request.status = Status.RESOLVED
        request.resolved_at = step.now
        levels.resolve(request, step.now, step.calendar)
        request.auto_close_at = levels.auto_close_at(step.now, step.calendar, step.settings)
        step.record(EventKind.RESOLVED, body=body)
        _tell([request.requester_id], "support.resolved", request, actor)
    return request


def confirm(actor, request_id, rating, comment=""):
    if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
        raise DomainError(_("Give 1 to 5 stars."), field="rating")
    comment = (comment or "").strip()
    if len(comment) > MAX_RATING_COMMENT:
        raise DomainError(_("The comment is too long (at most 500 characters)."), field="comment")
    with _transition(actor, request_id, "confirm") as step:
        request = step.request
        request.status = Status.CLOSED
        request.closed_at = step.now
        request.auto_close_at = None
        request.rating, request.rating_comment = rating, comment
        step.record(EventKind.CONFIRMED, body=comment, detail=str(rating))
        _tell([request.handler_id], "support.confirmed", request, actor, rating=rating)
        if rating == 5 and request.handler_id:
            signals.support_rated.send(request, rating=rating, settings=step.settings)
    return request


def reopen(actor, request_id, body=""):
    body = _message(body, required=False)
    with _transition(actor, request_id, "reopen") as step:
        request = step.request
        request.status = Status.IN_PROGRESS
        request.closed_at = request.auto_close_at = None
        request.resolution_minutes = request.resolution_met = None
        levels.resume(request, step.now, step.calendar, step.settings)
        step.record(EventKind.REOPENED, body=body)
        _tell([request.handler_id], "support.reopened", request, actor)
    return request


def cancel(actor, request_id, body=""):
    body = _message(body, required=False)
    with _transition(actor, request_id, "cancel") as step:
        request = step.request
        request.status = Status.CANCELLED
        request.closed_at = step.now
        levels.pause(request, step.now, step.calendar)
        step.record(EventKind.CANCELLED, body=body)
        _tell([request.handler_id], "support.cancelled", request, actor)
    return request


def close_unrated(now=None):
    """Resolved requests nobody confirmed in time close by themselves, without a
    rating. Idempotent: each is closed by one conditional UPDATE."""
    now = now or clock.now()
    closed = 0
    with write_transaction() as session:
        due = session.scalars(
            select(Request.id).where(Request.status == Status.RESOLVED, Request.auto_close_at <= now)
        ).all()
        for request_id in due:
            done = session.execute(
                update(Request)
                .where(Request.id == request_id, Request.status == Status.RESOLVED)
                .values(status=Status.CLOSED, closed_at=now, auto_close_at=None, version=Request.version + 1)
            ).rowcount
            if done:
                session.add(Event(request_id=request_id, kind=EventKind.CLOSED, created_at=now))
                closed += 1
    return closed
