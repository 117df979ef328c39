"""Filing a request: checked, routed to a handler of its queue, timed, and announced;
and loading one for a viewer."""

from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from .. import clock, signals
from ..auth.models import User
from ..database import is_id, write_transaction
from ..errors import DomainError, Forbidden, NotFound
from ..extensions import db
from ..ledger import access as ledger_access
from ..notifications import link, notify, register_kinds
from . import access, attachments, levels
from .models import Event, EventKind, Priority, Request, RequestType, Routing, Status

MAX_TITLE = 120
MAX_DETAILS = 20_000

register_kinds(
    {
        "support.filed": _l("%(requester)s asked for support: %(title)s"),
        "support.filed_urgent": _l("Urgent: %(requester)s asked for support: %(title)s"),
    }
)


@dataclass
class Draft:
    """What the new-request form sends, before it is checked."""

    type_id: int | None = None
    customer_id: int | None = None
    title: str = ""
    details: str = ""
    needed_by: date | None = None
    priority: str = Priority.NORMAL
    uploads: list = field(default_factory=list)  # files.Upload, already read and checked


def active_types():
    return db.session.scalars(
        select(RequestType)
        .where(RequestType.retired.is_(False))
        .order_by(RequestType.position, RequestType.id)
    ).all()


def template_of(request_type):
    """The details a new request of this type starts with: its prompts, one per line."""
    return request_type.prompts.strip() + "\n" if request_type and request_type.prompts.strip() else ""


def linkable_customer(user, customer_id):
    """The customer a request may be about: one whose details the requester may see."""
    return ledger_access.get_customer_for(user, customer_id, "details")


def _checked(user, draft, today):
    errors = []
    request_type = db.session.get(RequestType, draft.type_id) if is_id(draft.type_id) else None
    if request_type is None or request_type.retired:
        errors.append(DomainError(_("Choose a type of request from the list."), field="type_id"))
    title = (draft.title or "").strip()
    if not title:
        errors.append(DomainError(_("Say in one line what you need."), field="title"))
    elif len(title) > MAX_TITLE:
        errors.append(DomainError(_("The title is too long (at most 120 characters)."), field="title"))
    details = (draft.details or "").strip()
    if len(details) > MAX_DETAILS:
        message = _("The details are too long (at most 20,000 characters).")
        errors.append(DomainError(message, field="details"))
    if draft.needed_by is not None and draft.needed_by < today:
        message = _("The needed-by date has passed. Choose today or later.")
        errors.append(DomainError(message, field="needed_by"))
    if draft.priority not in tuple(Priority):
        errors.append(DomainError(_("Choose a priority from the list."), field="priority"))
    if len(draft.uploads) > attachments.MAX_FILES_PER_REQUEST:
        errors.append(
            DomainError(
                _("Attach at most %(count)s files to a request.", count=attachments.MAX_FILES_PER_REQUEST),
                field="files",
            )
        )
    if errors:
        raise errors[0]
    customer = None
    if draft.customer_id is not None:
        refused = DomainError(
            _("You can only link a customer whose details you may see."), field="customer_id"
        )
        if not is_id(draft.customer_id):
            raise refused  # PostgreSQL refuses an id beyond its integers instead of finding nothing
        try:
            customer = linkable_customer(user, draft.customer_id)
        except (NotFound, Forbidden) as error:
            raise refused from error
    return request_type, title, details, customer


def _route(session, request_type):
    """The handler a new request goes to, by the type's routing; None: the lead (or
    whoever accepts first) picks."""
    if request_type.routing == Routing.LEAD:
        return None
    handlers = session.scalars(access.handlers_for(request_type.team_id)).all()
    if not handlers:
        return None
    ids = [user.id for user in handlers]
    if request_type.routing == Routing.LEAST_OPEN:
        open_counts = dict(
            session.execute(
                select(Request.handler_id, func.count())
                .where(Request.handler_id.in_(ids), Request.status.in_(Status.OPEN))
                .group_by(Request.handler_id)
            ).all()
        )
        return min(handlers, key=lambda user: (open_counts.get(user.id, 0), user.id))
    last = request_type.last_handler_id or 0
    ordered = sorted(handlers, key=lambda user: user.id)
    chosen = next((user for user in ordered if user.id > last), ordered[0])
    request_type.last_handler_id = chosen.id
    return chosen


def file_request(user, draft):
    """File a request (everything is checked before anything is saved)."""
    if not access.may_file(user):
        raise Forbidden(_("Only sales reps, managers and admins file support requests."))
    now = clock.now()
    today = clock.today(levels.timezone_of(user.team))
    request_type, title, details, customer = _checked(user, draft, today)
    with write_transaction() as session:
        # Lock the type's row: two requests filed at once take turns in the round robin.
        request_type = session.scalars(
            select(RequestType).where(RequestType.id == request_type.id).with_for_update()
        ).one()
        handler = _route(session, request_type)
        request = Request(
            requester_id=user.id,
            customer_id=customer.id if customer else None,
            type=request_type,
            team_id=request_type.team_id,
            handler_id=handler.id if handler else None,
            title=title,
            details=details,
            needed_by=draft.needed_by,
            priority=draft.priority,
            status=Status.NEW,
            created_at=now,
            updated_at=now,
        )
        settings = levels.desk_settings()
        levels.start(request, now, levels.calendar_for(request_type.team, settings), settings)
        session.add(request)
        session.flush()
        event = Event(request_id=request.id, actor_id=user.id, kind=EventKind.FILED, created_at=now)
        session.add(event)
        session.flush()
        attachments.attach(session, request, event, draft.uploads, user)
        _announce(session, request, handler)
        signals.support_filed.send(request)
    return request


def _announce(session, request, handler):
    kind = "support.filed_urgent" if request.priority == Priority.URGENT else "support.filed"
    recipients = {handler.id} if handler else set()
    if handler is None or request.priority == Priority.URGENT:
        recipients |= {lead.id for lead in session.scalars(leads_of(request.team_id))}
    recipients.discard(request.requester_id)
    for user_id in sorted(recipients):
        notify(
            user_id,
            kind,
            link=link("support.show", request_id=request.id),
            requester=request.requester.display_name,
            title=request.title,
        )


def leads_of(team_id):
    """The support leads of a queue."""
    return access.handlers_for(team_id).where(User.support_lead.is_(True))


def get_request_for(user, request_id):
    """The request, if `user` may see it; otherwise it does not exist for them."""
    request = db.session.get(Request, request_id) if is_id(request_id) else None
    if request is None or not access.may_see(user, request):
        raise NotFound(_("This support request does not exist."))
    return request
